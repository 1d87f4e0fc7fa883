import Foundation
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
    /// When the exposure started, seconds since 1970-01-01 UTC (`FITSHeader.observation`: DATE-OBS with
    /// its offset applied, else TIME-OBS/UT-OBS, MJD-OBS, DATE-END); nil when the header has no usable time.
    public var observationTime: Double?
    /// The keywords `observationTime` came from (`DATE-OBS`, `DATE-OBS+TIME-OBS`, `MJD-OBS`...).
    public var observationTimeSource: String?

    /// The properties of a frame with `header`.
    public init(header: FITSHeader) {
        var bayer: String?
        if let pat = header.bayerPattern {
            bayer = (try? BayerPattern(bayerpat: pat, xOffset: header.bayerOffset.x, yOffset: header.bayerOffset.y))?.rawValue ?? pat
        }
        let observation = header.observation
        self.init(width: header.width, height: header.height, channels: header.channels, bitpix: header.bitpix,
                  bayer: bayer, exposure: header.exposure, dateObs: header.dateObs,
                  observationTime: observation?.date.timeIntervalSince1970, observationTimeSource: observation?.source)
    }

    /// Properties given field by field (stand-in series for docs and tests).
    public init(width: Int, height: Int, channels: Int = 1, bitpix: Int = 16, bayer: String? = nil,
                exposure: Double? = nil, dateObs: String? = nil, observationTime: Double? = nil,
                observationTimeSource: String? = nil) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bitpix = bitpix
        self.bayer = bayer
        self.exposure = exposure
        self.dateObs = dateObs
        self.observationTime = observationTime
        self.observationTimeSource = observationTimeSource
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
    /// The series' saturation level (`data.saturation_level`, resolved by the scan: `SaturationLevel`);
    /// nil when nothing gives one (floating-point frames without SATURATE/DATAMAX or pile-up).
    public var saturation: SaturationLevel?

    /// A series of `frames` saturating at `saturation`.
    public init(frames: [FrameInfo], saturation: SaturationLevel? = nil) {
        self.frames = frames
        self.saturation = saturation
    }

    /// The same series restricted to `frames` (a subset: the registered ones).
    public func restricted(to frames: [FrameInfo]) -> FrameList {
        FrameList(frames: frames, saturation: saturation)
    }

    /// Every frame's observation time (seconds, UTC) in frame order, or nil when a frame has none:
    /// time order is then file order (`timeOrder`).
    public var observationTimes: [Double]? {
        let times = frames.compactMap(\.observationTime)
        return times.count == frames.count && !frames.isEmpty ? times : nil
    }

    /// Where the frames' times came from, for people: `DATE-OBS (24 frames)`, or `file order` when a
    /// frame has no usable time (then no frame's time is used).
    public var timeSummary: String {
        guard observationTimes != nil else {
            let missing = frames.filter { $0.observationTime == nil }.count
            return "file order (\(missing) of \(frames.count) frames without a usable DATE-OBS, UT-OBS, MJD-OBS or DATE-END)"
        }
        var counts: [String: Int] = [:]
        for f in frames { counts[f.observationTimeSource ?? "?", default: 0] += 1 }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) (\($0.value) frames)" }.joined(separator: ", ")
    }

    /// Image width shared by all frames.
    public var width: Int { frames.first?.width ?? 0 }
    /// Image height shared by all frames.
    public var height: Int { frames.first?.height ?? 0 }
    /// The Bayer pattern shared by all frames (nil for mono).
    public var bayer: String? { frames.first?.bayer }
    /// Whether the series is one-shot-colour (CFA mosaics).
    public var isColor: Bool { bayer != nil || (frames.first?.channels ?? 1) == 3 }
}
