/// One message received from a queue, to be acked or rejected by its delivery tag.
public struct Delivery: Sendable {
    /// The channel's delivery tag.
    public let tag: UInt64
    /// True when the broker delivered it before and it was not acknowledged (a consumer died).
    public let redelivered: Bool
    /// The routing key it was published with (its queue, via the default exchange).
    public let routingKey: String
    /// The `reply_to` property, if set.
    public let replyTo: String?
    /// The message body.
    public let body: [UInt8]
}
