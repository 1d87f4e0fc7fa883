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
        /// The two keys.
        public init(engine: TCConfig.StackingEngine, method: TCConfig.StackingMethod) {
            self.engine = engine
            self.method = method
        }
    }
    /// `synthetic.frames_max`: how many `synthetic/NN` inputs the stack has (it shapes the node).
    public struct SyntheticCount: Codable, Sendable, Equatable {
        /// `synthetic.frames_max`, clamped as `SyntheticFrames.count` clamps it.
        public var framesMax: Int
        enum CodingKeys: String, CodingKey { case framesMax = "frames_max" }
    }
    /// `stacking.engine`, `stacking.method`.
    public var stacking: Combination
    /// `synthetic.frames_max`.
    public var synthetic: SyntheticCount

    /// Parameters from `config`.
    public init(config: TCConfig) {
        stacking = Combination(engine: config.stacking.engine, method: config.stacking.method)
        synthetic = SyntheticCount(framesMax: SyntheticFrames.count(config))
    }
}

/// Phase 9: the final stack, a plain linear average of the synthetic frames (no weighting, no
/// rejection, no normalization, no drizzle).
public enum Stacking {
    /// Code version; bump when the computation changes.
    public static let version = 1

    /// The non-empty files among `paths` (a zero-byte artifact means "cluster k does not exist").
    public static func nonEmpty(_ paths: [String]) -> [String] {
        paths.filter { ((try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? NSNumber)?.intValue ?? 0) > 0 }
    }

    /// The native engine: NaN-aware mean of `paths` (float32 FITS of one size), streamed in row bands,
    /// in the given order. With `trackComplete`, also which pixels had a finite value in every input.
    /// Throws `StepError.badArtifact` when `paths` is empty or the frames differ in size or planes.
    public static func nativeAverage(_ paths: [String], trackComplete: Bool = false, node: String = NodeName.stack) throws -> MeanResult {
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
        let inputs = paths.map { MeanInput(path: $0, divisors: [Double](repeating: 1, count: h.channels), name: $0) }
        return try StreamingMean.average(inputs, width: h.width, height: h.height, channels: h.channels,
                                         trackComplete: trackComplete, node: node)
    }

    /// Stacks `paths` with `engine`: `.native` is `nativeAverage`; `.siril` runs siril-cli
    /// (`Stacking.sirilAverage`). Returns the image and lines for the run log.
    public static func stack(_ paths: [String], engine: TCConfig.StackingEngine,
                             node: String = NodeName.stack) throws -> (image: Image, log: [String]) {
        switch engine {
        case .native:
            return (try nativeAverage(paths, node: node).image, ["native average of \(paths.count) synthetic frames"])
        case .siril:
            return try sirilAverage(paths, node: node)
        }
    }
}
