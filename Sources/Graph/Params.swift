import Foundation

/// A node's parameters in canonical form: the exact bytes that enter its fingerprint, and the same
/// values flattened to key paths (`weights.noise` -> `0.3`) for explain.
///
/// Canonical = JSON with sorted keys from `JSONEncoder`; two equal parameter values always give the
/// same bytes, and the flattening is derived from those bytes, so what explain shows is what was hashed.
public struct ParamSet: Sendable, Equatable {
    /// Canonical JSON bytes (what the fingerprint hashes).
    public let canonical: [UInt8]
    /// Leaf values by key path, sorted by path. Arrays of scalars are one leaf (`clamp` -> `[-3,3]`).
    /// Derived from `canonical` on demand (only explain and recording need it, not planning).
    public var flattened: [(path: String, value: String)] {
        var leaves: [(String, String)] = []
        if let object = try? JSONSerialization.jsonObject(with: Data(canonical), options: [.fragmentsAllowed]) {
            ParamSet.flatten(object, path: "", into: &leaves)
        }
        return leaves.sorted { $0.0 < $1.0 }.map { (path: $0.0, value: $0.1) }
    }

    /// Canonicalizes a Codable parameter value.
    public init<P: Encodable>(_ params: P) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(params) } catch { preconditionFailure("parameters must encode to JSON: \(error)") }
        canonical = ParamSet.shared.intern(Array(data))
    }

    /// The process's table of canonical parameter bytes: nodes with equal parameters (every
    /// `register/NNNNN` of a series, every `stars/NNNNN`) share one array instead of a few hundred
    /// bytes each. Cleared when it reaches `limit` distinct values, so it stays bounded.
    private static let shared = InternTable(limit: 4096)

    /// A bounded set of byte arrays handing out the stored copy of an equal array.
    final class InternTable: @unchecked Sendable {
        private let lock = NSLock()
        private var table = Set<[UInt8]>()
        private let limit: Int

        init(limit: Int) { self.limit = limit }

        /// The stored array equal to `bytes` (stored now if none is).
        func intern(_ bytes: [UInt8]) -> [UInt8] {
            lock.withLock {
                if table.count >= limit && !table.contains(bytes) { table.removeAll() }
                return table.insert(bytes).memberAfterInsert
            }
        }

        /// Distinct arrays stored (tests).
        var count: Int { lock.withLock { table.count } }
    }

    /// No parameters.
    public static let empty = ParamSet(EmptyParams())

    /// Decodes the canonical bytes back into `P`.
    public func decode<P: Decodable>(_ type: P.Type) throws -> P {
        try JSONDecoder().decode(P.self, from: Data(canonical))
    }

    /// The flattened values as a dictionary.
    public var byPath: [String: String] { Dictionary(uniqueKeysWithValues: flattened.map { ($0.path, $0.value) }) }

    public static func == (a: ParamSet, b: ParamSet) -> Bool { a.canonical == b.canonical }

    private static func flatten(_ value: Any, path: String, into out: inout [(String, String)]) {
        if let dict = value as? [String: Any] {
            if dict.isEmpty { out.append((path, "{}")); return }
            for (k, v) in dict { flatten(v, path: path.isEmpty ? k : "\(path).\(k)", into: &out) }
        } else if let array = value as? [Any], array.contains(where: { $0 is [String: Any] || $0 is [Any] }) {
            for (i, v) in array.enumerated() { flatten(v, path: "\(path)[\(i)]", into: &out) }
        } else {
            out.append((path.isEmpty ? "(value)" : path, leafText(value)))
        }
    }

    private static func leafText(_ value: Any) -> String {
        let opts: JSONSerialization.WritingOptions = [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]
        if let data = try? JSONSerialization.data(withJSONObject: value, options: opts),
           let s = String(data: data, encoding: .utf8) { return s }
        return "\(value)"
    }
}

/// The parameters of a node that has none.
public struct EmptyParams: Codable, Sendable, Equatable {
    /// No values.
    public init() {}
}
