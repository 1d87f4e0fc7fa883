import Foundation
import Graph
import Imaging

/// One frame's transform as siril found it, converted to tcbuild's convention.
public struct SirilFrameTransform: Codable, Sendable, Equatable {
    /// Frame index in the series.
    public var index: Int
    /// Siril's reference -> this frame similarity, in tcbuild pixel coordinates.
    public var transform: SimilarityTransform
    /// Star pairs siril reported for the frame (0 when it did not print a count).
    public var matches: Int
    /// Why siril did not register the frame (it skipped it, or printed no transformation); nil (not
    /// encoded) for a registered frame. `register/NNNNN` then excludes the frame (`registration.on_failure`).
    public var failed: String? = nil
}

/// The `siril/register` node's output (`transforms`).
public struct SirilRegistration: Codable, Sendable, Equatable {
    /// The frame siril registered against (0-based index in the series).
    public var referenceIndex: Int
    /// One entry per frame, index order (siril's reference has the identity).
    public var frames: [SirilFrameTransform]
}

/// Params of `siril/register`.
public struct SirilParams: Codable, Sendable, Equatable {
    /// The registration section (engine, reference, min_star_matches, ...).
    public var registration: TCConfig.RegistrationSection
    /// Bayer pattern (nil for mono): CFA series are debayered by siril (`convert -debayer`).
    public var bayer: String?
    /// Frame height (siril's row axis is flipped relative to tcbuild's, see `SirilLog`).
    public var height: Int
    /// Frame width.
    public var width: Int
}

/// Reading siril 1.0.6's log. Siril 1.0 stores no rotation in the `.seq` file (its `R` lines hold
/// only shifts, used with `-norot`), so the transform of each image is taken from the
/// "Transformation Matrix:" block that `register` prints after matching (`setcpu 1` keeps the log
/// sequential, so the block belongs to the last "Found N stars in image K" line). The matrix maps
/// the image to the reference in siril's coordinates, whose y axis runs the other way:
/// `y_siril = H - 1 - y` (0-based pixel centres). tcbuild's reference -> frame transform is
/// therefore `F . M^-1 . F` with `F(x, y) = (x, H - 1 - y)`, refitted as a similarity on a grid.
public enum SirilLog {
    /// Per-image results parsed from the log (images numbered as siril does, from 1).
    public struct Parsed: Sendable, Equatable {
        /// Row-major 2x3 affine matrix per image number.
        public var matrices: [Int: [Double]] = [:]
        /// Pair counts per image number (last "num matches is N").
        public var matches: [Int: Int] = [:]
        /// Images siril skipped, with its message.
        public var skipped: [Int: String] = [:]
    }

    /// Parses `log` (siril-cli's standard output).
    public static func parse(_ log: String) -> Parsed {
        var out = Parsed()
        var current: Int? = nil
        let lines = log.split(whereSeparator: \.isNewline).map(String.init)
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if let r = line.range(of: " stars in image ") {
                current = Int(line[r.upperBound...].prefix { $0.isNumber })
            } else if line.contains("Transformation Matrix:"), i + 2 < lines.count, let k = current {
                let rows = [lines[i + 1], lines[i + 2]].map { $0.split(separator: " ").compactMap { Double($0) } }
                if rows.allSatisfy({ $0.count == 3 }) { out.matrices[k] = rows[0] + rows[1] }
                i += 2
            } else if let r = line.range(of: "num matches is "), let k = current {
                out.matches[k] = Int(line[r.upperBound...].prefix { $0.isNumber })
            } else if let r = line.range(of: "Image "), line.hasSuffix("skipped") {
                if let k = Int(line[r.upperBound...].prefix { $0.isNumber }) {
                    out.skipped[k] = String(line.drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces))
                }
            }
            i += 1
        }
        return out
    }

    /// tcbuild's reference -> frame similarity from siril's image -> reference matrix `m`.
    public static func transform(matrix m: [Double], width: Int, height: Int) -> SimilarityTransform? {
        guard m.count == 6 else { return nil }
        let det = m[0] * m[4] - m[1] * m[3]
        guard det != 0, det.isFinite else { return nil }
        let flip = Double(height - 1)
        var src: [SIMD2<Double>] = [], dst: [SIMD2<Double>] = []
        for j in 0..<5 {
            for i in 0..<5 {
                let x = Double(i) / 4 * Double(width - 1), y = Double(j) / 4 * Double(height - 1)
                // Reference point in siril coordinates, then the inverse matrix (reference -> image).
                let u = x - m[2], v = (flip - y) - m[5]
                let fx = (m[4] * u - m[1] * v) / det, fy = (-m[3] * u + m[0] * v) / det
                src.append(SIMD2(x, y))
                dst.append(SIMD2(fx, flip - fy))
            }
        }
        return try? SimilarityTransform.estimate(source: src, target: dst)
    }

    /// The reference image number (0-based) from a siril 1.0 `.seq` file's `S` line, nil if absent.
    public static func referenceIndex(seq: String) -> Int? {
        for line in seq.split(whereSeparator: \.isNewline) where line.hasPrefix("S ") {
            let fields = line.split(separator: " ")
            if fields.count >= 7, let r = Int(fields[6]) { return r }
        }
        return nil
    }
}

extension Registration {
    /// Runs `siril-cli -d WORK -s script.ssf` in a private temporary directory (HOME set to a temp
    /// dir so no user configuration is read or written) and converts what it found.
    static func runSiril(_ ctx: NodeContext) throws {
        let p = try ctx.params(SirilParams.self)
        let names = ctx.inputNames.filter { $0.hasPrefix("frame") }
        let paths = try names.map { try ctx.input($0) }
        guard let siril = ExternalTool.find("siril-cli") else {
            throw StepError.externalTool(tool: "siril-cli", message: "not found in PATH; install it (apt-get install siril) or use registration.engine: relative")
        }
        let fm = FileManager.default
        let work = (NSTemporaryDirectory() as NSString).appendingPathComponent("tcbuild-siril-\(getpid())-\(UUID().uuidString)")
        defer { try? fm.removeItem(atPath: work) }
        do {
            try fm.createDirectory(atPath: work + "/in", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: work + "/home", withIntermediateDirectories: true)
            for (k, path) in paths.enumerated() {
                try fm.createSymbolicLink(atPath: work + "/in/" + String(format: "src_%05d.fit", k), withDestinationPath: path)
            }
        } catch {
            throw StepError.externalTool(tool: "siril-cli", message: "cannot prepare the work directory \(work): \(error)")
        }
        // Siril 1.0's findstar sigma is on its own scale (default 1.0 finds only a handful of stars on
        // frames where tcbuild finds dozens at 5 sigma); sigma = star_threshold_sigma / 25 (0.2 for the
        // default 5) and minimum roundness 0.3 give it comparable lists.
        let findSigma = p.registration.starThresholdSigma / 25
        var script = ["requires 1.0.0", "setcpu 1", String(format: "setfindstar %.4f 0.3", findSigma), "cd in",
                      p.bayer == nil ? "link f -out=.." : "convert f -debayer -out=..", "cd .."]
        if case .index(let n) = p.registration.reference { script.append("setref f \(n + 1)") }
        script.append("register f -transf=similarity -minpairs=\(p.registration.minStarMatches)")
        let scriptPath = work + "/script.ssf"
        try? (script.joined(separator: "\n") + "\n").write(toFile: scriptPath, atomically: true, encoding: .utf8)

        let (status, log) = ExternalTool.run(siril, ["-d", work, "-s", scriptPath], environment: ["HOME": work + "/home"])
        try Artifacts.writeText(log, ctx, "log")
        let tail = log.split(whereSeparator: \.isNewline).suffix(15).joined(separator: "\n")
        let parsed = SirilLog.parse(log)
        func frameName(_ image: Int) -> String {
            let k = image - 1
            return k >= 0 && k < paths.count ? (paths[k] as NSString).lastPathComponent : "image \(image)"
        }
        guard status == 0 else {
            throw StepError.externalTool(tool: "siril-cli", message: "exited with status \(status). Log tail:\n\(tail)")
        }
        // A frame siril skipped (or printed no transformation for) is recorded, not fatal: siril 1.0.6
        // registers the others and exits 0 ("Total: 1 failed, 5 registered"); its register node
        // excludes it (registration.on_failure).
        let seq = (try? String(contentsOfFile: work + "/f_.seq", encoding: .utf8)) ?? ""
        let refIndex = max(0, SirilLog.referenceIndex(seq: seq) ?? 0)
        var frames: [SirilFrameTransform] = []
        for k in 0..<paths.count {
            if k == refIndex {
                frames.append(SirilFrameTransform(index: k, transform: .identity, matches: parsed.matches[k + 1] ?? 0))
                continue
            }
            if let why = parsed.skipped[k + 1] {
                ctx.log("siril skipped \(frameName(k + 1)): \(why)")
                frames.append(SirilFrameTransform(index: k, transform: .identity, matches: 0, failed: "siril skipped it (\(why))"))
                continue
            }
            guard let m = parsed.matrices[k + 1], let t = SirilLog.transform(matrix: m, width: p.width, height: p.height) else {
                ctx.log("siril printed no transformation for \(frameName(k + 1))")
                frames.append(SirilFrameTransform(index: k, transform: .identity, matches: 0,
                                                  failed: "siril reported no transformation for it"))
                continue
            }
            frames.append(SirilFrameTransform(index: k, transform: t, matches: parsed.matches[k + 1] ?? 0))
        }
        try Artifacts.writeJSON(SirilRegistration(referenceIndex: refIndex, frames: frames), ctx, "transforms")
    }

    /// siril engine for one frame: siril's transform, re-based on tcbuild's reference when that is
    /// another frame (`T = T_ref^-1 then T_frame`).
    static func sirilTransform(_ ctx: NodeContext, index: Int, reference: ReferenceInfo, starCount: Int,
                               file: String) throws -> RegistrationResult {
        let s = try Artifacts.readJSON(SirilRegistration.self, ctx, "siril")
        guard let mine = s.frames.first(where: { $0.index == index }) else {
            throw StepError.badArtifact(node: NodeName.sirilRegister, message: "no transform for frame \(index) (\(file))")
        }
        if let why = mine.failed, reference.index != index {
            throw StepError.registrationFailed(file: file, message: why + "; lower registration.min_star_matches or use registration.engine: relative")
        }
        var t = mine.transform
        if let r = reference.index, r != s.referenceIndex, let rt = s.frames.first(where: { $0.index == r }) {
            if let why = rt.failed, reference.index != index {
                throw StepError.registrationFailed(file: file, message: "siril did not register the reference frame \(r) (\(why)), "
                    + "so its transform cannot be re-based; use registration.reference: auto or another index")
            }
            t = rt.transform.inverse.then(t)
        }
        if reference.index == index { t = .identity }
        return RegistrationResult(transform: t, residualRMS: 0, matches: mine.matches, starCount: starCount,
                                  engine: reference.index == index ? "identity" : "siril")
    }
}
