import Cache
import Executors
import Foundation
import Graph

/// How the tile phases run their tasks: through the executor `parallel.*` selects (`local` threads of
/// this process, or `rabbitmq` workers), over the workspace's content-addressed store. Captured by
/// the tile nodes' actions, never put into params: the executor is part of no fingerprint.
public struct TileTasks: Sendable {
    /// The workspace whose store the tasks read and write.
    public let workspace: String
    /// `parallel.*`.
    public let parallel: TCConfig.ParallelSection

    /// The tile tasks of `workspace` under `parallel`.
    public init(workspace: String, parallel: TCConfig.ParallelSection) {
        self.workspace = workspace
        self.parallel = parallel
    }

    /// Every task kind of the pipeline (what `tcbuild worker` registers).
    public static var registry: TaskKindRegistry { TaskKindRegistry([Reconstruction.tileKind]) }

    /// The executor's settings.
    public var settings: ExecutorSettings {
        ExecutorSettings(kind: parallel.executor == .rabbitmq ? .rabbitmq : .local, brokerURL: parallel.brokerURL,
                         prefetch: parallel.prefetch, maxRetries: parallel.maxRetries)
    }

    /// The workspace's store, checked to hold `probe` (an input of the node): tasks address inputs by
    /// digest, so the node's engine and the tasks must share one store.
    func store(holding probe: Digest, node: String) throws -> ArtifactStore {
        let store = try ArtifactStore(workspace: workspace, durable: false)
        guard store.contains(probe) else {
            throw StepError.badArtifact(node: node, message: "the workspace store at \(store.stateDir) does not hold the node's inputs "
                                        + "(tile tasks need the node to run in the workspace \(workspace))")
        }
        return store
    }

    /// Runs `tasks` (all of `kind`, tile order) with the configured executor; `threads` is the local
    /// executor's thread budget.
    func run(kind: String, tasks: [TileTask], threads: Int) throws -> TileRunReport {
        let executor = try settings.makeExecutor(workspace: workspace, registry: Self.registry, jobs: threads)
        return try executor.run(kind: kind, tasks: tasks)
    }
}

extension PipelineBuilder {
    /// How this builder's tile nodes run their tasks (`parallel.*` of its config).
    public var tileTasks: TileTasks { TileTasks(workspace: workspace, parallel: config.parallel) }
}
