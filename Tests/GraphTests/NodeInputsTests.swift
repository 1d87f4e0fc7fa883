import Testing
@testable import Graph

@Suite struct NodeInputsTests {
    @Test("a node sharing a list reads the same sorted inputs as one built from the merged dictionary")
    func sharedEqualsMerged() {
        var base: [String: InputSource] = ["grid": .node("tiles/geometry", output: "grid"), "masks": .node("reject", output: "masks")]
        for i in 0..<40 {
            base[String(format: "frame%05d", i)] = .node(String(format: "register/%05d", i), output: "frame")
            base[String(format: "measure/%05d", i)] = .node(String(format: "measure/%05d", i), output: "measure")
        }
        let shared = NodeInputs(base)
        for own: [String: InputSource] in [[:], ["members": .node("clusters", output: "members_03")],
                                           ["a": .file("/a"), "members": .file("/m"), "zz": .file("/z"), "frame00007x": .file("/x")]] {
            let merged = base.merging(own) { a, _ in a }
            let node = Node(name: "n", kind: "k", version: 1, params: EmptyParams(), inputs: own, sharing: shared, outputs: ["o"]) { _ in }
            let plain = Node(name: "n", kind: "k", version: 1, params: EmptyParams(), inputs: merged, outputs: ["o"]) { _ in }
            #expect(node.inputs.count == merged.count)
            #expect(node.inputs == plain.inputs)
            #expect(node.inputs.map(\.name) == merged.keys.sorted())
            #expect(zip(node.inputs, node.inputs.dropFirst()).allSatisfy { $0.name < $1.name })
            #expect(node.inputs.map(\.source) == merged.keys.sorted().map { merged[$0]! })
        }
        #expect(NodeInputs([:], sharing: NodeInputs()).isEmpty)
        #expect(NodeInputs(["x": .file("/x")], sharing: NodeInputs()) == NodeInputs(["x": .file("/x")]))
    }
}
