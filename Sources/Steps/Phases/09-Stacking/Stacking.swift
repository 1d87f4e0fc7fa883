import Foundation
import Graph
import Imaging

/// Parameters of `stack` (phase 9): `stacking.engine`, `stacking.method` and `synthetic.frames_max`
/// (the number of synthetic inputs, so explain names it when it changes). The input directory,
/// pattern and output file name only decide where artifacts are materialized, so editing them does
/// not rerun the stack.
public struct StackingParams: Codable, Sendable, Equatable {
    /// The keys of `stacking` that change the result.
    public struct Combination: Codable, Sendable, Equatable {
        /// `stacking.engine`.
        public var engine: TCConfig.StackingEngine
        /// `stacking.method` (only `average` exists).
        public var method: TCConfig.StackingMethod
        /// `stacking.weights`.
        public var weights: TCConfig.StackingWeights
        /// The keys.
        public init(engine: TCConfig.StackingEngine, method: TCConfig.StackingMethod, weights: TCConfig.StackingWeights) {
            self.engine = engine
            self.method = method
            self.weights = weights
        }
    }
    /// `synthetic.frames_max`: how many `synthetic/NN` inputs the stack has (it shapes the node).
    public struct SyntheticCount: Codable, Sendable, Equatable {
        /// `synthetic.frames_max`, clamped as `SyntheticFrames.count` clamps it.
        public var framesMax: Int
        enum CodingKeys: String, CodingKey { case framesMax = "frames_max" }
    }
    /// `stacking.engine`, `stacking.method`, `stacking.weights`.
    public var stacking: Combination
    /// `synthetic.frames_max`.
    public var synthetic: SyntheticCount

    /// Parameters from `config`.
    public init(config: TCConfig) {
        stacking = Combination(engine: config.stacking.engine, method: config.stacking.method, weights: config.stacking.weights)
        synthetic = SyntheticCount(framesMax: SyntheticFrames.count(config))
    }
}

/// Phase 9: the final stack, a linear average of the synthetic frames (no rejection, no normalization,
/// no drizzle), each with weight 1 (`stacking.weights: equal`, METHOD's literal average) or 1 / its pixel
/// noise^2 (`inverse_variance`): clusters differ in size, so the synthetic frames differ in noise, and an
/// equal-weight average of unequal frames has more noise than their inverse-variance mean.
public enum Stacking {
    /// Code version; bump when the computation changes.
    public static let version = 1

    /// The non-empty files among `paths` (a zero-byte artifact means "cluster k does not exist").
    public static func nonEmpty(_ paths: [String]) -> [String] {
        paths.filter { Artifacts.fileSize($0) ?? 0 > 0 }
    }

    /// The native engine: NaN-aware mean of `paths` (float32 FITS of one size), streamed in row bands,
    /// in the given order. With `trackComplete`, also which pixels had a finite value in every input.
    /// Throws `StepError.badArtifact` when `paths` is empty or the frames differ in size or planes.
    public static func nativeAverage(_ paths: [String], weights: [Double]? = nil, trackComplete: Bool = false,
                                     node: String = NodeName.stack) throws -> MeanResult {
        guard let first = paths.first else {
            throw StepError.badArtifact(node: node, message: "no synthetic frame to stack: every synthetic/NN artifact is empty; "
                + "check the clusters node (synthetic.frames_min / frames_max)")
        }
        let h: FITSHeader
        do { h = try FITS.readHeader(first) } catch {
            throw StepError.badArtifact(node: node, message: "synthetic frame \(first) unreadable: \(error)")
        }
        for p in paths.dropFirst() {
            let o: FITSHeader
            do { o = try FITS.readHeader(p) } catch {
                throw StepError.badArtifact(node: node, message: "synthetic frame \(p) unreadable: \(error)")
            }
            guard o.width == h.width, o.height == h.height, o.channels == h.channels else {
                throw StepError.badArtifact(node: node, message: "synthetic frames differ in size: \(first) is "
                    + "\(h.width)x\(h.height)x\(h.channels), \(p) is \(o.width)x\(o.height)x\(o.channels)")
            }
        }
        let inputs = paths.enumerated().map {
            MeanInput(path: $0.element, divisors: [Double](repeating: 1, count: h.channels), name: $0.element, weight: weights?[$0.offset] ?? 1)
        }
        return try StreamingMean.average(inputs, width: h.width, height: h.height, channels: h.channels,
                                         trackComplete: trackComplete, node: node)
    }

    /// Stacks `paths` with `engine`: `.native` is `nativeAverage`; `.siril` runs siril-cli
    /// (`Stacking.sirilAverage`). Returns the image and lines for the run log.
    public static func stack(_ paths: [String], engine: TCConfig.StackingEngine, weights: TCConfig.StackingWeights = .equal,
                             node: String = NodeName.stack) throws -> (image: Image, log: [String]) {
        switch engine {
        case .native:
            guard weights == .inverseVariance, paths.count > 1 else {
                return (try nativeAverage(paths, node: node).image, ["native average of \(paths.count) synthetic frames"])
            }
            let noise = try paths.map { try pixelNoise($0, node: node) }
            let w = noise.map { 1 / ($0 * $0) }
            let mean = w.reduce(0, +) / Double(w.count)
            let relative = w.map { $0 / mean }  // mean 1: the weights' scale does not matter, this only reads better
            let shown = zip(paths, zip(noise, relative)).map {
                "\(($0.0 as NSString).lastPathComponent) noise \(String(format: "%.4g", $0.1.0)) weight \(String(format: "%.3f", $0.1.1))"
            }
            return (try nativeAverage(paths, weights: relative, node: node).image,
                    ["native inverse-variance average of \(paths.count) synthetic frames"] + shown)
        case .siril:
            var (image, log) = try sirilAverage(paths, node: node)
            if weights == .inverseVariance { log.append("the siril engine averages with equal weights (stacking.weights applies to the native engine)") }
            return (image, log)
        }
    }

    /// Robust pixel noise of a synthetic frame's luminance (`Measure.pixelNoise`: MAD of neighbour
    /// differences, so stars and nebulosity do not count), its weight's denominator.
    static func pixelNoise(_ path: String, node: String) throws -> Double {
        let image: Image
        do { image = try FITS.read(path) } catch {
            throw StepError.badArtifact(node: node, message: "synthetic frame \(path) unreadable: \(error)")
        }
        guard let s = Measure.pixelNoise(Measure.luminance(image), plane: 0), s > 0, s.isFinite else {
            throw StepError.badArtifact(node: node, message: "synthetic frame \(path) has no measurable noise")
        }
        return s
    }
}
