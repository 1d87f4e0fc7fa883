import Testing
@testable import Graph

@Suite struct BuildGraphTests {
    private func node(_ name: String, _ deps: [String] = []) -> Node {
        ToyGraph.nodes([ToyGraph.NodeSpec(name: name, deps: deps)])[0]
    }

    @Test func topologicalOrderAndNeighbours() throws {
        let g = try BuildGraph([node("c", ["a", "b"]), node("b", ["a"]), node("a"), node("d", ["c"])])
        #expect(g.nodes.map(\.name) == ["a", "b", "c", "d"])
        #expect(g.downstream(of: "b") == ["c", "d"])
        #expect(try g.needed(for: ["c"]).nodes.map(\.name) == ["a", "b", "c"])
    }

    @Test func rejectsDuplicatesDanglingInputsAndCycles() {
        #expect(throws: GraphError.duplicateNode("a")) { try BuildGraph([node("a"), node("a")]) }
        #expect(throws: GraphError.unknownInput(node: "b", input: "d000", upstream: "zz")) { try BuildGraph([node("b", ["zz"])]) }
        #expect { try BuildGraph([node("a", ["b"]), node("b", ["a"])]) } throws: { error in
            guard case GraphError.cycle(let names) = error else { return false }
            return Set(names) == ["a", "b"]
        }
        #expect(throws: GraphError.noSuchNode("stak", suggestion: "stack")) {
            try BuildGraph([node("stack"), node("scan")]).needed(for: ["stak"])
        }
    }
}
