/// What the scan knows about one input frame.
public struct FrameInfo: Codable, Sendable, Equatable {
    /// Position in the sorted frame list (names per-frame nodes).
    public var index: Int
    /// The frame file (absolute path).
    public var path: String
    /// The file name, for messages.
    public var name: String
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Planes (1 for mono and CFA mosaics).
    public var channels: Int
    /// Stored BITPIX.
    public var bitpix: Int
    /// Bayer pattern (`RGGB`...) with the X/Y offsets already applied; nil for mono.
    public var bayer: String?
    /// Exposure time, seconds.
    public var exposure: Double?
    /// DATE-OBS as written.
    public var dateObs: String?
}

/// The scan node's output: the series, validated (one size, one Bayer pattern, exposures within
/// the allowed spread, linear, finite).
public struct FrameList: Codable, Sendable, Equatable {
    /// Frames in sorted file-name order.
    public var frames: [FrameInfo]

    /// Image width shared by all frames.
    public var width: Int { frames.first?.width ?? 0 }
    /// Image height shared by all frames.
    public var height: Int { frames.first?.height ?? 0 }
    /// The Bayer pattern shared by all frames (nil for mono).
    public var bayer: String? { frames.first?.bayer }
    /// Whether the series is one-shot-colour (CFA mosaics).
    public var isColor: Bool { bayer != nil || (frames.first?.channels ?? 1) == 3 }
}
