import Foundation

/// The pixels an in-place correction changed, as a sparse list: applying it to the uncorrected image
/// gives the corrected image bit for bit. The star-detection node corrects a raw frame's spikes
/// (`Cosmetic.correctSpikes`) and stores the patch; the registration node, which needs the same
/// corrected frame, applies the patch instead of running the correction a second time.
///
/// Encoding (little-endian): the 8 bytes `TCPATCH1`, then `UInt32` pixel count of the image, `UInt32`
/// hot and dead counts (for messages), `UInt32` entries, then per entry the `UInt32` index into
/// `Image.pixels` and the `UInt32` bit pattern of the new value, ascending by index.
public struct PixelPatch: Sendable, Equatable {
    /// Number of values of the image the patch belongs to (`Image.pixels.count`).
    public var pixelCount: Int
    /// Hot pixels the correction replaced.
    public var hot: Int
    /// Dead pixels the correction replaced.
    public var dead: Int
    /// (index into `Image.pixels`, new value), ascending by index.
    public var entries: [(index: UInt32, value: Float)]

    /// The patch that turns `before` into `after` (same size): every value whose bits differ.
    public init(before: Image, after: Image, hot: Int, dead: Int) {
        precondition(before.pixels.count == after.pixels.count, "patch of images of different sizes")
        pixelCount = before.pixels.count
        self.hot = hot
        self.dead = dead
        var entries: [(index: UInt32, value: Float)] = []
        before.pixels.withUnsafeBufferPointer { a in
            after.pixels.withUnsafeBufferPointer { b in
                // Eight bit patterns at a time; only a block with a difference is looked at value by value.
                let n = a.count
                var i = 0
                if let pa = a.baseAddress, let pb = b.baseAddress {
                    let ra = UnsafeRawPointer(pa), rb = UnsafeRawPointer(pb)
                    while i + 8 <= n {
                        let x = ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<UInt32>.self)
                        let y = rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<UInt32>.self)
                        if any(x .!= y) {
                            for k in i..<(i + 8) where a[k].bitPattern != b[k].bitPattern { entries.append((UInt32(k), b[k])) }
                        }
                        i += 8
                    }
                }
                for k in i..<n where a[k].bitPattern != b[k].bitPattern { entries.append((UInt32(k), b[k])) }
            }
        }
        self.entries = entries
    }

    /// An empty patch for an image of `pixelCount` values.
    public init(pixelCount: Int) {
        self.pixelCount = pixelCount
        hot = 0
        dead = 0
        entries = []
    }

    /// Writes the patched values into `image`. Throws `Mismatch` when the image is not the size the
    /// patch was made for.
    public func apply(to image: inout Image) throws {
        guard image.pixels.count == pixelCount else { throw Mismatch(expected: pixelCount, actual: image.pixels.count) }
        image.pixels.withUnsafeMutableBufferPointer { px in
            for e in entries { px[Int(e.index)] = e.value }
        }
    }

    /// The patch does not fit the image (or its bytes are not a patch).
    public struct Mismatch: Error, CustomStringConvertible {
        /// Values the patch was made for.
        public var expected: Int
        /// Values found.
        public var actual: Int
        public var description: String {
            "a pixel patch for \(expected) values does not fit an image of \(actual) values"
        }
    }

    private static let magic = Array("TCPATCH1".utf8)

    /// The encoded bytes.
    public func encoded() -> Data {
        var out = Data(Self.magic)
        out.reserveCapacity(24 + 8 * entries.count)
        func put(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt32(pixelCount)); put(UInt32(hot)); put(UInt32(dead)); put(UInt32(entries.count))
        for e in entries { put(e.index); put(e.value.bitPattern) }
        return out
    }

    /// Decodes `encoded()` bytes; nil when they are not a well-formed patch.
    public init?(data: Data) {
        let bytes = [UInt8](data)
        guard bytes.count >= 24, Array(bytes[0..<8]) == Self.magic else { return nil }
        func word(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        let count = Int(word(20))
        guard bytes.count == 24 + 8 * count else { return nil }
        pixelCount = Int(word(8))
        hot = Int(word(12))
        dead = Int(word(16))
        var entries: [(index: UInt32, value: Float)] = []
        entries.reserveCapacity(count)
        for k in 0..<count {
            let index = word(24 + 8 * k)
            guard Int(index) < pixelCount, entries.last.map({ $0.index < index }) ?? true else { return nil }
            entries.append((index, Float(bitPattern: word(28 + 8 * k))))
        }
        self.entries = entries
    }

    public static func == (a: PixelPatch, b: PixelPatch) -> Bool {
        a.pixelCount == b.pixelCount && a.hot == b.hot && a.dead == b.dead && a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { $0.index == $1.index && $0.value.bitPattern == $1.value.bitPattern }
    }
}
