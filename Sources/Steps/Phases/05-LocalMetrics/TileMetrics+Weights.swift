import Foundation

/// The `weights` artifact of `tiles/metrics`: for every tile its mode, and for every (frame, tile)
/// Q_local, L = exp(Q_local) and the effective weight W = G_f * L (what reconstruction uses).
///
/// Binary, little-endian: magic `TCTW`, UInt32 version (1), UInt32 frame count F, UInt32 tile count T,
/// T mode bytes (0 structure, 1 star) padded with zeros to a multiple of 4, then Q, L and W as Float32
/// arrays of F*T values each, tile-major (tile t's frames are contiguous: index t*F + f), so a
/// reconstruction task reads one tile across all frames from one contiguous run.
public struct TileWeights: Sendable, Equatable {
    /// Format version written and accepted.
    public static let version: UInt32 = 1
    static let magic: [UInt8] = Array("TCTW".utf8)

    /// Frames F.
    public let frameCount: Int
    /// Tiles T (grid order of `TileGrid.tiles`).
    public let tileCount: Int
    /// Mode per tile.
    public internal(set) var modes: [TileMode]
    /// Q_local, index `tile * frameCount + frame`.
    public internal(set) var q: [Float]
    /// L = exp(Q_local), same layout.
    public internal(set) var l: [Float]
    /// W = G_f * L, same layout.
    public internal(set) var w: [Float]

    /// All-neutral weights (Q 0, L 1, W 1, structure mode) for F frames and T tiles.
    public init(frameCount: Int, tileCount: Int) {
        self.frameCount = frameCount
        self.tileCount = tileCount
        modes = [TileMode](repeating: .structure, count: tileCount)
        q = [Float](repeating: 0, count: frameCount * tileCount)
        l = [Float](repeating: 1, count: frameCount * tileCount)
        w = [Float](repeating: 1, count: frameCount * tileCount)
    }

    mutating func set(frame: Int, tile: Int, q qv: Float, l lv: Float, w wv: Float) {
        let i = tile * frameCount + frame
        q[i] = qv; l[i] = lv; w[i] = wv
    }

    /// W of `frame` in `tile`.
    public func weight(frame: Int, tile: Int) -> Float { w[tile * frameCount + frame] }
    /// L of `frame` in `tile`.
    public func local(frame: Int, tile: Int) -> Float { l[tile * frameCount + frame] }
    /// Q_local of `frame` in `tile`.
    public func quality(frame: Int, tile: Int) -> Float { q[tile * frameCount + frame] }
    /// W of every frame in `tile`, frame order.
    public func weights(tile: Int) -> [Float] { Array(w[(tile * frameCount)..<((tile + 1) * frameCount)]) }

    /// The binary encoding (deterministic).
    public func encoded() -> Data {
        var d = Data(Self.magic)
        for v in [Self.version, UInt32(frameCount), UInt32(tileCount)] { d.append(contentsOf: le(v)) }
        d.append(contentsOf: modes.map(\.rawValue))
        d.append(contentsOf: [UInt8](repeating: 0, count: (4 - tileCount % 4) % 4))
        for array in [q, l, w] { for x in array { d.append(contentsOf: le(x.bitPattern)) } }
        return d
    }

    /// Decodes a `weights` artifact; throws `MetricsError.inconsistent` when it is not a version-1 file.
    public init(data: Data) throws {
        let b = [UInt8](data)
        func u32(_ o: Int) -> UInt32 { UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24 }
        guard b.count >= 16, Array(b[0..<4]) == Self.magic, u32(4) == Self.version else {
            throw MetricsError.inconsistent(node: NodeName.tileMetrics, message: "not a tile-weights file (TCTW version \(Self.version))")
        }
        let frames = Int(u32(8)), tiles = Int(u32(12))
        let modeBytes = tiles + (4 - tiles % 4) % 4
        guard b.count == 16 + modeBytes + 3 * 4 * frames * tiles else {
            throw MetricsError.inconsistent(node: NodeName.tileMetrics, message: "tile-weights file of \(b.count) bytes for \(frames) frames x \(tiles) tiles")
        }
        self.init(frameCount: frames, tileCount: tiles)
        modes = (0..<tiles).map { TileMode(rawValue: b[16 + $0]) ?? .structure }
        let n = frames * tiles
        func floats(_ k: Int) -> [Float] {
            let base = 16 + modeBytes + k * 4 * n
            return (0..<n).map { Float(bitPattern: u32(base + 4 * $0)) }
        }
        q = floats(0); l = floats(1); w = floats(2)
    }

    /// Reads the `weights` artifact at `path`.
    public init(path: String) throws {
        guard let d = FileManager.default.contents(atPath: path) else {
            throw StepError.badArtifact(node: NodeName.tileMetrics, message: "cannot read \(path)")
        }
        try self.init(data: d)
    }

    /// `tile_weights.csv`: header `tile,mode,frame,Q,L,W`, rows tile-major then frame order;
    /// `frame` is the file name. Floats in shortest round-trip Float32 form.
    public func csv(files: [String]) -> String {
        var s = "tile,mode,frame,Q,L,W\n"
        s.reserveCapacity(40 * frameCount * tileCount)
        for t in 0..<tileCount {
            let mode = modes[t].description
            for f in 0..<frameCount {
                let i = t * frameCount + f
                s += "\(t),\(mode),\(CSV.field(files[f])),\(q[i]),\(l[i]),\(w[i])\n"
            }
        }
        return s
    }
}
