import Foundation
import Testing
import TestSupport
@testable import Cache
@testable import Graph

@Suite struct MaintenanceTests {
    private func graph(_ v: Int) throws -> BuildGraph {
        try BuildGraph(ToyGraph.nodes([.init(name: "a", value: v), .init(name: "b", deps: ["a"], value: 7),
                                       .init(name: "c", deps: ["b"], value: 8), .init(name: "z", value: 1000)]))
    }

    @Test func gcFreesOldArtifactsAndKeepsTheLatestRunFullyCached() throws {
        let dir = TemporaryDirectory("gc")
        let ws = try Workspace(root: dir.path, durable: false)
        for v in [1, 2, 3] { _ = try ws.run(try graph(v), options: RunOptions(), command: "t") }
        let before = try ws.storeSize()
        let report = try ws.gc(keepRuns: 1)
        #expect(report.blobsRemoved == 6)          // a, b and c of runs 1 and 2 (z and the latest run's are kept)
        #expect(report.bytesFreed > 0)
        #expect(try ws.storeSize() == before - report.bytesFreed)
        let next = try ws.run(try graph(3), options: RunOptions(), command: "t")
        #expect(next.executed.isEmpty)
        #expect(next.cached.count == 4)
        // Going back to a collected state recomputes it.
        #expect(Set(try ws.run(try graph(1), options: RunOptions(), command: "t").executed) == ["a", "b", "c"])
    }

    @Test func gcKeepsEverythingTheLastNRunsReference() throws {
        let dir = TemporaryDirectory("gc2")
        let ws = try Workspace(root: dir.path, durable: false)
        for v in [1, 2, 3] { _ = try ws.run(try graph(v), options: RunOptions(), command: "t") }
        _ = try ws.gc(keepRuns: 2)
        #expect(try ws.run(try graph(2), options: RunOptions(), command: "t").executed.isEmpty)
        #expect(try ws.run(try graph(3), options: RunOptions(), command: "t").executed.isEmpty)
    }

    /// Bytes of the artifacts `nodes` produced in `report`.
    private func bytes(_ ws: Workspace, _ report: RunReport, _ nodes: [String]) -> Int64 {
        nodes.reduce(0) { sum, n in
            let p = ws.path(of: report.outputs[n]!["out"]!)
            return sum + ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? 0)
        }
    }

    @Test func gcMaxSizeDropsOldestRunsUntilTheStoreFits() throws {
        let dir = TemporaryDirectory("gc-size")
        let ws = try Workspace(root: dir.path, durable: false)
        var reports: [RunReport] = []
        for v in [1, 2, 3, 4] { reports.append(try ws.run(try graph(v), options: RunOptions(), command: "t")) }
        let before = try ws.storeSize()
        let run1 = bytes(ws, reports[0], ["a", "b", "c"]), run2 = bytes(ws, reports[1], ["a", "b", "c"])
        #expect(run1 > 0 && run2 > 0)

        // A limit that run 1's exclusive artifacts satisfy: only run 1 goes.
        let first = try ws.gc(keepRuns: 10, maxBytes: before - run1)
        #expect(first.droppedForSize == [1])
        #expect(first.blobsRemoved == 3)
        #expect(first.bytesFreed == run1)
        #expect(first.storeBytes == before - run1)
        #expect(!first.overLimit)
        #expect(first.keptRuns == [4, 3, 2])

        // One byte less: run 2 goes too, runs 3 and 4 stay cached.
        let second = try ws.gc(keepRuns: 10, maxBytes: before - run1 - 1)
        #expect(second.droppedForSize == [2])
        #expect(second.bytesFreed == run2)
        #expect(try ws.storeSize() <= before - run1 - 1)
        #expect(try ws.run(try graph(3), options: RunOptions(), command: "t").executed.isEmpty)
        #expect(try ws.run(try graph(4), options: RunOptions(), command: "t").executed.isEmpty)

        // An impossible limit: everything but the latest run goes, and gc says it is still over.
        let last = try ws.gc(keepRuns: 10, maxBytes: 0)
        #expect(last.overLimit)
        #expect(last.keptRuns.count == 1)
        #expect(last.storeBytes == bytes(ws, reports[3], ["a", "b", "c", "z"]))
        #expect(try ws.run(try graph(4), options: RunOptions(), command: "t").executed.isEmpty)
        #expect(Set(try ws.run(try graph(1), options: RunOptions(), command: "t").executed) == ["a", "b", "c"])
    }

    @Test func gcWithoutMaxSizeIsTheKeepRunsPass() throws {
        let dir = TemporaryDirectory("gc-nosize")
        let ws = try Workspace(root: dir.path, durable: false)
        for v in [1, 2] { _ = try ws.run(try graph(v), options: RunOptions(), command: "t") }
        let report = try ws.gc(keepRuns: 5, maxBytes: nil)
        #expect(report.droppedForSize.isEmpty && report.blobsRemoved == 0 && !report.overLimit)
        #expect(report.storeBytes == (try ws.storeSize()))
    }

    @Test func verifyFindsDamagedArtifactsAndOnlyTheirProducersRerun() throws {
        let dir = TemporaryDirectory("verify")
        let ws = try Workspace(root: dir.path, durable: false)
        let first = try ws.run(try graph(1), options: RunOptions(), command: "t")
        #expect(try ws.verify(rehash: true).isEmpty)
        // Truncate b's artifact and modify a's in place (same size).
        let b = ws.path(of: first.outputs["b"]!["out"]!), a = ws.path(of: first.outputs["a"]!["out"]!)
        chmod(b, 0o644); chmod(a, 0o644)
        #expect(truncate(b, 1) == 0)
        try "2\n".write(toFile: a, atomically: false, encoding: .utf8)
        let noRehash = try Workspace.problemsWithoutRepair(ws)
        #expect(noRehash == ["b"])  // size check alone finds the truncation
        let problems = try ws.verify(rehash: true)
        #expect(Set(problems.flatMap(\.nodes)) == ["a", "b"])
        #expect(problems.contains { $0.problem.contains("truncated") })
        #expect(problems.contains { $0.problem.contains("content hash") })
        let next = try ws.run(try graph(1), options: RunOptions(), command: "t")
        #expect(Set(next.executed) == ["a", "b"])   // c's inputs are byte-identical again: cut off
        #expect(next.outputs == first.outputs)
    }
}

extension Workspace {
    /// Nodes the run cache would refuse now (size check only), without repairing anything.
    static func problemsWithoutRepair(_ ws: Workspace) throws -> [String] {
        try Planner(store: ws).plan(try BuildGraph(ToyGraph.nodes([.init(name: "a", value: 1), .init(name: "b", deps: ["a"], value: 7)])))
            .filter { $0.state == .willRun }.map(\.node)
    }
}
