import Foundation
import Graph
import TestSupport

/// A random toy DAG with an independent oracle: it evaluates every node directly and predicts
/// exactly which nodes the engine must execute after an edit (a node executes iff its identity,
/// kind + params + input values, was never executed before: changed nodes and their dependents,
/// minus early cutoff, minus run-cache hits).
struct ToyWorld {
    var specs: [ToyGraph.NodeSpec]
    let files: [String]
    /// Identities each node has executed with.
    var seen: [String: Set<[Int]>] = [:]

    /// A random DAG of `count` nodes over `files`; some nodes are lossy (small `cut`), so different
    /// inputs often give identical bytes.
    static func random(count: Int, files: [String], rng: inout TestRNG) -> ToyWorld {
        var specs: [ToyGraph.NodeSpec] = []
        for i in 0..<count {
            var deps: [String] = []
            for j in 0..<i where Int.random(in: 0..<100, using: &rng) < 25 { deps.append("n\(j)") }
            if deps.count > 4 { deps = Array(deps.suffix(4)) }
            let fs = files.filter { _ in Int.random(in: 0..<100, using: &rng) < 10 }
            let cut: Int? = Int.random(in: 0..<100, using: &rng) < 35 ? Int.random(in: 2...4, using: &rng) : nil
            specs.append(.init(name: "n\(i)", deps: deps, files: fs, value: i * 1000 + Int.random(in: 0..<10, using: &rng), cut: cut))
        }
        // Shuffle declaration order: the engine must not depend on it.
        specs.shuffle(using: &rng)
        return ToyWorld(specs: specs, files: files)
    }

    /// Each node's output value, evaluated directly.
    func evaluate() throws -> [String: Int] {
        var values: [String: Int] = [:]
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        func value(_ name: String) throws -> Int {
            if let v = values[name] { return v }
            let s = byName[name]!
            let v = ToyGraph.evaluate(value: s.value, cut: s.cut, inputs: try identity(s, value).dropFirst(2).map { $0 })
            values[name] = v
            return v
        }
        for s in specs { _ = try value(s.name) }
        return values
    }

    /// (value, cut, input values...) of a node.
    private func identity(_ s: ToyGraph.NodeSpec, _ value: (String) throws -> Int) throws -> [Int] {
        var id = [s.value, s.cut ?? -1]
        for d in s.deps { id.append(try value(d)) }
        for f in s.files { id.append(ToyGraph.fileNumber(try Data(contentsOf: URL(fileURLWithPath: f)))) }
        return id
    }

    /// The nodes that must execute now; records their identities as seen.
    mutating func expectedExecutions() throws -> Set<String> {
        let values = try evaluate()
        var executed = Set<String>()
        for s in specs {
            let id = try identity(s) { values[$0]! }
            if seen[s.name, default: []].insert(id).inserted { executed.insert(s.name) }
        }
        return executed
    }

    /// Changes 1-3 parameters (sometimes back to an earlier value) or one input file.
    mutating func edit(rng: inout TestRNG) throws {
        if !files.isEmpty && Int.random(in: 0..<100, using: &rng) < 20 {
            let f = files.randomElement(using: &rng)!
            try "\(Int.random(in: 0..<1_000_000, using: &rng))".write(toFile: f, atomically: true, encoding: .utf8)
            return
        }
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let k = Int.random(in: 0..<specs.count, using: &rng)
            let base = specs[k].value / 1000 * 1000
            specs[k].value = base + Int.random(in: 0..<10, using: &rng)
        }
    }
}
