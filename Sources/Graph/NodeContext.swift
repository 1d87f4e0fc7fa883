import Foundation

/// What a running node may see: its parameters, the paths of its inputs, and where to write its
/// outputs. Outputs are written to temporary files that the engine commits to the store after the
/// node returns; a node never writes into the store or the workspace directly.
public final class NodeContext: @unchecked Sendable {
    /// The node's name.
    public let name: String
    /// How many threads data-parallel kernels inside the node may use.
    public let threads: Int
    /// The node's fingerprint in this execution (kind, version, params, input digests): the same
    /// computation has the same fingerprint on every run, so work keyed by it (tile tasks' `run_id`)
    /// is shared by every run that computes the same thing.
    public let fingerprint: Digest
    private let paramSet: ParamSet
    private let inputPaths: [String: String]
    private let inputDigests: [String: Digest]
    private let outputPaths: [String: String]
    private let logger: @Sendable (String) -> Void

    init(name: String, threads: Int, fingerprint: Digest, params: ParamSet, inputPaths: [String: String],
         inputDigests: [String: Digest], outputPaths: [String: String], logger: @escaping @Sendable (String) -> Void) {
        self.name = name
        self.threads = threads
        self.fingerprint = fingerprint
        self.paramSet = params
        self.inputPaths = inputPaths
        self.inputDigests = inputDigests
        self.outputPaths = outputPaths
        self.logger = logger
    }

    /// Decodes the node's parameters.
    public func params<P: Decodable>(_ type: P.Type) throws -> P { try paramSet.decode(P.self) }

    /// Names of all inputs, sorted.
    public var inputNames: [String] { inputPaths.keys.sorted() }

    /// The readable path of input `name` (a store blob or the original file). Reading it is the only
    /// way a node sees upstream data.
    public func input(_ name: String) throws -> String {
        guard let p = inputPaths[name] else {
            throw GraphError.nodeFailed(node: self.name, message: "reads undeclared input '\(name)'")
        }
        return p
    }

    /// The content digest of input `name` (what its fingerprint used): lets a node name its inputs
    /// by digest, e.g. in tile tasks that other processes resolve in the shared store.
    public func inputDigest(_ name: String) throws -> Digest {
        guard let d = inputDigests[name] else {
            throw GraphError.nodeFailed(node: self.name, message: "reads undeclared input '\(name)'")
        }
        return d
    }

    /// Reads input `name` fully.
    public func inputData(_ name: String) throws -> Data {
        let path = try input(name)
        guard let d = FileManager.default.contents(atPath: path) else {
            throw GraphError.io(path: path, message: "cannot read input '\(name)' of node '\(self.name)'")
        }
        return d
    }

    /// The temporary path to write output `name` to. The file must exist when the node returns.
    public func output(_ name: String) throws -> String {
        guard let p = outputPaths[name] else {
            throw GraphError.nodeFailed(node: self.name, message: "writes undeclared output '\(name)'")
        }
        return p
    }

    /// Writes output `name` in one piece.
    public func writeOutput(_ name: String, _ data: Data) throws {
        let path = try output(name)
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw GraphError.io(path: path, message: "cannot write output '\(name)': \(error.localizedDescription)")
        }
    }

    /// Adds a line to the run log under this node.
    public func log(_ message: String) { logger(message) }
}
