import ArgumentParser
import Cache
import Executors
import Foundation
import Graph

/// `tcbuild _tiles`: runs a batch of toy tile tasks through an executor, as a master, in a real
/// workspace. A harness for the executor tests and the scale-out bench; hidden from help.
struct Tiles: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_tiles", abstract: "Run toy tile tasks through an executor (executor test harness).", shouldDisplay: false)

    @Option(help: "Workspace directory (the shared store).") var workspace: String
    @Option(help: "local or rabbitmq.") var executor: String = "rabbitmq"
    @Option(help: "Broker URL (rabbitmq).") var broker: String?
    @Option(help: "Number of tasks (tiles).") var tasks: Int
    @Option(help: "Input blobs per task.") var inputs: Int = 3
    @Option(help: "Bytes per input blob and per result.") var size: Int = 4096
    @Option(help: "Run id (seeds derive from it).") var runID: String = "toy-run"
    @Option(help: "Threads (local).") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Attempts per task before dead-lettering (rabbitmq).") var maxRetries: Int = 3
    @Option(help: "Heartbeat interval in seconds (rabbitmq).") var heartbeat: Int = 10
    @Option(help: "This tile always fails.") var failTile: Int?
    @Option(help: "This tile waits for --wait-for to exist (after writing a marker in --marker-dir).") var waitTile: Int?
    @Option(help: "File the waiting tile waits for.") var waitFor: String?
    @Option(help: "Directory for started.<tile>.<pid> markers.") var markerDir: String?
    @Option(help: "Workers publish this tile's result twice.") var duplicateTile: Int?
    @Option(help: "Sleep per task in milliseconds.") var sleepMs: Int = 0
    @Flag(help: "Print the report as JSON on stdout.") var json = false

    func run() throws {
        guard tasks >= 0, inputs >= 0, size >= 0 else { throw UsageError("--tasks, --inputs and --size must be >= 0") }
        let ws = try Workspace(root: workspace)  // the master holds the workspace lock, like a run
        defer { try? ws.close() }
        let store = try ArtifactStore(workspace: workspace, durable: false)  // the toy inputs (a harness needs no fsync)
        var list = try ToyTileKind.tasks(count: tasks, inputs: inputs, size: size, runID: runID, maxRetries: maxRetries, store: store)
        for i in list.indices {
            let tile = list[i].tileID
            if tile == failTile { list[i].params["fail"] = "always" }
            if tile == waitTile, let waitFor { list[i].params["wait_for"] = waitFor; list[i].params["marker_dir"] = markerDir ?? workspace }
            if tile == duplicateTile { list[i].params["_test.duplicate_result"] = "1" }
            if sleepMs > 0 { list[i].params["sleep_ms"] = String(sleepMs) }
        }
        guard let kind = ExecutorSettings.Kind(rawValue: executor) else {
            throw UsageError("--executor must be local or rabbitmq, not '\(executor)'")
        }
        let settings = ExecutorSettings(kind: kind, brokerURL: broker, maxRetries: maxRetries, heartbeat: heartbeat)
        let exec = try settings.makeExecutor(workspace: workspace, registry: TaskKinds.all, jobs: jobs)
        let t0 = Date()
        let report = try exec.run(kind: ToyTileKind.name, tasks: list)
        let seconds = Date().timeIntervalSince(t0)
        if json {
            let out: [String: Any] = [
                "digests": report.results.map { $0.tileDataRef?.hex ?? "" },
                "attempts": report.results.map(\.attempt),
                "workers": report.results.map(\.workerID),
                "reused": report.reused, "executed": report.executed, "duplicates": report.duplicates, "seconds": seconds,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("tasks \(list.count): executed \(report.executed), reused \(report.reused), duplicates \(report.duplicates), \(String(format: "%.3f", seconds)) s")
        }
    }
}
