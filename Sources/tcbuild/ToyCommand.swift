import ArgumentParser
import Cache
import Foundation
import Graph

/// `tcbuild _toy`: runs a graph of toy nodes from a JSON spec in a workspace. A test and benchmark
/// harness for the engine (crash safety, lock, concurrency, no-op cost); hidden from help.
struct Toy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_toy", abstract: "Run a toy graph (engine test harness).", shouldDisplay: false)

    @Option(help: "Workspace directory.") var workspace: String
    @Option(help: "JSON file: an array of toy node specs.") var spec: String
    @Option(help: "Concurrent nodes.") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print the run report as JSON on stdout.") var json = false

    func run() throws {
        let specs: [ToyGraph.NodeSpec]
        do {
            specs = try JSONDecoder().decode([ToyGraph.NodeSpec].self, from: Data(contentsOf: URL(fileURLWithPath: spec)))
        } catch {
            throw UsageError("\(spec): not a toy graph spec: \(error)")
        }
        let graph = try BuildGraph(ToyGraph.nodes(specs))
        let ws = try Workspace(root: workspace)
        warnAboutRecovery(ws)
        let t0 = Date()
        let report = try ws.run(graph, options: RunOptions(jobs: jobs), command: "_toy")
        let counters = ws.counters
        if json {
            let out: [String: Any] = [
                "executed": report.executed.sorted(), "cached": report.cached.count,
                "failed": report.failed.keys.sorted(), "seconds": Date().timeIntervalSince(t0),
                "files_hashed": counters.filesHashed, "bytes_hashed": counters.bytesHashed,
                "outputs": report.outputs.mapValues { $0["out"]?.hex ?? "" },
            ]
            let data = try JSONSerialization.data(withJSONObject: out)  // unsorted: sorting 2000 keys with Foundation costs more than the no-op run
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("executed \(report.executed.count), cached \(report.cached.count), failed \(report.failed.count)")
        }
        if !report.succeeded { throw RunFailed(report: report) }
    }
}
