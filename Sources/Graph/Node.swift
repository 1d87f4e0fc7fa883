/// Where a node input comes from: a named output of another node, or a file on disk.
/// Only the content digest of the source takes part in the fingerprint, never the path.
public enum InputSource: Sendable, Hashable, CustomStringConvertible {
    /// Output `output` of node `node`.
    case node(String, output: String)
    /// A file outside the store (an input frame); hashed through the stat cache.
    case file(String)

    /// `node:register/00017#frame` or `file:/data/f1.fits`: how the manifest records the source.
    public var description: String {
        switch self {
        case .node(let n, let o): return "node:\(n)#\(o)"
        case .file(let p): return "file:\(p)"
        }
    }

    /// The upstream node name, if this input is another node's output.
    public var upstream: String? {
        if case .node(let n, _) = self { return n }
        return nil
    }
}

/// One named input of a node.
public struct NodeInput: Sendable, Hashable {
    /// The name the node's code reads it by; part of the fingerprint.
    public let name: String
    /// Where it comes from; only its content digest enters the fingerprint.
    public let source: InputSource

    /// A named input.
    public init(_ name: String, _ source: InputSource) {
        self.name = name
        self.source = source
    }
}

/// The code a node runs. It may read only its context: parameters, inputs and output paths.
public typealias NodeAction = @Sendable (NodeContext) throws -> Void

/// A node of the build graph.
///
/// Identity: `name` is stable across runs (it keys explain and the run log). The fingerprint is
/// XXH3-128 over `kind`, `version`, the canonical `params` and the content digests of `inputs`
/// (by input name): nothing else, so renaming a file or rerunning an upstream that produced the
/// same bytes does not invalidate the node.
public struct Node: Sendable {
    /// Stable name, e.g. `register/00017`, `tiles/metrics`, `stack`.
    public let name: String
    /// What the node computes, e.g. `register.relative`.
    public let kind: String
    /// Code version of `kind`: bump it when the algorithm changes.
    public let version: Int
    /// The only configuration the node can read.
    public let params: ParamSet
    /// Inputs sorted by name (names are unique).
    public let inputs: NodeInputs
    /// Declared output names; each must be written by `action`.
    public let outputs: [String]
    /// Display group (phase), by default the name up to its first `/`.
    public let group: String
    /// The node's code.
    public let action: NodeAction

    /// A node. `inputs` keys are the input names; with `sharing`, the node also reads every input of
    /// that list, which it shares with the other nodes built with it (no copy per node).
    public init<P: Encodable>(name: String, kind: String, version: Int, params: P,
                              inputs: [String: InputSource] = [:], sharing: NodeInputs? = nil, outputs: [String],
                              group: String? = nil, action: @escaping NodeAction) {
        self.name = name
        self.kind = kind
        self.version = version
        self.params = ParamSet(params)
        self.inputs = sharing.map { NodeInputs(inputs, sharing: $0) } ?? NodeInputs(inputs)
        self.outputs = outputs
        self.group = group ?? String(name.split(separator: "/", maxSplits: 1).first ?? Substring(name))
        self.action = action
    }

    /// Names of the nodes this node reads from (deduplicated, sorted).
    public var upstreams: [String] {
        Array(Set(inputs.compactMap { $0.source.upstream })).sorted()
    }
}
