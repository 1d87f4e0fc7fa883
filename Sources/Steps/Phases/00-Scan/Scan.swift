import Foundation
import Graph
import Imaging

/// Phase 0: the frame list. `inspect/NNNNN` reads one frame (header, and its pixels in row bands:
/// NaN/Inf count and a subsample for the linearity check); `scan` validates the series as a whole
/// (one size, one Bayer pattern, exposures within the spread, linear, finite) and writes `frames`
/// (`FrameList`). Inspection is per frame and keyed by content, so adding frames inspects only the new
/// ones; changing a threshold (`data.*`) reruns only `scan`.
public enum Scan {
    /// Whether the file name `name` matches `data.pattern`: a comma-separated list of globs, compared
    /// case-insensitively (`*.fits` matches `M31_001.FITS`, as cameras and capture programs name files).
    public static func matches(_ name: String, pattern: String) -> Bool {
        let lowered = name.lowercased()
        return pattern.split(separator: ",").contains { glob in
            fnmatch(glob.trimmingCharacters(in: .whitespaces).lowercased(), lowered, 0) == 0
        }
    }

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
        // Regular files only, symlinks followed (a light folder of links is common): a directory named
        // x.fits, a FIFO or a dangling link is not a frame.
        let matching = names.filter { name in
            var st = stat()
            return matches(name, pattern: config.data.pattern) && !name.hasPrefix(".")
                && stat(standardized + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        }.sorted()
        guard !matching.isEmpty else { throw StepError.noFrames(directory: standardized, pattern: config.data.pattern) }
        guard matching.count >= config.data.framesMin else {
            throw StepError.tooFewFrames(count: matching.count, minimum: config.data.framesMin, directory: standardized)
        }
        return matching.map { standardized + "/" + $0 }
    }

    /// Drops frames whose content is identical to an earlier one (by name order): the same exposure
    /// under two names counts once. `digest` is the workspace's (stat-cached) file digest.
    public static func distinctFrames(_ files: [String], digest: (String) throws -> Digest) throws
        -> (frames: [String], duplicates: [(copy: String, of: String)]) {
        var first: [Digest: String] = [:]
        var frames: [String] = [], duplicates: [(copy: String, of: String)] = []
        for file in files {
            let d = try digest(file)
            if let original = first[d] { duplicates.append((file, original)); continue }
            first[d] = file
            frames.append(file)
        }
        return (frames, duplicates)
    }

    /// What `inspect/NNNNN` records about one frame: its header's `FrameProperties` (read through:
    /// `inspection.width`) and pixel statistics. Holds no path: the node is keyed by content.
    @dynamicMemberLookup
    public struct Inspection: Codable, Sendable, Equatable {
        /// What its header says.
        public var properties: FrameProperties
        /// Fraction of NaN/Inf pixels.
        public var nonfiniteFraction: Double
        /// Where the median sits in the used range: (median - p0.1) / (max - p0.1). Linear frames
        /// have their sky near the bottom (a few 1e-3); a stretch lifts it to 0.1-0.3.
        public var backgroundPosition: Double
        /// The median as a fraction of the value range above zero (or above the minimum, for data
        /// with negative values): a linear frame's sky sits low unless the sky is bright.
        public var medianLevel: Double = 0
        /// Fraction of pixels more than 1 % of the range (max - median) above the median: star
        /// cores in a linear frame (a few %), faint signal lifted into the midtones by a stretch
        /// (13-47 % on the synthetic series).
        public var liftedFraction: Double = 0
        /// Fraction of pixels more than 10 robust sigmas above the median: 0 for a frame that holds
        /// only noise (no star, no object), some 1e-3 or more for a light frame.
        public var signalFraction: Double = 1
        /// Why the frame cannot be used when it could not be read (nil for a readable frame); the
        /// scan reports every such frame at once instead of stopping at the first.
        public var unreadable: String? = nil
        /// What the frame says about the saturation level (keywords, storage ceiling, raw maximum and
        /// its pile-up); the scan resolves the series' level from every frame's (`SaturationLevel`).
        public var ceiling = SaturationLevel.FrameCeiling()

        /// An inspection.
        public init(properties: FrameProperties, nonfiniteFraction: Double, backgroundPosition: Double,
                    medianLevel: Double = 0, liftedFraction: Double = 0, signalFraction: Double = 1, unreadable: String? = nil,
                    ceiling: SaturationLevel.FrameCeiling = .init()) {
            self.ceiling = ceiling
            self.properties = properties
            self.nonfiniteFraction = nonfiniteFraction
            self.backgroundPosition = backgroundPosition
            self.medianLevel = medianLevel
            self.liftedFraction = liftedFraction
            self.signalFraction = signalFraction
            self.unreadable = unreadable
        }

        /// The header fields, read through.
        public subscript<T>(dynamicMember keyPath: KeyPath<FrameProperties, T>) -> T { properties[keyPath: keyPath] }

        private enum CodingKeys: String, CodingKey {
            case nonfiniteFraction, backgroundPosition, medianLevel, liftedFraction, signalFraction, unreadable, ceiling
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            properties = try FrameProperties(from: decoder)
            nonfiniteFraction = try c.decode(Double.self, forKey: .nonfiniteFraction)
            backgroundPosition = try c.decode(Double.self, forKey: .backgroundPosition)
            medianLevel = try c.decodeIfPresent(Double.self, forKey: .medianLevel) ?? 0
            liftedFraction = try c.decodeIfPresent(Double.self, forKey: .liftedFraction) ?? 0
            signalFraction = try c.decodeIfPresent(Double.self, forKey: .signalFraction) ?? 1
            unreadable = try c.decodeIfPresent(String.self, forKey: .unreadable)
            ceiling = try c.decodeIfPresent(SaturationLevel.FrameCeiling.self, forKey: .ceiling) ?? .init()
        }

        public func encode(to encoder: Encoder) throws {
            try properties.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(nonfiniteFraction, forKey: .nonfiniteFraction)
            try c.encode(backgroundPosition, forKey: .backgroundPosition)
            try c.encode(medianLevel, forKey: .medianLevel)
            try c.encode(liftedFraction, forKey: .liftedFraction)
            try c.encode(signalFraction, forKey: .signalFraction)
            try c.encodeIfPresent(unreadable, forKey: .unreadable)
            try c.encode(ceiling, forKey: .ceiling)
        }
    }

    /// Parameters of `scan` (the thresholds of `data.*`, `data.saturation_level` and the frame files,
    /// for messages).
    struct ScanParams: Codable, Sendable {
        var names: [String]
        var paths: [String]
        var maxExposureSpreadPercent: Double
        var maxNonfiniteFraction: Double
        var maxBackgroundPosition: Double
        var saturationLevel: SaturationSetting

        enum CodingKeys: String, CodingKey {
            case names = "names"
            case paths = "paths"
            case maxExposureSpreadPercent = "data.max_exposure_spread_percent"
            case maxNonfiniteFraction = "data.max_nonfinite_fraction"
            case maxBackgroundPosition = "max_background_position"
            case saturationLevel = "data.saturation_level"
        }
    }

    /// Samples of a frame's census, at most (a 1-in-k subsample of larger frames).
    static let censusSamples = 1 << 16

    /// Where a stretched frame's background starts (see `Inspection.backgroundPosition`).
    public static let stretchThreshold = 0.12

    /// Reads one frame: header, and pixels in bands of rows through one open file (never more than a
    /// band in memory besides a 1-in-`stride` subsample).
    public static func inspect(_ path: String) throws -> Inspection {
        let bands: FITSBands
        do { bands = try FITSBands(path, rows: 64) } catch { throw StepError.unreadable(file: path, message: "\(error)") }
        let header = bands.header
        // At most ~2^16 samples (the fractions the stretch check compares are then within ~0.002 of
        // every pixel's, far inside its margins); every pixel of a small frame (so a few stars are not missed).
        var census = PixelCensus(stride: max(1, header.width * header.height * max(1, header.channels) / censusSamples))
        while true {
            let rows: Image?
            do { rows = try bands.next() } catch { throw StepError.unreadable(file: path, message: "\(error)") }
            guard let rows else { break }
            census.add(rows)
        }
        let sample = census.sample, maxValue = census.maxValue, atMax = census.atMax
        let nonfinite = census.nonfinite, total = census.total
        var position = 0.0, level = 0.0, lifted = 0.0, signal = 0.0
        // quantileBracketed: the values of median / quantile, by a faster exact selection.
        if let median = Statistics.quantileBracketed(sample, 0.5), let low = Statistics.quantileBracketed(sample, 0.001), maxValue > low {
            position = Double(median - low) / Double(maxValue - low)
            let zero = min(0, smallest(sample))
            level = Double(median - zero) / Double(maxValue - zero)
            let mad = Statistics.quantileBracketed(sample.map { abs($0 - median) }, 0.5) ?? 0
            let sigma = 1.4826 * mad
            let liftAt = median + 0.01 * (maxValue - median), signalAt = median + 10 * sigma
            let (above, strong) = countAbove(sample, liftAt, signalAt)
            lifted = Double(above) / Double(sample.count)
            signal = sigma > 0 ? Double(strong) / Double(sample.count) : 0
        }
        var ceiling = SaturationLevel.FrameCeiling(header: header)
        if maxValue.isFinite {
            ceiling.rawMax = Double(maxValue)
            ceiling.atMax = atMax
        }
        return Inspection(properties: FrameProperties(header: header),
                          nonfiniteFraction: total > 0 ? Double(nonfinite) / Double(total) : 1,
                          backgroundPosition: position, medianLevel: level, liftedFraction: lifted, signalFraction: signal,
                          ceiling: ceiling)
    }

    /// The smallest of the finite values `a` (0 when empty); only its value matters to the caller
    /// (`min(0, it)`), so which of two equal zeros is returned does not. Four lanes at a time.
    static func smallest(_ a: [Float]) -> Float {
        a.withUnsafeBufferPointer { b in
            guard let p = b.baseAddress, b.count > 0 else { return 0 }
            var low = SIMD4<Float>(repeating: p[0])
            var k = 0
            while k &+ 4 <= b.count {
                let v = UnsafeRawPointer(p + k).loadUnaligned(as: SIMD4<Float>.self)
                low.replace(with: v, where: v .< low)
                k &+= 4
            }
            var m = low.min()
            while k < b.count { m = min(m, p[k]); k &+= 1 }
            return m
        }
    }

    /// How many of `a` are above `x` and how many above `y`, four lanes at a time.
    static func countAbove(_ a: [Float], _ x: Float, _ y: Float) -> (Int, Int) {
        a.withUnsafeBufferPointer { b in
            guard let p = b.baseAddress else { return (0, 0) }
            let x4 = SIMD4<Float>(repeating: x), y4 = SIMD4<Float>(repeating: y)
            var cx = SIMD4<Int32>(), cy = SIMD4<Int32>()
            var k = 0
            while k &+ 4 <= b.count {
                let v = UnsafeRawPointer(p + k).loadUnaligned(as: SIMD4<Float>.self)
                cx &-= unsafeBitCast(v .> x4, to: SIMD4<Int32>.self)   // true is -1
                cy &-= unsafeBitCast(v .> y4, to: SIMD4<Int32>.self)
                k &+= 4
            }
            var ax = Int(cx.wrappedSum()), ay = Int(cy.wrappedSum())
            while k < b.count { ax += p[k] > x ? 1 : 0; ay += p[k] > y ? 1 : 0; k &+= 1 }
            return (ax, ay)
        }
    }

    static func validate(_ infos: [Inspection], params p: ScanParams) throws -> FrameList {
        guard !infos.isEmpty else { throw StepError.noFrames(directory: "", pattern: "") }
        func size(_ i: Inspection) -> String { "\(i.width)x\(i.height)" + (i.channels > 1 ? "x\(i.channels)" : "") }
        var problems: [FrameProblem] = []
        // The series' size and pattern are those of its first readable frame.
        guard let firstIndex = infos.firstIndex(where: { $0.unreadable == nil }) else {
            throw StepError.badFrames(infos.indices.map { FrameProblem(file: p.names[$0], problem: "cannot read frame: " + (infos[$0].unreadable ?? ""),
                                                                       fix: "replace or remove the file") }, total: infos.count)
        }
        let first = infos[firstIndex], firstName = p.names[firstIndex]
        for (k, info) in infos.enumerated() {
            let name = p.names[k]
            if let message = info.unreadable {
                problems.append(FrameProblem(file: name, problem: "cannot read frame: \(message)", fix: "replace or remove the file"))
                continue
            }
            if info.width != first.width || info.height != first.height || info.channels != first.channels {
                problems.append(FrameProblem(file: name, problem: "frames differ in size: \(firstName) is \(size(first)) but \(name) is \(size(info))",
                                             fix: "all frames of a series must have one size"))
            } else if info.bayer != first.bayer {
                problems.append(FrameProblem(file: name, problem: "frames differ in Bayer pattern: \(firstName) is \(first.bayer ?? "mono") but \(name) is \(info.bayer ?? "mono")",
                                             fix: "process mono and colour series separately"))
            }
            if info.nonfiniteFraction > p.maxNonfiniteFraction {
                problems.append(FrameProblem(file: name, problem: String(format: "%@ has %.3g %% NaN/Inf pixels, more than data.max_nonfinite_fraction = %@",
                                                                         name, info.nonfiniteFraction * 100, "\(p.maxNonfiniteFraction)"),
                                             fix: "remove or repair the frame"))
            }
            if let verdict = Linearity.verdict(info, maxBackgroundPosition: p.maxBackgroundPosition) {
                problems.append(FrameProblem(file: name, problem: "\(name) \(verdict.problem)", fix: verdict.fix))
            }
        }
        let exposures = infos.enumerated().compactMap { k, i in i.exposure.map { (k, $0) } }
        if let lo = exposures.min(by: { $0.1 < $1.1 }), let hi = exposures.max(by: { $0.1 < $1.1 }), lo.1 > 0,
           (hi.1 - lo.1) / lo.1 * 100 > p.maxExposureSpreadPercent {
            let spread = StepError.exposureSpread(shortest: p.names[lo.0], shortestSeconds: lo.1, longest: p.names[hi.0],
                                                  longestSeconds: hi.1, allowedPercent: p.maxExposureSpreadPercent)
            if problems.isEmpty { throw spread }
            problems.append(FrameProblem(file: p.names[hi.0], problem: spread.description, fix: "split the series by exposure"))
        }
        if !problems.isEmpty { throw StepError.badFrames(problems, total: infos.count) }
        return FrameList(frames: infos.enumerated().map { k, i in FrameInfo(index: k, path: p.paths[k], properties: i.properties) },
                         saturation: SaturationLevel.resolve(p.saturationLevel, frames: infos.map(\.ceiling)))
    }
}

/// One frame the scan cannot use: which, what is wrong, what to do.
public struct FrameProblem: Sendable, Equatable {
    /// The file name.
    public let file: String
    /// What is wrong with it.
    public let problem: String
    /// What to do about it.
    public let fix: String
}

/// The linearity check on `Scan.Inspection`'s statistics.
enum Linearity {
    /// Nil for a linear frame with signal; else what is wrong and the fix.
    /// Tuned on synthetic series (64x48 to 1024x768, linear, and sqrt/asinh/log stretched with the
    /// black point at the data minimum or half-way to the sky, whose sky then sits at 2-25 %):
    /// linear frames have `liftedFraction` <= 0.16 (small frames without a saturated star) and
    /// a noise-only frame has no pixel 10 sigma above its median. Stretched frames reach
    /// `liftedFraction` 0.13-0.47, so a gentle stretch of a dark-sky frame can still pass: a
    /// heuristic, and a linear frame filled by a bright nebula may read as stretched.
    static let liftedStretched = 0.2, noSignal = 1e-4

    static func verdict(_ info: Scan.Inspection, maxBackgroundPosition: Double) -> (problem: String, fix: String)? {
        if info.signalFraction < noSignal && (info.liftedFraction < 0.02 || info.medianLevel > 0.5) {
            return (String(format: "holds only noise: no star or object rises 10 sigma above its background (%.3f %% of pixels do)",
                           info.signalFraction * 100),
                    "remove it (a capped, clouded-out or empty frame; darks and bias frames do not belong in data.input_dir)")
        }
        let stretched = info.backgroundPosition > maxBackgroundPosition || info.liftedFraction > liftedStretched
        guard stretched else { return nil }
        return (String(format: "looks stretched, not linear (%.0f %% of its pixels sit in lifted midtones above the sky, linear frames have a few %%; "
                       + "its sky sits at %.0f %% of the range)", info.liftedFraction * 100, info.medianLevel * 100),
                "tcbuild needs linear frames straight from the camera (no stretch, asinh or log)")
    }
}
