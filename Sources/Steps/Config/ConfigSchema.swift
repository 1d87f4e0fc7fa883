// The list of every config key, in file order, with its type, range, default and meaning.

/// The config schema: every leaf key of `tile_compile.yaml` in the order the template lists them,
/// plus the groups of weights that must sum to 1. Single source of truth for the loader,
/// `keyPaths()`, `TCConfig.value(at:)` and the docs.
enum ConfigSchema {
    static let keys: [ConfigKey] = [
        .text("data.input_dir", \.data.inputDir, "directory of the input frames, relative to the workspace", "scan"),
        .text("data.pattern", \.data.pattern, "globs selecting input frames in data.input_dir, comma-separated, any letter case (*.fits matches X.FITS)", "scan"),
        .int("data.frames_min", \.data.framesMin, .atLeast(1), "fewer frames than this (scanned, then registered) aborts the run", "scan"),
        .double("data.max_exposure_spread_percent", \.data.maxExposureSpreadPercent, .atLeast(0),
                "largest allowed exposure-time spread, percent of the median", "scan"),
        .double("data.max_nonfinite_fraction", \.data.maxNonfiniteFraction, .closed(0, 1),
                "largest allowed fraction of NaN/Inf pixels in a frame", "scan"),
        .saturation("data.saturation_level", \.data.saturationLevel,
                    "raw level at which the camera saturates; auto: SATURATE, else DATAMAX, else the populated maximum "
                    + "of the data (the ADC ceiling, e.g. 4095), else the BITPIX ceiling; stars reaching 98 % of it "
                    + "are never used for FWHM, registration fits or weights", "scan, 1 registration, 2 measure"),

        .choice("registration.engine", \.registration.engine, "registration backend", "1 registration"),
        .reference("registration.reference", \.registration.reference,
                   "which frame defines the reference geometry", "1 registration"),
        .text("registration.output_dir", \.registration.outputDir,
              "directory where registered frames are materialized", "1 registration"),
        .text("registration.registered_filename_pattern", \.registration.registeredFilenamePattern,
              "registered frame file name; {index:05d} is the zero-padded frame index", "1 registration"),
        .int("registration.min_star_matches", \.registration.minStarMatches, .atLeast(3),
             "a frame matching fewer stars than this cannot be registered (registration.on_failure)", "1 registration"),
        .choice("registration.interpolation", \.registration.interpolation, "resampling kernel", "1 registration"),
        .double("registration.star_threshold_sigma", \.registration.starThresholdSigma, .above(0),
                "star detection threshold in background sigmas", "1 registration"),
        .choice("registration.on_failure", \.registration.onFailure,
                "a frame that cannot be registered (too few stars or matches, fit residual too large): "
                + "exclude = leave it out with a warning; abort = exit 1 naming every such frame",
                "1 registration"),
        .bool("registration.cosmetic_correction", \.registration.cosmeticCorrection,
              "replace isolated hot and dead pixels (single-pixel spikes, same-colour neighbours for CFA) by their "
              + "neighbours' median before warping, so drift does not smear them into every registered frame",
              "1 registration"),
        .choice("registration.debayer", \.registration.debayer,
                "demosaic of one-shot-colour frames before the warp: mhc (Malvar-He-Cutler, gradient-corrected, sharper) "
                + "or bilinear (a param of register/NNNNN of OSC frames only)", "1 registration"),

        .choice("normalization.mode", \.normalization.mode,
                "how the frame background B_f is estimated (I' = I / B_f)", "2 normalization"),

        .double("global_metrics.weights.background", \.globalMetrics.weights.background, .closed(0, 1),
                "a: weight of -B~ in Q_f", "3 global metrics"),
        .double("global_metrics.weights.noise", \.globalMetrics.weights.noise, .closed(0, 1),
                "b: weight of -sigma~ in Q_f", "3 global metrics"),
        .double("global_metrics.weights.gradient", \.globalMetrics.weights.gradient, .closed(0, 1),
                "c: weight of E~ in Q_f", "3 global metrics"),
        .clamp("global_metrics.clamp", \.globalMetrics.clamp, "Q_f is clamped to [lo, hi] before G_f = exp(Q_f)",
               "3 global metrics"),

        .double("tile.size_factor", \.tile.sizeFactor, .above(0), "tile side T = size_factor * FWHM before clipping",
                "4 tile geometry"),
        .int("tile.min_size", \.tile.minSize, .atLeast(8), "smallest tile side in pixels", "4 tile geometry"),
        .int("tile.max_divisor", \.tile.maxDivisor, .atLeast(1), "largest tile side is min(W, H) / max_divisor",
             "4 tile geometry"),
        .double("tile.overlap_fraction", \.tile.overlapFraction, .halfOpen(0, 0.5),
                "overlap O = overlap_fraction * T; step S = T - O", "4 tile geometry"),
        .int("tile.star_min_count", \.tile.starMinCount, .atLeast(1),
             "a tile with at least this many stars uses star mode", "5 local metrics"),

        .double("local_metrics.star_mode.weights.fwhm", \.localMetrics.starMode.weights.fwhm, .closed(0, 1),
                "weight of -log(FWHM)~ in Q_star", "5 local metrics"),
        .double("local_metrics.star_mode.weights.roundness", \.localMetrics.starMode.weights.roundness, .closed(0, 1),
                "weight of R~ in Q_star", "5 local metrics"),
        .double("local_metrics.star_mode.weights.contrast", \.localMetrics.starMode.weights.contrast, .closed(0, 1),
                "weight of C~ in Q_star", "5 local metrics"),
        .double("local_metrics.structure_mode.metric_weight", \.localMetrics.structureMode.metricWeight, .closed(0, 1),
                "weight of (E/sigma)~ in Q_struct", "5 local metrics"),
        .double("local_metrics.structure_mode.background_weight", \.localMetrics.structureMode.backgroundWeight,
                .closed(0, 1), "weight of -B~ in Q_struct", "5 local metrics"),
        .clamp("local_metrics.clamp", \.localMetrics.clamp, "Q_local is clamped to [lo, hi] before L = exp(Q_local)",
               "5 local metrics"),

        .choice("weighting.mode", \.weighting.mode,
                "noise_aware: W = exp(alpha (Q_f + Q_local)) x the frame's flux-normalized inverse variance; "
                + "literal: METHOD's v2 weights W = G_f L_f,t (the other weighting keys are ignored)", "5 local metrics"),
        .strength("weighting.strength", \.weighting.strength,
                  "alpha on the Q exponents (1 = METHOD's); auto: per tile, the largest predicted faint-star FoM "
                  + "whose predicted noise stays within weighting.max_noise_increase_percent of the classical mean's",
                  "5 local metrics"),
        .choice("weighting.local_fwhm", \.weighting.localFwhm,
                "field: per-frame FWHM x the tile's field factor (follows the seeing); tile: the tile's own star fits",
                "5 local metrics"),
        .double("weighting.max_noise_increase_percent", \.weighting.maxNoiseIncreasePercent, .closed(0, 100),
                "noise budget of strength auto: predicted noise vs the classical mean's, percent", "5 local metrics"),

        .double("reconstruction.eps", \.reconstruction.eps, .above(0),
                "weight sums below eps fall back to the unweighted mean", "6 reconstruction, 8 synthetic frames"),
        .choice("reconstruction.window", \.reconstruction.window, "overlap-add window",
                "6 reconstruction, 8 synthetic frames"),
        .choice("reconstruction.combine", \.reconstruction.combine,
                "how a tile's frames are combined: weighted (mean with the tile weights W_f,t) or matched "
                + "(proper coaddition, Zackay & Ofek 2017: PSF-matched, inverse-variance optimal, ignores W)",
                "6 reconstruction, 8 synthetic frames"),
        .double("reconstruction.matched_beta", \.reconstruction.matchedBeta, .above(1),
                "Moffat beta of the PSF model for combine: matched (the FWHM comes from each frame's stars)",
                "6 reconstruction, 8 synthetic frames"),
        .choice("reconstruction.rejection", \.reconstruction.rejection,
                "per-pixel outlier rejection (trails, cosmic rays, hot pixels) against the median of all frames, "
                + "residuals scaled by each frame's noise; the masks reach reconstruction, synthetic frames "
                + "and the classical stack", "6 rejection"),
        .double("reconstruction.rejection_kappa_low", \.reconstruction.rejectionKappaLow, .above(0),
                "reject values below median - kappa_low * spread", "6 rejection"),
        .double("reconstruction.rejection_kappa_high", \.reconstruction.rejectionKappaHigh, .above(0),
                "reject values above median + kappa_high * spread", "6 rejection"),
        .int("reconstruction.rejection_iterations", \.reconstruction.rejectionIterations, .atLeast(1),
             "clipping rounds per pixel", "6 rejection"),

        .int("synthetic.frames_min", \.synthetic.framesMin, .atLeast(1),
             "fewest clusters (synthetic frames); <= synthetic.frames_max", "7 clustering"),
        .int("synthetic.frames_max", \.synthetic.framesMax, .atLeast(1), "most clusters (synthetic frames)",
             "7 clustering"),
        .choice("synthetic.clustering", \.synthetic.clustering, "how frames are grouped into states", "7 clustering"),
        .int("synthetic.kmeans_restarts", \.synthetic.kmeansRestarts, .atLeast(1),
             "deterministic k-means initializations", "7 clustering"),
        .int("synthetic.seed", \.synthetic.seed, nil, "seed of the clustering RNG", "7 clustering"),

        .choice("stacking.engine", \.stacking.engine, "final stacking backend", "9 stacking"),
        .choice("stacking.method", \.stacking.method, "combination of the synthetic frames (linear average)",
                "9 stacking"),
        .choice("stacking.weights", \.stacking.weights,
                "weights of the synthetic frames in the average: equal (METHOD literal) or inverse_variance "
                + "(1 / each synthetic frame's pixel noise^2; native engine, the siril engine averages with equal weights)",
                "9 stacking"),
        .text("stacking.input_dir", \.stacking.inputDir, "directory where synthetic frames are materialized",
              "8 synthetic frames, 9 stacking"),
        .text("stacking.input_pattern", \.stacking.inputPattern, "glob of the synthetic frames",
              "8 synthetic frames, 9 stacking"),
        .text("stacking.output_file", \.stacking.outputFile, "file name of the final stack", "9 stacking"),

        .double("validation.min_fwhm_improvement_percent", \.validation.minFwhmImprovementPercent, nil,
                "least FWHM improvement vs a classical stack, percent", "10 validation"),
        .double("validation.max_background_rms_increase_percent", \.validation.maxBackgroundRmsIncreasePercent,
                .atLeast(0), "largest background RMS increase vs a classical stack, percent", "10 validation"),
        .double("validation.min_tile_weight_variance", \.validation.minTileWeightVariance, .atLeast(0),
                "least variance of the tile weights W_f,t", "10 validation"),
        .bool("validation.require_no_tile_pattern", \.validation.requireNoTilePattern,
              "fail when a tile pattern shows in the result", "10 validation"),
        .double("validation.min_usable_tile_fraction", \.validation.minUsableTileFraction, .closed(0, 1),
                "least fraction of signal-carrying tiles that are usable", "10 validation"),

        .bool("pipeline.abort_on_fail", \.pipeline.abortOnFail,
              "a failed validation gives a non-zero exit status", "10 validation (exit status)"),

        .double("runtime_limits.hard_abort_hours", \.runtimeLimits.hardAbortHours, .above(0),
                "abort a run that takes longer than this", "whole run"),
        .double("runtime_limits.tile_analysis_max_factor_vs_stack", \.runtimeLimits.tileAnalysisMaxFactorVsStack,
                .above(0), "abort when tile analysis takes longer than this times a classical stack",
                "5 local metrics, 6 reconstruction"),

        .choice("parallel.executor", \.parallel.executor,
                "where tile tasks run: local = threads of tcbuild run; rabbitmq = tcbuild worker processes through "
                + "parallel.broker_url over a shared workspace (docs/scale-out.md); never changes a byte or a fingerprint",
                "6 reconstruction, 8 synthetic frames (executor only)"),
        .text("parallel.broker_url", \.parallel.brokerURL,
              "RabbitMQ broker of the rabbitmq executor: amqp://user:password@host:port/vhost", "6, 8 (executor only)"),
        .int("parallel.prefetch", \.parallel.prefetch, .closed(1, 16),
             "tasks a worker holds unacknowledged (1-2 recommended; tcbuild worker --prefetch)", "6, 8 (executor only)"),
        .int("parallel.max_retries", \.parallel.maxRetries, .closed(1, 100),
             "attempts per tile task before it is dead-lettered into tile.dlq and the run fails naming the tile",
             "6, 8 (executor only)"),
    ]

    /// Groups of weights that must sum to 1 (within 1e-6): the group path and its members' names.
    static let weightGroups: [(group: String, members: [String])] = [
        ("global_metrics.weights", ["background", "noise", "gradient"]),
        ("local_metrics.star_mode.weights", ["fwhm", "roundness", "contrast"]),
        ("local_metrics.structure_mode", ["metric_weight", "background_weight"]),
    ]

    static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })

    /// Every path that names a section (a mapping) rather than a value, e.g. `tile`, `global_metrics.weights`.
    static let sectionPaths: Set<String> = {
        var s: Set<String> = []
        for k in keys {
            var parts = k.path.split(separator: ".").dropLast()
            while !parts.isEmpty {
                s.insert(parts.joined(separator: "."))
                parts = parts.dropLast()
            }
        }
        return s
    }()

    static func key(_ path: String) -> ConfigKey? { byPath[path] }

    /// The names valid directly under `section` ("" for the top level), in schema order.
    static func children(of section: String) -> [String] {
        var out: [String] = []
        let prefix = section.isEmpty ? "" : section + "."
        for k in keys where k.path.hasPrefix(prefix) {
            let rest = k.path.dropFirst(prefix.count)
            let name = String(rest.split(separator: ".").first ?? "")
            if !out.contains(name) { out.append(name) }
        }
        return out
    }
}
