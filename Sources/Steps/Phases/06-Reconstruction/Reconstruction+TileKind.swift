import Cache
import Executors
import Foundation
import Graph
import Imaging

/// The task kind of the reconstruction nodes (`reconstruct`, `synthetic/NN`): one tile across every
/// frame of the node's set. Reads the plan (`ReconstructionPlan`, the task's only input) and through it
/// the registered frames, `weights` and `masks` by digest from the shared store, reads only the tile's
/// rectangle of each frame (plus the matched margin), and writes the finished tile (`TileValues`) as
/// the result artifact. The same per-tile code as the in-process kernels (`TileAccumulator`,
/// `MatchedTileAccumulator`, frames added in set order), so the values are bit for bit theirs.
extension Reconstruction {
    /// The task kind's name (`input_stage`).
    public static let tileKindName = "reconstruct.tile"

    /// The task kind, for a registry (master and workers).
    public static let tileKind = TaskKind(name: tileKindName) { task, store in
        guard let planRef = task.inputs.first else {
            throw StepError.badArtifact(node: "reconstruct tile task", message: "tile \(task.tileID): no plan input")
        }
        let plan = try DecodedArtifacts.shared.value("plan", planRef) { try ReconstructionPlan.decode(try store.read(planRef)) }
        let b = task.tileBBox
        let tile = Tile(id: task.tileID, x: b.x, y: b.y, w: b.width, h: b.height)
        let values = try tileValues(tile, plan: plan, runID: task.runID, store: store)
        return try store.write(values.encoded())
    }

    /// Computes one tile of `plan`.
    static func tileValues(_ tile: Tile, plan: ReconstructionPlan, runID: String, store: ArtifactStore) throws -> TileValues {
        let masks = try DecodedArtifacts.shared.value("masks", plan.masks) {
            try RejectionMasks.read(path: store.path(of: plan.masks), node: plan.node)
        }
        guard masks.frames.count > (plan.frames.map(\.index).max() ?? -1) else {
            throw MetricsError.inconsistent(node: plan.node, message: "rejection masks cover \(masks.frames.count) frames, the plan needs more")
        }
        func source(_ f: ReconstructionPlan.Frame) throws -> ReconstructionFrame {
            let path = store.path(of: f.frame)
            let mapped = try mappedFrame(f, store: store)
            var frame = ReconstructionFrame(index: f.index, name: f.name, source: mapped.image.map { .mapped($0, path: path) } ?? .file(path),
                                            backgrounds: f.backgrounds, rejected: masks.frames[f.index], matched: f.matched)
            frame.backgroundKey = TileBackgroundMemo.FrameKey(frame: f.frame, masks: plan.masks, index: f.index)
            return frame
        }
        switch plan.combine {
        case .weighted:
            guard let wref = plan.weights else {
                throw StepError.badArtifact(node: plan.node, message: "weighted plan without weights")
            }
            let weights = try DecodedArtifacts.shared.value("weights", wref) { try TileWeights(path: store.path(of: wref)) }
            let frames = try plan.frames.map(source)
            let chosen = effectiveWeights(weights, frames: frames.map(\.index), tile: tile.id, eps: plan.eps)
            let values = try weightedTile(tile, frames: frames, weights: chosen.weights, width: plan.width, height: plan.height,
                                          channels: plan.channels)
            return TileValues(tile: tile, channels: plan.channels, unweighted: chosen.fallback, runID: runID, values: values)
        case .matched:
            let fft = DecodedArtifacts.shared.value("fft", Digest.of(string: "\(plan.fftWidth)x\(plan.fftHeight)")) {
                FFT2D(width: plan.fftWidth, height: plan.fftHeight)
            }
            let (values, unweighted) = try matchedTile(tile, frames: try plan.frames.map(source), margin: plan.margin, beta: plan.beta,
                                                       fft: fft, width: plan.width, height: plan.height, channels: plan.channels)
            return TileValues(tile: tile, channels: plan.channels, unweighted: unweighted, runID: runID, values: values)
        }
    }

    /// A plain float32 frame is mapped once per process and every tile reads its rectangle from memory
    /// (`MappedFrame.image` nil: anything else, read through cfitsio; same values either way).
    static func mappedFrame(_ f: ReconstructionPlan.Frame, store: ArtifactStore) throws -> MappedFrame {
        try DecodedArtifacts.frames.value("frame", f.frame) { MappedFrame(image: try FITSMappedImage.open(store.path(of: f.frame))) }
    }

    /// The weights the weighted kernel uses in `tile` for `frames` (weights columns): W_f,t, 0 when
    /// not finite or not positive; every frame 1 when their sum is below `eps` (`fallback`, with `sum`).
    static func effectiveWeights(_ weights: TileWeights, frames: [Int], tile: Int, eps: Double) -> (weights: [Double], sum: Double, fallback: Bool) {
        var ws = frames.map { Double(weights.weight(frame: $0, tile: tile)) }
        ws = ws.map { $0.isFinite && $0 > 0 ? $0 : 0 }
        let sum = ws.reduce(0, +)
        if sum < eps { return (ws.map { _ in 1 }, sum, true) }
        return (ws, sum, false)
    }

    /// The rectangle `[x, x+w) x [y, y+h)` of `frame`, every plane, with its rejected values NaN.
    static func readRect(_ frame: ReconstructionFrame, x: Int, y: Int, w: Int, h: Int, width: Int, height: Int,
                         channels: Int) throws -> Image {
        var read: Image
        do { read = try frame.source.rect(x: x, y: y, width: w, height: h) } catch {
            throw StepError.unreadable(file: frame.name, message: "registered frame rectangle \(w)x\(h) at (\(x), \(y)): \(error)")
        }
        guard read.channels == channels else {
            throw MetricsError.inconsistent(node: NodeName.reconstruct, message: "\(frame.name) has \(read.channels) planes, "
                                            + "its measurement \(channels) backgrounds")
        }
        applyRejected(frame.rejected, to: &read, x: x, y: y, width: width, height: height)
        return read
    }

    /// Sets `rejected` (indices `c * width * height + y * width + x` of the whole image) to NaN in
    /// `rect`, the rectangle at (`x0`, `y0`) of every plane.
    static func applyRejected(_ rejected: [UInt32], to rect: inout Image, x x0: Int, y y0: Int, width: Int, height: Int) {
        guard !rejected.isEmpty else { return }
        let rw = rect.width, rn = rect.planeSize, plane = width * height
        rect.pixels.withUnsafeMutableBufferPointer { px in
            for c in 0..<rect.channels {
                for ry in 0..<rect.height {
                    let lo = UInt32(c * plane + (y0 + ry) * width + x0), hi = lo + UInt32(rw)
                    var a = 0, b = rejected.count
                    while a < b {
                        let mid = (a + b) / 2
                        if rejected[mid] < lo { a = mid + 1 } else { b = mid }
                    }
                    while a < rejected.count && rejected[a] < hi {
                        px[c * rn + ry * rw + Int(rejected[a] - lo)] = .nan
                        a += 1
                    }
                }
            }
        }
    }

    /// One tile of the weighted combine: frames added in set order with `weights` (as `effectiveWeights`),
    /// each plane of each frame's tile read straight into the accumulator's scratch plane; a frame with
    /// a `backgroundKey` shares its tile medians through `TileBackgroundMemo`.
    static func weightedTile(_ tile: Tile, frames: [ReconstructionFrame], weights: [Double], width: Int, height: Int,
                             channels: Int) throws -> [Double] {
        let acc = TileAccumulator(tile: Tile(id: tile.id, x: 0, y: 0, w: tile.w, h: tile.h), channels: channels)
        for (fi, frame) in frames.enumerated() {
            guard frame.backgrounds.count == channels else {
                throw MetricsError.inconsistent(node: NodeName.reconstruct, message: "\(frame.name): \(frame.backgrounds.count) backgrounds, "
                                                + "expected \(channels)")
            }
            if case .mapped(let m, let path) = frame.source {
                guard m.channels == channels else {
                    throw MetricsError.inconsistent(node: NodeName.reconstruct, message: "\(frame.name) has \(m.channels) planes, "
                                                    + "its measurement \(channels) backgrounds")
                }
                for c in 0..<channels {
                    do { try m.read(x: tile.x, y: tile.y, width: tile.w, height: tile.h, plane: c, into: &acc.scratch, path: path) } catch {
                        throw StepError.unreadable(file: frame.name, message: "registered frame rectangle \(tile.w)x\(tile.h) "
                                                   + "at (\(tile.x), \(tile.y)): \(error)")
                    }
                    applyRejected(frame.rejected, to: &acc.scratch, plane: c, x: tile.x, y: tile.y, w: tile.w, h: tile.h,
                                  width: width, height: height)
                    acc.addScratch(channel: c, weight: weights[fi], inverseBackground: 1 / frame.backgrounds[c],
                                   memo: frame.backgroundKey.map { ($0, tile.x, tile.y) })
                }
            } else {
                let rect = try readRect(frame, x: tile.x, y: tile.y, w: tile.w, h: tile.h, width: width, height: height, channels: channels)
                acc.add(rect, bandY: 0, weight: weights[fi], inverseBackground: frame.backgrounds.map { 1 / $0 },
                        memo: frame.backgroundKey.map { ($0, tile.x, tile.y) })
            }
        }
        acc.finish()
        return acc.values
    }

    /// Sets `rejected` (indices `c * width * height + y * width + x` of the whole image) to NaN in
    /// `pixels`, plane `c` of the `w x h` rectangle at (`x0`, `y0`), row by row.
    static func applyRejected(_ rejected: [UInt32], to pixels: inout [Float], plane c: Int, x x0: Int, y y0: Int, w: Int, h: Int,
                              width: Int, height: Int) {
        guard !rejected.isEmpty else { return }
        let first = UInt32(c * width * height + y0 * width + x0)
        var a = RejectionMasks.lowerBound(rejected, first)
        guard a < rejected.count, rejected[a] < first + UInt32((h - 1) * width + w) else { return }
        pixels.withUnsafeMutableBufferPointer { px in
            rejected.withUnsafeBufferPointer { rj in
                for ry in 0..<h {
                    let lo = first + UInt32(ry * width), hi = lo + UInt32(w)
                    if a < rj.count && rj[a] < lo {  // skip the band's rejected pixels left and right of the tile
                        var r = rj.count
                        while a < r {
                            let mid = (a + r) / 2
                            if rj[mid] < lo { a = mid + 1 } else { r = mid }
                        }
                    }
                    while a < rj.count && rj[a] < hi {
                        px[ry * w + Int(rj[a] - lo)] = .nan
                        a += 1
                    }
                }
            }
        }
    }

    /// One tile of the matched combine: the tile plus `margin` (clipped to the image) of each frame.
    static func matchedTile(_ tile: Tile, frames: [ReconstructionFrame], margin: Int, beta: Double, fft: FFT2D,
                            width: Int, height: Int, channels: Int) throws -> (values: [Double], unweighted: Bool) {
        let x0 = max(0, tile.x - margin), y0 = max(0, tile.y - margin)
        let x1 = min(width, tile.x + tile.w + margin), y1 = min(height, tile.y + tile.h + margin)
        let local = Tile(id: tile.id, x: tile.x - x0, y: tile.y - y0, w: tile.w, h: tile.h)
        let acc = MatchedTileAccumulator(tile: local, channels: channels, margin: margin, beta: beta, fft: fft)
        for frame in frames {
            guard let model = frame.matched else {
                throw MetricsError.inconsistent(node: NodeName.reconstruct, message: "\(frame.name): no matched model (combine: matched)")
            }
            let rect = try readRect(frame, x: x0, y: y0, w: x1 - x0, h: y1 - y0, width: width, height: height, channels: channels)
            acc.add(rect, bandY: 0, inverseBackground: frame.backgrounds.map { 1 / $0 }, model: model)
        }
        acc.finish()
        return (acc.values, acc.unweighted)
    }
}

/// A registered frame's mapping, or nil when it is not a plain float32 file (cached either way).
struct MappedFrame: @unchecked Sendable {
    let image: FITSMappedImage?
}
