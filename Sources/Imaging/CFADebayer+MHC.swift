import Foundation

/// Malvar-He-Cutler demosaic (gradient-corrected linear interpolation, Malvar, He & Cutler, ICASSP 2004)
/// of a mono CFA mosaic into a full-resolution 3-plane RGB image (planes R, G, B).
///
/// Bilinear interpolation averages a missing colour over its neighbours and so blurs every star by the
/// sampling of its colour plane (measured: a stack of bilinear-demosaiced frames is ~5 % wider in FWHM
/// than Siril's). MHC adds a fixed fraction of the *own* colour's Laplacian (the local curvature the
/// pixel itself measures at full resolution) to the bilinear estimate, with the 5x5 kernels of the
/// paper (weights / 8):
/// - G at an R or B site: 4 c + 2 (G at distance 1) - (c at distance 2);
/// - R (B) at a G site whose row holds R (B): 5 c + 4 (row neighbours) - (row pixels at 2) - (4 diagonals)
///   + 1/2 (column pixels at 2); the transposed kernel when its column holds the colour;
/// - B at R (R at B): 6 c + 2 (4 diagonals) - 3/2 (the 4 pixels at distance 2).
/// Every kernel sums to 1 (a flat field stays flat) and is exact on linear ramps. It is linear, so noise
/// stays Gaussian. Pixels within 2 px of the border, whose 5x5 support leaves the image, take the
/// bilinear values (`debayerBilinear`). Deterministic.
/// - Throws: `CFAError.notMono` for a multi-plane image.
public func debayerMHC(_ mosaic: Image, pattern: BayerPattern) throws -> Image {
    var out = try debayerBilinear(mosaic, pattern: pattern)
    let w = mosaic.width, h = mosaic.height, n = w * h
    guard w >= 5, h >= 5 else { return out }
    let sites = pattern.siteColors.map { $0.rawValue }
    func color(_ x: Int, _ y: Int) -> Int { (y & 1) == 0 ? ((x & 1) == 0 ? sites[0] : sites[1]) : ((x & 1) == 0 ? sites[2] : sites[3]) }
    mosaic.pixels.withUnsafeBufferPointer { p in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for y in 2..<(h - 2) {
                for x in 2..<(w - 2) {
                    let i = y * w + x
                    let c = p[i]
                    let n1 = p[i - w], s1 = p[i + w], w1 = p[i - 1], e1 = p[i + 1]
                    let n2 = p[i - 2 * w], s2 = p[i + 2 * w], w2 = p[i - 2], e2 = p[i + 2]
                    let diag = p[i - w - 1] + p[i - w + 1] + p[i + w - 1] + p[i + w + 1]
                    let own = color(x, y)
                    if own == 1 {
                        // Green site: the row neighbours carry one colour, the column neighbours the other.
                        let rowValue = (5 * c + 4 * (w1 + e1) - (w2 + e2) - diag + 0.5 * (n2 + s2)) / 8
                        let colValue = (5 * c + 4 * (n1 + s1) - (n2 + s2) - diag + 0.5 * (w2 + e2)) / 8
                        let rowColor = color(x + 1, y)
                        dst[rowColor * n + i] = rowValue
                        dst[(2 - rowColor) * n + i] = colValue
                    } else {
                        // Red or blue site: green from the 4 orthogonal greens, the other chroma from the diagonals.
                        dst[n + i] = (4 * c + 2 * (n1 + s1 + w1 + e1) - (n2 + s2 + w2 + e2)) / 8
                        dst[(2 - own) * n + i] = (6 * c + 2 * diag - 1.5 * (n2 + s2 + w2 + e2)) / 8
                    }
                }
            }
        }
    }
    return out
}
