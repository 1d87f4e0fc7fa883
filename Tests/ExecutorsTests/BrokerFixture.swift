import Executors
import Foundation
import Testing
import TestSupport

/// The local RabbitMQ broker the executor tests use, one fresh vhost per test.
enum Broker {
    /// Where `rabbitmq-server` listens on this machine (guest is allowed on localhost only).
    static let base = "amqp://guest:guest@localhost:5672"

    /// True when a broker answers on localhost.
    static let available: Bool = (try? AMQPConnection(url: BrokerURL(base + "/"), heartbeat: 0, timeout: 3)) != nil

    /// Broker tests run when a broker is reachable, and always on CI (where `.ci/run` starts one, so
    /// an unreachable broker there is a failure, not a skip).
    static let shouldRun = available || ProcessInfo.processInfo.environment["CI"] != nil

    static let skipMessage: Comment = "no RabbitMQ broker on localhost:5672 and CI is not set: start one with 'rabbitmq-server -detached; rabbitmqctl await_startup'"

    static func rabbitmqctl(_ arguments: [String]) throws -> ProcessResult {
        let exe = ["/usr/sbin/rabbitmqctl", "/usr/bin/rabbitmqctl", "/usr/local/sbin/rabbitmqctl"]
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/rabbitmqctl"
        return try runProcess(exe, arguments)
    }
}

/// A vhost created for one test (guest has full permissions) and deleted with its queues at the end.
final class TestVhost: @unchecked Sendable {
    let name: String
    /// The broker URL of this vhost.
    var url: String { "\(Broker.base)/\(name)" }

    init(_ label: String) throws {
        name = "tcbuild-test-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try create()
    }

    func create() throws {
        let add = try Broker.rabbitmqctl(["add_vhost", name])
        guard add.status == 0 else { throw ExecutorError.badMessage("rabbitmqctl add_vhost \(name): \(add.stderr)") }
        let perm = try Broker.rabbitmqctl(["set_permissions", "-p", name, "guest", ".*", ".*", ".*"])
        guard perm.status == 0 else { throw ExecutorError.badMessage("rabbitmqctl set_permissions: \(perm.stderr)") }
    }

    /// Deletes the vhost: its queues go, and every connection to it is closed by the broker.
    func delete() { _ = try? Broker.rabbitmqctl(["delete_vhost", name]) }

    /// Messages ready in a queue of this vhost.
    func messages(in queue: String) throws -> Int {
        let c = try AMQPConnection(url: BrokerURL(url), heartbeat: 0)
        defer { c.close() }
        return try c.messageCount(queue)
    }

    deinit { delete() }
}

/// A `tcbuild` child process whose output goes to files; killed (SIGKILL) at deinit if still running.
final class Child: @unchecked Sendable {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    init(_ arguments: [String], in dir: TemporaryDirectory, label: String) throws {
        stdoutPath = dir.file("\(label).out")
        stderrPath = dir.file("\(label).err")
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: tcbuildBinary())
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    /// A worker on `url` over the workspace `ws`.
    static func worker(_ url: String, ws: String, in dir: TemporaryDirectory, label: String, _ extra: [String] = []) throws -> Child {
        try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
        return try Child(["worker", "--broker", url, "--workspace", ws] + extra, in: dir, label: label)
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// `host:pid`, as the worker reports itself in results.
    var workerID: String { "\(ProcessInfo.processInfo.hostName):\(pid)" }

    /// Waits for exit; returns the status (128 + signal when killed).
    @discardableResult
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Waits for exit at most `seconds` (a bound against a hung child, not a timing assertion);
    /// a child still running then is killed and reported as status -1.
    func finish(within seconds: Double = 180) -> Int32 {
        if waitUntil(seconds: seconds, { !process.isRunning }) { return wait() }
        kill9()
        return -1
    }

    func kill9() {
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { kill9() }
}

/// Polls until `condition` holds; false after `seconds` (a bound on waiting for a child, not a timing assertion).
func waitUntil(seconds: Double = 120, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// The file in `dir` whose name starts with `prefix`, if any.
func file(in dir: String, prefix: String) -> String? {
    (try? FileManager.default.contentsOfDirectory(atPath: dir))?.first { $0.hasPrefix(prefix) }
}

/// The `_tiles --json` report.
struct TilesReport: Decodable {
    let digests: [String]
    let attempts: [Int]
    let workers: [String]
    let reused: Int
    let executed: Int
    let duplicates: Int

    init(_ stdout: String) throws {
        self = try JSONDecoder().decode(TilesReport.self, from: Data(stdout.utf8))
    }
}
