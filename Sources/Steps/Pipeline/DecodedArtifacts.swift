import Foundation
import Graph

/// A small per-process cache of decoded artifacts by digest, for tile tasks: the many tasks of one
/// node that a process runs (local threads or one worker) share one decoded plan, `weights` and
/// `masks` instead of decoding them once per tile. Artifacts are immutable (named by content), so an
/// entry never goes stale; the cache keeps the `capacity` most recently added entries.
final class DecodedArtifacts: @unchecked Sendable {
    static let shared = DecodedArtifacts(capacity: 8)
    /// Registered frames mapped into memory (`FITSMappedImage`): one entry per frame of a series (a
    /// mapping costs address space, not memory: its pages are the page cache's).
    static let frames = DecodedArtifacts(capacity: 4096)

    private let lock = NSLock()
    private let capacity: Int
    private var entries: [String: Any] = [:]
    private var order: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    /// Forgets the entry under (`kind`, `digest`) (holders of the value keep it).
    func remove(_ kind: String, _ digest: Digest) {
        let key = kind + ":" + digest.hex
        lock.withLock {
            if entries.removeValue(forKey: key) != nil { order.removeAll { $0 == key } }
        }
    }

    /// The value cached under (`kind`, `digest`), else `make()`'s (then cached). Two threads missing
    /// at once both decode; either value is the same.
    func value<T>(_ kind: String, _ digest: Digest, make: () throws -> T) rethrows -> T {
        let key = kind + ":" + digest.hex
        if let v = lock.withLock({ entries[key] }) as? T { return v }
        let v = try make()
        lock.withLock {
            if entries[key] == nil {
                order.append(key)
                if order.count > capacity { entries[order.removeFirst()] = nil }
            }
            entries[key] = v
        }
        return v
    }
}
