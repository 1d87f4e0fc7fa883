import ArgumentParser

/// The `tcbuild` command: tile-based quality reconstruction as an incremental build graph.
@main
struct TCBuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcbuild",
        abstract: "Tile-based quality reconstruction of deep-sky image series, as an incremental build graph.",
        subcommands: [Synth.self]
    )
}
