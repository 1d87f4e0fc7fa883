/// A problem in `tile_compile.proc`. Every message names the file and line, what is wrong and the
/// valid choices; the CLI maps it to exit status 2.
public struct ProcessError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of problem.
    public enum Kind: String, Sendable {
        case unknownDirective = "unknown directive"
        case unknownStep = "unknown step"
        case missingPrerequisite = "missing prerequisite"
        case unknownDirectory = "unknown directory key"
        case badArgument = "bad argument"
        case malformed = "malformed line"
    }
    /// The process file as named to the parser.
    public let file: String
    /// 1-based line (0 when the problem is the file as a whole).
    public let line: Int
    /// What kind of problem.
    public let kind: Kind
    /// What is wrong and what to write instead.
    public let message: String

    public var description: String {
        "\(file)\(line > 0 ? ":\(line)" : ""): \(message)"
    }
}
