import Foundation
import Imaging

/// The series' saturation level (`data.saturation_level`): one raw value for every frame, resolved
/// once by the scan (`resolve`) and carried in the frame list to the nodes that must not use
/// saturated stars (`stars/NNNNN` drops them from registration, `measure/NNNNN` flags them, and the
/// FWHM, tile geometry and local weights skip flagged stars).
///
/// `auto` takes the first of:
/// 1. `SATURATE` (the lowest value among the frames: a pixel at it is saturated in every frame);
/// 2. `DATAMAX` (the highest value among the frames: some programs write each frame's actual maximum,
///    and the lowest of those would call the brightest unsaturated stars of other frames saturated);
/// 3. the populated maximum of the data: the highest raw value of the series, when at least
///    `minPile` pixels sit exactly at it. A clipped ADC piles its saturated pixels up on its ceiling
///    (a 12-bit camera at 4095 unscaled, at 65520 scaled x16) while an unsaturated frame's brightest
///    pixel is almost always alone;
/// 4. the BITPIX ceiling (`BZERO + BSCALE * largest stored value`: 255 for BITPIX 8, 65535 for BITPIX 16
///    with BZERO 32768); floating-point frames have none, and then nothing is flagged.
/// A number is used as is.
public struct SaturationLevel: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Where the level came from.
    public enum Source: String, Codable, Sendable {
        /// `data.saturation_level` set to a number.
        case config
        /// The `SATURATE` keyword.
        case saturate = "SATURATE"
        /// The `DATAMAX` keyword.
        case datamax = "DATAMAX"
        /// The highest raw value of the series, populated by a pile-up of pixels.
        case populatedMaximum = "populated maximum"
        /// The largest value BITPIX (with BZERO/BSCALE) can hold.
        case bitpix = "BITPIX ceiling"
    }

    /// The level, raw ADU (after BZERO/BSCALE, as `FITS.read` returns pixels).
    public var adu: Double
    /// Where it came from.
    public var source: Source
    /// More about it, for people (`12-bit ceiling, 152 pixels in 24 frames`); not used by any node.
    public var detail: String

    /// A resolved level.
    public init(adu: Double, source: Source, detail: String = "") {
        self.adu = adu
        self.source = source
        self.detail = detail
    }

    /// Share of the level from which a pixel counts as saturated: the last 2 % of a sensor's range is
    /// non-linear and a star's flat top starts there.
    public static let margin = 0.98

    /// The raw value at or above which a star's pixel is saturated (`margin * adu`).
    public static func threshold(_ adu: Double) -> Double { margin * adu }

    /// `saturation 4095 ADU (populated maximum, 12-bit ceiling, ...)`.
    public var description: String {
        "saturation \(formatNumber(adu)) ADU (\(source == .config ? "data.saturation_level" : source.rawValue)"
            + (detail.isEmpty ? "" : ", " + detail) + ")"
    }

    /// What `inspect/NNNNN` records of one frame for the level: its keywords, its storage ceiling
    /// and its raw maximum with the number of pixels exactly at it.
    public struct FrameCeiling: Codable, Sendable, Equatable {
        /// `SATURATE`, when present.
        public var saturate: Double?
        /// `DATAMAX`, when present.
        public var datamax: Double?
        /// The BITPIX ceiling (nil for floating-point frames).
        public var bitpixCeiling: Double?
        /// The largest finite raw value (nil for a frame without finite pixels).
        public var rawMax: Double?
        /// Pixels exactly at `rawMax`.
        public var atMax: Int

        /// A frame's record.
        public init(saturate: Double? = nil, datamax: Double? = nil, bitpixCeiling: Double? = nil,
                    rawMax: Double? = nil, atMax: Int = 0) {
            self.saturate = saturate
            self.datamax = datamax
            self.bitpixCeiling = bitpixCeiling
            self.rawMax = rawMax
            self.atMax = atMax
        }

        /// The header's part (`rawMax` and `atMax` come from the pixels).
        public init(header: FITSHeader) {
            self.init(saturate: header.keywords["SATURATE"]?.doubleValue, datamax: header.keywords["DATAMAX"]?.doubleValue,
                      bitpixCeiling: SaturationLevel.bitpixCeiling(header))
        }
    }

    /// Whether any pixel of any plane of `image` within 1 px of (`x`, `y`) (the 3 x 3 block around the
    /// nearest pixel) is at or above `threshold(adu)`: the star centred there is saturated.
    public static func touches(_ image: Image, x: Double, y: Double, adu: Double) -> Bool {
        let limit = Float(threshold(adu)), w = image.width, h = image.height, n = image.planeSize
        guard x.isFinite, y.isFinite else { return false }
        let cx = Int(x.rounded()), cy = Int(y.rounded())
        let y0 = max(0, cy - 1), y1 = min(h - 1, cy + 1), x0 = max(0, cx - 1), x1 = min(w - 1, cx + 1)
        guard y0 <= y1, x0 <= x1 else { return false }
        return image.pixels.withUnsafeBufferPointer { all in
            for c in 0..<image.channels {
                for yy in y0...y1 {
                    for xx in x0...x1 where all[c * n + yy * w + xx] >= limit { return true }
                }
            }
            return false
        }
    }

    /// Pixels of the series that must sit exactly on its maximum for it to count as the ADC's ceiling:
    /// one saturated star's flat top, or a saturated pixel in a few frames.
    public static let minPile = 4

    /// `BZERO + BSCALE * largest stored value` for integer BITPIX; nil for floating point.
    public static func bitpixCeiling(_ header: FITSHeader) -> Double? {
        let stored: Double
        switch header.bitpix {
        case 8: stored = 255
        case 16: stored = 32_767
        case 32: stored = 2_147_483_647
        default: return nil
        }
        return (header.keywords["BZERO"]?.doubleValue ?? 0) + (header.keywords["BSCALE"]?.doubleValue ?? 1) * stored
    }

    /// The series' level under `setting` from its frames' records; nil when nothing gives one (floating
    /// point frames without keywords or pile-up: no star is flagged saturated).
    public static func resolve(_ setting: SaturationSetting, frames: [FrameCeiling]) -> SaturationLevel? {
        if case .adu(let x) = setting { return SaturationLevel(adu: x, source: .config) }
        func spread(_ values: [Double]) -> String {
            let distinct = Set(values)
            return distinct.count > 1 ? "frames give \(formatNumber(distinct.min()!))...\(formatNumber(distinct.max()!))" : ""
        }
        let saturate = frames.compactMap(\.saturate).filter { $0 > 0 }
        if let s = saturate.min() { return SaturationLevel(adu: s, source: .saturate, detail: spread(saturate)) }
        let datamax = frames.compactMap(\.datamax).filter { $0 > 0 }
        if let d = datamax.max() { return SaturationLevel(adu: d, source: .datamax, detail: spread(datamax)) }
        if let top = frames.compactMap(\.rawMax).max(), top > 0 {
            let at = frames.filter { $0.rawMax == top }
            let pile = at.map(\.atMax).reduce(0, +)
            if pile >= minPile {
                let detail = [adcCeiling(top), "\(pile) pixels in \(at.count) of \(frames.count) frames"].compactMap { $0 }
                return SaturationLevel(adu: top, source: .populatedMaximum, detail: detail.joined(separator: ", "))
            }
        }
        guard let ceiling = frames.compactMap(\.bitpixCeiling).min() else { return nil }
        return SaturationLevel(adu: ceiling, source: .bitpix, detail: "no pile-up at the data's maximum")
    }

    /// `12-bit ceiling` for 2^b - 1, `12-bit ceiling scaled x16` for (2^b - 1) * 2^(16-b); nil otherwise.
    static func adcCeiling(_ value: Double) -> String? {
        for bits in 8...16 {
            let top = Double((1 << bits) - 1)
            if value == top { return "\(bits)-bit ceiling" }
            if bits < 16, value == top * Double(1 << (16 - bits)) { return "\(bits)-bit ceiling scaled x\(1 << (16 - bits))" }
        }
        return nil
    }
}
