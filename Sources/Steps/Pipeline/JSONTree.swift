import Foundation

/// A JSON document parsed into one flat array of values (RFC 8259), for `JSONTreeDecoder`.
///
/// Values are kept in document order; containers link their members through `firstChild` / `next`
/// indices, and strings, keys and numbers are ranges of the source bytes, decoded only when asked.
/// No allocation per value. Numbers are converted exactly as a correctly rounded parser does:
/// decimal significands of up to 19 digits with a power of ten in 10^-22 ... 10^22 and a significand
/// <= 2^53 take Clinger's fast path (one exact conversion and one correctly rounded IEEE multiply or
/// divide), every other number goes through `strtod`.
struct JSONTree {
    enum Kind: UInt8 { case null, falseValue, trueValue, number, string, array, object }

    struct Value {
        var kind: Kind
        /// Whether a string's text (for an object: one of its member keys) holds a backslash escape.
        var escaped = false
        /// Text range: a string's characters between the quotes, a number's characters.
        var start: Int32 = 0
        var end: Int32 = 0
        /// An object member's key (characters between the quotes), else empty.
        var keyStart: Int32 = 0
        var keyEnd: Int32 = 0
        /// First member of an array or object, -1 if none.
        var firstChild: Int32 = -1
        /// Next member of the enclosing container, -1 if last.
        var next: Int32 = -1
        /// Members of an array or object.
        var count: Int32 = 0
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var values: [Value] = []

    /// Nesting deeper than this is refused (nil), so recursion cannot exhaust the stack.
    static let maxDepth = 256

    /// The tree of `bytes` (which must outlive it), or nil when they are not one JSON value with
    /// only white space around it.
    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        guard bytes.count < Int(Int32.max) else { return nil }
        values.reserveCapacity(bytes.count / 12)
        var p = 0
        guard parseValue(&p, depth: 0) != nil else { return nil }
        skipSpace(&p)
        guard p == bytes.count else { return nil }
    }

    private func skipSpace(_ p: inout Int) {
        while p < bytes.count {
            switch bytes[p] {
            case 0x20, 0x0A, 0x0D, 0x09: p += 1
            default: return
            }
        }
    }

    /// Parses the value at `p` (after white space), appends it and its members, returns its index.
    private mutating func parseValue(_ p: inout Int, depth: Int) -> Int32? {
        guard depth < Self.maxDepth else { return nil }
        skipSpace(&p)
        guard p < bytes.count else { return nil }
        let index = Int32(values.count)
        switch bytes[p] {
        case UInt8(ascii: "{"):
            return parseContainer(&p, depth: depth, object: true)
        case UInt8(ascii: "["):
            return parseContainer(&p, depth: depth, object: false)
        case UInt8(ascii: "\""):
            guard let s = scanString(&p) else { return nil }
            values.append(Value(kind: .string, escaped: s.escaped, start: Int32(s.start), end: Int32(s.end)))
        case UInt8(ascii: "t"):
            guard literal(&p, "true") else { return nil }
            values.append(Value(kind: .trueValue))
        case UInt8(ascii: "f"):
            guard literal(&p, "false") else { return nil }
            values.append(Value(kind: .falseValue))
        case UInt8(ascii: "n"):
            guard literal(&p, "null") else { return nil }
            values.append(Value(kind: .null))
        default:
            let start = p
            guard scanNumber(&p) else { return nil }
            values.append(Value(kind: .number, start: Int32(start), end: Int32(p)))
        }
        return index
    }

    /// Parses the object (`object`) or array whose opening bracket is at `p`: appends it, then its
    /// members (linked in order, an object's with their keys), returns its index.
    private mutating func parseContainer(_ p: inout Int, depth: Int, object: Bool) -> Int32? {
        let index = Int32(values.count)
        let close = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
        p += 1
        values.append(Value(kind: object ? .object : .array))
        skipSpace(&p)
        if p < bytes.count, bytes[p] == close { p += 1; return index }
        var previous: Int32 = -1
        var count: Int32 = 0
        while true {
            var key: (start: Int, end: Int, escaped: Bool)? = nil
            if object {
                skipSpace(&p)
                guard p < bytes.count, bytes[p] == UInt8(ascii: "\""), let k = scanString(&p) else { return nil }
                skipSpace(&p)
                guard p < bytes.count, bytes[p] == UInt8(ascii: ":") else { return nil }
                p += 1
                key = k
            }
            guard let member = parseValue(&p, depth: depth + 1) else { return nil }
            if let key {
                values[Int(member)].keyStart = Int32(key.start)
                values[Int(member)].keyEnd = Int32(key.end)
                if key.escaped { values[Int(index)].escaped = true }
            }
            if previous < 0 { values[Int(index)].firstChild = member } else { values[Int(previous)].next = member }
            previous = member
            count += 1
            skipSpace(&p)
            guard p < bytes.count else { return nil }
            if bytes[p] == UInt8(ascii: ",") { p += 1; continue }
            guard bytes[p] == close else { return nil }
            p += 1
            break
        }
        values[Int(index)].count = count
        return index
    }

    private func literal(_ p: inout Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard p + n <= bytes.count else { return false }
        for k in 0..<n where bytes[p + k] != word.utf8Start[k] { return false }
        p += n
        return true
    }

    /// The string starting at the quote at `p`: its character range and whether it has escapes.
    /// Control characters are refused (as JSON requires); escapes are checked when decoded.
    private func scanString(_ p: inout Int) -> (start: Int, end: Int, escaped: Bool)? {
        p += 1
        let start = p
        var escaped = false
        while p < bytes.count {
            let b = bytes[p]
            if b == UInt8(ascii: "\"") {
                let end = p
                p += 1
                return (start, end, escaped)
            }
            if b == UInt8(ascii: "\\") { escaped = true; p += 2; continue }
            if b < 0x20 { return nil }
            p += 1
        }
        return nil
    }

    /// A number by the RFC 8259 grammar.
    private func scanNumber(_ p: inout Int) -> Bool {
        func digits(_ p: inout Int) -> Int {
            let s = p
            while p < bytes.count, bytes[p] >= 0x30, bytes[p] <= 0x39 { p += 1 }
            return p - s
        }
        if p < bytes.count, bytes[p] == UInt8(ascii: "-") { p += 1 }
        guard p < bytes.count else { return false }
        if bytes[p] == UInt8(ascii: "0") { p += 1 } else if digits(&p) == 0 { return false }
        if p < bytes.count, bytes[p] == UInt8(ascii: ".") {
            p += 1
            guard digits(&p) > 0 else { return false }
        }
        if p < bytes.count, bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E") {
            p += 1
            if p < bytes.count, bytes[p] == UInt8(ascii: "+") || bytes[p] == UInt8(ascii: "-") { p += 1 }
            guard digits(&p) > 0 else { return false }
        }
        return true
    }

    // MARK: reading values

    /// Exact powers of ten (10^22 is the largest power of ten a Double holds exactly).
    private static let powers: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { r, _ in r * 10 } }

    /// The number `v` as the correctly rounded Double, nil if `v` is not a number.
    func double(_ v: Value) -> Double? {
        guard v.kind == .number else { return nil }
        var p = Int(v.start)
        let end = Int(v.end)
        var negative = false
        if bytes[p] == UInt8(ascii: "-") { negative = true; p += 1 }
        var significand: UInt64 = 0
        var digits = 0, exponent = 0
        var fraction = false
        while p < end {
            let b = bytes[p]
            if b >= 0x30 && b <= 0x39 {
                if digits < 19 {
                    significand = significand * 10 + UInt64(b - 0x30)
                    if significand != 0 { digits += 1 }
                    if fraction { exponent -= 1 }
                } else {
                    return slow(v)  // more digits than a UInt64 holds
                }
            } else if b == UInt8(ascii: ".") {
                fraction = true
            } else {
                break  // e or E
            }
            p += 1
        }
        if p < end {
            p += 1
            var sign = 1
            if bytes[p] == UInt8(ascii: "+") { p += 1 } else if bytes[p] == UInt8(ascii: "-") { sign = -1; p += 1 }
            var e = 0
            while p < end {
                e = e * 10 + Int(bytes[p] - 0x30)
                if e > 10_000 { return slow(v) }
                p += 1
            }
            exponent += sign * e
        }
        // Clinger's fast path: the significand and 10^|e| are exact Doubles, one rounding.
        guard significand <= 1 << 53, exponent >= -22, exponent <= 22 else { return slow(v) }
        var x = Double(significand)
        if exponent >= 0 { x *= Self.powers[exponent] } else { x /= Self.powers[-exponent] }
        guard x.isFinite else { return nil }
        return negative ? -x : x
    }

    /// `strtod` of the number's text (correctly rounded); nil if it overflows.
    private func slow(_ v: Value) -> Double? {
        let n = Int(v.end - v.start)
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double? in
            let b = buf.baseAddress!
            UnsafeMutableRawPointer(b).copyMemory(from: bytes.baseAddress! + Int(v.start), byteCount: n)
            b[n] = 0
            var stop: UnsafeMutablePointer<CChar>? = nil
            let x = strtod(b, &stop)
            return stop == b + n && x.isFinite ? x : nil
        }
    }

    /// The number `v` as an exact integer of `T`, nil if it is not one.
    func integer<T: BinaryInteger>(_ v: Value, _ type: T.Type) -> T? {
        guard v.kind == .number else { return nil }
        var p = Int(v.start)
        let end = Int(v.end)
        let negative = bytes[p] == UInt8(ascii: "-")
        if negative { p += 1 }
        var magnitude: UInt64 = 0
        while p < end {
            let b = bytes[p]
            guard b >= 0x30 && b <= 0x39 else {
                // A fraction or an exponent: exact only if the Double is integral and below 2^53.
                guard let d = double(v), d.rounded(.towardZero) == d, Swift.abs(d) <= 9_007_199_254_740_992 else { return nil }
                return T(exactly: d)
            }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
            guard !o1, !o2 else { return nil }
            magnitude = s
            p += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? T(exactly: Int64.min) : T(exactly: -Int64(magnitude))
        }
        return T(exactly: magnitude)
    }

    /// The string `v` (escapes decoded, valid UTF-8 required), nil if `v` is not a valid string.
    func string(_ v: Value) -> String? {
        guard v.kind == .string else { return nil }
        let text = UnsafeBufferPointer(rebasing: bytes[Int(v.start)..<Int(v.end)])
        guard v.escaped else { return String(validating: text, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var p = 0
        func hex4(_ p: inout Int) -> UInt32? {
            guard p + 4 <= text.count else { return nil }
            var u: UInt32 = 0
            for _ in 0..<4 {
                let b = text[p]
                let d: UInt32
                switch b {
                case 0x30...0x39: d = UInt32(b - 0x30)
                case 0x41...0x46: d = UInt32(b - 0x41 + 10)
                case 0x61...0x66: d = UInt32(b - 0x61 + 10)
                default: return nil
                }
                u = u << 4 | d
                p += 1
            }
            return u
        }
        while p < text.count {
            let b = text[p]
            p += 1
            guard b == UInt8(ascii: "\\") else { out.append(b); continue }
            guard p < text.count else { return nil }
            let e = text[p]
            p += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var u = hex4(&p) else { return nil }
                if u >= 0xD800 && u < 0xDC00 {
                    // A high surrogate must be followed by an escaped low one.
                    guard p + 2 <= text.count, text[p] == UInt8(ascii: "\\"), text[p + 1] == UInt8(ascii: "u") else { return nil }
                    p += 2
                    guard let low = hex4(&p), low >= 0xDC00, low < 0xE000 else { return nil }
                    u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                } else if u >= 0xDC00 && u < 0xE000 {
                    return nil
                }
                guard let scalar = Unicode.Scalar(u) else { return nil }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                return nil
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Whether member `v`'s key is exactly the UTF-8 bytes `key` (an escaped key never matches:
    /// the decoder refuses documents with escaped keys before it gets here).
    func keyEquals(_ v: Value, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = Int(v.keyEnd - v.keyStart)
        guard n == key.count else { return false }
        return n == 0 || memcmp(bytes.baseAddress! + Int(v.keyStart), key.baseAddress!, n) == 0
    }

    /// Member `v`'s key as a String.
    func key(_ v: Value) -> String? {
        String(validating: UnsafeBufferPointer(rebasing: bytes[Int(v.keyStart)..<Int(v.keyEnd)]), as: UTF8.self)
    }
}
