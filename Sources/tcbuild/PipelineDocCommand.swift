import ArgumentParser
import Steps

/// `tcbuild _pipeline-doc` (hidden): prints docs/pipeline.md as the step list generates it.
struct PipelineDocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_pipeline-doc", abstract: "Print docs/pipeline.md generated from the step list.", shouldDisplay: false)

    func run() throws { print(try PipelineDoc.markdown(), terminator: "") }
}
