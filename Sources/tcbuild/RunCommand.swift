import ArgumentParser
import Cache
import Executors
import Foundation
import Graph
import Steps

/// Options shared by the commands that read a workspace and its config.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Workspace directory (holds tile_compile.yaml and .tcbuild/).")
    var workspace: String = "."

    @Option(help: "Config file (default: WORKSPACE/tile_compile.yaml).")
    var config: String?

    @Option(name: .customLong("set"), help: "Override a config value for this run: --set tile.size_factor=40 (repeatable).")
    var overrides: [String] = []

    var root: String { (URL(fileURLWithPath: workspace).standardizedFileURL.path as NSString).standardizingPath }

    /// The config file this invocation reads (`--config`, else `WORKSPACE/tile_compile.yaml`).
    var configPath: String { config ?? root + "/tile_compile.yaml" }

    /// Where the configuration comes from, as recorded with a run and shown by the inspection verbs:
    /// `tile_compile.yaml + --set data.frames_min=10`.
    var configSource: String {
        let file = config.map { (URL(fileURLWithPath: $0).standardizedFileURL.path as NSString).standardizingPath } ?? root + "/tile_compile.yaml"
        let shown = file == root + "/tile_compile.yaml" ? "tile_compile.yaml" : file
        return ([shown] + overrides.map { "--set " + $0 }).joined(separator: " + ")
    }

    /// Loads and checks the config (exit 2 with file:line on errors).
    func loadConfig() throws -> TCConfig {
        let path = configPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw UsageError("no config at \(path); create one with 'tcbuild init \(workspace)' or pass --config FILE")
        }
        return try ConfigLoader.load(path: path, overrides: overrides)
    }

    /// The workspace's `tile_compile.proc`, or the built-in process when it has none (exit 2 with
    /// file:line on errors).
    func loadProcess() throws -> ProcessDescription { try ProcessDescription.load(workspace: root) }

    /// Opens the workspace read-only for an inspection verb (status, explain, ls, show, export,
    /// graph) and picks its configuration: with `--config` or `--set`, that file with those
    /// overrides (as `run` would read them); otherwise the configuration the latest run used
    /// (file + its `--set` overrides, as recorded); before the first run, the file. Says on
    /// standard error which one it uses, and when the file now differs from the run's.
    func openForInspection() throws -> (Workspace, TCConfig) {
        let workspace = try Workspace(root: root, writable: false)
        if config == nil && overrides.isEmpty, let run = try workspace.latestConfiguredRun(),
           let recorded = try? JSONDecoder().decode(TCConfig.self, from: Data(run.config.utf8)) {
            var note = "config: as run \(run.id) used it (\(run.configSource.isEmpty ? "recorded in the manifest" : run.configSource))"
            if let current = try? ConfigLoader.load(path: configPath), current != recorded {
                let changed = ConfigDiff.keys(from: recorded, to: current)
                note += "; tile_compile.yaml now differs in \(changed.prefix(3).joined(separator: ", "))\(changed.count > 3 ? ", ..." : "")"
                    + " (pass --config or --set to inspect another configuration)"
            }
            FileHandle.standardError.write(Data((note + "\n").utf8))
            return (workspace, recorded)
        }
        let loaded = try loadConfig()
        let when = workspace.hasManifest ? "" : " (no run yet: every node will run)"
        FileHandle.standardError.write(Data("config: \(configSource)\(when)\n".utf8))
        return (workspace, loaded)
    }
}

/// Differences between two configurations, by config key path.
enum ConfigDiff {
    /// Every key path of a config, flattened from its JSON form (`tile.size_factor` -> `40`).
    static func flatten(json: String) -> [String: String] {
        guard let data = json.data(using: .utf8), !data.isEmpty,
              let object = try? JSONSerialization.jsonObject(with: data) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ v: Any, _ path: String) {
            if let d = v as? [String: Any] { for (k, x) in d { walk(x, path.isEmpty ? k : path + "." + k) } }
            else if let a = v as? [Any] { out[path] = "[" + a.map { "\($0)" }.joined(separator: ", ") + "]" }
            else { out[path] = "\(v)" }
        }
        walk(object, "")
        return out
    }

    /// Flattened form of a config.
    static func flatten(_ config: TCConfig) -> [String: String] {
        flatten(json: (try? JSONEncoder().encode(config)).map { String(decoding: $0, as: UTF8.self) } ?? "")
    }

    /// The key paths whose values differ, sorted. `parallel.*` is left out: it changes no node (and a
    /// run records its broker URL without the password).
    static func keys(from a: TCConfig, to b: TCConfig) -> [String] {
        let x = flatten(a), y = flatten(b)
        return Set(x.keys).union(y.keys).filter { x[$0] != y[$0] && !$0.hasPrefix("parallel.") }.sorted()
    }
}

/// `tcbuild run`: builds everything that is out of date.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the pipeline in a workspace; only nodes whose inputs or params changed execute.")

    @OptionGroup var options: WorkspaceOptions

    @Option(help: "Concurrent nodes (default: number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Build only what this node needs (repeatable), e.g. --until tiles/geometry.")
    var until: [String] = []

    @Option(help: "Where tile tasks run: local (threads) or rabbitmq (tcbuild worker processes); overrides parallel.executor.")
    var executor: TCConfig.TileExecutor?

    @Option(help: "RabbitMQ broker for --executor rabbitmq: amqp://user:password@host:port/vhost; overrides parallel.broker_url.")
    var broker: String?

    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false
    @Flag(name: .shortAndLong, help: "Print every node as it starts and finishes.") var verbose = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        var loaded = try options.loadConfig()
        if let executor { loaded.parallel.executor = executor }
        if let broker { loaded.parallel.brokerURL = broker }
        let config = loaded
        if config.parallel.executor == .rabbitmq {
            // Fail before any work (exit 2, naming the URL without its password) when the broker is unreachable.
            let url = try BrokerURL(config.parallel.brokerURL)
            try AMQPConnection(url: url, timeout: 10).close()
        }
        let workspace = try Workspace(root: options.root)
        defer { try? workspace.close() }
        warnAboutRecovery(workspace)
        let until = self.until
        let process = try options.loadProcess()
        let progress = ProgressDisplay(quiet: quiet, verbose: verbose,
                                       groupTotals: { groupTotals(workspace: workspace, config: config, process: process, until: until, stage: $0) })
        defer { progress.finish() }
        let result = try PipelineRunner.run(workspace: workspace, config: config, process: process, jobs: jobs, until: until,
                                            command: (["run"] + redactingBrokerPasswords(Array(CommandLine.arguments.dropFirst(2)))).joined(separator: " "),
                                            configSource: options.configSource, events: progress)
        progress.finish()
        let r = result.report
        for d in result.duplicates {
            FileHandle.standardError.write(Data("note: \(d.copy) has the same content as \(d.of): counted once (remove the copy)\n".utf8))
        }
        warnAboutExcluded(result)
        if !quiet {
            print("run \(result.runID): \(r.executed.count) executed, \(r.cached.count) cached, \(r.failed.count) failed"
                  + String(format: " in %.1f s", r.seconds))
            printExcluded(result)
            if let scanned = result.scanned { printSeries(scanned, indent: "  ") }
            for path in result.materialized.filter({ !$0.contains("/") || $0.hasSuffix(".csv") || $0.hasSuffix(".json") }) {
                print("  \(options.root)/\(path)")
            }
        }
        if !r.succeeded { throw RunFailed(report: r) }
        try concludeValidation(result.validation, quiet: quiet)
    }
}

extension TCConfig.TileExecutor: ExpressibleByArgument {}

/// Command-line arguments as recorded with a run: the value of `--broker` (or `--broker=`) shows
/// its URL with the password redacted.
func redactingBrokerPasswords(_ args: [String]) -> [String] {
    var out: [String] = []
    var nextIsBroker = false
    for a in args {
        if nextIsBroker {
            out.append((try? BrokerURL(a))?.description ?? "***")
            nextIsBroker = false
        } else if a == "--broker" {
            out.append(a)
            nextIsBroker = true
        } else if a.hasPrefix("--broker=") {
            out.append("--broker=" + ((try? BrokerURL(String(a.dropFirst(9))))?.description ?? "***"))
        } else {
            out.append(a)
        }
    }
    return out
}

/// Warns on standard error about every frame registration left out (`registration.on_failure: exclude`).
func warnAboutExcluded(_ result: PipelineResult) {
    guard result.report.succeeded else { return }  // with on_failure: abort the failure message names them
    for e in result.excluded {
        FileHandle.standardError.write(Data("warning: \(e.file) could not be registered and was left out: \(e.reason)\n".utf8))
    }
}

/// What the scan resolved for the series: the saturation level and where the frame times came from
/// (`status` and the run summary).
func printSeries(_ frames: FrameList, indent: String = "") {
    for line in PipelineRunner.seriesNotes(frames) { print(indent + line) }
}

/// The run summary's lines about excluded frames.
func printExcluded(_ result: PipelineResult) {
    guard result.report.succeeded, !result.excluded.isEmpty else { return }
    print("  \(result.excluded.count) frame(s) excluded (not registered; listed in \(PipelineRunner.excludedFramesPath)):")
    for e in result.excluded { print("    \(e.file): \(e.reason)") }
}

/// Prints on standard error what opening the workspace did about a damaged manifest, if anything.
func warnAboutRecovery(_ workspace: Workspace) {
    guard let recovery = workspace.recovery else { return }
    FileHandle.standardError.write(Data("warning: \(recovery)\n".utf8))
}

/// Nodes per phase group that a run with `until` builds in `stage`: 0 is the scan stage (counted
/// from the frame list, without hashing anything), 1 the scan and main graphs (the scan is cached
/// by then, so building the main graph reads its frame list). Empty when the graphs cannot be
/// built; the progress display then shows counts without totals.
func groupTotals(workspace: Workspace, config: TCConfig, process: ProcessDescription, until: [String], stage: Int) -> [String: Int] {
    var graphs: [BuildGraph] = []
    if stage == 0 {
        guard let files = try? Scan.listFrames(config: config, workspace: workspace.root),
              let scan = try? Scan.graph(config: config, files: files) else { return [:] }
        graphs = [scan]
    } else {
        guard let both = try? PipelineRunner.graphs(workspace: workspace, config: config, process: process) else { return [:] }
        graphs = [both.scan] + (both.main.map { [$0] } ?? [])
    }
    var counts: [String: Int] = [:]
    for graph in graphs {
        let targets = until.filter { graph.node($0) != nil }
        let built = targets.isEmpty ? graph : ((try? graph.needed(for: targets)) ?? graph)
        for node in built.nodes { counts[node.group, default: 0] += 1 }
    }
    return counts
}

/// `tcbuild init`: a new workspace with a commented `tile_compile.yaml`, the default process
/// description `tile_compile.proc` and a `README.md` on how to iterate (the README is embedded in the
/// binary, see `WorkspaceReadme`; an existing README or process file is kept).
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a workspace with a tile_compile.yaml listing every key, its tile_compile.proc and a README.md on how to iterate.")

    @Argument(help: "Workspace directory to create.") var directory: String
    @Option(help: "Directory holding the input frames (written as data.input_dir).") var input: String?

    func run() throws {
        let root = (URL(fileURLWithPath: directory).standardizedFileURL.path as NSString).standardizingPath
        let configPath = root + "/tile_compile.yaml"
        if let input {
            var isDir: ObjCBool = false
            let path = (URL(fileURLWithPath: input).standardizedFileURL.path as NSString).standardizingPath
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw UsageError("--input \(path) \(FileManager.default.fileExists(atPath: path) ? "is not a directory" : "does not exist"); "
                                 + "pass the directory that holds your light frames (or omit --input and set data.input_dir later)")
            }
        }
        if FileManager.default.fileExists(atPath: configPath) {
            throw UsageError("\(configPath) already exists; edit it, or choose another directory")
        }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var config = TCConfig()
        if let input { config.data.inputDir = (URL(fileURLWithPath: input).standardizedFileURL.path as NSString).standardizingPath }
        try config.renderedYAML().write(toFile: configPath, atomically: true, encoding: .utf8)
        print("created \(configPath)")
        let procPath = root + "/" + ProcessDescription.fileName
        if FileManager.default.fileExists(atPath: procPath) {
            print("kept the existing \(procPath)")
        } else {
            try ProcessDescription.defaultText.write(toFile: procPath, atomically: true, encoding: .utf8)
            print("created \(procPath) (the step order and directories; optional steps may be removed)")
        }
        let readmePath = root + "/README.md"
        if FileManager.default.fileExists(atPath: readmePath) {
            print("kept the existing \(readmePath)")
        } else {
            try WorkspaceReadme.text.write(toFile: readmePath, atomically: true, encoding: .utf8)
            print("created \(readmePath) (how to run, inspect and iterate)")
        }
        print("next: edit data.input_dir (and data.frames_min) if needed, then: tcbuild run -w \(directory); README.md explains how to iterate")
    }
}
