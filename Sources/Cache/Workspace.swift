import Foundation
import Graph

/// A tcbuild workspace: `ROOT/.tcbuild/` holds the manifest, the object store, the lock and the
/// run logs. Implements `BuildStore` for the engine.
///
/// Opening for writing takes the lock and sweeps what a killed run may have left: temporary files,
/// and runs still marked running (now `interrupted`). Blob rows whose file is missing are counted,
/// never dropped silently: lookups report them (those nodes rerun) and `verify` names them.
/// A manifest that fails its integrity check is moved aside and rebuilt (see `ManifestRecovery`).
public final class Workspace: BuildStore, @unchecked Sendable {
    /// The workspace directory (where human-facing outputs are materialized).
    public let root: String
    /// `ROOT/.tcbuild`.
    public let stateDir: String
    /// The manifest.
    public let manifest: Manifest
    let objects: ObjectStore
    private let workspaceLock: WorkspaceLock?
    private let lock = NSLock()
    private var statCache: [String: StatEntry] = [:]
    private var dirtyStats: [(String, StatEntry)] = []
    private var cachedRows: [(node: String, fingerprint: Digest, state: String)] = []
    /// Nodes recorded (executed or cached) in the current run: a node resolved again by a later stage
    /// of the same run (the main graph replays the registration stage's nodes) is recorded once.
    private var recordedInRun: Set<String> = []
    private var stats = StoreCounters()
    private var runID: Int64 = 0
    /// What the startup sweep found: temporary files removed, recorded artifacts whose file is
    /// missing (kept recorded: `verify` reports them, their nodes rerun), runs marked interrupted.
    public private(set) var swept = (temporaries: 0, missingBlobs: 0, interruptedRuns: 0)
    /// Finished executions on their way into the manifest (group commit, off the worker threads).
    private let commits: ExecutionQueue
    /// Set when the manifest was damaged and has been moved aside and rebuilt by this opening.
    public private(set) var recovery: ManifestRecovery?
    /// False when the workspace has no manifest yet (read-only opening before the first run: an
    /// empty manifest in memory stands in, so every node reads as never executed).
    public let hasManifest: Bool

    /// The manifest file of the workspace at `root`.
    public static func manifestPath(root: String) -> String { (root as NSString).standardizingPath + "/.tcbuild/manifest.sqlite" }

    /// Opens (creating) the workspace at `root`. `writable` takes the lock and sweeps; a damaged
    /// manifest is then moved aside and rebuilt (`recovery` says so). Read-only opening (status,
    /// explain, ls) takes no lock, changes and creates nothing, works on read-only storage, and
    /// throws `CacheError.manifestDamaged` for a damaged manifest. `durable: false` skips fsync
    /// (tests only).
    public init(root: String, writable: Bool = true, durable: Bool = true) throws {
        self.root = (root as NSString).standardizingPath
        stateDir = self.root + "/.tcbuild"
        let manifestPath = stateDir + "/manifest.sqlite"
        if writable {
            do { try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true) } catch {
                throw CacheError.io(path: stateDir, message: "cannot create workspace state: \(error.localizedDescription)")
            }
            workspaceLock = try WorkspaceLock(path: stateDir + "/lock", workspace: self.root)
            objects = try ObjectStore(root: stateDir + "/objects", durable: durable)
            hasManifest = true
            var st = stat()
            let emptyFile = stat(manifestPath, &st) == 0 && st.st_size == 0
            do {
                manifest = try Manifest(path: manifestPath)
                if emptyFile && !objects.allArtifacts().isEmpty {  // emptied, not a new workspace killed while creating it
                    recovery = ManifestRecovery(movedTo: "(nothing moved: the file was empty)", detail: "the file is empty", adopted: 0, dropped: 0)
                }
            } catch CacheError.manifestDamaged(_, let detail) {
                let (fresh, recovery) = try Workspace.recover(manifestPath, detail: detail, objects: objects)
                manifest = fresh
                self.recovery = recovery
            }
        } else {
            workspaceLock = nil
            objects = try ObjectStore(root: stateDir + "/objects", durable: durable, create: false)
            hasManifest = FileManager.default.fileExists(atPath: manifestPath)
            manifest = try Manifest(path: hasManifest ? manifestPath : ":memory:", readOnly: hasManifest)
        }
        let objects = self.objects, manifest = self.manifest
        commits = ExecutionQueue(sync: { batch in try objects.makeDurable(batch.flatMap { $0.outputs.map(\.digest) }) },
                                 write: { batch in try manifest.record(batch) })
        statCache = try manifest.loadStatCache()
        if writable { try sweep() }
    }

    deinit { try? commits.drain() }

    /// Flushes buffered rows and releases the workspace lock. The workspace must not be used for
    /// writing afterwards. Also happens on deinit; call it where the lock must go at a known point.
    public func close() throws {
        defer { workspaceLock?.release() }
        if workspaceLock != nil { try flush() }
    }

    /// Removes temporary files, marks runs left `running` by a killed process `interrupted` (this
    /// process holds the lock, so none is alive), and counts recorded artifacts whose file is gone.
    /// Those stay recorded on purpose: a lookup reports them as missing (the node reruns, and
    /// `status`/`explain` say why), `verify` names them; nothing is forgotten silently.
    private func sweep() throws {
        let temporaries = objects.sweepTemporaries()
        var missing = 0
        for row in try manifest.select("SELECT digest FROM blobs") {
            if Digest(hex: row[0].text).map({ objects.fileSize(objects.path(of: $0)) == nil }) ?? true { missing += 1 }
        }
        swept = (temporaries, missing, try manifest.markInterrupted())
    }

    // MARK: runs

    /// Starts a run: a row in `runs` with the effective configuration (JSON) and where it came from;
    /// executions recorded from now on belong to it.
    public func beginRun(jobs: Int, command: String, config: String = "", configSource: String = "") throws -> Int64 {
        let id = try manifest.beginRun(jobs: jobs, command: command, config: config, configSource: configSource)
        lock.withLock { runID = id; recordedInRun.removeAll() }
        return id
    }

    /// Ends the current run: flushes cached-node rows and the stat cache, stores the counts.
    public func finishRun(status: RunStatus, report: RunReport) throws {
        try flush()
        try manifest.finishRun(currentRunID, status: status, executed: report.executed.count, cached: report.cached.count,
                               failed: report.failed.count, seconds: report.seconds)
    }

    /// Writes the queued executions, buffered stat-cache and run-node rows.
    public func flush() throws {
        try commits.drain()
        let (rows, entries, id) = lock.withLock { () -> ([(node: String, fingerprint: Digest, state: String)], [(String, StatEntry)], Int64) in
            defer { cachedRows.removeAll(); dirtyStats.removeAll() }
            return (cachedRows, dirtyStats, runID)
        }
        try manifest.addRunNodes(id, rows)
        try manifest.saveStatEntries(entries)
    }

    // MARK: BuildStore

    public var currentRunID: Int64 { lock.withLock { runID } }
    public var counters: StoreCounters { lock.withLock { stats } }

    public func digest(ofFile path: String) throws -> Digest {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw CacheError.io(path: path, message: "input file is missing or unreadable: \(String(cString: strerror(errno)))")
        }
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let key = StatEntry(size: Int64(st.st_size), mtimeNs: mtime, inode: Int64(st.st_ino), digest: Digest(high: 0, low: 0))
        if let hit = lock.withLock({ statCache[path] }), hit.size == key.size, hit.mtimeNs == key.mtimeNs, hit.inode == key.inode {
            return hit.digest
        }
        let (digest, bytes) = try Digest.ofFile(atPath: path)
        let entry = StatEntry(size: key.size, mtimeNs: mtime, inode: key.inode, digest: digest)
        lock.withLock {
            statCache[path] = entry
            dirtyStats.append((path, entry))
            stats.filesHashed += 1
            stats.bytesHashed += bytes
        }
        return digest
    }

    public func lookup(fingerprint: Digest) throws -> CacheLookup {
        if let queued = commits.outputs(of: fingerprint) { return .hit(queued) }
        let outputs: [OutputRecord]
        switch try manifest.cachedOutputs(fingerprint) {
        case .none: return .miss
        case .damaged(let problem): return .broken([ArtifactProblem(output: "(manifest row)", digest: fingerprint, problem: problem)])
        case .outputs(let outs): outputs = outs
        }
        var problems: [ArtifactProblem] = []
        for o in outputs {
            switch objects.fileSize(objects.path(of: o.digest)) {
            case nil: problems.append(ArtifactProblem(output: o.name, digest: o.digest, problem: "missing from the store"))
            case let s? where s != o.size:
                problems.append(ArtifactProblem(output: o.name, digest: o.digest, problem: "size \(s) != recorded \(o.size) (truncated or modified)"))
            default: break
            }
        }
        return problems.isEmpty ? .hit(outputs) : .broken(problems)
    }

    public func temporaryPath(for node: String, output: String) throws -> String { objects.temporaryPath() }

    public func commit(temporary path: String) throws -> OutputRecord {
        let (d, size) = try objects.commit(temporary: path, sync: false)  // made durable by `commits` before its row
        lock.withLock { stats.artifactsCommitted += 1 }
        return OutputRecord(name: "", digest: d, size: size)
    }

    public func discard(temporary path: String) { unlink(path) }

    public func path(of digest: Digest) -> String { objects.path(of: digest) }

    public func record(_ execution: ExecutionRecord) throws {
        lock.withLock { _ = recordedInRun.insert(execution.node) }
        try commits.enqueue(execution)
    }

    public func recordCached(node: String, fingerprint: Digest) throws {
        let pending = lock.withLock { () -> Int? in
            guard recordedInRun.insert(node).inserted else { return nil }
            cachedRows.append((node, fingerprint, "cached"))
            return cachedRows.count
        }
        if let pending, pending >= 1024 { try flush() }
    }

    public func settle() throws { try commits.drain() }

    public func executions(of node: String, limit: Int) throws -> [ExecutionRecord] {
        try commits.drain()
        return try manifest.executions(of: node, limit: limit)
    }

    // MARK: materialization

    /// Makes an artifact visible at a human-facing path (relative paths are under `root`): a hard
    /// link when possible, else a copy; replaces what was there atomically.
    @discardableResult
    public func materialize(_ digest: Digest, at relativePath: String) throws -> String {
        let dest = relativePath.hasPrefix("/") ? relativePath : root + "/" + relativePath
        let dir = (dest as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let temp = dir + "/.tcbuild-tmp.\(getpid()).\((dest as NSString).lastPathComponent)"
        unlink(temp)
        let source = path(of: digest)
        if link(source, temp) != 0 {
            do { try FileManager.default.copyItem(atPath: source, toPath: temp) } catch {
                throw CacheError.io(path: dest, message: "cannot materialize artifact \(digest.short): \(error.localizedDescription)")
            }
        }
        guard rename(temp, dest) == 0 else {
            unlink(temp)
            throw CacheError.io(path: dest, message: "cannot materialize: \(String(cString: strerror(errno)))")
        }
        return dest
    }
}
