// The typed configuration read from tile_compile.yaml.

/// The whole `tile_compile.yaml`, typed, with the defaults of METHOD.md.
///
/// `TCConfig()` is exactly the default configuration (what an empty file gives). Every value
/// in a `TCConfig` built by `ConfigLoader` has passed its type, range and cross-key checks.
/// Codable keys are the YAML snake_case names, so an encoded config reads like the file;
/// node params are built from sections of this value, never from the file directly.
public struct TCConfig: Codable, Sendable, Equatable {
    /// `data.*`: where the input frames are and the gates on them.
    public var data: DataSection
    /// `registration.*`: phase 1.
    public var registration: RegistrationSection
    /// `normalization.*`: phase 2.
    public var normalization: NormalizationSection
    /// `global_metrics.*`: phase 3.
    public var globalMetrics: GlobalMetricsSection
    /// `tile.*`: phase 4 geometry and the phase 5 star gate.
    public var tile: TileSection
    /// `local_metrics.*`: phase 5.
    public var localMetrics: LocalMetricsSection
    /// `weighting.*`: the noise-aware weights (tcbuild's extension of phases 3-5).
    public var weighting: WeightingSection
    /// `reconstruction.*`: phase 6 (also used by phase 8).
    public var reconstruction: ReconstructionSection
    /// `synthetic.*`: phases 7 and 8.
    public var synthetic: SyntheticSection
    /// `stacking.*`: phase 9.
    public var stacking: StackingSection
    /// `validation.*`: phase 10.
    public var validation: ValidationSection
    /// `pipeline.*`: run control.
    public var pipeline: PipelineSection
    /// `runtime_limits.*`: phase 10 runtime aborts.
    public var runtimeLimits: RuntimeLimitsSection
    /// `parallel.*`: where tile tasks run (no fingerprint reads it).
    public var parallel: ParallelSection

    /// The default configuration: every key at its METHOD.md default.
    public init(data: DataSection = .init(), registration: RegistrationSection = .init(),
                normalization: NormalizationSection = .init(), globalMetrics: GlobalMetricsSection = .init(),
                tile: TileSection = .init(), localMetrics: LocalMetricsSection = .init(),
                weighting: WeightingSection = .init(), reconstruction: ReconstructionSection = .init(), synthetic: SyntheticSection = .init(),
                stacking: StackingSection = .init(), validation: ValidationSection = .init(),
                pipeline: PipelineSection = .init(), runtimeLimits: RuntimeLimitsSection = .init(),
                parallel: ParallelSection = .init()) {
        self.data = data
        self.registration = registration
        self.normalization = normalization
        self.globalMetrics = globalMetrics
        self.tile = tile
        self.localMetrics = localMetrics
        self.weighting = weighting
        self.reconstruction = reconstruction
        self.synthetic = synthetic
        self.stacking = stacking
        self.validation = validation
        self.pipeline = pipeline
        self.runtimeLimits = runtimeLimits
        self.parallel = parallel
    }

    enum CodingKeys: String, CodingKey {
        case data, registration, normalization
        case globalMetrics = "global_metrics"
        case tile
        case localMetrics = "local_metrics"
        case weighting, reconstruction, synthetic, stacking, validation, pipeline
        case runtimeLimits = "runtime_limits"
        case parallel
    }

    /// Decodes a config; a section missing from the data (a run recorded before it existed) takes its defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        data = try c.decodeIfPresent(DataSection.self, forKey: .data) ?? data
        registration = try c.decodeIfPresent(RegistrationSection.self, forKey: .registration) ?? registration
        normalization = try c.decodeIfPresent(NormalizationSection.self, forKey: .normalization) ?? normalization
        globalMetrics = try c.decodeIfPresent(GlobalMetricsSection.self, forKey: .globalMetrics) ?? globalMetrics
        tile = try c.decodeIfPresent(TileSection.self, forKey: .tile) ?? tile
        localMetrics = try c.decodeIfPresent(LocalMetricsSection.self, forKey: .localMetrics) ?? localMetrics
        weighting = try c.decodeIfPresent(WeightingSection.self, forKey: .weighting) ?? weighting
        reconstruction = try c.decodeIfPresent(ReconstructionSection.self, forKey: .reconstruction) ?? reconstruction
        synthetic = try c.decodeIfPresent(SyntheticSection.self, forKey: .synthetic) ?? synthetic
        stacking = try c.decodeIfPresent(StackingSection.self, forKey: .stacking) ?? stacking
        validation = try c.decodeIfPresent(ValidationSection.self, forKey: .validation) ?? validation
        pipeline = try c.decodeIfPresent(PipelineSection.self, forKey: .pipeline) ?? pipeline
        runtimeLimits = try c.decodeIfPresent(RuntimeLimitsSection.self, forKey: .runtimeLimits) ?? runtimeLimits
        parallel = try c.decodeIfPresent(ParallelSection.self, forKey: .parallel) ?? parallel
    }

    /// The value at a dotted key path (`tile.size_factor`) as a canonical string: integers
    /// in decimal, doubles in shortest round-trip form without a trailing `.0` (`0.25`,
    /// `1e-06`, `32`), booleans `true`/`false`, words and paths verbatim, clamps `[-3, 3]`.
    /// Equal values give equal strings. `nil` when the path is not a key in `ConfigLoader.keyPaths()`.
    public func value(at keyPath: String) -> String? {
        ConfigSchema.key(keyPath)?.read(self)
    }
}

/// `[lo, hi]` bounds for a clamp; always `lo < hi` in a loaded config. Encodes as a 2-element array.
public struct ClampRange: Codable, Sendable, Equatable {
    /// Lower bound.
    public var lo: Double
    /// Upper bound.
    public var hi: Double
    /// Creates a range; the loader checks `lo < hi`.
    public init(lo: Double, hi: Double) {
        self.lo = lo
        self.hi = hi
    }
    /// Decodes `[lo, hi]`.
    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        lo = try c.decode(Double.self)
        hi = try c.decode(Double.self)
    }
    /// Encodes `[lo, hi]`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(lo)
        try c.encode(hi)
    }
    /// Clamps `x` into `[lo, hi]`.
    public func clamp(_ x: Double) -> Double { Swift.min(Swift.max(x, lo), hi) }
}

/// `registration.reference`: which frame defines the reference geometry.
/// Encodes as `"auto"`, an integer index, or a path string.
public enum ReferenceFrame: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Pick the best frame automatically.
    case auto
    /// The frame with this 0-based index in the sorted frame list.
    case index(Int)
    /// A FITS file (relative to the workspace, or absolute).
    case path(String)

    /// Decodes `"auto"`, an integer, or any other string as a path.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            self = .index(n)
        } else {
            let s = try c.decode(String.self)
            self = s == "auto" ? .auto : .path(s)
        }
    }
    /// Encodes `"auto"`, the index, or the path.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .index(let n): try c.encode(n)
        case .path(let p): try c.encode(p)
        }
    }
    /// `auto`, the index in decimal, or the path.
    public var description: String {
        switch self {
        case .auto: return "auto"
        case .index(let n): return String(n)
        case .path(let p): return p
        }
    }
}

/// `data.saturation_level`: how the series' saturation level is found.
/// Encodes as `"auto"` or the number of ADU.
public enum SaturationSetting: Codable, Sendable, Equatable, CustomStringConvertible {
    /// SATURATE, else DATAMAX, else the populated maximum of the data, else the BITPIX ceiling
    /// (`SaturationLevel.resolve`).
    case auto
    /// This raw value (ADU, as stored after BZERO/BSCALE), used as is.
    case adu(Double)

    /// Decodes `"auto"` or a number.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let x = try? c.decode(Double.self) {
            self = .adu(x)
        } else {
            let s = try c.decode(String.self)
            guard s == "auto" else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "data.saturation_level: auto or a number, not \(s)")
            }
            self = .auto
        }
    }
    /// Encodes `"auto"` or the number.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .adu(let x): try c.encode(x)
        }
    }
    /// `auto` or the number (`4095`).
    public var description: String {
        switch self {
        case .auto: return "auto"
        case .adu(let x): return formatNumber(x)
        }
    }
}
