import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph

/// A store that never lies (issue 13): missing artifacts are reported, a damaged manifest is never
/// used silently, run statuses say what happened. Driven through the real binary (`_toy`, `verify`,
/// `log`, `gc`) on toy graphs.
@Suite(.serialized) struct StoreIntegrityTests {
    private func tcbuild(_ args: [String]) throws -> ProcessResult { try runProcess(tcbuildBinary(), args) }

    /// A toy graph of `count` nodes, each depending on up to two earlier ones.
    private func writeSpec(_ dir: TemporaryDirectory, count: Int = 40, extra: [ToyGraph.NodeSpec] = []) throws -> String {
        let specs = (0..<count).map { i in
            ToyGraph.NodeSpec(name: "node\(i)", deps: [i - 1, i / 2].filter { $0 >= 0 && $0 < i }.map { "node\($0)" }.uniqued(), value: i * 3 + 1)
        } + extra
        let path = dir.file("spec.json")
        try JSONEncoder().encode(specs).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func outputs(_ json: String) throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return object?["outputs"] as? [String: String] ?? [:]
    }

    @Test func verifyReportsAMissingArtifactNamingItsNodeAndExitsOne() throws {
        let dir = TemporaryDirectory("verify-missing")
        let spec = try writeSpec(dir, count: 5)
        let ws = dir.file("ws")
        let first = try tcbuild(["_toy", "--workspace", ws, "--spec", spec, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let digest = try #require(try outputs(first.stdout)["node3"])
        #expect(unlink("\(ws)/.tcbuild/objects/\(digest.prefix(2))/\(digest)") == 0)
        let verify = try tcbuild(["verify", "-w", ws])
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("damaged: \(digest.prefix(12)) (node3): missing from the store"), "\(verify.stdout)")
        let again = try tcbuild(["_toy", "--workspace", ws, "--spec", spec, "--json"])
        #expect(try outputs(again.stdout) == (try outputs(first.stdout)))
        #expect(again.stdout.contains("\"executed\":[\"node3\"]"), "\(again.stdout)")  // only its producer reran
        let clean = try tcbuild(["verify", "-w", ws, "--rehash"])
        #expect(clean.status == 0)
        #expect(clean.stdout.contains("5 artifacts ok (content rehashed)"))
    }

    /// Truncation at >= 50 offsets and >= 50 random bit flips of the manifest: every following
    /// command either refuses (exit 2, naming the manifest and the fix) or works, and the next run
    /// always produces exactly the reference outputs, saying so when it rebuilt the manifest.
    @Test func aDamagedManifestIsRefusedOrRebuiltNeverUsedForAWrongResult() throws {
        let dir = TemporaryDirectory("manifest-damage")
        let spec = try writeSpec(dir)
        let pristine = dir.file("pristine")
        let reference = try tcbuild(["_toy", "--workspace", pristine, "--spec", spec, "--json"])
        #expect(reference.status == 0)
        let expected = try outputs(reference.stdout)
        #expect(expected.count == 40)
        let manifestBytes = try Data(contentsOf: URL(fileURLWithPath: pristine + "/.tcbuild/manifest.sqlite"))
        let size = manifestBytes.count
        #expect(size >= 8 * 4096)

        enum Damage { case truncate(Int), flip(Int, UInt8) }
        var damages: [Damage] = [.truncate(size - 1), .truncate(size - 100), .truncate(size - 4096), .truncate(size - 5000), .truncate(100)]
        for k in 0..<50 { damages.append(.truncate(size * k / 50)) }
        var rng = TestRNG(seed: 13)
        for _ in 0..<60 { damages.append(.flip(Int(rng.next() % UInt64(size)), UInt8(1) << UInt8(rng.next() % 8))) }

        var refused = 0, rebuilt = 0, unnoticed = 0
        for (k, damage) in damages.enumerated() {
            let ws = dir.file("ws\(k)")
            try FileManager.default.copyItem(atPath: pristine, toPath: ws)
            let manifest = ws + "/.tcbuild/manifest.sqlite"
            var bytes = manifestBytes
            switch damage {
            case .truncate(let n): bytes = bytes.prefix(n)
            case .flip(let at, let bit): bytes[at] ^= bit
            }
            try bytes.write(to: URL(fileURLWithPath: manifest))

            // A read-only command refuses a damaged manifest with the file and the fix, or works.
            let log = try tcbuild(["log", "-w", ws])
            #expect(log.status == 0 || log.status == 2, "\(damage): \(log.stderr)")
            if log.status == 2 {
                #expect(log.stderr.contains("manifest.sqlite"), "\(damage): \(log.stderr)")
                #expect(log.stderr.contains("tcbuild run"), "\(damage): \(log.stderr)")
                refused += 1
            }
            // The next run produces exactly the reference outputs; a rebuild is announced.
            let run = try tcbuild(["_toy", "--workspace", ws, "--spec", spec, "--json"])
            #expect(run.status == 0, "\(damage): \(run.stderr)")
            #expect(try outputs(run.stdout) == expected, "\(damage): wrong outputs")
            if run.stderr.contains("warning: the manifest was damaged") {
                rebuilt += 1
            } else {
                if case .truncate = damage { Issue.record("\(damage): a truncated manifest was used without a word") }
                unnoticed += 1
            }
            // Afterwards the workspace is sound.
            let verify = try tcbuild(["verify", "-w", ws, "--rehash"])
            #expect(verify.status == 0, "\(damage): \(verify.stdout) \(verify.stderr)")
            try? FileManager.default.removeItem(atPath: ws)
        }
        #expect(damages.count >= 110)
        #expect(rebuilt >= 55)  // every truncation, and the flips SQLite's checks or the size check see
        print("manifest damage: \(damages.count) cases, \(refused) refused by log, \(rebuilt) rebuilt by run, \(unnoticed) harmless")
    }

    @Test func aRebuiltManifestReusesWhatVerifiesAndRerunsTheRest() throws {
        let dir = TemporaryDirectory("manifest-adopt")
        let spec = try writeSpec(dir, count: 6)
        let ws = dir.file("ws")
        let first = try tcbuild(["_toy", "--workspace", ws, "--spec", spec, "--json"])
        let expected = try outputs(first.stdout)
        // Modify one artifact in place (same size): adoption rehashes, so its node reruns.
        let node2 = ws + "/.tcbuild/objects/\(expected["node2"]!.prefix(2))/\(expected["node2"]!)"
        chmod(node2, 0o644)
        var content = try Data(contentsOf: URL(fileURLWithPath: node2))
        content[0] ^= 1
        try content.write(to: URL(fileURLWithPath: node2))
        // Extend the manifest by a partial page: its size no longer matches its header, every row is still readable.
        let handle = try #require(FileHandle(forWritingAtPath: ws + "/.tcbuild/manifest.sqlite"))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0x5a, count: 100))
        try handle.close()
        let run = try tcbuild(["_toy", "--workspace", ws, "--spec", spec, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try outputs(run.stdout) == expected)
        #expect(run.stderr.contains("warning: the manifest was damaged"))
        #expect(run.stderr.contains("5 recorded execution(s) verified and reused, 1 not verifiable"), "\(run.stderr)")
        #expect(run.stdout.contains("\"executed\":[\"node2\"]"), "\(run.stdout)")
        let aside = try FileManager.default.contentsOfDirectory(atPath: ws + "/.tcbuild").filter { $0.hasPrefix("manifest.sqlite.damaged-") }
        #expect(aside.count == 1)
        let verify = try tcbuild(["verify", "-w", ws, "--rehash"])
        #expect(verify.status == 0, "\(verify.stdout)")
        // The run history survives the rebuild: run 1 (before the damage) and run 2 (the rebuilding run).
        let log = try tcbuild(["log", "-w", ws])
        #expect(log.stdout.split(separator: "\n").map { $0.prefix(6) } == ["run 1 ", "run 2 "], "\(log.stdout)")
    }

    @Test func logMarksAKilledRunInterruptedAndNamesNodeFailures() throws {
        let dir = TemporaryDirectory("log-status")
        let ws = dir.file("ws")
        let slow = dir.file("slow.json")
        try JSONEncoder().encode([ToyGraph.NodeSpec(name: "slow", value: 1, sleepMs: 20_000)]).write(to: URL(fileURLWithPath: slow))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tcbuildBinary())
        p.arguments = ["_toy", "--workspace", ws, "--spec", slow]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        for _ in 0..<1000 where !FileManager.default.fileExists(atPath: ws + "/.tcbuild/runs/1.jsonl") { usleep(10_000) }
        let during = try tcbuild(["log", "-w", ws])
        #expect(during.stdout.contains("run 1 ") && during.stdout.contains("  running  "), "\(during.stdout)")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let after = try tcbuild(["log", "-w", ws])
        #expect(after.stdout.contains("interrupted (killed before it ended"), "\(after.stdout)")

        // A node whose input file is missing fails: "nodes failed".
        let failing = dir.file("fail.json")
        try JSONEncoder().encode([ToyGraph.NodeSpec(name: "reads", files: [dir.file("absent.txt")], value: 1)]).write(to: URL(fileURLWithPath: failing))
        #expect(try tcbuild(["_toy", "--workspace", ws, "--spec", failing]).status == 1)
        let log = try tcbuild(["log", "-w", ws])
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("run 1 ") && lines[0].contains("interrupted"))  // a writer also recorded it so
        #expect(lines[1].contains("run 2 ") && lines[1].contains("  nodes failed  "), "\(log.stdout)")
    }

    @Test func gcRemovesObjectFilesNoManifestRowReferences() throws {
        let dir = TemporaryDirectory("gc-unreferenced")
        let ws = try Workspace(root: dir.path, durable: false)
        let report = try ws.run(try BuildGraph(ToyGraph.nodes([.init(name: "a", value: 1)])), options: RunOptions(), command: "t")
        let kept = ws.path(of: try #require(report.outputs["a"]?["out"]))
        let stray = Digest.of(string: "stray artifact")
        let strayPath = ws.path(of: stray)
        try FileManager.default.createDirectory(atPath: (strayPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "stray artifact".write(toFile: strayPath, atomically: false, encoding: .utf8)
        let gc = try ws.gc(keepRuns: 1)
        #expect(gc.unreferencedRemoved == 1)
        #expect(gc.bytesFreed == 14)
        #expect(!FileManager.default.fileExists(atPath: strayPath))
        #expect(FileManager.default.fileExists(atPath: kept))
    }

    @Test func readOnlyInspectionCreatesNothingBeforeTheFirstRun() throws {
        let dir = TemporaryDirectory("ro-empty")
        let ws = try Workspace(root: dir.path, writable: false)
        #expect(!ws.hasManifest)
        #expect(try ws.runs(limit: 5).isEmpty)
        #expect(try ws.lookup(fingerprint: Digest.of(string: "x")) == .miss)
        #expect(!FileManager.default.fileExists(atPath: dir.file(".tcbuild")))
        try dir.write("tile_compile.yaml", "")
        for verb in ["gc", "verify"] {
            let r = try tcbuild([verb, "-w", dir.path])
            #expect(r.status == 0 && r.stdout.contains("no run yet"), "\(r.stdout)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file(".tcbuild")))
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
