import Dispatch

/// Fixed-partition parallelism for kernels inside a node: the split never depends on timing or the
/// thread count, and every result lands in its own slot, so outputs are bit-identical for any `threads`.
public enum Parallel {
    /// A result slot written by exactly one task.
    private final class Slot<T>: @unchecked Sendable {
        var value: T?
    }

    /// `a()` and `b()`, on two threads when `threads` > 1 (inline, `a` first, otherwise).
    public static func both<A, B>(threads: Int, _ a: @Sendable () -> A, _ b: @Sendable () -> B) -> (A, B) {
        guard threads > 1 else { return (a(), b()) }
        let ra = Slot<A>(), rb = Slot<B>()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 { ra.value = a() } else { rb.value = b() }
        }
        return (ra.value!, rb.value!)
    }

    /// `body(i)` for every i in 0 ..< `count`: on up to `count` threads when `threads` > 1 and there is more
    /// than one item, in index order inline otherwise. Each `body(i)` must write only its own slot.
    public static func forEach(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        if threads > 1 && count > 1 {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        } else {
            for i in 0..<count { body(i) }
        }
    }

    /// `[body(0), ..., body(count - 1)]`, computed as `forEach` does (each result in its own slot, so the
    /// array is the same for any `threads`).
    public static func map<T>(_ count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let slots = (0..<count).map { _ in Slot<T>() }
        forEach(count, threads: threads) { i in slots[i].value = body(i) }
        return slots.map { $0.value! }
    }
}
