import Foundation

/// A `Decoder` over `JSONTree` (a flat parse of the document): reads the JSON artifacts the pipeline
/// writes ~10x cheaper than `JSONDecoder`, which spends ~4 k instructions per number (a 700-star
/// `measure` artifact: ~17 M instructions, and every frame's is decoded by three aggregates and the
/// frame's `local`). cJSON was tried first: 2x, its per-value allocations and `strtod` dominate.
///
/// Same values as `JSONDecoder`, or nil: numbers are correctly rounded (`JSONTree.double`), integers
/// must be exact; anything this decoder does not model exactly like `JSONDecoder` gives nil, so the
/// caller decodes with `JSONDecoder` (which also names the error of a bad artifact): `Float` (text ->
/// Double -> Float could round twice), `Date`, `Data`, `URL` and `Decimal` (which `JSONDecoder`
/// special-cases), super decoders, objects with escaped keys, bad JSON.
enum JSONTreeDecoder {
    /// `T` decoded from `data`, or nil (see the type).
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) -> T? {
        data.withUnsafeBytes { raw -> T? in
            guard let tree = JSONTree(raw.bindMemory(to: UInt8.self)), !tree.values.isEmpty else { return nil }
            let box = TreeBox(tree)
            return try? value(Node(box: box, index: 0), T.self)
        }
    }

    private enum Unsupported: Error { case value }

    /// The tree, shared by reference among the containers of one decode.
    private final class TreeBox {
        let tree: JSONTree
        init(_ tree: JSONTree) { self.tree = tree }
    }

    /// Types whose `JSONDecoder` decoding is not their own `init(from:)`, and Float.
    private static func special(_ type: Any.Type) -> Bool {
        type == Float.self || type == Date.self || type == Data.self || type == URL.self || type == Decimal.self
    }

    private static func value<T: Decodable>(_ node: Node, _ type: T.Type) throws -> T {
        guard !special(T.self) else { throw Unsupported.value }
        return try T(from: node)
    }

    /// One value of the tree.
    private struct Node: Decoder {
        let box: TreeBox
        let index: Int32
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        var v: JSONTree.Value { box.tree.values[Int(index)] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            let v = self.v
            guard v.kind == .object, !v.escaped else { throw Unsupported.value }
            return KeyedDecodingContainer(Keyed<Key>(box: box, first: v.firstChild))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let v = self.v
            guard v.kind == .array else { throw Unsupported.value }
            return Unkeyed(box: box, count: Int(v.count), next: v.firstChild)
        }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(node: self) }

        func isNull() -> Bool { v.kind == .null }
        func bool() throws -> Bool {
            switch v.kind {
            case .trueValue: return true
            case .falseValue: return false
            default: throw Unsupported.value
            }
        }
        func string() throws -> String {
            guard let s = box.tree.string(v) else { throw Unsupported.value }
            return s
        }
        func double() throws -> Double {
            guard let d = box.tree.double(v) else { throw Unsupported.value }
            return d
        }
        func integer<T: BinaryInteger>(_ type: T.Type) throws -> T {
            guard let i = box.tree.integer(v, type) else { throw Unsupported.value }
            return i
        }
    }

    private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let box: TreeBox
        /// The object's first member, -1 if none.
        let first: Int32
        var codingPath: [any CodingKey] { [] }

        var allKeys: [Key] {
            var keys: [Key] = []
            var i = first
            while i >= 0 {
                let v = box.tree.values[Int(i)]
                if let name = box.tree.key(v), let k = Key(stringValue: name) { keys.append(k) }
                i = v.next
            }
            return keys
        }

        /// The member named `key` (the first one), nil if none.
        func member(_ key: Key) -> Node? {
            var name = key.stringValue
            let found: Int32 = name.withUTF8 { k in
                var i = first
                while i >= 0 {
                    let v = box.tree.values[Int(i)]
                    if box.tree.keyEquals(v, k) { return i }
                    i = v.next
                }
                return -1
            }
            return found >= 0 ? Node(box: box, index: found) : nil
        }

        func required(_ key: Key) throws -> Node {
            guard let m = member(key) else { throw Unsupported.value }
            return m
        }

        func contains(_ key: Key) -> Bool { member(key) != nil }
        func decodeNil(forKey key: Key) throws -> Bool { try required(key).isNull() }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try required(key).bool() }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try required(key).string() }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try required(key).double() }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw Unsupported.value }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try required(key).integer(type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try required(key).integer(type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try required(key).integer(type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try required(key).integer(type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try required(key).integer(type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try required(key).integer(type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try required(key).integer(type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try required(key).integer(type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try required(key).integer(type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try required(key).integer(type) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try JSONTreeDecoder.value(try required(key), type) }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey> { try required(key).container(keyedBy: type) }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try required(key).unkeyedContainer()
        }
        func superDecoder() throws -> any Decoder { throw Unsupported.value }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Unsupported.value }
    }

    private struct Unkeyed: UnkeyedDecodingContainer {
        let box: TreeBox
        var codingPath: [any CodingKey] { [] }
        let count: Int?
        private(set) var currentIndex = 0
        /// The next element, -1 at the end.
        private var next: Int32

        init(box: TreeBox, count: Int, next: Int32) {
            self.box = box
            self.count = count
            self.next = next
        }

        var isAtEnd: Bool { next < 0 }

        private mutating func take() throws -> Node {
            guard next >= 0 else { throw Unsupported.value }
            let node = Node(box: box, index: next)
            next = box.tree.values[Int(next)].next
            currentIndex += 1
            return node
        }

        mutating func decodeNil() throws -> Bool {
            guard next >= 0 else { throw Unsupported.value }
            guard box.tree.values[Int(next)].kind == .null else { return false }
            _ = try take()
            return true
        }
        mutating func decode(_ type: Bool.Type) throws -> Bool { try take().bool() }
        mutating func decode(_ type: String.Type) throws -> String { try take().string() }
        mutating func decode(_ type: Double.Type) throws -> Double { try take().double() }
        mutating func decode(_ type: Float.Type) throws -> Float { throw Unsupported.value }
        mutating func decode(_ type: Int.Type) throws -> Int { try take().integer(type) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try take().integer(type) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try take().integer(type) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try take().integer(type) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try take().integer(type) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try take().integer(type) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try take().integer(type) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try take().integer(type) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try take().integer(type) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try take().integer(type) }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONTreeDecoder.value(try take(), type) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try take().container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try take().unkeyedContainer() }
        mutating func superDecoder() throws -> any Decoder { throw Unsupported.value }
    }

    private struct Single: SingleValueDecodingContainer {
        let node: Node
        var codingPath: [any CodingKey] { [] }

        func decodeNil() -> Bool { node.isNull() }
        func decode(_ type: Bool.Type) throws -> Bool { try node.bool() }
        func decode(_ type: String.Type) throws -> String { try node.string() }
        func decode(_ type: Double.Type) throws -> Double { try node.double() }
        func decode(_ type: Float.Type) throws -> Float { throw Unsupported.value }
        func decode(_ type: Int.Type) throws -> Int { try node.integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try node.integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try node.integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try node.integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try node.integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try node.integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try node.integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try node.integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try node.integer(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try node.integer(type) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONTreeDecoder.value(node, type) }
    }
}
