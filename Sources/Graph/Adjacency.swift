/// The adjacency lists of a graph in two flat arrays (compressed sparse rows): the neighbours of node
/// `i` are `targets[offsets[i] ..< offsets[i + 1]]`, ascending. Four bytes per edge and per node,
/// instead of an array (header, capacity slack, allocation) per node: the 30 synthetic-frame nodes
/// read every frame, so a 300-frame graph has ~20 000 edges.
public struct Adjacency: RandomAccessCollection, Sendable {
    /// Where each node's neighbours start in `targets`; one more entry than nodes.
    private let offsets: [Int32]
    /// Every node's neighbours, node after node.
    private let targets: [Int32]

    /// Lists built by `build(nodes:_:)`.
    private init(offsets: [Int32], targets: [Int32]) {
        self.offsets = offsets
        self.targets = targets
    }

    /// The lists of `count` nodes: `neighbours(i, append)` appends node `i`'s neighbours (each once,
    /// in any order); they are stored ascending.
    static func build(count: Int, edges: Int, _ neighbours: (Int, (Int) -> Void) -> Void) -> Adjacency {
        var offsets = [Int32](), targets = [Int32]()
        offsets.reserveCapacity(count + 1)
        targets.reserveCapacity(edges)
        offsets.append(0)
        for i in 0..<count {
            let start = targets.count
            neighbours(i) { targets.append(Int32(truncatingIfNeeded: $0)) }
            targets[start...].sort()
            offsets.append(Int32(truncatingIfNeeded: targets.count))
        }
        return Adjacency(offsets: offsets, targets: targets)
    }

    /// The number of edges.
    public var edgeCount: Int { targets.count }

    public var startIndex: Int { 0 }
    public var endIndex: Int { offsets.count - 1 }

    /// Node `i`'s neighbours, ascending.
    public subscript(i: Int) -> Neighbours {
        Neighbours(targets: targets, start: Int(offsets[i]), end: Int(offsets[i + 1]))
    }

    /// One node's neighbours (node indices, ascending): a view into the shared storage.
    public struct Neighbours: RandomAccessCollection, Sendable {
        fileprivate let targets: [Int32]
        fileprivate let start: Int
        fileprivate let end: Int

        public var startIndex: Int { 0 }
        public var endIndex: Int { end - start }
        public subscript(k: Int) -> Int { Int(targets[start + k]) }
    }
}
