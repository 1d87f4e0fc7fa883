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
    /// Frames registration excluded (known when every registration node is cached).
    public var excluded: [ExcludedFrame] = []
    /// The scanned series (nil when the scan would run): saturation level, frame times.
    public var frames: FrameList?

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
        // When registration is cached, its transforms say which frames the main graph leaves out;
        // otherwise the graph is built over every frame (registration would run first).
        var excluded: [ExcludedFrame] = []
        let registration = try registrationBuilder(config: config, frames: list, workspace: workspace.root, process: process).graph()
        let regPlan = try Planner(store: workspace).plan(registration)
        if regPlan.allSatisfy({ $0.state == .cached }) {
            var outputs: [String: [String: Digest]] = [:]
            for entry in regPlan where NodeName.pattern(entry.node) == NodeName.pattern(NodeName.register(0)) {
                guard let fp = entry.fingerprint, case .hit(let outs) = try workspace.lookup(fingerprint: fp) else { continue }
                outputs[entry.node] = Dictionary(outs.map { ($0.name, $0.digest) }, uniquingKeysWith: { a, _ in a })
            }
            excluded = try excludedFrames(list, outputs: outputs, workspace: workspace)
        }
        let builder = try mainBuilder(config: config, frames: list, registered: registered(list, excluding: excluded),
                                      workspace: workspace.root, process: process)
        var graphs = PipelineGraphs(scan: scan, main: try builder.graph(), materializations: builder.materializations)
        graphs.excluded = excluded
        graphs.frames = list
        return graphs
    }

    /// What a run would do now, node by node (scan stage first). When the scan would run, the main
    /// graph is reported as one pending entry.
    public static func status(workspace: Workspace, config: TCConfig,
                              process: ProcessDescription = .default) throws -> [PlanEntry] {
        try statusWithExclusions(workspace: workspace, config: config, process: process).entries
    }

    /// `status`, and the frames registration excluded (known when registration is cached).
    public static func statusWithExclusions(workspace: Workspace, config: TCConfig, process: ProcessDescription = .default)
        throws -> (entries: [PlanEntry], excluded: [ExcludedFrame]) {
        let s = try statusWithSeries(workspace: workspace, config: config, process: process)
        return (s.entries, s.excluded)
    }

    /// `statusWithExclusions`, and the scanned series when the scan is cached (its saturation level
    /// and frame times, which `status` prints).
    public static func statusWithSeries(workspace: Workspace, config: TCConfig, process: ProcessDescription = .default)
        throws -> (entries: [PlanEntry], excluded: [ExcludedFrame], frames: FrameList?) {
        let g = try graphs(workspace: workspace, config: config, process: process)
        let planner = Planner(store: workspace)
        var entries = try planner.plan(g.scan)
        if let main = g.main {
            entries += try planner.plan(main)
        } else {
            entries.append(PlanEntry(node: "(pipeline)", group: "pipeline", state: .pending,
                                     reasons: [.upstreamWillRun([NodeName.scan])], fingerprint: nil))
        }
        return (entries, g.excluded, g.frames)
    }
}
