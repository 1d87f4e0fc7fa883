import Foundation

/// The result artifact of one reconstruction tile task: the finished tile (before the window), as
/// the node overlap-adds it. Binary, little-endian: magic `TCBTILE1`, UInt32 tile id, x, y, w, h,
/// channels, flags (bit 0: the tile used the unweighted mean), UInt32 length + UTF-8 of the task's
/// run id (so two nodes never share a result file, and one node's cleanup never touches another's),
/// then w*h*channels Float64, channel-planar (NaN where no frame covers). Doubles, not floats: the
/// overlap-add must see exactly what the in-process kernel saw, so bytes do not depend on the executor.
public struct TileValues: Sendable, Equatable {
    /// The tile (grid coordinates).
    public var tile: Tile
    /// Planes.
    public var channels: Int
    /// Whether the tile fell back to the unweighted mean.
    public var unweighted: Bool
    /// The task's run id.
    public var runID: String
    /// Channel-planar values.
    public var values: [Double]

    static let magic = Array("TCBTILE1".utf8)

    /// The serialized bytes.
    public func encoded() -> [UInt8] {
        var out = Self.magic
        let run = Array(runID.utf8)
        out.reserveCapacity(8 + 32 + run.count + values.count * 8)
        for v in [tile.id, tile.x, tile.y, tile.w, tile.h, channels, unweighted ? 1 : 0, run.count] {
            withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: run)
        values.withUnsafeBufferPointer { v in
            out.append(contentsOf: UnsafeRawBufferPointer(v))  // little-endian hosts (x86-64, arm64)
        }
        return out
    }

    /// Decodes a result; nil when the bytes are not a tile result or are truncated.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= 40, Array(bytes[0..<8]) == Self.magic else { return nil }
        let words: [Int] = bytes.withUnsafeBytes { raw in
            (0..<8).map { Int(raw.loadUnaligned(fromByteOffset: 8 + $0 * 4, as: UInt32.self).littleEndian) }
        }
        let runEnd = 40 + words[7]
        let n = words[3] * words[4] * words[5]
        guard bytes.count == runEnd + n * 8 else { return nil }
        tile = Tile(id: words[0], x: words[1], y: words[2], w: words[3], h: words[4])
        channels = words[5]
        unweighted = words[6] & 1 != 0
        runID = String(decoding: bytes[40..<runEnd], as: UTF8.self)
        values = [Double](unsafeUninitializedCapacity: n) { buf, count in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[runEnd..<(runEnd + n * 8)]))
            }
            count = n
        }
    }

    /// A result.
    public init(tile: Tile, channels: Int, unweighted: Bool, runID: String, values: [Double]) {
        self.tile = tile
        self.channels = channels
        self.unweighted = unweighted
        self.runID = runID
        self.values = values
    }
}
