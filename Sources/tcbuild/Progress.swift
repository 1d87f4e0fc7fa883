import Foundation
import Graph

/// Shows a run's progress on standard error.
///
/// On a terminal: a live block, redrawn in place (ANSI cursor-up), of one summary line (nodes
/// done/total, executed, elapsed) and one line per running phase group with that group's done/total,
/// its rate (nodes executed per second since the group's first node started) and an ETA.
/// Otherwise: every 5 s one plain line per running group, and nothing at all before 5 s have passed,
/// so a short run prints no progress. `quiet` prints nothing; `verbose` adds a line per node start
/// and finish. Failures are always printed.
///
/// Group totals come from `groupTotals(stage)`, asked again at every `runStarted` with the number of
/// stages started before it (the pipeline's main graph is known only once its scan stage has run);
/// a group it does not name shows its count only.
final class ProgressDisplay: EventSink, @unchecked Sendable {
    /// Counters of one phase group.
    struct Group: Equatable {
        var done = 0, executed = 0, running = 0
        var firstStart: Date?
    }

    private let lock = NSLock()
    private let terminal: Bool
    private let quiet: Bool
    private let verbose: Bool
    private let groupTotals: @Sendable (Int) -> [String: Int]
    private let clock: @Sendable () -> Date
    private let output: @Sendable (String) -> Void
    private let width: Int
    private var totals: [String: Int] = [:]
    private var groups: [String: Group] = [:]
    private var order: [String] = []
    private var total = 0, done = 0, executed = 0, stages = 0
    private var start: Date?
    private var lastDraw: Date?
    private var drawnLines = 0
    private var timer: DispatchSourceTimer?
    private var finished = false

    /// A display writing to standard error. `terminal` defaults to whether stderr is a TTY;
    /// `heartbeat` redraws periodically between events (off in tests, which drive `clock`).
    init(quiet: Bool, verbose: Bool, terminal: Bool = isatty(STDERR_FILENO) != 0, heartbeat: Bool = true,
         groupTotals: @escaping @Sendable (Int) -> [String: Int] = { _ in [:] },
         clock: @escaping @Sendable () -> Date = { Date() },
         output: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.quiet = quiet
        self.verbose = verbose
        self.terminal = terminal
        self.groupTotals = groupTotals
        self.clock = clock
        self.output = output
        var size = winsize()
        width = terminal && ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 20 ? Int(size.ws_col) - 1 : 99
        if heartbeat && !quiet { startTimer() }
    }

    /// Seconds between redraws (terminal) or plain progress lines (otherwise).
    var interval: Double { terminal ? 0.25 : 5 }

    func emit(_ event: BuildEvent) {
        guard !quiet else { return }
        let now = clock()
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .runStarted(let t, _):
            total += t
            if start == nil { start = now }
            totals = groupTotals(stages)
            stages += 1
            // A later stage counts its groups afresh: the main graph replays the registration
            // stage's nodes as cache hits, which must not count twice against the group's total.
            for name in groups.keys { groups[name]!.done = 0; groups[name]!.executed = 0; groups[name]!.firstStart = nil }
        case .nodeStarted(let node, let group):
            update(group) { $0.running += 1; if $0.firstStart == nil { $0.firstStart = now } }
            if verbose { line("start \(node)") }
        case .nodeExecuted(let node, let group, let seconds, _):
            update(group) { $0.running -= 1; $0.done += 1; $0.executed += 1 }
            done += 1; executed += 1
            if verbose { line(String(format: "done  %@ (%.2f s)", node, seconds)) }
        case .nodeCached(_, let group):
            update(group) { $0.done += 1 }
            done += 1
        case .nodeFailed(let node, let group, let message):
            update(group) { $0.running -= 1; $0.done += 1 }
            done += 1
            line("FAILED \(node): \(message)")
        case .log(let node, let message):
            if verbose { line("\(node): \(message)") }
        case .nodeSkipped, .runFinished:
            break
        }
        tick(now)
    }

    private func update(_ group: String, _ body: (inout Group) -> Void) {
        if groups[group] == nil { order.append(group) }
        body(&groups[group, default: Group()])
    }

    /// Draws when `interval` has passed since the last draw, the first time `interval` after the start.
    private func tick(_ now: Date) {
        guard let start else { return }
        guard now.timeIntervalSince(lastDraw ?? start) >= interval else { return }
        lastDraw = now
        draw(render(now: now))
    }

    /// The lines to show at `now`: on a terminal the summary and one line per running group,
    /// otherwise one line per running group.
    func render(now: Date) -> [String] {
        let elapsed = now.timeIntervalSince(start ?? now)
        var lines: [String] = []
        if terminal {
            lines.append("[\(done)/\(total) nodes, \(executed) executed, \(Self.duration(elapsed))]")
        }
        for name in order {
            guard let g = groups[name], g.running > 0 else { continue }
            var text = (terminal ? "  " : "[\(Self.duration(elapsed))] ") + name + ": "
            if let t = totals[name] { text += "\(g.done)/\(t)" } else { text += "\(g.done) done" }
            text += ", \(g.running) running"
            if let first = g.firstStart, g.executed > 0, now > first {
                let rate = Double(g.executed) / now.timeIntervalSince(first)
                text += String(format: ", %.1f nodes/s", rate)
                if let t = totals[name], t > g.done { text += ", ETA " + Self.duration(Double(t - g.done) / rate) }
            }
            lines.append(String(text.prefix(width)))
        }
        return lines
    }

    /// `42 s`, `3 min 07 s`, `2 h 05 min`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return String(format: "%d min %02d s", s / 60, s % 60) }
        return String(format: "%d h %02d min", s / 3600, (s % 3600) / 60)
    }

    /// Replaces the block drawn last (terminal) or prints the lines (otherwise).
    private func draw(_ lines: [String]) {
        if terminal {
            output(erase() + lines.map { $0 + "\n" }.joined())
            drawnLines = lines.count
        } else if !lines.isEmpty {
            output(lines.map { $0 + "\n" }.joined())
        }
    }

    /// The escape sequence that moves up over the drawn block and clears it (empty off a terminal).
    private func erase() -> String {
        guard terminal else { return "" }
        defer { drawnLines = 0 }
        return (drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : "") + "\r\u{1B}[J"
    }

    /// A permanent line above the live block; the block is redrawn at the next tick.
    private func line(_ text: String) {
        output(erase() + text + "\n")
        if terminal { lastDraw = nil }  // redraw the block below the line at the next tick
    }

    private func startTimer() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            let now = self.clock()
            self.lock.lock()
            self.tick(now)
            self.lock.unlock()
        }
        timer.resume()
        self.timer = timer
    }

    /// Stops redrawing and clears the live block.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        timer?.cancel()
        timer = nil
        guard !quiet, terminal, !finished else { return }
        finished = true
        output(erase())
    }
}
