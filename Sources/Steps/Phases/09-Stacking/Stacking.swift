import Foundation
import Graph
import Imaging

/// Parameters of `stack` (phase 9): `stacking.engine` and `stacking.method` only. The input directory,
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
    /// `stacking.engine`, `stacking.method`.
    public var stacking: Combination

    /// Parameters from `config`.
    public init(config: TCConfig) {
        stacking = Combination(engine: config.stacking.engine, method: config.stacking.method)
    }
}

/// Phase 9: the final stack, a plain linear average of the synthetic frames (no weighting, no
/// rejection, no normalization, no drizzle).
public enum Stacking {
    /// Node name.
    public static let node = "stack"
    /// Code version; bump when the computation changes.
    public static let version = 1

    /// Input name of synthetic frame `k` (`synthetic/07`), also the producing node's name.
    public static func syntheticNode(_ k: Int) -> String { "synthetic/\(String(format: "%02d", k))" }

    /// The non-empty files among `paths` (a zero-byte artifact means "cluster k does not exist").
    public static func nonEmpty(_ paths: [String]) -> [String] {
        paths.filter { ((try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? NSNumber)?.intValue ?? 0) > 0 }
    }

    /// The native engine: NaN-aware mean of `paths` (float32 FITS of one size), streamed in row bands,
    /// in the given order. With `trackComplete`, also which pixels had a finite value in every input.
    /// Throws `StepError.badArtifact` when `paths` is empty or the frames differ in size or planes.
    public static func nativeAverage(_ paths: [String], trackComplete: Bool = false, node: String = node) throws -> MeanResult {
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
                             node: String = node) throws -> (image: Image, log: [String]) {
        switch engine {
        case .native:
            return (try nativeAverage(paths, node: node).image, ["native average of \(paths.count) synthetic frames"])
        case .siril:
            return try sirilAverage(paths, node: node)
        }
    }
}

extension PipelineBuilder {
    /// Adds `stack/classical`, `stack` (phase 9) and `validation` (phase 10), and materializes
    /// `classical.fit`, `stacking.output_file` and `validation.json`. `stack` reads
    /// `synthetic/NN#frame` for NN in 0 ..< `synthetic.frames_max`; `validation` reads `stack`,
    /// `stack/classical`, `tiles/metrics`, `tiles/geometry` and `metrics`.
    public mutating func addStacking() throws {
        addClassicalStack()
        addFinalStack()
        addValidation()
    }

    /// Adds `stack`: output `image` (float32 FITS, as many planes as the synthetic frames: 1 mono,
    /// 3 RGB), materialized at `stacking.output_file`. Zero-byte synthetic artifacts are skipped.
    public mutating func addFinalStack() {
        var inputs: [String: InputSource] = [:]
        for k in 0..<max(0, config.synthetic.framesMax) {
            inputs[Stacking.syntheticNode(k)] = .node(Stacking.syntheticNode(k), output: "frame")
        }
        add(Node(name: Stacking.node, kind: "stack.average", version: Stacking.version,
                 params: StackingParams(config: config), inputs: inputs, outputs: ["image"], group: "stack") { ctx in
            let p = try ctx.params(StackingParams.self)
            let all = try ctx.inputNames.map { try ctx.input($0) }  // sorted by name: synthetic/00, 01, ...
            let paths = Stacking.nonEmpty(all)
            let (image, log) = try Stacking.stack(paths, engine: p.stacking.engine, node: ctx.name)
            for line in log { ctx.log(line) }
            try Artifacts.writeImage(image, ctx, "image", keywords: [
                FITSKeyword("NSYNTH", .int(paths.count), comment: "synthetic frames averaged"),
                FITSKeyword("STACKENG", .string(p.stacking.engine.rawValue), comment: "stacking.engine"),
            ])
        })
        materialize(Stacking.node, "image", at: config.stacking.outputFile)
    }
}
