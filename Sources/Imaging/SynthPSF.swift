import Foundation

/// The synthetic optics: an elliptical Moffat PSF whose FWHM is the seeing at the field centre and
/// grows toward the corners, with radially oriented ellipticity.
///
/// Guarantees: `shape(atX:y:seeing:)` is the exact shape `render` integrates, so FWHM and
/// ellipticity truth are exact up to pixel integration (done by oversampling near the core).
public struct SynthPSFModel: Sendable, Equatable {
    /// Sensor width, px.
    public let width: Int
    /// Sensor height, px.
    public let height: Int
    /// Moffat beta.
    public let beta: Double
    /// Relative FWHM growth at the corner.
    public let fieldCurvature: Double
    /// Ellipticity (1 - b/a) at the corner.
    public let cornerEllipticity: Double

    /// The PSF shape at one sensor position.
    public struct Shape: Sendable, Equatable {
        /// Geometric-mean FWHM, sqrt(FWHM_major * FWHM_minor), px.
        public var fwhm: Double
        /// 1 - minor/major.
        public var ellipticity: Double
        /// Direction of the major axis, radians from +x toward +y.
        public var angle: Double
    }

    /// A model for a `width` x `height` sensor.
    public init(width: Int, height: Int, beta: Double, fieldCurvature: Double, cornerEllipticity: Double) {
        self.width = width
        self.height = height
        self.beta = beta
        self.fieldCurvature = fieldCurvature
        self.cornerEllipticity = cornerEllipticity
    }

    /// The shape at sensor position (x, y) for a frame whose centre FWHM is `seeing`.
    public func shape(atX x: Double, y: Double, seeing: Double) -> Shape {
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let dx = x - cx, dy = y - cy
        let rho2 = (dx * dx + dy * dy) / (cx * cx + cy * cy)
        let rho2c = min(rho2, 1.5)
        return Shape(fwhm: seeing * (1 + fieldCurvature * rho2c),
                     ellipticity: cornerEllipticity * min(rho2c, 1),
                     angle: (dx == 0 && dy == 0) ? 0 : atan2(dy, dx))
    }

    /// Moffat alpha for a FWHM: FWHM = 2 * alpha * sqrt(2^(1/beta) - 1).
    public func alpha(forFWHM fwhm: Double) -> Double {
        fwhm / (2 * (pow(2, 1 / beta) - 1).squareRoot())
    }

    /// The normalized PSF density at offset (dx, dy) from the star centre (integrates to 1 over the plane).
    public func density(dx: Double, dy: Double, shape: Shape) -> Double {
        let k = Kernel(model: self, shape: shape)
        return k.norm * k.profile(dx, dy)
    }

    /// Precomputed quadratic form and normalization of one star's PSF.
    struct Kernel {
        let qa: Double, qb: Double, qc: Double
        let norm: Double
        let beta: Double
        let betaIsThree: Bool
        let majorAlpha: Double

        init(model: SynthPSFModel, shape: Shape) {
            let alpha = model.alpha(forFWHM: shape.fwhm)
            let root = (1 - shape.ellipticity).squareRoot()
            let a = alpha / root, b = alpha * root
            let c = cos(shape.angle), s = sin(shape.angle)
            let ia2 = 1 / (a * a), ib2 = 1 / (b * b)
            qa = c * c * ia2 + s * s * ib2
            qc = s * s * ia2 + c * c * ib2
            qb = 2 * c * s * (ia2 - ib2)
            norm = (model.beta - 1) / (Double.pi * a * b)
            beta = model.beta
            betaIsThree = model.beta == 3
            majorAlpha = a
        }

        /// (1 + q)^-beta without the normalization.
        @inline(__always) func profile(_ dx: Double, _ dy: Double) -> Double {
            let t = 1 + qa * dx * dx + qb * dx * dy + qc * dy * dy
            if betaIsThree { return 1 / (t * t * t) }
            return pow(t, -beta)
        }
    }

    /// Adds one star of total `flux` at sensor position (x, y) to a plane of `width` x `height`.
    ///
    /// When `siteGain` is given the plane is a Bayer mosaic and each pixel's contribution is
    /// multiplied by `siteGain[(row & 1) * 2 + (col & 1)]`. Pixels within 2.5 major-axis FWHM of
    /// the centre are integrated with `oversampling`^2 subsamples, the rest sampled at their centre;
    /// the star is cut where its profile falls below 0.05 ADU.
    func render(into plane: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                x: Double, y: Double, flux: Double, shape: Shape, oversampling: Int,
                siteGain: (Double, Double, Double, Double)? = nil) {
        guard flux > 0 else { return }
        let k = Kernel(model: self, shape: shape)
        let peak = flux * k.norm
        let threshold = 0.05
        var radius = 3 * k.majorAlpha
        if peak > threshold {
            radius = max(radius, k.majorAlpha * (pow(peak / threshold, 1 / beta) - 1).squareRoot())
        }
        radius = min(radius, 120)
        let x0 = max(0, Int((x - radius).rounded(.down))), x1 = min(width - 1, Int((x + radius).rounded(.up)))
        let y0 = max(0, Int((y - radius).rounded(.down))), y1 = min(height - 1, Int((y + radius).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let core = 2.5 * shape.fwhm / (1 - shape.ellipticity).squareRoot()
        let core2 = core * core
        let n = max(1, oversampling)
        let step = 1.0 / Double(n)
        let sub0 = -0.5 + step / 2
        let subWeight = 1.0 / Double(n * n)
        let r2max = radius * radius
        let g = siteGain ?? (1, 1, 1, 1)
        for py in y0...y1 {
            let dy = Double(py) - y
            let rowBase = py * width
            // Site gains of this row's even and odd columns (R G / G B for RGGB).
            let evenGain = (py & 1) == 0 ? peak * g.0 : peak * g.2
            let oddGain = (py & 1) == 0 ? peak * g.1 : peak * g.3
            for px in x0...x1 {
                let dx = Double(px) - x
                let d2 = dx * dx + dy * dy
                if d2 > r2max { continue }
                var v: Double
                if d2 < core2 && n > 1 {
                    v = 0
                    var sy = dy + sub0
                    for _ in 0..<n {
                        var sx = dx + sub0
                        for _ in 0..<n {
                            v += k.profile(sx, sy)
                            sx += step
                        }
                        sy += step
                    }
                    v *= subWeight
                } else {
                    v = k.profile(dx, dy)
                }
                let add: Double = v * ((px & 1) == 0 ? evenGain : oddGain)
                plane[rowBase + px] += Float(add)
            }
        }
    }
}
