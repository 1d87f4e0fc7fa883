import Foundation

/// Cheap deterministic nodes for engine tests, benchmarks and the crash-safety harness
/// (`tcbuild _toy`). Each node outputs one decimal number:
/// `out = (value + sum_i (i+1) * input_i) mod cut` where inputs are upstream numbers or the
/// byte-sum of an input file, so a lossy `cut` produces identical bytes for different inputs
/// (early cutoff) and everything else changes the output.
public enum ToyGraph {
    /// One toy node as written in a spec file.
    public struct NodeSpec: Codable, Sendable, Equatable {
        /// Node name.
        public var name: String
        /// Upstream node names.
        public var deps: [String]
        /// Input files.
        public var files: [String]
        /// The parameter.
        public var value: Int
        /// Modulus of the output (lossy when small); nil = 2^61 - 1.
        public var cut: Int?
        /// Milliseconds the node sleeps (half before writing, half in the middle of writing).
        public var sleepMs: Int

        /// A toy node.
        public init(name: String, deps: [String] = [], files: [String] = [], value: Int = 0, cut: Int? = nil, sleepMs: Int = 0) {
            self.name = name
            self.deps = deps
            self.files = files
            self.value = value
            self.cut = cut
            self.sleepMs = sleepMs
        }
    }

    /// The parameters a toy node's fingerprint covers.
    public struct Params: Codable, Sendable, Equatable {
        /// See `NodeSpec.value`.
        public var value: Int
        /// See `NodeSpec.cut`.
        public var cut: Int?
        /// See `NodeSpec.sleepMs`.
        public var sleepMs: Int
    }

    /// Builds engine nodes from specs (inputs named `d0, d1, ...` for deps, `f0, f1, ...` for files).
    public static func nodes(_ specs: [NodeSpec]) -> [Node] {
        specs.map { spec in
            var inputs: [String: InputSource] = [:]
            for (i, d) in spec.deps.enumerated() { inputs[String(format: "d%03d", i)] = .node(d, output: "out") }
            for (i, f) in spec.files.enumerated() { inputs[String(format: "f%03d", i)] = .file(f) }
            return Node(name: spec.name, kind: "toy", version: 1,
                        params: Params(value: spec.value, cut: spec.cut, sleepMs: spec.sleepMs),
                        inputs: inputs, outputs: ["out"], action: run)
        }
    }

    /// The pure function a toy node computes, for oracles: the same formula as the node's code.
    public static func evaluate(value: Int, cut: Int?, inputs: [Int]) -> Int {
        let m = UInt64(cut ?? (1 << 61) - 1)
        var acc = UInt64(bitPattern: Int64(value)) % m
        for (i, x) in inputs.enumerated() {
            acc = (acc &+ (UInt64(i + 1) &* (UInt64(bitPattern: Int64(x)) % m)) % m) % m
        }
        return Int(acc)
    }

    /// The number a file contributes: the sum of its bytes.
    public static func fileNumber(_ data: Data) -> Int { data.reduce(0) { $0 + Int($1) } }

    @Sendable static func run(_ context: NodeContext) throws {
        let p = try context.params(Params.self)
        var numbers: [Int] = []
        for name in context.inputNames {
            let data = try context.inputData(name)
            if name.hasPrefix("f") {
                numbers.append(fileNumber(data))
            } else {
                numbers.append(Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
            }
        }
        let text = Array("\(evaluate(value: p.value, cut: p.cut, inputs: numbers))\n".utf8)
        if p.sleepMs > 0 { usleep(useconds_t(p.sleepMs * 500)) }
        // Written in two halves with a pause, so a kill can land in the middle of an output file.
        let path = try context.output("out")
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw GraphError.io(path: path, message: "cannot create output")
        }
        let half = text.count / 2
        handle.write(Data(text[..<half]))
        if p.sleepMs > 0 { usleep(useconds_t(p.sleepMs * 500)) }
        handle.write(Data(text[half...]))
        try handle.close()
    }
}
