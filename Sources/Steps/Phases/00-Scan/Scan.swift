import Foundation
import Graph
import Imaging

/// Phase 0: the frame list. `inspect/NNNNN` reads one frame (header, and its pixels in row bands:
/// NaN/Inf count and a subsample for the linearity check); `scan` validates the series as a whole
/// (one size, one Bayer pattern, exposures within the spread, linear, finite) and writes `frames`
/// (`FrameList`). Inspection is per frame and keyed by content, so adding frames inspects only the new
/// ones; changing a threshold (`data.*`) reruns only `scan`.
public enum Scan {
    /// Files in the input directory matching `data.pattern`, sorted by name (absolute paths).
    /// Throws `StepError` for a missing or empty directory and for fewer than `data.frames_min` frames.
    public static func listFrames(config: TCConfig, workspace: String) throws -> [String] {
        let dir = config.data.inputDir.hasPrefix("/") ? config.data.inputDir : workspace + "/" + config.data.inputDir
        let standardized = (dir as NSString).standardizingPath
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: standardized, isDirectory: &isDir), isDir.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: standardized) else {
            throw StepError.inputDirectoryMissing(path: standardized)
        }
        let matching = names.filter { fnmatch(config.data.pattern, $0, 0) == 0 && !$0.hasPrefix(".") }.sorted()
        guard !matching.isEmpty else { throw StepError.noFrames(directory: standardized, pattern: config.data.pattern) }
        guard matching.count >= config.data.framesMin else {
            throw StepError.tooFewFrames(count: matching.count, minimum: config.data.framesMin, directory: standardized)
        }
        return matching.map { standardized + "/" + $0 }
    }

    /// What `inspect/NNNNN` records about one frame: its header's `FrameProperties` (read through:
    /// `inspection.width`) and two pixel statistics. Holds no path: the node is keyed by content.
    @dynamicMemberLookup
    public struct Inspection: Codable, Sendable, Equatable {
        /// What its header says.
        public var properties: FrameProperties
        /// Fraction of NaN/Inf pixels.
        public var nonfiniteFraction: Double
        /// Where the median sits in the used range: (median - p0.1) / (max - p0.1). Linear frames
        /// have their sky near the bottom (a few 1e-3); a stretch lifts it to 0.1-0.3.
        public var backgroundPosition: Double

        /// An inspection.
        public init(properties: FrameProperties, nonfiniteFraction: Double, backgroundPosition: Double) {
            self.properties = properties
            self.nonfiniteFraction = nonfiniteFraction
            self.backgroundPosition = backgroundPosition
        }

        /// The header fields, read through.
        public subscript<T>(dynamicMember keyPath: KeyPath<FrameProperties, T>) -> T { properties[keyPath: keyPath] }

        private enum CodingKeys: String, CodingKey { case nonfiniteFraction, backgroundPosition }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            properties = try FrameProperties(from: decoder)
            nonfiniteFraction = try c.decode(Double.self, forKey: .nonfiniteFraction)
            backgroundPosition = try c.decode(Double.self, forKey: .backgroundPosition)
        }

        public func encode(to encoder: Encoder) throws {
            try properties.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(nonfiniteFraction, forKey: .nonfiniteFraction)
            try c.encode(backgroundPosition, forKey: .backgroundPosition)
        }
    }

    /// Parameters of `scan` (the thresholds of `data.*` and the frame files, for messages).
    struct ScanParams: Codable, Sendable {
        var names: [String]
        var paths: [String]
        var maxExposureSpreadPercent: Double
        var maxNonfiniteFraction: Double
        var maxBackgroundPosition: Double

        enum CodingKeys: String, CodingKey {
            case names = "names"
            case paths = "paths"
            case maxExposureSpreadPercent = "data.max_exposure_spread_percent"
            case maxNonfiniteFraction = "data.max_nonfinite_fraction"
            case maxBackgroundPosition = "max_background_position"
        }
    }

    /// Where a stretched frame's background starts (see `Inspection.backgroundPosition`).
    public static let stretchThreshold = 0.12

    /// Reads one frame: header, and pixels in bands of rows (never more than a band in memory
    /// besides a 1-in-16 subsample).
    public static func inspect(_ path: String) throws -> Inspection {
        let header: FITSHeader
        do { header = try FITS.readHeader(path) } catch { throw StepError.unreadable(file: path, message: "\(error)") }
        var nonfinite = 0, total = 0
        var sample: [Float] = []
        var maxValue = -Float.infinity
        let band = 64
        var y = 0
        while y < header.height {
            let n = min(band, header.height - y)
            let rows: Image
            do { rows = try FITS.readRows(path, from: y, count: n) } catch { throw StepError.unreadable(file: path, message: "\(error)") }
            rows.pixels.withUnsafeBufferPointer { px in
                for (k, v) in px.enumerated() {
                    if !v.isFinite { nonfinite += 1; continue }
                    if v > maxValue { maxValue = v }
                    if k & 15 == 0 { sample.append(v) }
                }
                total += px.count
            }
            y += n
        }
        var position = 0.0
        if let median = Statistics.median(sample), let low = Statistics.quantile(sample, 0.001), maxValue > low {
            position = Double(median - low) / Double(maxValue - low)
        }
        return Inspection(properties: FrameProperties(header: header),
                          nonfiniteFraction: total > 0 ? Double(nonfinite) / Double(total) : 1,
                          backgroundPosition: position)
    }

    static func validate(_ infos: [Inspection], params p: ScanParams) throws -> FrameList {
        guard let first = infos.first else { throw StepError.noFrames(directory: "", pattern: "") }
        func size(_ i: Inspection) -> String { "\(i.width)x\(i.height)" + (i.channels > 1 ? "x\(i.channels)" : "") }
        for (k, info) in infos.enumerated() {
            if info.width != first.width || info.height != first.height || info.channels != first.channels {
                throw StepError.mixedSizes(first: p.names[0], firstSize: size(first), other: p.names[k], otherSize: size(info))
            }
            if info.bayer != first.bayer {
                throw StepError.mixedBayer(first: p.names[0], firstPattern: first.bayer ?? "mono",
                                           other: p.names[k], otherPattern: info.bayer ?? "mono")
            }
            if info.nonfiniteFraction > p.maxNonfiniteFraction {
                throw StepError.nonFinite(file: p.names[k], fraction: info.nonfiniteFraction, allowed: p.maxNonfiniteFraction)
            }
            if info.backgroundPosition > p.maxBackgroundPosition {
                throw StepError.stretched(file: p.names[k], detail: String(
                    format: "its median sits at %.0f %% of its value range; linear frames sit within a few %%", info.backgroundPosition * 100))
            }
        }
        let exposures = infos.enumerated().compactMap { k, i in i.exposure.map { (k, $0) } }
        if let lo = exposures.min(by: { $0.1 < $1.1 }), let hi = exposures.max(by: { $0.1 < $1.1 }), lo.1 > 0,
           (hi.1 - lo.1) / lo.1 * 100 > p.maxExposureSpreadPercent {
            throw StepError.exposureSpread(shortest: p.names[lo.0], shortestSeconds: lo.1, longest: p.names[hi.0],
                                           longestSeconds: hi.1, allowedPercent: p.maxExposureSpreadPercent)
        }
        return FrameList(frames: infos.enumerated().map { k, i in FrameInfo(index: k, path: p.paths[k], properties: i.properties) })
    }
}
