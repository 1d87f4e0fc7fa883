import CCrypto
import Cache
import Foundation
import Graph

/// Verification of a result artifact that another machine wrote into the shared store: one read of
/// the file computes both its content address (XXH3-128) and its SHA-256 checksum.
public enum ArtifactChecksum {
    /// `sha256:<hex>` and the XXH3-128 digest of a file. Throws `ExecutorError.badMessage` when the
    /// file cannot be read.
    public static func of(path: String) throws -> (checksum: String, digest: Digest) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ExecutorError.badMessage("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let ctx = tcb_sha256_new() else { throw ExecutorError.badMessage("libcrypto: cannot create a SHA-256 context") }
        var hasher = ContentHasher()
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                var sink = [UInt8](repeating: 0, count: 32)
                _ = tcb_sha256_final(ctx, &sink)
                throw ExecutorError.badMessage("\(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            _ = tcb_sha256_update(ctx, buffer, n)
            hasher.update(UnsafeRawBufferPointer(start: buffer, count: n))
        }
        var out = [UInt8](repeating: 0, count: 32)
        guard tcb_sha256_final(ctx, &out) == 1 else { throw ExecutorError.badMessage("libcrypto: SHA-256 failed") }
        return ("sha256:" + SHA256.hexString(out), hasher.finalize())
    }

    /// Checks that the artifact `ref` exists in `store`, that its bytes hash to `ref` (nothing
    /// truncated or replaced it) and to `checksum`. Returns nil when it verifies, else the reason.
    public static func problem(ref: Digest, checksum: String?, in store: ArtifactStore) -> String? {
        let path = store.path(of: ref)
        guard store.contains(ref) else { return "missing from the shared store at \(path)" }
        guard let (sum, digest) = try? of(path: path) else { return "unreadable at \(path)" }
        if digest != ref { return "content digest \(digest.short) does not match its name (damaged artifact)" }
        if let checksum, checksum != sum { return "checksum \(sum) != reported \(checksum)" }
        if checksum == nil { return "no checksum reported" }
        return nil
    }
}
