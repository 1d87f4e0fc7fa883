import Foundation
import Graph

extension PipelineRunner {
    /// Which nodes read each config key: built from the params of a pipeline graph over a stand-in
    /// two-frame series (param key paths mirror config key paths), so it is exactly what explain
    /// shows. Node names are given as patterns (`register/NNNNN`). Keys no node reads map to `[]`.
    public static func configReaders(_ config: TCConfig = TCConfig()) throws -> [String: [String]] {
        let frames = FrameList.standIn()
        let builder = try mainBuilder(config: config, frames: frames, workspace: "/workspace")
        var readers: [String: Set<String>] = [:]
        let keys = Set(ConfigLoader.keyPaths())
        for node in try Scan.graph(config: config, files: frames.frames.map(\.path)).nodes + builder.nodes {
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
}
