/// Errors of the engine. Each says what is wrong and what happens next.
public enum GraphError: Error, CustomStringConvertible, Equatable {
    /// Two nodes share a name.
    case duplicateNode(String)
    /// A node names an input node that is not in the graph.
    case unknownInput(node: String, input: String, upstream: String)
    /// A node names an output its upstream does not declare.
    case unknownOutput(node: String, upstream: String, output: String)
    /// The graph has a cycle through these nodes.
    case cycle([String])
    /// A node finished without writing a declared output.
    case missingOutput(node: String, output: String)
    /// A node's own code failed.
    case nodeFailed(node: String, message: String)
    /// A file could not be read or written.
    case io(path: String, message: String)
    /// The run stopped because nodes failed; they are listed, everything else that finished is recorded.
    case runFailed(failed: [String])
    /// `--until` or `explain` named a node that does not exist.
    case noSuchNode(String, suggestion: String?)

    public var description: String {
        switch self {
        case .duplicateNode(let n): return "two nodes are named '\(n)'; node names must be unique"
        case .unknownInput(let n, let i, let u): return "node '\(n)' input '\(i)' refers to unknown node '\(u)'"
        case .unknownOutput(let n, let u, let o): return "node '\(n)' reads output '\(o)' of '\(u)', which declares no such output"
        case .cycle(let ns): return "the graph has a cycle: \(ns.joined(separator: " -> "))"
        case .missingOutput(let n, let o): return "node '\(n)' finished without writing its output '\(o)'"
        case .nodeFailed(let n, let m): return "node '\(n)' failed: \(m)"
        case .io(let p, let m): return "\(p): \(m)"
        case .runFailed(let f):
            return "run failed: \(f.count) node(s) failed (\(f.prefix(5).joined(separator: ", "))\(f.count > 5 ? ", ..." : "")); "
                + "everything that finished is recorded and will not rerun"
        case .noSuchNode(let n, let s):
            return "no node named '\(n)'" + (s.map { "; did you mean '\($0)'?" } ?? "")
        }
    }
}
