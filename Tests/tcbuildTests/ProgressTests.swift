import Foundation
import Testing
import Graph
@testable import tcbuild

/// A clock the test moves by hand, and a sink that keeps what the display wrote.
private final class Bench: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds = 0.0
    private var chunks: [String] = []
    let epoch = Date(timeIntervalSince1970: 1_700_000_000)

    func set(_ t: Double) { lock.withLock { seconds = t } }
    func now() -> Date { lock.withLock { epoch.addingTimeInterval(seconds) } }
    func write(_ s: String) { lock.withLock { chunks.append(s) } }
    var written: [String] { lock.withLock { chunks } }

    func display(terminal: Bool, verbose: Bool = false, totals: [String: Int]) -> ProgressDisplay {
        ProgressDisplay(quiet: false, verbose: verbose, terminal: terminal, heartbeat: false,
                        groupTotals: { _ in totals }, clock: { self.now() }, output: { self.write($0) })
    }
}

/// The stage numbers a totals provider was called with.
private final class Stages: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func record(_ s: Int) { lock.withLock { list.append(s) } }
    var seen: [Int] { lock.withLock { list } }
}

@Suite struct ProgressTests {
    /// Feeds `events` at the given times.
    private func play(_ bench: Bench, _ display: ProgressDisplay, _ events: [(Double, BuildEvent)]) {
        for (t, e) in events { bench.set(t); display.emit(e) }
    }

    private func executed(_ node: String, _ group: String) -> BuildEvent {
        .nodeExecuted(node: node, group: group, seconds: 0.1, bytes: 10)
    }

    @Test func plainOutputStaysSilentForARunUnderASecond() {
        let bench = Bench()
        let display = bench.display(terminal: false, totals: ["scan": 1, "stars": 2])
        play(bench, display, [
            (0, .runStarted(total: 3, jobs: 2)), (0.1, .nodeStarted(node: "scan", group: "scan")),
            (0.3, executed("scan", "scan")), (0.4, .nodeStarted(node: "stars/00000", group: "stars")),
            (0.6, .nodeCached(node: "stars/00001", group: "stars")), (0.9, executed("stars/00000", "stars")),
            (0.95, .runFinished(executed: 2, cached: 1, failed: 0, seconds: 0.95)),
        ])
        display.finish()
        #expect(bench.written.isEmpty)
    }

    @Test func plainOutputPrintsOneLinePerRunningGroupWithRateAndETA() {
        let bench = Bench()
        let display = bench.display(terminal: false, totals: ["stars": 4, "register": 10])
        play(bench, display, [
            (0, .runStarted(total: 14, jobs: 2)),
            (0, .nodeStarted(node: "stars/00000", group: "stars")),
            (1, .nodeStarted(node: "register/00000", group: "register")),
            (2, executed("register/00000", "register")), (2, .nodeStarted(node: "register/00001", group: "register")),
            (3, executed("register/00001", "register")), (3, .nodeStarted(node: "register/00002", group: "register")),
            (4, executed("register/00002", "register")), (4, .nodeStarted(node: "register/00003", group: "register")),
            (4.5, .nodeCached(node: "register/00009", group: "register")),
        ])
        #expect(bench.written.isEmpty)  // nothing before 5 s
        bench.set(5)
        display.emit(executed("stars/00000", "stars"))  // stars is then done with its running node
        // stars: no node running -> no line. register: 4 done (3 executed + 1 cached) of 10, 1 running,
        // 3 executed in the 4 s since its first start = 0.75 nodes/s, 6 left -> ETA 8 s.
        #expect(bench.written == ["[5 s] register: 4/10, 1 running, 0.8 nodes/s, ETA 8 s\n"])
        bench.set(7)
        display.emit(.nodeStarted(node: "stars/00001", group: "stars"))
        #expect(bench.written.count == 1)  // the next lines come 5 s after the last ones
        bench.set(10)
        display.emit(.nodeStarted(node: "x", group: "other"))  // a group the totals do not name
        #expect(bench.written.count == 2)
        // stars: 1 executed in 10 s = 0.1 nodes/s, 3 left -> 30 s; register: 3 in 9 s, 6 left -> 18 s.
        #expect(bench.written.last == """
            [10 s] stars: 1/4, 1 running, 0.1 nodes/s, ETA 30 s
            [10 s] register: 4/10, 1 running, 0.3 nodes/s, ETA 18 s
            [10 s] other: 0 done, 1 running\n
            """)
    }

    @Test func terminalRedrawsItsBlockInPlaceAndClearsItAtTheEnd() {
        let bench = Bench()
        let display = bench.display(terminal: true, verbose: true, totals: ["a": 2, "b": 1])
        play(bench, display, [
            (0, .runStarted(total: 3, jobs: 2)),
            (0.1, .nodeStarted(node: "a/1", group: "a")), (0.1, .nodeStarted(node: "b/1", group: "b")),
        ])
        // Two verbose lines, each clearing the (not yet drawn) block; no block before 0.25 s.
        #expect(bench.written == ["\r\u{1B}[Jstart a/1\n", "\r\u{1B}[Jstart b/1\n"])
        bench.set(1)
        display.emit(.nodeCached(node: "a/2", group: "a"))
        #expect(bench.written.last == "\r\u{1B}[J[1/3 nodes, 0 executed, 1 s]\n  a: 1/2, 1 running\n  b: 0/1, 1 running\n")
        bench.set(1.1)
        display.emit(.log(node: "a/1", message: "half way"))  // a permanent line: up over the 3 drawn lines, then redraw
        #expect(Array(bench.written.suffix(2)) == ["\u{1B}[3A\r\u{1B}[Ja/1: half way\n",
                                                   "\r\u{1B}[J[1/3 nodes, 0 executed, 1 s]\n  a: 1/2, 1 running\n  b: 0/1, 1 running\n"])
        bench.set(2)
        display.emit(executed("b/1", "b"))
        // b has nothing running any more: the block shrinks to 2 lines (a without a rate: none executed yet).
        #expect(Array(bench.written.suffix(2)) == ["\u{1B}[3A\r\u{1B}[Jdone  b/1 (0.10 s)\n",
                                                   "\r\u{1B}[J[2/3 nodes, 1 executed, 2 s]\n  a: 1/2, 1 running\n"])
        bench.set(3)
        display.emit(executed("a/1", "a"))
        #expect(Array(bench.written.suffix(2)) == ["\u{1B}[2A\r\u{1B}[Jdone  a/1 (0.10 s)\n", "\r\u{1B}[J[3/3 nodes, 2 executed, 3 s]\n"])
        let count = bench.written.count
        display.finish()
        display.finish()  // idempotent
        #expect(bench.written.count == count + 1)
        #expect(bench.written.last == "\u{1B}[1A\r\u{1B}[J")
    }

    @Test func groupTotalsAreAskedAgainAtEachStage() {
        let bench = Bench()
        let stages = Stages()
        let display = ProgressDisplay(quiet: false, verbose: false, terminal: false, heartbeat: false,
                                      groupTotals: { stage in stages.record(stage); return stage == 0 ? ["scan": 1] : ["scan": 1, "register": 5] },
                                      clock: { bench.now() }, output: { bench.write($0) })
        play(bench, display, [
            (0, .runStarted(total: 1, jobs: 1)), (0, .nodeStarted(node: "scan", group: "scan")), (0.5, executed("scan", "scan")),
            (0.5, .runStarted(total: 5, jobs: 1)), (1, .nodeStarted(node: "register/00000", group: "register")),
            (6, .nodeCached(node: "register/00001", group: "register")),
        ])
        #expect(stages.seen == [0, 1])
        #expect(bench.written == ["[6 s] register: 1/5, 1 running\n"])
    }

    @Test func durationsReadLikeAClock() {
        #expect(ProgressDisplay.duration(0.4) == "0 s")
        #expect(ProgressDisplay.duration(59.4) == "59 s")
        #expect(ProgressDisplay.duration(187) == "3 min 07 s")
        #expect(ProgressDisplay.duration(7500) == "2 h 05 min")
    }
}
