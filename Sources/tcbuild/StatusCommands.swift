import ArgumentParser
import Cache
import Foundation
import Graph
import Steps

/// `tcbuild status`: what a run would do now and why, without running anything.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what 'tcbuild run' would execute now, and why, without running.")

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .shortAndLong, help: "List every node, not one line per phase.") var verbose = false

    func run() throws {
        let (workspace, config) = try options.openForInspection()
        let (entries, excluded, series) = try PipelineRunner.statusWithSeries(workspace: workspace, config: config,
                                                                              process: try options.loadProcess())
        var groups: [String] = []
        var byGroup: [String: [PlanEntry]] = [:]
        for e in entries {
            if byGroup[e.group] == nil { groups.append(e.group) }
            byGroup[e.group, default: []].append(e)
        }
        for g in groups {
            let es = byGroup[g]!
            let counts = [PlanState.cached, .willRun, .pending].compactMap { s -> String? in
                let n = es.filter { $0.state == s }.count
                return n > 0 ? "\(n) \(s.rawValue)" : nil
            }
            print("\(g): " + counts.joined(separator: ", "))
            let running = es.filter { $0.state == .willRun }
            for e in verbose ? es.filter({ $0.state != .cached }) : Array(running.prefix(3)) {
                print("  \(e.node): \(e.state.rawValue)" + (e.reasons.isEmpty ? "" : " (\(e.reasons.map(\.description).joined(separator: "; ")))"))
            }
            if !verbose && running.count > 3 { print("  ... and \(running.count - 3) more (--verbose lists them)") }
        }
        for e in excluded { print("excluded: \(e.file) (\(e.reason))") }
        if let series { printSeries(series) }
        let work = entries.filter { $0.state != .cached }.count
        print(work == 0 ? "up to date: a run would execute nothing" : "\(work) node(s) would run or wait on upstream changes")
    }
}

/// `tcbuild explain NODE`: why a node will run now, and why it ran last time.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Explain why a node will run now and why it ran last time.")

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "Node name, e.g. tiles/geometry or register/00017.") var node: String
    @Flag(help: "List the reasons of every upstream node that ran, not only the first \(Explain.upstreamShown).") var all = false

    /// Upstream nodes whose reasons are listed under "last executed" without `--all`.
    static let upstreamShown = 3

    func run() throws {
        let (workspace, config) = try options.openForInspection()
        let entries = try PipelineRunner.status(workspace: workspace, config: config, process: try options.loadProcess())
        let byName = Dictionary(entries.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        if byName[node] == nil, let scan = byName["scan"], scan.state != .cached, PipelineRunner.isPipelineNode(node, config: config) {
            // The main graph is built from the scan's frame list, which does not exist (or will change) yet.
            print("\(node): will run")
            print("  it belongs to the main graph, which is built from the scan's frame list once the scan has run;")
            print("  the scan will run: " + (scan.reasons.isEmpty ? "it never ran" : scan.reasons.map(\.description).joined(separator: "; ")))
            if !workspace.hasManifest { print("  (no run yet in this workspace: every node will run)") }
            return
        }
        guard let entry = byName[node] else {
            let names = entries.map(\.node)
            let suggestion = names.min { editDistance($0, node) < editDistance($1, node) }
            throw GraphError.noSuchNode(node, suggestion: suggestion)
        }
        print("\(node): \(entry.state.rawValue) now")
        if entry.state == .willRun {
            for reason in entry.reasons { print("  " + reason.description) }
        } else if entry.state == .pending {
            // Follow pending upstreams to the nodes that will run: those are the root causes.
            var roots: [String] = [], seen = Set<String>(), stack = [node]
            while let n = stack.popLast() {
                guard seen.insert(n).inserted, let e = byName[n] else { continue }
                if e.state == .willRun { roots.append(n); continue }
                for case .upstreamWillRun(let ups) in e.reasons { stack.append(contentsOf: ups.reversed()) }
            }
            print("  runs only if its inputs change; upstream nodes that will run:")
            for r in roots.sorted() {
                print("    \(r): " + byName[r]!.reasons.map(\.description).joined(separator: "; "))
            }
        }
        if let last = try Explainer.whyLastRan(node, store: workspace),
           let record = try workspace.executions(of: node, limit: 1).first {
            print("last executed in run \(record.runID) (\(String(format: "%.2f", record.duration)) s), because:")
            // An aggregate (tiles/metrics) reran because hundreds of per-frame nodes did: show a few.
            var upstream: [String] = [], shown: [Reason] = []
            for reason in last {
                if case .upstream(let name, _) = reason {
                    upstream.append(name)
                    if !all && upstream.count > Self.upstreamShown { continue }
                }
                shown.append(reason)
            }
            for line in Explainer.lines(shown, indent: "  ") { print(line) }
            let hidden = Array(upstream.dropFirst(Self.upstreamShown))
            if !all && !hidden.isEmpty {
                let names = hidden.prefix(4).joined(separator: ", ") + (hidden.count > 4 ? ", ..." : "")
                print("  ... and \(hidden.count) more upstream node(s) ran (\(names)); --all lists their reasons")
            }
        } else {
            print("never executed in this workspace")
        }
    }
}
