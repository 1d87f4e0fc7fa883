import Imaging

/// What a frame's header says about it: size, planes, sample type, Bayer pattern, exposure, time.
/// Built from a header in one place (`init(header:)`); `Scan.Inspection` and `FrameInfo` both carry it
/// and encode its fields flat (their JSON is the same as when each listed the fields itself).
public struct FrameProperties: Codable, Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Planes (1 for mono and CFA mosaics).
    public var channels: Int
    /// Stored BITPIX.
    public var bitpix: Int
    /// Bayer pattern (`RGGB`...) with XBAYROFF/YBAYROFF applied; nil for mono.
    public var bayer: String?
    /// Exposure time, seconds.
    public var exposure: Double?
    /// DATE-OBS as written.
    public var dateObs: String?

    /// The properties of a frame with `header`.
    public init(header: FITSHeader) {
        var bayer: String?
        if let pat = header.bayerPattern {
            bayer = (try? BayerPattern(bayerpat: pat, xOffset: header.bayerOffset.x, yOffset: header.bayerOffset.y))?.rawValue ?? pat
        }
        self.init(width: header.width, height: header.height, channels: header.channels, bitpix: header.bitpix,
                  bayer: bayer, exposure: header.exposure, dateObs: header.dateObs)
    }

    /// Properties given field by field (stand-in series for docs and tests).
    public init(width: Int, height: Int, channels: Int = 1, bitpix: Int = 16, bayer: String? = nil,
                exposure: Double? = nil, dateObs: String? = nil) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bitpix = bitpix
        self.bayer = bayer
        self.exposure = exposure
        self.dateObs = dateObs
    }
}

/// What the scan knows about one input frame: where it is and its `FrameProperties`
/// (`info.width` reads through to them).
@dynamicMemberLookup
public struct FrameInfo: Codable, Sendable, Equatable {
    /// Position in the sorted frame list (names per-frame nodes).
    public var index: Int
    /// The frame file (absolute path).
    public var path: String
    /// The file name, for messages.
    public var name: String
    /// What its header says.
    public var properties: FrameProperties

    /// Frame `index` at `path` (its name is the path's last component).
    public init(index: Int, path: String, properties: FrameProperties) {
        self.index = index
        self.path = path
        self.name = String(path.split(separator: "/").last ?? Substring(path))
        self.properties = properties
    }

    /// The header fields, read through.
    public subscript<T>(dynamicMember keyPath: KeyPath<FrameProperties, T>) -> T { properties[keyPath: keyPath] }

    private enum CodingKeys: String, CodingKey { case index, path, name }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decode(Int.self, forKey: .index)
        path = try c.decode(String.self, forKey: .path)
        name = try c.decode(String.self, forKey: .name)
        properties = try FrameProperties(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try properties.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(path, forKey: .path)
        try c.encode(name, forKey: .name)
    }
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
