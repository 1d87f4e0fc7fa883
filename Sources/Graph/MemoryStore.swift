import Foundation

/// A `BuildStore` whose manifest lives in memory and whose artifacts live in a directory: for
/// tests of the engine and for dry runs. Same contract as the SQLite store, without persistence
/// across processes.
public final class MemoryStore: BuildStore, @unchecked Sendable {
    private let lock = NSLock()
    private let directory: String
    private var runCache: [Digest: [OutputRecord]] = [:]
    private var history: [String: [ExecutionRecord]] = [:]
    private var fileDigests: [String: Digest] = [:]
    private var counter = 0
    private var stats = StoreCounters()
    /// Nodes recorded as cached, in order (for tests).
    public private(set) var cachedLog: [String] = []

    /// A store keeping artifacts under `directory` (created if needed).
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public var currentRunID: Int64 { 0 }
    public var counters: StoreCounters { lock.withLock { stats } }

    /// Input files are hashed on every call unless `digest(ofFile:)` saw the same path before in this
    /// store's life (content is assumed not to change underneath a MemoryStore).
    public func digest(ofFile path: String) throws -> Digest {
        if let d = lock.withLock({ fileDigests[path] }) { return d }
        let (d, n) = try Digest.ofFile(atPath: path)
        lock.withLock {
            fileDigests[path] = d
            stats.filesHashed += 1
            stats.bytesHashed += n
        }
        return d
    }

    /// Forgets cached file digests (the files changed).
    public func invalidateFiles() { lock.withLock { fileDigests.removeAll() } }

    public func lookup(fingerprint: Digest) throws -> CacheLookup {
        guard let outs = lock.withLock({ runCache[fingerprint] }) else { return .miss }
        let problems = outs.compactMap { o -> ArtifactProblem? in
            FileManager.default.fileExists(atPath: path(of: o.digest)) ? nil
                : ArtifactProblem(output: o.name, digest: o.digest, problem: "missing")
        }
        return problems.isEmpty ? .hit(outs) : .broken(problems)
    }

    public func temporaryPath(for node: String, output: String) throws -> String {
        let n = lock.withLock { counter += 1; return counter }
        return "\(directory)/tmp.\(n)"
    }

    public func commit(temporary path: String) throws -> OutputRecord {
        let (d, size) = try Digest.ofFile(atPath: path)
        let dest = self.path(of: d)
        if FileManager.default.fileExists(atPath: dest) {
            try? FileManager.default.removeItem(atPath: path)
        } else {
            guard rename(path, dest) == 0 else {
                throw GraphError.io(path: dest, message: String(cString: strerror(errno)))
            }
        }
        lock.withLock { stats.artifactsCommitted += 1 }
        return OutputRecord(name: "", digest: d, size: size)
    }

    public func discard(temporary path: String) { try? FileManager.default.removeItem(atPath: path) }

    public func path(of digest: Digest) -> String { "\(directory)/\(digest.hex)" }

    public func record(_ execution: ExecutionRecord) throws {
        lock.withLock {
            runCache[execution.fingerprint] = execution.outputs
            history[execution.node, default: []].insert(execution, at: 0)
        }
    }

    public func recordCached(node: String, fingerprint: Digest) throws {
        lock.withLock { cachedLog.append(node) }
    }

    public func executions(of node: String, limit: Int) throws -> [ExecutionRecord] {
        lock.withLock { Array((history[node] ?? []).prefix(limit)) }
    }

    /// Deletes an artifact file (to simulate loss in tests).
    public func deleteArtifact(_ digest: Digest) { try? FileManager.default.removeItem(atPath: path(of: digest)) }
}
