/// Exact medians found inside a guessed value bracket (the per-pixel kernels' fast path).
///
/// Quickselect over n values costs ~3.4 n comparisons, half of them mispredicted branches on noise.
/// When a good guess of the median is at hand (the neighbouring pixel's, the previous clipping
/// round's), one branch-free pass counts the values below the bracket `[lo, hi]` and copies those
/// inside it; when the middle order statistics fall inside, they are selected among those few values
/// only. The result is the same value, bit for bit, as a selection over all n values: order
/// statistics do not depend on how they are found. A wrong guess costs that one pass and returns nil.
extension Statistics {
    /// The median of the finite values `a[0..<n]` (n >= 1) when both middle order statistics lie in
    /// `[lo, hi]`, else nil. For even n it is `(lower + upper) / 2` of the two middle order statistics,
    /// the same expression as `PixelRejection.median` and `selectQuantile(_, 0.5)`. `a` is not modified; `scratch` holds >= n values.
    static func medianInBracket<T: BinaryFloatingPoint>(_ a: UnsafePointer<T>, _ n: Int, lo: T, hi: T,
                                                        scratch: UnsafeMutablePointer<T>) -> T? {
        var below = 0, m = 0
        for k in 0..<n {
            let v = a[k]
            let isBelow = v < lo ? 1 : 0, isAbove = v > hi ? 1 : 0  // `&&` would compile to branches
            below &+= isBelow
            scratch[m] = v
            m &+= 1 &- (isBelow | isAbove)
        }
        return medianOfBracket(n, below: below, inside: m, scratch: scratch)
    }

    /// The second half of `medianInBracket`: the median of n values of which `below` lie under the
    /// bracket and the `inside` ones within it are `scratch[0..<inside]` (reordered); nil when the
    /// middle order statistics are not among them.
    static func medianOfBracket<T: BinaryFloatingPoint>(_ n: Int, below: Int, inside m: Int,
                                                        scratch: UnsafeMutablePointer<T>) -> T? {
        let upper = n / 2, lower = (n - 1) / 2
        guard n > 0, below <= lower, upper < below + m else { return nil }
        let inside = UnsafeMutableBufferPointer(start: scratch, count: m)
        let hiValue = select(inside, upper - below)
        guard n % 2 == 0 else { return hiValue }
        // After selecting rank upper - below (>= 1), the values left of it are the smaller ones.
        var loValue = inside[0]
        for k in 1..<(upper - below) where inside[k] > loValue { loValue = inside[k] }
        return (loValue + hiValue) / 2
    }
}
