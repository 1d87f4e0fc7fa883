import Foundation
import Testing
import TestSupport
@testable import Steps

private func parse(_ lines: [String], overrides: [String] = []) throws -> TCConfig {
    try ConfigLoader.parse(yaml: lines.joined(separator: "\n"), file: "tile_compile.yaml", overrides: overrides)
}

/// A value for every key that differs from its default, written as YAML.
private let everyKeyNonDefault: [String] = [
    "data:",
    "  input_dir: lights",
    "  pattern: \"*.fits\"",
    "  frames_min: 120",
    "  max_exposure_spread_percent: 2.5",
    "  max_nonfinite_fraction: 0.01",
    "  saturation_level: 4095",
    "registration:",
    "  engine: siril",
    "  reference: 17",
    "  output_dir: reg",
    "  registered_filename_pattern: \"r_{index:04d}.fits\"",
    "  min_star_matches: 12",
    "  interpolation: bilinear",
    "  star_threshold_sigma: 4",
    "  on_failure: abort",
    "  cosmetic_correction: false",
    "  debayer: bilinear",
    "normalization: {mode: median}",
    "global_metrics:",
    "  weights: {background: 0.5, noise: 0.25, gradient: 0.25}",
    "  clamp: [-2, 2.5]",
    "tile:",
    "  size_factor: 24.5",
    "  min_size: 48",
    "  max_divisor: 4",
    "  overlap_fraction: 0.125",
    "  star_min_count: 5",
    "local_metrics:",
    "  star_mode:",
    "    weights:",
    "      fwhm: 0.5",
    "      roundness: 0.25",
    "      contrast: 0.25",
    "  structure_mode:",
    "    metric_weight: 0.6",
    "    background_weight: 0.4",
    "  clamp:",
    "    - -1.5",
    "    - 1.5",
    "weighting:",
    "  mode: literal",
    "  strength: 0.5",
    "  local_fwhm: tile",
    "  max_noise_increase_percent: 2",
    "reconstruction:",
    "  eps: 1.0e-9",
    "  window: cosine",
    "  combine: matched",
    "  matched_beta: 4.765",
    "  rejection: sigma",
    "  rejection_kappa_low: 4",
    "  rejection_kappa_high: 2.5",
    "  rejection_iterations: 5",
    "synthetic:",
    "  frames_min: 5",
    "  frames_max: 12",
    "  clustering: time_buckets",
    "  kmeans_restarts: 3",
    "  seed: 42",
    "stacking:",
    "  engine: siril",
    "  method: average",
    "  weights: inverse_variance",
    "  input_dir: syn",
    "  input_pattern: \"s_*.fit\"",
    "  output_file: out.fit",
    "validation:",
    "  min_fwhm_improvement_percent: 7.5",
    "  max_background_rms_increase_percent: 1",
    "  min_tile_weight_variance: 0.05",
    "  require_no_tile_pattern: false",
    "  min_usable_tile_fraction: 0.5",
    "pipeline:",
    "  abort_on_fail: false",
    "runtime_limits:",
    "  hard_abort_hours: 6",
    "  tile_analysis_max_factor_vs_stack: 3.5",
    "parallel:",
    "  executor: rabbitmq",
    "  broker_url: \"amqp://tcb:s3cret@broker.lan:5672/astro\"",
    "  prefetch: 2",
    "  max_retries: 5",
]

@Suite struct ConfigTests {
    @Test func defaultsAreMethodDefaults() throws {
        let c = TCConfig()
        #expect(c.data.inputDir == "frames" && c.data.pattern == "*.fit,*.fits,*.fts,*.fz" && c.data.framesMin == 800)
        #expect(c.data.maxExposureSpreadPercent == 5 && c.data.maxNonfiniteFraction == 0.001)
        #expect(c.registration.engine == .relative && c.registration.reference == .auto)
        #expect(c.registration.outputDir == "registered")
        #expect(c.registration.registeredFilenamePattern == "reg_{index:05d}.fit")
        #expect(c.registration.minStarMatches == 8 && c.registration.interpolation == .lanczos3)
        #expect(c.registration.starThresholdSigma == 5)
        #expect(c.normalization.mode == .background)
        #expect(c.globalMetrics.weights.background == 0.4 && c.globalMetrics.weights.noise == 0.3)
        #expect(c.globalMetrics.weights.gradient == 0.3)
        #expect(c.globalMetrics.clamp == ClampRange(lo: -3, hi: 3))
        #expect(c.tile.sizeFactor == 32 && c.tile.minSize == 64 && c.tile.maxDivisor == 6)
        #expect(c.tile.overlapFraction == 0.25 && c.tile.starMinCount == 3)
        #expect(c.localMetrics.starMode.weights.fwhm == 0.6 && c.localMetrics.starMode.weights.roundness == 0.2)
        #expect(c.localMetrics.starMode.weights.contrast == 0.2)
        #expect(c.localMetrics.structureMode.metricWeight == 0.7)
        #expect(c.localMetrics.structureMode.backgroundWeight == 0.3)
        #expect(c.localMetrics.clamp == ClampRange(lo: -3, hi: 3))
        #expect(c.reconstruction.eps == 1e-6 && c.reconstruction.window == .hanning)
        #expect(c.synthetic.framesMin == 15 && c.synthetic.framesMax == 30 && c.synthetic.clustering == .kmeans)
        #expect(c.synthetic.kmeansRestarts == 8 && c.synthetic.seed == 1)
        #expect(c.stacking.engine == .native && c.stacking.method == .average)
        #expect(c.stacking.inputDir == "synthetic" && c.stacking.inputPattern == "syn_*.fits")
        #expect(c.stacking.outputFile == "stacked.fit")
        #expect(c.validation.minFwhmImprovementPercent == 5 && c.validation.maxBackgroundRmsIncreasePercent == 0)
        #expect(c.validation.minTileWeightVariance == 0.1 && c.validation.requireNoTilePattern)
        #expect(c.validation.minUsableTileFraction == 0.3)
        #expect(c.pipeline.abortOnFail)
        #expect(c.runtimeLimits.hardAbortHours == 24 && c.runtimeLimits.tileAnalysisMaxFactorVsStack == 10)
        #expect(c.parallel.executor == .local && c.parallel.brokerURL == "amqp://guest:guest@localhost:5672/%2F")
        #expect(c.parallel.prefetch == 1 && c.parallel.maxRetries == 3)
    }

    @Test func emptyFileCommentsAndEmptySectionsGiveDefaults() throws {
        #expect(try parse([]) == TCConfig())
        #expect(try parse(["# nothing but a comment", ""]) == TCConfig())
        #expect(try parse(["tile:", "  # size_factor: 40", "synthetic:"]) == TCConfig())
        let partial = try parse(["tile:", "  size_factor: 40"])
        var expected = TCConfig()
        expected.tile.sizeFactor = 40
        #expect(partial == expected)
    }

    @Test func everyKeyReadsFromTheFile() throws {
        let c = try parse(everyKeyNonDefault)
        let d = TCConfig()
        // Every key differs from its default, so a key the loader ignored would show up here.
        for path in ConfigLoader.keyPaths() where path != "stacking.method" {
            #expect(c.value(at: path) != d.value(at: path), "\(path) kept its default")
        }
        #expect(c.registration.reference == .index(17))
        #expect(c.globalMetrics.clamp == ClampRange(lo: -2, hi: 2.5))
        #expect(c.localMetrics.clamp == ClampRange(lo: -1.5, hi: 1.5))
        #expect(c.reconstruction.eps == 1e-9)
        #expect(c.registration.starThresholdSigma == 4)  // an integer where a number is expected
        #expect(c.synthetic.clustering == .timeBuckets)
        #expect(c.data.pattern == "*.fits")
        #expect(c.data.saturationLevel == .adu(4095))
        #expect(c.parallel.executor == .rabbitmq && c.parallel.brokerURL == "amqp://tcb:s3cret@broker.lan:5672/astro")
        #expect(c.parallel.prefetch == 2 && c.parallel.maxRetries == 5)
    }

    @Test func fullRoundTripThroughTemplateRenderingAndJSON() throws {
        let c = try parse(everyKeyNonDefault)
        let rendered = ConfigSchema.renderTemplate(c)
        let back = try ConfigLoader.parse(yaml: rendered, file: "rendered.yaml")
        #expect(back == c)
        let json = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(TCConfig.self, from: json) == c)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"size_factor\":24.5"))
        #expect(text.contains("\"clamp\":[-2,2.5]"))
    }

    @Test func overridesChangeValuesAfterTheFile() throws {
        let c = try parse(["tile:", "  size_factor: 20"], overrides: [
            "tile.size_factor=40", "data.pattern=*.fits", "global_metrics.clamp=[-2, 2]",
            "registration.reference=frames/ref.fit", "pipeline.abort_on_fail=false", "reconstruction.eps=1e-8",
        ])
        #expect(c.tile.sizeFactor == 40)
        #expect(c.data.pattern == "*.fits")
        #expect(c.globalMetrics.clamp == ClampRange(lo: -2, hi: 2))
        #expect(c.registration.reference == .path("frames/ref.fit"))
        #expect(!c.pipeline.abortOnFail)
        #expect(c.reconstruction.eps == 1e-8)
        // Later overrides win; weight groups are checked after all overrides.
        let w = try parse([], overrides: ["global_metrics.weights.background=0.6", "global_metrics.weights.noise=0.1"])
        #expect(w.globalMetrics.weights.background == 0.6 && w.globalMetrics.weights.noise == 0.1)
    }

    @Test func badOverrideNamesTheSetArgument() throws {
        let e = try #require(throws: ConfigError.self) { try parse([], overrides: ["tile.size_factor=abc"]) }
        #expect(e.description.contains("--set tile.size_factor"))
        #expect(e.description.contains("expected a number, got \"abc\""))
        #expect(e.keyPath == "tile.size_factor" && e.file == nil && e.line == nil)
        let m = try #require(throws: ConfigError.self) { try parse([], overrides: ["tile.size_factor"]) }
        #expect(m == .malformedOverride("tile.size_factor"))
        let u = try #require(throws: ConfigError.self) { try parse([], overrides: ["tile.min_sise=9"]) }
        #expect(u.description.contains("did you mean 'tile.min_size'?"))
        let r = try #require(throws: ConfigError.self) { try parse([], overrides: ["tile.overlap_fraction=0.5"]) }
        #expect(r.description == "--set tile.overlap_fraction=0.5: tile.overlap_fraction = 0.5 is out of range; allowed [0, 0.5)")
    }

    @Test func quotedNumberForAnIntegerKeyIsATypeError() throws {
        let e = try #require(throws: ConfigError.self) { try parse(["tile:", "  min_size: \"3\""]) }
        guard case .wrongType(_, let key, let expected, let got) = e else {
            Issue.record("expected wrongType, got \(e)")
            return
        }
        #expect(key == "tile.min_size" && expected == "an integer")
        #expect(got.hasPrefix("\"3\"") && got.contains("remove the quotes"))
        #expect(e.line == 2)
    }

    @Test func booleansAreTrueOrFalseOnly() throws {
        #expect(try parse(["pipeline:", "  abort_on_fail: false"]).pipeline.abortOnFail == false)
        let e = try #require(throws: ConfigError.self) { try parse(["pipeline:", "  abort_on_fail: yes"]) }
        #expect(e.description == "tile_compile.yaml:2: pipeline.abort_on_fail: expected true or false, got \"yes\"")
    }

    @Test func integersAreNotAcceptedAsFractions() throws {
        let e = try #require(throws: ConfigError.self) { try parse(["tile:", "  min_size: 64.5"]) }
        #expect(e.description == "tile_compile.yaml:2: tile.min_size: expected an integer, got 64.5")
    }

    @Test func valueAtGivesCanonicalStrings() throws {
        let c = TCConfig()
        #expect(c.value(at: "tile.size_factor") == "32")
        #expect(c.value(at: "tile.overlap_fraction") == "0.25")
        #expect(c.value(at: "reconstruction.eps") == "1e-06")
        #expect(c.value(at: "global_metrics.clamp") == "[-3, 3]")
        #expect(c.value(at: "registration.engine") == "relative")
        #expect(c.value(at: "synthetic.clustering") == "kmeans")
        #expect(c.value(at: "validation.require_no_tile_pattern") == "true")
        #expect(c.value(at: "data.saturation_level") == "auto")
        #expect(c.value(at: "tile") == nil)
        #expect(c.value(at: "tile.size_factr") == nil)
        // Every key path has a value, and reading it back as an override reproduces the config.
        let paths = ConfigLoader.keyPaths()
        #expect(paths.count == 67 && Set(paths).count == paths.count)
        let custom = try parse(everyKeyNonDefault)
        let overrides = paths.map { "\($0)=\(custom.value(at: $0)!)" }
        #expect(try ConfigLoader.parse(yaml: "", file: "x.yaml", overrides: overrides) == custom)
    }

    @Test func yamlTreeKeepsMarksStylesAndOrder() throws {
        let text = "a:\n  b: \"3\"\n  c: 3\n  d: [1, 'x']\n"
        let root = try #require(try YAMLParser.parse(text, file: "t.yaml"))
        guard case .mapping(let top, _) = root, case .mapping(let inner, _) = top[0].value else {
            Issue.record("expected nested mappings")
            return
        }
        #expect(top[0].key == "a" && top[0].keyMark == YAMLNode.Mark(line: 1, column: 1))
        #expect(inner.map(\.key) == ["b", "c", "d"])
        #expect(inner[0].keyMark == YAMLNode.Mark(line: 2, column: 3))
        #expect(inner[0].value.resolved == .string("3"))
        #expect(inner[1].value.resolved == .int(3))
        #expect(inner[1].value.mark == YAMLNode.Mark(line: 3, column: 6))
        guard case .sequence(let items, _) = inner[2].value else {
            Issue.record("expected a sequence")
            return
        }
        #expect(items.map(\.resolved) == [.int(1), .string("x")])
        #expect(try YAMLParser.parse("", file: "t.yaml") == nil)
    }

    @Test func loadReadsAFileAndReportsAMissingOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tcbuild-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tile_compile.yaml").path
        try "tile:\n  min_size: 96\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ConfigLoader.load(path: path, overrides: ["tile.max_divisor=3"]).tile.minSize == 96)
        #expect(try ConfigLoader.load(path: path, overrides: ["tile.max_divisor=3"]).tile.maxDivisor == 3)
        let missing = dir.appendingPathComponent("nope.yaml").path
        let e = try #require(throws: ConfigError.self) { try ConfigLoader.load(path: missing) }
        #expect(e.file == missing && e.description.contains("no such file"))
    }

    @Test func workspaceTemplateListsEveryKeyWithItsDefault() throws {
        let url = packageRoot.appendingPathComponent("workspace-template/tile_compile.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(try ConfigLoader.parse(yaml: text, file: url.path) == TCConfig())
        let root = try #require(try YAMLParser.parse(text, file: url.path))
        var leaves: [String] = []
        func walk(_ node: YAMLNode, _ prefix: String) {
            guard case .mapping(let entries, _) = node else { leaves.append(prefix); return }
            for e in entries { walk(e.value, prefix.isEmpty ? e.key : "\(prefix).\(e.key)") }
        }
        walk(root, "")
        #expect(leaves == ConfigLoader.keyPaths())
    }

    @Test func docsReferenceTableMatchesTheSchema() throws {
        let url = packageRoot.appendingPathComponent("docs/config.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains(ConfigSchema.renderMarkdownTable()),
                "docs/config.md is out of date; paste ConfigSchema.renderMarkdownTable() into it")
    }
}
