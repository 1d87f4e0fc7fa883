// Reads tile_compile.yaml and --set overrides into a checked TCConfig.
import Foundation
import Graph

/// Loads `tile_compile.yaml` into a `TCConfig`.
///
/// Guarantees: a missing key takes its default, an empty file gives `TCConfig()`; every value
/// is type- and range-checked; unknown keys are rejected with the closest valid key; overrides
/// (`key.path=value`, the value read as a YAML scalar or flow value) are checked exactly like
/// the file and applied in order after it; then weight sums and cross-key rules are checked.
/// The first problem (in file order, overrides after the file) is thrown as a `ConfigError`.
public enum ConfigLoader {
    /// Reads and checks the file at `path`, then applies `overrides`. `path` appears in messages as given.
    public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> TCConfig {
        let text: String
        do {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let s = String(data: bytes, encoding: .utf8) else {
                throw ConfigError.unreadable(ConfigLocation(file: path), reason: "not UTF-8 text")
            }
            text = s
        } catch let e as ConfigError {
            throw e
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "\(error.localizedDescription)" : "no such file"
            throw .unreadable(ConfigLocation(file: path), reason: reason)
        }
        return try parse(yaml: text, file: path, overrides: overrides)
    }

    /// Checks YAML text as if read from `file` (used in messages), then applies `overrides`.
    public static func parse(yaml: String, file: String, overrides: [String] = []) throws(ConfigError) -> TCConfig {
        var config = TCConfig()
        var origins: [String: ConfigLocation] = [:]
        if let root = try YAMLParser.parse(yaml, file: file) {
            switch root {
            case .mapping(let entries, _):
                try applySection(entries, section: "", to: &config, file: file, origins: &origins)
            case .scalar where root.resolved == .null:
                break
            default:
                throw .wrongType(ConfigLocation(file: file, line: root.mark.line, column: root.mark.column),
                                 keyPath: "(top level)",
                                 expected: "a mapping of sections (data:, registration:, tile:, ...)",
                                 got: root.shortDescription)
            }
        }
        for override in overrides {
            try applyOverride(override, to: &config, origins: &origins)
        }
        try checkCrossKeys(config, origins: origins, overrideOrder: overrides.compactMap { o in
            o.firstIndex(of: "=").map { o[..<$0].trimmingCharacters(in: .whitespaces) }
        })
        return config
    }

    /// Every valid key path (`tile.size_factor`, ...), in the order the template lists them.
    public static func keyPaths() -> [String] { ConfigSchema.keys.map(\.path) }

    // MARK: - file

    private static func applySection(_ entries: [YAMLNode.Entry], section: String, to config: inout TCConfig,
                                     file: String, origins: inout [String: ConfigLocation]) throws(ConfigError) {
        for entry in entries {
            let path = section.isEmpty ? entry.key : "\(section).\(entry.key)"
            let at = ConfigLocation(file: file, line: entry.keyMark.line, column: entry.keyMark.column)
            if let key = ConfigSchema.key(path) {
                try key.apply(&config, entry.value, at)
                origins[path] = at
            } else if ConfigSchema.sectionPaths.contains(path) {
                origins[path] = at
                switch entry.value {
                case .mapping(let children, _):
                    try applySection(children, section: path, to: &config, file: file, origins: &origins)
                case .scalar where entry.value.resolved == .null:
                    continue  // `tile:` with everything below commented out: all defaults
                default:
                    let names = ConfigSchema.children(of: path).joined(separator: ", ")
                    throw .wrongType(at, keyPath: path, expected: "a mapping with keys \(names)",
                                     got: entry.value.shortDescription)
                }
            } else {
                throw unknownKey(path, at: at)
            }
        }
    }

    // MARK: - overrides

    /// Applies `override` (`key.path=value`); `location` names where it was written (a
    /// `tile_compile.proc` line), else it is reported as a `--set` override.
    static func applyOverride(_ override: String, to config: inout TCConfig, origins: inout [String: ConfigLocation],
                              location: ConfigLocation? = nil) throws(ConfigError) {
        guard let eq = override.firstIndex(of: "=") else { throw .malformedOverride(override) }
        let path = override[..<eq].trimmingCharacters(in: .whitespaces)
        let valueText = String(override[override.index(after: eq)...])
        guard !path.isEmpty else { throw .malformedOverride(override) }
        let at = location ?? ConfigLocation(override: override)
        guard let key = ConfigSchema.key(path) else {
            if ConfigSchema.sectionPaths.contains(path) {
                let names = ConfigSchema.children(of: path).map { "\(path).\($0)" }.joined(separator: ", ")
                throw .unsupported(at, keyPath: path, what: "is a section, not a value; set one of \(names)")
            }
            throw unknownKey(path, at: at)
        }
        let node: YAMLNode
        do throws(ConfigError) {
            node = try YAMLParser.parse(valueText, file: "--set \(path)")
                ?? .scalar("", YAMLNode.Mark(line: 1, column: 1), .plain, tag: nil)
        } catch {
            guard key.isText else {
                if case .syntax(_, let problem, _) = error {
                    throw .wrongType(at, keyPath: path, expected: "\(key.expectedPhrase) (not valid YAML: \(problem))",
                                     got: "\"\(valueText)\"")
                }
                throw relocate(error, to: at)
            }
            // Free text such as `*.fits` is not valid plain YAML; take it verbatim.
            node = .scalar(valueText.trimmingCharacters(in: .whitespaces), YAMLNode.Mark(line: 1, column: 1),
                           .doubleQuoted, tag: nil)
        }
        try key.apply(&config, node, at)
        origins[path] = at
    }

    private static func relocate(_ error: ConfigError, to at: ConfigLocation) -> ConfigError {
        switch error {
        case .unsupported(_, let k, let w): return .unsupported(at, keyPath: k, what: w)
        case .duplicateKey(_, let k, let l): return .duplicateKey(at, keyPath: k, firstLine: l)
        default: return error
        }
    }

    // MARK: - unknown keys

    /// The error for an unknown `path`, suggesting the closest sibling, else the closest key path,
    /// else the same key name in another section.
    static func unknownKey(_ path: String, at: ConfigLocation) -> ConfigError {
        let parts = path.split(separator: ".").map(String.init)
        let name = parts.last ?? path
        let section = parts.dropLast().joined(separator: ".")
        let siblings = ConfigSchema.sectionPaths.contains(section) || section.isEmpty
            ? ConfigSchema.children(of: section) : []
        func close(_ a: String, _ b: String) -> Int? {
            let d = Graph.editDistance(a, b)
            return d <= max(2, a.count / 3) ? d : nil
        }
        var suggestion: String?
        if let best = siblings.compactMap({ s in close(name, s).map { (s, $0) } }).min(by: { $0.1 < $1.1 }) {
            suggestion = section.isEmpty ? best.0 : "\(section).\(best.0)"
        } else {
            let all = ConfigLoader.keyPaths() + ConfigSchema.sectionPaths.sorted()
            if let best = all.compactMap({ p in close(path, p).map { (p, $0) } }).min(by: { $0.1 < $1.1 }) {
                suggestion = best.0
            } else if let same = ConfigLoader.keyPaths().first(where: { $0.hasSuffix("." + name) }) {
                suggestion = same
            }
        }
        return .unknownKey(at, keyPath: path, suggestion: suggestion, validHere: siblings)
    }
}
