/// A validated DAG of nodes: unique names, every node input resolvable, no cycles.
/// Topological order is deterministic (Kahn's algorithm, ties broken by insertion order).
public struct BuildGraph: Sendable {
    /// Nodes in topological order.
    public let nodes: [Node]
    /// Index of each node in `nodes`.
    public let index: [String: Int]
    /// For each node (by index), the indices of nodes that read its outputs (ascending).
    public let dependents: Adjacency
    /// For each node (by index), the indices of the nodes it reads from (ascending).
    public let upstreams: Adjacency

    /// Validates and orders `nodes`. Throws `GraphError` for duplicates, dangling inputs, cycles.
    public init(_ nodes: [Node]) throws {
        let n = nodes.count
        var position: [String: Int] = [:]
        position.reserveCapacity(n)
        for (i, node) in nodes.enumerated() {
            if position[node.name] != nil { throw GraphError.duplicateNode(node.name) }
            position[node.name] = i
        }
        // Edges in flat arrays (each upstream once per node, in input order): `ups[upStart[i]..<upStart[i+1]]`.
        var upStart = [Int32](repeating: 0, count: n + 1)
        var ups: [Int32] = []
        ups.reserveCapacity(nodes.reduce(0) { $0 + $1.inputs.count })
        var outDegree = [Int32](repeating: 0, count: n)
        var seenBy = [Int](repeating: -1, count: n)
        for (i, node) in nodes.enumerated() {
            for input in node.inputs {
                guard case .node(let u, let output) = input.source else { continue }
                guard let j = position[u] else { throw GraphError.unknownInput(node: node.name, input: input.name, upstream: u) }
                guard nodes[j].outputs.contains(output) else {
                    throw GraphError.unknownOutput(node: node.name, upstream: u, output: output)
                }
                if seenBy[j] != i { seenBy[j] = i; ups.append(Int32(j)); outDegree[j] += 1 }
            }
            upStart[i + 1] = Int32(ups.count)
        }
        // The reverse edges, each node's readers in node order.
        var downStart = [Int32](repeating: 0, count: n + 1)
        for j in 0..<n { downStart[j + 1] = downStart[j] + outDegree[j] }
        var downs = [Int32](repeating: 0, count: ups.count)
        var cursor = downStart
        for i in 0..<n {
            for e in Int(upStart[i])..<Int(upStart[i + 1]) {
                let j = Int(ups[e])
                downs[Int(cursor[j])] = Int32(i)
                cursor[j] += 1
            }
        }
        // Kahn's algorithm; a min-heap would be overkill: scan in insertion order.
        var indegree = (0..<n).map { upStart[$0 + 1] - upStart[$0] }
        var order: [Int] = []
        order.reserveCapacity(n)
        var ready = (0..<n).filter { indegree[$0] == 0 }
        var next = 0
        while next < ready.count {
            let i = ready[next]; next += 1
            order.append(i)
            for e in Int(downStart[i])..<Int(downStart[i + 1]) {
                let d = Int(downs[e])
                indegree[d] -= 1
                if indegree[d] == 0 { ready.append(d) }
            }
        }
        if order.count != n {
            let stuck = (0..<n).filter { indegree[$0] > 0 }.map { nodes[$0].name }
            throw GraphError.cycle(Array(stuck.prefix(8)))
        }
        var newIndex = [Int](repeating: 0, count: n)
        for (k, i) in order.enumerated() { newIndex[i] = k }
        self.nodes = order.map { nodes[$0] }
        self.index = position.mapValues { newIndex[$0] }
        self.upstreams = Adjacency.build(count: n, edges: ups.count) { k, add in
            let i = order[k]
            for e in Int(upStart[i])..<Int(upStart[i + 1]) { add(newIndex[Int(ups[e])]) }
        }
        self.dependents = Adjacency.build(count: n, edges: downs.count) { k, add in
            let i = order[k]
            for e in Int(downStart[i])..<Int(downStart[i + 1]) { add(newIndex[Int(downs[e])]) }
        }
    }

    /// The node named `name`.
    public func node(_ name: String) -> Node? { index[name].map { nodes[$0] } }

    /// The subgraph of `targets` and everything they transitively read from (for `--until`).
    public func needed(for targets: [String]) throws -> BuildGraph {
        var keep = Set<Int>()
        var stack: [Int] = []
        for t in targets {
            guard let i = index[t] else { throw GraphError.noSuchNode(t, suggestion: closestName(to: t)) }
            stack.append(i)
        }
        while let i = stack.popLast() {
            if keep.insert(i).inserted { stack.append(contentsOf: upstreams[i]) }
        }
        return try BuildGraph(nodes.indices.filter { keep.contains($0) }.map { nodes[$0] })
    }

    /// Every node downstream of `name` (transitively), in topological order.
    public func downstream(of name: String) -> [String] {
        guard let start = index[name] else { return [] }
        var seen = Set<Int>()
        var stack = Array(dependents[start])
        while let i = stack.popLast() {
            if seen.insert(i).inserted { stack.append(contentsOf: dependents[i]) }
        }
        return seen.sorted().map { nodes[$0].name }
    }

    /// The node name closest to `name` by edit distance (for "did you mean").
    public func closestName(to name: String) -> String? {
        nodes.map(\.name).min { editDistance($0, name) < editDistance($1, name) }
    }
}

/// Levenshtein distance between two strings (by Unicode scalars).
public func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}
