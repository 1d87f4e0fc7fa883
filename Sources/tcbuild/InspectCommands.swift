import ArgumentParser
import Cache
import Foundation
import Graph
import Imaging
import Steps

/// The current plan of every node, by name (for ls, show, export).
private func currentPlan(_ options: WorkspaceOptions) throws -> (Workspace, PipelineGraphs, [String: PlanEntry]) {
    let (workspace, config) = try options.openForInspection()
    let graphs = try PipelineRunner.graphs(workspace: workspace, config: config, process: try options.loadProcess())
    let planner = Planner(store: workspace)
    var entries = try planner.plan(graphs.scan)
    if let main = graphs.main { entries += try planner.plan(main) }
    return (workspace, graphs, Dictionary(entries.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a }))
}

/// `n` bytes in binary units with one decimal (`1.5 MB`), plain bytes below 1 KB.
func humanBytes(_ n: Int64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var v = Double(n), u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}

/// `tcbuild ls [GLOB]`: nodes with their state, last duration and output size.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List nodes (optionally matching a glob) with state, duration and size.")
    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "Glob over node names, e.g. 'register/*' or 'tiles/*'.") var glob: String?

    func run() throws {
        let (workspace, graphs, plan) = try currentPlan(options)
        for node in graphs.nodes where glob.map({ fnmatch($0, node.name, 0) == 0 }) ?? true {
            let entry = plan[node.name]
            var line = node.name.padding(toLength: max(24, node.name.count + 2), withPad: " ", startingAt: 0)
                + (entry?.state.rawValue ?? "?").padding(toLength: 10, withPad: " ", startingAt: 0)
            if let fp = entry?.fingerprint, case .hit(let outs) = try workspace.lookup(fingerprint: fp) {
                let last = try workspace.executions(of: node.name, limit: 1).first
                line += String(format: "%8.2f s  ", last?.duration ?? 0) + humanBytes(outs.reduce(0) { $0 + $1.size })
            }
            print(line)
        }
    }
}

/// `tcbuild show NODE`: everything about one node.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a node: state, fingerprint, params, inputs, outputs with paths, timing.")
    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "Node name.") var node: String

    func run() throws {
        let (workspace, graphs, plan) = try currentPlan(options)
        guard let n = graphs.nodes.first(where: { $0.name == node }), let entry = plan[node] else {
            throw GraphError.noSuchNode(node, suggestion: graphs.nodes.map(\.name).min { editDistance($0, node) < editDistance($1, node) })
        }
        print("node        \(n.name)")
        print("kind        \(n.kind) v\(n.version)")
        print("state       \(entry.state.rawValue)" + (entry.reasons.isEmpty ? "" : " (\(entry.reasons.map(\.description).joined(separator: "; ")))"))
        print("fingerprint \(entry.fingerprint?.hex ?? "(depends on upstream that will run)")")
        print("params")
        for p in n.params.flattened { print("  \(p.path) = \(p.value)") }
        print("inputs (\(n.inputs.count))")
        for i in n.inputs.prefix(6) { print("  \(i.name) <- \(i.source)") }
        if n.inputs.count > 6 { print("  ... \(n.inputs.count - 6) more") }
        print("outputs")
        var outputs: [OutputRecord] = []
        if let fp = entry.fingerprint, case .hit(let outs) = try workspace.lookup(fingerprint: fp) { outputs = outs }
        for o in n.outputs {
            guard let rec = outputs.first(where: { $0.name == o }) else { print("  \(o): not built"); continue }
            let shown = graphs.materializations.filter { $0.node == node && $0.output == o }.map { "\(workspace.root)/\($0.path)" }
            print("  \(o): \(rec.digest.short) \(humanBytes(rec.size)) store \(workspace.path(of: rec.digest))"
                  + (shown.isEmpty ? "" : " -> \(shown.joined(separator: ", "))"))
        }
        if let last = try workspace.executions(of: node, limit: 1).first {
            print(String(format: "last run    run %lld, %.3f s", last.runID, last.duration))
        }
    }
}

/// `tcbuild export NODE [OUTPUT] DEST`: copies an intermediate out of the store; with `--tile N` on
/// `tiles/metrics`, writes that tile's weights across frames as FITS (see `TileWeightsExport`).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a node's output (e.g. one registered frame) out of the store, or one tile's weights as FITS.",
        discussion: """
        With --tile N (node tiles/metrics, output weights), DEST is a FITS cube of F x 1 x 3: \
        column f is frame f (scan order); plane 1 is W = G_f * L, plane 2 is L = exp(Q_local), plane 3 is Q_local. \
        Header: TILE, TILEMODE, TILEX/TILEY/TILEW/TILEH (tile box in registered pixels), NFRAMES, PLANE1..3.
        """)
    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "NODE [OUTPUT] DEST (OUTPUT may be omitted when the node has one output).") var arguments: [String]
    @Option(help: "With tiles/metrics: export tile N's weights across frames as FITS (F x 1 x 3: W, L, Q).") var tile: Int?

    func validate() throws {
        guard (2...3).contains(arguments.count) else { throw ValidationError("usage: tcbuild export NODE [OUTPUT] DEST") }
        if let tile {
            guard tile >= 0 else { throw ValidationError("--tile must be a tile index >= 0 (see tiles/grid.json)") }
            guard arguments[0] == NodeName.tileMetrics, arguments.count == 2 || arguments[1] == "weights" else {
                throw ValidationError("--tile \(tile) exports tile weights: tcbuild export tiles/metrics weights DEST --tile \(tile)")
            }
        }
    }

    func run() throws {
        let node = arguments[0], dest = arguments.last!
        let (workspace, graphs, plan) = try currentPlan(options)
        guard let n = graphs.nodes.first(where: { $0.name == node }) else {
            throw GraphError.noSuchNode(node, suggestion: graphs.nodes.map(\.name).min { editDistance($0, node) < editDistance($1, node) })
        }
        let output = arguments.count == 3 ? arguments[1] : (tile != nil ? "weights" : (n.outputs.count == 1 ? n.outputs[0] : ""))
        guard n.outputs.contains(output) else {
            throw UsageError("node \(node) has outputs \(n.outputs.joined(separator: ", ")); name one: tcbuild export \(node) OUTPUT \(dest)")
        }
        guard let rec = try builtOutput(node, output, workspace, plan) else {
            throw UsageError("\(node) is not built for the current config; run 'tcbuild run' first")
        }
        let isDirectory = FileManager.default.fileExists(atPath: dest)
            && (try? FileManager.default.attributesOfItem(atPath: dest)[.type] as? FileAttributeType) == .typeDirectory
        let base = node.replacingOccurrences(of: "/", with: "_") + "_" + output
        if let tile {
            let target = isDirectory ? dest + "/" + base + "_tile\(tile).fits" : dest
            let weights = try TileWeights(path: workspace.path(of: rec.digest))
            let grid = try builtOutput(NodeName.tileGeometry, "grid", workspace, plan).flatMap { try? TileGrid.read(path: workspace.path(of: $0.digest)) }
            try TileWeightsExport.write(weights, tile: tile, grid: grid, to: target)
            print("exported tile \(tile) of \(node)#\(output) (\(weights.frameCount) frames: W, L, Q) to \(target)")
            return
        }
        let source = workspace.path(of: rec.digest), head = artifactHead(source)
        let target = isDirectory ? dest + "/" + base + artifactExtension(node, output, head, graphs) : dest
        try? FileManager.default.removeItem(atPath: target)
        // A binary star list (`stars/NNNNN#stars`, `#field`) is written as the JSON list of its stars.
        if head.hasPrefix(Self.starListMagic), let data = FileManager.default.contents(atPath: source),
           let stars = StarListBinary.decode(data) {
            try Artifacts.encode(stars).write(to: URL(fileURLWithPath: target))
            chmod(target, 0o644)
            print("exported \(node)#\(output) (\(stars.count) stars, as JSON) to \(target)")
            return
        }
        try FileManager.default.copyItem(atPath: source, toPath: target)
        chmod(target, 0o644)
        print("exported \(node)#\(output) (\(humanBytes(rec.size))) to \(target)")
    }

    /// The first bytes of `StarListBinary`'s encoding.
    private static let starListMagic = "TCSTARS1"

    /// The first 16 bytes of the artifact at `path` as text ("" when unreadable).
    private func artifactHead(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: handle.readData(ofLength: 16), as: UTF8.self)
    }

    /// The file name extension for an exported artifact: the one of its materialized path
    /// (`stack#image` -> `stacked.fit` -> `.fit`), else from its first bytes (FITS, PNG, JSON, a binary
    /// star list exported as JSON, HTML; `head` is `artifactHead`), else none.
    private func artifactExtension(_ node: String, _ output: String, _ head: String, _ graphs: PipelineGraphs) -> String {
        if let m = graphs.materializations.first(where: { $0.node == node && $0.output == output }) {
            let ext = (m.path as NSString).pathExtension
            if !ext.isEmpty { return "." + ext }
        }
        if head.hasPrefix("SIMPLE  =") { return ".fits" }
        if head.hasPrefix(Self.starListMagic) { return ".json" }
        if head.hasPrefix("\u{FFFD}PNG") || head.dropFirst().hasPrefix("PNG") { return ".png" }
        if head.lowercased().hasPrefix("<!doctype html") || head.hasPrefix("<html") { return ".html" }
        if let first = head.trimmingCharacters(in: .whitespacesAndNewlines).first, first == "{" || first == "[" { return ".json" }
        return ""
    }

    /// The stored output `node#output` for the current config, nil when it is not built.
    private func builtOutput(_ node: String, _ output: String, _ workspace: Workspace, _ plan: [String: PlanEntry]) throws -> OutputRecord? {
        guard let fp = plan[node]?.fingerprint, case .hit(let outs) = try workspace.lookup(fingerprint: fp) else { return nil }
        return outs.first { $0.name == output }
    }
}
