import Dispatch

/// Fixed-partition parallelism for kernels inside a node: the work split never depends on timing or
/// the thread count, and every result lands in its own slot, so the outputs are bit-identical for
/// any `threads`.
public enum Parallel {
    /// Results slot written by exactly one task each.
    private final class Slots<T>: @unchecked Sendable {
        var values: [T?]
        init(_ n: Int) { values = Array(repeating: nil, count: n) }
    }

    /// `body(i)` for i in 0..<count, on up to `threads` threads (inline when `threads` <= 1 or
    /// count <= 1); results in index order.
    public static func map<T>(_ count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
        guard threads > 1, count > 1 else { return (0..<count).map(body) }
        let slots = Slots<T>(count)
        slots.values.withUnsafeMutableBufferPointer { buf in
            nonisolated(unsafe) let out = buf
            DispatchQueue.concurrentPerform(iterations: count) { i in out[i] = body(i) }
        }
        return slots.values.map { $0! }
    }

    /// `a()` and `b()`, on two threads when `threads` > 1.
    public static func both<A, B>(threads: Int, _ a: @Sendable () -> A, _ b: @Sendable () -> B) -> (A, B) {
        guard threads > 1 else { return (a(), b()) }
        let ra = Slots<A>(1), rb = Slots<B>(1)
        nonisolated(unsafe) let sa = ra, sb = rb
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 { sa.values[0] = a() } else { sb.values[0] = b() }
        }
        return (ra.values[0]!, rb.values[0]!)
    }
}
