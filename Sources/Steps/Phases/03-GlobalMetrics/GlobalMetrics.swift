import Foundation
import Imaging

/// One frame's row of the `metrics` artifact and of `frame_metrics.csv`.
public struct FrameMetrics: Codable, Sendable, Equatable {
    /// Index in the sorted frame list.
    public var index: Int
    /// Frame file name.
    public var file: String
    /// Raw background B_f (before normalization), mean over channels.
    public var background: Double
    /// Normalized background noise sigma_f, mean over channels.
    public var noise: Double
    /// Normalized gradient energy E_f, mean over channels.
    public var gradient: Double
    /// Q_f after the clamp.
    public var q: Double
    /// G_f = exp(Q_f).
    public var g: Double
    /// Registration residual RMS (px) as reported by registration; nil when not reported.
    public var residual: Double?
    /// Star matches of the registration; nil when not reported.
    public var matches: Int?
    /// Stars detected on the registered frame.
    public var starCount: Int
    /// Median FWHM of the registered frame's unsaturated stars, px; nil without stars.
    public var fwhm: Double?
    /// Relative flux scale s_f of the normalized frame (`FluxScale.relative`, median frame 1); nil in
    /// artifacts written before metrics version 2.
    public var fluxScale: Double?

    /// A row from explicit values.
    public init(index: Int, file: String, background: Double, noise: Double, gradient: Double, q: Double, g: Double,
                residual: Double?, matches: Int?, starCount: Int, fwhm: Double?, fluxScale: Double? = nil) {
        self.fluxScale = fluxScale
        self.index = index
        self.file = file
        self.background = background
        self.noise = noise
        self.gradient = gradient
        self.q = q
        self.g = g
        self.residual = residual
        self.matches = matches
        self.starCount = starCount
        self.fwhm = fwhm
    }
}

/// The `metrics` artifact: global frame metrics in frame-list order. Read it with `FrameMetricsTable.read`.
public struct FrameMetricsTable: Codable, Sendable, Equatable {
    /// One row per frame, index order.
    public var frames: [FrameMetrics]

    /// A table of rows.
    public init(frames: [FrameMetrics]) { self.frames = frames }

    /// Reads a `metrics` artifact.
    public static func read(path: String) throws -> FrameMetricsTable {
        try Artifacts.readJSON(FrameMetricsTable.self, path: path, node: NodeName.metrics)
    }

    /// `frame_metrics.csv`: header `file,B,sigma,E,Q,G,residual,stars,fwhm`, one row per frame in
    /// index order; numbers in shortest round-trip form, an empty field where a value is unknown.
    public func csv() -> String {
        var s = "file,B,sigma,E,Q,G,residual,stars,fwhm\n"
        for r in frames {
            let fields = [CSV.field(r.file), CSV.number(r.background), CSV.number(r.noise), CSV.number(r.gradient),
                          CSV.number(r.q), CSV.number(r.g), r.residual.map(CSV.number) ?? "", String(r.starCount),
                          r.fwhm.map(CSV.number) ?? ""]
            s += fields.joined(separator: ",") + "\n"
        }
        return s
    }
}

/// CSV formatting shared by the metric tables.
enum CSV {
    /// Shortest round-trip decimal; non-finite values give an empty field.
    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "" }
    /// A text field, quoted when it holds a comma, quote or newline.
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// METHOD phase 3 across frames, as pure functions.
public enum GlobalMetrics {
    /// Robust scaling of each channel across frames, then the mean over channels:
    /// `x~_f = mean_c (x_f,c - median_f(x_c)) / (1.4826 MAD_f(x_c))`. `values[f][c]`.
    /// A channel without spread (MAD 0) contributes 0 (see `Statistics.robustStandardize`).
    public static func scaledChannelMean(_ values: [[Double]]) -> [Double] {
        guard let k = values.first?.count, k > 0 else { return values.map { _ in 0 } }
        var sum = [Double](repeating: 0, count: values.count)
        for c in 0..<k {
            let scaled = Statistics.robustStandardize(values.map { $0[c] })
            for f in 0..<values.count { sum[f] += scaled[f] }
        }
        return sum.map { $0 / Double(k) }
    }

    /// `Q_f = clamp(a*(-B~) + b*(-sigma~) + c*E~)` with a, b, c from `weights`; inputs are `[frame][channel]`.
    /// B must be the raw background (before normalization): that is what falls for clear frames and
    /// rises under clouds, moonlight or twilight.
    public static func quality(background: [[Double]], noise: [[Double]], gradient: [[Double]],
                               weights: TCConfig.GlobalWeights, clamp: ClampRange) -> [Double] {
        let b = scaledChannelMean(background), s = scaledChannelMean(noise), e = scaledChannelMean(gradient)
        return (0..<background.count).map { f in
            clamp.clamp(weights.background * -b[f] + weights.noise * -s[f] + weights.gradient * e[f])
        }
    }

    /// The table for `measures` (index order) and the registration summaries.
    public static func table(measures: [FrameMeasurement], registration: [RegistrationSummary], files: [String],
                             section: TCConfig.GlobalMetricsSection) -> FrameMetricsTable {
        let q = quality(background: measures.map { $0.channels.map(\.background) },
                        noise: measures.map { $0.channels.map(\.noise) },
                        gradient: measures.map { $0.channels.map(\.gradient) },
                        weights: section.weights, clamp: section.clamp)
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        let scale = FluxScale.relative(measures)
        return FrameMetricsTable(frames: measures.indices.map { f in
            let m = measures[f]
            return FrameMetrics(index: f, file: files[f], background: Measure.rounded(mean(m.channels.map(\.background))),
                                noise: Measure.rounded(mean(m.channels.map(\.noise))),
                                gradient: Measure.rounded(mean(m.channels.map(\.gradient))),
                                q: q[f], g: exp(q[f]), residual: registration[f].residualRMS,
                                matches: registration[f].matches, starCount: m.starCount, fwhm: m.fwhm,
                                fluxScale: Measure.rounded(scale[f]))
        })
    }
}

/// The fields of a `register/NNNNN#transform` artifact that the metrics read. Decoding ignores
/// every other field, so the registration format can grow without touching this phase.
public struct RegistrationSummary: Decodable, Sendable, Equatable {
    /// RMS of the star-match residuals, px.
    public var residualRMS: Double?
    /// Matched stars.
    public var matches: Int?
    /// Stars detected on the raw frame.
    public var starCount: Int?

    /// A summary from explicit values.
    public init(residualRMS: Double?, matches: Int?, starCount: Int?) {
        self.residualRMS = residualRMS
        self.matches = matches
        self.starCount = starCount
    }
}
