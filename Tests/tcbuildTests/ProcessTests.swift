import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph

/// Tests that drive the real `tcbuild` binary (`_toy`, the engine harness) as child processes.
@Suite(.serialized) struct ProcessTests {
    private func writeSpec(_ specs: [ToyGraph.NodeSpec], in dir: TemporaryDirectory) throws -> String {
        let path = dir.file("spec.json")
        try JSONEncoder().encode(specs).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func start(_ arguments: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tcbuildBinary())
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    private func waitForLock(_ path: String, pid: Int32) {
        for _ in 0..<500 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == pid { return }
            usleep(10_000)
        }
    }

    @Test func secondRunIsRefusedNamingThePIDAndADeadHolderIsTakenOver() throws {
        let dir = TemporaryDirectory("lock")
        let spec = try writeSpec([.init(name: "slow", value: 1, sleepMs: 3000)], in: dir)
        let ws = dir.file("ws")
        let first = try start(["_toy", "--workspace", ws, "--spec", spec])
        waitForLock(ws + "/.tcbuild/lock", pid: first.processIdentifier)
        let second = try runProcess(tcbuildBinary(), ["_toy", "--workspace", ws, "--spec", spec])
        #expect(second.status == 2)
        #expect(second.stderr.contains("locked by a running tcbuild (PID \(first.processIdentifier))"))
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // The holder is dead: its PID is still written in the lock file, and the lock is taken over.
        #expect(try String(contentsOfFile: ws + "/.tcbuild/lock", encoding: .utf8).contains("\(first.processIdentifier)"))
        #expect(!WorkspaceLock.isAlive(first.processIdentifier))
        let third = try runProcess(tcbuildBinary(), ["_toy", "--workspace", ws, "--spec", try writeSpec([.init(name: "fast", value: 1)], in: dir)])
        #expect(third.status == 0, "\(third.stderr)")
    }

    @Test func sigkillAtRandomMomentsNeverCorruptsTheCacheAndResumesExactly() throws {
        var rng = TestRNG(seed: 4242)
        let dir = TemporaryDirectory("crash")
        // A random DAG of slow toy nodes; some are lossy so early cutoff is involved too.
        var specs: [ToyGraph.NodeSpec] = []
        for i in 0..<60 {
            let deps = (max(0, i - 6)..<i).filter { _ in Int.random(in: 0..<3, using: &rng) == 0 }.map { "n\($0)" }
            specs.append(.init(name: "n\(i)", deps: deps, value: i * 10, cut: i % 7 == 0 ? 5 : nil, sleepMs: 16))
        }
        let spec = try writeSpec(specs, in: dir)
        let reference = try runProcess(tcbuildBinary(), ["_toy", "--workspace", dir.file("reference"), "--spec", spec, "--json", "--jobs", "2"])
        #expect(reference.status == 0)
        let referenceOutputs = try outputs(reference.stdout)
        #expect(referenceOutputs.count == specs.count)

        var kills = 0, midRunKills = 0
        for round in 0..<5 {
            let ws = dir.file("ws\(round)")
            for _ in 0..<10 {
                let p = try start(["_toy", "--workspace", ws, "--spec", spec, "--jobs", "2"])
                // The kill moment counts from when the process holds the workspace (startup on a busy
                // machine varies more than the whole run takes).
                waitForLock(ws + "/.tcbuild/lock", pid: p.processIdentifier)
                usleep(useconds_t(Int.random(in: 5_000...120_000, using: &rng)))
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                kills += 1
                let recorded = try checkConsistent(ws)
                if recorded > 0 && recorded < specs.count { midRunKills += 1 }
            }
            let final = try runProcess(tcbuildBinary(), ["_toy", "--workspace", ws, "--spec", spec, "--json", "--jobs", "2"])
            #expect(final.status == 0)
            #expect(try outputs(final.stdout) == referenceOutputs)
            // Every node was executed exactly once over all the killed runs and the final one:
            // nothing recorded was ever redone, nothing unrecorded was skipped.
            let manifest = try Manifest(path: ws + "/.tcbuild/manifest.sqlite")
            let counts = try manifest.select("SELECT node, COUNT(*) FROM executions GROUP BY node")
            #expect(counts.count == specs.count)
            #expect(counts.allSatisfy { $0[1].int == 1 })
        }
        #expect(kills >= 50)
        #expect(midRunKills >= 25)  // most kills really interrupted a run half-way
    }

    private func outputs(_ json: String) throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return object?["outputs"] as? [String: String] ?? [:]
    }

    /// After a kill: the manifest opens and is intact, and every recorded output is a complete
    /// artifact whose content hashes to its recorded digest.
    /// Returns how many executions are recorded.
    private func checkConsistent(_ ws: String) throws -> Int {
        let path = ws + "/.tcbuild/manifest.sqlite"
        guard FileManager.default.fileExists(atPath: path) else { return 0 }  // killed before creating it
        let manifest = try Manifest(path: path)
        #expect(try manifest.integrityCheck() == "ok")
        for row in try manifest.select("SELECT digest, size FROM exec_outputs") {
            let digest = try #require(Digest(hex: row[0].text))
            let hex = digest.hex
            let (actual, size) = try Digest.ofFile(atPath: "\(ws)/.tcbuild/objects/\(hex.prefix(2))/\(hex)")
            #expect(actual == digest)
            #expect(size == row[1].int)
        }
        return Int(try manifest.select("SELECT COUNT(*) FROM executions").first?.first?.int ?? 0)
    }
}
