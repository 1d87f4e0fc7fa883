import Foundation

/// A CFA mosaic split into its four half-resolution sub-planes.
///
/// Plane pixel (i, j) is mosaic pixel (2i + sx, 2j + sy) where (sx, sy) is that colour's site in
/// the 2x2 cell of `pattern`. `green1` is the green in the red row, `green2` the green in the blue
/// row. Every plane is `ceil(mosaicWidth / 2) x ceil(mosaicHeight / 2)`; for odd mosaic sizes the
/// cells that fall outside the mosaic are NaN. Plane pixel (i, j) is centred on mosaic coordinate
/// (2i + sx, 2j + sy).
public struct CFAPlanes: Sendable {
    /// The pattern (offsets already applied) the mosaic was split with.
    public var pattern: BayerPattern
    /// Width of the original mosaic.
    public var mosaicWidth: Int
    /// Height of the original mosaic.
    public var mosaicHeight: Int
    /// Red sites.
    public var red: Image
    /// Green sites in the red rows.
    public var green1: Image
    /// Green sites in the blue rows.
    public var green2: Image
    /// Blue sites.
    public var blue: Image

    /// Site (x, y) inside the 2x2 cell of planes red, green1, green2, blue (in that order).
    var sites: [(x: Int, y: Int)] {
        let r = pattern.redSite
        return [(r.x, r.y), (1 - r.x, r.y), (r.x, 1 - r.y), (1 - r.x, 1 - r.y)]
    }
}

/// Splits a mono CFA mosaic into R, G1, G2, B half-resolution planes (exactly invertible by `mergeCFA`).
/// - Throws: `CFAError.notMono` for a multi-plane image.
public func splitCFA(_ mosaic: Image, pattern: BayerPattern) throws -> CFAPlanes {
    guard mosaic.channels == 1 else { throw CFAError.notMono(channels: mosaic.channels) }
    let w = mosaic.width, h = mosaic.height
    let hw = (w + 1) / 2, hh = (h + 1) / 2
    var result = CFAPlanes(pattern: pattern, mosaicWidth: w, mosaicHeight: h,
                           red: Image(width: hw, height: hh), green1: Image(width: hw, height: hh),
                           green2: Image(width: hw, height: hh), blue: Image(width: hw, height: hh))
    let sites = result.sites
    var planes = [[Float]](repeating: [], count: 4)
    mosaic.pixels.withUnsafeBufferPointer { src in
        for k in 0..<4 {
            var plane = [Float](repeating: .nan, count: hw * hh)
            let (sx, sy) = sites[k]
            plane.withUnsafeMutableBufferPointer { dst in
                for j in 0..<hh {
                    let y = 2 * j + sy
                    guard y < h else { continue }
                    let srcRow = y * w, dstRow = j * hw
                    var i = 0
                    while i < hw, 2 * i + sx < w {
                        dst[dstRow + i] = src[srcRow + 2 * i + sx]
                        i += 1
                    }
                }
            }
            planes[k] = plane
        }
    }
    result.red.pixels = planes[0]
    result.green1.pixels = planes[1]
    result.green2.pixels = planes[2]
    result.blue.pixels = planes[3]
    return result
}

/// Reassembles the mosaic from `splitCFA`'s planes: bit-identical to the original mosaic
/// (values outside the mosaic, NaN padding for odd sizes, are ignored).
/// - Throws: `CFAError.planeSizeMismatch` if a plane is not `ceil(W/2) x ceil(H/2)` or not mono.
public func mergeCFA(_ planes: CFAPlanes) throws -> Image {
    let w = planes.mosaicWidth, h = planes.mosaicHeight
    let hw = (w + 1) / 2, hh = (h + 1) / 2
    let list = [planes.red, planes.green1, planes.green2, planes.blue]
    for p in list where p.width != hw || p.height != hh || p.channels != 1 {
        throw CFAError.planeSizeMismatch(expected: "\(hw)x\(hh)x1", got: "\(p.width)x\(p.height)x\(p.channels)")
    }
    var out = [Float](repeating: 0, count: w * h)
    let sites = planes.sites
    out.withUnsafeMutableBufferPointer { dst in
        for k in 0..<4 {
            let (sx, sy) = sites[k]
            list[k].pixels.withUnsafeBufferPointer { src in
                for j in 0..<hh {
                    let y = 2 * j + sy
                    guard y < h else { continue }
                    var i = 0
                    while i < hw, 2 * i + sx < w {
                        dst[y * w + 2 * i + sx] = src[j * hw + i]
                        i += 1
                    }
                }
            }
        }
    }
    return Image(width: w, height: h, pixels: out)
}

/// Half-resolution luminance proxy for star detection on OSC data: the mean of each complete 2x2
/// cell, `(R + G1 + G2 + B) / 4`, size `floor(W/2) x floor(H/2)`. Independent of the pattern.
/// Pixel (i, j) is centred on mosaic coordinate (2i + 0.5, 2j + 0.5): multiply positions by 2 and
/// add 0.5 to go back to the mosaic.
/// - Throws: `CFAError.notMono` for a multi-plane image.
public func cfaLuminance(_ mosaic: Image) throws -> Image {
    try cfaCellAverage(mosaic, pattern: nil)
}

/// Half-resolution green proxy: `(G1 + G2) / 2` per complete 2x2 cell, same geometry as `cfaLuminance`.
/// - Throws: `CFAError.notMono` for a multi-plane image.
public func cfaGreen(_ mosaic: Image, pattern: BayerPattern) throws -> Image {
    try cfaCellAverage(mosaic, pattern: pattern)
}

/// Averages each complete 2x2 cell: all four sites (pattern nil) or the two green sites.
private func cfaCellAverage(_ mosaic: Image, pattern: BayerPattern?) throws -> Image {
    guard mosaic.channels == 1 else { throw CFAError.notMono(channels: mosaic.channels) }
    let w = mosaic.width, h = mosaic.height
    let hw = w / 2, hh = h / 2
    guard hw > 0, hh > 0 else { return Image(width: 1, height: 1, fill: .nan) }
    var weights: [Float] = [0.25, 0.25, 0.25, 0.25]
    if let p = pattern { weights = p.siteColors.map { $0 == .green ? 0.5 : 0 } }
    let (w00, w10, w01, w11) = (weights[0], weights[1], weights[2], weights[3])
    var out = [Float](repeating: 0, count: hw * hh)
    mosaic.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for j in 0..<hh {
                let r0 = 2 * j * w, r1 = r0 + w
                for i in 0..<hw {
                    let x = 2 * i
                    var v: Float = 0
                    if w00 != 0 { v += w00 * src[r0 + x] }
                    if w10 != 0 { v += w10 * src[r0 + x + 1] }
                    if w01 != 0 { v += w01 * src[r1 + x] }
                    if w11 != 0 { v += w11 * src[r1 + x + 1] }
                    dst[j * hw + i] = v
                }
            }
        }
    }
    return Image(width: hw, height: hh, pixels: out)
}
