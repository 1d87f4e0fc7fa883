import Foundation
import Imaging

/// One tile of the grid, in reference-geometry pixels: `[x, x+w) x [y, y+h)`.
public struct Tile: Codable, Sendable, Equatable {
    /// Row-major position in the grid, from 0.
    public var id: Int
    /// Left column.
    public var x: Int
    /// Top row.
    public var y: Int
    /// Width (= T unless the image is narrower than T).
    public var w: Int
    /// Height (= T unless the image is lower than T).
    public var h: Int

    /// A tile.
    public init(id: Int, x: Int, y: Int, w: Int, h: Int) {
        self.id = id
        self.x = x
        self.y = y
        self.w = w
        self.h = h
    }

    /// Whether pixel position (px, py) (0-based pixel centres) lies inside the tile.
    public func contains(_ px: Double, _ py: Double) -> Bool {
        px >= Double(x) - 0.5 && px < Double(x + w) - 0.5 && py >= Double(y) - 0.5 && py < Double(y + h) - 0.5
    }
}

/// The `grid` artifact of `tiles/geometry` (METHOD phase 4), materialized at `tiles/grid.json`.
public struct TileGrid: Codable, Sendable, Equatable {
    /// F: robust median FWHM over the accepted stars of all frames, px; nil when no star qualified.
    public var fwhm: Double?
    /// Stars that entered F.
    public var starsUsed: Int
    /// Image width.
    public var width: Int
    /// Image height.
    public var height: Int
    /// T: tile side, px.
    public var size: Int
    /// O: overlap, px.
    public var overlap: Int
    /// S = T - O: step between tile origins, px.
    public var step: Int
    /// The tiles, row-major.
    public var tiles: [Tile]

    /// A grid from explicit values.
    public init(fwhm: Double?, starsUsed: Int, width: Int, height: Int, size: Int, overlap: Int, step: Int, tiles: [Tile]) {
        self.fwhm = fwhm
        self.starsUsed = starsUsed
        self.width = width
        self.height = height
        self.size = size
        self.overlap = overlap
        self.step = step
        self.tiles = tiles
    }

    /// Reads a `grid` artifact.
    public static func read(path: String) throws -> TileGrid {
        try Artifacts.readJSON(TileGrid.self, path: path, node: NodeName.tileGeometry)
    }
}

/// METHOD phase 4 as pure functions.
public enum TileGeometry {
    /// The smallest tile side ever used, px, whatever the config says.
    public static let minimumTile = 16
    /// Stars with a lower SNR do not enter F.
    public static let minStarSNR = 20.0
    /// Stars with a higher ellipticity do not enter F (METHOD: 0.4).
    public static let maxEllipticity = 0.4

    /// Whether a star may enter F: not saturated, ellipticity <= 0.4, SNR >= 20, finite FWHM.
    public static func acceptsForSeeing(_ s: MeasuredStar) -> Bool {
        !s.saturated && s.ellipticity <= maxEllipticity && s.snr >= minStarSNR && s.fwhm.isFinite && s.fwhm > 0
    }

    /// F = median FWHM of the accepted stars of all frames (nil when none), and how many entered it.
    public static func seeingFWHM(_ frames: [[MeasuredStar]]) -> (fwhm: Double?, count: Int) {
        var values: [Double] = []
        for stars in frames { for s in stars where acceptsForSeeing(s) { values.append(s.fwhm) } }
        return (Statistics.median(values), values.count)
    }

    /// `T = clip(size_factor * F, min_size, min(W,H) / max_divisor)`, rounded to whole pixels.
    /// When `min_size` exceeds the upper bound, the upper bound wins (tiles must fit the image
    /// `max_divisor` times); T is never below 16 px nor above min(W, H). Without F, T = the lower bound.
    public static func tileSize(fwhm: Double?, sizeFactor: Double, minSize: Int, maxDivisor: Int,
                                width: Int, height: Int) -> Int {
        let side = min(width, height)
        let upper = Double(side) / Double(max(1, maxDivisor))
        let lower = min(Double(minSize), upper)
        let raw = fwhm.map { sizeFactor * $0 } ?? lower
        let t = Int(min(max(raw, lower), upper).rounded())
        return min(max(t, minimumTile), side)
    }

    /// Tile origins along one axis: 0, S, 2S, ... while the tile stays inside, then one last tile
    /// aligned to the far edge, so the axis is covered completely (the last overlap may be larger than O).
    public static func origins(length: Int, size: Int, step: Int) -> [Int] {
        guard size < length else { return [0] }
        var xs: [Int] = []
        var x = 0
        while x + size < length { xs.append(x); x += max(1, step) }
        xs.append(length - size)
        return xs
    }

    /// The grid for tile side `size` and `overlapFraction`: O = round(fraction * T), S = T - O (>= 1).
    public static func grid(width: Int, height: Int, size: Int, overlapFraction: Double,
                            fwhm: Double?, starsUsed: Int) -> TileGrid {
        let overlap = min(size - 1, Int((overlapFraction * Double(size)).rounded()))
        let step = size - overlap
        let xs = origins(length: width, size: size, step: step), ys = origins(length: height, size: size, step: step)
        var tiles: [Tile] = []
        for y in ys {
            for x in xs {
                tiles.append(Tile(id: tiles.count, x: x, y: y, w: min(size, width), h: min(size, height)))
            }
        }
        return TileGrid(fwhm: fwhm, starsUsed: starsUsed, width: width, height: height, size: size,
                        overlap: overlap, step: step, tiles: tiles)
    }
}
