/// A node's inputs, sorted by name (names are unique). A list can be shared: nodes built with
/// `Node(..., sharing: list)` keep one reference to it and their own few inputs beside it, so the 30
/// `synthetic/NN` nodes, which read every frame and differ in one input, hold the frames' inputs once
/// instead of 30 times (48 bytes per input, two per frame). Reads as one sorted collection either way.
public struct NodeInputs: RandomAccessCollection, Equatable, Sendable {
    /// Inputs shared with other nodes, sorted.
    private let shared: [NodeInput]
    /// This node's own inputs, sorted.
    private let own: [NodeInput]
    /// Where each own input is in the merged order (ascending); empty when nothing is shared.
    private let ownAt: [Int]

    /// The inputs `inputs` (by name), sorted.
    public init(_ inputs: [String: InputSource] = [:]) {
        shared = []
        own = Self.sorted(inputs)
        ownAt = []
    }

    /// `inputs` merged with every input of `base` (whose list is shared, not copied). An input name
    /// in both is a programming error.
    public init(_ inputs: [String: InputSource], sharing base: NodeInputs) {
        let list = base.shared.isEmpty ? base.own : Array(base)
        guard !list.isEmpty, !inputs.isEmpty else {
            self = list.isEmpty ? NodeInputs(inputs) : base
            return
        }
        let extra = Self.sorted(inputs)
        var at: [Int] = []
        at.reserveCapacity(extra.count)
        for (k, e) in extra.enumerated() {
            let before = Self.lowerBound(list, e.name)
            precondition(before == list.count || list[before].name != e.name, "input '\(e.name)' is both shared and the node's own")
            at.append(before + k)
        }
        shared = list
        own = extra
        ownAt = at
    }

    private static func sorted(_ inputs: [String: InputSource]) -> [NodeInput] {
        inputs.map { NodeInput($0.key, $0.value) }.sorted { $0.name < $1.name }
    }

    /// The number of inputs of `list` whose name sorts before `name`.
    private static func lowerBound(_ list: [NodeInput], _ name: String) -> Int {
        var a = 0, b = list.count
        while a < b {
            let m = (a + b) / 2
            if list[m].name < name { a = m + 1 } else { b = m }
        }
        return a
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { shared.count + own.count }

    public subscript(i: Int) -> NodeInput {
        if ownAt.isEmpty { return shared.isEmpty ? own[i] : shared[i] }
        var a = 0, b = ownAt.count  // own inputs before position i
        while a < b {
            let m = (a + b) / 2
            if ownAt[m] < i { a = m + 1 } else { b = m }
        }
        return a < ownAt.count && ownAt[a] == i ? own[a] : shared[i - a]
    }

    public static func == (x: NodeInputs, y: NodeInputs) -> Bool { x.elementsEqual(y) }
}
