import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Executors
@testable import Graph

/// The RabbitMQ executor against the real broker on localhost, with real `tcbuild worker` and
/// `tcbuild _tiles` (master) processes. Each test uses its own vhost and deletes it.
@Suite(.serialized, .enabled(if: Broker.shouldRun, Broker.skipMessage))
struct RabbitMQTests {
    /// Runs a master to completion (killed after 180 s: status -1) and returns its status and output.
    private func master(_ url: String, ws: String, tasks: Int, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let dir = TemporaryDirectory("rmq-master-out")
        let m = try Child(["_tiles", "--workspace", ws, "--broker", url, "--tasks", "\(tasks)", "--size", "2000", "--json"] + extra,
                          in: dir, label: "master")
        let status = m.finish()
        return (status, m.stdout, m.stderr)
    }

    private func expected(_ tasks: Int) throws -> [String] {
        try ToyTileKind.expectedDigests(count: tasks, inputs: 3, size: 2000, runID: "toy-run").map(\.hex)
    }

    @Test func twoWorkersGiveTheLocalExecutorsBytesInTileOrder() throws {
        let vhost = try TestVhost("identical")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-identical")
        let local = try runProcess(tcbuildBinary(), ["_tiles", "--workspace", dir.file("local"), "--executor", "local",
                                                     "--tasks", "12", "--size", "2000", "--json"])
        #expect(local.status == 0, "\(local.stderr)")
        let ws = dir.file("shared")
        let w1 = try Child.worker(vhost.url, ws: ws, in: dir, label: "w1")
        let w2 = try Child.worker(vhost.url, ws: ws, in: dir, label: "w2")
        defer { w1.kill9(); w2.kill9() }
        // Both consume before the tasks are published, so the broker hands tasks to both (prefetch 1).
        #expect(waitUntil { w1.stdout.contains("consuming") && w2.stdout.contains("consuming") })
        let remote = try master(vhost.url, ws: ws, tasks: 12)
        #expect(remote.status == 0, "\(remote.stderr)")
        let l = try TilesReport(local.stdout), r = try TilesReport(remote.stdout)
        #expect(r.digests == l.digests)
        #expect(r.digests == (try expected(12)))
        #expect(r.executed == 12 && r.reused == 0 && r.duplicates == 0)
        #expect(Set(r.workers) == [w1.workerID, w2.workerID])
        // Every result artifact is byte-identical in the two workspaces.
        let localStore = try ArtifactStore(workspace: dir.file("local")), sharedStore = try ArtifactStore(workspace: ws)
        for hex in r.digests {
            let d = try #require(Digest(hex: hex))
            #expect(try sharedStore.read(d) == localStore.read(d))
        }
        // The second run publishes nothing: every result is reused from the shared store.
        let again = try master(vhost.url, ws: ws, tasks: 12)
        let a = try TilesReport(again.stdout)
        #expect(a.reused == 12 && a.executed == 0 && a.digests == l.digests)
        #expect(try vhost.messages(in: TileQueues().compute) == 0)
    }

    @Test func aWorkerKilledMidTaskHasItsTaskRedeliveredAndDoneOnce() throws {
        let vhost = try TestVhost("sigkill")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-sigkill")
        let ws = dir.file("shared"), release = dir.file("release")
        try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
        let doomed = try Child.worker(vhost.url, ws: ws, in: dir, label: "doomed")
        defer { doomed.kill9() }
        let m = try Child(["_tiles", "--workspace", ws, "--broker", vhost.url, "--tasks", "4", "--size", "2000", "--json",
                           "--wait-tile", "0", "--wait-for", release, "--marker-dir", dir.path], in: dir, label: "master")
        defer { m.kill9() }
        #expect(waitUntil { file(in: dir.path, prefix: "started.0.\(doomed.pid)") != nil }, "tile 0 never started")
        doomed.kill9()
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        let survivor = try Child.worker(vhost.url, ws: ws, in: dir, label: "survivor")
        defer { survivor.kill9() }
        #expect(m.finish() == 0, "\(m.stderr)")
        let r = try TilesReport(m.stdout)
        #expect(r.digests == (try expected(4)))
        #expect(r.attempts[0] == 2)  // the redelivery counts as an attempt
        #expect(r.workers == Array(repeating: survivor.workerID, count: 4))
        let doneTile0 = survivor.stdout.split(separator: "\n").filter { $0.hasPrefix("done ") && $0.contains(" tile=0 ") }
        #expect(doneTile0.count == 1)
        #expect(survivor.stdout.contains("requeued run=toy-run tile=0 attempt=2"))
        #expect(!doomed.stdout.contains("done run=toy-run tile=0 "))
        #expect(try vhost.messages(in: TileQueues().compute) == 0)
    }

    @Test func sigtermStopsAWorkerAfterItsCurrentTask() throws {
        let vhost = try TestVhost("sigterm")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-sigterm")
        let ws = dir.file("shared"), release = dir.file("release")
        let w = try Child.worker(vhost.url, ws: ws, in: dir, label: "w")
        defer { w.kill9() }
        let m = try Child(["_tiles", "--workspace", ws, "--broker", vhost.url, "--tasks", "3", "--size", "2000", "--json",
                           "--wait-tile", "0", "--wait-for", release, "--marker-dir", dir.path], in: dir, label: "master")
        defer { m.kill9() }
        #expect(waitUntil { file(in: dir.path, prefix: "started.0.\(w.pid)") != nil }, "tile 0 never started")
        kill(w.pid, SIGTERM)
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        #expect(w.finish() == 0)  // it finished tile 0, then stopped
        #expect(w.stdout.contains("done run=toy-run tile=0 attempt=1"))
        #expect(w.stdout.contains("stopping after 1 task"))
        // Tiles 1 and 2 are still queued for the next worker; tile 0 is not redone.
        let next = try Child.worker(vhost.url, ws: ws, in: dir, label: "next")
        defer { next.kill9() }
        #expect(m.finish() == 0, "\(m.stderr)")
        let r = try TilesReport(m.stdout)
        #expect(r.digests == (try expected(3)))
        #expect(r.workers == [w.workerID, next.workerID, next.workerID])
        #expect(r.attempts == [1, 1, 1])
    }

    @Test func aTaskThatAlwaysFailsIsDeadLetteredAfterMaxRetriesAndTheRunNamesTheTile() throws {
        let vhost = try TestVhost("dlq")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-dlq")
        let ws = dir.file("shared")
        let w = try Child.worker(vhost.url, ws: ws, in: dir, label: "w")
        defer { w.kill9() }
        let r = try master(vhost.url, ws: ws, tasks: 3, ["--fail-tile", "1", "--max-retries", "3"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("tile 1 (toy.combine) failed after 3 attempts: toy task failure requested for tile 1"), "\(r.stderr)")
        #expect(r.stderr.contains("tile.dlq"))
        #expect(try vhost.messages(in: TileQueues().deadLetters) == 1)
        #expect(waitUntil { w.stdout.contains("dead-lettered run=toy-run tile=1 attempt=3") })
        #expect(w.stdout.split(separator: "\n").filter { $0.hasPrefix("retry ") && $0.contains(" tile=1 ") }.count == 2)
    }

    @Test func aKindTheWorkersDoNotKnowIsDeadLetteredNamingIt() throws {
        // A master built with a newer task kind than its workers (in-process master, real worker).
        let vhost = try TestVhost("kind")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-kind")
        let ws = dir.file("shared")
        let w = try Child.worker(vhost.url, ws: ws, in: dir, label: "w")
        defer { w.kill9() }
        let store = try ArtifactStore(workspace: ws, durable: false)
        var tasks = try ToyTileKind.tasks(count: 2, inputs: 1, size: 64, runID: "kind-run", store: store)
        for i in tasks.indices { tasks[i].inputStage = "phase.future" }
        let master = RabbitMQExecutor(url: try BrokerURL(vhost.url), store: store, maxRetries: 2)
        do {
            _ = try master.run(kind: "phase.future", tasks: tasks)
            Issue.record("the batch succeeded")
        } catch let e as ExecutorError {
            guard case .taskFailed(let tile, let kind, let attempts, let reason) = e else { Issue.record("wrong error \(e)"); return }
            #expect(tile == 0 || tile == 1)
            #expect(kind == "phase.future" && attempts == 2)
            #expect(reason.contains("unknown task kind 'phase.future'"), "\(reason)")
            #expect(reason.contains(w.workerID))
        }
        #expect(waitUntil { ((try? vhost.messages(in: TileQueues().deadLetters)) ?? 0) == 2 })
    }

    @Test func aDuplicateResultIsDeduped() throws {
        let vhost = try TestVhost("dup")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-dup")
        let ws = dir.file("shared")
        let w = try Child.worker(vhost.url, ws: ws, in: dir, label: "w")
        defer { w.kill9() }
        // One worker, prefetch 1: tile 0's two results reach the master before tiles 1 and 2 are done.
        let r = try master(vhost.url, ws: ws, tasks: 3, ["--duplicate-tile", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try TilesReport(r.stdout)
        #expect(report.duplicates == 1)
        #expect(report.digests == (try expected(3)))
    }

    @Test func anUnreachableBrokerExits2NamingTheURL() throws {
        let dir = TemporaryDirectory("rmq-unreachable")
        let url = "amqp://guest:guest@127.0.0.1:1/astro"
        let r = try runProcess(tcbuildBinary(), ["_tiles", "--workspace", dir.file("ws"), "--broker", url, "--tasks", "2"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("cannot connect to the RabbitMQ broker at amqp://guest:***@127.0.0.1:1/astro"), "\(r.stderr)")
        #expect(!r.stderr.contains("guest:guest"))
        let w = try runProcess(tcbuildBinary(), ["worker", "--broker", url, "--workspace", dir.path])
        #expect(w.status == 2)
        #expect(w.stderr.contains("amqp://guest:***@127.0.0.1:1/astro"))
        let bad = try runProcess(tcbuildBinary(), ["worker", "--broker", "http://x/", "--workspace", dir.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("invalid broker URL 'http://x/'"))
    }

    @Test func aBrokerLostMidRunFailsCleanlyAndTheNextRunResumes() throws {
        let vhost = try TestVhost("lost")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-lost")
        let ws = dir.file("shared"), release = dir.file("release")
        let args = ["--wait-tile", "3", "--wait-for", release, "--marker-dir", dir.path]
        try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
        let w1 = try Child.worker(vhost.url, ws: ws, in: dir, label: "w1")
        defer { w1.kill9() }
        let m = try Child(["_tiles", "--workspace", ws, "--broker", vhost.url, "--tasks", "4", "--size", "2000", "--json"] + args,
                          in: dir, label: "master")
        defer { m.kill9() }
        // One worker, prefetch 1: when tile 3 starts, tiles 0-2 are done and in the store.
        #expect(waitUntil { file(in: dir.path, prefix: "started.3.") != nil }, "tile 3 never started")
        vhost.delete()  // the broker closes every connection of the vhost
        #expect(m.finish() == 1)
        #expect(m.stderr.contains("lost the RabbitMQ broker at amqp://guest:***@localhost:5672/\(vhost.name)"), "\(m.stderr)")
        w1.kill9()
        // The broker is back; the next run reuses tiles 0-2 and computes only tile 3.
        try vhost.create()
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        let w2 = try Child.worker(vhost.url, ws: ws, in: dir, label: "w2")
        defer { w2.kill9() }
        let again = try master(vhost.url, ws: ws, tasks: 4, args)
        #expect(again.status == 0, "\(again.stderr)")
        let r = try TilesReport(again.stdout)
        #expect(r.reused == 3 && r.executed == 1)
        #expect(r.digests == (try expected(4)))
    }

    @Test func aBrokerThatGoesSilentIsDetectedByHeartbeats() throws {
        let vhost = try TestVhost("silent")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-silent")
        let proxy = try FreezableProxy(upstreamPort: 5672)
        defer { proxy.close() }
        let url = "amqp://guest:guest@127.0.0.1:\(proxy.port)/\(vhost.name)"
        // No worker: the master publishes its tasks and waits for results, exchanging heartbeats.
        let m = try Child(["_tiles", "--workspace", dir.file("ws"), "--broker", url, "--tasks", "2", "--heartbeat", "1", "--json"],
                          in: dir, label: "master")
        defer { m.kill9() }
        #expect(waitUntil { ((try? vhost.messages(in: TileQueues().compute)) ?? 0) == 2 }, "the tasks were never published")
        proxy.freeze()  // the link goes dead without closing: only missed heartbeats tell
        #expect(m.finish() == 1)
        #expect(m.stderr.contains("lost the RabbitMQ broker at amqp://guest:***@127.0.0.1:\(proxy.port)/\(vhost.name)"), "\(m.stderr)")
        #expect(m.stderr.contains("heartbeat"), "\(m.stderr)")
    }

    @Test func aTaskLongerThanTheHeartbeatTimeoutKeepsItsWorkerConnected() throws {
        let vhost = try TestVhost("long")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-long")
        let ws = dir.file("shared")
        // Heartbeats every 1 s: the broker drops a peer silent for ~2 s; each task takes 3.5 s.
        let w = try Child.worker(vhost.url, ws: ws, in: dir, label: "w", ["--heartbeat", "1"])
        defer { w.kill9() }
        let r = try master(vhost.url, ws: ws, tasks: 2, ["--heartbeat", "1", "--sleep-ms", "3500"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try TilesReport(r.stdout)
        #expect(report.digests == (try expected(2)))
        #expect(report.attempts == [1, 1])
        #expect(report.workers == [w.workerID, w.workerID])
        #expect(w.process.isRunning)
    }

    @Test func aMasterKilledMidRunLeavesEveryFinishedTileForTheNextRun() throws {
        let vhost = try TestVhost("master")
        defer { vhost.delete() }
        let dir = TemporaryDirectory("rmq-master")
        let ws = dir.file("shared"), release = dir.file("release")
        let args = ["--wait-tile", "3", "--wait-for", release, "--marker-dir", dir.path]
        try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
        let w = try Child.worker(vhost.url, ws: ws, in: dir, label: "w")
        defer { w.kill9() }
        let m = try Child(["_tiles", "--workspace", ws, "--broker", vhost.url, "--tasks", "5", "--size", "2000", "--json"] + args,
                          in: dir, label: "master")
        #expect(waitUntil { file(in: dir.path, prefix: "started.3.") != nil }, "tile 3 never started")
        m.kill9()
        // Tiles 0-2 finished before the kill; tile 3 finishes after it (its result queue is gone, the
        // result stays in the store); tile 4 was still queued and runs too.
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        #expect(waitUntil { w.stdout.contains(" tile=4 ") })
        let again = try master(vhost.url, ws: ws, tasks: 5, args)
        #expect(again.status == 0, "\(again.stderr)")
        let r = try TilesReport(again.stdout)
        #expect(r.reused == 5 && r.executed == 0)
        #expect(r.digests == (try expected(5)))
        #expect(w.stdout.split(separator: "\n").filter { $0.hasPrefix("done ") }.count == 5)
    }
}
