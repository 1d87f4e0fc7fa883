import Cache
import Executors
import Foundation
import Graph
import Imaging

extension Reconstruction {
    /// Runs a reconstruction node's tiles as tile tasks: writes the node's `ReconstructionPlan` to the
    /// store, makes one task per tile of `grid` (tile order; `run_id` = the node's fingerprint, so a
    /// rerun of the same computation finds the results an interrupted run left in the store), runs them
    /// through `tiles`' executor and overlap-adds the results (`TileValues`) in tile order with
    /// `window`, finalizing rows as the in-process kernel does. Once the image is assembled the node's
    /// task results, memos and plan are removed: the node's own output supersedes them.
    static func runTiles(_ ctx: NodeContext, plan: ReconstructionPlan, grid: TileGrid, window: WindowFunction,
                         configHash: String, tiles: TileTasks) throws -> (image: Image, fallbackTiles: [Int], report: TileRunReport) {
        let store = try tiles.store(holding: plan.masks, node: ctx.name)
        let runID = ctx.fingerprint.hex
        if tiles.parallel.executor == .local {
            return try runTilesInProcess(plan: plan, grid: grid, window: window, runID: runID, store: store,
                                         threads: max(1, ctx.threads))
        }
        let planRef = try store.write(try plan.encoded())
        let tasks = grid.tiles.map { t in
            TileTask(runID: runID, tileID: t.id, tileBBox: TileBBox(x: t.x, y: t.y, width: t.w, height: t.h),
                     framesManifestID: planRef.hex, configHash: configHash, inputStage: tileKindName, inputs: [planRef],
                     params: ["node": ctx.name], maxRetries: tiles.parallel.maxRetries)
        }
        let report = try tiles.run(kind: tileKindName, tasks: tasks, threads: max(1, ctx.threads))
        guard report.results.count == tasks.count else {
            throw StepError.badArtifact(node: ctx.name, message: "the executor returned \(report.results.count) results for \(tasks.count) tiles")
        }
        var position = 0
        let (image, fallback) = try assemble(plan: plan, grid: grid, window: window) { band, _ in
            try band.map { tile in
                let result = report.results[position]
                position += 1
                guard let ref = result.tileDataRef, let values = TileValues(bytes: try store.read(ref)),
                      values.tile == tile, values.channels == plan.channels, values.runID == runID else {
                    throw StepError.badArtifact(node: ctx.name, message: "tile \(tile.id): result \(result.tileDataRef?.short ?? "-") "
                                                + "from \(result.workerID) is not this tile's values")
                }
                return values
            }
        }
        let memo = TaskMemo(store: store)
        for (t, r) in zip(tasks, report.results) { memo.forget(t, ref: r.tileDataRef) }
        unlink(store.path(of: planRef))
        return (image, fallback, report)
    }

    /// The local executor's path: the same tasks (`tileValues`, the task kind's computation, on the same
    /// inputs read from the store by digest) on up to `threads` threads, one tile row at a time, their
    /// values kept in memory and overlap-added in tile order as `runTiles` does with stored results.
    /// Same bytes as any executor, without a store round trip per task (plan, result and memo files:
    /// ~0.6 ms a task, +28 % on the synthetic frames' 3240 small tasks); an interrupted node reruns whole.
    static func runTilesInProcess(plan: ReconstructionPlan, grid: TileGrid, window: WindowFunction, runID: String,
                                  store: ArtifactStore, threads: Int) throws -> (image: Image, fallbackTiles: [Int], report: TileRunReport) {
        // The frames' mappings, released row band by row band (resident set ~ one band of each frame,
        // whatever the frame count) and forgotten when the node is done.
        let mapped = try plan.frames.map { try mappedFrame($0, store: store).image }
        defer { for f in plan.frames { DecodedArtifacts.frames.remove("frame", f.frame) } }
        let (image, fallback) = try assemble(plan: plan, grid: grid, window: window) { band, next in
            let results = Parallel.map(band.count, threads: threads) { i in
                Result { try tileValues(band[i], plan: plan, runID: runID, store: store) }
            }
            defer { for m in mapped { m?.release(rowsBelow: max(0, next - plan.margin)) } }
            return try results.map { try $0.get() }
        }
        return (image, fallback, TileRunReport(results: [], reused: 0, executed: grid.tiles.count, duplicates: 0))
    }

    /// Overlap-adds the tiles of `grid` row band by row band, in tile order: `band(tiles, next)` gives
    /// the values of one band's tiles (in their order; `next` is the first row a later band can touch),
    /// then rows above `next` are finalized. Returns the image and the tiles that used the unweighted
    /// fallback. The one assembly of every executor's results, so the bytes cannot depend on it.
    static func assemble(plan: ReconstructionPlan, grid: TileGrid, window: WindowFunction,
                         band values: ([Tile], Int) throws -> [TileValues]) throws -> (image: Image, fallbackTiles: [Int]) {
        var canvas = OverlapCanvas(width: plan.width, height: plan.height, channels: plan.channels)
        var fallback: [Int] = []
        let bands = tileRows(grid)
        for (bi, band) in bands.enumerated() {
            let next = bi + 1 < bands.count ? bands[bi + 1][0].y : plan.height
            for (tile, v) in zip(band, try values(band, next)) {
                if v.unweighted { fallback.append(tile.id) }
                canvas.add(v.values, tile: tile, window: window)
            }
            canvas.finalize(rowsBelow: next)
        }
        return (canvas.image, fallback)
    }

    /// `tile tasks: N (C computed, R reused from the store; executor E)` for the run log.
    static func describe(_ report: TileRunReport, tiles: TileTasks) -> String {
        "\(report.executed + report.reused) tile tasks (\(report.executed) computed, \(report.reused) reused from the store, "
            + "executor \(tiles.parallel.executor.rawValue)\(report.duplicates > 0 ? ", \(report.duplicates) duplicate results dropped" : ""))"
    }
}
