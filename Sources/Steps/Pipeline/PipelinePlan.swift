import Cache
import Foundation
import Graph

/// The pipeline's graphs as they stand now, without running anything: the scan stage, and the main
/// graph when the scan is cached (its frame list is known). Used by `status`, `explain` and `graph`.
public struct PipelineGraphs: Sendable {
    /// The scan stage.
    public let scan: BuildGraph
    /// The main graph, nil when the scan itself would run (the frame list may change).
    public let main: BuildGraph?
    /// Human-facing paths.
    public let materializations: [Materialization]

    /// Every node of both stages, in order.
    public var nodes: [Node] { scan.nodes + (main?.nodes ?? []) }
}

extension PipelineRunner {
    /// Builds the graphs for `config` in `workspace` (reads the cached frame list if there is one).
    public static func graphs(workspace: Workspace, config: TCConfig,
                              process: ProcessDescription = .default) throws -> PipelineGraphs {
        let config = try process.configure(config)
        let files = try Scan.distinctFrames(Scan.listFrames(config: config, workspace: workspace.root),
                                            digest: workspace.digest(ofFile:)).frames
        let scan = try Scan.graph(config: config, files: files)
        let plan = try Planner(store: workspace).plan(scan)
        guard plan.allSatisfy({ $0.state == .cached }), let scanFP = plan.last?.fingerprint,
              case .hit(let outputs) = try workspace.lookup(fingerprint: scanFP),
              let frames = outputs.first(where: { $0.name == "frames" }) else {
            return PipelineGraphs(scan: scan, main: nil, materializations: [])
        }
        let list = try Artifacts.readJSON(FrameList.self, path: workspace.path(of: frames.digest), node: NodeName.scan)
        let builder = try mainBuilder(config: config, frames: list, workspace: workspace.root, process: process)
        return PipelineGraphs(scan: scan, main: try builder.graph(), materializations: builder.materializations)
    }

    /// What a run would do now, node by node (scan stage first). When the scan would run, the main
    /// graph is reported as one pending entry.
    public static func status(workspace: Workspace, config: TCConfig,
                              process: ProcessDescription = .default) throws -> [PlanEntry] {
        let g = try graphs(workspace: workspace, config: config, process: process)
        let planner = Planner(store: workspace)
        var entries = try planner.plan(g.scan)
        if let main = g.main {
            entries += try planner.plan(main)
        } else {
            entries.append(PlanEntry(node: "(pipeline)", group: "pipeline", state: .pending,
                                     reasons: [.upstreamWillRun([NodeName.scan])], fingerprint: nil))
        }
        return entries
    }
}
