import Foundation
import Testing
import TestSupport
@testable import Graph
@testable import Steps

/// The step list is the one place the pipeline is described: docs/pipeline.md is generated from it,
/// node names are spelled once, and every node of the graph belongs to a step.
@Suite struct PipelineStructureTests {
    @Test func docsPipelineIsWhatTheStepListGenerates() throws {
        let docs = try String(contentsOfFile: packageRoot.appendingPathComponent("docs/pipeline.md").path, encoding: .utf8)
        #expect(docs == (try PipelineDoc.markdown()), "docs/pipeline.md is stale: run `swift run tcbuild _pipeline-doc > docs/pipeline.md`")
    }

    @Test func everyNodeBelongsToExactlyOneStepInOrder() throws {
        let builder = try PipelineRunner.mainBuilder(config: TCConfig(), frames: .standIn(count: 3), workspace: "/w")
        let scan = try Scan.graph(config: TCConfig(), files: FrameList.standIn(count: 3).frames.map(\.path))
        var owner: [String: Int] = [:]
        for (k, step) in Pipeline.steps.enumerated() { for n in step.nodes { #expect(owner.updateValue(k, forKey: n) == nil) } }
        let order = try (scan.nodes + builder.nodes).map { try #require(owner[NodeName.pattern($0.name)], "\($0.name) has no step") }
        #expect(order == order.sorted(), "nodes are added in step order")
        #expect(Set(Pipeline.steps.map(\.name)).count == Pipeline.steps.count)
        // Prerequisites come earlier in the list.
        for (k, step) in Pipeline.steps.enumerated() {
            for need in step.prerequisites {
                let at = try #require(Pipeline.steps.firstIndex { $0.name == need })
                #expect(at < k, "\(step.name) needs \(need), which comes later")
            }
        }
    }

    /// Every node name constant is spelled once in Sources/ (in NodeName.swift); no other file writes a
    /// node name as a string literal where a node is named.
    @Test func nodeNamesAreSpelledOnce() throws {
        let sources = packageRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        let texts = try files.map { ($0, try String(contentsOfFile: sources.appendingPathComponent($0).path, encoding: .utf8)) }
        let fixed = [NodeName.scan, NodeName.starsReference, NodeName.reference, NodeName.sirilRegister, NodeName.metrics,
                     NodeName.tileGeometry, NodeName.tileMetrics, NodeName.reconstruct, NodeName.clusters,
                     NodeName.classicalStack, NodeName.stack, NodeName.validation]
        for name in fixed {
            // Where a node is named: its declaration, a node input, a materialization, an error's node.
            let places = ["name: \"\(name)\"", ".node(\"\(name)\"", "materialize(\"\(name)\"", "node: \"\(name)\"",
                          "outputs[\"\(name)\"]", "= \"\(name)\""]
            var hits: [String] = []
            for (file, text) in texts { for p in places where text.contains(p) { hits.append("\(file): \(p)") } }
            #expect(hits.count == 1 && hits.first?.hasPrefix("Steps/Pipeline/NodeName.swift") == true, "\(name): \(hits)")
            if name.contains("/") {
                let count = texts.map { $0.1.components(separatedBy: "\"\(name)\"").count - 1 }.reduce(0, +)
                #expect(count == 1, "\"\(name)\" appears \(count) times in Sources/")
            }
        }
        // Per-frame prefixes are spelled only in NodeName.swift too.
        for prefix in ["inspect", "stars", "register", "measure", "local"] {
            let users = texts.filter { $0.1.contains("frame(\"\(prefix)\"") }.map(\.0)
            #expect(users == ["Steps/Pipeline/NodeName.swift"], "NodeName.frame(\"\(prefix)\") in \(users)")
        }
    }
}
