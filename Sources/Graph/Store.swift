import Foundation

/// One recorded input of an execution: its name, where it came from, and the digest it had.
public struct InputRecord: Sendable, Equatable, Codable {
    /// Input name.
    public let name: String
    /// `InputSource.description` (`node:X#out` or `file:/path`).
    public let source: String
    /// Content digest the node saw.
    public let digest: Digest

    /// A recorded input.
    public init(name: String, source: String, digest: Digest) {
        self.name = name
        self.source = source
        self.digest = digest
    }
}

/// One recorded output of an execution.
public struct OutputRecord: Sendable, Equatable, Codable {
    /// Output name.
    public let name: String
    /// Content digest of the artifact in the store.
    public let digest: Digest
    /// Size in bytes.
    public let size: Int64

    /// A recorded output.
    public init(name: String, digest: Digest, size: Int64) {
        self.name = name
        self.digest = digest
        self.size = size
    }
}

/// Everything the manifest keeps about one execution of a node: enough to answer explain without
/// re-running anything (the parameter values by path and the digest of each input).
public struct ExecutionRecord: Sendable, Equatable {
    /// Node name.
    public let node: String
    /// Node kind.
    public let kind: String
    /// Code version of the kind.
    public let version: Int
    /// The fingerprint it was executed for.
    public let fingerprint: Digest
    /// Parameter values by key path.
    public let params: [String: String]
    /// Inputs by name.
    public let inputs: [InputRecord]
    /// Outputs by name.
    public let outputs: [OutputRecord]
    /// Wall time of the node's code, seconds.
    public let duration: Double
    /// The run that executed it (0 when unknown).
    public let runID: Int64

    /// A record.
    public init(node: String, kind: String, version: Int, fingerprint: Digest, params: [String: String],
                inputs: [InputRecord], outputs: [OutputRecord], duration: Double, runID: Int64) {
        self.node = node
        self.kind = kind
        self.version = version
        self.fingerprint = fingerprint
        self.params = params
        self.inputs = inputs
        self.outputs = outputs
        self.duration = duration
        self.runID = runID
    }
}

/// What a run-cache lookup found for a fingerprint.
public enum CacheLookup: Sendable, Equatable {
    /// Recorded, and every output artifact is present with its recorded size.
    case hit([OutputRecord])
    /// Never recorded.
    case miss
    /// Recorded, but these outputs' artifacts are missing or damaged: the node must rerun.
    case broken([ArtifactProblem])
}

/// An artifact that cannot be used.
public struct ArtifactProblem: Sendable, Equatable, CustomStringConvertible {
    /// Output name.
    public let output: String
    /// Expected digest.
    public let digest: Digest
    /// What is wrong (`missing`, `size 10 != recorded 20`, `content hash mismatch`).
    public let problem: String

    /// A problem.
    public init(output: String, digest: Digest, problem: String) {
        self.output = output
        self.digest = digest
        self.problem = problem
    }

    public var description: String { "output '\(output)' (\(digest.short)): \(problem)" }
}

/// Counters a store keeps for one process, so tests and benches can assert work done.
public struct StoreCounters: Sendable, Equatable {
    /// Input files hashed (stat cache misses).
    public var filesHashed = 0
    /// Bytes of input files hashed.
    public var bytesHashed: Int64 = 0
    /// Artifacts committed.
    public var artifactsCommitted = 0

    /// Zero counters.
    public init() {}
}

/// The storage the engine needs. `Cache.Workspace` implements it over SQLite and a content-addressed
/// object store; `MemoryStore` implements it in memory for tests.
///
/// Guarantees asked of an implementation: `commit` makes the artifact durable and visible under
/// `path(of:)` before it returns; `record` is atomic (an execution is either fully recorded, with
/// all its outputs committed, or not at all); all methods are safe to call from several threads.
public protocol BuildStore: AnyObject, Sendable {
    /// Content digest of an input file, via the stat cache: a file whose (size, mtime, inode) did not
    /// change is not read.
    func digest(ofFile path: String) throws -> Digest
    /// Run-cache lookup for any earlier execution with this fingerprint.
    func lookup(fingerprint: Digest) throws -> CacheLookup
    /// A fresh temporary path inside the store for a node to write an output to.
    func temporaryPath(for node: String, output: String) throws -> String
    /// Moves a temporary file into the store under its content digest.
    func commit(temporary path: String) throws -> OutputRecord
    /// Removes a temporary file that will not be committed.
    func discard(temporary path: String)
    /// Readable path of a stored artifact.
    func path(of digest: Digest) -> String
    /// Records a finished execution (one transaction).
    func record(_ execution: ExecutionRecord) throws
    /// Notes that `node` was satisfied from the cache by `fingerprint` in the current run.
    func recordCached(node: String, fingerprint: Digest) throws
    /// The most recent executions of `node`, newest first.
    func executions(of node: String, limit: Int) throws -> [ExecutionRecord]
    /// The current run's id (0 outside a run).
    var currentRunID: Int64 { get }
    /// Work counters since the store was opened.
    var counters: StoreCounters { get }
    /// Waits until every execution passed to `record` is durably recorded (a store may record in the
    /// background); the engine calls it before a run returns. Throws what recording failed with.
    func settle() throws
}

extension BuildStore {
    /// Records synchronously: nothing to wait for.
    public func settle() throws {}
}
