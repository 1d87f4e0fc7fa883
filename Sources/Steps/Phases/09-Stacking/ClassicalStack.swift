import Foundation
import Graph
import Imaging

/// Parameters of `stack/classical`: only the image size (the node depends on the config through its
/// inputs alone, so no config edit downstream of registration and measurement reruns it).
public struct ClassicalStackParams: Codable, Sendable, Equatable {
    /// Width of the registered frames, px.
    public var width: Int
    /// Height of the registered frames, px.
    public var height: Int

    /// Parameters for the scanned series.
    public init(frames: FrameList) {
        width = frames.width
        height = frames.height
    }
}

/// The classical reference stack (the baseline of phase 10): the unweighted, NaN-aware mean of every
/// registered frame, each normalized per channel by its phase-2 background (`I' = I / B_f`, B_f from
/// `measure/NNNNN#measure`), so it is in the same units as the reconstruction and the final stack. The
/// outliers `reject` found are left out exactly as in the reconstruction (a sigma-clipped mean), so
/// validation compares like with like.
public enum ClassicalStack {
    /// Code version; bump when the computation changes.
    public static let version = 2

    /// Inverse-variance weights of the normalized frames, s_f / sigma_f^2 (flux scale and noise from
    /// the `metrics` table), divided by their median: the linear mean with the least noise per unit of
    /// star flux, and no preference for seeing (validation's second yardstick).
    public static func inverseVarianceWeights(_ table: FrameMetricsTable) -> [Double] {
        let raw = table.frames.map { r -> Double in
            let s = (r.fluxScale ?? 1) > 0 ? (r.fluxScale ?? 1) : 1
            return r.noise > 0 ? s / (r.noise * r.noise) : .nan
        }
        let mid = Statistics.median(raw.filter(\.isFinite)) ?? 1
        return raw.map { $0.isFinite && mid > 0 ? $0 / mid : 1 }
    }

    /// The classical mean of `frames` (registered FITS paths) with their measurements, in frame order.
    /// Streams in row bands (`StreamingMean`), Double accumulation, deterministic. Throws
    /// `StepError.badArtifact` when a measurement has a different channel count than its frame or a
    /// background <= 0, or a frame is unreadable.
    public static func mean(frames: [(path: String, measurement: FrameNormalization, name: String)],
                            masks: RejectionMasks? = nil, weights: [Double]? = nil,
                            node: String = NodeName.classicalStack) throws -> Image {
        guard let first = frames.first else { throw StepError.badArtifact(node: node, message: "no registered frame to stack") }
        let header: FITSHeader
        do { header = try FITS.readHeader(first.path) } catch {
            throw StepError.badArtifact(node: node, message: "registered frame of \(first.name) unreadable: \(error)")
        }
        if let masks, masks.frames.count != frames.count {
            throw StepError.badArtifact(node: node, message: "rejection masks cover \(masks.frames.count) frames, \(frames.count) are stacked")
        }
        var inputs: [MeanInput] = []
        for (i, f) in frames.enumerated() {
            let b = f.measurement.channels.map(\.background)
            guard b.count == header.channels else {
                throw StepError.badArtifact(node: node, message: "measurement of \(f.name) has \(b.count) channels, "
                    + "its registered frame \(header.channels)")
            }
            guard b.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw StepError.badArtifact(node: node, message: "measurement of \(f.name) has a background <= 0: \(b)")
            }
            inputs.append(MeanInput(path: f.path, divisors: b, name: f.name, rejected: masks?.frames[i] ?? [],
                                    weight: weights?[i] ?? 1))
        }
        return try StreamingMean.average(inputs, width: header.width, height: header.height,
                                         channels: header.channels, node: node).image
    }
}
