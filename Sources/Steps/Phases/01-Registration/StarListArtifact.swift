import Foundation
import Graph
import Imaging

/// The star-list artifacts of `stars/NNNNN` (`stars`, `field`) as nodes write and read them:
/// `StarListBinary` (exact Float64 values, ~100x cheaper than the JSON list it replaced, which cost
/// ~14 M instructions to write and ~10 M to read per 300-star frame, and `reference` reads every
/// frame's). `tcbuild export` writes such a list as JSON.
enum StarListArtifact {
    /// Writes `stars` to output `name`.
    static func write(_ stars: [StarMeasurement], _ ctx: NodeContext, _ name: String) throws {
        try ctx.writeOutput(name, StarListBinary.encode(stars))
    }

    /// The star list of input `name`.
    /// - Throws: `StepError.badArtifact` when the input is not a binary star list.
    static func read(_ ctx: NodeContext, _ name: String) throws -> [StarMeasurement] {
        guard let stars = StarListBinary.decode(try ctx.inputData(name)) else {
            throw StepError.badArtifact(node: ctx.name, message: "input '\(name)' is not a binary star list (StarListBinary); "
                                        + "the workspace may come from another tcbuild version: rerun")
        }
        return stars
    }
}
