import Foundation
import Testing
import TestSupport
@testable import Executors

/// The pipeline's tile phases (`reconstruct`, `synthetic/NN`: task kind `reconstruct.tile`) on real
/// `tcbuild worker` processes through the local broker, against local runs of the same series.
/// Each test uses its own vhost and deletes it.
@Suite(.serialized, .enabled(if: Broker.shouldRun, Broker.skipMessage))
struct PipelineScaleOutTests {
    static let sets = ["--set", "data.frames_min=12", "--set", "pipeline.abort_on_fail=false", "--set", "registration.reference=0"]

    /// A 12-frame 256x192 series (`tcbuild synth`) and workspaces reading it.
    private func series(_ dir: TemporaryDirectory) throws -> String {
        let synth = try runProcess(tcbuildBinary(), ["synth", dir.file("series"), "--frames", "12", "--size", "256x192", "--seed", "7", "--stars", "700"])
        #expect(synth.status == 0, "\(synth.stderr)")
        return dir.file("series/frames")
    }

    private func workspace(_ path: String, frames: String) throws {
        let r = try runProcess(tcbuildBinary(), ["init", path, "--input", frames])
        #expect(r.status == 0, "\(r.stderr)")
    }

    /// The tile-phase artifacts a run materialized, by relative path, with the final stack.
    private func artifacts(_ ws: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for rel in ["stacked.fit", "reconstruction.fit"] { out[rel] = FileManager.default.contents(atPath: ws + "/" + rel) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: ws + "/synthetic")) ?? [] {
            out["synthetic/" + name] = FileManager.default.contents(atPath: ws + "/synthetic/" + name)
        }
        return out
    }

    /// The run-log messages of tile nodes in `ws`'s runs.
    private func tileLogLines(_ ws: String) -> [String] {
        let runs = ws + "/.tcbuild/runs"
        return ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).sorted().flatMap { f in
            ((try? String(contentsOfFile: runs + "/" + f, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }.filter { $0.contains("tile tasks (") }
    }

    /// `N reused from the store` summed over the log lines.
    private func reused(_ lines: [String]) -> Int {
        lines.compactMap { line -> Int? in
            guard let r = line.range(of: " reused from the store") else { return nil }
            return Int(line[..<r.lowerBound].split(separator: " ").last ?? "")
        }.reduce(0, +)
    }

    @Test func aRunOnTwoWorkersIsByteIdenticalToALocalRun() throws {
        let vhost = try TestVhost("pipeline")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("scale-out-pipeline")
        let frames = try series(dir)
        let local = dir.file("local"), shared = dir.file("shared")
        try workspace(local, frames: frames)
        try workspace(shared, frames: frames)
        let l = try runProcess(tcbuildBinary(), ["run", "-w", local, "-q", "--jobs", "1"] + Self.sets)
        #expect(l.status == 0, "\(l.stderr)")

        let w1 = try Child.worker(vhost.url, ws: shared, in: dir, label: "w1")
        let w2 = try Child.worker(vhost.url, ws: shared, in: dir, label: "w2")
        defer { w1.kill9(); w2.kill9() }
        #expect(waitUntil { w1.stdout.contains("consuming") && w2.stdout.contains("consuming") })
        let r = try runProcess(tcbuildBinary(), ["run", "-w", shared, "-q", "--jobs", "2", "--executor", "rabbitmq", "--broker", vhost.url] + Self.sets)
        #expect(r.status == 0, "\(r.stderr)")

        let a = try artifacts(local), b = try artifacts(shared)
        #expect(a["stacked.fit"] != nil && a["reconstruction.fit"] != nil && a.keys.contains { $0.hasPrefix("synthetic/") })
        #expect(Set(a.keys) == Set(b.keys))
        for (path, bytes) in a { #expect(b[path] == bytes, "\(path) differs between the local and the rabbitmq run") }
        // The tile work really ran on the workers, and both took part.
        #expect(w1.stdout.contains("reconstruct.tile"))  // the kinds the worker registered
        let done = { (w: Child) in w.stdout.split(separator: "\n").filter { $0.hasPrefix("done ") }.count }
        #expect(done(w1) > 0 && done(w2) > 0, "w1 \(done(w1)), w2 \(done(w2)) tile tasks")
        let lines = tileLogLines(shared)
        #expect(!lines.isEmpty && lines.allSatisfy { $0.contains("executor rabbitmq") })
        // The recorded command and config do not keep the broker password (guest here).
        let log = try runProcess(tcbuildBinary(), ["log", "-w", shared])
        #expect(!log.stdout.contains("guest:guest"))
        // Switching the executor back reruns nothing: it is part of no fingerprint.
        let again = try runProcess(tcbuildBinary(), ["run", "-w", shared, "--jobs", "2"] + Self.sets)
        #expect(again.status == 0 && again.stdout.contains(" 0 executed"), "\(again.stdout)")
    }

    @Test func aMasterKilledMidRunLeavesItsTileResultsForTheNextRun() throws {
        let vhost = try TestVhost("pipeline-kill")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("scale-out-kill")
        let frames = try series(dir)
        let local = dir.file("local"), shared = dir.file("shared")
        try workspace(local, frames: frames)
        try workspace(shared, frames: frames)
        // No worker yet: the master publishes the first tile node's tasks and waits; then it is killed.
        let master = try Child(["run", "-w", shared, "-q", "--jobs", "1", "--executor", "rabbitmq", "--broker", vhost.url] + Self.sets,
                               in: dir, label: "master")
        defer { master.kill9() }
        #expect(waitUntil(seconds: 300) { !master.process.isRunning || ((try? vhost.messages(in: TileQueues().compute)) ?? 0) > 0 },
                "no tile task was published: \(master.stderr)")
        try #require(master.process.isRunning, "the master exited: \(master.stderr)")
        usleep(500_000)  // the rest of the batch
        let queued = try vhost.messages(in: TileQueues().compute)
        master.kill9()
        // A worker computes the orphaned tasks into the shared store.
        let w = try Child.worker(vhost.url, ws: shared, in: dir, label: "w", ["--max-tasks", "\(queued)"])
        defer { w.kill9() }
        #expect(w.finish() == 0, "\(w.stderr)")
        #expect(try vhost.messages(in: TileQueues().compute) == 0)

        // The next run (a fresh worker, the master again) reuses every one of them, and the bytes are a local run's.
        let w2 = try Child.worker(vhost.url, ws: shared, in: dir, label: "w2")
        defer { w2.kill9() }
        let r = try runProcess(tcbuildBinary(), ["run", "-w", shared, "-q", "--jobs", "1", "--executor", "rabbitmq", "--broker", vhost.url] + Self.sets)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(reused(tileLogLines(shared)) == queued, "\(tileLogLines(shared))")
        let l = try runProcess(tcbuildBinary(), ["run", "-w", local, "-q"] + Self.sets)
        #expect(l.status == 0, "\(l.stderr)")
        #expect(try artifacts(local) == (try artifacts(shared)))
        // Once the nodes finished they removed their task results and memos.
        let memos = (try? FileManager.default.subpathsOfDirectory(atPath: shared + "/.tcbuild/tasks"))?.filter { $0.contains("/") } ?? []
        #expect(memos.isEmpty, "\(memos.count) memo files left")
    }

    @Test func anUnreachableBrokerFailsTheRunBeforeAnyWorkWithExit2() throws {
        let dir = TemporaryDirectory("scale-out-unreachable")
        try workspace(dir.file("ws"), frames: dir.path)
        let r = try runProcess(tcbuildBinary(), ["run", "-w", dir.file("ws"), "--executor", "rabbitmq", "--broker", "amqp://tcb:s3cret@127.0.0.1:1/astro"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("cannot connect to the RabbitMQ broker at amqp://tcb:***@127.0.0.1:1/astro"), "\(r.stderr)")
        #expect(!r.stderr.contains("s3cret"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("ws/.tcbuild/manifest.sqlite")))  // nothing started
    }
}
