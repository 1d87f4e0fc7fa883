/// A validated DAG of nodes: unique names, every node input resolvable, no cycles.
/// Topological order is deterministic (Kahn's algorithm, ties broken by insertion order).
public struct BuildGraph: Sendable {
    /// Nodes in topological order.
    public let nodes: [Node]
    /// Index of each node in `nodes`.
    public let index: [String: Int]
    /// For each node (by index), the indices of nodes that read its outputs.
    public let dependents: [[Int]]
    /// For each node (by index), the indices of the nodes it reads from.
    public let upstreams: [[Int]]

    /// Validates and orders `nodes`. Throws `GraphError` for duplicates, dangling inputs, cycles.
    public init(_ nodes: [Node]) throws {
        var position: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            if position[n.name] != nil { throw GraphError.duplicateNode(n.name) }
            position[n.name] = i
        }
        var ups = [[Int]](repeating: [], count: nodes.count)
        var downs = [[Int]](repeating: [], count: nodes.count)
        for (i, n) in nodes.enumerated() {
            for input in n.inputs {
                guard case .node(let u, let output) = input.source else { continue }
                guard let j = position[u] else { throw GraphError.unknownInput(node: n.name, input: input.name, upstream: u) }
                guard nodes[j].outputs.contains(output) else {
                    throw GraphError.unknownOutput(node: n.name, upstream: u, output: output)
                }
                if !ups[i].contains(j) { ups[i].append(j); downs[j].append(i) }
            }
        }
        // Kahn's algorithm; a min-heap would be overkill: scan in insertion order.
        var indegree = ups.map(\.count)
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        var ready = (0..<nodes.count).filter { indegree[$0] == 0 }
        var cursor = 0
        while cursor < ready.count {
            let i = ready[cursor]; cursor += 1
            order.append(i)
            for d in downs[i] {
                indegree[d] -= 1
                if indegree[d] == 0 { ready.append(d) }
            }
        }
        if order.count != nodes.count {
            let stuck = (0..<nodes.count).filter { indegree[$0] > 0 }.map { nodes[$0].name }
            throw GraphError.cycle(Array(stuck.prefix(8)))
        }
        var newIndex = [Int](repeating: 0, count: nodes.count)
        for (k, i) in order.enumerated() { newIndex[i] = k }
        self.nodes = order.map { nodes[$0] }
        self.index = Dictionary(uniqueKeysWithValues: self.nodes.enumerated().map { ($1.name, $0) })
        self.upstreams = order.map { ups[$0].map { newIndex[$0] }.sorted() }
        self.dependents = order.map { downs[$0].map { newIndex[$0] }.sorted() }
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
        var stack = dependents[start]
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
