import Foundation
import Graph

/// Appends one JSON line per build event to `.tcbuild/runs/<run id>.jsonl` (node start, finish,
/// cached, failed, log lines, with timestamps). Lines are written whole with O_APPEND, so a killed
/// run leaves at most one truncated last line. A node is logged as resolved once per run: a later
/// stage that replays it as a cache hit (the main graph replays the registration stage) adds no line.
public final class RunLog: EventSink, @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    /// Nodes already logged as executed or cached in this run (guarded by `lock`).
    private var resolved: Set<String> = []
    /// The log file.
    public let path: String

    /// Opens the log of run `runID` in `workspace`.
    public init(workspace: Workspace, runID: Int64) throws {
        let dir = workspace.stateDir + "/runs"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = dir + "/\(runID).jsonl"
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CacheError.io(path: path, message: "cannot open run log: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    public func emit(_ event: BuildEvent) {
        switch event {
        case .nodeCached(let n, _):
            if lock.withLock({ !resolved.insert(n).inserted }) { return }
        case .nodeExecuted(let n, _, _, _):
            lock.withLock { _ = resolved.insert(n) }
        default: break
        }
        var line = JSONLine()
        line.add("t", (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
        switch event {
        case .runStarted(let total, let jobs):
            line.add("event", "run_started"); line.add("nodes", Double(total)); line.add("jobs", Double(jobs))
        case .nodeStarted(let n, let g): line.add("event", "started"); line.add("node", n); line.add("group", g)
        case .nodeCached(let n, let g): line.add("event", "cached"); line.add("node", n); line.add("group", g)
        case .nodeExecuted(let n, let g, let s, let b):
            line.add("event", "finished"); line.add("node", n); line.add("group", g); line.add("seconds", s); line.add("bytes", Double(b))
        case .nodeFailed(let n, let g, let m):
            line.add("event", "failed"); line.add("node", n); line.add("group", g); line.add("message", m)
        case .nodeSkipped(let n, let g): line.add("event", "skipped"); line.add("node", n); line.add("group", g)
        case .log(let n, let m): line.add("event", "log"); line.add("node", n); line.add("message", m)
        case .runFinished(let e, let c, let f, let s):
            line.add("event", "run_finished"); line.add("executed", Double(e)); line.add("cached", Double(c))
            line.add("failed", Double(f)); line.add("seconds", s)
        }
        let bytes = Array(line.text.utf8)
        lock.withLock { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
    }
}

/// Builds one JSON object on one line, fields in the order added (no Foundation JSON: the run log
/// is written for every node and must stay cheap on a 2000-node no-op run).
struct JSONLine {
    private var body = ""

    mutating func add(_ key: String, _ value: String) { append(key, JSONLine.quote(value)) }

    mutating func add(_ key: String, _ value: Double) {
        append(key, value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value))
    }

    private mutating func append(_ key: String, _ json: String) {
        body += (body.isEmpty ? "" : ",") + JSONLine.quote(key) + ":" + json
    }

    var text: String { "{" + body + "}\n" }

    /// A JSON string literal with the required escapes.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
