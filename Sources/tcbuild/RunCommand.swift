import ArgumentParser
import Cache
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

    /// Loads and checks the config (exit 2 with file:line on errors).
    func loadConfig() throws -> TCConfig {
        let path = config ?? root + "/tile_compile.yaml"
        guard FileManager.default.fileExists(atPath: path) else {
            throw UsageError("no config at \(path); create one with 'tcbuild init \(workspace)' or pass --config FILE")
        }
        return try ConfigLoader.load(path: path, overrides: overrides)
    }

    /// The workspace's `tile_compile.proc`, or the built-in process when it has none (exit 2 with
    /// file:line on errors).
    func loadProcess() throws -> ProcessDescription { try ProcessDescription.load(workspace: root) }
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

    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false
    @Flag(name: .shortAndLong, help: "Print every node as it starts and finishes.") var verbose = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let config = try options.loadConfig()
        let workspace = try Workspace(root: options.root)
        defer { try? workspace.close() }
        let until = self.until
        let process = try options.loadProcess()
        let progress = ProgressDisplay(quiet: quiet, verbose: verbose,
                                       groupTotals: { groupTotals(workspace: workspace, config: config, process: process, until: until, stage: $0) })
        defer { progress.finish() }
        let result = try PipelineRunner.run(workspace: workspace, config: config, process: process, jobs: jobs, until: until,
                                            command: (["run"] + CommandLine.arguments.dropFirst(2)).joined(separator: " "),
                                            events: progress)
        progress.finish()
        let r = result.report
        if !quiet {
            print("run \(result.runID): \(r.executed.count) executed, \(r.cached.count) cached, \(r.failed.count) failed"
                  + String(format: " in %.1f s", r.seconds))
            for path in result.materialized.filter({ !$0.contains("/") || $0.hasSuffix(".csv") || $0.hasSuffix(".json") }) {
                print("  \(options.root)/\(path)")
            }
        }
        if !r.succeeded { throw RunFailed(report: r) }
        try concludeValidation(result.validation, quiet: quiet)
    }
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
