import Foundation
import Testing
import TestSupport
@testable import Graph

@Suite struct SchedulerTests {
    /// Output values of a finished run, read back from the store.
    private func values(_ report: RunReport, _ store: MemoryStore) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for (node, outs) in report.outputs {
            let text = try String(contentsOfFile: store.path(of: outs["out"]!), encoding: .utf8)
            result[node] = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result
    }

    @Test func minimalityOverRandomDAGsMatchesOracle() throws {
        var rng = TestRNG(seed: 2026)
        var edits = 0, cutoffs = 0, cacheHits = 0
        for dag in 0..<200 {
            let dir = TemporaryDirectory("minimality")
            let files = try (0..<3).map { try dir.write("in\($0).txt", "file \($0) of dag \(dag)") }
            var world = ToyWorld.random(count: Int.random(in: 4...24, using: &rng), files: files, rng: &rng)
            let store = try MemoryStore(directory: dir.file("store"))
            for round in 0..<4 {
                if round > 0 { try world.edit(rng: &rng); store.invalidateFiles(); edits += 1 }
                let expected = try world.expectedExecutions()
                let report = Engine(store: store).run(try BuildGraph(ToyGraph.nodes(world.specs)),
                                                      options: RunOptions(jobs: 1 + dag % 2))
                #expect(report.succeeded)
                #expect(Set(report.executed) == expected, "dag \(dag) round \(round)")
                #expect(report.executed.count == Set(report.executed).count)
                #expect(try values(report, store) == world.evaluate(), "dag \(dag) round \(round)")
                if round > 0 {
                    cacheHits += report.cached.count
                    cutoffs += expected.isEmpty ? 1 : 0
                }
            }
        }
        // The random edits really exercised the interesting cases.
        #expect(edits == 600)
        #expect(cutoffs > 20)
        #expect(cacheHits > 1000)
    }

    @Test("a node shares --jobs with the running nodes while others wait to start, and gets all of it when none waits")
    func threadBudget() throws {
        let dir = TemporaryDirectory("threads")
        let store = try MemoryStore(directory: dir.path)
        final class Seen: @unchecked Sendable {
            let condition = NSCondition()
            var threads: [String: Int] = [:]
            func started(_ name: String, _ threads: Int) {
                condition.lock(); self.threads[name] = threads; condition.broadcast(); condition.unlock()
            }
            /// Waits (at most 10 s) until every node of `names` has started.
            func await(_ names: [String]) {
                condition.lock(); defer { condition.unlock() }
                let deadline = Date().addingTimeInterval(10)
                while !names.allSatisfy({ threads[$0] != nil }) && condition.wait(until: deadline) {}
            }
        }
        let seen = Seen()
        func node(_ name: String, _ deps: [String] = [], waitFor: [String] = []) -> Node {
            Node(name: name, kind: "toy.threads", version: 1, params: ["name": name],
                 inputs: Dictionary(uniqueKeysWithValues: deps.map { ($0, InputSource.node($0, output: "out")) }), outputs: ["out"]) { ctx in
                seen.started(name, ctx.threads)
                seen.await(waitFor)
                try ctx.writeOutput("out", Data(name.utf8))
            }
        }
        // Two workers; a, b and d are ready at once. a is taken first (b and d wait: a shares with the
        // running nodes, itself only), b second (shares with a). b stays until d has started, which the
        // worker freed by a takes with b still running and nothing waiting: all of --jobs. e starts alone.
        let graph = try BuildGraph([node("a", waitFor: ["b"]), node("b", waitFor: ["a", "d"]), node("d"),
                                    node("e", ["a", "b", "d"])])
        let report = Engine(store: store).run(graph, options: RunOptions(jobs: 2))
        #expect(report.succeeded)
        #expect(seen.threads == ["a": 2, "b": 1, "d": 2, "e": 2])
    }

    @Test func earlyCutoffStopsTheWaveWithinOneRun() throws {
        let dir = TemporaryDirectory("cutoff")
        let store = try MemoryStore(directory: dir.path)
        // a is lossy (mod 2): value 1 and value 3 both output 1.
        func graph(_ a: Int) throws -> BuildGraph {
            try BuildGraph(ToyGraph.nodes([
                .init(name: "a", value: a, cut: 2), .init(name: "b", deps: ["a"], value: 5),
                .init(name: "c", deps: ["b"], value: 6), .init(name: "d", deps: ["a", "c"], value: 7),
            ]))
        }
        let first = Engine(store: store).run(try graph(1))
        #expect(first.executed.count == 4)
        let second = Engine(store: store).run(try graph(3))
        #expect(second.executed == ["a"])
        #expect(Set(second.cached) == ["b", "c", "d"])
    }

    @Test func runCacheMakesToggledParametersFree() throws {
        let dir = TemporaryDirectory("toggle")
        let store = try MemoryStore(directory: dir.path)
        func graph(_ v: Int) throws -> BuildGraph {
            try BuildGraph(ToyGraph.nodes([.init(name: "a", value: v), .init(name: "b", deps: ["a"], value: 1)]))
        }
        #expect(Engine(store: store).run(try graph(1)).executed.count == 2)  // A
        #expect(Engine(store: store).run(try graph(2)).executed.count == 2)  // B
        let back = Engine(store: store).run(try graph(1))                    // A again
        #expect(back.executed.isEmpty)
        #expect(back.cached.count == 2)
    }

    @Test func failureStartsNothingNewAndKeepsFinishedWork() throws {
        let dir = TemporaryDirectory("failure")
        let store = try MemoryStore(directory: dir.path)
        let slow = ToyGraph.nodes([.init(name: "slow", value: 1, sleepMs: 150)])[0]
        let bad = Node(name: "bad", kind: "boom", version: 1, params: EmptyParams(), outputs: ["out"]) { _ in
            usleep(20_000)
            struct Boom: Error, CustomStringConvertible { var description: String { "disk on fire" } }
            throw Boom()
        }
        let after = ToyGraph.nodes([.init(name: "after", deps: ["bad"], value: 2), .init(name: "late", deps: ["slow"], value: 3)])
        let report = Engine(store: store).run(try BuildGraph([slow, bad] + after), options: RunOptions(jobs: 2))
        #expect(report.failed["bad"]?.contains("disk on fire") == true)
        #expect(report.executed == ["slow"])            // running when bad failed: finished and recorded
        #expect(Set(report.notStarted) == ["after", "late"])
        #expect(try store.executions(of: "slow", limit: 1).count == 1)
    }

    @Test func missingOutputIsAFailure() throws {
        let dir = TemporaryDirectory("missing")
        let lazy = Node(name: "lazy", kind: "lazy", version: 1, params: EmptyParams(), outputs: ["out"]) { _ in }
        let report = Engine(store: try MemoryStore(directory: dir.path)).run(try BuildGraph([lazy]))
        #expect(report.failed["lazy"] == GraphError.missingOutput(node: "lazy", output: "out").description)
    }

    @Test func jobsOneAndTwoGiveIdenticalOutputs() throws {
        var rng = TestRNG(seed: 99)
        let dir = TemporaryDirectory("jobs")
        let files = try (0..<3).map { try dir.write("f\($0)", "content \($0)") }
        let world = ToyWorld.random(count: 60, files: files, rng: &rng)
        let graph = try BuildGraph(ToyGraph.nodes(world.specs))
        let one = Engine(store: try MemoryStore(directory: dir.file("s1"))).run(graph, options: RunOptions(jobs: 1))
        let two = Engine(store: try MemoryStore(directory: dir.file("s2"))).run(graph, options: RunOptions(jobs: 2))
        #expect(one.outputs == two.outputs)
        #expect(one.executed.count == 60 && two.executed.count == 60)
    }

    @Test func plannerPredictsWhatRunExecutes() throws {
        let dir = TemporaryDirectory("plan")
        let store = try MemoryStore(directory: dir.path)
        func graph(_ v: Int) throws -> BuildGraph {
            try BuildGraph(ToyGraph.nodes([.init(name: "a", value: v), .init(name: "b", deps: ["a"], value: 1), .init(name: "c", value: 100)]))
        }
        _ = Engine(store: store).run(try graph(1))
        let plan = try Planner(store: store).plan(try graph(2))
        let states = Dictionary(uniqueKeysWithValues: plan.map { ($0.node, $0.state) })
        #expect(states == ["a": .willRun, "b": .pending, "c": .cached])
        #expect(plan.first { $0.node == "a" }?.reasons == [.paramChanged(path: "value", old: "1", new: "2")])
        let run = Engine(store: store).run(try graph(2))
        #expect(Set(run.executed) == ["a", "b"])
    }
}
