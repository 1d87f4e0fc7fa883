// libyaml's event API turned into a YAMLNode tree. C stays in this file.
import CYAML

/// Parses YAML text into a `YAMLNode` tree with libyaml's event-based parser.
///
/// Guarantees: 1-based marks on every node and key; duplicate keys in one mapping are an
/// error naming both lines; aliases and non-scalar keys are rejected with a message that
/// says what to write instead; libyaml's syntax errors come back as `ConfigError.syntax`
/// with libyaml's problem and context text and the problem's line and column.
public enum YAMLParser {
    /// Parses a single-document YAML stream. Returns `nil` for an empty stream (no document,
    /// or only comments). `file` is used in error locations only.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLNode? {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [UInt8(ascii: "\n")] }
        var result: Result<YAMLNode?, ConfigError> = .success(nil)
        bytes.withUnsafeBufferPointer { buf in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) != 0 else {
                result = .failure(.unreadable(ConfigLocation(file: file), reason: "libyaml could not allocate a parser"))
                return
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            var reader = EventReader(file: file)
            do throws(ConfigError) {
                result = .success(try reader.stream(&parser))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }
}

/// One libyaml event copied out of C memory.
private struct Event {
    var type: yaml_event_type_t
    var mark: YAMLNode.Mark
    var value: String = ""
    var style: YAMLNode.Style = .plain
    var tag: String?
    var anchor: String?
}

/// Walks the event stream recursively; one instance per parse.
private struct EventReader {
    /// Deeper nesting is rejected before it can exhaust the stack.
    static let maxDepth = 64
    let file: String

    init(file: String) {
        self.file = file
    }

    func next(_ parser: inout yaml_parser_t) throws(ConfigError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) != 0 else {
            let mark = parser.problem_mark
            let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
            var context = parser.context.map { String(cString: $0) }
            if let c = context, parser.context_mark.line != mark.line || parser.context_mark.column != mark.column {
                context = "\(c) at line \(parser.context_mark.line + 1), column \(parser.context_mark.column + 1)"
            }
            if let c = context, c.contains("alias") {
                context = c + "; a value starting with '*' or '&' must be quoted, e.g. \"*.fits\""
            }
            throw .syntax(ConfigLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1),
                          problem: problem, context: context)
        }
        defer { yaml_event_delete(&event) }
        var e = Event(type: event.type,
                      mark: YAMLNode.Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1))
        switch event.type {
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            e.value = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
            e.tag = s.tag.map { String(cString: $0) }
            e.anchor = s.anchor.map { String(cString: $0) }
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: e.style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: e.style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: e.style = .literal
            case YAML_FOLDED_SCALAR_STYLE: e.style = .folded
            default: e.style = .plain
            }
        case YAML_ALIAS_EVENT:
            e.anchor = event.data.alias.anchor.map { String(cString: $0) }
        default:
            break
        }
        return e
    }

    mutating func stream(_ parser: inout yaml_parser_t) throws(ConfigError) -> YAMLNode? {
        var root: YAMLNode?
        var documents = 0
        while true {
            let e = try next(&parser)
            switch e.type {
            case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
                continue
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw .unsupported(ConfigLocation(file: file, line: e.mark.line, column: e.mark.column), keyPath: nil,
                                       what: "a second YAML document ('---') is not supported; keep one document per config file")
                }
                root = try node(&parser, first: try next(&parser), path: "", depth: 0)
            case YAML_STREAM_END_EVENT:
                return root
            default:
                throw .unsupported(ConfigLocation(file: file, line: e.mark.line, column: e.mark.column), keyPath: nil,
                                   what: "unexpected YAML event; the file must hold one mapping of sections")
            }
        }
    }

    func node(_ parser: inout yaml_parser_t, first e: Event, path: String, depth: Int) throws(ConfigError) -> YAMLNode {
        let at = ConfigLocation(file: file, line: e.mark.line, column: e.mark.column)
        guard depth < EventReader.maxDepth else {
            throw .unsupported(at, keyPath: path.isEmpty ? nil : path,
                               what: "nested deeper than \(EventReader.maxDepth) levels; a config needs at most 4")
        }
        switch e.type {
        case YAML_SCALAR_EVENT:
            return .scalar(e.value, e.mark, e.style, tag: e.tag == "!" ? nil : e.tag)
        case YAML_ALIAS_EVENT:
            throw .unsupported(at, keyPath: path.isEmpty ? nil : path,
                               what: "YAML aliases (*\(e.anchor ?? "")) are not supported; write the value out in full "
                                   + "(a plain value starting with '*' must be quoted, e.g. \"*.fits\")")
        case YAML_SEQUENCE_START_EVENT:
            var items: [YAMLNode] = []
            while true {
                let item = try next(&parser)
                if item.type == YAML_SEQUENCE_END_EVENT { return .sequence(items, e.mark) }
                items.append(try node(&parser, first: item, path: path, depth: depth + 1))
            }
        case YAML_MAPPING_START_EVENT:
            var entries: [YAMLNode.Entry] = []
            var seen: [String: Int] = [:]
            while true {
                let k = try next(&parser)
                if k.type == YAML_MAPPING_END_EVENT { return .mapping(entries, e.mark) }
                let keyAt = ConfigLocation(file: file, line: k.mark.line, column: k.mark.column)
                guard k.type == YAML_SCALAR_EVENT else {
                    if k.type == YAML_ALIAS_EVENT { _ = try node(&parser, first: k, path: path, depth: depth + 1) }
                    throw .unsupported(keyAt, keyPath: path.isEmpty ? nil : path,
                                       what: "mapping keys must be plain words like 'size_factor', not lists or mappings")
                }
                let keyPath = path.isEmpty ? k.value : "\(path).\(k.value)"
                if let firstLine = seen[k.value] {
                    throw .duplicateKey(keyAt, keyPath: keyPath, firstLine: firstLine)
                }
                seen[k.value] = k.mark.line
                let value = try node(&parser, first: try next(&parser), path: keyPath, depth: depth + 1)
                entries.append(YAMLNode.Entry(key: k.value, keyMark: k.mark, value: value))
            }
        default:
            throw .unsupported(at, keyPath: path.isEmpty ? nil : path, what: "unexpected YAML event")
        }
    }
}
