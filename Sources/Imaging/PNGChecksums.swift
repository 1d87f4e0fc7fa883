/// The two checksums a PNG file needs, implemented here so the encoder has no dependency:
/// CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320, as in PNG chunks, zip, gzip)
/// and Adler-32 (RFC 1950, the zlib stream trailer).
public enum PNGChecksum {
    /// The 256-entry CRC-32 lookup table (reflected polynomial 0xEDB88320).
    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 of `bytes`, continuing from `crc` (pass the previous result to checksum data in parts;
    /// the default 0 starts a new checksum). `crc32(Array("123456789".utf8)) == 0xCBF43926`.
    public static func crc32<C: Collection>(_ bytes: C, continuing crc: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var c = ~crc
        crcTable.withUnsafeBufferPointer { table in
            for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        }
        return ~c
    }

    /// Adler-32 of `bytes`, continuing from `adler` (default 1 starts a new checksum).
    /// `adler32(Array("Wikipedia".utf8)) == 0x11E60398`.
    public static func adler32<C: Collection>(_ bytes: C, continuing adler: UInt32 = 1) -> UInt32 where C.Element == UInt8 {
        let mod: UInt32 = 65521
        var a = adler & 0xffff, b = adler >> 16
        var pending = 0
        for x in bytes {
            a += UInt32(x)
            b += a
            pending += 1
            // 5552 is the largest n with 255 n (n+1) / 2 + (n+1)(mod-1) < 2^32 (zlib's NMAX).
            if pending == 5552 { a %= mod; b %= mod; pending = 0 }
        }
        return (b % mod) << 16 | (a % mod)
    }
}
