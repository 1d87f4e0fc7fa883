import Foundation

/// The queues of the scale-out protocol, declared identically by master and workers (RabbitMQ
/// refuses a redeclaration with other arguments):
/// - `tile.compute` (durable): tasks; rejected messages dead-letter to `tile.dlq`;
/// - `tile.results.<session>` (one per master invocation, exclusive, auto-deleted): results,
///   named in each task's `reply_to`;
/// - `tile.diagnostics` (durable, capped at 10 000 messages): one JSON event per task attempt;
/// - `tile.dlq` (durable): dead-lettered tasks, kept for inspection.
///
/// Several projects can share a broker through separate vhosts (the URL's path) or prefixes.
public struct TileQueues: Sendable, Equatable {
    /// Prefix of every queue name (default `tile`).
    public let prefix: String

    /// The queues under `prefix`.
    public init(prefix: String = "tile") { self.prefix = prefix }

    /// Task queue.
    public var compute: String { "\(prefix).compute" }
    /// Per-task events.
    public var diagnostics: String { "\(prefix).diagnostics" }
    /// Dead letters.
    public var deadLetters: String { "\(prefix).dlq" }
    /// The results queue of one master session.
    public func results(session: String) -> String { "\(prefix).results.\(session)" }

    /// Declares the shared queues on `connection`.
    public func declare(on connection: AMQPConnection) throws {
        try connection.declareQueue(deadLetters)
        try connection.declareQueue(diagnostics, arguments: ["x-max-length": .int(10_000)])
        try connection.declareQueue(compute, arguments: [
            "x-dead-letter-exchange": .string(""),
            "x-dead-letter-routing-key": .string(deadLetters),
        ])
    }
}
