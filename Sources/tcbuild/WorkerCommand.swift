import ArgumentParser
import Cache
import Executors
import Foundation
import Steps

/// `tcbuild worker`: consumes tile tasks from a RabbitMQ broker and writes their results into the
/// shared workspace's object store (see docs/scale-out.md). Runs until the broker is lost (exit 1)
/// or SIGTERM/SIGINT stops it after its current task; a worker killed outright (SIGKILL) leaves its
/// unfinished task to the broker, which redelivers it to another worker.
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
        let stop = StopRequest()
        try worker.run(maxTasks: maxTasks, shouldStop: { stop.requested })
    }
}

/// SIGTERM / SIGINT ask a worker to stop after its current task (which is finished, published and
/// acked first), so workers can be restarted without losing work or counting an attempt.
private final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private var sources: [DispatchSourceSignal] = []

    init() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.lock.withLock { self?.flag = true } }
            source.resume()
            sources.append(source)
        }
    }

    var requested: Bool { lock.withLock { flag } }
}

/// Every task kind this tcbuild can execute (a worker must know the kinds its master publishes).
enum TaskKinds {
    static var all: TaskKindRegistry {
        var registry = TileTasks.registry  // the pipeline's tile phases (reconstruct, synthetic/NN)
        registry.register(ToyTileKind.kind)  // the harness's toy kind (_tiles, tests, bench)
        return registry
    }
}
