import Foundation
import Graph

/// Appends one JSON line per build event to `.tcbuild/runs/<run id>.jsonl` (node start, finish,
/// cached, failed, log lines, with timestamps). Lines are written whole with O_APPEND, so a killed
/// run leaves at most one truncated last line.
public final class RunLog: EventSink, @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
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
        var fields: [String: Any] = ["t": (Date().timeIntervalSince1970 * 1000).rounded() / 1000]
        switch event {
        case .runStarted(let total, let jobs): fields["event"] = "run_started"; fields["nodes"] = total; fields["jobs"] = jobs
        case .nodeStarted(let n, let g): fields["event"] = "started"; fields["node"] = n; fields["group"] = g
        case .nodeCached(let n, let g): fields["event"] = "cached"; fields["node"] = n; fields["group"] = g
        case .nodeExecuted(let n, let g, let s, let b):
            fields["event"] = "finished"; fields["node"] = n; fields["group"] = g; fields["seconds"] = s; fields["bytes"] = b
        case .nodeFailed(let n, let g, let m): fields["event"] = "failed"; fields["node"] = n; fields["group"] = g; fields["message"] = m
        case .nodeSkipped(let n, let g): fields["event"] = "skipped"; fields["node"] = n; fields["group"] = g
        case .log(let n, let m): fields["event"] = "log"; fields["node"] = n; fields["message"] = m
        case .runFinished(let e, let c, let f, let s):
            fields["event"] = "run_finished"; fields["executed"] = e; fields["cached"] = c; fields["failed"] = f; fields["seconds"] = s
        }
        guard var data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        lock.withLock { _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
    }
}
