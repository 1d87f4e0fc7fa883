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
    /// The attempt that registered the frame when it was not the first (`Registration.Attempt`'s
    /// name, e.g. `fainter stars`); nil (not encoded) when the first attempt succeeded, so a frame
    /// registered at once has the same JSON as before retries existed.
    public var attempt: String?
    /// Each failed attempt as `name: reason`, in order (relative engine); nil (not encoded) when the
    /// first attempt succeeded.
    public var failedAttempts: [String]?

    /// A result.
    public init(transform: SimilarityTransform, residualRMS: Double, matches: Int, starCount: Int, engine: String,
                excluded: String? = nil, attempt: String? = nil, failedAttempts: [String]? = nil) {
        self.transform = transform
        self.residualRMS = residualRMS
        self.matches = matches
        self.starCount = starCount
        self.engine = engine
        self.excluded = excluded
        self.attempt = attempt
        self.failedAttempts = failedAttempts
    }

    /// The result of a frame that could not be registered: identity transform, no match, and the reason.
    public static func excluded(reason: String, starCount: Int, engine: String, failedAttempts: [String]? = nil) -> RegistrationResult {
        RegistrationResult(transform: .identity, residualRMS: 0, matches: 0, starCount: starCount, engine: engine, excluded: reason,
                           failedAttempts: failedAttempts)
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
    /// `registration.debayer` for OSC frames (nil for mono).
    public var debayer: TCConfig.Debayer? = nil
    /// The frame's star detection settings (those of its `stars/NNNNN` node); only set for the
    /// relative engine, whose retries detect more and fainter stars from the frame itself.
    public var stars: StarListParams?

    enum CodingKeys: String, CodingKey {
        case engine = "registration.engine"
        case interpolation = "registration.interpolation"
        case minStarMatches = "registration.min_star_matches"
        case bayer = "bayer"
        case sirilIndex = "siril_index"
        case cosmeticCorrection = "registration.cosmetic_correction"
        case debayer = "registration.debayer"
        case stars = "stars"
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
    /// Systematic centroid error added in quadrature to each star's FWHM / SNR in the fit weights, px.
    public static let centroidFloor = 0.05

    /// Weighted least squares with two rounds of outlier removal: pairs whose residual exceeds
    /// max(4 x 1.4826 x median residual, 0.25 px) are dropped and the fit redone (keeping at least 6
    /// pairs). One star whose centroid a blend or a cosmic ray moved by 0.8 px otherwise shifts a
    /// 45-star fit by half a pixel when it is among the brightest. `source`, `target` and `weights`
    /// keep the pairs used. Nil when the fit fails.
    static func robustFit(source: inout [SIMD2<Double>], target: inout [SIMD2<Double>], weights: inout [Double]) -> SimilarityTransform? {
        guard var t = try? SimilarityTransform.estimate(source: source, target: target, weights: weights) else { return nil }
        for _ in 0..<2 {
            let res = source.indices.map { i -> Double in let d = t.apply(source[i]) - target[i]; return (d.x * d.x + d.y * d.y).squareRoot() }
            guard let med = Statistics.median(res) else { break }
            let cut = max(4 * 1.4826 * med, 0.25)
            let keep = res.indices.filter { res[$0] <= cut }
            guard keep.count < res.count, keep.count >= 6,
                  let refit = try? SimilarityTransform.estimate(source: keep.map { source[$0] }, target: keep.map { target[$0] },
                                                                weights: keep.map { weights[$0] }) else { break }
            source = keep.map { source[$0] }
            target = keep.map { target[$0] }
            weights = keep.map { weights[$0] }
            t = refit
        }
        return t
    }

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

    /// Largest accepted difference between the coherent ellipticity (`coherentEllipticity`) of a
    /// frame's stars and that of the reference's: above it the frame's stars are doubled or trailed
    /// in a common direction (tracking glitch, wind), their centroids sit between the copies or along
    /// the trail, and the frame is excluded rather than registered to them (METHOD phase 1). Measured on
    /// synthetic glitch series (1024x768): frames registered within 0.19 px of the truth differ by at
    /// most 0.12, misregistered glitch frames (0.7-4 px off) by 0.23-0.47.
    public static let maxCoherentEllipticity = 0.2

    /// Mean of `ellipticity x (cos 2 angle, sin 2 angle)` over `stars`: ~0 for round stars or for
    /// elongations that vary over the field (optics), up to the stars' ellipticity when every star is
    /// elongated the same way.
    public static func coherentEllipticity(_ stars: [StarMeasurement]) -> SIMD2<Double> {
        guard !stars.isEmpty else { return .zero }
        var sum = SIMD2<Double>.zero
        for s in stars where s.ellipticity.isFinite && s.angle.isFinite {
            sum += s.ellipticity * SIMD2(cos(2 * s.angle), sin(2 * s.angle))
        }
        return sum / Double(stars.count)
    }

    /// The star-shape check: nil when `frame`'s stars are not more coherently elongated than
    /// `reference`'s (by at most `maxCoherentEllipticity`), else the reason.
    static func starShapeProblem(frame: [StarMeasurement], reference: [StarMeasurement]) -> String? {
        let f = coherentEllipticity(frame), r = coherentEllipticity(reference)
        let d = f - r, diff = (d.x * d.x + d.y * d.y).squareRoot()
        guard diff > maxCoherentEllipticity else { return nil }
        let fm = (f.x * f.x + f.y * f.y).squareRoot(), rm = (r.x * r.x + r.y * r.y).squareRoot()
        return "its stars are elongated in a common direction (coherent ellipticity \(String(format: "%.2f", fm)), "
            + "reference \(String(format: "%.2f", rm)), difference \(String(format: "%.2f", diff)) > \(maxCoherentEllipticity)): "
            + "doubled or trailed stars (tracking glitch?), whose centroids are not the stars' positions"
    }

    /// One try of the relative engine (`attempts`).
    public struct Attempt: Sendable, Equatable {
        /// Name recorded in `RegistrationResult.attempt` and the log.
        public var name: String
        /// Match a list detected again from the frame itself (`fainterStars(_:)`) instead of its
        /// `stars/NNNNN` list.
        public var fainterStars: Bool
        /// Matching options (`minMatches` is `registration.min_star_matches`).
        public var options: AsterismMatchOptions
    }

    /// The relative engine's attempts, in order; a frame that fails one (too few stars, too few
    /// matches, fit residual too large) gets the next, and only a frame that fails all of them is
    /// one that cannot be registered. Doubled or trailed stars (`starShapeProblem`) end the
    /// attempts at once: no retry changes the stars' shapes.
    /// 1. `first`: the `stars/NNNNN` list, triangles among the 50 brightest stars with 8 neighbours,
    ///    shape tolerance 0.01, 3000 hypotheses, the first that matches half of the 50 stars taken
    ///    (`AsterismMatchOptions.acceptFraction`; the later attempts score all of theirs);
    /// 2. `other asterisms`: the same list, triangles among the 100 brightest with 10 neighbours
    ///    (other asterism sets), shape (side ratio) tolerance 0.02, 12000 hypotheses;
    /// 3. `fainter stars`: stars detected again from the frame at 60 % of the threshold (at least
    ///    3 sigma), up to 1000 of them, matched as in 2;
    /// 4. `wide search`: that list, triangles among the 250 brightest with 12 neighbours, 40000
    ///    hypotheses: a frame that overlaps the reference only partly (large drift) shares few of its
    ///    brightest stars with it, but enough among many.
    public static let attempts: [Attempt] = [
        Attempt(name: "first", fainterStars: false,
                options: AsterismMatchOptions(triangleStars: 50, neighbours: 8, maxHypotheses: 3000, acceptFraction: 0.5)),
        Attempt(name: "other asterisms", fainterStars: false,
                options: AsterismMatchOptions(triangleStars: 100, neighbours: 10, shapeTolerance: 0.02, maxHypotheses: 12000)),
        Attempt(name: "fainter stars", fainterStars: true,
                options: AsterismMatchOptions(triangleStars: 100, neighbours: 10, shapeTolerance: 0.02, maxHypotheses: 12000)),
        Attempt(name: "wide search", fainterStars: true,
                options: AsterismMatchOptions(triangleStars: 250, neighbours: 12, shapeTolerance: 0.02, maxHypotheses: 40000)),
    ]

    /// Detection settings of the `fainter stars` attempt: 60 % of the threshold (at least 3 sigma,
    /// never above the original), up to 1000 stars.
    public static func fainterStars(_ p: StarListParams) -> StarListParams {
        var q = p
        q.thresholdSigma = min(p.thresholdSigma, max(3, 0.6 * p.thresholdSigma))
        q.maxStars = max(p.maxStars, 1000)
        return q
    }

    /// A retry's match is accepted only when the probability that its pair count arises by chance,
    /// over all hypotheses it scored, is at most this (`chanceMatches`, `poissonTail`). Retries match
    /// longer lists with more hypotheses and a looser tolerance: without this bound a frame that
    /// overlaps the reference by ~15 % (drift 85 % of the width) was "registered" with 8-9 chance
    /// pairs and a transform hundreds of pixels off (chance probabilities 0.0012-120 by this
    /// estimate; a real partial overlap with 30 pairs scores ~1e-30).
    public static let maxChanceProbability = 1e-5

    /// Expected number of chance pairs for `t`: each reference star that lands inside the frame's
    /// star area finds an unrelated frame star within `radius` with probability pi r^2 x the frame's
    /// star density.
    static func chanceMatches(_ t: SimilarityTransform, reference: [StarMeasurement], frame: [StarMeasurement],
                              radius: Double) -> Double {
        guard let x0 = frame.map(\.x).min(), let x1 = frame.map(\.x).max(),
              let y0 = frame.map(\.y).min(), let y1 = frame.map(\.y).max() else { return 0 }
        let area = max(1, (x1 - x0) * (y1 - y0))
        let inside = reference.filter { s in
            let q = t.apply(SIMD2(s.x, s.y))
            return q.x >= x0 && q.x <= x1 && q.y >= y0 && q.y <= y1
        }.count
        return Double(inside) * Double.pi * radius * radius * Double(frame.count) / area
    }

    /// P(X >= n) for X ~ Poisson(lambda).
    static func poissonTail(_ lambda: Double, atLeast n: Int) -> Double {
        guard n > 0 else { return 1 }
        guard lambda > 0 else { return 0 }
        var term = exp(-lambda), below = 0.0
        for k in 0..<n {
            below += term
            term *= lambda / Double(k + 1)
        }
        return max(0, 1 - below)
    }

    /// Why one attempt failed; `final` ends the attempts (doubled or trailed stars).
    struct AttemptFailure: Error {
        var message: String
        var final = false
    }

    /// The `register/NNNNN` action: find the transform (engine), then warp into the reference geometry.
    /// A frame that cannot be registered (too few stars or matches, a fit residual above
    /// `residualBound`, doubled or trailed stars, no transform from siril) does not fail the node: it
    /// writes `transform` with `excluded` set and an empty (zero-byte) `frame`; the runner leaves the
    /// frame out (`registration.on_failure`). The relative engine tries `attempts` in order first.
    /// Unreadable input still throws.
    static func run(_ ctx: NodeContext) throws {
        let p = try ctx.params(RegisterParams.self)
        let path = try ctx.input("frame")
        let file = (path as NSString).lastPathComponent
        // Every frame's node reads the same reference artifact: decoded once per process (by digest).
        let ref = try DecodedArtifacts.shared.value("reference", try ctx.inputDigest("reference")) {
            try Artifacts.readJSON(ReferenceInfo.self, ctx, "reference")
        }
        let stars = try StarListArtifact.read(ctx, "stars")
        var loaded: Image? = nil
        func frameImage() throws -> Image {
            if let loaded { return loaded }
            do { loaded = try FITS.read(path) } catch { throw StepError.unreadable(file: file, message: "\(error)") }
            return loaded!
        }
        let result: RegistrationResult
        do {
            switch p.engine {
            case .relative:
                result = try relativeWithRetries(stars: stars, reference: ref, minMatches: p.minStarMatches, file: file,
                                                 log: { ctx.log($0) }, fainter: {
                    guard let sp = p.stars else { return stars }
                    return try StarList.detect(in: try frameImage(), params: fainterStars(sp), file: file)
                })
            case .siril:
                result = try sirilTransform(ctx, index: p.sirilIndex ?? -1, reference: ref, starCount: stars.count, file: file)
            case .wcsAnchor:
                result = try wcsTransform(path: path, reference: ref, starCount: stars.count, file: file)
            }
            if result.engine != "identity", p.engine != .relative, let problem = starShapeProblem(frame: stars, reference: ref.stars) {
                throw StepError.registrationFailed(file: file, message: problem)
            }
        } catch StepError.registrationFailed(_, let message) {
            ctx.log("excluded: \(file) cannot be registered: \(message)")
            try ctx.writeOutput("frame", Data())
            try Artifacts.writeJSON(RegistrationResult.excluded(reason: message, starCount: stars.count, engine: p.engine.rawValue),
                                    ctx, "transform")
            return
        } catch let failure as RelativeFailure {
            ctx.log("excluded: \(file) cannot be registered: \(failure.reason)")
            try ctx.writeOutput("frame", Data())
            try Artifacts.writeJSON(RegistrationResult.excluded(reason: failure.reason, starCount: stars.count, engine: p.engine.rawValue,
                                                                failedAttempts: failure.attempts), ctx, "transform")
            return
        }
        ctx.log("\(result.engine): rotation \(String(format: "%.4f", result.transform.rotation * 180 / .pi)) deg, "
                + "shift (\(String(format: "%.2f", result.transform.tx)), \(String(format: "%.2f", result.transform.ty))) px, "
                + "\(result.matches) matches, residual \(String(format: "%.3f", result.residualRMS)) px"
                + (result.attempt.map { " (attempt: \($0))" } ?? ""))

        var image = try frameImage()
        loaded = nil
        if p.cosmeticCorrection {
            // On the raw pixels (the mosaic for OSC: same-colour neighbours), before anything resamples them:
            // the star detection's correction of this very frame (`stars/NNNNN#cosmetic`), applied.
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: try ctx.input("cosmetic"))) } catch {
                throw StepError.badArtifact(node: ctx.name, message: "cosmetic patch unreadable: \(error)")
            }
            guard let patch = PixelPatch(data: data) else {
                throw StepError.badArtifact(node: ctx.name, message: "the cosmetic patch of \(file) is not a pixel patch")
            }
            do { try patch.apply(to: &image) } catch {
                throw StepError.badArtifact(node: ctx.name, message: "cosmetic patch of \(file): \(error)")
            }
            ctx.log("cosmetic correction: \(patch.hot) hot and \(patch.dead) dead pixels replaced")
        }
        if let bayer = p.bayer, image.channels == 1 {
            // OSC: demosaic at full resolution first, then warp the RGB planes, so the resampling
            // kernel never mixes pixels of different Bayer phases (colours).
            do {
                let pattern = try BayerPattern(bayerpat: bayer)
                image = try p.debayer == .bilinear ? debayerBilinear(image, pattern: pattern) : debayerMHC(image, pattern: pattern)
            } catch {
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

    /// A frame every attempt of the relative engine failed on.
    struct RelativeFailure: Error {
        /// The excluded reason: the first attempt's, and what the retries ended with.
        var reason: String
        /// Each attempt as `name: reason`.
        var attempts: [String]
    }

    /// The relative engine with its retries (`attempts`): the first attempt that registers the frame
    /// wins; its name is recorded (`attempt`, with the failed ones in `failedAttempts`) unless it is
    /// the first. `fainter` detects the frame's stars again (`fainterStars`), called at most once.
    /// - Throws: `RelativeFailure` when every attempt failed (or one found doubled or trailed stars).
    static func relativeWithRetries(stars: [StarMeasurement], reference: ReferenceInfo, minMatches: Int, file: String,
                                    log: (String) -> Void, fainter: () throws -> [StarMeasurement]) throws -> RegistrationResult {
        var failed: [String] = []
        var fainterList: [StarMeasurement]? = nil
        for (k, attempt) in attempts.enumerated() {
            let list: [StarMeasurement]
            if attempt.fainterStars {
                if fainterList == nil {
                    fainterList = try fainter()
                    log("\(file): \(fainterList!.count) stars detected at the lower threshold")
                }
                list = fainterList!
            } else {
                list = stars
            }
            var options = attempt.options
            options.minMatches = minMatches
            do {
                var r = try relativeAttempt(stars: list, reference: reference, options: options, file: file, chanceCheck: k > 0)
                if k > 0 {
                    r.attempt = attempt.name
                    r.failedAttempts = failed
                    log("\(file): registered by attempt \(k + 1) (\(attempt.name)) after \(failed.joined(separator: "; "))")
                }
                return r
            } catch let f as AttemptFailure {
                failed.append("\(attempt.name): \(f.message)")
                log("\(file): attempt \(k + 1) (\(attempt.name)) failed: \(f.message)")
                if f.final { break }
            }
        }
        var reason = String(failed[0].drop { $0 != ":" }.dropFirst(2))
        if failed.count > 1 {
            let names = attempts[1..<failed.count].map(\.name).joined(separator: ", ")
            reason += "; retries (\(names)) failed too, the last: " + String(failed[failed.count - 1].drop { $0 != ":" }.dropFirst(2))
        }
        throw RelativeFailure(reason: reason, attempts: failed)
    }

    /// Star-pattern registration of a frame's stars against the reference's with the first
    /// attempt's options. The reference frame itself (an identical star list) gets the identity.
    /// - Throws: `StepError.registrationFailed` with the reason.
    static func relativeTransform(stars: [StarMeasurement], reference: ReferenceInfo, minMatches: Int,
                                  file: String) throws -> RegistrationResult {
        var options = attempts[0].options
        options.minMatches = minMatches
        do {
            return try relativeAttempt(stars: stars, reference: reference, options: options, file: file)
        } catch let f as AttemptFailure {
            throw StepError.registrationFailed(file: file, message: f.message)
        }
    }

    /// One attempt: `matchAsterisms` with `options`, the weighted least-squares fit, the residual
    /// bound and the star-shape check. The reference frame itself gets the identity.
    /// - Throws: `AttemptFailure`.
    static func relativeAttempt(stars: [StarMeasurement], reference: ReferenceInfo, options: AsterismMatchOptions,
                                file: String, chanceCheck: Bool = false) throws -> RegistrationResult {
        if stars == reference.stars {
            return RegistrationResult(transform: .identity, residualRMS: 0, matches: stars.count,
                                      starCount: stars.count, engine: "identity")
        }
        do {
            let m = try matchAsterisms(reference: reference.stars, frame: stars, options: options)
            // Final least squares weighted by centroid precision: sigma_i ~ FWHM / SNR per star plus a
            // systematic floor (`centroidFloor`: blends, a cosmic ray on a wing, PSF asymmetry), weight
            // 1 / (sigma_ref^2 + sigma_frame^2), so faint stars do not pull the fit and no single bright
            // star can carry it; then pairs far off the fit are dropped and the fit redone (`robustFit`).
            var src = m.pairs.map { SIMD2(reference.stars[$0.reference].x, reference.stars[$0.reference].y) }
            var dst = m.pairs.map { SIMD2(stars[$0.frame].x, stars[$0.frame].y) }
            var weights = m.pairs.map { p -> Double in
                func v(_ s: StarMeasurement) -> Double {
                    let sigma = s.fwhm / max(s.snr, 1)
                    return (sigma.isFinite ? sigma * sigma : 1) + centroidFloor * centroidFloor
                }
                return 1 / max(v(reference.stars[p.reference]) + v(stars[p.frame]), 1e-6)
            }
            // Doubled or trailed stars: their centroids are not the stars' positions, whatever the fit says.
            if let problem = starShapeProblem(frame: m.pairs.map { stars[$0.frame] }, reference: m.pairs.map { reference.stars[$0.reference] }) {
                throw AttemptFailure(message: problem, final: true)
            }
            let t = robustFit(source: &src, target: &dst, weights: &weights) ?? m.transform
            if chanceCheck {
                let lambda = chanceMatches(t, reference: reference.stars, frame: stars, radius: options.matchRadius)
                let p = Double(options.maxHypotheses) * poissonTail(lambda, atLeast: m.pairs.count)
                guard p <= maxChanceProbability else {
                    throw AttemptFailure(message: "\(m.pairs.count) matched stars could be chance coincidences (\(String(format: "%.1f", lambda)) "
                        + "expected by chance, probability over \(options.maxHypotheses) hypotheses \(String(format: "%.2g", p)) > \(maxChanceProbability))")
                }
            }
            let wrms = weightedRMS(t, source: src, target: dst, weights: weights)
            let fwhm = StarList.medianFWHM(m.pairs.map { stars[$0.frame] })
            let bound = residualBound(medianFWHM: fwhm)
            guard wrms <= bound else {
                throw AttemptFailure(message: "the weighted RMS residual of the \(m.pairs.count) matched stars is "
                    + "\(String(format: "%.2f", wrms)) px, above max(\(residualFloor) px, \(residualFWHMFraction) x median FWHM "
                    + "\(String(format: "%.2f", fwhm)) px) = \(String(format: "%.2f", bound)) px (doubled or trailed stars?)")
            }
            return RegistrationResult(transform: t, residualRMS: t.residualRMS(source: src, target: dst), matches: src.count,
                                      starCount: stars.count, engine: "relative")
        } catch let e as AsterismMatchError {
            let detail: String
            switch e {
            case .tooFewStars(let r, let f):
                detail = "\(f) stars detected in the frame and \(r) in the reference, at least 3 are needed"
            case .notEnoughMatches(let found, let required):
                detail = "only \(found) stars matched the reference, fewer than registration.min_star_matches = \(required)"
            }
            throw AttemptFailure(message: detail)
        }
    }
}
