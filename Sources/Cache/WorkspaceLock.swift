import Foundation

/// One writer per workspace: an exclusive `flock` on `.tcbuild/lock`, which also holds the owner's PID.
///
/// Liveness: the kernel drops a `flock` when its process dies, so a lock left by a killed process is
/// taken over at once; the PID in the file only serves the message. If the lock is busy but the PID
/// written in it is no longer alive (a lock on a filesystem that ignores flock across hosts, or a
/// PID reused), the message still names it and says it looks dead.
public final class WorkspaceLock: @unchecked Sendable {
    private var fd: Int32
    private let mutex = NSLock()
    /// The lock file path.
    public let path: String

    /// Takes the lock or throws `CacheError.locked` naming the holder's PID.
    public init(path: String, workspace: String) throws {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CacheError.io(path: path, message: "cannot open lock file: \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = WorkspaceLock.readPID(fd)
            close(fd)
            throw CacheError.locked(workspace: workspace, pid: holder)
        }
        self.fd = fd
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { release() }

    /// Releases the lock (idempotent).
    public func release() {
        mutex.withLock {
            guard fd >= 0 else { return }
            _ = ftruncate(fd, 0)
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    /// Whether process `pid` is alive.
    public static func isAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// The PID written in the lock file at `path` (nil when there is none: free, or released cleanly).
    public static func holder(path: String) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let pid = readPID(fd)
        return pid > 0 ? pid : nil
    }

    private static func readPID(_ fd: Int32) -> Int32 {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, 31, 0)
        guard n > 0 else { return 0 }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
