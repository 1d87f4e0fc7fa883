import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph

@Suite struct WorkspaceTests {
    private func toyGraph(_ specs: [ToyGraph.NodeSpec]) throws -> BuildGraph { try BuildGraph(ToyGraph.nodes(specs)) }

    @Test func manifestIsWALWithSchemaVersionAndRefusesNewerSchema() throws {
        let dir = TemporaryDirectory("manifest")
        do {
            let ws = try Workspace(root: dir.path, durable: false)
            #expect(try ws.manifest.select("PRAGMA journal_mode").first?.first?.text == "wal")
            #expect(try ws.manifest.select("SELECT value FROM meta WHERE key='schema_version'").first?.first?.text == "\(Manifest.schemaVersion)")
            try ws.manifest.write { try $0.run("UPDATE meta SET value='99' WHERE key='schema_version'") }
            try ws.close()
        }
        #expect(throws: CacheError.schemaTooNew(path: dir.path + "/.tcbuild/manifest.sqlite", found: 99, supported: Manifest.schemaVersion)) {
            _ = try Workspace(root: dir.path, durable: false)
        }
    }

    /// A node a later stage replays as a cache hit is logged once per run (its execution stays logged).
    @Test func runLogRecordsEachNodeOncePerRun() throws {
        let dir = TemporaryDirectory("runlog")
        let ws = try Workspace(root: dir.path, durable: false)
        defer { try? ws.close() }
        let log = try RunLog(workspace: ws, runID: 7)
        log.emit(.nodeStarted(node: "a", group: "g"))
        log.emit(.nodeExecuted(node: "a", group: "g", seconds: 0.5, bytes: 3))
        log.emit(.nodeCached(node: "b", group: "g"))
        log.emit(.nodeCached(node: "a", group: "g"))  // replayed by a later stage
        log.emit(.nodeCached(node: "b", group: "g"))
        let lines = try String(contentsOfFile: log.path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.filter { $0.contains(#""node":"a""#) }.count == 2)  // started, finished
        #expect(lines.filter { $0.contains(#""event":"cached""#) }.count == 1)
    }

    @Test func artifactsAreContentAddressedReadOnlyAndRecorded() throws {
        let dir = TemporaryDirectory("store")
        let ws = try Workspace(root: dir.path, durable: true)
        let report = try ws.run(try toyGraph([.init(name: "a", value: 41), .init(name: "b", deps: ["a"], value: 1)]),
                                options: RunOptions(jobs: 2), command: "test")
        #expect(report.executed.count == 2)
        let digest = try #require(report.outputs["a"]?["out"])
        let path = ws.path(of: digest)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "41\n")
        #expect(try Digest.ofFile(atPath: path).digest == digest)
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o222 == 0)  // immutable: no write bits
        #expect(path.hasSuffix("/objects/\(digest.hex.prefix(2))/\(digest.hex)"))
        let rows = try ws.manifest.select("SELECT node, state FROM run_nodes ORDER BY node")
        #expect(rows.map { $0[0].text + ":" + $0[1].text } == ["a:executed", "b:executed"])
        let materialized = try ws.materialize(digest, at: "out/a.txt")
        #expect(try String(contentsOfFile: materialized, encoding: .utf8) == "41\n")
    }

    @Test func startupSweepRemovesTemporariesAndCountsMissingBlobsWithoutForgettingThem() throws {
        let dir = TemporaryDirectory("sweep")
        let graph = try toyGraph([.init(name: "a", value: 1), .init(name: "b", deps: ["a"], value: 2)])
        let digest: Digest
        do {
            let ws = try Workspace(root: dir.path, durable: false)
            digest = try #require(try ws.run(graph, options: RunOptions(), command: "t").outputs["b"]?["out"])
            try "partial".write(toFile: ws.stateDir + "/objects/tmp.999.1", atomically: false, encoding: .utf8)
            unlink(ws.path(of: digest))
            try ws.close()
        }
        let ws = try Workspace(root: dir.path, durable: false)
        #expect(ws.swept.temporaries == 1)
        #expect(ws.swept.missingBlobs == 1)
        #expect(!FileManager.default.fileExists(atPath: ws.stateDir + "/objects/tmp.999.1"))
        #expect(try ws.artifactCount() == 2)  // still recorded: verify names it, the lookup reports it
        #expect(try ws.lookup(fingerprint: try #require(ws.executions(of: "b", limit: 1).first).fingerprint)
                == .broken([ArtifactProblem(output: "out", digest: digest, problem: "missing from the store")]))
        let report = try ws.run(graph, options: RunOptions(), command: "t")
        #expect(report.executed == ["b"])
        #expect(report.outputs["b"]?["out"] == digest)
    }

    @Test func statCacheHashesOnlyChangedFilesAndIgnoresTouchedIdenticalOnes() throws {
        let dir = TemporaryDirectory("stat")
        let f = try dir.write("input.txt", "hello")
        let graph = try toyGraph([.init(name: "a", files: [f], value: 1)])
        do {
            let ws = try Workspace(root: dir.path, durable: false)
            #expect(try ws.run(graph, options: RunOptions(), command: "t").executed == ["a"])
            #expect(ws.counters.filesHashed == 1)
            try ws.close()
        }
        do {  // unchanged: nothing hashed, nothing run
            let ws = try Workspace(root: dir.path, durable: false)
            #expect(try ws.run(graph, options: RunOptions(), command: "t").executed.isEmpty)
            #expect(ws.counters.bytesHashed == 0)
            try ws.close()
        }
        // Same content rewritten (new mtime/inode): rehashed, but not a change.
        try FileManager.default.removeItem(atPath: f)
        try dir.write("input.txt", "hello")
        do {
            let ws = try Workspace(root: dir.path, durable: false)
            #expect(try ws.run(graph, options: RunOptions(), command: "t").executed.isEmpty)
            #expect(ws.counters.filesHashed == 1)
            try ws.close()
        }
        try dir.write("input.txt", "hellO")
        let ws = try Workspace(root: dir.path, durable: false)
        #expect(try ws.run(graph, options: RunOptions(), command: "t").executed == ["a"])
        let missing = try toyGraph([.init(name: "m", files: [dir.file("nope.fits")], value: 1)])
        let failed = try ws.run(missing, options: RunOptions(), command: "t")
        #expect(failed.failed["m"]?.contains("nope.fits") == true)
    }

    @Test func noOpRunOf2000NodesOver1000FilesExecutesAndHashesNothing() throws {
        let dir = TemporaryDirectory("noop")
        let files = try (0..<1000).map { try dir.write("frames/f\($0).fits", String(repeating: "x", count: 64) + "\($0)") }
        var specs: [ToyGraph.NodeSpec] = []
        for i in 0..<1000 { specs.append(.init(name: "measure/\(i)", files: [files[i]], value: i)) }
        for i in 0..<1000 { specs.append(.init(name: "use/\(i)", deps: ["measure/\(i)", "measure/\((i + 1) % 1000)"], value: i)) }
        let graph = try toyGraph(specs)
        do {
            let ws = try Workspace(root: dir.path, durable: false)
            #expect(try ws.run(graph, options: RunOptions(), command: "t").executed.count == 2000)
            try ws.close()
        }
        let ws = try Workspace(root: dir.path, durable: false)
        let report = try ws.run(graph, options: RunOptions(), command: "t")
        #expect(report.executed.isEmpty)
        #expect(report.cached.count == 2000)
        #expect(ws.counters.filesHashed == 0)
        #expect(ws.counters.bytesHashed == 0)
        #expect(ws.counters.artifactsCommitted == 0)
    }

    @Test func minimalityHoldsOnTheSQLiteStoreAcrossProcessesOfState() throws {
        // The same oracle as the Graph property test, but every run reopens the workspace.
        var rng = TestRNG(seed: 11)
        for dag in 0..<20 {
            let dir = TemporaryDirectory("minimality-sqlite")
            let files = try (0..<2).map { try dir.write("in\($0)", "file \($0) dag \(dag)") }
            var specs = (0..<12).map { i in
                ToyGraph.NodeSpec(name: "n\(i)", deps: (0..<i).filter { _ in Int.random(in: 0..<4, using: &rng) == 0 }.map { "n\($0)" },
                                  files: i % 5 == 0 ? [files[i % 2]] : [], value: i * 100, cut: i % 3 == 0 ? 3 : nil)
            }
            var seen: [String: Set<String>] = [:]
            for round in 0..<3 {
                if round > 0 {
                    let k = Int.random(in: 0..<specs.count, using: &rng)
                    specs[k].value += Int.random(in: 1...2, using: &rng)
                }
                let ws = try Workspace(root: dir.path, durable: false)
                let report = try ws.run(try toyGraph(specs), options: RunOptions(jobs: 2), command: "t")
                // Oracle: identity = (value, cut, input values) recomputed from the outputs themselves.
                var expected = Set<String>()
                for s in specs {
                    let inputs = s.deps.map { try! String(contentsOfFile: ws.path(of: report.outputs[$0]!["out"]!), encoding: .utf8) }
                        + s.files.map { try! String(contentsOfFile: $0, encoding: .utf8) }
                    let identity = "\(s.value)|\(s.cut ?? -1)|\(inputs)"
                    if seen[s.name, default: []].insert(identity).inserted { expected.insert(s.name) }
                }
                #expect(Set(report.executed) == expected, "dag \(dag) round \(round)")
                try ws.close()
            }
        }
    }
}
