import Foundation
import Graph

extension PipelineRunner {
    /// Which nodes read each config key: built from the params of a pipeline graph over a stand-in
    /// two-frame series (param key paths mirror config key paths), so it is exactly what explain
    /// shows. Node names are given as patterns (`register/NNNNN`). Keys no node reads map to `[]`.
    public static func configReaders(_ config: TCConfig = TCConfig()) throws -> [String: [String]] {
        var readers: [String: Set<String>] = [:]
        let keys = Set(ConfigLoader.keyPaths())
        for node in try standInNodes(config) {
            let pattern = NodeName.pattern(node.name)
            for (path, _) in node.params.flattened {
                // A param path may sit under a node-specific prefix; match the longest config key suffix.
                if let key = keys.first(where: { path == $0 || path.hasSuffix("." + $0) }) {
                    readers[key, default: []].insert(pattern)
                }
            }
        }
        return Dictionary(uniqueKeysWithValues: keys.map { ($0, readers[$0].map { Array($0).sorted() } ?? []) })
    }

    /// Every node of both stages for `config` over a stand-in two-frame series.
    static func standInNodes(_ config: TCConfig, process: ProcessDescription = .default) throws -> [Node] {
        let frames = FrameList.standIn()
        let builder = try mainBuilder(config: config, frames: frames, workspace: "/workspace", process: process)
        return try Scan.graph(config: config, files: frames.frames.map(\.path)).nodes + builder.nodes
    }

    /// Whether `name` can name a node of the pipeline under `config` (per-frame and per-cluster
    /// nodes by their pattern), known before the scan has produced the frame list.
    public static func isPipelineNode(_ name: String, config: TCConfig, process: ProcessDescription = .default) -> Bool {
        let patterns = Set(((try? standInNodes(config, process: process)) ?? []).map { NodeName.pattern($0.name) })
        return patterns.contains(NodeName.pattern(name))
    }
}
