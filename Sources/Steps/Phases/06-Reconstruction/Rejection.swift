import Dispatch
import Foundation
import Imaging

/// One registered frame entering the rejection.
public struct RejectionFrame: Sendable {
    /// Name for messages and the summary (file name).
    public var name: String
    /// The frame's scan index (NNNNN).
    public var index: Int
    /// Where its registered pixels are.
    public var source: FrameSource
    /// B_f per plane (phase 2).
    public var backgrounds: [Double]
    /// sigma_f per plane in normalized units (phase 2, `ChannelMeasurement.noise`).
    public var noise: [Double]

    /// A frame; one background and one noise per plane.
    public init(name: String, index: Int, source: FrameSource, backgrounds: [Double], noise: [Double]) {
        self.name = name
        self.index = index
        self.source = source
        self.backgrounds = backgrounds
        self.noise = noise
    }
}

/// What `Rejection.run` found.
public struct RejectionResult: Sendable {
    /// The masks, one list per frame in input order.
    public var masks: RejectionMasks
    /// Per pixel and plane: how many frames were rejected there.
    public var map: Image
    /// Rows per chunk of pass 2 (the memory budget divided by frames x width x planes x 4 bytes).
    public var chunkRows: Int
}

/// METHOD phase 6, outlier rejection: per pixel, the values of every registered frame, each with its
/// smooth local background removed and divided by B_f (`(I - bg_f) / B_f`, the units every combine uses),
/// are clipped by `PixelRejection` against their median with residuals scaled by the frame's noise.
///
/// Two streaming passes, memory bounded by a budget instead of the frame count:
/// 1. per frame (in parallel, `threads` at a time), its local background is estimated on a 64 px mesh
///    (`BackgroundMap`, sigma-clipped medians of a 1-in-16 grid sample of each box, every 4th pixel of
///    every 4th row, bilinear), so frames whose sky gradients differ are compared on their residuals;
///    only the rows the sample uses are read (`sampledRows`), only the small meshes are kept;
/// 2. the image is cut into chunks of rows such that frames x rows x width x planes x 4 bytes fits the
///    budget; for each chunk every frame's rows are read (`threads` frames at a time; a plain float32 file
///    through the `FITSMappedImage` pass 1 opened, straight into the cube, anything else through
///    `FrameSource.rows`), their background subtracted in place (`BackgroundMap.subtract`), and the cube (one
///    allocation for every chunk) is clipped (pixels split over `threads` in fixed ranges).
/// Pass 2 reads each frame ceil(height / chunkRows) times; with 1000 frames of 8 Mpx (3264 px wide, mono)
/// and the 128 MiB default budget, chunks are 10 rows, 245 reads per frame. The masks are sparse lists,
/// the output is deterministic and independent of `threads` and of the budget.
public enum Rejection {
    /// Code version of `reject`; bump when the computation changes (2: the local background mesh is
    /// clipped on `backgroundSampleStride`'s grid; 3: that grid is 1-in-16 instead of 1-in-4).
    public static let version = 3
    /// Default memory budget of pass 2's cube, bytes (128 MiB: a 120 x 0.8 Mpx series in 3 chunks; the
    /// file pages each chunk maps are released after its copy, so the node's peak is about the cube).
    public static let defaultBudgetBytes = 128 << 20
    /// Mesh of the per-frame local background, px.
    public static let backgroundMesh = 64
    /// Each 64 px box of the local background is clipped on every 4th pixel of every 4th row (256
    /// samples: the statistical error of its clipped median is ~0.08 of the frame's noise, 1.2533 /
    /// sqrt(256), far below the kappa = 3 clipping threshold the residuals are compared with; it moves a
    /// frame's residuals in that box by that much, symmetrically), a sixteenth of the selections of
    /// every pixel, and only a quarter of the rows is read. A divisor of `backgroundMesh`, so every box's
    /// sample rows are multiples of it.
    public static let backgroundSampleStride = 4

    /// Rejects outliers of `frames` (all `width x height x channels`). Throws `StepError.unreadable` for a
    /// frame that cannot be read and `MetricsError` for size or plane-count mismatches.
    public static func run(frames: [RejectionFrame], width: Int, height: Int, channels: Int,
                           options: PixelRejection.Options, budgetBytes: Int = defaultBudgetBytes,
                           threads: Int, node: String = NodeName.reject) throws -> RejectionResult {
        for f in frames where f.backgrounds.count != channels || f.noise.count != channels {
            throw MetricsError.inconsistent(node: node, message: "\(f.name): \(f.backgrounds.count) backgrounds and "
                                            + "\(f.noise.count) noise values for \(channels) planes")
        }
        let (meshes, mapped) = try backgrounds(frames, width: width, height: height, channels: channels, threads: threads, node: node)
        let perRow = max(1, frames.count * width * channels * 4)
        let chunkRows = max(1, min(height, budgetBytes / perRow))
        let plane = width * height
        var lists = [[[UInt32]]](repeating: [[UInt32]](repeating: [], count: channels), count: frames.count)
        var map = Image(width: width, height: height, channels: channels, fill: 0)
        var cube = PixelRejection.Cube(frames: frames.count, capacity: chunkRows * width, planes: channels)
        var y0 = 0
        while y0 < height {
            let rows = min(chunkRows, height - y0)
            cube.resize(count: rows * width)
            try fill(&cube, frames, meshes: meshes, mapped: mapped, y0: y0, rows: rows, width: width, channels: channels,
                     threads: threads, node: node)
            for c in 0..<channels {
                let rejected = PixelRejection.clip(cube, plane: c, noise: frames.map { $0.noise[c] }, options: options, threads: threads)
                let base = c * plane + y0 * width
                map.pixels.withUnsafeMutableBufferPointer { m in
                    for (fi, list) in rejected.enumerated() {
                        for i in list { m[base + i] += 1 }
                        lists[fi][c].append(contentsOf: list.map { UInt32(base + $0) })
                    }
                }
            }
            y0 += rows
        }
        let masks = RejectionMasks(width: width, height: height, channels: channels,
                                   frames: lists.map { $0.flatMap { $0 } })
        return RejectionResult(masks: masks, map: map, chunkRows: chunkRows)
    }

    /// Pass 2's reads: rows `[y0, y0 + rows)` of every frame, background removed and divided by B_f, into
    /// `cube` (frame f's plane c at `(c * frames + f) * count`), `threads` frames at a time (fixed
    /// assignment; every frame writes only its own slices, so the cube does not depend on `threads`).
    /// A plain float32 file (`mapped[f]`, mapped once by pass 1) has its rows copied into the cube and
    /// corrected in place (no image per read); other frames are read through `FrameSource.rows`. Every value of the cube's `count` is written.
    static func fill(_ cube: inout PixelRejection.Cube, _ frames: [RejectionFrame], meshes: [[BackgroundMap]],
                     mapped: [FITSMappedImage?], y0: Int,
                     rows: Int, width: Int, channels: Int, threads: Int, node: String) throws {
        struct Target: @unchecked Sendable { let base: UnsafeMutablePointer<Float> }
        final class Errors: @unchecked Sendable {
            var errors: [Error?]
            init(_ n: Int) { errors = .init(repeating: nil, count: n) }
        }
        let count = rows * width, stack = frames.count * count
        let failures = Errors(frames.count)
        let workers = max(1, min(threads, frames.count))
        cube.values.withUnsafeMutableBufferPointer { values in
            let target = Target(base: values.baseAddress!)
            Parallel.forEach(workers, threads: workers) { t in
                for fi in stride(from: t, to: frames.count, by: workers) {
                    let frame = frames[fi]
                    func unreadable<T>(_ read: () throws -> T) throws -> T {
                        do { return try read() } catch {
                            throw StepError.unreadable(file: frame.name, message: "registered frame rows \(y0)..<\(y0 + rows): \(error)")
                        }
                    }
                    func checkShape(_ w: Int, _ planes: Int) throws {
                        guard w == width, planes == channels else {
                            throw MetricsError.inconsistent(node: node, message: "\(frame.name) is \(w) px wide with "
                                                            + "\(planes) planes, expected \(width) px and \(channels) planes")
                        }
                    }
                    do {
                        if case .file(let path) = frame.source, let mapped = mapped[fi] {
                            // A plain float32 file: its rows go straight into the cube, corrected there.
                            try checkShape(mapped.width, mapped.channels)
                            for c in 0..<channels {
                                let dst = target.base + c * stack + fi * count
                                try unreadable { try mapped.read(x: 0, y: y0, width: width, height: rows, plane: c, to: dst, path: path) }
                                meshes[fi][c].subtract(from: dst, into: dst, rows: y0, count: rows, scale: Float(1 / frame.backgrounds[c]))
                            }
                            mapped.release(rowsBelow: y0 + rows)  // no page of the file stays resident
                        } else {
                            let image = try unreadable { try frame.source.rows(y0, rows) }
                            try checkShape(image.width, image.channels)
                            for c in 0..<channels {
                                let dst = target.base + c * stack + fi * count
                                image.pixels.withUnsafeBufferPointer { src in
                                    meshes[fi][c].subtract(from: src.baseAddress! + c * count, into: dst, rows: y0, count: rows,
                                                           scale: Float(1 / frame.backgrounds[c]))
                                }
                            }
                        }
                    } catch {
                        failures.errors[fi] = error
                    }
                }
            }
        }
        if let error = failures.errors.compactMap({ $0 }).first { throw error }
    }

    /// Pass 1's read: a full-size image of `frame` in which only the rows `BackgroundMap.estimate` samples
    /// with `backgroundSampleStride` (multiples of it) are read; the other rows are NaN and never looked at,
    /// so the map equals the one estimated from the whole frame. A plain float32 file (`mapped`) has only
    /// those rows converted; anything else is read whole (`FrameSource.rows`).
    static func sampledRows(_ frame: RejectionFrame, _ height: Int, mapped: FITSMappedImage?) throws -> Image {
        guard case .file(let path) = frame.source, let mapped else { return try frame.source.rows(0, height) }
        let w = mapped.width, h = mapped.height, planes = mapped.channels
        var image = Image(width: w, height: h, channels: planes, fill: .nan)
        try image.pixels.withUnsafeMutableBufferPointer { dst in
            for y in stride(from: 0, to: h, by: backgroundSampleStride) {
                for c in 0..<planes {
                    try mapped.read(x: 0, y: y, width: w, height: 1, plane: c, to: dst.baseAddress! + c * w * h + y * w, path: path)
                }
            }
        }
        return image
    }

    /// Pass 1: each frame's local background per plane, `threads` frames at a time (fixed assignment),
    /// and the mapping of each plain float32 frame file (`FITSMappedImage`, nil for other sources), opened
    /// once here for every chunk of pass 2 (opening parses the header through cfitsio, ~0.8 M
    /// instructions), with no page left resident.
    static func backgrounds(_ frames: [RejectionFrame], width: Int, height: Int, channels: Int,
                            threads: Int, node: String) throws -> (maps: [[BackgroundMap]], mapped: [FITSMappedImage?]) {
        final class Slots: @unchecked Sendable {
            var maps: [[BackgroundMap]?]
            var mapped: [FITSMappedImage?]
            var errors: [Error?]
            init(_ n: Int) {
                maps = .init(repeating: nil, count: n); mapped = .init(repeating: nil, count: n); errors = .init(repeating: nil, count: n)
            }
        }
        let slots = Slots(frames.count)
        let workers = max(1, min(threads, frames.count))
        let work: @Sendable (Int) -> Void = { t in
            for fi in stride(from: t, to: frames.count, by: workers) {
                let frame = frames[fi]
                do {
                    let image: Image
                    do {
                        if case .file(let path) = frame.source { slots.mapped[fi] = try FITSMappedImage.open(path) }
                        image = try sampledRows(frame, height, mapped: slots.mapped[fi])
                        slots.mapped[fi]?.release(rowsBelow: height)
                    } catch {
                        throw StepError.unreadable(file: frame.name, message: "registered frame: \(error)")
                    }
                    guard image.width == width, image.height == height, image.channels == channels else {
                        throw MetricsError.inconsistent(node: node, message: "\(frame.name) is \(image.width)x\(image.height) with "
                                                        + "\(image.channels) planes, expected \(width)x\(height) with \(channels)")
                    }
                    var maps: [BackgroundMap] = []
                    for c in 0..<channels {
                        // A frame without a single valid mesh box (all NaN) has no background: flat 0.
                        maps.append(BackgroundMap.estimate(image, plane: c, mesh: backgroundMesh, sampleStride: backgroundSampleStride)
                                    ?? .flat(width: width, height: height, value: 0))
                    }
                    slots.maps[fi] = maps
                } catch {
                    slots.errors[fi] = error
                }
            }
        }
        Parallel.forEach(workers, threads: workers, work)
        if let error = slots.errors.compactMap({ $0 }).first { throw error }
        return (slots.maps.map { $0! }, slots.mapped)
    }
}
