/// How the zlib stream inside a PNG is compressed.
public enum PNGCompression: Sendable, Equatable {
    /// Stored (uncompressed) deflate blocks of at most 65535 bytes: fastest, largest.
    case stored
    /// One deflate block with the fixed Huffman code (RFC 1951 3.2.6) and greedy LZ77 matching
    /// (hash chains over a 32 KiB window): typically 2-4x smaller than stored on previews.
    case fixedHuffman
}

/// A zlib (RFC 1950) stream writer over deflate (RFC 1951), written for PNG previews.
/// Deterministic: the same bytes and compression give the same stream.
public enum Zlib {
    /// `data` as a zlib stream: header 0x78 0x01, deflate blocks, big-endian Adler-32 of `data`.
    public static func compress(_ data: [UInt8], _ compression: PNGCompression = .fixedHuffman) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]  // CM 8, 32 KiB window; (0x78 * 256 + 0x01) % 31 == 0
        switch compression {
        case .stored: appendStored(data, to: &out)
        case .fixedHuffman: appendFixed(data, to: &out)
        }
        let adler = PNGChecksum.adler32(data)
        out += [UInt8(adler >> 24), UInt8(adler >> 16 & 0xff), UInt8(adler >> 8 & 0xff), UInt8(adler & 0xff)]
        return out
    }

    /// Stored blocks: BFINAL/BTYPE=00 byte, LEN and NLEN little-endian, the raw bytes.
    static func appendStored(_ data: [UInt8], to out: inout [UInt8]) {
        var start = 0
        repeat {
            let n = min(65535, data.count - start)
            let final: UInt8 = start + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += data[start..<(start + n)]
            start += n
        } while start < data.count
    }

    // MARK: fixed-Huffman block

    /// Base match length of length codes 257...285 and their extra bits.
    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                    67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    /// Base distance of distance codes 0...29 and their extra bits.
    static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                      1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    static let window = 32768
    static let maxMatch = 258
    static let minMatch = 3
    static let maxChain = 24
    static let hashBits = 15

    /// One final fixed-Huffman block over the whole input.
    static func appendFixed(_ data: [UInt8], to out: inout [UInt8]) {
        var bits = BitWriter()
        bits.write(1, count: 1)  // BFINAL
        bits.write(1, count: 2)  // BTYPE = 01 (fixed Huffman)
        var head = [Int](repeating: -1, count: 1 << hashBits)
        var prev = [Int](repeating: -1, count: window)
        data.withUnsafeBufferPointer { src in
            head.withUnsafeMutableBufferPointer { head in
                prev.withUnsafeMutableBufferPointer { prev in encodeFixed(src, head, prev, &bits) }
            }
        }
        writeLiteral(256, &bits)  // end of block
        out += bits.finish()
    }

    /// Greedy LZ77 over `src` with hash chains (`head`: newest position per hash, `prev`: previous
    /// position with the same hash, per window slot), symbols written with the fixed code.
    static func encodeFixed(_ src: UnsafeBufferPointer<UInt8>, _ head: UnsafeMutableBufferPointer<Int>,
                            _ prev: UnsafeMutableBufferPointer<Int>, _ bits: inout BitWriter) {
        let n = src.count
        func hash(_ i: Int) -> Int {
            (Int(src[i]) << 10 ^ Int(src[i + 1]) << 5 ^ Int(src[i + 2])) & ((1 << hashBits) - 1)
        }
        func insert(_ i: Int) {
            guard i + minMatch <= n else { return }
            let h = hash(i)
            prev[i & (window - 1)] = head[h]
            head[h] = i
        }
        var i = 0
        while i < n {
            var bestLength = 0, bestDistance = 0
            if i + minMatch <= n {
                var candidate = head[hash(i)]
                var chain = 0
                let limit = min(maxMatch, n - i)
                while candidate >= 0 && i - candidate <= window && chain < maxChain {
                    if src[candidate + bestLength] == src[i + bestLength] || bestLength == 0 {
                        var l = 0
                        while l < limit && src[candidate + l] == src[i + l] { l += 1 }
                        if l > bestLength { bestLength = l; bestDistance = i - candidate }
                        if l == limit { break }
                    }
                    let next = prev[candidate & (window - 1)]
                    if next >= candidate { break }  // slot reused by a newer position
                    candidate = next
                    chain += 1
                }
            }
            if bestLength >= minMatch {
                writeLength(bestLength, &bits)
                writeDistance(bestDistance, &bits)
                for k in 0..<bestLength { insert(i + k) }
                i += bestLength
            } else {
                writeLiteral(Int(src[i]), &bits)
                insert(i)
                i += 1
            }
        }
    }

    /// The fixed Huffman code of literal/length symbol `s` (RFC 1951 3.2.6), MSB-first.
    static func writeLiteral(_ s: Int, _ bits: inout BitWriter) {
        switch s {
        case 0...143: bits.writeHuffman(0x30 + s, count: 8)
        case 144...255: bits.writeHuffman(0x190 + s - 144, count: 9)
        case 256...279: bits.writeHuffman(s - 256, count: 7)
        default: bits.writeHuffman(0xC0 + s - 280, count: 8)
        }
    }

    static func writeLength(_ length: Int, _ bits: inout BitWriter) {
        var code = lengthBase.count - 1
        while lengthBase[code] > length { code -= 1 }
        writeLiteral(257 + code, &bits)
        if lengthExtra[code] > 0 { bits.write(UInt32(length - lengthBase[code]), count: lengthExtra[code]) }
    }

    static func writeDistance(_ distance: Int, _ bits: inout BitWriter) {
        var code = distanceBase.count - 1
        while distanceBase[code] > distance { code -= 1 }
        bits.writeHuffman(code, count: 5)
        if distanceExtra[code] > 0 { bits.write(UInt32(distance - distanceBase[code]), count: distanceExtra[code]) }
    }
}

/// Packs bits LSB-first into bytes, as deflate requires.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var filled = 0

    /// Writes the low `count` bits of `value`, least significant first (header fields, extra bits).
    mutating func write(_ value: UInt32, count: Int) {
        buffer |= UInt64(value & ((1 << UInt32(count)) &- 1)) << UInt64(filled)
        filled += count
        while filled >= 8 {
            bytes.append(UInt8(buffer & 0xff))
            buffer >>= 8
            filled -= 8
        }
    }

    /// Writes a Huffman code of `count` bits, most significant bit first.
    mutating func writeHuffman(_ code: Int, count: Int) {
        var reversed: UInt32 = 0
        for k in 0..<count where code >> k & 1 == 1 { reversed |= 1 << UInt32(count - 1 - k) }
        write(reversed, count: count)
    }

    /// The bytes with the last partial byte zero-padded.
    mutating func finish() -> [UInt8] {
        if filled > 0 { bytes.append(UInt8(buffer & 0xff)); buffer = 0; filled = 0 }
        return bytes
    }
}
