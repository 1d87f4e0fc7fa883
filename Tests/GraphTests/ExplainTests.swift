import Foundation
import Testing
import TestSupport
@testable import Graph

@Suite struct ExplainTests {
    @Test func downstreamNodeNamesTheEditedParameterWithOldAndNewValues() throws {
        let dir = TemporaryDirectory("explain")
        let store = try MemoryStore(directory: dir.path)
        func graph(_ v: Int) throws -> BuildGraph {
            try BuildGraph(ToyGraph.nodes([.init(name: "a", value: v), .init(name: "b", deps: ["a"], value: 1),
                                           .init(name: "c", deps: ["b"], value: 2)]))
        }
        _ = Engine(store: store).run(try graph(10))
        _ = Engine(store: store).run(try graph(11))
        let reasons = try #require(try Explainer.whyLastRan("c", store: store))
        let text = Explainer.lines(reasons).joined(separator: "\n")
        #expect(text.contains("because upstream b ran:"))
        #expect(text.contains("because upstream a ran:"))
        #expect(text.contains("param value: 10 -> 11"))
        #expect(try Explainer.whyLastRan("a", store: store) == [.paramChanged(path: "value", old: "10", new: "11")])
        #expect(try Explainer.whyLastRan("zz", store: store) == nil)
    }

    @Test func differencesNameVersionKindAndInputs() {
        let d1 = Digest.of(string: "1"), d2 = Digest.of(string: "2")
        let old = ExecutionRecord(node: "n", kind: "k", version: 1, fingerprint: d1, params: ["x": "1", "gone": "0"],
                                  inputs: [InputRecord(name: "i", source: "file:/a", digest: d1)], outputs: [],
                                  duration: 0, runID: 1)
        let reasons = Explainer.differences(from: old, kind: "k2", version: 2, params: ["x": "2", "new": "5"],
                                            inputs: [InputRecord(name: "i", source: "file:/a", digest: d2)])
        #expect(reasons == [
            .kindChanged(old: "k", new: "k2"), .versionChanged(old: 1, new: 2),
            .paramChanged(path: "gone", old: "0", new: nil), .paramChanged(path: "new", old: nil, new: "5"),
            .paramChanged(path: "x", old: "1", new: "2"),
            .inputChanged(name: "i", source: "file:/a", old: d1, new: d2),
        ])
        #expect(Explainer.differences(from: nil, kind: "k", version: 1, params: [:], inputs: []) == [.neverBuilt])
    }
}
