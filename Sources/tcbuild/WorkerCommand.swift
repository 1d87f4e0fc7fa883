import ArgumentParser
import Cache
import Executors
import Foundation

/// `tcbuild worker`: consumes tile tasks from a RabbitMQ broker and writes their results into the
/// shared workspace's object store (see docs/scale-out.md). Runs until the broker is lost (exit 1)
/// or the process is stopped; an unfinished task goes back to the queue for another worker.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run a tile worker for a RabbitMQ master (scale-out).")

    @Option(help: "Broker URL: amqp://user:password@host:port/vhost.") var broker: String
    @Option(help: "The shared workspace (same files as the master's, e.g. an NFS mount).") var workspace: String = "."
    @Option(help: "Unacknowledged tasks at once (1-2).") var prefetch: Int = 1
    @Option(help: "Heartbeat interval requested from the broker, in seconds.") var heartbeat: Int = 10
    @Option(help: "Stop after handling this many tasks (default: run until stopped).") var maxTasks: Int?
    @Flag(help: "Print nothing per task.") var quiet = false

    func run() throws {
        let url = try BrokerURL(broker)
        guard (1...16).contains(prefetch) else { throw UsageError("--prefetch must be between 1 and 16 (the seed says 1-2)") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: workspace, isDirectory: &isDir), isDir.boolValue else {
            throw UsageError("\(workspace): no such directory (pass the shared workspace with --workspace)")
        }
        let store = try ArtifactStore(workspace: workspace, durable: false)  // results are verified by checksum at every use
        let quiet = self.quiet
        let worker = Worker(url: url, store: store, registry: TaskKinds.all, prefetch: prefetch, heartbeat: heartbeat) { line in
            if !quiet { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        }
        try worker.run(maxTasks: maxTasks)
    }
}

/// Every task kind this tcbuild can execute (a worker must know the kinds its master publishes).
enum TaskKinds {
    static var all: TaskKindRegistry {
        let registry = ToyTileKind.registry
        // The pipeline's tile phases register their kinds here once they run as tasks.
        return registry
    }
}
