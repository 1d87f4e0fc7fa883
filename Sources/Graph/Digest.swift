import CXXHash
import Foundation

/// A 128-bit XXH3 content digest. Two artifacts, files or fingerprints are the same exactly when
/// their digests are equal; the hex form (32 lower-case digits, high word first) is what the
/// manifest stores and what users see.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// High 64 bits.
    public let high: UInt64
    /// Low 64 bits.
    public let low: UInt64

    /// A digest from its two words.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the 32-digit hex form; nil for anything else.
    public init?(hex: String) {
        guard hex.utf8.count == 32,
              let h = UInt64(hex.prefix(16), radix: 16),
              let l = UInt64(hex.suffix(16), radix: 16) else { return nil }
        self.init(high: h, low: l)
    }

    /// 32 lower-case hex digits, high word first (XXH128's canonical order).
    public var hex: String {
        let h = String(high, radix: 16), l = String(low, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h + String(repeating: "0", count: 16 - l.count) + l
    }

    /// The first 12 hex digits, for display.
    public var short: String { String(hex.prefix(12)) }

    public var description: String { hex }

    public static func < (a: Digest, b: Digest) -> Bool { (a.high, a.low) < (b.high, b.low) }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let d = Digest(hex: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a digest: \(s)"))
        }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }

    /// The digest of a byte buffer.
    public static func of(_ bytes: some Sequence<UInt8>) -> Digest {
        var h = ContentHasher()
        h.update(Array(bytes))
        return h.finalize()
    }

    /// The digest of a string's UTF-8 bytes.
    public static func of(string: String) -> Digest { of(Array(string.utf8)) }

    /// Streams a file through XXH3-128 in 1 MiB chunks; returns the digest and the byte count.
    /// Throws `GraphError.io` naming the file when it cannot be read.
    public static func ofFile(atPath path: String) throws -> (digest: Digest, bytes: Int64) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw GraphError.io(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = ContentHasher()
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw GraphError.io(path: path, message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(start: buffer, count: n))
            total += Int64(n)
        }
        return (hasher.finalize(), total)
    }
}

/// Streaming XXH3-128. Feed bytes with `update`, then `finalize` once.
/// Field helpers (`field`) length-prefix what they add, so concatenations cannot collide.
public struct ContentHasher: ~Copyable {
    private let state: OpaquePointer

    /// A fresh hasher (seed 0).
    public init() {
        state = XXH3_createState()
        XXH3_128bits_reset(state)
    }

    deinit { XXH3_freeState(state) }

    /// Adds raw bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        XXH3_128bits_update(state, base, bytes.count)
    }

    /// Adds raw bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Adds a length-prefixed byte field.
    public mutating func field(_ bytes: [UInt8]) {
        var n = UInt64(bytes.count).littleEndian
        withUnsafeBytes(of: &n) { update($0) }
        update(bytes)
    }

    /// Adds a length-prefixed UTF-8 string field.
    public mutating func field(_ string: String) { field(Array(string.utf8)) }

    /// Adds a digest (16 bytes).
    public mutating func field(_ digest: Digest) {
        var words = (digest.high.littleEndian, digest.low.littleEndian)
        withUnsafeBytes(of: &words) { update($0) }
    }

    /// Adds an integer (8 bytes, little-endian).
    public mutating func field(_ value: Int) {
        var v = Int64(value).littleEndian
        withUnsafeBytes(of: &v) { update($0) }
    }

    /// The digest of everything added.
    public consuming func finalize() -> Digest {
        let h = XXH3_128bits_digest(state)
        return Digest(high: h.high64, low: h.low64)
    }
}
