import Foundation
import Testing
import TestSupport
@testable import Steps

/// docs/config.md's "Which nodes read each key" table is what the pipeline's params really contain.
@Suite struct ConfigReadersTests {
    @Test func docsListTheNodesThatReadEachKey() throws {
        let readers = try PipelineRunner.configReaders()
        #expect(readers["tile.size_factor"] == ["tiles/geometry"])
        #expect(readers["weighting.strength"] == ["tiles/metrics"])  // the rest follows by input digests
        #expect(readers["weighting.mode"] == ["tiles/metrics"])
        #expect(readers["registration.min_star_matches"]?.contains("register/NNNNN") == true)
        #expect(readers["synthetic.frames_max"] == ["clusters", "stack"])  // it shapes the stack's inputs
        // The scan resolves it, the nodes that must not use saturated stars read the resolved level.
        #expect(readers["data.saturation_level"] == ["measure/NNNNN", "register/NNNNN", "scan", "stars/NNNNN"])  // register: its retries detect stars
        let docs = try String(contentsOfFile: packageRoot.appendingPathComponent("docs/config.md").path, encoding: .utf8)
        for key in ConfigLoader.keyPaths() {
            let nodes = readers[key]!.isEmpty ? "(none: read when the graph is built)" : readers[key]!.map { "`\($0)`" }.joined(separator: ", ")
            #expect(docs.contains("| `\(key)` | \(nodes) |"), "docs/config.md lacks the readers row of \(key): | `\(key)` | \(nodes) |")
        }
    }
}
