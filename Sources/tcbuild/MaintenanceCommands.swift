import ArgumentParser
import Cache
import Foundation
import Graph
import Steps

/// `tcbuild log`: past runs with their config changes, durations, counts and verdicts.
struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List past runs: config changes, duration, executed/cached counts, status.")
    @Option(name: [.short, .long], help: "Workspace directory.") var workspace: String = "."
    @Option(help: "Show at most this many runs (newest last).") var limit: Int = 20

    func run() throws {
        let ws = try Workspace(root: workspace, writable: false)
        let runs = try ws.runs(limit: limit + 1)
        if runs.isEmpty { print("no runs yet in \(ws.root)"); return }
        var previous: [String: String]?
        for (k, r) in runs.enumerated() {
            let config = ConfigDiff.flatten(json: r.config)
            defer { previous = config }
            if k == 0 && runs.count > limit { continue }  // only the baseline for the first diff
            print(String(format: "run %lld  %@  %@  %.1f s  executed %d, cached %d, failed %d  [%@]",
                         r.id, ISO8601DateFormatter().string(from: r.startedAt), describe(r), r.seconds,
                         r.executed, r.cached, r.failed, r.command))
            if let previous {
                for key in Set(previous.keys).union(config.keys).sorted() where previous[key] != config[key] {
                    print("    \(key): \(previous[key] ?? "(absent)") -> \(config[key] ?? "(absent)")")
                }
            }
        }
    }

    /// The status column: `ok`, `nodes failed`, `validation failed` (every node succeeded),
    /// `interrupted` (killed: no end recorded), `running`.
    private func describe(_ r: RunRecord) -> String {
        switch r.status {
        case .validationFailed: return "validation failed (all nodes ok)"
        case .interrupted: return "interrupted (killed before it ended; 'tcbuild run' resumes)"
        case .nodesFailed where r.storedStatus != RunStatus.nodesFailed.rawValue: return "failed"  // older tcbuild: not told apart
        default: return r.status.rawValue
        }
    }
}

/// Opens an existing workspace for writing (gc, verify). Nil, after saying so, when the directory
/// holds a config but no run yet (nothing to do; nothing is created); exit 2 when it is no workspace.
func openExisting(_ directory: String, verb: String) throws -> Workspace? {
    let root = (URL(fileURLWithPath: directory).standardizedFileURL.path as NSString).standardizingPath
    if !FileManager.default.fileExists(atPath: Workspace.manifestPath(root: root)) {
        guard FileManager.default.fileExists(atPath: root + "/tile_compile.yaml") else { throw CacheError.notAWorkspace(root) }
        print("\(verb): no run yet in \(root): nothing to \(verb)")
        return nil
    }
    return try Workspace(root: root)
}

/// A byte count given on the command line: `500M`, `2G`, `1.5GB`, `800k`, `4096` (binary units:
/// K = 1024 bytes, M = 1024^2, G = 1024^3, T = 1024^4; a trailing `B` or `iB` is accepted).
struct ByteSize: ExpressibleByArgument, Equatable {
    /// The size in bytes.
    let bytes: Int64

    init(bytes: Int64) { self.bytes = bytes }

    init?(argument: String) {
        var text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where text.hasSuffix(suffix) && text.count > suffix.count {
            text.removeLast(suffix.count)
            break
        }
        let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024, "T": 1024 * 1024 * 1024 * 1024]
        var factor = 1.0
        if let last = text.last, let f = units[last] { factor = f; text.removeLast() }
        guard let value = Double(text), value.isFinite, value >= 0, value * factor < 9e18 else { return nil }
        bytes = Int64((value * factor).rounded())
    }

    static var defaultValueDescription: String { "e.g. 500M or 2G" }
}

/// `tcbuild gc`: frees artifacts no recent run references, optionally down to a size.
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gc", abstract: "Delete artifacts that none of the last N runs used (and, with --max-size, older runs' artifacts until the store fits).")
    @Option(name: [.short, .long], help: "Workspace directory.") var workspace: String = "."
    @Option(help: "Keep everything the last N runs executed or reused.") var keepRuns: Int = 1
    @Option(help: ArgumentHelp("Then drop the oldest runs' artifacts until the store is at most this size (500M, 2G); the latest run is never touched.",
                               valueName: "size")) var maxSize: ByteSize?

    func validate() throws { guard keepRuns >= 1 else { throw ValidationError("--keep-runs must be at least 1") } }

    func run() throws {
        guard let ws = try openExisting(workspace, verb: "collect") else { return }
        defer { try? ws.close() }
        warnAboutRecovery(ws)
        let before = try ws.storeSize()
        let report = try ws.gc(keepRuns: keepRuns, maxBytes: maxSize?.bytes)
        print("gc: kept runs \(report.keptRuns.map(String.init).joined(separator: ", ")); removed \(report.executionsRemoved) executions "
              + "and \(report.blobsRemoved) artifacts, freed \(report.bytesFreed) bytes (store \(before) -> \(report.storeBytes) bytes)")
        if report.unreferencedRemoved > 0 {
            print("gc: \(report.unreferencedRemoved) of those artifacts were files no manifest row referenced")
        }
        if report.taskMemosRemoved > 0 {
            print("gc: removed \(report.taskMemosRemoved) tile-task memo files (their nodes finished or no kept run wrote them)")
        }
        guard let maxSize else { return }
        if !report.droppedForSize.isEmpty {
            print("gc: to fit --max-size \(humanBytes(maxSize.bytes)) also dropped runs \(report.droppedForSize.map(String.init).joined(separator: ", "))")
        }
        if report.overLimit {
            print("gc: the store (\(humanBytes(report.storeBytes))) is still above --max-size \(humanBytes(maxSize.bytes)): "
                  + "all of it is what the latest run references; raise the limit or remove the workspace's .tcbuild to start over")
        } else {
            print("gc: store \(humanBytes(report.storeBytes)) fits --max-size \(humanBytes(maxSize.bytes))")
        }
    }
}

/// `tcbuild verify`: checks the store; damaged artifacts are dropped so their nodes rerun.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check every artifact (presence and size; content with --rehash).")
    @Option(name: [.short, .long], help: "Workspace directory.") var workspace: String = "."
    @Flag(help: "Rehash every artifact's content (slower; finds in-place modifications).") var rehash = false

    func run() throws {
        guard let ws = try openExisting(workspace, verb: "verify") else { return }
        defer { try? ws.close() }
        if let recovery = ws.recovery {
            print("damaged: manifest: \(recovery)")
            print("verify: the manifest was rebuilt; the next 'tcbuild run' reruns what could not be verified")
            throw ExitCode(1)
        }
        let problems = try ws.verify(rehash: rehash)
        let count = try ws.artifactCount()
        if problems.isEmpty {
            print("verify: \(count) artifacts ok" + (rehash ? " (content rehashed)" : " (presence and size; --rehash checks content)"))
            return
        }
        for p in problems { print("damaged: \(p)") }
        print("verify: \(problems.count) damaged artifact(s) removed; their nodes rerun on the next 'tcbuild run'")
        throw ExitCode(1)
    }
}

/// `tcbuild graph`: the process's steps and the DAG, grouped by phase.
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "graph", abstract: "Print the process (steps and their nodes) and the graph (text, Graphviz dot, JSON), or the process description (proc).")
    @OptionGroup var options: WorkspaceOptions
    @Option(help: "text, dot, json or proc (the tile_compile.proc in effect).") var format: String = "text"

    func validate() throws {
        guard ["text", "dot", "json", "proc"].contains(format) else { throw ValidationError("--format must be text, dot, json or proc") }
    }

    func run() throws {
        let process = try options.loadProcess()
        if format == "proc" {
            let path = options.root + "/" + ProcessDescription.fileName
            print((try? String(contentsOfFile: path, encoding: .utf8)) ?? ProcessDescription.defaultText, terminator: "")
            return
        }
        let (workspace, config) = try options.openForInspection()
        let graphs = try PipelineRunner.graphs(workspace: workspace, config: config, process: process)
        let nodes = graphs.nodes
        var groups: [String] = []
        for n in nodes where !groups.contains(n.group) { groups.append(n.group) }
        switch format {
        case "dot":
            print("digraph tcbuild {\n  rankdir=LR;")
            for (k, g) in groups.enumerated() {
                print("  subgraph cluster_\(k) { label=\"\(g)\";")
                for n in nodes where n.group == g { print("    \"\(n.name)\";") }
                print("  }")
            }
            for n in nodes { for u in n.upstreams { print("  \"\(u)\" -> \"\(n.name)\";") } }
            print("}")
        case "json":
            let list = nodes.map { ["name": $0.name, "group": $0.group, "kind": $0.kind, "upstreams": $0.upstreams] as [String: Any] }
            let data = try JSONSerialization.data(withJSONObject: ["nodes": list], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        default:
            print("process (\(process.file)):")
            for use in process.steps {
                let nodes = use.step.nodes.isEmpty ? "(after the run)" : use.step.nodes.joined(separator: ", ")
                print("  \(use.step.name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(nodes)")
            }
            print("graph:")
            for g in groups {
                let members = nodes.filter { $0.group == g }
                let ups = Set(members.flatMap(\.upstreams).compactMap { u in nodes.first { $0.name == u }?.group }).subtracting([g])
                print("  \(g) (\(members.count) node\(members.count == 1 ? "" : "s"))" + (ups.isEmpty ? "" : " <- " + ups.sorted().joined(separator: ", ")))
            }
            if graphs.main == nil { print("(the scan will run first; the main graph depends on its frame list)") }
        }
    }
}
