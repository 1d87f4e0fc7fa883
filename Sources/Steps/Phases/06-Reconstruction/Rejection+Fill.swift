import Imaging

/// Pass 2's per-frame work without intermediate arrays: the local background of a band of rows is
/// interpolated, subtracted and the result divided by B_f in one loop, straight into the cube.
///
/// `BackgroundRows` gives exactly the values of `BackgroundMap.rows(from:count:)` (the same box
/// index and fraction per column and row, the same Double arithmetic, rounded to Float once), so the
/// cube is the same bit for bit (`RejectionFillTests` checks it against `rows`); it only avoids
/// materialising the band of background rows.
struct BackgroundRows {
    let map: BackgroundMap
    /// Per column: lower box index, upper box index, fraction.
    private let ix0: [Int], ix1: [Int], fx: [Double]

    init(_ map: BackgroundMap) {
        self.map = map
        var a: [Int] = [], b: [Int] = [], f: [Double] = []
        a.reserveCapacity(map.width); b.reserveCapacity(map.width); f.reserveCapacity(map.width)
        for x in 0..<map.width {
            let (i, t) = Self.locate(Double(x), count: map.columns, length: map.width, mesh: map.mesh)
            a.append(i); b.append(min(i + 1, map.columns - 1)); f.append(t)
        }
        ix0 = a; ix1 = b; fx = f
    }

    /// `BackgroundMap.locate`: lower box index and fraction (extrapolating beyond the outer centres).
    static func locate(_ p: Double, count: Int, length: Int, mesh: Int) -> (Int, Double) {
        if count == 1 { return (0, 0) }
        func centre(_ i: Int) -> Double {
            let a = i * mesh, b = min(length, a + mesh)
            return Double(a + b - 1) / 2
        }
        var i = Int(((p - (Double(mesh) - 1) / 2) / Double(mesh)).rounded(.down))
        i = min(max(i, 0), count - 2)
        let c0 = centre(i), c1 = centre(i + 1)
        return (i, (p - c0) / (c1 - c0))
    }

    /// For rows `[y0, y0 + count)`: `dst[r * width + x] = (src[r * width + x] - bg(x, y0 + r)) * scale`.
    func subtract(from src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, y0: Int, count: Int, scale: Float) {
        let w = map.width, columns = map.columns
        precondition(y0 >= 0 && count >= 0 && y0 + count <= map.height)
        let top = UnsafeMutablePointer<Double>.allocate(capacity: 2 * w)
        defer { top.deallocate() }
        let bottom = top + w
        var cached = -1
        map.values.withUnsafeBufferPointer { v in
        ix0.withUnsafeBufferPointer { ix0 in
        ix1.withUnsafeBufferPointer { ix1 in
        fx.withUnsafeBufferPointer { fx in
            for r in 0..<count {
                let (iy, fy) = Self.locate(Double(y0 + r), count: map.rows, length: map.height, mesh: map.mesh)
                if iy != cached {
                    cached = iy
                    let iy1 = min(iy + 1, map.rows - 1)
                    let r0 = iy * columns, r1 = iy1 * columns
                    for x in 0..<w {
                        let a = ix0[x], b = ix1[x], f = fx[x]
                        let v00 = Double(v[r0 + a]), v10 = Double(v[r0 + b])
                        let v01 = Double(v[r1 + a]), v11 = Double(v[r1 + b])
                        top[x] = v00 + f * (v10 - v00)
                        bottom[x] = v01 + f * (v11 - v01)
                    }
                }
                Self.row(src + r * w, dst + r * w, top, bottom, fy, scale, w)
            }
        }
        }
        }
        }
    }

    @inline(__always)
    private static func row(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ t: UnsafePointer<Double>,
                            _ b: UnsafePointer<Double>, _ fy: Double, _ scale: Float, _ w: Int) {
        var x = 0
        while x &+ 4 <= w {
            let t4 = UnsafeRawPointer(t + x).loadUnaligned(as: SIMD4<Double>.self)
            let b4 = UnsafeRawPointer(b + x).loadUnaligned(as: SIMD4<Double>.self)
            let bg = SIMD4<Float>(t4 + fy * (b4 - t4))
            let s4 = UnsafeRawPointer(s + x).loadUnaligned(as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(d + x).storeBytes(of: (s4 - bg) * scale, as: SIMD4<Float>.self)
            x &+= 4
        }
        while x < w {
            d[x] = (s[x] - Float(t[x] + fy * (b[x] - t[x]))) * scale
            x &+= 1
        }
    }
}

extension Rejection {
    /// Rows `[y0, y0 + count)` of every plane of `frame`: a plain float32 FITS file is mapped and only those
    /// rows are converted (`FITSMappedImage`: the same values as cfitsio, without its per-call buffers);
    /// anything else goes through `FrameSource.rows`.
    static func readRows(_ frame: RejectionFrame, _ y0: Int, _ count: Int) throws -> Image {
        if case .file(let path) = frame.source, let mapped = try FITSMappedImage.open(path) {
            return try mapped.rect(x: 0, y: y0, width: mapped.width, height: count, path: path)
        }
        return try frame.source.rows(y0, count)
    }
}
