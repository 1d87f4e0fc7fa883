import Foundation
import Graph

/// `tile_compile.proc`: the process description of a workspace (the seed's "step order and which
/// directories are used"). One directive per line, `#` starts a comment:
///
/// - `STEP name [arg=value ...]`: run a step of `Pipeline.steps` (optional ones may be left out);
/// - `CALL stack_frames(arg=value, ...)`: the final stack in the seed's call form (= `STEP stack ...`);
/// - `WRITE dir_key/pattern`: where the step above materializes its frames (`dir_key` is a config key
///   naming a directory; `pattern` a config key or a file pattern with `XX` or `{index:05d}`);
/// - `LOAD_FRAMES_FROM_DIR dir_key`: the steps below read the frames a step above wrote there;
/// - `ENSURE_DIR dir_key`: create that directory before the main graph runs.
///
/// An argument's value is either its own config key (take the YAML's value) or a literal that
/// overrides that key for this workspace, checked like `--set`. The process takes part in
/// fingerprints only through the params and inputs its steps give nodes.
public struct ProcessDescription: Sendable {
    /// A step as the process uses it.
    public struct StepUse: Sendable {
        /// The step.
        public let step: any PipelineStep
        /// Its line in the file.
        public let line: Int
        /// Literal arguments: (config key, value) overrides, in file order.
        public let overrides: [(key: String, value: String)]
    }
    /// Where a step materializes its frames.
    public struct FrameWrite: Sendable, Equatable {
        /// Config key naming the directory.
        public let directoryKey: String
        /// A config key naming the file pattern, or a literal pattern.
        public let pattern: String
    }

    /// The file name in a workspace.
    public static let fileName = "tile_compile.proc"
    /// Config keys that name directories (what WRITE, LOAD_FRAMES_FROM_DIR and ENSURE_DIR accept).
    public static let directoryKeys = ["registration.output_dir", "stacking.input_dir"]
    /// The directives.
    public static let directives = ["STEP", "CALL", "WRITE", "LOAD_FRAMES_FROM_DIR", "ENSURE_DIR"]
    /// `CALL` functions and the step each stands for.
    public static let calls = ["stack_frames": "stack", "register_frames": "register"]

    /// The file as named in messages.
    public let file: String
    /// The steps, in process order.
    public private(set) var steps: [StepUse] = []
    /// Where frame-writing steps materialize, by step name (defaults from `PipelineStep.frameWrite`).
    public private(set) var writes: [String: FrameWrite] = [:]
    /// Directory keys to create before the main graph runs.
    public private(set) var ensuredDirectories: [String] = []

    /// Whether the process runs the step `name`.
    public func includes(_ name: String) -> Bool { steps.contains { $0.step.name == name } }

    /// The default process: every step of `Pipeline.steps` with the directives it documents.
    public static var defaultText: String {
        """
        # tile_compile.proc: the process description of this workspace (the step order and the
        # directories used). tcbuild run reads it; without this file the built-in default (this text) is used.
        # One directive per line; '#' starts a comment. Values are config keys of tile_compile.yaml.
        #   STEP name [arg=value ...]   run a step; the optional ones (classical, validation, report) may be removed
        #   CALL stack_frames(...)      the final stack in the seed's call form (= STEP stack ...)
        #   WRITE dir_key/pattern       where the step above materializes its frames
        #   LOAD_FRAMES_FROM_DIR key    the steps below read the frames a step above wrote there
        #   ENSURE_DIR key              create that directory before the run
        # An argument's value is its own config key (use the YAML's value) or a literal that overrides it here,
        # e.g. CALL stack_frames(engine=siril, ...). Directory keys: \(directoryKeys.joined(separator: ", ")).

        """ + Pipeline.steps.flatMap(\.defaultDirectives).joined(separator: "\n") + "\n"
    }

    /// The built-in process (parsed once; the text is generated from `Pipeline.steps` and a test parses it).
    public static let `default`: ProcessDescription = {
        do { return try parse(defaultText, file: "(built-in \(fileName))") } catch {
            fatalError("the built-in process description does not parse: \(error)")
        }
    }()

    /// The workspace's `tile_compile.proc`, or the built-in default when the file does not exist.
    public static func load(workspace: String) throws -> ProcessDescription {
        let path = (workspace as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return .default }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ProcessError(file: path, line: 0, kind: .malformed, message: "cannot read it as UTF-8 text; rewrite it, or delete it to use the built-in process")
        }
        return try parse(text, file: path)
    }

    /// Parses `text` (named `file` in messages) and checks it: known directives and steps, arguments,
    /// prerequisites earlier in the file, required steps present, directory keys.
    public static func parse(_ text: String, file: String) throws(ProcessError) -> ProcessDescription {
        var process = ProcessDescription(file: file)
        var lastStep: (name: String, line: Int)?
        var writtenDirs: Set<String> = []
        for (k, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = k + 1
            let content = String(raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            func fail(_ kind: ProcessError.Kind, _ message: String) -> ProcessError {
                ProcessError(file: file, line: line, kind: kind, message: message)
            }
            let directive = String(content.prefix { !$0.isWhitespace && $0 != "(" })
            let rest = content.dropFirst(directive.count).trimmingCharacters(in: .whitespaces)
            switch directive {
            case "STEP", "CALL":
                let name: String, args: [String]
                if directive == "STEP" {
                    let words = rest.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                    guard let first = words.first else { throw fail(.malformed, "STEP needs a step name; valid steps: \(stepNames)") }
                    name = first
                    args = Array(words.dropFirst())
                } else {
                    guard let open = rest.firstIndex(of: "("), rest.hasSuffix(")") else {
                        throw fail(.malformed, "write CALL function(arg=value, ...); functions: \(calls.keys.sorted().joined(separator: ", "))")
                    }
                    let function = rest[..<open].trimmingCharacters(in: .whitespaces)
                    guard let step = calls[function] else {
                        throw fail(.unknownStep, "unknown function '\(function)'; functions: \(calls.keys.sorted().joined(separator: ", "))")
                    }
                    name = step
                    args = rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]
                        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != "..." && !$0.isEmpty }
                }
                guard let step = Pipeline.step(name) else {
                    let close = Pipeline.steps.map(\.name).filter { Graph.editDistance(name, $0) <= max(2, name.count / 3) }
                        .min { Graph.editDistance(name, $0) < Graph.editDistance(name, $1) }
                    throw fail(.unknownStep, "unknown step '\(name)'\(close.map { "; did you mean '\($0)'?" } ?? ""); valid steps: \(stepNames)")
                }
                if process.includes(name) { throw fail(.malformed, "step '\(name)' appears twice; keep one") }
                for need in step.prerequisites where !process.includes(need) {
                    throw fail(.missingPrerequisite, "step '\(name)' needs step '\(need)' earlier in the process; add 'STEP \(need)' above this line")
                }
                var overrides: [(key: String, value: String)] = []
                for arg in args {
                    guard let eq = arg.firstIndex(of: "=") else { throw fail(.badArgument, "'\(arg)' is not arg=value") }
                    let argName = arg[..<eq].trimmingCharacters(in: .whitespaces)
                    let value = arg[arg.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                    guard let key = step.arguments[argName] else {
                        let valid = step.arguments.keys.sorted()
                        throw fail(.badArgument, "step '\(name)' takes no argument '\(argName)'; valid: \(valid.isEmpty ? "none" : valid.joined(separator: ", "))")
                    }
                    if value == key { continue }
                    if ConfigSchema.key(value) != nil {
                        throw fail(.badArgument, "\(argName)= takes \(key) or a literal value, not the config key \(value)")
                    }
                    overrides.append((key, value))
                }
                process.steps.append(StepUse(step: step, line: line, overrides: overrides))
                if let w = step.frameWrite { process.writes[name] = w }
                lastStep = (name, line)
            case "WRITE":
                guard let slash = rest.firstIndex(of: "/") else {
                    throw fail(.malformed, "write WRITE dir_key/pattern, e.g. WRITE stacking.input_dir/syn_XX.fits")
                }
                let dirKey = String(rest[..<slash]), pattern = String(rest[rest.index(after: slash)...])
                try checkDirectory(dirKey, fail)
                guard let last = lastStep, Pipeline.step(last.name)?.frameWrite != nil else {
                    let writers = Pipeline.steps.filter { $0.frameWrite != nil }.map(\.name).joined(separator: ", ")
                    throw fail(.malformed, "WRITE must follow a step that writes frames (\(writers))")
                }
                guard !pattern.isEmpty, !pattern.contains("/") else {
                    throw fail(.malformed, "'\(pattern)' is not a file pattern (no '/'); e.g. syn_XX.fits or a config key")
                }
                process.writes[last.name] = FrameWrite(directoryKey: dirKey, pattern: pattern)
                writtenDirs.insert(dirKey)
            case "LOAD_FRAMES_FROM_DIR":
                try checkDirectory(rest, fail)
                guard writtenDirs.contains(rest) else {
                    throw fail(.missingPrerequisite, "no step above writes frames to \(rest); put it after the step's WRITE line (e.g. after STEP register)")
                }
            case "ENSURE_DIR":
                try checkDirectory(rest, fail)
                process.ensuredDirectories.append(rest)
            default:
                throw fail(.unknownDirective, "unknown directive '\(directive)'; valid: \(directives.joined(separator: ", "))")
            }
        }
        for step in Pipeline.steps where !step.isOptional && !process.includes(step.name) {
            throw ProcessError(file: file, line: 0, kind: .missingPrerequisite,
                               message: "step '\(step.name)' is required (only \(Pipeline.steps.filter(\.isOptional).map(\.name).joined(separator: ", ")) may be left out); add 'STEP \(step.name)'")
        }
        return process
    }

    private static var stepNames: String { Pipeline.steps.map(\.name).joined(separator: ", ") }

    private static func checkDirectory(_ key: String, _ fail: (ProcessError.Kind, String) -> ProcessError) throws(ProcessError) {
        guard directoryKeys.contains(key) else {
            throw fail(.unknownDirectory, "'\(key)' is not a config key naming a directory; valid: \(directoryKeys.joined(separator: ", "))")
        }
    }

    /// `config` with the process's literal arguments applied (each checked like `--set`, errors naming
    /// this file and line).
    public func configure(_ config: TCConfig) throws(ConfigError) -> TCConfig {
        var c = config
        var origins: [String: ConfigLocation] = [:]
        for use in steps {
            for o in use.overrides {
                try ConfigLoader.applyOverride("\(o.key)=\(o.value)", to: &c, origins: &origins,
                                               location: ConfigLocation(file: file, line: use.line))
            }
        }
        if !origins.isEmpty { try ConfigLoader.checkCrossKeys(c, origins: origins, overrideOrder: []) }
        return c
    }

    /// The path (relative to the workspace) where `step` materializes frame `index`, under `config`.
    public func framePath(step: String, index: Int, config: TCConfig) -> String? {
        guard let w = writes[step] else { return nil }
        let dir = Self.value(of: w.directoryKey, in: config) ?? w.directoryKey
        let pattern = Self.value(of: w.pattern, in: config) ?? w.pattern
        let file = pattern.contains("XX") ? pattern.replacingOccurrences(of: "XX", with: String(format: "%02d", index))
            : RegisteredName.expand(pattern, index: index)
        return (dir as NSString).appendingPathComponent(file)
    }

    /// The value of a config key a process names as a directory or a pattern (`TCConfig.value(at:)`).
    static func value(of key: String, in config: TCConfig) -> String? { config.value(at: key) }
}
