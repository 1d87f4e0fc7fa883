import Foundation

/// The scheduler's shared state: which nodes are ready, running, resolved or failed.
/// Ready nodes are handed out lowest topological index first. All access is under one condition lock.
final class SchedulerState: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [Int]
    private var ready: [Int] = []
    private var running = 0
    private var stopping = false
    private var done = 0
    private let total: Int
    private var outputs: [Int: [String: Digest]] = [:]
    private var executed: [Int] = []
    private var cached: [Int] = []
    private var failed: [Int: String] = [:]
    private let names: [String]
    private let upstreams: Adjacency

    init(graph: BuildGraph) {
        total = graph.nodes.count
        names = graph.nodes.map(\.name)
        upstreams = graph.upstreams
        pending = graph.upstreams.map(\.count)
        ready = (0..<total).filter { pending[$0] == 0 }
    }

    private var finished: Bool { stopping ? running == 0 : done == total }

    /// The next ready node (lowest index), its upstreams' outputs, and how many of `jobs` threads it may
    /// use: a share with the running nodes (itself included) while other nodes wait to start, all of
    /// them when none waits (the last nodes of a phase, e.g. the validation after the final stacks,
    /// would otherwise keep one thread while the nodes still running wind down). Outputs never depend
    /// on the count. nil when the run is over.
    func next(jobs: Int) -> (Int, [String: [String: Digest]], Int)? {
        condition.lock()
        defer { condition.unlock() }
        while (ready.isEmpty || stopping) && !finished { condition.wait() }
        if finished || ready.isEmpty || stopping { condition.broadcast(); return nil }
        let k = ready.indices.min { ready[$0] < ready[$1] }!
        let i = ready.remove(at: k)
        running += 1
        var inputs: [String: [String: Digest]] = [:]
        for u in upstreams[i] { inputs[names[u]] = outputs[u] }
        return (i, inputs, ready.isEmpty ? max(1, jobs) : max(1, jobs / running))
    }

    func finish(_ i: Int, outcome: NodeOutcome, graph: BuildGraph) {
        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        running -= 1
        done += 1
        switch outcome {
        case .executed(let o), .cached(let o):
            if case .executed = outcome { executed.append(i) } else { cached.append(i) }
            outputs[i] = o
            for d in graph.dependents[i] {
                pending[d] -= 1
                if pending[d] == 0 { ready.append(d) }
            }
        case .failed(let message):
            failed[i] = message
            stopping = true
        }
    }

    func report(graph: BuildGraph) -> RunReport {
        condition.lock()
        defer { condition.unlock() }
        var r = RunReport()
        r.executed = executed.map { names[$0] }
        r.cached = cached.map { names[$0] }
        r.failed = Dictionary(uniqueKeysWithValues: failed.map { (names[$0.key], $0.value) })
        let finishedSet = Set(executed).union(cached).union(failed.keys)
        r.notStarted = (0..<total).filter { !finishedSet.contains($0) }.map { names[$0] }
        for (i, o) in outputs { r.outputs[names[i]] = o }
        return r
    }
}
