import Cache
import Foundation
import Graph

/// Executes one task in this process, the same way for every executor: look the kind up, run it
/// (it commits its result artifact), checksum the artifact, record it in the task memo. Returns a
/// `TileResult`: the reference and checksum, or the error text.
public struct TaskRunner: Sendable {
    /// The kinds this process knows.
    public let registry: TaskKindRegistry
    /// The shared store.
    public let store: ArtifactStore
    /// The identity reported in results.
    public let workerID: String

    /// A runner.
    public init(registry: TaskKindRegistry, store: ArtifactStore, workerID: String) {
        self.registry = registry
        self.store = store
        self.workerID = workerID
    }

    /// The result stored for `task` by an earlier execution (any run, any worker), if it verifies.
    public func stored(_ task: TileTask) -> TileResult? {
        guard let (ref, sum) = TaskMemo(store: store).lookup(task) else { return nil }
        return TileResult(runID: task.runID, tileID: task.tileID, tileDataRef: ref, checksum: sum, attempt: task.attempt, workerID: "store")
    }

    /// Runs `task`; never throws (a failure is a result with `error`).
    public func execute(_ task: TileTask) -> TileResult {
        do {
            let kind = try registry.kind(task.inputStage)
            let ref = try kind.run(task, store)
            let (sum, digest) = try ArtifactChecksum.of(path: store.path(of: ref))
            guard digest == ref else { throw ExecutorError.checksumMismatch(tile: task.tileID, ref: ref.hex, reason: "the kind returned a digest its artifact does not have") }
            try TaskMemo(store: store).record(task, ref: ref, checksum: sum)
            return TileResult(runID: task.runID, tileID: task.tileID, tileDataRef: ref, checksum: sum, attempt: task.attempt, workerID: workerID)
        } catch {
            return TileResult(runID: task.runID, tileID: task.tileID, tileDataRef: nil, checksum: nil, attempt: task.attempt,
                              workerID: workerID, error: String(describing: error))
        }
    }

    /// `host:pid`, the default worker identity.
    public static var defaultWorkerID: String {
        "\(ProcessInfo.processInfo.hostName):\(getpid())"
    }
}
