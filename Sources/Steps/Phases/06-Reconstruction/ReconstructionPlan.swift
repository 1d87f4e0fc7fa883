import Foundation
import Graph

/// What every tile task of one reconstruction node (`reconstruct`, `synthetic/NN`) shares, written by
/// the node into the content-addressed store; its digest is the tasks' `frames_manifest_id` and only
/// input, so a task (on any machine) resolves everything else by digest: the registered frames, the
/// `weights` and the rejection `masks`. Deterministic JSON (sorted keys; NaN and infinities as text,
/// so every Double round-trips exactly), hence one digest per computation.
public struct ReconstructionPlan: Codable, Sendable, Equatable {
    /// One frame of the set, in set order (the order the kernel adds frames in).
    public struct Frame: Codable, Sendable, Equatable {
        /// Its row in `weights` and `masks` (position in the series' frame list).
        public var index: Int
        /// File name, for messages.
        public var name: String
        /// The registered frame (float32 FITS) in the store.
        public var frame: Digest
        /// B_f per channel.
        public var backgrounds: [Double]
        /// The matched model (`combine: matched` only).
        public var matched: MatchedFrameModel?
    }

    /// Layout version of the plan (bumped with the tile kernel's code version).
    public var version = 1
    /// The node the plan belongs to, for messages.
    public var node: String
    /// `reconstruction.combine`.
    public var combine: TCConfig.Combine
    /// `reconstruction.eps` (weighted).
    public var eps: Double
    /// `reconstruction.matched_beta` (matched).
    public var beta: Double
    /// Margin read around each tile (matched; 0 for weighted).
    public var margin: Int
    /// FFT size of every tile (matched; 0 for weighted): one size for the whole grid, as one plan.
    public var fftWidth: Int
    public var fftHeight: Int
    /// Image size and planes.
    public var width: Int
    public var height: Int
    public var channels: Int
    /// The `weights` artifact (weighted).
    public var weights: Digest?
    /// The rejection `masks` artifact.
    public var masks: Digest
    /// The frames of the set, in set order.
    public var frames: [Frame]

    /// The plan's bytes.
    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return Array(try e.encode(self))
    }

    /// Decodes a plan.
    public static func decode(_ bytes: [UInt8]) throws -> ReconstructionPlan {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try d.decode(ReconstructionPlan.self, from: Data(bytes)) } catch {
            throw StepError.badArtifact(node: "reconstruct tile task", message: "not a reconstruction plan: \(error)")
        }
    }
}
