import Foundation
import Testing
@testable import Imaging

@Suite("CFA / Bayer")
struct CFATests {
    /// A mosaic whose every pixel value is distinct (so any misplaced pixel is caught).
    private func distinctMosaic(width: Int, height: Int) -> Image {
        var img = Image(width: width, height: height)
        for i in img.pixels.indices { img.pixels[i] = Float(i) * 1.25 + 0.5 }
        return img
    }

    @Test("BAYERPAT parsing accepts FITS-style values and rejects others")
    func parsing() throws {
        #expect(try BayerPattern(bayerpat: "RGGB") == .rggb)
        #expect(try BayerPattern(bayerpat: "'bggr    '") == .bggr)
        #expect(try BayerPattern(bayerpat: " GRBG") == .grbg)
        #expect(try BayerPattern(bayerpat: "gbrg") == .gbrg)
        #expect(throws: CFAError.unknownPattern("RGBG")) { try BayerPattern(bayerpat: "RGBG") }
        #expect(throws: CFAError.self) { try BayerPattern(bayerpat: "") }
        #expect(CFAError.unknownPattern("XYZ").description.contains("XYZ"))
    }

    @Test("site colours follow the pattern name in reading order")
    func siteColors() {
        #expect(BayerPattern.rggb.color(x: 0, y: 0) == .red && BayerPattern.rggb.color(x: 1, y: 1) == .blue)
        #expect(BayerPattern.grbg.color(x: 1, y: 0) == .red && BayerPattern.grbg.color(x: 0, y: 1) == .blue)
        #expect(BayerPattern.gbrg.color(x: 2, y: 1) == .red && BayerPattern.bggr.color(x: 3, y: 3) == .red)
    }

    @Test("XBAYROFF/YBAYROFF shift the pattern: colour(x, y) = base colour(x + xoff, y + yoff)")
    func offsets() throws {
        #expect(try BayerPattern(bayerpat: "RGGB", xOffset: 1, yOffset: 0) == .grbg)
        #expect(try BayerPattern(bayerpat: "RGGB", xOffset: 0, yOffset: 1) == .gbrg)
        #expect(try BayerPattern(bayerpat: "RGGB", xOffset: 1, yOffset: 1) == .bggr)
        #expect(try BayerPattern(bayerpat: "RGGB", xOffset: 2, yOffset: -2) == .rggb)
        for p in BayerPattern.allCases {
            for (ox, oy) in [(0, 0), (1, 0), (0, 1), (1, 1), (-1, 3)] {
                let s = p.shifted(xOffset: ox, yOffset: oy)
                for y in 0..<4 { for x in 0..<4 { #expect(s.color(x: x, y: y) == p.color(x: x + ox + 4, y: y + oy + 4)) } }
            }
            #expect(p.flippedVertically(height: 100).color(x: 0, y: 0) == p.color(x: 0, y: 99))
            #expect(p.flippedVertically(height: 101) == p)
        }
    }

    @Test("split then merge is bit-exact for every pattern and offset, even and odd sizes")
    func splitMergeRoundTrip() throws {
        for (w, h) in [(16, 12), (15, 11), (1, 1), (2, 7)] {
            let mosaic = distinctMosaic(width: w, height: h)
            for base in BayerPattern.allCases {
                for (ox, oy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let pattern = base.shifted(xOffset: ox, yOffset: oy)
                    let planes = try splitCFA(mosaic, pattern: pattern)
                    #expect(planes.red.width == (w + 1) / 2 && planes.red.height == (h + 1) / 2)
                    let back = try mergeCFA(planes)
                    #expect(back.pixels == mosaic.pixels, "\(w)x\(h) \(pattern)")
                }
            }
        }
    }

    @Test("split puts each colour's sites into its plane")
    func splitContents() throws {
        let mosaic = distinctMosaic(width: 8, height: 6)
        let planes = try splitCFA(mosaic, pattern: .grbg)
        // GRBG: red at (1,0), green1 (red row) at (0,0), green2 at (1,1), blue at (0,1).
        #expect(planes.red[2, 1] == mosaic[5, 2])
        #expect(planes.green1[2, 1] == mosaic[4, 2])
        #expect(planes.green2[2, 1] == mosaic[5, 3])
        #expect(planes.blue[2, 1] == mosaic[4, 3])
        // Odd sizes pad with NaN.
        let odd = try splitCFA(distinctMosaic(width: 5, height: 3), pattern: .rggb)
        #expect(odd.blue[2, 0].isNaN && odd.blue[2, 1].isNaN && !odd.red[2, 1].isNaN)
    }

    @Test("merge rejects planes of the wrong size and split rejects multi-plane images")
    func errors() throws {
        var planes = try splitCFA(distinctMosaic(width: 8, height: 8), pattern: .rggb)
        planes.blue = Image(width: 3, height: 4)
        #expect(throws: CFAError.self) { try mergeCFA(planes) }
        #expect(throws: CFAError.notMono(channels: 3)) { try splitCFA(Image(width: 4, height: 4, channels: 3), pattern: .rggb) }
    }

    @Test("bilinear debayer of a flat field is exactly flat in every channel, borders included",
          arguments: BayerPattern.allCases)
    func debayerFlat(pattern: BayerPattern) throws {
        let rgb = try debayerBilinear(Image(width: 13, height: 10, fill: 1234.5), pattern: pattern)
        #expect(rgb.channels == 3 && rgb.width == 13 && rgb.height == 10)
        #expect(rgb.pixels.allSatisfy { abs($0 - 1234.5) <= 1e-6 })
    }

    @Test("bilinear debayer keeps native sites and interpolates a colour-flat scene per channel")
    func debayerColors() throws {
        // Scene: R = 100, G = 200, B = 50 everywhere, sampled through RGGB.
        var mosaic = Image(width: 12, height: 8)
        let values: [CFAColor: Float] = [.red: 100, .green: 200, .blue: 50]
        for y in 0..<8 { for x in 0..<12 { mosaic[x, y] = values[BayerPattern.rggb.color(x: x, y: y)]! } }
        let rgb = try debayerBilinear(mosaic, pattern: .rggb)
        for y in 0..<8 {
            for x in 0..<12 {
                #expect(rgb[x, y, 0] == 100 && rgb[x, y, 1] == 200 && rgb[x, y, 2] == 50)
            }
        }
        // A horizontal ramp in green is interpolated linearly at red/blue sites in the interior.
        var ramp = Image(width: 12, height: 8)
        for y in 0..<8 { for x in 0..<12 { ramp[x, y] = Float(10 * x) } }
        let r2 = try debayerBilinear(ramp, pattern: .rggb)
        #expect(r2[4, 4, 1] == 40 && r2[5, 5, 1] == 50) // R site (4,4) and B site (5,5)
    }

    @Test("MHC debayer: flat stays flat, colour-flat scenes and linear ramps are exact, a grey star is sharper than bilinear",
          arguments: BayerPattern.allCases)
    func debayerMHCQuality(pattern: BayerPattern) throws {
        let flat = try debayerMHC(Image(width: 13, height: 10, fill: 1234.5), pattern: pattern)
        #expect(flat.pixels.allSatisfy { abs($0 - 1234.5) <= 1e-3 })
        // A scene with R = 100 + x, G = 200 + 2y, B = 50 + x + y: every channel linear.
        var mosaic = Image(width: 16, height: 12)
        func truth(_ x: Int, _ y: Int, _ c: CFAColor) -> Float {
            switch c { case .red: return 100 + Float(x); case .green: return 200 + 2 * Float(y); case .blue: return 50 + Float(x + y) }
        }
        for y in 0..<12 { for x in 0..<16 { mosaic[x, y] = truth(x, y, pattern.color(x: x, y: y)) } }
        let rgb = try debayerMHC(mosaic, pattern: pattern)
        for y in 2..<10 {
            for x in 2..<14 {
                for (k, c) in [CFAColor.red, .green, .blue].enumerated() {
                    // Each kernel's weights on every colour's sites sum to 1 for the colour it estimates and
                    // to 0 for the others, symmetrically: exact on linear channels, whatever their gradients.
                    #expect(abs(rgb[x, y, k] - truth(x, y, c)) <= 1e-3, "(\(x),\(y)) \(c): \(rgb[x, y, k]) vs \(truth(x, y, c))")
                }
            }
        }
        // A grey Gaussian star (FWHM 2.2 px) sampled through the mosaic: MHC's error against the true grey
        // image is well below bilinear's.
        var star = Image(width: 24, height: 24), grey = Image(width: 24, height: 24)
        let s = 2.2 / 2.3548
        for y in 0..<24 { for x in 0..<24 {
            let r2 = (Double(x) - 11.3) * (Double(x) - 11.3) + (Double(y) - 12.6) * (Double(y) - 12.6)
            let v = Float(100 + 1000 * exp(-r2 / (2 * s * s)))
            star[x, y] = v; grey[x, y] = v
        } }
        func error(_ im: Image) -> Double {
            var e = 0.0
            for c in 0..<3 { for y in 4..<20 { for x in 4..<20 { let d = Double(im[x, y, c] - grey[x, y]); e += d * d } } }
            return e.squareRoot()
        }
        let mhc = error(try debayerMHC(star, pattern: pattern)), bilinear = error(try debayerBilinear(star, pattern: pattern))
        #expect(mhc < 0.6 * bilinear, "MHC \(mhc) vs bilinear \(bilinear)")
    }

    @Test("luminance and green proxies average the right sites")
    func proxies() throws {
        let mosaic = distinctMosaic(width: 7, height: 6)
        let lum = try cfaLuminance(mosaic)
        #expect(lum.width == 3 && lum.height == 3)
        let expected = (mosaic[2, 2] + mosaic[3, 2] + mosaic[2, 3] + mosaic[3, 3]) / 4
        #expect(abs(lum[1, 1] - expected) < 1e-4)
        let green = try cfaGreen(mosaic, pattern: .gbrg) // greens at (0,0) and (1,1)
        #expect(abs(green[1, 1] - (mosaic[2, 2] + mosaic[3, 3]) / 2) < 1e-4)
    }
}
