// A YAML document as a small tree that remembers where every node came from.

/// One node of a parsed YAML document, with the 1-based position it was read from.
///
/// The tree keeps what typing needs and nothing more: a scalar's text plus its style and
/// explicit tag (so a quoted `"3"` stays a string), mappings in document order with the mark
/// of each key (so errors can name the key's line), and sequences. Aliases are never present:
/// the parser rejects them.
public indirect enum YAMLNode: Sendable, Equatable {
    /// A scalar: its text exactly as libyaml delivered it, where it starts, its style and tag.
    case scalar(String, Mark, Style, tag: String?)
    /// A mapping: entries in document order; keys are unique (the parser rejects duplicates).
    case mapping([Entry], Mark)
    /// A sequence: items in document order.
    case sequence([YAMLNode], Mark)

    /// A 1-based position in the source text.
    public struct Mark: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// 1-based line number.
        public var line: Int
        /// 1-based column number.
        public var column: Int
        /// Creates a mark from 1-based line and column.
        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }
        /// `line:column`.
        public var description: String { "\(line):\(column)" }
    }

    /// How a scalar was written; only `plain` scalars are resolved to numbers, booleans or null.
    public enum Style: Sendable, Equatable {
        /// Unquoted: `3`, `true`, `frames`.
        case plain
        /// `'...'`
        case singleQuoted
        /// `"..."`
        case doubleQuoted
        /// `|` block.
        case literal
        /// `>` block.
        case folded
    }

    /// One `key: value` pair of a mapping; `keyMark` is where the key starts.
    public struct Entry: Sendable, Equatable {
        /// The key's text (keys are always scalars).
        public var key: String
        /// Where the key starts.
        public var keyMark: Mark
        /// The value (an empty value is a plain scalar with empty text, i.e. null).
        public var value: YAMLNode
        /// Creates an entry.
        public init(key: String, keyMark: Mark, value: YAMLNode) {
            self.key = key
            self.keyMark = keyMark
            self.value = value
        }
    }

    /// Where this node starts.
    public var mark: Mark {
        switch self {
        case .scalar(_, let m, _, _), .mapping(_, let m), .sequence(_, let m): return m
        }
    }

    /// The value a scalar denotes under the YAML 1.2 core schema, restricted to what a
    /// config needs: quoted and block scalars (and `!!str`) are always strings.
    public enum Resolved: Sendable, Equatable {
        /// `~`, `null`, `Null`, `NULL` or an empty plain scalar.
        case null
        /// `true`/`false` (also `True`, `TRUE`, `False`, `FALSE`); `yes`/`no` are strings.
        case bool(Bool)
        /// A decimal integer that fits in `Int`.
        case int(Int)
        /// A decimal floating-point number, or `.inf`/`.nan` spellings.
        case double(Double)
        /// Anything else.
        case string(String)
    }

    /// The resolved value of a scalar node; `nil` for mappings and sequences.
    public var resolved: Resolved? {
        guard case .scalar(let text, _, let style, let tag) = self else { return nil }
        return YAMLNode.resolve(text, style: style, tag: tag)
    }

    /// Resolves scalar text as the core schema would (see `Resolved`).
    public static func resolve(_ text: String, style: Style, tag: String?) -> Resolved {
        if style != .plain || tag == "tag:yaml.org,2002:str" || tag == "!!str" { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        if isDecimalInteger(text) {
            if let n = Int(text) { return .int(n) }
            return .string(text)  // too large for Int: let the typed reader say so
        }
        if isDecimalFloat(text), let d = Double(text) { return .double(d) }
        return .string(text)
    }

    /// `[-+]?[0-9]+`
    static func isDecimalInteger(_ s: String) -> Bool {
        var u = Substring(s).utf8[...]
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { u = u.dropFirst() }
        return !u.isEmpty && u.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    static func isDecimalFloat(_ s: String) -> Bool {
        let b = Array(s.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            return i - start
        }
        if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
        let intDigits = digits()
        var fracDigits = 0
        if i < b.count, b[i] == UInt8(ascii: ".") { i += 1; fracDigits = digits() }
        if intDigits == 0 && fracDigits == 0 { return false }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
            if digits() == 0 { return false }
        }
        return i == b.count
    }

    /// A short rendering of the node for error messages: strings in double quotes,
    /// numbers and booleans as written, `a mapping`/`a list` for collections.
    public var shortDescription: String {
        switch self {
        case .scalar(let text, _, let style, let tag):
            switch YAMLNode.resolve(text, style: style, tag: tag) {
            case .null: return "nothing (null)"
            case .string(let s): return "\"\(s)\""
            case .bool, .int, .double: return text
            }
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}
