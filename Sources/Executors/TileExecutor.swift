import Foundation
import Graph

/// Runs a node's tile tasks. Given tasks in stable tile order (all of one kind), returns their result
/// digests in the same order, or throws naming the first failed tile. Every executor reads and
/// writes the same content-addressed store with the same task kinds, so the bytes never depend on
/// the executor, which is therefore part of no fingerprint.
public protocol TileExecutor: Sendable {
    /// Runs `tasks` (each with `input_stage == kind`) and reports their results in tile order.
    func run(kind: String, tasks: [TileTask]) throws -> TileRunReport
}

/// What an executor did for one batch of tasks.
public struct TileRunReport: Sendable, Equatable {
    /// One result per task, in the order of the tasks.
    public var results: [TileResult]
    /// Tasks whose result was already in the store (not computed again).
    public var reused: Int
    /// Tasks computed in this batch.
    public var executed: Int
    /// Results received more than once for the same (run_id, tile_id) and dropped.
    public var duplicates: Int

    /// The result digests in tile order.
    public var digests: [Digest] { results.compactMap(\.tileDataRef) }

    /// A report.
    public init(results: [TileResult], reused: Int, executed: Int, duplicates: Int) {
        self.results = results
        self.reused = reused
        self.executed = executed
        self.duplicates = duplicates
    }
}

extension TileExecutor {
    /// Checks that the tasks belong to `kind` and have distinct (run_id, tile_id).
    func validate(kind: String, tasks: [TileTask]) throws {
        var seen = Set<String>()
        for t in tasks {
            guard t.inputStage == kind else {
                throw ExecutorError.badMessage("tile \(t.tileID) has input_stage '\(t.inputStage)', expected '\(kind)'")
            }
            guard seen.insert("\(t.runID)\u{0}\(t.tileID)").inserted else {
                throw ExecutorError.badMessage("tile \(t.tileID) of run \(t.runID) appears twice in one batch")
            }
        }
    }
}
