import Cache
import Foundation
import Graph

/// Runs tile tasks on threads of this process (today's behaviour; no broker). At most `jobs` tasks
/// run at once; a result already in the store is reused. A failed task fails the batch, naming the
/// lowest failed tile (tasks are deterministic, so retrying locally would fail again).
public struct LocalExecutor: TileExecutor {
    /// Thread budget.
    public let jobs: Int
    private let runner: TaskRunner

    /// An executor over `store` with the kinds of `registry`.
    public init(store: ArtifactStore, registry: TaskKindRegistry, jobs: Int) {
        self.jobs = max(1, jobs)
        runner = TaskRunner(registry: registry, store: store, workerID: "local")
    }

    public func run(kind: String, tasks: [TileTask]) throws -> TileRunReport {
        try validate(kind: kind, tasks: tasks)
        _ = try runner.registry.kind(kind)
        let slots = ResultSlots(count: tasks.count)
        let threads = min(jobs, tasks.count)
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread { [runner] in
                while let i = slots.claim() {
                    if let stored = runner.stored(tasks[i]) {
                        slots.set(i, stored, reused: true)
                    } else {
                        slots.set(i, runner.execute(tasks[i]), reused: false)
                    }
                }
                group.leave()
            }
        }
        group.wait()
        let (results, reused) = slots.finish()
        if let failed = results.first(where: { $0.error != nil }) {
            throw ExecutorError.taskFailed(tile: failed.tileID, kind: kind, attempts: 1, reason: failed.error ?? "")
        }
        return TileRunReport(results: results, reused: reused, executed: tasks.count - reused, duplicates: 0)
    }
}

/// Work distribution and result slots shared by the local executor's threads.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var results: [TileResult?]
    private var reusedCount = 0

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        lock.withLock {
            guard nextIndex < results.count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func set(_ i: Int, _ r: TileResult, reused: Bool) {
        lock.withLock {
            results[i] = r
            if reused { reusedCount += 1 }
        }
    }

    func finish() -> ([TileResult], Int) { lock.withLock { (results.map { $0! }, reusedCount) } }
}
