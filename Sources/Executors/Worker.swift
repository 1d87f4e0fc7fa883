import Cache
import Foundation
import Graph

/// A tile worker: consumes `tile.compute`, executes each task with `TaskRunner` (or takes its result
/// from the store when an earlier attempt already wrote it), publishes the `TileResult` to the
/// task's `reply_to` queue, and only then acknowledges the task (manual ACK after the result is
/// written). While a task computes on another thread, the consuming thread sends heartbeats, so long
/// tiles do not look like a dead connection.
///
/// Retries: a failed task is republished with `attempt + 1` (then the original acked) until
/// `max_retries`; then the failure is sent to the master and the task is rejected into `tile.dlq`.
/// A redelivered task (its worker died holding it) counts as an attempt too, so a task that kills
/// its workers cannot loop forever.
public struct Worker: Sendable {
    /// The broker.
    public let url: BrokerURL
    /// Unacknowledged tasks the broker may hand this worker at once (1-2).
    public let prefetch: Int
    /// Heartbeat interval requested from the broker, in seconds.
    public let heartbeat: Int
    /// Queue names.
    public let queues: TileQueues
    private let runner: TaskRunner
    private let log: @Sendable (String) -> Void

    /// A worker over the shared `store` with the kinds of `registry`. `log` receives one line per event.
    public init(url: BrokerURL, store: ArtifactStore, registry: TaskKindRegistry, prefetch: Int = 1, heartbeat: Int = 10,
                queues: TileQueues = TileQueues(), workerID: String = TaskRunner.defaultWorkerID,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.url = url
        self.prefetch = max(1, prefetch)
        self.heartbeat = heartbeat
        self.queues = queues
        runner = TaskRunner(registry: registry, store: store, workerID: workerID)
        self.log = log
    }

    /// Connects and processes tasks until the connection is lost (throws `brokerLost`), until
    /// `maxTasks` deliveries were handled, or until `shouldStop` returns true (checked between
    /// tasks: the running task finishes, its result is published and acked first).
    public func run(maxTasks: Int? = nil, shouldStop: @escaping @Sendable () -> Bool = { false }) throws {
        let connection = try AMQPConnection(url: url, heartbeat: heartbeat)
        defer { connection.close() }
        try queues.declare(on: connection)
        try connection.setPrefetch(prefetch)
        try connection.consume(queues.compute)
        log("worker \(runner.workerID) consuming \(queues.compute) at \(url) (prefetch \(prefetch), kinds: \(runner.registry.names.joined(separator: ", ")))")
        var handled = 0
        while maxTasks.map({ handled < $0 }) ?? true, !shouldStop() {
            guard let delivery = try connection.next(timeout: 1) else { continue }
            try handle(delivery, on: connection)
            handled += 1
        }
        try handBack(on: connection)
        log("worker \(runner.workerID) stopping after \(handled) task\(handled == 1 ? "" : "s")")
    }

    private func handle(_ delivery: Delivery, on connection: AMQPConnection) throws {
        guard var task = try? TileTask.decode(delivery.body) else {
            log("rejected an undecodable message (\(delivery.body.count) bytes) into \(queues.deadLetters)")
            try connection.reject(delivery.tag, requeue: false)
            return
        }
        if delivery.redelivered {
            // The worker that held it died (or disconnected) before acknowledging: count an attempt.
            task.attempt += 1
            if task.attempt > task.maxRetries {
                try fail(task, reason: "workers died or disconnected while running it \(task.attempt - 1) times", delivery, connection)
            } else {
                try connection.publish(to: queues.compute, body: try task.encoded(), replyTo: delivery.replyTo)
                try connection.ack(delivery.tag)
                event("requeued", task, seconds: 0, error: "redelivered: its previous worker died", connection)
            }
            return
        }
        let t0 = Date()
        let result = try runner.stored(task).map { stored -> TileResult in
            var r = stored
            r.workerID = runner.workerID
            return r
        } ?? execute(task, keepingAlive: connection)
        let seconds = Date().timeIntervalSince(t0)
        if let error = result.error {
            if task.attempt < task.maxRetries {
                var retry = task
                retry.attempt += 1
                try connection.publish(to: queues.compute, body: try retry.encoded(), replyTo: delivery.replyTo)
                try connection.ack(delivery.tag)
                event("retry", task, seconds: seconds, error: error, connection)
            } else {
                try fail(task, reason: error, delivery, connection)
            }
            return
        }
        if let replyTo = delivery.replyTo {
            let body = try result.encoded()
            try connection.publish(to: replyTo, body: body, persistent: false)
            if task.params["_test.duplicate_result"] == "1" {  // test hook: what a crash between publish and ack produces
                try connection.publish(to: replyTo, body: body, persistent: false)
            }
        }
        try connection.ack(delivery.tag)
        event("done", task, seconds: seconds, error: nil, connection, ref: result.tileDataRef)
    }

    /// On a requested stop: cancels the consumer and republishes the tasks the broker had already
    /// sent but this worker had not started, so they come back as new messages (a plain close would
    /// requeue them flagged as redelivered, and the next worker would count a spurious attempt).
    private func handBack(on connection: AMQPConnection) throws {
        try connection.cancelConsumers()
        while let delivery = try connection.next(timeout: 0.3) {
            guard var task = try? TileTask.decode(delivery.body) else {
                try connection.reject(delivery.tag, requeue: false)
                continue
            }
            if delivery.redelivered { task.attempt += 1 }
            try connection.publish(to: queues.compute, body: try task.encoded(), replyTo: delivery.replyTo)
            try connection.ack(delivery.tag)
            log("handed back run=\(task.runID) tile=\(task.tileID) attempt=\(task.attempt)")
        }
    }

    /// Sends the failure to the master, then rejects the task into the dead-letter queue.
    private func fail(_ task: TileTask, reason: String, _ delivery: Delivery, _ connection: AMQPConnection) throws {
        if let replyTo = delivery.replyTo {
            let r = TileResult(runID: task.runID, tileID: task.tileID, tileDataRef: nil, checksum: nil, attempt: task.attempt,
                               workerID: runner.workerID, error: reason)
            try connection.publish(to: replyTo, body: try r.encoded(), persistent: false)
        }
        try connection.reject(delivery.tag, requeue: false)
        event("dead-lettered", task, seconds: 0, error: reason, connection)
    }

    /// Runs the task on another thread while this one keeps the connection alive.
    private func execute(_ task: TileTask, keepingAlive connection: AMQPConnection) throws -> TileResult {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { [runner] in
            box.value = runner.execute(task)
            done.signal()
        }
        let interval = Double(max(1, connection.heartbeat / 2))
        while done.wait(timeout: .now() + interval) == .timedOut {
            if connection.heartbeat > 0 { try connection.sendHeartbeat() }
        }
        return box.value!
    }

    private func event(_ name: String, _ task: TileTask, seconds: Double, error: String?, _ connection: AMQPConnection, ref: Digest? = nil) {
        var line = "\(name) run=\(task.runID) tile=\(task.tileID) attempt=\(task.attempt) worker=\(runner.workerID)"
        if let ref { line += " ref=\(ref.hex)" }
        if let error { line += " error=\(error)" }
        log(line)
        let diag: [String: Any] = [
            "event": name, "run_id": task.runID, "tile_id": task.tileID, "attempt": task.attempt,
            "worker_id": runner.workerID, "seconds": seconds, "error": error ?? NSNull(),
        ]
        if let body = try? JSONSerialization.data(withJSONObject: diag, options: [.sortedKeys]) {
            try? connection.publish(to: queues.diagnostics, body: Array(body), persistent: false)
        }
    }
}

/// The result handed from the computing thread to the consuming thread (after the semaphore).
private final class ResultBox: @unchecked Sendable {
    var value: TileResult?
}
