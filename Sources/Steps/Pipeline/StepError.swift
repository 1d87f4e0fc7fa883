/// Errors of the pipeline phases. Each names the files or config keys involved and what to do.
public enum StepError: Error, CustomStringConvertible, Equatable {
    /// The input directory does not exist or cannot be listed.
    case inputDirectoryMissing(path: String)
    /// No file in the input directory matches the pattern.
    case noFrames(directory: String, pattern: String)
    /// Fewer frames than `data.frames_min`.
    case tooFewFrames(count: Int, minimum: Int, directory: String)
    /// Fewer registered frames than `data.frames_min` once registration excluded `excluded`.
    case tooFewRegistered(registered: Int, excluded: [String], minimum: Int)
    /// Frames of different sizes (or plane counts).
    case mixedSizes(first: String, firstSize: String, other: String, otherSize: String)
    /// Frames with different Bayer patterns (or mono mixed with CFA).
    case mixedBayer(first: String, firstPattern: String, other: String, otherPattern: String)
    /// Exposure times that differ by more than the allowed spread.
    case exposureSpread(shortest: String, shortestSeconds: Double, longest: String, longestSeconds: Double, allowedPercent: Double)
    /// Frames the scan cannot use, all of them at once (`total` frames were scanned).
    case badFrames([FrameProblem], total: Int)
    /// A frame whose histogram looks stretched (non-linear).
    case stretched(file: String, detail: String)
    /// Too many NaN/Inf pixels.
    case nonFinite(file: String, fraction: Double, allowed: Double)
    /// A frame could not be read.
    case unreadable(file: String, message: String)
    /// Registration failed for a frame.
    case registrationFailed(file: String, message: String)
    /// An external tool (siril-cli) is missing or failed.
    case externalTool(tool: String, message: String)
    /// A config value cannot be used with this data.
    case badConfig(key: String, message: String)
    /// An artifact is not in the expected format (a bug or a damaged store; `tcbuild verify` checks).
    case badArtifact(node: String, message: String)

    public var description: String {
        switch self {
        case .inputDirectoryMissing(let p):
            return "input directory \(p) does not exist; set data.input_dir in tile_compile.yaml (relative to the workspace)"
        case .noFrames(let d, let p):
            return "no frames in \(d) match data.pattern '\(p)'; check data.input_dir and data.pattern"
        case .tooFewFrames(let n, let m, let d):
            return "\(n) frames in \(d), fewer than data.frames_min = \(m); add frames or lower data.frames_min (e.g. --set data.frames_min=\(n))"
        case .tooFewRegistered(let n, let out, let m):
            return "\(n) frames registered, fewer than data.frames_min = \(m): \(out.count) frame(s) could not be registered "
                + "and were excluded (\(out.joined(separator: ", "))); see 'tcbuild status' for the reasons, add frames, "
                + "or lower data.frames_min (e.g. --set data.frames_min=\(n))"
        case .mixedSizes(let a, let sa, let b, let sb):
            return "frames differ in size: \(a) is \(sa) but \(b) is \(sb); all frames of a series must have one size"
        case .mixedBayer(let a, let pa, let b, let pb):
            return "frames differ in Bayer pattern: \(a) is \(pa) but \(b) is \(pb); process mono and colour series separately"
        case .exposureSpread(let s, let ss, let l, let ls, let allowed):
            return "exposure times differ by more than \(allowed) %: \(s) has \(ss) s but \(l) has \(ls) s; "
                + "split the series by exposure or raise data.max_exposure_spread_percent"
        case .badFrames(let problems, let total):
            let width = min(40, problems.map(\.file.count).max() ?? 4)
            func pad(_ s: String) -> String { s.padding(toLength: max(width, s.count), withPad: " ", startingAt: 0) }
            return "\(problems.count) problem(s) in \(Set(problems.map(\.file)).count) of \(total) frames; nothing after the scan ran. "
                + "Fix or remove these files (move them out of data.input_dir), then run again:\n"
                + "  \(pad("file"))  problem  ->  fix\n"
                + problems.map { "  \(pad($0.file))  \($0.problem)  ->  \($0.fix)" }.joined(separator: "\n")
        case .stretched(let f, let d):
            return "\(f) looks stretched, not linear (\(d)); tcbuild needs linear frames straight from the camera (no stretch, asinh or log)"
        case .nonFinite(let f, let x, let a):
            return "\(f) has \(String(format: "%.3g", x * 100)) % NaN/Inf pixels, more than data.max_nonfinite_fraction = \(a); remove or repair the frame"
        case .unreadable(let f, let m): return "\(f): cannot read frame: \(m)"
        case .registrationFailed(let f, let m): return "registration of \(f) failed: \(m)"
        case .externalTool(let t, let m): return "\(t): \(m)"
        case .badConfig(let k, let m): return "\(k): \(m)"
        case .badArtifact(let n, let m): return "node \(n): unexpected artifact: \(m); run 'tcbuild verify --rehash'"
        }
    }
}
