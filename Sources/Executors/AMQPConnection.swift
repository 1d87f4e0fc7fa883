import CRabbitMQ
import Foundation

/// A thin, single-threaded client over rabbitmq-c: one TCP connection with one channel. Not safe for
/// concurrent use: the thread that owns it makes every call (a worker computing a task on another
/// thread keeps the connection alive with `sendHeartbeat`).
///
/// Every failure is an `ExecutorError` naming the broker URL: `brokerUnreachable` while connecting
/// or logging in, `brokerLost` when the connection drops or the broker closes it (heartbeats detect
/// a silent peer within about two heartbeat intervals), `broker` for a refused operation.
public final class AMQPConnection: @unchecked Sendable {
    /// The broker this connection talks to.
    public let url: BrokerURL
    /// The negotiated heartbeat interval in seconds (0: none).
    public private(set) var heartbeat: Int = 0
    private let conn: amqp_connection_state_t
    private let channel: amqp_channel_t = 1
    private var open = false
    private var consumerTags: [String] = []

    /// Connects, logs in (PLAIN) and opens channel 1. `heartbeat` seconds are requested from the
    /// broker; `timeout` bounds the TCP connect, the handshake and every synchronous call.
    public init(url: BrokerURL, heartbeat: Int = 10, timeout: TimeInterval = 10) throws {
        self.url = url
        guard let c = amqp_new_connection() else { throw ExecutorError.brokerUnreachable(url: url.description, reason: "out of memory") }
        conn = c
        guard let socket = amqp_tcp_socket_new(conn) else {
            amqp_destroy_connection(conn)
            throw ExecutorError.brokerUnreachable(url: url.description, reason: "cannot create a TCP socket")
        }
        var tv = Self.timeval(timeout)
        let status = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &tv)
        guard status == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(conn)
            var reason = Self.statusText(status)
            if status == AMQP_STATUS_SOCKET_ERROR.rawValue || status == AMQP_STATUS_TIMEOUT.rawValue {
                reason += " (is rabbitmq-server running there, and the port open?)"
            }
            throw ExecutorError.brokerUnreachable(url: url.description, reason: reason)
        }
        _ = amqp_set_handshake_timeout(conn, &tv)
        _ = amqp_set_rpc_timeout(conn, &tv)
        let login = tcb_amqp_login_plain(conn, url.vhost, 0, 131_072, Int32(heartbeat), url.user, url.password)
        if let reason = Self.failure(login) {
            amqp_destroy_connection(conn)
            throw ExecutorError.brokerUnreachable(url: url.description, reason: "login as '\(url.user)' to vhost '\(url.vhost)' refused: \(reason)")
        }
        open = true
        self.heartbeat = Int(amqp_get_heartbeat(conn))
        amqp_channel_open(conn, channel)
        try check("channel.open")
    }

    deinit { close() }

    /// Closes channel and connection (best effort; a dead connection is just released).
    public func close() {
        guard open else { return }
        open = false
        _ = amqp_channel_close(conn, channel, Int32(AMQP_REPLY_SUCCESS))
        _ = amqp_connection_close(conn, Int32(AMQP_REPLY_SUCCESS))
        amqp_destroy_connection(conn)
    }

    // MARK: queues

    /// Declares a queue (idempotent when the arguments match an existing queue). Returns the number
    /// of messages it holds.
    @discardableResult
    public func declareQueue(_ name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                             arguments: [String: QueueArgument] = [:]) throws -> Int {
        try ensureOpen()
        let ok = Self.withTable(arguments) { table in
            name.withCString { q in
                amqp_queue_declare(conn, channel, amqp_cstring_bytes(q), 0, durable ? 1 : 0, exclusive ? 1 : 0, autoDelete ? 1 : 0, table)
            }
        }
        try check("queue.declare \(name)")
        return Int(ok?.pointee.message_count ?? 0)
    }

    /// Messages ready in an existing queue (a passive declare: nothing is created or changed).
    public func messageCount(_ name: String) throws -> Int {
        try ensureOpen()
        let ok = name.withCString { q in
            amqp_queue_declare(conn, channel, amqp_cstring_bytes(q), 1, 0, 0, 0, amqp_empty_table)
        }
        try check("queue.declare (passive) \(name)")
        return Int(ok?.pointee.message_count ?? 0)
    }

    /// Deletes a queue and the messages in it.
    public func deleteQueue(_ name: String) throws {
        try ensureOpen()
        name.withCString { q in _ = amqp_queue_delete(conn, channel, amqp_cstring_bytes(q), 0, 0) }
        try check("queue.delete \(name)")
    }

    /// Sets how many unacknowledged messages the broker sends this consumer (basic.qos).
    public func setPrefetch(_ count: Int) throws {
        try ensureOpen()
        amqp_basic_qos(conn, channel, 0, UInt16(clamping: max(1, count)), 0)
        try check("basic.qos")
    }

    // MARK: publish and consume

    /// Publishes `body` through the default exchange to the queue `routingKey`; persistent messages
    /// survive a broker restart in durable queues. `replyTo` names the queue results go to.
    public func publish(to routingKey: String, body: [UInt8], persistent: Bool = true, replyTo: String? = nil) throws {
        try ensureOpen()
        let status: Int32 = "application/json".withCString { ct in
            (replyTo ?? "").withCString { rt in
                routingKey.withCString { rk in
                    body.withUnsafeBytes { b in
                        var props = amqp_basic_properties_t()
                        props._flags = UInt32(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG)
                        props.content_type = amqp_cstring_bytes(ct)
                        props.delivery_mode = persistent ? 2 : 1
                        if replyTo != nil {
                            props._flags |= UInt32(AMQP_BASIC_REPLY_TO_FLAG)
                            props.reply_to = amqp_cstring_bytes(rt)
                        }
                        return amqp_basic_publish(conn, channel, amqp_cstring_bytes(""), amqp_cstring_bytes(rk), 0, 0, &props,
                                                  tcb_amqp_bytes(b.baseAddress, b.count))
                    }
                }
            }
        }
        guard status == AMQP_STATUS_OK.rawValue else { throw lost("publish to \(routingKey)", Self.statusText(status)) }
    }

    /// Starts consuming `queue` with manual acknowledgement; deliveries come from `next`.
    public func consume(_ queue: String) throws {
        try ensureOpen()
        let ok = queue.withCString { q in
            amqp_basic_consume(conn, channel, amqp_cstring_bytes(q), amqp_empty_bytes, 0, 0, 0, amqp_empty_table)
        }
        try check("basic.consume \(queue)")
        if let ok { consumerTags.append(Self.string(ok.pointee.consumer_tag)) }
    }

    /// Stops every consumer of this connection: the broker sends nothing more, and deliveries
    /// already on their way still come out of `next`.
    public func cancelConsumers() throws {
        try ensureOpen()
        for tag in consumerTags {
            tag.withCString { t in _ = amqp_basic_cancel(conn, channel, amqp_cstring_bytes(t)) }
            try check("basic.cancel")
        }
        consumerTags.removeAll()
    }

    /// Waits up to `timeout` for the next delivery; nil when none came. Heartbeats are sent and
    /// checked while waiting. Throws `brokerLost` when the connection or channel closes.
    public func next(timeout: TimeInterval) throws -> Delivery? {
        try ensureOpen()
        amqp_maybe_release_buffers(conn)
        var envelope = amqp_envelope_t()
        var tv = Self.timeval(timeout)
        let reply = amqp_consume_message(conn, &envelope, &tv, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            defer { amqp_destroy_envelope(&envelope) }
            let body = envelope.message.body
            let bytes = body.len == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: body.bytes, count: body.len))
            let props = envelope.message.properties
            let replyTo = props._flags & UInt32(AMQP_BASIC_REPLY_TO_FLAG) != 0 ? Self.string(props.reply_to) : nil
            return Delivery(tag: envelope.delivery_tag, redelivered: envelope.redelivered != 0,
                            routingKey: Self.string(envelope.routing_key), replyTo: replyTo, body: bytes)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            // A frame other than a delivery: the broker closing the channel or connection (or an
            // unsolicited frame, which is skipped).
            var frame = amqp_frame_t()
            var tv0 = Self.timeval(timeout)
            let status = amqp_simple_wait_frame_noblock(conn, &frame, &tv0)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            guard status == AMQP_STATUS_OK.rawValue else { throw lost("waiting for messages", Self.statusText(status)) }
            if frame.frame_type == UInt8(AMQP_FRAME_METHOD) {
                let id = frame.payload.method.id
                if id == Self.basicCancel {
                    throw lost("waiting for messages", "the broker cancelled the consumer (its queue was deleted)")
                }
                if id == Self.connectionClose || id == Self.channelClose {
                    let text = Self.closeText(id: id, decoded: frame.payload.method.decoded)
                    if id == Self.connectionClose { _ = sendCloseOk() }
                    throw lost("waiting for messages", "the broker closed the \(id == Self.connectionClose ? "connection" : "channel"): \(text)")
                }
            }
            return nil
        default:
            throw lost("waiting for messages", Self.failure(reply) ?? "unknown error")
        }
    }

    /// Acknowledges a delivery (it is removed from the queue).
    public func ack(_ tag: UInt64) throws {
        try ensureOpen()
        let s = amqp_basic_ack(conn, channel, tag, 0)
        guard s == AMQP_STATUS_OK.rawValue else { throw lost("basic.ack", Self.statusText(s)) }
    }

    /// Rejects a delivery: back to the queue with `requeue`, else to the queue's dead-letter exchange.
    public func reject(_ tag: UInt64, requeue: Bool) throws {
        try ensureOpen()
        let s = amqp_basic_reject(conn, channel, tag, requeue ? 1 : 0)
        guard s == AMQP_STATUS_OK.rawValue else { throw lost("basic.reject", Self.statusText(s)) }
    }

    /// Negatively acknowledges a delivery (same effect as `reject`, RabbitMQ extension).
    public func nack(_ tag: UInt64, requeue: Bool) throws {
        try ensureOpen()
        let s = amqp_basic_nack(conn, channel, tag, 0, requeue ? 1 : 0)
        guard s == AMQP_STATUS_OK.rawValue else { throw lost("basic.nack", Self.statusText(s)) }
    }

    /// Sends a heartbeat frame (keeps the connection alive while this thread waits for other work).
    public func sendHeartbeat() throws {
        try ensureOpen()
        let s = tcb_amqp_send_heartbeat(conn)
        guard s == AMQP_STATUS_OK.rawValue else { throw lost("heartbeat", Self.statusText(s)) }
    }

    // MARK: helpers

    private static let connectionClose: amqp_method_number_t = 0x000A_0032
    private static let channelClose: amqp_method_number_t = 0x0014_0028
    private static let connectionCloseOk: amqp_method_number_t = 0x000A_0033
    private static let basicCancel: amqp_method_number_t = 0x003C_001E

    private func ensureOpen() throws {
        guard open else { throw ExecutorError.brokerLost(url: url.description, reason: "the connection is closed") }
    }

    private func sendCloseOk() -> Int32 {
        var ok = amqp_connection_close_ok_t(dummy: 0)
        return amqp_send_method(conn, 0, Self.connectionCloseOk, &ok)
    }

    /// Throws for a failed synchronous call: a closed connection or channel is `brokerLost`
    /// (nothing more can be done on it), anything else `broker`.
    private func check(_ operation: String) throws {
        let reply = amqp_get_rpc_reply(conn)
        guard let reason = Self.failure(reply) else { return }
        if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION, reply.reply.id == Self.channelClose {
            open = false
            amqp_destroy_connection(conn)
            throw ExecutorError.broker(url: url.description, operation: operation, reason: reason)
        }
        throw lost(operation, reason)
    }

    private func lost(_ operation: String, _ reason: String) -> ExecutorError {
        if open {
            open = false
            amqp_destroy_connection(conn)
        }
        return .brokerLost(url: url.description, reason: "\(operation): \(reason)")
    }

    /// Nil for a normal reply, else a readable reason (the broker's reply text when it sent one).
    private static func failure(_ reply: amqp_rpc_reply_t) -> String? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL: return nil
        case AMQP_RESPONSE_NONE: return "no reply (missing RPC reply type)"
        case AMQP_RESPONSE_LIBRARY_EXCEPTION: return statusText(reply.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION: return closeText(id: reply.reply.id, decoded: reply.reply.decoded)
        default: return "unknown reply type \(reply.reply_type.rawValue)"
        }
    }

    private static func closeText(id: amqp_method_number_t, decoded: UnsafeMutableRawPointer?) -> String {
        guard let decoded else { return "method 0x\(String(id, radix: 16))" }
        if id == connectionClose {
            let m = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            return "\(m.reply_code) \(string(m.reply_text))"
        }
        if id == channelClose {
            let m = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            return "\(m.reply_code) \(string(m.reply_text))"
        }
        return "unexpected method 0x\(String(id, radix: 16))"
    }

    private static func statusText(_ status: Int32) -> String { String(cString: amqp_error_string2(status)) }

    static func string(_ b: amqp_bytes_t) -> String {
        guard b.len > 0, let p = b.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
    }

    private static func timeval(_ seconds: TimeInterval) -> timeval {
        let s = max(0, seconds)
        return Foundation.timeval(tv_sec: Int(s), tv_usec: Int((s - s.rounded(.down)) * 1_000_000))
    }
}
