// The schema rendered for people: the commented template and the docs reference table.

extension ConfigSchema {
    /// A YAML scalar/flow rendering of `key`'s value in `config` that reads back to the same value.
    static func yamlValue(_ key: ConfigKey, in config: TCConfig) -> String {
        let v = key.read(config)
        if key.isText && key.typeName == "string" { return "\"\(v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" }
        return v
    }

    /// The whole config as commented YAML: every key with the value it has in `config`, the
    /// key's meaning and allowed values as a trailing comment. Parsing it gives back `config`.
    static func renderTemplate(_ config: TCConfig = TCConfig()) -> String {
        var out = """
        # tile_compile.yaml: configuration of tcbuild (tile-based quality reconstruction).
        # Every key is listed with its default; delete a key (or a whole section) to use the default.
        # Override any key on the command line: tcbuild run --set tile.size_factor=40
        # Reference: docs/config.md. Method: METHOD.md (phase numbers in the comments).

        """
        var open: [String] = []
        for key in keys {
            let parts = key.path.split(separator: ".").map(String.init)
            let sections = Array(parts.dropLast())
            var common = 0
            while common < min(open.count, sections.count), open[common] == sections[common] { common += 1 }
            if common == 0 && !sections.isEmpty && open.first != sections.first { out += "\n" }
            for depth in common..<sections.count {
                let path = sections[...depth].joined(separator: ".")
                let note = weightGroups.contains { $0.group == path } ? "  # these weights must sum to 1" : ""
                out += String(repeating: "  ", count: depth) + sections[depth] + ":" + note + "\n"
            }
            open = sections
            var comment = key.meaning
            if !key.allowed.isEmpty && key.typeName != "string" && key.typeName != "bool" {
                comment += "; allowed \(key.allowed)"
            }
            out += String(repeating: "  ", count: sections.count) + "\(parts.last!): \(yamlValue(key, in: config))"
                + "  # \(comment)\n"
        }
        return out
    }

    /// The docs reference table (Markdown): key, type, default, allowed, meaning, read by.
    static func renderMarkdownTable() -> String {
        let defaults = TCConfig()
        var out = "| key | type | default | allowed | meaning | read by |\n|---|---|---|---|---|---|\n"
        for key in keys {
            let allowed = key.allowed.isEmpty ? "any" : key.allowed
            out += "| `\(key.path)` | \(key.typeName) | `\(key.read(defaults))` | \(allowed.replacingOccurrences(of: "|", with: "\\|")) "
                + "| \(key.meaning.replacingOccurrences(of: "|", with: "\\|")) | \(key.readBy) |\n"
        }
        return out
    }
}

extension TCConfig {
    /// This configuration as a commented `tile_compile.yaml` (every key, its value here, its meaning);
    /// parsing the text gives back this configuration. `tcbuild init` and `tcbuild demo` write it.
    public func renderedYAML() -> String { ConfigSchema.renderTemplate(self) }
}
