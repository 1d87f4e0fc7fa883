import Cache
import Foundation

/// The `parallel.*` settings (`parallel.executor`, `parallel.broker_url`, `parallel.prefetch`,
/// `parallel.max_retries`) and the executor they select. None of them is part of any fingerprint:
/// every executor gives the same bytes.
public struct ExecutorSettings: Sendable, Equatable {
    /// Which executor runs tile tasks.
    public enum Kind: String, Sendable, CaseIterable {
        /// Threads of this process (the default; no broker).
        case local
        /// RabbitMQ workers (`tcbuild worker`) over a shared workspace.
        case rabbitmq
    }

    /// `parallel.executor`.
    public var kind: Kind
    /// `parallel.broker_url` (required for `rabbitmq`).
    public var brokerURL: String?
    /// `parallel.prefetch`: tasks a worker holds unacknowledged (1-2; a worker-side setting that the
    /// master passes on where it starts workers itself).
    public var prefetch: Int
    /// `parallel.max_retries`: attempts per task before it is dead-lettered.
    public var maxRetries: Int
    /// Heartbeat interval in seconds requested from the broker.
    public var heartbeat: Int

    /// Settings; the defaults are the local executor.
    public init(kind: Kind = .local, brokerURL: String? = nil, prefetch: Int = 1, maxRetries: Int = 3, heartbeat: Int = 10) {
        self.kind = kind
        self.brokerURL = brokerURL
        self.prefetch = prefetch
        self.maxRetries = maxRetries
        self.heartbeat = heartbeat
    }

    /// The executor these settings select, over the workspace at `workspace`. Throws
    /// `ExecutorError.invalidBrokerURL` when `rabbitmq` has no (valid) broker URL. Connecting happens
    /// at the first batch, not here, so a run that has no tile work left needs no broker.
    ///
    /// Task results are written without fsync, by every executor (no latency added to today's
    /// in-memory tile loop): a result is rehashed against its checksum when the master accepts it and
    /// whenever it is reused, so a result torn by a crash is recomputed, never used. The node's own
    /// output is committed durably by the engine as always.
    public func makeExecutor(workspace: String, registry: TaskKindRegistry, jobs: Int) throws -> TileExecutor {
        let store = try ArtifactStore(workspace: workspace, durable: false)
        switch kind {
        case .local:
            return LocalExecutor(store: store, registry: registry, jobs: jobs)
        case .rabbitmq:
            guard let brokerURL, !brokerURL.isEmpty else {
                throw ExecutorError.invalidBrokerURL("", reason: "parallel.executor is rabbitmq but parallel.broker_url (--broker) is not set")
            }
            return RabbitMQExecutor(url: try BrokerURL(brokerURL), store: store, maxRetries: maxRetries, heartbeat: heartbeat)
        }
    }
}
