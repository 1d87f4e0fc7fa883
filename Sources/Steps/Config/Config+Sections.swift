// The sections of TCConfig. Defaults are METHOD.md's; the loader enforces the ranges noted.

extension TCConfig {
    /// `data.*`
    public struct DataSection: Codable, Sendable, Equatable {
        /// Directory of input frames, relative to the workspace.
        public var inputDir = "frames"
        /// Glob selecting input frames inside `inputDir`.
        public var pattern = "*.fit,*.fits,*.fts,*.fz"
        /// Gate: fewer frames than this aborts the run (>= 1).
        public var framesMin = 800
        /// Largest allowed spread of exposure times, percent of the median (>= 0).
        public var maxExposureSpreadPercent = 5.0
        /// Largest allowed fraction of NaN/Inf pixels in a frame, in [0, 1].
        public var maxNonfiniteFraction = 0.001
        /// The camera's saturation level: `auto` (SATURATE, DATAMAX, the populated maximum of the
        /// data, the BITPIX ceiling; resolved once per series by the scan) or a raw ADU value.
        public var saturationLevel = SaturationSetting.auto
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case inputDir = "input_dir", pattern, framesMin = "frames_min"
            case maxExposureSpreadPercent = "max_exposure_spread_percent"
            case maxNonfiniteFraction = "max_nonfinite_fraction"
            case saturationLevel = "saturation_level"
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            inputDir = try c.decode(String.self, forKey: .inputDir)
            pattern = try c.decode(String.self, forKey: .pattern)
            framesMin = try c.decode(Int.self, forKey: .framesMin)
            maxExposureSpreadPercent = try c.decode(Double.self, forKey: .maxExposureSpreadPercent)
            maxNonfiniteFraction = try c.decode(Double.self, forKey: .maxNonfiniteFraction)
            // Absent in configs recorded before the key existed.
            saturationLevel = try c.decodeIfPresent(SaturationSetting.self, forKey: .saturationLevel) ?? .auto
        }
    }

    /// `registration.engine`
    public enum RegistrationEngine: String, Codable, Sendable, CaseIterable {
        /// Siril CLI backend.
        case siril
        /// Native star-pattern registration against a reference frame.
        case relative
        /// Registration anchored on a WCS solution.
        case wcsAnchor = "wcs_anchor"
    }

    /// `registration.interpolation`
    public enum Interpolation: String, Codable, Sendable, CaseIterable {
        /// Lanczos, a = 3.
        case lanczos3
        /// Bilinear.
        case bilinear
    }

    /// `registration.on_failure`: what happens to a frame that cannot be registered.
    public enum RegistrationFailure: String, Codable, Sendable, CaseIterable {
        /// Leave the frame out with a warning naming it; the run goes on with the registered frames.
        case exclude
        /// Fail the run (exit 1), naming every frame that could not be registered.
        case abort
    }

    /// `registration.*` (phase 1).
    public struct RegistrationSection: Codable, Sendable, Equatable {
        /// Backend.
        public var engine = RegistrationEngine.relative
        /// Reference frame choice.
        public var reference = ReferenceFrame.auto
        /// Directory where registered frames are materialized.
        public var outputDir = "registered"
        /// File name pattern for registered frames; `{index:05d}` is the zero-padded frame index.
        public var registeredFilenamePattern = "reg_{index:05d}.fit"
        /// A frame matching fewer stars than this cannot be registered (>= 3; `onFailure`).
        public var minStarMatches = 8
        /// Resampling kernel.
        public var interpolation = Interpolation.lanczos3
        /// Star detection threshold in background sigmas (> 0).
        public var starThresholdSigma = 5.0
        /// What happens to a frame that cannot be registered.
        public var onFailure = RegistrationFailure.exclude
        /// Replace isolated hot / dead pixels by their neighbours' median before warping.
        public var cosmeticCorrection = true
        /// Demosaic of OSC frames before the warp.
        public var debayer = Debayer.mhc
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case engine, reference, outputDir = "output_dir"
            case registeredFilenamePattern = "registered_filename_pattern"
            case minStarMatches = "min_star_matches", interpolation
            case starThresholdSigma = "star_threshold_sigma"
            case onFailure = "on_failure"
            case cosmeticCorrection = "cosmetic_correction"
            case debayer
        }
        /// Decodes every key; `on_failure` may be missing (configurations recorded by runs of
        /// versions before it existed read as `exclude`).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            engine = try c.decode(RegistrationEngine.self, forKey: .engine)
            reference = try c.decode(ReferenceFrame.self, forKey: .reference)
            outputDir = try c.decode(String.self, forKey: .outputDir)
            registeredFilenamePattern = try c.decode(String.self, forKey: .registeredFilenamePattern)
            minStarMatches = try c.decode(Int.self, forKey: .minStarMatches)
            interpolation = try c.decode(Interpolation.self, forKey: .interpolation)
            starThresholdSigma = try c.decode(Double.self, forKey: .starThresholdSigma)
            onFailure = try c.decodeIfPresent(RegistrationFailure.self, forKey: .onFailure) ?? .exclude
            cosmeticCorrection = try c.decodeIfPresent(Bool.self, forKey: .cosmeticCorrection) ?? true
            debayer = try c.decodeIfPresent(Debayer.self, forKey: .debayer) ?? .mhc
        }

        /// Encodes every key, `on_failure` and `cosmetic_correction` only when they are not the defaults
        /// (`exclude`, `true`): no node reads them through the section (the runner reads `on_failure`,
        /// `register/NNNNN` carries `cosmetic_correction` in its own params), so the params of nodes
        /// that carry the whole section (`siril/register`) keep their fingerprints.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(engine, forKey: .engine)
            try c.encode(reference, forKey: .reference)
            try c.encode(outputDir, forKey: .outputDir)
            try c.encode(registeredFilenamePattern, forKey: .registeredFilenamePattern)
            try c.encode(minStarMatches, forKey: .minStarMatches)
            try c.encode(interpolation, forKey: .interpolation)
            try c.encode(starThresholdSigma, forKey: .starThresholdSigma)
            if onFailure != .exclude { try c.encode(onFailure, forKey: .onFailure) }
            // Read by register/NNNNN through its own params; in the section only when not the default.
            if !cosmeticCorrection { try c.encode(cosmeticCorrection, forKey: .cosmeticCorrection) }
            if debayer != .mhc { try c.encode(debayer, forKey: .debayer) }
        }
    }

    /// `normalization.mode`
    public enum NormalizationMode: String, Codable, Sendable, CaseIterable {
        /// Robust background with stars masked (sigma-clip + dilation).
        case background
        /// Plain median of the frame.
        case median
    }

    /// `normalization.*` (phase 2).
    public struct NormalizationSection: Codable, Sendable, Equatable {
        /// How B_f is estimated.
        public var mode = NormalizationMode.background
        /// Defaults.
        public init() {}
    }

    /// `global_metrics.weights.*`: a, b, c of Q_f; each in [0, 1], sum 1.
    public struct GlobalWeights: Codable, Sendable, Equatable {
        /// a: weight of -B~.
        public var background = 0.4
        /// b: weight of -sigma~.
        public var noise = 0.3
        /// c: weight of E~.
        public var gradient = 0.3
        /// Defaults.
        public init() {}
    }

    /// `global_metrics.*` (phase 3).
    public struct GlobalMetricsSection: Codable, Sendable, Equatable {
        /// Weights of the scaled metrics in Q_f.
        public var weights = GlobalWeights()
        /// Clamp applied to Q_f before exp.
        public var clamp = ClampRange(lo: -3, hi: 3)
        /// Defaults.
        public init() {}
    }

    /// `tile.*` (phase 4; `starMinCount` gates phase 5's star mode).
    public struct TileSection: Codable, Sendable, Equatable {
        /// T = size_factor * FWHM before clipping (> 0).
        public var sizeFactor = 32.0
        /// Smallest tile side in pixels (>= 8).
        public var minSize = 64
        /// Largest tile side is min(W, H) / max_divisor (>= 1).
        public var maxDivisor = 6
        /// Overlap as a fraction of T, in [0, 0.5).
        public var overlapFraction = 0.25
        /// Stars a tile needs for star mode (>= 1).
        public var starMinCount = 3
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case sizeFactor = "size_factor", minSize = "min_size", maxDivisor = "max_divisor"
            case overlapFraction = "overlap_fraction", starMinCount = "star_min_count"
        }
    }

    /// `local_metrics.star_mode.weights.*`; each in [0, 1], sum 1.
    public struct StarWeights: Codable, Sendable, Equatable {
        /// Weight of -log(FWHM)~.
        public var fwhm = 0.6
        /// Weight of R~.
        public var roundness = 0.2
        /// Weight of C~.
        public var contrast = 0.2
        /// Defaults.
        public init() {}
    }

    /// `local_metrics.star_mode.*`
    public struct StarMode: Codable, Sendable, Equatable {
        /// Weights of Q_star.
        public var weights = StarWeights()
        /// Defaults.
        public init() {}
    }

    /// `local_metrics.structure_mode.*`; both in [0, 1], sum 1.
    public struct StructureMode: Codable, Sendable, Equatable {
        /// Weight of (E/sigma)~.
        public var metricWeight = 0.7
        /// Weight of -B~.
        public var backgroundWeight = 0.3
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case metricWeight = "metric_weight", backgroundWeight = "background_weight"
        }
    }

    /// `local_metrics.*` (phase 5).
    public struct LocalMetricsSection: Codable, Sendable, Equatable {
        /// Star-mode weights.
        public var starMode = StarMode()
        /// Structure-mode weights.
        public var structureMode = StructureMode()
        /// Clamp applied to Q_local before exp.
        public var clamp = ClampRange(lo: -3, hi: 3)
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case starMode = "star_mode", structureMode = "structure_mode", clamp
        }
    }

    /// `weighting.mode`
    public enum WeightingMode: String, Codable, Sendable, CaseIterable {
        /// W_f,t = exp(alpha (Q_f + Q_local)) x the frame's flux-normalized inverse variance, Q_local from
        /// smoothed local metrics, alpha per tile (`weighting.strength`).
        case noiseAware = "noise_aware"
        /// METHOD's literal v2 weights, W_f,t = G_f L_f,t (the other `weighting.*` keys are ignored).
        case literal
    }

    /// `weighting.local_fwhm`
    public enum LocalFWHMSource: String, Codable, Sendable, CaseIterable {
        /// A per-frame field: log FWHM_f,t = log FWHM_f + log h_t (the frame's median over all its stars
        /// times the tile's field factor, the median over frames of its ratio), so a tile's weight follows
        /// the frame's seeing and not the noise of its own few star fits.
        case field
        /// The tile's own star measurements (METHOD's literal phase 5).
        case tile
    }

    /// `weighting.*` (tcbuild's noise-aware weighting, METHOD "Noise-aware weighting").
    public struct WeightingSection: Codable, Sendable, Equatable {
        /// noise_aware (default) or literal.
        public var mode = WeightingMode.noiseAware
        /// The strength alpha on the Q exponents; nil = auto (per tile, the largest predicted FoM
        /// within the noise budget).
        public var strength: Double? = nil
        /// Where the local FWHM comes from.
        public var localFwhm = LocalFWHMSource.field
        /// Noise budget of auto: predicted noise at most this many percent above the classical mean's.
        public var maxNoiseIncreasePercent = 0.0
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case mode, strength, localFwhm = "local_fwhm", maxNoiseIncreasePercent = "max_noise_increase_percent"
        }
        /// Decodes; `strength` is `"auto"` or a number.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            mode = try c.decodeIfPresent(WeightingMode.self, forKey: .mode) ?? .noiseAware
            strength = try? c.decode(Double.self, forKey: .strength)
            localFwhm = try c.decodeIfPresent(LocalFWHMSource.self, forKey: .localFwhm) ?? .field
            maxNoiseIncreasePercent = try c.decodeIfPresent(Double.self, forKey: .maxNoiseIncreasePercent) ?? 0
        }
        /// Encodes every key; `strength` as `"auto"` or the number, so params and explain always name it.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mode, forKey: .mode)
            if let strength { try c.encode(strength, forKey: .strength) } else { try c.encode("auto", forKey: .strength) }
            try c.encode(localFwhm, forKey: .localFwhm)
            try c.encode(maxNoiseIncreasePercent, forKey: .maxNoiseIncreasePercent)
        }
    }

    /// `reconstruction.window`
    public enum Window: String, Codable, Sendable, CaseIterable {
        /// Hann window.
        case hanning
        /// Cosine (sine) window.
        case cosine
    }

    /// `reconstruction.combine`
    public enum Combine: String, Codable, Sendable, CaseIterable {
        /// Tile-weighted mean with the weights W_f,t of phase 5 (METHOD's kernel), the default.
        case weighted
        /// Proper coaddition per tile (Zackay & Ofek 2017) with weights F_f / sigma_f^2 and modelled PSFs.
        case matched
    }

    /// `reconstruction.rejection`
    public enum Rejection: String, Codable, Sendable, CaseIterable {
        /// No outlier rejection.
        case none
        /// Sigma clipping of noise-scaled residuals about the per-pixel median.
        case sigma
        /// Winsorized-sigma clipping (Huber spread), the default.
        case winsorized
    }

    /// `reconstruction.*` (phase 6, also phase 8; the rejection keys also reach the classical stack).
    public struct ReconstructionSection: Codable, Sendable, Equatable {
        /// Weight sums below this fall back to the unweighted mean (> 0).
        public var eps = 1e-6
        /// Overlap-add window.
        public var window = Window.hanning
        /// How a tile's frames are combined.
        public var combine = Combine.weighted
        /// Moffat beta of the PSF model used by `combine: matched` (> 1).
        public var matchedBeta = 3.0
        /// Per-pixel outlier rejection across the frames (`reject`).
        public var rejection = Rejection.winsorized
        /// Values below centre - kappa_low * spread are rejected (> 0).
        public var rejectionKappaLow = 3.0
        /// Values above centre + kappa_high * spread are rejected (> 0).
        public var rejectionKappaHigh = 3.0
        /// Clipping rounds per pixel (>= 1).
        public var rejectionIterations = 3
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case eps, window, combine, rejection
            case matchedBeta = "matched_beta"
            case rejectionKappaLow = "rejection_kappa_low", rejectionKappaHigh = "rejection_kappa_high"
            case rejectionIterations = "rejection_iterations"
        }
    }

    /// `synthetic.clustering`
    public enum Clustering: String, Codable, Sendable, CaseIterable {
        /// k-means on the standardized state vectors.
        case kmeans
        /// Quantiles of G_f.
        case quantile
        /// Equal time buckets.
        case timeBuckets = "time_buckets"
    }

    /// `synthetic.*` (phases 7 and 8).
    public struct SyntheticSection: Codable, Sendable, Equatable {
        /// Smallest number of clusters / synthetic frames (>= 1, <= framesMax).
        public var framesMin = 15
        /// Largest number of clusters / synthetic frames (>= 1).
        public var framesMax = 30
        /// Clustering method.
        public var clustering = Clustering.kmeans
        /// Deterministic k-means initializations (>= 1).
        public var kmeansRestarts = 8
        /// Seed of the clustering RNG.
        public var seed = 1
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case framesMin = "frames_min", framesMax = "frames_max", clustering
            case kmeansRestarts = "kmeans_restarts", seed
        }
    }

    /// `stacking.engine`
    public enum StackingEngine: String, Codable, Sendable, CaseIterable {
        /// Built-in average.
        case native
        /// Siril CLI backend.
        case siril
    }

    /// `stacking.method`
    public enum StackingMethod: String, Codable, Sendable, CaseIterable {
        /// Linear average, no weighting, no rejection.
        case average
    }

    /// `registration.debayer`
    public enum Debayer: String, Codable, Sendable, CaseIterable {
        /// Malvar-He-Cutler gradient-corrected interpolation (sharper).
        case mhc
        /// Bilinear interpolation.
        case bilinear
    }

    /// `stacking.weights`
    public enum StackingWeights: String, Codable, Sendable, CaseIterable {
        /// Every synthetic frame counts the same (METHOD's literal average).
        case equal
        /// Each synthetic frame weighted by 1 / its pixel noise^2 (native engine).
        case inverseVariance = "inverse_variance"
    }

    /// `stacking.*` (phase 9).
    public struct StackingSection: Codable, Sendable, Equatable {
        /// Backend.
        public var engine = StackingEngine.native
        /// Combination method.
        public var method = StackingMethod.average
        /// Weights of the synthetic frames in the average.
        public var weights = StackingWeights.equal
        /// Directory where synthetic frames are materialized.
        public var inputDir = "synthetic"
        /// Glob of the synthetic frames.
        public var inputPattern = "syn_*.fits"
        /// The final stack's file name.
        public var outputFile = "stacked.fit"
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case engine, method, weights, inputDir = "input_dir", inputPattern = "input_pattern"
            case outputFile = "output_file"
        }
    }

    /// `validation.*` (phase 10).
    public struct ValidationSection: Codable, Sendable, Equatable {
        /// Minimum FWHM improvement vs a classical stack, percent.
        public var minFwhmImprovementPercent = 5.0
        /// Maximum background RMS increase vs a classical stack, percent (>= 0).
        public var maxBackgroundRmsIncreasePercent = 0.0
        /// Minimum variance of the tile weights (>= 0).
        public var minTileWeightVariance = 0.1
        /// Fail when a tile pattern is detected in the result.
        public var requireNoTilePattern = true
        /// Minimum fraction of signal-carrying tiles that are usable, in [0, 1].
        public var minUsableTileFraction = 0.3
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case minFwhmImprovementPercent = "min_fwhm_improvement_percent"
            case maxBackgroundRmsIncreasePercent = "max_background_rms_increase_percent"
            case minTileWeightVariance = "min_tile_weight_variance"
            case requireNoTilePattern = "require_no_tile_pattern"
            case minUsableTileFraction = "min_usable_tile_fraction"
        }
    }

    /// `pipeline.*`
    public struct PipelineSection: Codable, Sendable, Equatable {
        /// A failed validation makes the exit status non-zero.
        public var abortOnFail = true
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey { case abortOnFail = "abort_on_fail" }
    }

    /// `runtime_limits.*`
    public struct RuntimeLimitsSection: Codable, Sendable, Equatable {
        /// Abort a run that takes longer than this many hours (> 0).
        public var hardAbortHours = 24.0
        /// Abort when tile analysis takes more than this factor times a classical stack (> 0).
        public var tileAnalysisMaxFactorVsStack = 10.0
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case hardAbortHours = "hard_abort_hours"
            case tileAnalysisMaxFactorVsStack = "tile_analysis_max_factor_vs_stack"
        }
    }

    /// `parallel.executor`: where tile tasks run.
    public enum TileExecutor: String, Codable, Sendable, CaseIterable {
        /// Threads of the `tcbuild run` process (no broker).
        case local
        /// `tcbuild worker` processes reached through a RabbitMQ broker, over a shared workspace.
        case rabbitmq
    }

    /// `parallel.*`: how tile tasks are executed (docs/scale-out.md). No key here enters any node's
    /// params: every executor gives the same bytes, so changing them never reruns anything.
    public struct ParallelSection: Codable, Sendable, Equatable {
        /// Where tile tasks run.
        public var executor = TileExecutor.local
        /// The broker of the `rabbitmq` executor: amqp://user:password@host:port/vhost.
        public var brokerURL = "amqp://guest:guest@localhost:5672/%2F"
        /// Tasks a worker holds unacknowledged (1-2): a worker setting, passed to workers the master starts.
        public var prefetch = 1
        /// Attempts per task before it is dead-lettered (>= 1).
        public var maxRetries = 3
        /// Defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case executor, brokerURL = "broker_url", prefetch, maxRetries = "max_retries"
        }
    }
}
