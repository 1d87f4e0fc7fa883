import ArgumentParser

/// `tcbuild synth`: placeholder until the synthetic series generator lands.
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate a synthetic test series with known truth.")
    func run() throws { throw ValidationError("synth is not implemented yet") }
}
