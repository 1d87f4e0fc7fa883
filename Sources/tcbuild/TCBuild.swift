import ArgumentParser
import Foundation

/// The `tcbuild` command: tile-based quality reconstruction as an incremental build graph.
@main
struct TCBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcbuild",
        abstract: "Tile-based quality reconstruction of deep-sky image series, as an incremental build graph.",
        subcommands: [Demo.self, Init.self, Run.self, Status.self, Explain.self, List.self, Show.self, Export.self, Log.self, GC.self, Verify.self, GraphCommand.self, Synth.self, WorkerCommand.self, Toy.self, Tiles.self, PipelineDocCommand.self]
    )

    /// Parses, runs, and maps errors to exit statuses (see `ExitStatus`). tcbuild's own errors print
    /// as `error: <message>`; ArgumentParser's (help, usage) keep their own handling.
    static func main() {
        MallocTuning.apply()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if let code = ExitStatus.code(for: error) {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                Foundation.exit(code)
            }
            // ArgumentParser's usage errors exit 64 by default; tcbuild promises 2 for usage errors.
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
