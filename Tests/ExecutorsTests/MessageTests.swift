import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Executors
@testable import Graph

/// Messages, seeds, URLs, the task memo and the local executor: no broker needed.
@Suite struct MessageTests {
    @Test func seedIsTheFirstFourBytesOfSHA256OfRunAndTile() {
        // sha256("toy-run:0") = c96290b8..., computed independently (Python hashlib).
        #expect(TileTask.seed(runID: "toy-run", tileID: 0) == 3_378_670_008)
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TileTask.seed(runID: "toy-run", tileID: 1) != TileTask.seed(runID: "toy-run", tileID: 0))
    }

    @Test func taskJSONUsesTheSeedsKeysAndRoundTrips() throws {
        let t = try #require(ToyTileKind.tasks(count: 2, inputs: 2, size: 16, runID: "r1").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(t.encoded())) as? [String: Any])
        #expect(Set(object.keys) == ["run_id", "tile_id", "tile_bbox", "frames_manifest_id", "config_hash", "input_stage", "seed",
                                     "inputs", "params", "attempt", "max_retries"])
        #expect(object["tile_id"] as? Int == 1)
        #expect((object["tile_bbox"] as? [String: Int]) == ["x": 64, "y": 0, "width": 64, "height": 64])
        #expect((object["inputs"] as? [String])?.count == 2)
        #expect(try TileTask.decode(t.encoded()) == t)
        #expect(try t.encoded().count < 1024)  // small: bulk data travels by digest
        let r = TileResult(runID: "r1", tileID: 1, tileDataRef: Digest.of(string: "x"), checksum: "sha256:00", attempt: 2, workerID: "h:1")
        #expect(try TileResult.decode(r.encoded()) == r)
        #expect(throws: ExecutorError.self) { try TileTask.decode(Array("{\"run_id\":1}".utf8)) }
    }

    @Test func taskKeyIgnoresDeliveryButNotContent() throws {
        let t = try #require(ToyTileKind.tasks(count: 1, inputs: 1, size: 16, runID: "r").first)
        var retried = t
        retried.attempt = 3
        retried.maxRetries = 9
        #expect(retried.key == t.key)
        var other = t
        other.params["size"] = "17"
        #expect(other.key != t.key)
        var moved = t
        moved.tileBBox.x += 1
        #expect(moved.key != t.key)
    }

    @Test func brokerURLsParseAndRedactThePassword() throws {
        let u = try BrokerURL("amqp://alice:s3cret@broker.lan:5673/astro")
        #expect(u.host == "broker.lan" && u.port == 5673 && u.user == "alice" && u.password == "s3cret" && u.vhost == "astro")
        #expect(u.description == "amqp://alice:***@broker.lan:5673/astro")
        let d = try BrokerURL("amqp://localhost")
        #expect(d.port == 5672 && d.user == "guest" && d.vhost == "/")
        #expect(try BrokerURL("amqp://h/%2F").vhost == "/")
        #expect(throws: ExecutorError.self) { try BrokerURL("http://h/") }
        #expect(throws: ExecutorError.self) { try BrokerURL("amqp:///v") }
        #expect(throws: ExecutorError.self) { try BrokerURL("amqps://h/") }
    }

    @Test func unreachableBrokerNamesTheURL() throws {
        let url = try BrokerURL("amqp://guest:guest@127.0.0.1:1/nowhere")
        do {
            _ = try AMQPConnection(url: url, heartbeat: 0, timeout: 2)
            Issue.record("connected to port 1")
        } catch let e as ExecutorError {
            guard case .brokerUnreachable(let u, _) = e else { Issue.record("wrong error \(e)"); return }
            #expect(u == "amqp://guest:***@127.0.0.1:1/nowhere")
            #expect(e.isSetupError)
        }
    }

    @Test func aPeerThatNeverSpeaksAMQPIsUnreachableNotAHang() throws {
        // A listening socket that accepts nothing: the TCP connect succeeds, the AMQP handshake
        // times out, and the error names the URL.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        do {
            _ = try AMQPConnection(url: BrokerURL("amqp://guest:guest@127.0.0.1:\(port)/"), heartbeat: 0, timeout: 1)
            Issue.record("a silent peer was taken for a broker")
        } catch let e as ExecutorError {
            guard case .brokerUnreachable(let u, _) = e else { Issue.record("wrong error \(e)"); return }
            #expect(u == "amqp://guest:***@127.0.0.1:\(port)/%2F")
        }
    }

    @Test func localExecutorWritesTheOracleBytesInTileOrderAndReusesTheStore() throws {
        let dir = TemporaryDirectory("local-exec")
        let store = try ArtifactStore(workspace: dir.path, durable: false)
        let tasks = try ToyTileKind.tasks(count: 7, inputs: 3, size: 300, runID: "local", store: store)
        let expected = try ToyTileKind.expectedDigests(count: 7, inputs: 3, size: 300, runID: "local")
        let first = try LocalExecutor(store: store, registry: ToyTileKind.registry, jobs: 3).run(kind: ToyTileKind.name, tasks: tasks)
        #expect(first.digests == expected)
        #expect(first.executed == 7 && first.reused == 0)
        for (t, d) in zip(tasks, first.digests) {
            let inputs = ToyTileKind.inputBlobs(tile: t.tileID, count: 3, size: 300)
            #expect(try store.read(d) == ToyTileKind.bytes(task: t, inputs: inputs))
        }
        // One thread gives the same bytes; everything is now taken from the store.
        let again = try LocalExecutor(store: store, registry: ToyTileKind.registry, jobs: 1).run(kind: ToyTileKind.name, tasks: tasks)
        #expect(again.digests == expected)
        #expect(again.reused == 7 && again.executed == 0)
        // A damaged result is not reused: the task runs again and restores the artifact.
        let victim = store.path(of: expected[2])
        chmod(victim, 0o644)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: victim))
        let repaired = try LocalExecutor(store: store, registry: ToyTileKind.registry, jobs: 2).run(kind: ToyTileKind.name, tasks: tasks)
        #expect(repaired.executed == 1 && repaired.reused == 6)
        #expect(try Digest.ofFile(atPath: victim).digest == expected[2])
    }

    @Test func localExecutorFailureNamesTheLowestFailedTileAndTheReason() throws {
        let dir = TemporaryDirectory("local-fail")
        let store = try ArtifactStore(workspace: dir.path, durable: false)
        var tasks = try ToyTileKind.tasks(count: 5, inputs: 1, size: 10, runID: "f", store: store)
        tasks[3].params["fail"] = "always"
        tasks[4].params["fail"] = "always"
        #expect(throws: ExecutorError.taskFailed(tile: 3, kind: ToyTileKind.name, attempts: 1, reason: "toy task failure requested for tile 3")) {
            try LocalExecutor(store: store, registry: ToyTileKind.registry, jobs: 2).run(kind: ToyTileKind.name, tasks: tasks)
        }
        #expect(throws: ExecutorError.unknownTaskKind("nope")) {
            try LocalExecutor(store: store, registry: TaskKindRegistry(), jobs: 1).run(kind: "nope", tasks: [])
        }
    }
}
