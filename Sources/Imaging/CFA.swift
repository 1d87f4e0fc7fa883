import Foundation

/// What went wrong with colour-filter-array (Bayer) data.
public enum CFAError: Error, CustomStringConvertible, Equatable {
    /// A BAYERPAT value that is not one of RGGB, BGGR, GRBG, GBRG.
    case unknownPattern(String)
    /// A CFA operation got an image that is not a single-plane mosaic.
    case notMono(channels: Int)
    /// `mergeCFA` got planes whose sizes do not fit the recorded mosaic size.
    case planeSizeMismatch(expected: String, got: String)

    /// What is wrong and what to do.
    public var description: String {
        switch self {
        case .unknownPattern(let s):
            return "BAYERPAT '\(s)' is not a supported Bayer pattern; use one of RGGB, BGGR, GRBG, GBRG (or set the pattern in the config)"
        case .notMono(let c):
            return "CFA data must be a single-plane mosaic, got \(c) planes; this frame looks already debayered, treat it as mono/RGB instead"
        case .planeSizeMismatch(let e, let g):
            return "CFA planes do not fit the mosaic: expected \(e), got \(g); merge only planes produced by splitCFA"
        }
    }
}

/// The colour of one CFA site.
public enum CFAColor: Int, Sendable, Codable, CaseIterable {
    /// Red filter.
    case red = 0
    /// Green filter.
    case green = 1
    /// Blue filter.
    case blue = 2
}

/// A 2x2 Bayer pattern, named by its sites in reading order: (0,0), (1,0), (0,1), (1,1) as (x, y).
///
/// The pattern is anchored at pixel (0,0) of the data *as held in memory* (row 0 = first row of
/// `Image.pixels`). FITS offsets XBAYROFF/YBAYROFF say the pattern starts that many pixels before
/// the image origin: the colour at (x, y) is the pattern's colour at (x + XBAYROFF, y + YBAYROFF);
/// `init(bayerpat:xOffset:yOffset:)` folds them in. If the reader flipped the row order relative to
/// the one BAYERPAT refers to (FITS ROWORDER), apply `flippedVertically(height:)`.
public enum BayerPattern: String, Sendable, Codable, CaseIterable {
    /// R G / G B.
    case rggb = "RGGB"
    /// B G / G R.
    case bggr = "BGGR"
    /// G R / B G.
    case grbg = "GRBG"
    /// G B / R G.
    case gbrg = "GBRG"

    /// Parses a FITS BAYERPAT value: case-insensitive, surrounding quotes and blanks ignored.
    /// - Throws: `CFAError.unknownPattern` naming the value.
    public init(bayerpat: String) throws {
        let cleaned = bayerpat.trimmingCharacters(in: CharacterSet(charactersIn: "'\" \t")).uppercased()
        guard let p = BayerPattern(rawValue: cleaned) else { throw CFAError.unknownPattern(bayerpat) }
        self = p
    }

    /// Parses BAYERPAT and applies XBAYROFF/YBAYROFF (any integers, negative allowed).
    public init(bayerpat: String, xOffset: Int, yOffset: Int) throws {
        self = try BayerPattern(bayerpat: bayerpat).shifted(xOffset: xOffset, yOffset: yOffset)
    }

    /// The colour at pixel (x, y) of data anchored at (0, 0).
    @inlinable public func color(x: Int, y: Int) -> CFAColor {
        siteColors[(y & 1) * 2 + (x & 1)]
    }

    /// Colours of the four sites in reading order (0,0), (1,0), (0,1), (1,1).
    public var siteColors: [CFAColor] {
        switch self {
        case .rggb: return [.red, .green, .green, .blue]
        case .bggr: return [.blue, .green, .green, .red]
        case .grbg: return [.green, .red, .blue, .green]
        case .gbrg: return [.green, .blue, .red, .green]
        }
    }

    /// The pattern seen by data whose pixel (x, y) is this pattern's pixel (x + xOffset, y + yOffset).
    /// Only the parity of the offsets matters.
    public func shifted(xOffset: Int, yOffset: Int) -> BayerPattern {
        let sites = siteColors
        let dx = xOffset & 1, dy = yOffset & 1
        let moved = (0..<4).map { i in sites[(((i >> 1) + dy) & 1) * 2 + (((i & 1) + dx) & 1)] }
        return BayerPattern.allCases.first { $0.siteColors == moved }!
    }

    /// The pattern after reversing the row order of an image `height` rows tall.
    public func flippedVertically(height: Int) -> BayerPattern {
        shifted(xOffset: 0, yOffset: height - 1)
    }

    /// Position (x, y) in the 2x2 cell of the red site.
    public var redSite: (x: Int, y: Int) {
        let i = siteColors.firstIndex(of: .red)!
        return (i & 1, i >> 1)
    }
}
