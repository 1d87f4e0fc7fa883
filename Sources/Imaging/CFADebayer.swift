import Foundation

/// Bilinear demosaic of a mono CFA mosaic into a full-resolution 3-plane RGB image (planes R, G, B).
///
/// Each output colour at a pixel is the pixel itself when it carries that colour, else the mean of
/// the same-colour pixels in its 3x3 neighbourhood (for a Bayer pattern that is exactly classic
/// bilinear: 4 orthogonal greens at R/B sites, 2 or 4 red/blue neighbours elsewhere). At the image
/// border only in-frame neighbours are averaged, so a flat field stays exactly flat everywhere.
/// - Throws: `CFAError.notMono` for a multi-plane image.
public func debayerBilinear(_ mosaic: Image, pattern: BayerPattern) throws -> Image {
    guard mosaic.channels == 1 else { throw CFAError.notMono(channels: mosaic.channels) }
    let w = mosaic.width, h = mosaic.height, n = w * h
    let sites = pattern.siteColors.map { $0.rawValue }
    let s00 = sites[0], s10 = sites[1], s01 = sites[2], s11 = sites[3]
    var out = [Float](repeating: 0, count: 3 * n)
    mosaic.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<h {
                let y0 = max(0, y - 1), y1 = min(h - 1, y + 1)
                for x in 0..<w {
                    let x0 = max(0, x - 1), x1 = min(w - 1, x + 1)
                    let own = (y & 1) == 0 ? ((x & 1) == 0 ? s00 : s10) : ((x & 1) == 0 ? s01 : s11)
                    var sum: (Float, Float, Float) = (0, 0, 0)
                    var cnt: (Int, Int, Int) = (0, 0, 0)
                    for yy in y0...y1 {
                        let row = yy * w
                        let even = (yy & 1) == 0
                        for xx in x0...x1 {
                            let c = even ? ((xx & 1) == 0 ? s00 : s10) : ((xx & 1) == 0 ? s01 : s11)
                            let v = src[row + xx]
                            switch c {
                            case 0: sum.0 += v; cnt.0 += 1
                            case 1: sum.1 += v; cnt.1 += 1
                            default: sum.2 += v; cnt.2 += 1
                            }
                        }
                    }
                    let i = y * w + x
                    let v = src[i]
                    dst[i] = own == 0 ? v : (cnt.0 > 0 ? sum.0 / Float(cnt.0) : .nan)
                    dst[n + i] = own == 1 ? v : (cnt.1 > 0 ? sum.1 / Float(cnt.1) : .nan)
                    dst[2 * n + i] = own == 2 ? v : (cnt.2 > 0 ? sum.2 / Float(cnt.2) : .nan)
                }
            }
        }
    }
    return Image(width: w, height: h, channels: 3, pixels: out)
}
