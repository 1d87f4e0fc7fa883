import Foundation
import Imaging
import Steps

/// Writes one tile's weights across frames as a small FITS cube, so they can be plotted or read with
/// astropy: `NAXIS1 = F` (column f is frame f in scan order), `NAXIS2 = 1`, `NAXIS3 = 3` with plane 1
/// `W = G_f * L` (what reconstruction uses), plane 2 `L = exp(Q_local)`, plane 3 `Q_local`.
/// A viewer that shows the first plane shows W. The header names the tile (`TILE`, `TILEMODE`,
/// and, when the grid is known, its box `TILEX`, `TILEY`, `TILEW`, `TILEH` in registered pixels),
/// `NFRAMES` and the planes (`PLANE1..3`). Values are the stored Float32 values, bit for bit.
enum TileWeightsExport {
    /// The cube for `tile` (planes W, L, Q).
    static func image(_ weights: TileWeights, tile: Int) throws -> Image {
        guard (0..<weights.tileCount).contains(tile) else {
            throw UsageError("--tile \(tile) is out of range: this grid has \(weights.tileCount) tiles (0...\(weights.tileCount - 1)); see tiles/grid.json")
        }
        let f = weights.frameCount
        var pixels = [Float](repeating: 0, count: 3 * f)
        for frame in 0..<f {
            pixels[frame] = weights.weight(frame: frame, tile: tile)
            pixels[f + frame] = weights.local(frame: frame, tile: tile)
            pixels[2 * f + frame] = weights.quality(frame: frame, tile: tile)
        }
        return Image(width: f, height: 1, channels: 3, pixels: pixels)
    }

    /// Writes the cube for `tile` to `path` (overwriting it); `grid` adds the tile's box to the header.
    static func write(_ weights: TileWeights, tile: Int, grid: TileGrid?, to path: String) throws {
        let image = try image(weights, tile: tile)
        var keywords: [FITSKeyword] = [
            FITSKeyword("TCBNODE", .string(NodeName.tileMetrics), comment: "tcbuild node the weights come from"),
            FITSKeyword("TILE", .int(tile), comment: "tile index (grid order)"),
            FITSKeyword("TILEMODE", .string(weights.modes[tile].description), comment: "star or structure metrics"),
            FITSKeyword("NFRAMES", .int(weights.frameCount), comment: "columns: frames in scan order"),
            FITSKeyword("PLANE1", .string("W"), comment: "effective weight W = G_f * L"),
            FITSKeyword("PLANE2", .string("L"), comment: "local weight L = exp(Q_local)"),
            FITSKeyword("PLANE3", .string("Q"), comment: "local quality Q_local (clamped)"),
        ]
        if let box = grid?.tiles.first(where: { $0.id == tile }) {
            keywords += [
                FITSKeyword("TILEX", .int(box.x), comment: "tile box x0, registered pixels (0-based)"),
                FITSKeyword("TILEY", .int(box.y), comment: "tile box y0, registered pixels (0-based)"),
                FITSKeyword("TILEW", .int(box.w), comment: "tile box width"),
                FITSKeyword("TILEH", .int(box.h), comment: "tile box height"),
            ]
        }
        try FITS.write(image, to: path, keywords: keywords)
    }
}
