import Cache
import Foundation
import Graph

/// The master side of scale-out: publishes tile tasks to `tile.compute`, collects `TileResult`s from
/// its own results queue and returns them in tile order.
///
/// - Tasks whose result is already in the store (`TaskMemo`) are not published: a run after a
///   killed master or a lost broker resumes with what finished.
/// - Results are deduplicated by (run_id, tile_id): a second result for a tile is acked and counted.
/// - Each result's artifact is verified in the shared store (content digest and SHA-256 checksum).
/// - A result carrying an error means the task failed `max_retries` times and was dead-lettered:
///   the batch fails naming the tile and the reason.
/// - A lost broker (closed connection, missed heartbeats) fails the batch with `brokerLost`.
/// Tasks still queued when the master fails are computed by the workers anyway and land in the store.
public struct RabbitMQExecutor: TileExecutor {
    /// The broker.
    public let url: BrokerURL
    /// Attempts per task before it is dead-lettered.
    public let maxRetries: Int
    /// Heartbeat interval requested from the broker, in seconds.
    public let heartbeat: Int
    /// Queue names.
    public let queues: TileQueues
    private let store: ArtifactStore
    private let progress: (@Sendable (TileResult) -> Void)?

    /// A master for `url` over the shared `store`. `progress` is called for each accepted result.
    public init(url: BrokerURL, store: ArtifactStore, maxRetries: Int = 3, heartbeat: Int = 10, queues: TileQueues = TileQueues(),
                progress: (@Sendable (TileResult) -> Void)? = nil) {
        self.url = url
        self.store = store
        self.maxRetries = max(1, maxRetries)
        self.heartbeat = heartbeat
        self.queues = queues
        self.progress = progress
    }

    public func run(kind: String, tasks: [TileTask]) throws -> TileRunReport {
        try validate(kind: kind, tasks: tasks)
        let memo = TaskMemo(store: store)
        var results = [TileResult?](repeating: nil, count: tasks.count)
        var index: [String: Int] = [:]
        var pending: [TileTask] = []
        for (i, t) in tasks.enumerated() {
            index["\(t.runID)\u{0}\(t.tileID)"] = i
            if let (ref, sum) = memo.lookup(t) {
                results[i] = TileResult(runID: t.runID, tileID: t.tileID, tileDataRef: ref, checksum: sum, attempt: 0, workerID: "store")
            } else {
                var task = t
                task.attempt = 1
                task.maxRetries = maxRetries
                pending.append(task)
            }
        }
        let reused = tasks.count - pending.count
        if pending.isEmpty { return TileRunReport(results: results.map { $0! }, reused: reused, executed: 0, duplicates: 0) }

        let connection = try AMQPConnection(url: url, heartbeat: heartbeat)
        defer { connection.close() }
        try queues.declare(on: connection)
        let resultsQueue = queues.results(session: UUID().uuidString.lowercased())
        try connection.declareQueue(resultsQueue, durable: false, exclusive: true, autoDelete: true)
        try connection.consume(resultsQueue)
        for task in pending {
            try connection.publish(to: queues.compute, body: try task.encoded(), replyTo: resultsQueue)
        }

        var outstanding = pending.count
        var duplicates = 0
        while outstanding > 0 {
            guard let delivery = try connection.next(timeout: 1) else { continue }
            let result: TileResult
            do { result = try TileResult.decode(delivery.body) } catch {
                try connection.ack(delivery.tag)  // not ours to retry: drop it
                continue
            }
            guard let i = index["\(result.runID)\u{0}\(result.tileID)"] else {
                try connection.ack(delivery.tag)  // a stale result of another batch
                continue
            }
            if results[i] != nil {
                duplicates += 1
                try connection.ack(delivery.tag)
                continue
            }
            if let error = result.error {
                try connection.ack(delivery.tag)
                throw ExecutorError.taskFailed(tile: result.tileID, kind: kind, attempts: result.attempt,
                                               reason: "\(error) (last worker \(result.workerID); the task is in \(queues.deadLetters))")
            }
            guard let ref = result.tileDataRef else {
                try connection.ack(delivery.tag)
                throw ExecutorError.badMessage("tile \(result.tileID): result without tile_data_ref or error from \(result.workerID)")
            }
            if let problem = verify(ref: ref, checksum: result.checksum) {
                try connection.ack(delivery.tag)
                throw ExecutorError.checksumMismatch(tile: result.tileID, ref: ref.hex, reason: "\(problem) (from \(result.workerID))")
            }
            try connection.ack(delivery.tag)
            results[i] = result
            outstanding -= 1
            progress?(result)
        }
        return TileRunReport(results: results.map { $0! }, reused: reused, executed: pending.count, duplicates: duplicates)
    }

    /// Verifies a result artifact; an artifact not yet visible is looked for again for a few seconds
    /// (a shared filesystem may cache a negative directory lookup from before the worker's rename).
    private func verify(ref: Digest, checksum: String?) -> String? {
        var problem = ArtifactChecksum.problem(ref: ref, checksum: checksum, in: store)
        var waits = 0
        while problem != nil, !store.contains(ref), waits < 25 {
            usleep(200_000)
            waits += 1
            problem = ArtifactChecksum.problem(ref: ref, checksum: checksum, in: store)
        }
        return problem
    }
}
