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

    @Test("upstreams and dependents: each neighbour once, ascending, in flat rows; the order of ties is insertion order")
    func adjacency() throws {
        func raw(_ name: String, _ inputs: [String: InputSource]) -> Node {
            Node(name: name, kind: "k", version: 1, params: EmptyParams(), inputs: inputs, outputs: ["x", "y"]) { _ in }
        }
        // d reads a twice (two inputs, two outputs) and c once; b and c read a; e reads nothing.
        let g = try BuildGraph([raw("d", ["p": .node("a", output: "x"), "q": .node("a", output: "y"), "r": .node("c", output: "x")]),
                                raw("c", ["p": .node("a", output: "x"), "f": .file("/f")]), raw("a", [:]), raw("e", [:]),
                                raw("b", ["p": .node("a", output: "y")])])
        #expect(g.nodes.map(\.name) == ["a", "e", "c", "b", "d"])
        let i = g.index
        #expect(Array(g.upstreams[i["d"]!]) == [i["a"]!, i["c"]!])
        #expect(Array(g.upstreams[i["c"]!]) == [i["a"]!] && g.upstreams[i["a"]!].isEmpty && g.upstreams[i["e"]!].isEmpty)
        #expect(Array(g.dependents[i["a"]!]) == [i["c"]!, i["b"]!, i["d"]!].sorted())
        #expect(Array(g.dependents[i["c"]!]) == [i["d"]!] && g.dependents[i["d"]!].isEmpty)
        #expect(g.upstreams.count == 5 && g.upstreams.edgeCount == 4 && g.dependents.edgeCount == 4)
        #expect(g.downstream(of: "a") == ["c", "b", "d"])
        #expect(try g.needed(for: ["d"]).nodes.map(\.name) == ["a", "c", "d"])
    }

    @Test("nodes with equal parameters share one canonical byte array")
    func paramsInterned() {
        struct P: Codable { var a: Int; var b: String }
        let x = ParamSet(P(a: 1, b: "same")), y = ParamSet(P(a: 1, b: "same")), z = ParamSet(P(a: 2, b: "same"))
        #expect(x == y && x != z)
        x.canonical.withUnsafeBufferPointer { px in
            y.canonical.withUnsafeBufferPointer { py in #expect(px.baseAddress == py.baseAddress) }
        }
        let table = ParamSet.InternTable(limit: 2)
        let a = table.intern([1]), b = table.intern([2])
        #expect(table.count == 2 && table.intern([1]) == a && table.intern([2]) == b)
        _ = table.intern([3])  // full: starts over
        #expect(table.count == 1)
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
