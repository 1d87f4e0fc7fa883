import Foundation
import Graph

/// Lock-free access to a workspace's content-addressed objects, for processes that are not the
/// workspace's writer: tile workers (possibly on other machines, over a shared filesystem) read
/// inputs by digest and add their results, while the master holds the workspace lock.
///
/// Writes use the store's commit protocol (temporary file, fsync, atomic rename into
/// `objects/ab/<digest>`), so a reader never sees a partial artifact. Temporary names carry a UUID
/// rather than the PID, because PIDs of different machines collide on a shared filesystem. Nothing
/// here touches the SQLite manifest: only the master records executions.
public final class ArtifactStore: @unchecked Sendable {
    /// The workspace directory.
    public let root: String
    /// `ROOT/.tcbuild`.
    public let stateDir: String
    let objects: ObjectStore

    /// Opens the object store of the workspace at `root`, creating `.tcbuild/objects` if needed.
    /// Takes no lock. `durable: false` skips fsync (tests only).
    public init(workspace root: String, durable: Bool = true) throws {
        self.root = (root as NSString).standardizingPath
        stateDir = self.root + "/.tcbuild"
        do {
            objects = try ObjectStore(root: stateDir + "/objects", durable: durable)
        } catch {
            throw CacheError.io(path: stateDir + "/objects", message: "cannot open the object store: \(error)")
        }
    }

    /// Where the artifact with this digest lives (whether or not it exists).
    public func path(of digest: Digest) -> String { objects.path(of: digest) }

    /// True when the artifact file exists.
    public func contains(_ digest: Digest) -> Bool { objects.fileSize(objects.path(of: digest)) != nil }

    /// A fresh temporary path inside the store (same filesystem, so the commit rename is atomic).
    public func temporaryPath() -> String { "\(objects.root)/tmp.\(UUID().uuidString.lowercased())" }

    /// Moves a finished temporary file into the store; returns its digest and size.
    public func commit(temporary path: String) throws -> (digest: Digest, size: Int64) {
        let (d, s) = try objects.commit(temporary: path)
        return (d, s)
    }

    /// Writes bytes as an artifact (temporary file, then commit); returns the digest.
    public func write(_ bytes: [UInt8]) throws -> Digest {
        let temp = temporaryPath()
        try Self.writeFile(temp, bytes)
        do { return try commit(temporary: temp).digest } catch { unlink(temp); throw error }
    }

    /// Creates `path` (which must not exist) holding `bytes`, with plain POSIX calls: no fsync
    /// (the commit decides about durability) and no hidden temporary file.
    public static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CacheError.io(path: path, message: "cannot create: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let message = String(cString: strerror(errno))
                unlink(path)
                throw CacheError.io(path: path, message: "cannot write: \(message)")
            }
            offset += n
        }
    }

    /// Reads a whole artifact. Throws `CacheError.io` naming the digest and path when it is missing.
    public func read(_ digest: Digest) throws -> [UInt8] {
        let p = path(of: digest)
        guard let data = FileManager.default.contents(atPath: p) else {
            throw CacheError.io(path: p, message: "artifact \(digest.short) is missing from the store (is this the shared workspace?)")
        }
        return [UInt8](data)
    }
}
