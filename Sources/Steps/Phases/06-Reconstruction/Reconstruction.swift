import Foundation
import Imaging

/// Where the reconstruction kernel reads a registered frame from: a FITS file (read in row bands,
/// never whole) or an image in memory (tests).
public enum FrameSource: Sendable {
    /// A registered float32 FITS frame.
    case file(String)
    /// An image already in memory.
    case memory(Image)
    /// A registered float32 FITS frame mapped into memory (tile tasks; `path` for messages).
    case mapped(FITSMappedImage, path: String)

    /// Rows `[y0, y0 + count)` of every plane.
    func rows(_ y0: Int, _ count: Int) throws -> Image {
        switch self {
        case .file(let path): return try FITS.readRows(path, from: y0, count: count)
        case .mapped(let m, let path): return try m.rect(x: 0, y: y0, width: m.width, height: count, path: path)
        case .memory(let image):
            let n = image.planeSize, w = image.width
            var px: [Float] = []
            px.reserveCapacity(w * count * image.channels)
            for c in 0..<image.channels {
                px.append(contentsOf: image.pixels[(c * n + y0 * w)..<(c * n + (y0 + count) * w)])
            }
            return Image(width: w, height: count, channels: image.channels, pixels: px)
        }
    }

    /// The rectangle `[x, x + width) x [y, y + height)` of every plane (a tile task reads only its tile).
    func rect(x: Int, y: Int, width: Int, height: Int) throws -> Image {
        switch self {
        case .file(let path): return try FITS.readRect(path, x: x, y: y, width: width, height: height)
        case .mapped(let m, let path): return try m.rect(x: x, y: y, width: width, height: height, path: path)
        case .memory(let image):
            guard x >= 0, y >= 0, x + width <= image.width, y + height <= image.height else {
                throw FITSError.rowRange(path: "(memory)", y0: y, count: height, height: image.height)
            }
            let n = image.planeSize, w = image.width
            var px: [Float] = []
            px.reserveCapacity(width * height * image.channels)
            for c in 0..<image.channels {
                for r in y..<(y + height) { px.append(contentsOf: image.pixels[(c * n + r * w + x)..<(c * n + r * w + x + width)]) }
            }
            return Image(width: width, height: height, channels: image.channels, pixels: px)
        }
    }
}

/// One frame taking part in a reconstruction.
public struct ReconstructionFrame: Sendable {
    /// The frame's column in `TileWeights` (its index in the frame list).
    public var index: Int
    /// Name for messages (file name).
    public var name: String
    /// Where its registered pixels are.
    public var source: FrameSource
    /// B_f per channel (phase 2): the kernel reads `I / B_f`.
    public var backgrounds: [Double]
    /// Its rejected pixels (`RejectionMasks`): NaN for the kernel, ascending indices.
    public var rejected: [UInt32]
    /// Flux scale, noise and PSF for `combine: matched` (unused by the weighted kernel).
    public var matched: MatchedFrameModel?
    /// The frame's key in `TileBackgroundMemo` (tile tasks: its pixels and masks by digest), nil: not shared.
    var backgroundKey: TileBackgroundMemo.FrameKey?

    /// A frame; `backgrounds` must have one positive value per plane of the frame.
    public init(index: Int, name: String, source: FrameSource, backgrounds: [Double], rejected: [UInt32] = [],
                matched: MatchedFrameModel? = nil) {
        self.index = index
        self.name = name
        self.source = source
        self.backgrounds = backgrounds
        self.rejected = rejected
        self.matched = matched
    }
}

/// What a reconstruction produced besides the image.
public struct ReconstructionResult: Sendable {
    /// The reconstructed image in normalized units (sky ~ 1), planes as the frames; NaN where no
    /// frame covers a pixel.
    public var image: Image
    /// Tiles whose weight sum was below `eps` and that used the unweighted mean instead.
    public var fallbackTiles: [Int]
    /// Row-band reads per frame (= tile rows of the grid): how often each frame file was opened.
    public var readsPerFrame: Int
}

/// METHOD phase 6 (and 8, on a subset of frames): the tile-weighted reconstruction kernel.
///
/// Per tile t and channel c, over the frames f of the set (frame order), with I' = I / B_f,c:
/// - pixels `reject` found to be outliers in a frame (`ReconstructionFrame.rejected`) count as NaN;
/// - b_f,t,c = median of the finite I' pixels of the tile (the frame's local background);
/// - V(p) = sum_f W_f,t (I'_f(p) - b_f,t,c) / sum_f W_f,t over the frames finite at p (NaN never counts);
///   W = 1 for every frame when sum_f W_f,t < eps (unweighted fallback, logged with the tile id);
/// - tile(p) = (V(p) + mean_f b_f,t,c) * s_t,c, where the add-back is the unweighted mean of the local
///   backgrounds (what a classical mean would show there, so large-scale nebulosity and gradients are
///   kept and weighting cannot create level steps between tiles), and s_t,c = median(U + mean b) /
///   median(V + mean b) rescales the tile to the common (unweighted) tile median, U being the unweighted
///   mean of I' - b; s = 1 when |median| < 1e-6;
/// - windowed (`WindowFunction`, separable), overlap-added into Double accumulators in tile order, divided
///   by the summed window.
///
/// Streaming: tiles are processed one tile row at a time; for each tile row every frame's rows of that
/// band are read once (`FITS.readRows`), so a frame is opened once per tile row and each of its rows is
/// read about T/S times (1.33 at the default 25 % overlap). Only one band of Double accumulators and the
/// output image are held. Tiles of a band run in parallel, each tile owning its accumulators and adding
/// frames in set order, and the overlap-add is sequential in tile order: the bytes do not depend on
/// `threads`.
public enum Reconstruction {
    /// |median| below this keeps the tile's scale at 1 (METHOD).
    public static let medianEps = 1e-6

    /// Reconstructs `frames` with the weights of `weights` on `grid`. `log` receives one line per
    /// fallback tile. Throws when a frame cannot be read or has the wrong size or plane count.
    public static func reconstruct(frames: [ReconstructionFrame], weights: TileWeights, grid: TileGrid,
                                   window: WindowFunction, eps: Double, threads: Int,
                                   log: (String) -> Void = { _ in }) throws -> ReconstructionResult {
        guard let first = frames.first else {
            throw StepError.badArtifact(node: NodeName.reconstruct, message: "no frames to reconstruct")
        }
        let channels = first.backgrounds.count
        let width = grid.width, height = grid.height
        for f in frames where f.backgrounds.count != channels || f.index >= weights.frameCount {
            throw MetricsError.inconsistent(node: NodeName.reconstruct, message: "\(f.name): \(f.backgrounds.count) backgrounds "
                                            + "(expected \(channels)) or frame index \(f.index) beyond \(weights.frameCount) weights")
        }
        guard weights.tileCount == grid.tiles.count else {
            throw MetricsError.inconsistent(node: NodeName.reconstruct, message: "weights have \(weights.tileCount) tiles, the grid \(grid.tiles.count)")
        }
        var canvas = OverlapCanvas(width: width, height: height, channels: channels)
        var fallback: [Int] = []
        let bands = tileRows(grid)
        for (bi, band) in bands.enumerated() {
            let y0 = band[0].y, bh = band.map(\.h).max()!
            // Effective weights per tile, decided before any pixel is read.
            var bandWeights: [[Double]] = []
            for tile in band {
                let chosen = effectiveWeights(weights, frames: frames.map(\.index), tile: tile.id, eps: eps)
                if chosen.fallback {
                    fallback.append(tile.id)
                    log(fallbackMessage(tile: tile.id, sum: chosen.sum, eps: eps, frames: frames.count))
                }
                bandWeights.append(chosen.weights)
            }
            let accs = band.map { TileAccumulator(tile: $0, channels: channels) }
            for (fi, frame) in frames.enumerated() {
                let rows = try readBand(frame, y0: y0, count: bh, width: width, height: height, channels: channels)
                let inv = frame.backgrounds.map { 1 / $0 }
                let ws = bandWeights.map { $0[fi] }
                let work: @Sendable (Int) -> Void = { i in accs[i].add(rows, bandY: y0, weight: ws[i], inverseBackground: inv) }
                Parallel.forEach(band.count, threads: threads, work)
            }
            let finish: @Sendable (Int) -> Void = { i in accs[i].finish() }
            Parallel.forEach(band.count, threads: threads, finish)
            for (i, tile) in band.enumerated() {
                canvas.add(accs[i].values, tile: tile, window: window)
            }
            let done = bi + 1 < bands.count ? bands[bi + 1][0].y : height
            canvas.finalize(rowsBelow: done)
        }
        return ReconstructionResult(image: canvas.image, fallbackTiles: fallback, readsPerFrame: bands.count)
    }

    /// The run-log line of a tile that fell back to the unweighted mean.
    static func fallbackMessage(tile: Int, sum: Double, eps: Double, frames: Int) -> String {
        "tile \(tile): weight sum \(sum) < reconstruction.eps \(eps); unweighted mean of \(frames) frames used"
    }

    /// Rows `[y0, y0 + count)` of `frame`, checked against the expected width and plane count, with the
    /// frame's rejected values set to NaN.
    static func readBand(_ frame: ReconstructionFrame, y0: Int, count: Int, width: Int, height: Int, channels: Int) throws -> Image {
        var read: Image
        do { read = try frame.source.rows(y0, count) } catch {
            throw StepError.unreadable(file: frame.name, message: "registered frame rows \(y0)..<\(y0 + count): \(error)")
        }
        guard read.width == width else {
            throw MetricsError.sizeMismatch(file: frame.name, width: read.width, height: height,
                                            expectedWidth: width, expectedHeight: height)
        }
        guard read.channels == channels else {
            throw MetricsError.inconsistent(node: NodeName.reconstruct, message: "\(frame.name) has \(read.channels) planes, "
                                            + "its measurement \(channels) backgrounds")
        }
        RejectionMasks.apply(frame.rejected, to: &read, y0: y0, imageHeight: height)
        return read
    }

    /// Rescales a finished tile's plane to the common (unweighted) tile median: the combined values
    /// `out[i]`, i in `range` with `count[i] > 0`, times s_t,c = median of the unweighted values `us`
    /// (the same pixels, in index order) / median of the combined values; s = 1 when there is no
    /// value or |median| of the combined values is below `medianEps` (METHOD). Shared by the weighted
    /// and the matched combine.
    static func rescaleToCommonMedian(_ out: inout [Double], _ range: Range<Int>, count: [Double], unweighted us: [Double]) {
        var vs: [Double] = []
        vs.reserveCapacity(us.count)
        for i in range where count[i] > 0 { vs.append(out[i]) }
        rescaleToCommonMedian(&out, range, combined: vs, unweighted: us) { count[$0] > 0 }
    }

    /// The same with the combined values `vs` of the covered pixels (those with `covered(i)`, in index
    /// order) already gathered.
    @inline(__always)
    static func rescaleToCommonMedian(_ out: inout [Double], _ range: Range<Int>, combined vs: [Double], unweighted us: [Double],
                                      covered: (Int) -> Bool) {
        guard let mv = Statistics.denseMedian(vs), let mu = Statistics.denseMedian(us),
              !(abs(mv) < medianEps), mu.isFinite else { return }
        let scale = mu / mv
        if scale != 1 {
            for i in range where covered(i) { out[i] *= scale }
        }
    }

    /// The grid's tiles grouped by row (same `y`), in grid order.
    static func tileRows(_ grid: TileGrid) -> [[Tile]] {
        var rows: [[Tile]] = []
        for t in grid.tiles {
            if let last = rows.last?.first, last.y == t.y { rows[rows.count - 1].append(t) } else { rows.append([t]) }
        }
        return rows
    }
}
