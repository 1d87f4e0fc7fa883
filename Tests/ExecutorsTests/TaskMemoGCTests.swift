import Cache
import Executors
import Foundation
import Graph
import Testing
import TestSupport

/// `tcbuild gc` and the tile tasks' memo files: a memo (and the result and inputs it names) is kept
/// only while its node has not finished, its result exists and a kept run could have written it.
@Suite struct TaskMemoGCTests {
    @Test func gcRemovesMemosOfFinishedNodesStaleAndBrokenOnesAndKeepsResumableWork() throws {
        let dir = TemporaryDirectory("memo-gc")
        let ws = try Workspace(root: dir.path, durable: false)
        // One finished node: its fingerprint is a "run_id" whose tile work is superseded.
        let report = try ws.run(try BuildGraph(ToyGraph.nodes([.init(name: "a", value: 1)])), options: RunOptions(), command: "t")
        #expect(report.succeeded)
        let finished = try #require(try ws.executions(of: "a", limit: 1).first).fingerprint.hex

        let store = try ArtifactStore(workspace: dir.path, durable: false)
        let memo = TaskMemo(store: store)
        let runner = TaskRunner(registry: ToyTileKind.registry, store: store, workerID: "test")
        func task(_ run: String, _ tile: Int) throws -> (TileTask, Digest) {
            let t = try ToyTileKind.tasks(count: tile + 1, inputs: 1, size: 64, runID: run, store: store)[tile]
            let r = runner.execute(t)
            return (t, try #require(r.tileDataRef))
        }
        let (done, doneRef) = try task(finished, 0)        // node finished: memo and result go
        let (open, openRef) = try task("unfinished", 1)    // node interrupted: kept, with its input
        let (lost, _) = try task("unfinished", 2)          // result deleted: memo goes
        unlink(store.path(of: runner.stored(lost)!.tileDataRef!))
        let (old, oldRef) = try task("older", 3)           // written before the kept run: goes
        let memoFiles = try FileManager.default.subpathsOfDirectory(atPath: dir.path + "/.tcbuild/tasks").filter { $0.count > 3 && $0.contains("/") }
        #expect(memoFiles.count == 4)
        let oldMemo = try #require(memoFiles.map { dir.path + "/.tcbuild/tasks/" + $0 }.first { FileManager.default.contents(atPath: $0).map { String(decoding: $0, as: UTF8.self).contains("older") } ?? false })
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1000)], ofItemAtPath: oldMemo)
        FileManager.default.createFile(atPath: dir.path + "/.tcbuild/tasks/tmp.0123", contents: Data("{".utf8))

        let gc = try ws.gc(keepRuns: 1)
        #expect(gc.taskMemosRemoved == 4)  // done, lost, old, the temporary
        #expect(runner.stored(done) == nil && !store.contains(doneRef))
        #expect(runner.stored(old) == nil && !store.contains(oldRef))
        #expect(runner.stored(open)?.tileDataRef == openRef && store.contains(openRef))
        #expect(open.inputs.allSatisfy(store.contains))  // the task's inputs stay for the resumed run
        let left = try FileManager.default.subpathsOfDirectory(atPath: dir.path + "/.tcbuild/tasks").filter { $0.count > 3 && $0.contains("/") }
        #expect(left.count == 1)
        // The finished node is still fully cached.
        #expect(try ws.run(try BuildGraph(ToyGraph.nodes([.init(name: "a", value: 1)])), options: RunOptions(), command: "t").executed.isEmpty)
        try ws.close()
    }
}
