import Foundation

/// The normalization part of a `measure` artifact (`FrameMeasurement.channels`: B_f, sigma_f, E_f per
/// channel), decoded without the star list. The stacks and the rejection read only this of every frame;
/// decoding a frame's few thousand stars as well was ~40 % of `stack/classical`'s instructions.
public struct FrameNormalization: Codable, Sendable, Equatable {
    /// Per-channel normalization and metrics (1 entry for mono, 3 for RGB).
    public var channels: [ChannelMeasurement]

    /// The normalization of explicit channels.
    public init(channels: [ChannelMeasurement]) { self.channels = channels }
}

extension FrameMeasurement {
    /// The normalization part of this measurement.
    public var normalization: FrameNormalization { FrameNormalization(channels: channels) }
}
