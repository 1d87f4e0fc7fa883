import Foundation
import Testing
@testable import Imaging

@Suite("Synthetic series: PSF model")
struct SynthPSFTests {
    @Test("FWHM grows and stars elongate radially toward the corners")
    func fieldDependence() throws {
        let s = try SynthSeries(SynthConfig(width: 320, height: 240, frames: 2))
        let centre = s.psf.shape(atX: 159.5, y: 119.5, seeing: 3)
        let corner = s.psf.shape(atX: 0, y: 0, seeing: 3)
        #expect(centre.fwhm == 3 && centre.ellipticity == 0)
        #expect(abs(corner.fwhm - 3 * 1.3) < 1e-9)
        #expect(abs(corner.ellipticity - 0.25) < 1e-9)
        // Render one star at a corner-ish position and measure its axis ratio with moments.
        var plane = [Float](repeating: 0, count: 101 * 101)
        let shape = SynthPSFModel.Shape(fwhm: 4, ellipticity: 0.25, angle: Double.pi / 4)
        plane.withUnsafeMutableBufferPointer {
            s.psf.render(into: $0, width: 101, height: 101, x: 50.3, y: 49.8, flux: 1e6, shape: shape, oversampling: 5)
        }
        var sw = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0, total = 0.0
        for y in 0..<101 {
            for x in 0..<101 {
                let v = Double(plane[y * 101 + x]); total += v
                let dx = Double(x) - 50.3, dy = Double(y) - 49.8
                if dx * dx + dy * dy > 400 { continue }
                sw += v; sxx += v * dx * dx; syy += v * dy * dy; sxy += v * dx * dy
            }
        }
        #expect(abs(total / 1e6 - 1) < 0.01, "flux is conserved: \(total)")
        sxx /= sw; syy /= sw; sxy /= sw
        let tr = sxx + syy, det = sxx * syy - sxy * sxy
        let l1 = tr / 2 + (tr * tr / 4 - det).squareRoot(), l2 = tr / 2 - (tr * tr / 4 - det).squareRoot()
        let axisRatio = (l2 / l1).squareRoot()
        #expect(abs(axisRatio - 0.75) < 0.04, "axis ratio \(axisRatio)")
        let angle = 0.5 * atan2(2 * sxy, sxx - syy)
        #expect(abs(angle - Double.pi / 4) < 0.03, "major axis angle \(angle)")
    }

    @Test("Moffat alpha reproduces the FWHM: the density at FWHM/2 is half the peak")
    func alphaFromFWHM() {
        let m = SynthPSFModel(width: 100, height: 100, beta: 3, fieldCurvature: 0, cornerEllipticity: 0)
        for fwhm in [2.2, 3.1, 4.5] {
            let shape = m.shape(atX: 49.5, y: 49.5, seeing: fwhm)
            let peak = m.density(dx: 0, dy: 0, shape: shape)
            #expect(abs(m.density(dx: fwhm / 2, dy: 0, shape: shape) / peak - 0.5) < 1e-12)
            #expect(abs(m.density(dx: 0, dy: fwhm / 2, shape: shape) / peak - 0.5) < 1e-12)
        }
    }
}
