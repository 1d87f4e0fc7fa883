import Foundation

/// One check of phase 10: a measured value against a configured limit.
public struct ValidationCheck: Codable, Sendable, Equatable {
    /// Stable identifier (`fwhm_improvement_percent`, `tile_pattern_ratio`, ...).
    public var name: String
    /// The config key holding the limit (or that enables the check).
    public var key: String
    /// The measured value; nil when it could not be measured (then `detail` says why).
    public var value: Double?
    /// The limit the value is compared with.
    public var limit: Double
    /// `">="` (value must reach the limit) or `"<="` (value must not exceed it).
    public var comparison: String
    /// Whether the check passed. A check that is not required, or not measurable in-node (runtime),
    /// passes; a required check whose value could not be measured fails.
    public var passed: Bool
    /// Whether `value` was measured (false for runtime checks the node cannot know).
    public var measured: Bool
    /// One sentence for the report: what was measured, or why not.
    public var detail: String

    /// `x` rounded to a multiple of `quantum` (no negative zero): a comparison with the limit must not
    /// hinge on float rounding (two identical stacks measured 6.7e-7 % apart), and no measurement here
    /// is better than 1e-4 of a percent or 1e-6 of a ratio.
    public static func rounded(_ x: Double, quantum: Double) -> Double {
        guard x.isFinite, quantum > 0 else { return x }
        let r = (x / quantum).rounded() * quantum
        return r == 0 ? 0 : r
    }

    /// A check, its value rounded to `quantum` (1e-4 for percentages, 1e-6 otherwise). `passed` is
    /// computed from value, limit and comparison.
    public init(name: String, key: String, value: Double?, limit: Double, comparison: String,
                required: Bool = true, measured: Bool = true, quantum: Double = 1e-6, detail: String) {
        self.name = name
        self.key = key
        self.value = value.flatMap { $0.isFinite ? Self.rounded($0, quantum: quantum) : nil }
        self.limit = limit
        self.comparison = comparison
        self.measured = measured
        self.detail = detail
        if !required || !measured {
            passed = true
        } else if let v = self.value {
            passed = comparison == ">=" ? v >= limit : v <= limit
        } else {
            passed = false
        }
    }
}

/// The `validation` artifact (`validation.json`): every check, the overall verdict, and the
/// measurements behind the checks. Encoded with sorted keys; contains no NaN (unmeasured = null).
public struct ValidationReport: Codable, Sendable, Equatable {
    /// Whether every check passed. The runner marks the run FAILED when false.
    public var passed: Bool
    /// `pipeline.abort_on_fail`: whether a failed validation makes the exit status non-zero.
    public var abortOnFail: Bool
    /// The checks, in a fixed order.
    public var checks: [ValidationCheck]
    /// Star FWHM of the final and the classical stack.
    public var fwhm: FWHMComparison
    /// Background noise of both stacks in the classical stack's units.
    public var background: BackgroundComparison
    /// The tile-pattern measurement on the final stack.
    public var tilePattern: TilePatternMeasurement
    /// Signal-carrying and usable tiles.
    public var tiles: TileUsability
    /// Mean over tiles of the variance of W_f,t / mean_f W_f,t over frames (`Validation.tileWeightVariance`).
    public var tileWeightVariance: Double
    /// FWHM, noise and FoM of the final stack, the reconstruction, the classical and the
    /// inverse-variance stack against the classical stack (nil in reports before validation version 3).
    public var stacks: [StackQuality]?

    /// A report; `passed` is the conjunction of the checks.
    public init(abortOnFail: Bool, checks: [ValidationCheck], fwhm: FWHMComparison, background: BackgroundComparison,
                tilePattern: TilePatternMeasurement, tiles: TileUsability, tileWeightVariance: Double) {
        self.abortOnFail = abortOnFail
        self.checks = checks
        self.fwhm = fwhm
        self.background = background
        self.tilePattern = tilePattern
        self.tiles = tiles
        self.tileWeightVariance = tileWeightVariance
        self.passed = checks.allSatisfy(\.passed)
    }

    enum CodingKeys: String, CodingKey {
        case passed, abortOnFail = "abort_on_fail", checks, fwhm, background
        case tilePattern = "tile_pattern", tiles, tileWeightVariance = "tile_weight_variance", stacks
    }

    /// The check named `name`.
    public func check(_ name: String) -> ValidationCheck? { checks.first { $0.name == name } }

    /// Reads a `validation` artifact.
    public static func read(path: String) throws -> ValidationReport {
        try Artifacts.readJSON(ValidationReport.self, path: path, node: NodeName.validation)
    }

    /// Fills the runtime checks, which the node cannot measure without a wall clock (it must stay
    /// deterministic): `elapsedHours` of the whole run against `runtime_limits.hard_abort_hours`, and
    /// `tileAnalysisFactor` (tile-phase seconds / classical-stack seconds) against
    /// `runtime_limits.tile_analysis_max_factor_vs_stack`. A nil argument leaves its check unmeasured.
    /// Recomputes `passed`. Meant for the runner, after the run.
    public mutating func recordRuntime(elapsedHours: Double?, tileAnalysisFactor: Double?) {
        for i in checks.indices {
            let c = checks[i]
            let v: Double?
            switch c.name {
            case Validation.runtimeHours: v = elapsedHours
            case Validation.tileAnalysisFactor: v = tileAnalysisFactor
            default: continue
            }
            guard let v else { continue }
            checks[i] = ValidationCheck(name: c.name, key: c.key, value: v, limit: c.limit, comparison: c.comparison,
                                        detail: c.name == Validation.runtimeHours
                                            ? "wall time of the run, measured by the runner"
                                            : "tile analysis time / classical stack time, measured by the runner")
        }
        passed = checks.allSatisfy(\.passed)
    }
}
