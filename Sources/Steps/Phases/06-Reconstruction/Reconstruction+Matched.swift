import Foundation
import Imaging

extension Reconstruction {
    /// The margin around a tile that `combine: matched` reads, px: 3 x the largest FWHM of any frame in
    /// any tile (a Moffat of beta 3 keeps < 1 % of its flux beyond 3 FWHM, and the proper image's
    /// per-frame kernels are no wider than the PSFs), at least 4.
    public static func matchedMargin(_ frames: [ReconstructionFrame]) -> Int {
        let widest = frames.compactMap { $0.matched?.tileFWHM.filter(\.isFinite).max() }.max() ?? 1
        return max(4, Int((3 * widest).rounded(.up)))
    }

    /// `reconstruction.combine: matched`: proper coaddition per tile (Zackay & Ofek 2017), see
    /// `MatchedTileAccumulator` and docs/method.md. Every frame needs its `matched` model, with one noise
    /// per plane and one FWHM per tile of `grid`. Streaming as the weighted kernel: one tile row at a
    /// time, each frame's rows of the band (plus `matchedMargin` rows above and below) read once per
    /// band; tiles of a band in parallel, each adding frames in set order; overlap-add in tile order
    /// with `window`. One FFT size (the largest tile plus twice the margin, rounded up to a product of
    /// 2, 3, 5, 7) and one FFTW plan serve every tile. `fallbackTiles` lists the tiles where no frame
    /// had a positive weight F_f / sigma_f^2 (the unweighted mean is used there).
    public static func reconstructMatched(frames: [ReconstructionFrame], grid: TileGrid, window: WindowFunction,
                                          beta: Double, threads: Int) throws -> ReconstructionResult {
        guard let first = frames.first else {
            throw StepError.badArtifact(node: NodeName.reconstruct, message: "no frames to reconstruct")
        }
        let channels = first.backgrounds.count
        let width = grid.width, height = grid.height
        for f in frames {
            guard f.backgrounds.count == channels, let m = f.matched, m.noise.count == channels,
                  m.tileFWHM.count == grid.tiles.count, m.tileFWHM.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw MetricsError.inconsistent(node: NodeName.reconstruct, message: "\(f.name): no matched model for "
                                                + "\(channels) planes and \(grid.tiles.count) tiles (combine: matched)")
            }
        }
        guard let tw = grid.tiles.map(\.w).max(), let th = grid.tiles.map(\.h).max() else {
            return ReconstructionResult(image: Image(width: width, height: height, channels: channels, fill: .nan),
                                        fallbackTiles: [], readsPerFrame: 0)
        }
        let margin = matchedMargin(frames)
        let fft = FFT2D(width: FFT2D.goodSize(tw + 2 * margin), height: FFT2D.goodSize(th + 2 * margin))
        var canvas = OverlapCanvas(width: width, height: height, channels: channels)
        var fallback: [Int] = []
        let bands = tileRows(grid)
        for (bi, band) in bands.enumerated() {
            let y0 = band[0].y, bh = band.map(\.h).max()!
            let r0 = max(0, y0 - margin), r1 = min(height, y0 + bh + margin)
            let accs = band.map { MatchedTileAccumulator(tile: $0, channels: channels, margin: margin, beta: beta, fft: fft) }
            for frame in frames {
                let rows = try readBand(frame, y0: r0, count: r1 - r0, width: width, height: height, channels: channels)
                let inv = frame.backgrounds.map { 1 / $0 }, model = frame.matched!
                let work: @Sendable (Int) -> Void = { i in accs[i].add(rows, bandY: r0, inverseBackground: inv, model: model) }
                Parallel.forEach(band.count, threads: threads, work)
            }
            let finish: @Sendable (Int) -> Void = { i in accs[i].finish() }
            Parallel.forEach(band.count, threads: threads, finish)
            for (i, tile) in band.enumerated() {
                if accs[i].unweighted { fallback.append(tile.id) }
                canvas.add(accs[i].values, tile: tile, window: window)
            }
            let done = bi + 1 < bands.count ? bands[bi + 1][0].y : height
            canvas.finalize(rowsBelow: done)
        }
        return ReconstructionResult(image: canvas.image, fallbackTiles: fallback, readsPerFrame: bands.count)
    }
}
