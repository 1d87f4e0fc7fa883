import Testing
@testable import Steps

/// Parses `lines` as tile_compile.yaml and returns the error it must raise.
private func failure(_ lines: [String], overrides: [String] = [],
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> ConfigError {
    try #require(throws: ConfigError.self, sourceLocation: sourceLocation) {
        try ConfigLoader.parse(yaml: lines.joined(separator: "\n"), file: "tile_compile.yaml", overrides: overrides)
    }
}

/// Six harmless lines so the offending key lands on line 7.
private let preamble = [
    "data:",               // 1
    "  frames_min: 100",   // 2
    "registration:",       // 3
    "  engine: relative",  // 4
    "normalization:",      // 5
    "  mode: background",  // 6
]

@Suite struct ConfigErrorTests {
    @Test func syntaxErrorGivesLineColumnAndLibyamlProblem() throws {
        let e = try failure(preamble + ["tile:", "  size_factor: [1, 2", "  min_size: 64"])
        guard case .syntax(let at, let problem, _) = e else {
            Issue.record("expected a syntax error, got \(e)")
            return
        }
        #expect(!problem.isEmpty)
        #expect(at.line == 9)  // libyaml notices the unclosed flow sequence at the next key
        #expect(e.description.hasPrefix("tile_compile.yaml:9:\(at.column!): YAML syntax error: \(problem)"))
        let tab = try failure(["tile:", "\tsize_factor: 3"])
        #expect(tab.line == 2 && tab.description.contains("YAML syntax error"))
    }

    @Test func unknownKeySuggestsTheClosestSibling() throws {
        let e = try failure(preamble + ["tile:", "  size_factr: 40"])
        #expect(e.description == "tile_compile.yaml:8: unknown key 'tile.size_factr'; did you mean 'tile.size_factor'?")
        #expect(e.line == 8 && e.keyPath == "tile.size_factr")
        let top = try failure(preamble + ["tiles:", "  size_factor: 40"])
        #expect(top.line == 7 && top.description.contains("unknown key 'tiles'; did you mean 'tile'?"))
        let moved = try failure(preamble + ["tile:", "  seed: 3"])
        #expect(moved.description.contains("unknown key 'tile.seed'; did you mean 'synthetic.seed'?"))
        let far = try failure(["tile:", "  zzzzzzzz: 1"])
        #expect(far.description.contains("valid keys here: size_factor, min_size, max_divisor"))
    }

    @Test func wrongTypeNamesKeyAndLine() throws {
        let e = try failure(preamble + ["tile:", "  size_factor: 32", "  min_size: big"])
        #expect(e.description == "tile_compile.yaml:9: tile.min_size: expected an integer, got \"big\"")
        let clamp = try failure(preamble + ["global_metrics:", "  clamp: 3"])
        #expect(clamp.line == 8 && clamp.description.contains("global_metrics.clamp: expected a list of two numbers"))
        let section = try failure(preamble + ["tile: 5"])
        #expect(section.line == 7 && section.description.contains("tile: expected a mapping with keys size_factor"))
        let null = try failure(preamble + ["tile:", "  min_size:"])
        #expect(null.line == 8 && null.description.contains("delete the line to use the default"))
        let top = try failure(["just a string"])
        #expect(top.line == 1 && top.description.contains("expected a mapping of sections"))
    }

    @Test func outOfRangeShowsTheAllowedInterval() throws {
        let e = try failure(preamble + ["tile:", "  min_size: 64", "  overlap_fraction: 0.7"])
        #expect(e.description == "tile_compile.yaml:9: tile.overlap_fraction = 0.7 is out of range; allowed [0, 0.5)")
        let low = try failure(preamble + ["tile:", "  min_size: 4"])
        #expect(low.description.contains("tile.min_size = 4 is out of range; allowed >= 8"))
        let clamp = try failure(["local_metrics:", "  clamp: [3, -3]"])
        #expect(clamp.line == 2 && clamp.description.contains("local_metrics.clamp = [3, -3] is out of range"))
    }

    @Test func saturationLevelIsAutoOrAPositiveNumber() throws {
        let e = try failure(preamble.prefix(2) + ["  saturation_level: lots"])
        #expect(e.line == 3 && e.keyPath == "data.saturation_level")
        #expect(e.description == "tile_compile.yaml:3: data.saturation_level: expected auto or a number of ADU (e.g. 4095), got \"lots\"")
        let zero = try failure(preamble.prefix(2) + ["  saturation_level: 0"])
        #expect(zero.line == 3 && zero.description.contains("data.saturation_level") && zero.description.contains("> 0"))
        let quoted = try failure(preamble.prefix(2) + ["  saturation_level: \"4095\""])
        #expect(quoted.description.contains("quoted, so it is text"))
        let set = try failure([], overrides: ["data.saturation_level=lots"])
        #expect(set.description.hasPrefix("--set data.saturation_level=lots: data.saturation_level: expected auto or a number"))
        let ok = try ConfigLoader.parse(yaml: "data:\n  saturation_level: 4095\n", file: "t.yaml")
        #expect(ok.data.saturationLevel == .adu(4095))
        #expect(try ConfigLoader.parse(yaml: "data:\n  saturation_level: auto\n", file: "t.yaml").data.saturationLevel == .auto)
        #expect(try ConfigLoader.parse(yaml: "", file: "t.yaml", overrides: ["data.saturation_level=65520.5"]).data.saturationLevel == .adu(65520.5))
    }

    @Test func enumListsAllowedValues() throws {
        let e = try failure(preamble.prefix(3) + ["  reference: auto", "  engine: foo"])
        #expect(e.description == "tile_compile.yaml:5: registration.engine = 'foo' is not one of siril, relative, wcs_anchor")
    }

    @Test func weightsMustSumToOne() throws {
        let e = try failure(["data:", "  frames_min: 10", "global_metrics:", "  weights:", "    background: 0.5"])
        #expect(e.description == "tile_compile.yaml:4: global_metrics.weights must sum to 1 "
                + "(background 0.5 + noise 0.3 + gradient 0.3 = 1.1)")
        let local = try failure(["local_metrics:", "  structure_mode:", "    metric_weight: 0.8"])
        #expect(local.keyPath == "local_metrics.structure_mode" && local.line == 2)
        let over = try failure([], overrides: ["local_metrics.star_mode.weights.fwhm=0.7"])
        #expect(over.description.hasPrefix("--set local_metrics.star_mode.weights.fwhm=0.7: local_metrics.star_mode.weights must sum to 1"))
        // With several overrides in a group, the message names the last one applied.
        let two = try failure(["global_metrics:", "  weights: {noise: 0.3}"],
                              overrides: ["global_metrics.weights.noise=0.2", "global_metrics.weights.gradient=0.2"])
        #expect(two.location.override == "global_metrics.weights.gradient=0.2")
        #expect(two.description.contains("(background 0.4 + noise 0.2 + gradient 0.2 = 0.8)"))
    }

    @Test func crossKeyFramesMinMax() throws {
        let e = try failure(preamble + ["synthetic:", "  frames_min: 40"])
        #expect(e.line == 8)
        #expect(e.description.hasPrefix("tile_compile.yaml:8: synthetic.frames_min (40) must not exceed synthetic.frames_max (30)"))
        let over = try failure([], overrides: ["synthetic.frames_max=10"])
        #expect(over.description.hasPrefix("--set synthetic.frames_max=10: synthetic.frames_min (15) must not exceed"))
    }

    @Test func firstErrorInFileOrderWins() throws {
        let e = try failure(["synthetic:", "  frames_min: 40", "global_metrics:", "  weights:", "    noise: 0.9"])
        #expect(e.line == 2 && e.keyPath == "synthetic.frames_min")
        let typeFirst = try failure(["synthetic:", "  frames_min: 40", "tile:", "  min_size: big"])
        #expect(typeFirst.line == 4)  // per-key checks run while reading; cross-key rules after
    }

    @Test func duplicateKeyNamesBothLines() throws {
        let e = try failure(preamble + ["tile:", "  size_factor: 30", "  min_size: 64", "  size_factor: 40"])
        #expect(e.description == "tile_compile.yaml:10: duplicate key 'tile.size_factor' (first set on line 8); keep only one of the two lines")
        let top = try failure(["tile:", "  min_size: 64", "tile:", "  max_divisor: 3"])
        #expect(top.line == 3 && top.description.contains("(first set on line 1)"))
    }

    @Test func aliasesAndDeepNestingAreRejected() throws {
        let e = try failure(["tile:", "  min_size: &m 64", "  max_divisor: *m"])
        #expect(e.line == 3 && e.keyPath == "tile.max_divisor" && e.description.contains("aliases"))
        let deep = try failure([String(repeating: "[", count: 100) + String(repeating: "]", count: 100)])
        #expect(deep.line == 1 && deep.description.contains("nested deeper than 64 levels"))
        let glob = try failure(["data:", "  pattern: *.fits"])
        #expect(glob.line == 2 && glob.description.contains("must be quoted"), "\(glob)")
    }
}
