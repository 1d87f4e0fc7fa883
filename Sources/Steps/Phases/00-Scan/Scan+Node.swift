import Foundation
import Graph

/// The scan step (phase 0): `inspect/NNNNN` per input file and the `scan` aggregate. It runs as its
/// own stage before the main graph exists (the main graph is built from its frame list).
public struct ScanStep: PipelineStep {
    public var name: String { NodeName.scan }
    public var summary: String { "inspect every input frame, validate the series, write the frame list" }
    public var prerequisites: [String] { [] }
    public var configSections: [String] { ["data"] }
    public var nodes: [String] { [NodeName.pattern(NodeName.inspect(0)), NodeName.scan] }
    public var stage: StepStage { .scan }
    /// The scan graph is built by `Scan.graph`, before the frame list exists: nothing to add here.
    public func add(to builder: inout PipelineBuilder) throws {}
}

extension Scan {
    /// Code version of `inspect/NNNNN` (4: the census samples at most 2^16 pixels, `Scan.censusSamples`, was 2^18).
    static let inspectVersion = 4

    /// The scan stage: one `inspect/NNNNN` per file and the `scan` aggregate.
    public static func graph(config: TCConfig, files: [String]) throws -> BuildGraph {
        var nodes: [Node] = []
        var inputs: [String: InputSource] = [:]
        for (i, path) in files.enumerated() {
            let name = NodeName.inspect(i)
            nodes.append(Node(name: name, kind: "inspect", version: inspectVersion, params: EmptyParams(),
                              inputs: ["frame": .file(path)], outputs: ["info"]) { ctx in
                let path = try ctx.input("frame")
                let info: Inspection
                do { info = try inspect(path) } catch StepError.unreadable(_, let message) {
                    info = Inspection(properties: FrameProperties(width: 0, height: 0, channels: 0, bitpix: 0),
                                      nonfiniteFraction: 0, backgroundPosition: 0, unreadable: message)
                }
                try Artifacts.writeJSON(info, ctx, "info")
            })
            inputs[String(format: "f%05d", i)] = .node(name, output: "info")
        }
        let params = ScanParams(names: files.map { ($0 as NSString).lastPathComponent }, paths: files,
                                maxExposureSpreadPercent: config.data.maxExposureSpreadPercent,
                                maxNonfiniteFraction: config.data.maxNonfiniteFraction,
                                maxBackgroundPosition: stretchThreshold, saturationLevel: config.data.saturationLevel)
        nodes.append(Node(name: NodeName.scan, kind: "scan", version: 3, params: params, inputs: inputs, outputs: ["frames"]) { ctx in
            let p = try ctx.params(ScanParams.self)
            let infos = try ctx.inputNames.map { try Artifacts.readJSON(Inspection.self, ctx, $0) }
            try Artifacts.writeJSON(try validate(infos, params: p), ctx, "frames")
        })
        return try BuildGraph(nodes)
    }

}
