import Foundation
import Graph
import Imaging

/// A direct reader of star-list artifacts (`stars/NNNNN#stars`: a JSON array of `StarMeasurement`
/// objects of 14 numbers, as `Artifacts.writeJSON` writes them) for `register/NNNNN`, which reads one
/// per frame: `JSONDecoder` spends ~40 k instructions per star on it (~30 M per node on a 700-star
/// field). Numbers are parsed with `strtod` (correctly rounded, like `JSONDecoder`: the same Doubles)
/// and handed to `StarMeasurement`'s own `init(from:)`. Anything else than that exact shape (another
/// key, a missing or repeated one, a non-number, bad JSON) gives nil: the caller then decodes with
/// `JSONDecoder`, which reports the error.
enum StarListJSON {
    /// The keys of a star, in `StarMeasurement`'s coding key names.
    static let names = ["x", "y", "flux", "peak", "background", "fwhm", "fwhmMajor", "fwhmMinor", "roundness",
                        "ellipticity", "contrast", "snr", "angle", "residualRMS"]
    private static let nameBytes: [[UInt8]] = names.map { Array($0.utf8) }

    /// The star list of input `name` of a node: read directly, with `JSONDecoder` (which names the
    /// problem) only when the artifact is not exactly that shape.
    static func read(_ ctx: NodeContext, _ name: String) throws -> [StarMeasurement] {
        try (try? ctx.inputData(name)).flatMap(decode) ?? Artifacts.readJSON([StarMeasurement].self, ctx, name)
    }

    /// The star list in `data`, or nil when it is not exactly a JSON array of star objects.
    static func decode(_ data: Data) -> [StarMeasurement]? {
        data.withUnsafeBytes { raw -> [StarMeasurement]? in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return nil }
            var r = Reader(p: base, end: base + raw.count)
            var out: [StarMeasurement] = []
            var values = [Double](repeating: 0, count: names.count)
            guard r.take(UInt8(ascii: "[")) else { return nil }
            if r.take(UInt8(ascii: "]")) { return r.atEnd() ? out : nil }
            repeat {
                guard r.take(UInt8(ascii: "{")) else { return nil }
                var seen = 0
                repeat {
                    guard let k = r.key(), seen & (1 << k) == 0, r.take(UInt8(ascii: ":")), let v = r.number() else { return nil }
                    values[k] = v
                    seen |= 1 << k
                } while r.take(UInt8(ascii: ","))
                guard r.take(UInt8(ascii: "}")), seen == (1 << names.count) - 1,
                      let star = try? StarMeasurement(from: SlotDecoder(values: values)) else { return nil }
                out.append(star)
            } while r.take(UInt8(ascii: ","))
            guard r.take(UInt8(ascii: "]")), r.atEnd() else { return nil }
            return out
        }
    }

    /// A cursor over the bytes.
    private struct Reader {
        var p: UnsafePointer<UInt8>
        let end: UnsafePointer<UInt8>

        mutating func skipSpace() {
            while p < end, p.pointee == 0x20 || p.pointee == 0x0A || p.pointee == 0x0D || p.pointee == 0x09 { p += 1 }
        }

        /// Skips white space, then takes `byte` if it is next.
        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard p < end, p.pointee == byte else { return false }
            p += 1
            return true
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return p == end
        }

        /// A quoted key without escapes, as an index into `names`.
        mutating func key() -> Int? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = p
            while p < end, p.pointee != UInt8(ascii: "\""), p.pointee != UInt8(ascii: "\\") { p += 1 }
            guard p < end, p.pointee == UInt8(ascii: "\"") else { return nil }
            let n = p - start
            p += 1
            for (k, name) in StarListJSON.nameBytes.enumerated() where name.count == n {
                if name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, start, n) == 0 }) { return k }
            }
            return nil
        }

        /// A JSON number (RFC 8259 grammar), parsed by `strtod`.
        mutating func number() -> Double? {
            skipSpace()
            let start = p
            func digits() -> Int {
                let s = p
                while p < end, p.pointee >= 0x30, p.pointee <= 0x39 { p += 1 }
                return p - s
            }
            if p < end, p.pointee == UInt8(ascii: "-") { p += 1 }
            guard p < end else { return nil }
            if p.pointee == UInt8(ascii: "0") { p += 1 } else if digits() == 0 { return nil }
            if p < end, p.pointee == UInt8(ascii: ".") {
                p += 1
                guard digits() > 0 else { return nil }
            }
            if p < end, p.pointee == UInt8(ascii: "e") || p.pointee == UInt8(ascii: "E") {
                p += 1
                if p < end, p.pointee == UInt8(ascii: "+") || p.pointee == UInt8(ascii: "-") { p += 1 }
                guard digits() > 0 else { return nil }
            }
            let n = p - start
            guard n < 64 else { return nil }
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buf -> Double? in
                let b = buf.baseAddress!
                UnsafeMutableRawPointer(b).copyMemory(from: start, byteCount: n)
                b[n] = 0
                var stop: UnsafeMutablePointer<CChar>? = nil
                let v = strtod(b, &stop)
                return stop == b + n && v.isFinite ? v : nil
            }
        }
    }

    /// A `Decoder` that hands `StarMeasurement.init(from:)` the 14 parsed numbers by key name.
    private struct SlotDecoder: Decoder {
        let values: [Double]
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Slots<Key>(values: values))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw SlotError.unsupported }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { throw SlotError.unsupported }
    }

    private enum SlotError: Error { case unsupported, unknownKey }

    private struct Slots<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let values: [Double]
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { StarListJSON.names.compactMap { Key(stringValue: $0) } }

        func slot(_ key: Key) -> Int? { StarListJSON.names.firstIndex(of: key.stringValue) }
        func contains(_ key: Key) -> Bool { slot(key) != nil }
        func decodeNil(forKey key: Key) throws -> Bool { false }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
            guard let k = slot(key) else { throw SlotError.unknownKey }
            return values[k]
        }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { throw SlotError.unsupported }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { throw SlotError.unsupported }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw SlotError.unsupported }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { throw SlotError.unsupported }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { throw SlotError.unsupported }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { throw SlotError.unsupported }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { throw SlotError.unsupported }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { throw SlotError.unsupported }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { throw SlotError.unsupported }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { throw SlotError.unsupported }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { throw SlotError.unsupported }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { throw SlotError.unsupported }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { throw SlotError.unsupported }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { throw SlotError.unsupported }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey> { throw SlotError.unsupported }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw SlotError.unsupported }
        func superDecoder() throws -> any Decoder { throw SlotError.unsupported }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw SlotError.unsupported }
    }
}
