import Foundation
import Graph

/// Shows a run's progress: on a terminal one live line (nodes done/total, the groups running, ETA);
/// otherwise a plain line every few seconds. `quiet` prints nothing.
final class ProgressDisplay: EventSink, @unchecked Sendable {
    private let lock = NSLock()
    private let terminal = isatty(STDERR_FILENO) != 0
    private let quiet: Bool
    private let verbose: Bool
    private var total = 0
    private var done = 0
    private var executed = 0
    private var running: [String: Int] = [:]
    private var start = Date()
    private var lastPrint = Date.distantPast

    init(quiet: Bool, verbose: Bool) {
        self.quiet = quiet
        self.verbose = verbose
    }

    func emit(_ event: BuildEvent) {
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .runStarted(let t, _): total += t; if done == 0 { start = Date() }
        case .nodeStarted(let node, let group):
            running[group, default: 0] += 1
            if verbose { line("start \(node)") }
        case .nodeExecuted(let node, let group, let seconds, _):
            running[group, default: 1] -= 1; done += 1; executed += 1
            if verbose { line(String(format: "done  %@ (%.2f s)", node, seconds)) }
        case .nodeCached: done += 1
        case .nodeFailed(let node, let group, let message):
            running[group, default: 1] -= 1; done += 1
            line("FAILED \(node): \(message)")
        case .log(let node, let message): if verbose { line("\(node): \(message)") }
        case .nodeSkipped, .runFinished: break
        }
        tick()
    }

    private func tick() {
        let now = Date()
        guard now.timeIntervalSince(lastPrint) > (terminal ? 0.2 : 5) else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let groups = running.filter { $0.value > 0 }.keys.sorted().joined(separator: ", ")
        var eta = ""
        if executed > 0 && done < total {
            let perNode = elapsed / Double(max(1, done))
            eta = String(format: ", ETA %.0f s", perNode * Double(total - done))
        }
        let text = "[\(done)/\(total) nodes, \(executed) executed\(eta)]\(groups.isEmpty ? "" : " running: \(groups)")"
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        } else {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    private func line(_ text: String) {
        FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    /// Ends the live line.
    func finish() {
        guard !quiet, terminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
