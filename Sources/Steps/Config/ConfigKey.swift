// One key of the config schema: its path, type, range, meaning, and how to read and write it.
import Foundation

/// An inclusive/exclusive numeric interval used to check config values.
struct NumericRange: Sendable, CustomStringConvertible {
    var lo: Double?
    var loInclusive = true
    var hi: Double?
    var hiInclusive = true

    static func atLeast(_ x: Double) -> NumericRange { NumericRange(lo: x) }
    static func above(_ x: Double) -> NumericRange { NumericRange(lo: x, loInclusive: false) }
    static func closed(_ a: Double, _ b: Double) -> NumericRange { NumericRange(lo: a, hi: b) }
    static func halfOpen(_ a: Double, _ b: Double) -> NumericRange { NumericRange(lo: a, hi: b, hiInclusive: false) }

    func contains(_ x: Double) -> Bool {
        if let lo, loInclusive ? x < lo : x <= lo { return false }
        if let hi, hiInclusive ? x > hi : x >= hi { return false }
        return true
    }

    /// `[0, 0.5)`, `>= 1`, `> 0`, `<= 3`.
    var description: String {
        switch (lo, hi) {
        case let (lo?, hi?):
            return "\(loInclusive ? "[" : "(")\(formatNumber(lo)), \(formatNumber(hi))\(hiInclusive ? "]" : ")")"
        case let (lo?, nil): return "\(loInclusive ? ">=" : ">") \(formatNumber(lo))"
        case let (nil, hi?): return "\(hiInclusive ? "<=" : "<") \(formatNumber(hi))"
        case (nil, nil): return "any"
        }
    }
}

/// Shortest round-trip decimal for `x`, without a trailing `.0` (`32`, `0.25`, `1e-06`).
func formatNumber(_ x: Double) -> String {
    var s = "\(x)"
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

/// A sum for messages: rounded to 12 significant decimals so 0.5 + 0.3 + 0.3 shows as 1.1.
func formatSum(_ x: Double) -> String {
    guard x != 0, x.isFinite else { return formatNumber(x) }
    let scale = Foundation.pow(10.0, 11 - Foundation.floor(Foundation.log10(Swift.abs(x))))
    return formatNumber((x * scale).rounded() / scale)
}


/// One leaf of the schema. `apply` type- and range-checks a YAML value and stores it;
/// `read` renders the current value canonically (see `TCConfig.value(at:)`).
struct ConfigKey: Sendable {
    /// Dotted snake_case path, e.g. `tile.size_factor`.
    let path: String
    /// Type for docs: `integer`, `number`, `string`, `bool`, `enum`, `[lo, hi]`, ...
    let typeName: String
    /// Allowed values for docs and errors (`>= 1`, `siril, relative, wcs_anchor`), or "" for any.
    let allowed: String
    /// One-line meaning.
    let meaning: String
    /// METHOD phase that reads it.
    let readBy: String
    /// True for free-text keys: an override value that is not valid YAML is taken verbatim.
    let isText: Bool
    let apply: @Sendable (inout TCConfig, YAMLNode, ConfigLocation) throws(ConfigError) -> Void
    let read: @Sendable (TCConfig) -> String

    /// What a valid value looks like, for messages: `an integer`, `true or false`, ...
    var expectedPhrase: String {
        switch typeName {
        case "integer": return "an integer"
        case "number": return "a number"
        case "bool": return "true or false"
        case "enum": return "one of \(allowed)"
        case "[lo, hi]": return "a list of two numbers [lo, hi]"
        default: return "a value"
        }
    }

    /// The key's own name (last path component).
    var name: String { String(path.split(separator: ".").last ?? "") }
    /// The section path (everything before the last component).
    var parent: String {
        guard let dot = path.lastIndex(of: ".") else { return "" }
        return String(path[..<dot])
    }
}

// MARK: - typed readers

/// Appends a hint when a quoted scalar would have been a number or boolean without quotes.
private func got(_ node: YAMLNode) -> String {
    guard case .scalar(let text, _, let style, _) = node else { return node.shortDescription }
    if node.resolved == .null { return "nothing; write a value, or delete the line to use the default" }
    if style != .plain {
        switch YAMLNode.resolve(text, style: .plain, tag: nil) {
        case .int, .double, .bool: return "\(node.shortDescription) (quoted, so it is text; remove the quotes)"
        case .null, .string: break
        }
    }
    return node.shortDescription
}

extension ConfigKey {
    static func readInt(_ node: YAMLNode, _ path: String, _ at: ConfigLocation) throws(ConfigError) -> Int {
        if case .int(let n)? = node.resolved { return n }
        if case .scalar(let text, _, .plain, _) = node, YAMLNode.isDecimalInteger(text) {
            throw .outOfRange(at, keyPath: path, value: text, allowed: "integers of at most 18 digits")
        }
        throw .wrongType(at, keyPath: path, expected: "an integer", got: got(node))
    }

    static func readDouble(_ node: YAMLNode, _ path: String, _ at: ConfigLocation) throws(ConfigError) -> Double {
        switch node.resolved {
        case .int(let n)?: return Double(n)
        case .double(let d)? where d.isFinite: return d
        case .double?: throw .wrongType(at, keyPath: path, expected: "a finite number", got: got(node))
        default: throw .wrongType(at, keyPath: path, expected: "a number", got: got(node))
        }
    }

    /// Scalar text for string keys: any non-null scalar, verbatim.
    static func readText(_ node: YAMLNode, _ path: String, _ at: ConfigLocation) throws(ConfigError) -> String {
        if case .scalar(let text, _, _, _) = node, node.resolved != .null { return text }
        throw .wrongType(at, keyPath: path, expected: "a string", got: got(node))
    }

    static func check(_ x: Double, _ range: NumericRange?, _ node: YAMLNode, _ path: String,
                      _ at: ConfigLocation) throws(ConfigError) {
        guard let range, !range.contains(x) else { return }
        let shown: String
        if case .scalar(let text, _, _, _) = node { shown = text } else { shown = formatNumber(x) }
        throw .outOfRange(at, keyPath: path, value: shown, allowed: range.description)
    }

    static func int(_ path: String, _ kp: WritableKeyPath<TCConfig, Int> & Sendable, _ range: NumericRange?,
                    _ meaning: String, _ readBy: String) -> ConfigKey {
        ConfigKey(path: path, typeName: "integer", allowed: range?.description ?? "", meaning: meaning,
                  readBy: readBy, isText: false,
                  apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                      let n = try readInt(node, path, at)
                      try check(Double(n), range, node, path, at)
                      c[keyPath: kp] = n
                  }, read: { String($0[keyPath: kp]) })
    }

    static func double(_ path: String, _ kp: WritableKeyPath<TCConfig, Double> & Sendable, _ range: NumericRange?,
                       _ meaning: String, _ readBy: String) -> ConfigKey {
        ConfigKey(path: path, typeName: "number", allowed: range?.description ?? "", meaning: meaning,
                  readBy: readBy, isText: false,
                  apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                      let x = try readDouble(node, path, at)
                      try check(x, range, node, path, at)
                      c[keyPath: kp] = x
                  }, read: { formatNumber($0[keyPath: kp]) })
    }

    static func text(_ path: String, _ kp: WritableKeyPath<TCConfig, String> & Sendable,
                     _ meaning: String, _ readBy: String) -> ConfigKey {
        ConfigKey(path: path, typeName: "string", allowed: "non-empty", meaning: meaning, readBy: readBy, isText: true,
                  apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                      let s = try readText(node, path, at)
                      if s.isEmpty { throw .wrongType(at, keyPath: path, expected: "a non-empty string", got: "\"\"") }
                      c[keyPath: kp] = s
                  }, read: { $0[keyPath: kp] })
    }

    static func bool(_ path: String, _ kp: WritableKeyPath<TCConfig, Bool> & Sendable,
                     _ meaning: String, _ readBy: String) -> ConfigKey {
        ConfigKey(path: path, typeName: "bool", allowed: "true, false", meaning: meaning, readBy: readBy, isText: false,
                  apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                      guard case .bool(let b)? = node.resolved else {
                          throw .wrongType(at, keyPath: path, expected: "true or false", got: got(node))
                      }
                      c[keyPath: kp] = b
                  }, read: { $0[keyPath: kp] ? "true" : "false" })
    }

    static func choice<E: RawRepresentable & CaseIterable & Sendable>(
        _ path: String, _ kp: WritableKeyPath<TCConfig, E> & Sendable, _ meaning: String, _ readBy: String
    ) -> ConfigKey where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        return ConfigKey(path: path, typeName: "enum", allowed: names.joined(separator: ", "), meaning: meaning,
                         readBy: readBy, isText: false,
                         apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                             guard case .scalar(let text, _, _, _) = node, node.resolved != .null else {
                                 throw .wrongType(at, keyPath: path, expected: "one of \(names.joined(separator: ", "))",
                                                  got: got(node))
                             }
                             guard let v = E(rawValue: text) else {
                                 throw .notOneOf(at, keyPath: path, value: text, allowed: names)
                             }
                             c[keyPath: kp] = v
                         }, read: { $0[keyPath: kp].rawValue })
    }

    static func clamp(_ path: String, _ kp: WritableKeyPath<TCConfig, ClampRange> & Sendable,
                      _ meaning: String, _ readBy: String) -> ConfigKey {
        ConfigKey(path: path, typeName: "[lo, hi]", allowed: "lo < hi", meaning: meaning, readBy: readBy, isText: false,
                  apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                      let expected = "a list of two numbers [lo, hi]"
                      guard case .sequence(let items, _) = node, items.count == 2 else {
                          var shown = node.shortDescription
                          if case .sequence(let items, _) = node { shown = "a list of \(items.count)" }
                          throw .wrongType(at, keyPath: path, expected: expected, got: shown)
                      }
                      let lo = try readDouble(items[0], path, at)
                      let hi = try readDouble(items[1], path, at)
                      guard lo < hi else {
                          throw .outOfRange(at, keyPath: path, value: "[\(formatNumber(lo)), \(formatNumber(hi))]",
                                            allowed: "[lo, hi] with lo < hi")
                      }
                      c[keyPath: kp] = ClampRange(lo: lo, hi: hi)
                  }, read: { "[\(formatNumber($0[keyPath: kp].lo)), \(formatNumber($0[keyPath: kp].hi))]" })
    }

    static func saturation(_ path: String, _ kp: WritableKeyPath<TCConfig, SaturationSetting> & Sendable,
                           _ meaning: String, _ readBy: String) -> ConfigKey {
        ConfigKey(path: path, typeName: "auto or number", allowed: "auto, or ADU > 0", meaning: meaning,
                  readBy: readBy, isText: false,
                  apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                      if case .string("auto")? = node.resolved {
                          c[keyPath: kp] = .auto
                          return
                      }
                      switch node.resolved {
                      case .int?, .double?:
                          let x = try readDouble(node, path, at)
                          try check(x, .above(0), node, path, at)
                          c[keyPath: kp] = .adu(x)
                      default:
                          throw .wrongType(at, keyPath: path, expected: "auto or a number of ADU (e.g. 4095)", got: got(node))
                      }
                  }, read: { $0[keyPath: kp].description })
    }

    static func strength(_ path: String, _ kp: WritableKeyPath<TCConfig, Double?> & Sendable,
                         _ meaning: String, _ readBy: String) -> ConfigKey {
        ConfigKey(path: path, typeName: "auto or number", allowed: "auto, or 0...10", meaning: meaning,
                  readBy: readBy, isText: false,
                  apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                      if case .string("auto")? = node.resolved {
                          c[keyPath: kp] = nil
                          return
                      }
                      switch node.resolved {
                      case .int?, .double?:
                          let x = try readDouble(node, path, at)
                          try check(x, .closed(0, 10), node, path, at)
                          c[keyPath: kp] = x
                      default:
                          throw .wrongType(at, keyPath: path, expected: "auto or a number (1 = METHOD's exponents)", got: got(node))
                      }
                  }, read: { $0[keyPath: kp].map(formatNumber) ?? "auto" })
    }

    static func reference(_ path: String, _ kp: WritableKeyPath<TCConfig, ReferenceFrame> & Sendable,
                          _ meaning: String, _ readBy: String) -> ConfigKey {
        ConfigKey(path: path, typeName: "auto, index or path", allowed: "auto, index >= 0, or a path",
                  meaning: meaning, readBy: readBy, isText: true,
                  apply: { (c: inout TCConfig, node: YAMLNode, at: ConfigLocation) throws(ConfigError) in
                      if case .int(let n)? = node.resolved {
                          try check(Double(n), .atLeast(0), node, path, at)
                          c[keyPath: kp] = .index(n)
                          return
                      }
                      guard case .string(let s)? = node.resolved, !s.isEmpty else {
                          throw .wrongType(at, keyPath: path, expected: "auto, a frame index, or a path", got: got(node))
                      }
                      c[keyPath: kp] = s == "auto" ? .auto : .path(s)
                  }, read: { $0[keyPath: kp].description })
    }
}
