import Foundation
import Imaging

/// The `masks` artifact of `reject`: per frame (in frame-list order), the ascending pixel indices
/// `c * width * height + y * width + x` of the values rejected as outliers. Consumers (reconstruction,
/// synthetic frames, the classical stack) read a frame's rows and set its rejected pixels to NaN, which
/// every combine already skips.
///
/// Binary layout (little-endian UInt32): magic "TCBREJ01", width, height, channels, frames, then per
/// frame its count followed by its indices. Sparse: at kappa 3 about 0.3 % of a clean frame's pixels are
/// rejected (4 bytes each), far less than the frames themselves.
public struct RejectionMasks: Sendable, Equatable {
    /// Image width.
    public let width: Int
    /// Image height.
    public let height: Int
    /// Planes.
    public let channels: Int
    /// Per frame, ascending rejected indices.
    public let frames: [[UInt32]]

    static let magic = Data("TCBREJ01".utf8)

    /// Masks from explicit lists (each ascending, below `width * height * channels`).
    public init(width: Int, height: Int, channels: Int, frames: [[UInt32]]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.frames = frames
    }

    /// No rejection for `count` frames.
    public static func empty(width: Int, height: Int, channels: Int, count: Int) -> RejectionMasks {
        RejectionMasks(width: width, height: height, channels: channels, frames: [[UInt32]](repeating: [], count: count))
    }

    /// The serialized bytes.
    public func encoded() -> Data {
        var words: [UInt32] = [UInt32(width), UInt32(height), UInt32(channels), UInt32(frames.count)]
        words.reserveCapacity(4 + frames.count + frames.reduce(0) { $0 + $1.count })
        for f in frames {
            words.append(UInt32(f.count))
            words.append(contentsOf: f)
        }
        var data = Self.magic
        words.withUnsafeBufferPointer { data.append($0) }  // little-endian hosts (x86-64, arm64)
        return data
    }

    /// Decodes `data`; nil when it is not a masks artifact or is truncated.
    public init?(data: Data) {
        guard data.count >= 24, data.prefix(8) == Self.magic, (data.count - 8) % 4 == 0 else { return nil }
        let words: [UInt32] = data.dropFirst(8).withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian }
        }
        let w = Int(words[0]), h = Int(words[1]), c = Int(words[2]), n = Int(words[3])
        var lists: [[UInt32]] = []
        lists.reserveCapacity(n)
        var at = 4
        let limit = UInt32(clamping: w * h * c)
        for _ in 0..<n {
            guard at < words.count else { return nil }
            let k = Int(words[at])
            at += 1
            guard at + k <= words.count else { return nil }
            let list = Array(words[at..<(at + k)])
            guard list.allSatisfy({ $0 < limit }) else { return nil }
            lists.append(list)
            at += k
        }
        guard at == words.count else { return nil }
        self.init(width: w, height: h, channels: c, frames: lists)
    }

    /// Reads the artifact at `path`; `node` names the reader in errors.
    public static func read(path: String, node: String) throws -> RejectionMasks {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw StepError.badArtifact(node: node, message: "rejection masks unreadable: \(error)")
        }
        guard let masks = RejectionMasks(data: data) else {
            throw StepError.badArtifact(node: node, message: "rejection masks at \(path) are corrupt")
        }
        return masks
    }

    /// Sets the rejected pixels of one frame (`rejected`, its list) to NaN in `rows`, which holds image
    /// rows `[y0, y0 + rows.height)` of every plane.
    public static func apply(_ rejected: [UInt32], to rows: inout Image, y0: Int, imageHeight: Int) {
        guard !rejected.isEmpty else { return }
        let w = rows.width, plane = w * imageHeight, rn = rows.planeSize
        rows.pixels.withUnsafeMutableBufferPointer { px in
            for c in 0..<rows.channels {
                let lo = UInt32(c * plane + y0 * w), hi = UInt32(c * plane + (y0 + rows.height) * w)
                var k = lowerBound(rejected, lo)
                while k < rejected.count && rejected[k] < hi {
                    px[c * rn + Int(rejected[k] - lo)] = .nan
                    k += 1
                }
            }
        }
    }

    /// First position in ascending `a` whose value is >= `v`.
    static func lowerBound(_ a: [UInt32], _ v: UInt32) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
