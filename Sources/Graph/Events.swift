/// What happens during a run, in the order it happens. Sinks must be thread-safe.
public enum BuildEvent: Sendable {
    /// A run over `total` nodes begins.
    case runStarted(total: Int, jobs: Int)
    /// A node's code starts executing.
    case nodeStarted(node: String, group: String)
    /// A node was satisfied from the run cache.
    case nodeCached(node: String, group: String)
    /// A node executed and its outputs were committed.
    case nodeExecuted(node: String, group: String, seconds: Double, bytes: Int64)
    /// A node failed; nothing of it was recorded.
    case nodeFailed(node: String, group: String, message: String)
    /// A node was not started because the run stopped.
    case nodeSkipped(node: String, group: String)
    /// A node logged a line.
    case log(node: String, message: String)
    /// The run ended.
    case runFinished(executed: Int, cached: Int, failed: Int, seconds: Double)
}

/// Receives build events (run log writer, progress display).
public protocol EventSink: Sendable {
    /// Handles one event; called from worker threads.
    func emit(_ event: BuildEvent)
}

/// Discards events.
public struct NullEventSink: EventSink {
    /// A sink that drops everything.
    public init() {}
    public func emit(_ event: BuildEvent) {}
}

/// Forwards each event to several sinks.
public struct FanOutEventSink: EventSink {
    private let sinks: [any EventSink]
    /// Forwards to `sinks` in order.
    public init(_ sinks: [any EventSink]) { self.sinks = sinks }
    public func emit(_ event: BuildEvent) { for s in sinks { s.emit(event) } }
}
