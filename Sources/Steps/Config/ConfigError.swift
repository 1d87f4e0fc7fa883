// Errors from reading tile_compile.yaml and --set overrides.

/// Where a config problem was found: a position in a file, or a `--set` override.
public struct ConfigLocation: Sendable, Equatable {
    /// The config file as it was named to the loader; `nil` for an override.
    public var file: String?
    /// 1-based line in `file`, when known.
    public var line: Int?
    /// 1-based column in `file`, when known.
    public var column: Int?
    /// The override text exactly as given (`tile.size_factor=abc`), for `--set` problems.
    public var override: String?

    /// A position in a file.
    public init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.override = nil
    }

    /// A `--set key=value` override.
    public init(override: String) {
        self.file = nil
        self.line = nil
        self.column = nil
        self.override = override
    }

    /// `file:line` (`file:line:column` when `withColumn`), or `--set key=value`.
    func prefix(withColumn: Bool = false) -> String {
        if let override { return "--set \(override)" }
        var s = file ?? "<config>"
        if let line {
            s += ":\(line)"
            if withColumn, let column { s += ":\(column)" }
        }
        return s
    }
}

/// A problem with the configuration. Every message names the file and line (or the
/// `--set` override), the key path, and what to change; the CLI maps it to exit status 2.
public enum ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file could not be read at all.
    case unreadable(ConfigLocation, reason: String)
    /// libyaml rejected the text; `problem` and `context` are libyaml's own words.
    case syntax(ConfigLocation, problem: String, context: String?)
    /// A YAML feature the config does not accept (aliases, non-scalar keys, several documents).
    case unsupported(ConfigLocation, keyPath: String?, what: String)
    /// The same key twice in one mapping.
    case duplicateKey(ConfigLocation, keyPath: String, firstLine: Int)
    /// A key that is not in the schema, with the closest valid key if one is close.
    case unknownKey(ConfigLocation, keyPath: String, suggestion: String?, validHere: [String])
    /// A value of the wrong YAML type (`expected` says what is accepted, `got` what was found).
    case wrongType(ConfigLocation, keyPath: String, expected: String, got: String)
    /// A number outside its allowed range (`allowed` like `[0, 0.5)` or `>= 1`).
    case outOfRange(ConfigLocation, keyPath: String, value: String, allowed: String)
    /// A word that is not one of the allowed choices.
    case notOneOf(ConfigLocation, keyPath: String, value: String, allowed: [String])
    /// A weight group whose weights do not sum to 1 (`terms` are `name value` strings).
    case weightsSum(ConfigLocation, keyPath: String, terms: [String], sum: String)
    /// A rule that ties two keys together was broken.
    case crossKey(ConfigLocation, keyPath: String, message: String)
    /// A `--set` argument that is not of the form `key.path=value`.
    case malformedOverride(String)

    /// Where the problem is.
    public var location: ConfigLocation {
        switch self {
        case .unreadable(let l, _), .syntax(let l, _, _), .unsupported(let l, _, _),
             .duplicateKey(let l, _, _), .unknownKey(let l, _, _, _), .wrongType(let l, _, _, _),
             .outOfRange(let l, _, _, _), .notOneOf(let l, _, _, _), .weightsSum(let l, _, _, _),
             .crossKey(let l, _, _):
            return l
        case .malformedOverride(let s): return ConfigLocation(override: s)
        }
    }

    /// The config file named to the loader, or `nil` for an override problem.
    public var file: String? { location.file }
    /// The 1-based line of the offending key or value, when it came from a file.
    public var line: Int? { location.line }
    /// The 1-based column, when known.
    public var column: Int? { location.column }

    /// The dotted key path involved (`tile.size_factor`), when there is one.
    public var keyPath: String? {
        switch self {
        case .unreadable, .syntax, .malformedOverride: return nil
        case .unsupported(_, let k, _): return k
        case .duplicateKey(_, let k, _), .unknownKey(_, let k, _, _), .wrongType(_, let k, _, _),
             .outOfRange(_, let k, _, _), .notOneOf(_, let k, _, _), .weightsSum(_, let k, _, _),
             .crossKey(_, let k, _):
            return k
        }
    }

    /// One line: location, key path, what is wrong, and how to fix it.
    public var description: String {
        let at = location.prefix()
        switch self {
        case .unreadable(let l, let reason):
            return "\(l.file ?? "<config>"): cannot read the config file (\(reason)); "
                + "create it with `tcbuild init DIR` or pass --config PATH"
        case .syntax(let l, let problem, let context):
            var s = "\(l.prefix(withColumn: true)): YAML syntax error: \(problem)"
            if let context, !context.isEmpty { s += " (\(context))" }
            return s
        case .unsupported(_, let key, let what):
            return "\(at): \(key.map { "\($0): " } ?? "")\(what)"
        case .duplicateKey(_, let key, let first):
            return "\(at): duplicate key '\(key)' (first set on line \(first)); keep only one of the two lines"
        case .unknownKey(_, let key, let suggestion, let validHere):
            var s = "\(at): unknown key '\(key)'"
            if let suggestion {
                s += "; did you mean '\(suggestion)'?"
            } else if !validHere.isEmpty {
                s += "; valid keys here: \(validHere.joined(separator: ", "))"
            }
            return s
        case .wrongType(_, let key, let expected, let got):
            return "\(at): \(key): expected \(expected), got \(got)"
        case .outOfRange(_, let key, let value, let allowed):
            return "\(at): \(key) = \(value) is out of range; allowed \(allowed)"
        case .notOneOf(_, let key, let value, let allowed):
            return "\(at): \(key) = '\(value)' is not one of \(allowed.joined(separator: ", "))"
        case .weightsSum(_, let key, let terms, let sum):
            return "\(at): \(key) must sum to 1 (\(terms.joined(separator: " + ")) = \(sum))"
        case .crossKey(_, _, let message):
            return "\(at): \(message)"
        case .malformedOverride(let s):
            return "--set \(s): expected key.path=value, e.g. --set tile.size_factor=40"
        }
    }
}
