import Foundation

/// An `Encoder` that writes the exact bytes of `Artifacts.encoder()` (`JSONEncoder` with sorted keys,
/// unescaped slashes, pretty printed) ~20x cheaper: `JSONEncoder` spends ~45 k instructions per star
/// of a star list (~14 M per `stars/NNNNN` node on a 300-star frame, 19 % of the node).
///
/// The value is encoded into a tree of containers, then written: objects with their keys sorted by
/// UTF-8 bytes, two spaces of indentation per level, `"key" : value`, an empty container as its two
/// brackets around an empty line; numbers as their `description` without a trailing ".0" (what
/// `JSONEncoder` writes: `3`, `0.1`, `1e-05`, `1e+16`, `-0`); strings with `"`, `\` and the control
/// characters escaped (`\b \f \n \r \t`, else `\u00xx`), everything else as UTF-8. Checked byte for
/// byte against `JSONEncoder` (tests, and every artifact of the benchmark series).
///
/// Anything it does not model exactly gives nil, and the caller encodes with `JSONEncoder`: non-finite
/// floating-point values (an error there), `Date`, `Data`, `URL`, `Decimal` (special-cased by
/// `JSONEncoder`), super encoders, a key encoded twice, a value that encodes nothing.
enum JSONTreeEncoder {
    /// `value`'s JSON, or nil (see the type).
    static func encode<T: Encodable>(_ value: T) -> Data? {
        let tree = Tree()
        let root = tree.newNode()
        do { try encodeValue(value, tree, root) } catch { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(tree.arena.count * 2 + 64)
        guard tree.write(root, into: &out, depth: 0) else { return nil }
        return Data(out)
    }

    private enum Unsupported: Error { case value }

    private static func encodeValue<T: Encodable>(_ value: T, _ tree: Tree, _ node: Int) throws {
        guard !(T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self) else {
            throw Unsupported.value
        }
        try value.encode(to: Node(tree: tree, node: node))
    }

    /// The values encoded so far: scalars' JSON text and members' keys in one byte arena, containers
    /// as lists of node indices.
    private final class Tree {
        enum Kind { case unset, scalar, array, object }
        struct Record {
            var kind: Kind = .unset
            /// A scalar's text in `arena`.
            var start = 0, end = 0
            /// A member's key (raw UTF-8) in `arena`, for an object's members.
            var keyStart = 0, keyEnd = 0
            /// A container's members, an index into `members`.
            var list = -1
        }
        /// The state, behind a pointer: a class's stored arrays are checked for exclusive access at
        /// every mutation (a third of the encoder's time); a pointer's pointee is not.
        private struct State {
            var arena: [UInt8] = []
            var records: [Record] = []
            var members: [[Int]] = []
        }
        private let state: UnsafeMutablePointer<State>
        var arena: [UInt8] { get { state.pointee.arena } _modify { yield &state.pointee.arena } }
        var records: [Record] { get { state.pointee.records } _modify { yield &state.pointee.records } }
        var members: [[Int]] { get { state.pointee.members } _modify { yield &state.pointee.members } }

        init() {
            state = .allocate(capacity: 1)
            state.initialize(to: State())
            arena.reserveCapacity(1 << 14)
            records.reserveCapacity(1 << 10)
        }

        deinit {
            state.deinitialize(count: 1)
            state.deallocate()
        }

        func newNode() -> Int {
            records.append(Record())
            return records.count - 1
        }

        func setScalar(_ node: Int, _ write: (inout [UInt8]) throws -> Void) throws {
            guard records[node].kind == .unset else { throw Unsupported.value }
            let start = arena.count
            try write(&arena)
            records[node].kind = .scalar
            records[node].start = start
            records[node].end = arena.count
        }

        /// Makes `node` a container of `kind` (or checks it already is one).
        func makeContainer(_ node: Int, _ kind: Kind) -> Bool {
            switch records[node].kind {
            case .unset:
                records[node].kind = kind
                records[node].list = members.count
                members.append([])
                return true
            case let k: return k == kind
            }
        }

        /// A new member of container `node` (key: for an object), or nil if `node` is not a `kind` container.
        func addMember(_ node: Int, _ kind: Kind, key: String?) -> Int? {
            guard records[node].kind == kind else { return nil }
            let child = newNode()
            if let key {
                records[child].keyStart = arena.count
                arena.append(contentsOf: key.utf8)
                records[child].keyEnd = arena.count
            }
            members[records[node].list].append(child)
            return child
        }

        func count(_ node: Int) -> Int { records[node].list >= 0 ? members[records[node].list].count : 0 }

        /// Whether member a's key sorts before member b's (UTF-8 bytes); equal keys are not modelled.
        private func keyPrecedes(_ a: Int, _ b: Int) -> Bool {
            let ra = records[a], rb = records[b]
            let na = ra.keyEnd - ra.keyStart, nb = rb.keyEnd - rb.keyStart
            let c = arena.withUnsafeBufferPointer { p in memcmp(p.baseAddress! + ra.keyStart, p.baseAddress! + rb.keyStart, min(na, nb)) }
            return c != 0 ? c < 0 : na < nb
        }

        private func sameKey(_ a: Int, _ b: Int) -> Bool {
            let ra = records[a], rb = records[b]
            return ra.keyEnd - ra.keyStart == rb.keyEnd - rb.keyStart && !keyPrecedes(a, b) && !keyPrecedes(b, a)
        }

        /// Writes `node` at nesting `depth`; false if some value in it was never set or a key repeats.
        func write(_ node: Int, into out: inout [UInt8], depth: Int) -> Bool {
            let r = records[node]
            switch r.kind {
            case .unset:
                return false
            case .scalar:
                arena.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[r.start..<r.end])) }
                return true
            case .array, .object:
                let object = r.kind == .object
                var items = members[r.list]
                if object {
                    // Insertion sort: objects are small, and usually already nearly sorted.
                    for i in 1..<max(1, items.count) {
                        let x = items[i]
                        var j = i
                        while j > 0 && keyPrecedes(x, items[j - 1]) { items[j] = items[j - 1]; j -= 1 }
                        items[j] = x
                    }
                }
                out.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
                out.append(0x0A)
                for (i, item) in items.enumerated() {
                    if i > 0 {
                        // A key encoded twice: `JSONEncoder` keeps one of them; not modelled.
                        if object && sameKey(item, items[i - 1]) { return false }
                        out.append(UInt8(ascii: ","))
                        out.append(0x0A)
                    }
                    JSONTreeEncoder.indent(&out, depth + 1)
                    if object {
                        let m = records[item]
                        arena.withUnsafeBufferPointer {
                            JSONTreeEncoder.appendString(UnsafeBufferPointer(rebasing: $0[m.keyStart..<m.keyEnd]), to: &out)
                        }
                        out.append(contentsOf: [0x20, UInt8(ascii: ":"), 0x20])
                    }
                    guard write(item, into: &out, depth: depth + 1) else { return false }
                }
                out.append(0x0A)
                JSONTreeEncoder.indent(&out, depth)
                out.append(object ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                return true
            }
        }
    }

    private static func indent(_ out: inout [UInt8], _ depth: Int) {
        for _ in 0..<(2 * depth) { out.append(0x20) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// The UTF-8 `bytes` quoted, with `JSONEncoder`'s escapes.
    static func appendString<C: Collection<UInt8>>(_ bytes: C, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A finite floating-point value as `JSONEncoder` writes it: its description without ".0".
    private static func appendNumber<F: BinaryFloatingPoint & LosslessStringConvertible>(_ x: F, _ out: inout [UInt8]) throws {
        guard x.isFinite else { throw Unsupported.value }
        var d = x.description
        d.withUTF8 { u in
            let n = u.count > 2 && u[u.count - 2] == UInt8(ascii: ".") && u[u.count - 1] == UInt8(ascii: "0") ? u.count - 2 : u.count
            out.append(contentsOf: UnsafeBufferPointer(rebasing: u[0..<n]))
        }
    }

    private static func appendInteger<I: BinaryInteger>(_ x: I, _ out: inout [UInt8]) {
        var d = x.description
        d.withUTF8 { out.append(contentsOf: $0) }
    }

    // MARK: encoder and containers

    /// The scalar encodings shared by the three containers, into node `node`.
    private static func put(_ tree: Tree, _ node: Int, null: Void) throws { try tree.setScalar(node) { $0.append(contentsOf: "null".utf8) } }
    private static func put(_ tree: Tree, _ node: Int, _ v: Bool) throws { try tree.setScalar(node) { $0.append(contentsOf: (v ? "true" : "false").utf8) } }
    private static func put(_ tree: Tree, _ node: Int, _ v: String) throws { try tree.setScalar(node) { appendString(v.utf8, to: &$0) } }
    private static func put<F: BinaryFloatingPoint & LosslessStringConvertible>(_ tree: Tree, _ node: Int, float v: F) throws {
        try tree.setScalar(node) { try appendNumber(v, &$0) }
    }
    private static func put<I: BinaryInteger>(_ tree: Tree, _ node: Int, integer v: I) throws { try tree.setScalar(node) { appendInteger(v, &$0) } }

    private struct Node: Encoder {
        let tree: Tree
        let node: Int
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keyed<Key>(tree: tree, node: node, failed: !tree.makeContainer(node, .object)))
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            Unkeyed(tree: tree, node: node, failed: !tree.makeContainer(node, .array))
        }
        func singleValueContainer() -> any SingleValueEncodingContainer { Single(tree: tree, node: node) }
    }

    private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let tree: Tree
        let node: Int
        /// The node already held another kind of value: every encode fails.
        let failed: Bool
        var codingPath: [any CodingKey] { [] }

        private func member(_ key: Key) throws -> Int {
            guard !failed, let m = tree.addMember(node, .object, key: key.stringValue) else { throw Unsupported.value }
            return m
        }

        mutating func encodeNil(forKey key: Key) throws { try put(tree, try member(key), null: ()) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { try put(tree, try member(key), value) }
        mutating func encode(_ value: String, forKey key: Key) throws { try put(tree, try member(key), value) }
        mutating func encode(_ value: Double, forKey key: Key) throws { try put(tree, try member(key), float: value) }
        mutating func encode(_ value: Float, forKey key: Key) throws { try put(tree, try member(key), float: value) }
        mutating func encode(_ value: Int, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { try put(tree, try member(key), integer: value) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try encodeValue(value, tree, try member(key)) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey> {
            guard let m = try? member(key) else { return KeyedEncodingContainer(Keyed<NestedKey>(tree: tree, node: node, failed: true)) }
            return Node(tree: tree, node: m).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            guard let m = try? member(key) else { return Unkeyed(tree: tree, node: node, failed: true) }
            return Node(tree: tree, node: m).unkeyedContainer()
        }
        // A super encoder's member is never set: the write fails and `JSONEncoder` takes over.
        mutating func superEncoder() -> any Encoder {
            _ = failed ? nil : tree.addMember(node, .object, key: "super")
            return Node(tree: tree, node: tree.newNode())
        }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            _ = try? member(key)
            return Node(tree: tree, node: tree.newNode())
        }
    }

    private struct Unkeyed: UnkeyedEncodingContainer {
        let tree: Tree
        let node: Int
        let failed: Bool
        var codingPath: [any CodingKey] { [] }
        var count: Int { tree.count(node) }

        private func element() throws -> Int {
            guard !failed, let m = tree.addMember(node, .array, key: nil) else { throw Unsupported.value }
            return m
        }

        mutating func encodeNil() throws { try put(tree, try element(), null: ()) }
        mutating func encode(_ value: Bool) throws { try put(tree, try element(), value) }
        mutating func encode(_ value: String) throws { try put(tree, try element(), value) }
        mutating func encode(_ value: Double) throws { try put(tree, try element(), float: value) }
        mutating func encode(_ value: Float) throws { try put(tree, try element(), float: value) }
        mutating func encode(_ value: Int) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: Int8) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: Int16) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: Int32) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: Int64) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: UInt) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: UInt8) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: UInt16) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: UInt32) throws { try put(tree, try element(), integer: value) }
        mutating func encode(_ value: UInt64) throws { try put(tree, try element(), integer: value) }
        mutating func encode<T: Encodable>(_ value: T) throws { try encodeValue(value, tree, try element()) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            guard let m = try? element() else { return KeyedEncodingContainer(Keyed<NestedKey>(tree: tree, node: node, failed: true)) }
            return Node(tree: tree, node: m).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            guard let m = try? element() else { return Unkeyed(tree: tree, node: node, failed: true) }
            return Node(tree: tree, node: m).unkeyedContainer()
        }
        // A super encoder's element is never set: the write fails and `JSONEncoder` takes over.
        mutating func superEncoder() -> any Encoder {
            _ = try? element()
            return Node(tree: tree, node: tree.newNode())
        }
    }

    private struct Single: SingleValueEncodingContainer {
        let tree: Tree
        let node: Int
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil() throws { try put(tree, node, null: ()) }
        mutating func encode(_ value: Bool) throws { try put(tree, node, value) }
        mutating func encode(_ value: String) throws { try put(tree, node, value) }
        mutating func encode(_ value: Double) throws { try put(tree, node, float: value) }
        mutating func encode(_ value: Float) throws { try put(tree, node, float: value) }
        mutating func encode(_ value: Int) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: Int8) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: Int16) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: Int32) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: Int64) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: UInt) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: UInt8) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: UInt16) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: UInt32) throws { try put(tree, node, integer: value) }
        mutating func encode(_ value: UInt64) throws { try put(tree, node, integer: value) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            guard tree.records[node].kind == .unset else { throw Unsupported.value }
            try encodeValue(value, tree, node)
        }
    }
}
