import Foundation
import Graph
import Imaging

/// What `register/NNNNN` records about one frame (output `transform`).
public struct RegistrationResult: Codable, Sendable, Equatable {
    /// Reference pixel coordinates -> frame pixel coordinates (the `warp` direction).
    public var transform: SimilarityTransform
    /// RMS distance (px) between transformed reference stars and their frame partners (relative,
    /// siril: as matched; wcs_anchor: fit residual over the sample grid).
    public var residualRMS: Double
    /// Matched star pairs (relative), siril's pair count (0 when siril did not print it), or the
    /// number of WCS sample points (wcs_anchor).
    public var matches: Int
    /// Stars detected in the frame.
    public var starCount: Int
    /// `relative`, `siril`, `wcs_anchor`, or `identity` for the reference frame itself.
    public var engine: String
    /// Why the frame could not be registered (it is left out of the series, `registration.on_failure`);
    /// nil for a registered frame. Encoded only when set, so a registered frame's JSON is unchanged.
    public var excluded: String?

    /// A result.
    public init(transform: SimilarityTransform, residualRMS: Double, matches: Int, starCount: Int, engine: String,
                excluded: String? = nil) {
        self.transform = transform
        self.residualRMS = residualRMS
        self.matches = matches
        self.starCount = starCount
        self.engine = engine
        self.excluded = excluded
    }

    /// The result of a frame that could not be registered: identity transform, no match, and the reason.
    public static func excluded(reason: String, starCount: Int, engine: String) -> RegistrationResult {
        RegistrationResult(transform: .identity, residualRMS: 0, matches: 0, starCount: starCount, engine: engine, excluded: reason)
    }
}

/// Params of `register/NNNNN`.
public struct RegisterParams: Codable, Sendable, Equatable {
    /// `registration.engine`.
    public var engine: TCConfig.RegistrationEngine
    /// `registration.interpolation`.
    public var interpolation: TCConfig.Interpolation
    /// `registration.min_star_matches`.
    public var minStarMatches: Int
    /// Bayer pattern of the frame (nil for mono): OSC frames are debayered before warping.
    public var bayer: String?
    /// Frame index; only set for the siril engine (it picks the frame's transform from siril's list).
    public var sirilIndex: Int?
    /// `registration.cosmetic_correction`: hot / dead single-pixel spikes replaced before the warp.
    public var cosmeticCorrection: Bool = true

    enum CodingKeys: String, CodingKey {
        case engine = "registration.engine"
        case interpolation = "registration.interpolation"
        case minStarMatches = "registration.min_star_matches"
        case bayer = "bayer"
        case sirilIndex = "siril_index"
        case cosmeticCorrection = "registration.cosmetic_correction"
    }
}

/// Registered-frame file names.
public enum RegisteredName {
    /// Expands `{index}` (plain decimal) and `{index:0Nd}` / `{index:Nd}` (zero-padded to N digits)
    /// in `pattern`. Other text is kept as is.
    public static func expand(_ pattern: String, index: Int) -> String {
        var out = ""
        var rest = Substring(pattern)
        while let open = rest.range(of: "{index") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstIndex(of: "}") else { out += rest[open.lowerBound...]; return out }
            let spec = after[..<close]
            if spec.isEmpty {
                out += String(index)
            } else if spec.hasPrefix(":"), spec.hasSuffix("d"), let width = Int(spec.dropFirst().dropLast()) {
                let digits = String(index)
                out += String(repeating: "0", count: max(0, width - digits.count)) + digits
            } else {
                out += rest[open.lowerBound...close]
            }
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }
}

/// Phase 1's kernels: the transform of one frame (relative, siril, wcs_anchor) and its warp into the
/// reference geometry. The nodes are added by `RegisterStep`.
public enum Registration {}

extension Registration {
    /// Bound on the weighted RMS residual of the matched stars (relative engine): a fit worse than
    /// `max(residualFloor, residualFWHMFraction x median FWHM of the matched frame stars)` means doubled,
    /// trailed or mismatched stars, and the frame is excluded rather than misregistered (METHOD phase 1).
    public static let residualFloor = 0.5
    /// See `residualFloor`.
    public static let residualFWHMFraction = 0.25

    /// The residual bound (px) for matched frame stars of median FWHM `fwhm`.
    public static func residualBound(medianFWHM fwhm: Double) -> Double {
        max(residualFloor, fwhm.isFinite ? residualFWHMFraction * fwhm : 0)
    }

    /// Weighted RMS distance between `transform(source)` and `target`.
    static func weightedRMS(_ t: SimilarityTransform, source: [SIMD2<Double>], target: [SIMD2<Double>], weights: [Double]) -> Double {
        var sum = 0.0, wsum = 0.0
        for i in source.indices {
            let p = t.apply(source[i]), d = p - target[i]
            sum += weights[i] * (d.x * d.x + d.y * d.y)
            wsum += weights[i]
        }
        return wsum > 0 ? (sum / wsum).squareRoot() : 0
    }

    /// The `register/NNNNN` action: find the transform (engine), then warp into the reference geometry.
    /// A frame that cannot be registered (too few stars or matches, a fit residual above
    /// `residualBound`, no transform from siril) does not fail the node: it writes `transform` with
    /// `excluded` set and an empty (zero-byte) `frame`; the runner leaves the frame out
    /// (`registration.on_failure`). Unreadable input still throws.
    static func run(_ ctx: NodeContext) throws {
        let p = try ctx.params(RegisterParams.self)
        let path = try ctx.input("frame")
        let file = (path as NSString).lastPathComponent
        let ref = try Artifacts.readJSON(ReferenceInfo.self, ctx, "reference")
        let stars = try Artifacts.readJSON([StarMeasurement].self, ctx, "stars")
        let result: RegistrationResult
        do {
            switch p.engine {
            case .relative:
                result = try relativeTransform(stars: stars, reference: ref, minMatches: p.minStarMatches, file: file)
            case .siril:
                result = try sirilTransform(ctx, index: p.sirilIndex ?? -1, reference: ref, starCount: stars.count, file: file)
            case .wcsAnchor:
                result = try wcsTransform(path: path, reference: ref, starCount: stars.count, file: file)
            }
        } catch StepError.registrationFailed(_, let message) {
            ctx.log("excluded: \(file) cannot be registered: \(message)")
            try ctx.writeOutput("frame", Data())
            try Artifacts.writeJSON(RegistrationResult.excluded(reason: message, starCount: stars.count, engine: p.engine.rawValue),
                                    ctx, "transform")
            return
        }
        ctx.log("\(result.engine): rotation \(String(format: "%.4f", result.transform.rotation * 180 / .pi)) deg, "
                + "shift (\(String(format: "%.2f", result.transform.tx)), \(String(format: "%.2f", result.transform.ty))) px, "
                + "\(result.matches) matches, residual \(String(format: "%.3f", result.residualRMS)) px")

        var image: Image
        do { image = try FITS.read(path) } catch { throw StepError.unreadable(file: file, message: "\(error)") }
        if p.cosmeticCorrection {
            // On the raw pixels (the mosaic for OSC: same-colour neighbours), before anything resamples them.
            let fixed = Cosmetic.correctSpikes(&image, step: p.bayer != nil && image.channels == 1 ? 2 : 1)
            ctx.log("cosmetic correction: \(fixed.hot) hot and \(fixed.dead) dead pixels replaced")
        }
        if let bayer = p.bayer, image.channels == 1 {
            // OSC: demosaic at full resolution first, then warp the RGB planes, so the resampling
            // kernel never mixes pixels of different Bayer phases (colours).
            do { image = try debayerBilinear(image, pattern: try BayerPattern(bayerpat: bayer)) } catch {
                throw StepError.unreadable(file: file, message: "cannot debayer with pattern \(bayer): \(error)")
            }
        }
        let interpolation: WarpInterpolation = p.interpolation == .bilinear ? .bilinear : .lanczos3
        let warped = warp(image, outputToSource: result.transform, width: ref.width, height: ref.height,
                          options: WarpOptions(interpolation: interpolation))
        var keywords: [FITSKeyword] = [
            FITSKeyword("REGENG", .string(result.engine), comment: "tcbuild registration engine"),
            FITSKeyword("REGROT", .double(result.transform.rotation), comment: "ref->frame rotation [rad]"),
            FITSKeyword("REGTX", .double(result.transform.tx), comment: "ref->frame shift x [px]"),
            FITSKeyword("REGTY", .double(result.transform.ty), comment: "ref->frame shift y [px]"),
            FITSKeyword("REGCOV", .double(warped.coveredFraction), comment: "covered fraction of the reference"),
        ]
        if let header = try? FITS.readHeader(path) {
            if let e = header.exposure { keywords.append(FITSKeyword("EXPTIME", .double(e), comment: "exposure time [s]")) }
            if let d = header.dateObs { keywords.append(FITSKeyword("DATE-OBS", .string(d), comment: "UTC start of exposure")) }
        }
        try Artifacts.writeImage(warped.image, ctx, "frame", keywords: keywords)
        try Artifacts.writeJSON(result, ctx, "transform")
    }

    /// Star-pattern registration of a frame's stars against the reference's. The reference frame
    /// itself (an identical star list) gets the identity.
    static func relativeTransform(stars: [StarMeasurement], reference: ReferenceInfo, minMatches: Int,
                                  file: String) throws -> RegistrationResult {
        if stars == reference.stars {
            return RegistrationResult(transform: .identity, residualRMS: 0, matches: stars.count,
                                      starCount: stars.count, engine: "identity")
        }
        // 50 triangle stars with 8 neighbours each: enough common stars between frames that overlap
        // only partly (large shifts, tens of degrees of rotation).
        var options = AsterismMatchOptions(triangleStars: 50, neighbours: 8, maxHypotheses: 3000)
        options.minMatches = minMatches
        do {
            let m = try matchAsterisms(reference: reference.stars, frame: stars, options: options)
            // Final least squares weighted by centroid precision: sigma_i ~ FWHM / SNR per star,
            // weight 1 / (sigma_ref^2 + sigma_frame^2), so faint stars do not pull the fit.
            let src = m.pairs.map { SIMD2(reference.stars[$0.reference].x, reference.stars[$0.reference].y) }
            let dst = m.pairs.map { SIMD2(stars[$0.frame].x, stars[$0.frame].y) }
            let weights = m.pairs.map { p -> Double in
                func v(_ s: StarMeasurement) -> Double {
                    let sigma = s.fwhm / max(s.snr, 1)
                    return sigma.isFinite ? sigma * sigma : 1
                }
                return 1 / max(v(reference.stars[p.reference]) + v(stars[p.frame]), 1e-6)
            }
            let t = (try? SimilarityTransform.estimate(source: src, target: dst, weights: weights)) ?? m.transform
            let wrms = weightedRMS(t, source: src, target: dst, weights: weights)
            let fwhm = StarList.medianFWHM(m.pairs.map { stars[$0.frame] })
            let bound = residualBound(medianFWHM: fwhm)
            guard wrms <= bound else {
                throw StepError.registrationFailed(file: file, message: "the weighted RMS residual of the \(m.pairs.count) matched stars is "
                    + "\(String(format: "%.2f", wrms)) px, above max(\(residualFloor) px, \(residualFWHMFraction) x median FWHM "
                    + "\(String(format: "%.2f", fwhm)) px) = \(String(format: "%.2f", bound)) px (doubled or trailed stars?)")
            }
            return RegistrationResult(transform: t, residualRMS: t.residualRMS(source: src, target: dst), matches: m.pairs.count,
                                      starCount: stars.count, engine: "relative")
        } catch let e as AsterismMatchError {
            let detail: String
            switch e {
            case .tooFewStars(let r, let f):
                detail = "\(f) stars detected in the frame and \(r) in the reference, at least 3 are needed"
            case .notEnoughMatches(let found, let required):
                detail = "only \(found) stars matched the reference, fewer than registration.min_star_matches = \(required)"
            }
            throw StepError.registrationFailed(file: file, message: detail)
        }
    }
}
