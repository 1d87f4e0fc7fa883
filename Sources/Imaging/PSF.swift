import Foundation

/// The analytic star profile a fit uses.
///
/// Both models are elliptical and point-sampled at pixel centres (no pixel integration): the fitted
/// width is therefore the width of the star *as sampled*, pixel response included, which is what
/// Siril's and PixInsight's PSF tools report too.
public enum PSFModel: Sendable, Codable, Equatable, Hashable {
    /// `B + A * exp(-Q/2)`, `Q = (u/sigmaMajor)^2 + (v/sigmaMinor)^2`.
    case gaussian
    /// `B + A * (1 + Q)^(-beta)`, `Q = (u/alphaMajor)^2 + (v/alphaMinor)^2`.
    /// `beta == nil` fits beta as a free parameter (bounded to [1.05, 15], start 2.5);
    /// a value fixes it (e.g. 4.765 for Trujillo's turbulence-theory profile). On undersampled stars
    /// (FWHM <~ 2.5 px) beta and alpha trade off, so a free-beta FWHM scatters more (worst of 20
    /// realisations 5.1 % at FWHM 2, peak SNR 50, vs 2.4 % with beta fixed): fix beta there.
    case moffat(beta: Double?)
}

/// Parameters of one fitted (or rendered) elliptical star profile, in image pixel units.
///
/// Coordinates are 0-based with integer values at pixel centres: pixel (0,0) covers
/// [-0.5, 0.5] x [-0.5, 0.5]. `u` runs along the major axis at `angle`, `v` along the minor axis.
public struct PSFParameters: Sendable, Codable, Equatable {
    /// Which profile the widths belong to.
    public var model: PSFModel
    /// Local sky level under the star (same units as the image).
    public var background: Double
    /// Peak height above `background` at the centre.
    public var amplitude: Double
    /// Centre column (0-based pixel centres).
    public var x0: Double
    /// Centre row (0-based pixel centres).
    public var y0: Double
    /// Gaussian sigma or Moffat alpha along the major axis (>= `widthMinor`).
    public var widthMajor: Double
    /// Gaussian sigma or Moffat alpha along the minor axis.
    public var widthMinor: Double
    /// Angle of the major axis in radians, measured from +x towards +y, in (-pi/2, pi/2].
    public var angle: Double
    /// Moffat beta (the fixed or fitted value); 0 for the Gaussian.
    public var beta: Double

    /// Parameters as given; `widthMajor`/`widthMinor` are swapped (and the angle turned by 90 degrees)
    /// if given in the wrong order, so `widthMajor >= widthMinor` always holds.
    public init(model: PSFModel, background: Double, amplitude: Double, x0: Double, y0: Double,
                widthMajor: Double, widthMinor: Double, angle: Double, beta: Double = 0) {
        self.model = model
        self.background = background
        self.amplitude = amplitude
        self.x0 = x0
        self.y0 = y0
        if widthMinor > widthMajor {
            self.widthMajor = widthMinor
            self.widthMinor = widthMajor
            self.angle = PSFParameters.normalizedAngle(angle + .pi / 2)
        } else {
            self.widthMajor = widthMajor
            self.widthMinor = widthMinor
            self.angle = PSFParameters.normalizedAngle(angle)
        }
        if case .moffat(let fixed?) = model { self.beta = fixed } else { self.beta = beta }
    }

    /// Full width at half maximum along the major axis, in pixels.
    public var fwhmMajor: Double { Self.fwhm(width: widthMajor, model: model, beta: beta) }
    /// Full width at half maximum along the minor axis, in pixels.
    public var fwhmMinor: Double { Self.fwhm(width: widthMinor, model: model, beta: beta) }
    /// Geometric mean of the major and minor FWHM.
    public var fwhm: Double { (fwhmMajor * fwhmMinor).squareRoot() }

    /// Integrated flux above background (analytic integral of the profile over the plane);
    /// infinite for a Moffat profile with beta <= 1.
    public var flux: Double {
        switch model {
        case .gaussian: return 2 * .pi * amplitude * widthMajor * widthMinor
        case .moffat:
            return beta > 1 ? .pi * amplitude * widthMajor * widthMinor / (beta - 1) : .infinity
        }
    }

    /// The profile value (background included) at pixel-centre coordinates (x, y).
    public func value(x: Double, y: Double) -> Double {
        let dx = x - x0, dy = y - y0
        let c = cos(angle), s = sin(angle)
        let u = (dx * c + dy * s) / widthMajor
        let v = (-dx * s + dy * c) / widthMinor
        let q = u * u + v * v
        switch model {
        case .gaussian: return background + amplitude * exp(-0.5 * q)
        case .moffat: return background + amplitude * pow(1 + q, -beta)
        }
    }

    /// FWHM from a Gaussian sigma (`2 sqrt(2 ln 2) sigma`) or Moffat alpha (`2 alpha sqrt(2^(1/beta) - 1)`).
    public static func fwhm(width: Double, model: PSFModel, beta: Double) -> Double {
        switch model {
        case .gaussian: return 2 * (2 * log(2.0)).squareRoot() * width
        case .moffat: return 2 * width * (pow(2, 1 / beta) - 1).squareRoot()
        }
    }

    /// Gaussian sigma or Moffat alpha that gives `fwhm`; inverse of `fwhm(width:model:beta:)`.
    public static func width(fwhm: Double, model: PSFModel, beta: Double) -> Double {
        switch model {
        case .gaussian: return fwhm / (2 * (2 * log(2.0)).squareRoot())
        case .moffat: return fwhm / (2 * (pow(2, 1 / beta) - 1).squareRoot())
        }
    }

    /// `angle` folded into (-pi/2, pi/2] (an axis has no sign).
    static func normalizedAngle(_ a: Double) -> Double {
        var t = a.truncatingRemainder(dividingBy: .pi)
        if t <= -.pi / 2 { t += .pi }
        if t > .pi / 2 { t -= .pi }
        return t
    }

    /// Quadratic-form coefficients (a, b, c) with `Q = a dx^2 + 2 b dx dy + c dy^2`.
    var quadraticForm: (a: Double, b: Double, c: Double) {
        let cs = cos(angle), sn = sin(angle)
        let iM = 1 / (widthMajor * widthMajor), im = 1 / (widthMinor * widthMinor)
        return (cs * cs * iM + sn * sn * im, cs * sn * (iM - im), sn * sn * iM + cs * cs * im)
    }

    /// Parameters from the quadratic form used inside the fit; nil if the form is not positive definite.
    static func fromQuadraticForm(model: PSFModel, background: Double, amplitude: Double, x0: Double, y0: Double,
                                  a: Double, b: Double, c: Double, beta: Double) -> PSFParameters? {
        let mean = (a + c) / 2
        let d = (((a - c) / 2) * ((a - c) / 2) + b * b).squareRoot()
        let large = mean + d, small = mean - d
        guard small > 0, large.isFinite else { return nil }
        // 0.5 * atan2(2b, a - c) is the axis of the largest eigenvalue (the minor axis of the star).
        let minorAxis = 0.5 * atan2(2 * b, a - c)
        return PSFParameters(model: model, background: background, amplitude: amplitude, x0: x0, y0: y0,
                             widthMajor: 1 / small.squareRoot(), widthMinor: 1 / large.squareRoot(),
                             angle: minorAxis + .pi / 2, beta: beta)
    }
}

/// What tcbuild measures on one star. All positions are 0-based pixel-centre coordinates of the
/// plane the star was measured on; all widths are in pixels.
public struct StarMeasurement: Sendable, Codable, Equatable {
    /// Centre column from the PSF fit (0-based, integer = pixel centre).
    public var x: Double
    /// Centre row from the PSF fit (0-based, integer = pixel centre).
    public var y: Double
    /// Integrated model flux above background (see `PSFParameters.flux`).
    public var flux: Double
    /// Fitted peak height above the local background.
    public var peak: Double
    /// Fitted local background level.
    public var background: Double
    /// Geometric mean of `fwhmMajor` and `fwhmMinor`.
    public var fwhm: Double
    /// FWHM along the major axis.
    public var fwhmMajor: Double
    /// FWHM along the minor axis.
    public var fwhmMinor: Double
    /// `fwhmMinor / fwhmMajor`, in (0, 1]; 1 is perfectly round.
    public var roundness: Double
    /// `1 - roundness`, in [0, 1).
    public var ellipticity: Double
    /// `peak / noiseSigma`: peak height in units of the local background noise (the noise given to
    /// the fit, else the RMS of the fit residuals). Sharper seeing gives higher contrast at equal flux.
    public var contrast: Double
    /// Background-limited PSF-photometry signal-to-noise: `flux / (noiseSigma * sqrt(4 pi s^2))`
    /// with `s = fwhm / 2.3548` (the noise-equivalent area of a Gaussian). No gain is known, so
    /// source shot noise is not included; it overestimates SNR for bright stars on dark skies.
    public var snr: Double
    /// Major-axis angle in radians from +x towards +y, in (-pi/2, pi/2]; meaningless when round.
    public var angle: Double
    /// RMS of the fit residuals over the stamp, in image units.
    public var residualRMS: Double
}
