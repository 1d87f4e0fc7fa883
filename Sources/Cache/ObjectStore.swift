import Foundation
import Graph

/// The content-addressed artifact files: `objects/ab/abcdef...` named by XXH3-128 digest.
///
/// Commit protocol (crash-safe): a node writes `objects/tmp.<pid>.<n>`; `commit` hashes it, fsyncs
/// it, renames it to its digest path (atomic within the directory tree of one filesystem) and fsyncs
/// the directory. Only after that is the manifest row written, so a manifest row never points at a
/// partial file; a kill leaves at most a `tmp.*` file, which the startup sweep removes. The workspace
/// commits with `sync: false` and makes the files durable later with `makeDurable`, off the worker
/// threads but still before their manifest rows (`ExecutionQueue`).
final class ObjectStore: @unchecked Sendable {
    let root: String
    let durable: Bool
    private let lock = NSLock()
    private var counter = 0

    /// The store at `root`, created unless `create` is false (read-only opening creates nothing).
    init(root: String, durable: Bool, create: Bool = true) throws {
        self.root = root
        self.durable = durable
        if create { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
    }

    func path(of digest: Digest) -> String {
        let hex = digest.hex
        return "\(root)/\(hex.prefix(2))/\(hex)"
    }

    func temporaryPath() -> String {
        let n = lock.withLock { counter += 1; return counter }
        return "\(root)/tmp.\(getpid()).\(n)"
    }

    /// Hashes, syncs and renames a temporary file into place; returns its digest and size. With
    /// `sync: false` the fsyncs are left to a later `makeDurable` of the digest.
    func commit(temporary path: String, sync: Bool = true) throws -> (Digest, Int64) {
        let (digest, size) = try Digest.ofFile(atPath: path)
        if durable && sync { try fsyncPath(path) }
        let dest = self.path(of: digest)
        let dir = (dest as NSString).deletingLastPathComponent
        // A file already at `dest` is replaced, not trusted: it may be a damaged copy (same size,
        // other bytes) of what was just computed; rename over it is atomic and costs no read.
        chmod(path, 0o444)  // artifacts are immutable; a hard-linked materialization is read-only too
        var moved = rename(path, dest) == 0
        if !moved && errno == ENOENT {  // first artifact of this fan-out directory
            mkdir(dir, 0o755)
            moved = rename(path, dest) == 0
        }
        guard moved else {
            throw CacheError.io(path: dest, message: "cannot move artifact into the store: \(String(cString: strerror(errno)))")
        }
        if durable && sync { try fsyncPath(dir) }
        return (digest, size)
    }

    /// Fsyncs the artifact files of `digests` and their directories, each once, files first (no-op
    /// when not durable).
    func makeDurable(_ digests: [Digest]) throws {
        guard durable else { return }
        var files = Set<Digest>(), dirs = Set<String>()
        for d in digests where files.insert(d).inserted {
            let p = path(of: d)
            try fsyncPath(p)
            dirs.insert((p as NSString).deletingLastPathComponent)
        }
        for dir in dirs { try fsyncPath(dir) }
    }

    /// Size of a file, or nil if it does not exist.
    func fileSize(_ path: String) -> Int64? {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : nil
    }

    /// Every artifact file in the store (`objects/ab/<digest>`), by digest, with its size.
    func allArtifacts() -> [(Digest, Int64)] {
        let fm = FileManager.default
        var result: [(Digest, Int64)] = []
        for dir in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where dir.utf8.count == 2 {
            for name in (try? fm.contentsOfDirectory(atPath: root + "/" + dir)) ?? [] {
                guard let d = Digest(hex: name), name.hasPrefix(dir), let size = fileSize(root + "/" + dir + "/" + name) else { continue }
                result.append((d, size))
            }
        }
        return result
    }

    /// Removes leftover temporary files (from killed runs). Returns how many.
    func sweepTemporaries() -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return 0 }
        var n = 0
        for name in names where name.hasPrefix("tmp.") {
            if unlink("\(root)/\(name)") == 0 { n += 1 }
        }
        return n
    }

    private func fsyncPath(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CacheError.io(path: path, message: "cannot open for fsync: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CacheError.io(path: path, message: "fsync failed: \(String(cString: strerror(errno)))") }
    }
}
