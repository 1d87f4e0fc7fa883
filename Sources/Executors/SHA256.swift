import CCrypto
import Foundation

/// SHA-256 from OpenSSL's libcrypto (Debian `libssl-dev`, already required by `librabbitmq-dev`):
/// the per-tile seed and the result checksums that cross the network.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = bytes.withUnsafeBytes { b in out.withUnsafeMutableBufferPointer { tcb_sha256(b.baseAddress, b.count, $0.baseAddress) } }
        precondition(ok == 1, "libcrypto SHA-256 failed")
        return out
    }

    /// Lower-case hex of the digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String { hexString(hash(bytes)) }

    /// Lower-case hex of a byte array.
    static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
