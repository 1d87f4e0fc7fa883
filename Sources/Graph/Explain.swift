/// One reason a node runs (or ran), in the words a user needs to act on it.
public enum Reason: Sendable, Equatable, CustomStringConvertible {
    /// No execution of this node was ever recorded.
    case neverBuilt
    /// The node's code version changed.
    case versionChanged(old: Int, new: Int)
    /// The node's kind changed (e.g. another registration engine).
    case kindChanged(old: String, new: String)
    /// A parameter changed; nil stands for "absent".
    case paramChanged(path: String, old: String?, new: String?)
    /// An input's content changed (or it was added/removed: nil digest).
    case inputChanged(name: String, source: String, old: Digest?, new: Digest?)
    /// Same identity as before, but a recorded artifact is missing or damaged.
    case artifactProblem(ArtifactProblem)
    /// Upstream nodes will run first; whether this one must follow depends on their bytes.
    case upstreamWillRun([String])
    /// The identity matches an earlier execution: satisfied from the run cache.
    case cachedFromEarlierRun
    /// An upstream node produced different bytes, for these reasons (the root cause of an input change).
    indirect case upstream(node: String, reasons: [Reason])

    public var description: String {
        switch self {
        case .neverBuilt: return "never built"
        case .versionChanged(let o, let n): return "code version changed: \(o) -> \(n)"
        case .kindChanged(let o, let n): return "kind changed: \(o) -> \(n)"
        case .paramChanged(let p, let o, let n): return "param \(p): \(o ?? "(absent)") -> \(n ?? "(absent)")"
        case .inputChanged(let name, let source, let o, let n):
            switch (o, n) {
            case (nil, _): return "input \(name) added (\(source))"
            case (_, nil): return "input \(name) removed"
            default: return "input \(name) changed (\(source)): \(o!.short) -> \(n!.short)"
            }
        case .artifactProblem(let p): return "artifact unusable: \(p)"
        case .upstreamWillRun(let us):
            return "waits for upstream that will run: \(us.prefix(3).joined(separator: ", "))\(us.count > 3 ? " (+\(us.count - 3) more)" : "")"
        case .cachedFromEarlierRun: return "matches an earlier execution (run cache)"
        case .upstream(let n, let rs): return "upstream \(n) ran: " + rs.map(\.description).joined(separator: "; ")
        }
    }
}

/// Compares identities. Answers come from recorded executions alone, never by running anything.
public enum Explainer {
    /// What differs between a recorded execution and an identity (kind, version, params, inputs).
    /// Empty when they are the same identity.
    public static func differences(from previous: ExecutionRecord?, kind: String, version: Int,
                                   params: [String: String], inputs: [InputRecord]) -> [Reason] {
        guard let previous else { return [.neverBuilt] }
        var reasons: [Reason] = []
        if previous.kind != kind { reasons.append(.kindChanged(old: previous.kind, new: kind)) }
        if previous.version != version { reasons.append(.versionChanged(old: previous.version, new: version)) }
        for path in Set(previous.params.keys).union(params.keys).sorted() where previous.params[path] != params[path] {
            reasons.append(.paramChanged(path: path, old: previous.params[path], new: params[path]))
        }
        let old = Dictionary(previous.inputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let new = Dictionary(inputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in Set(old.keys).union(new.keys).sorted() where old[name]?.digest != new[name]?.digest {
            reasons.append(.inputChanged(name: name, source: new[name]?.source ?? old[name]?.source ?? "",
                                         old: old[name]?.digest, new: new[name]?.digest))
        }
        return reasons
    }

    /// Why the latest recorded execution of `node` ran: its differences from the one before it.
    /// Nil when the node was never executed.
    /// Input changes that came from another node are followed upstream to their root cause
    /// (`.upstream(node, reasons)`), so a downstream node names the parameter edit that reached it.
    public static func whyLastRan(_ node: String, store: any BuildStore) throws -> [Reason]? {
        var visited = Set<String>()
        return try whyLastRan(node, store: store, visited: &visited)
    }

    private static func whyLastRan(_ node: String, store: any BuildStore, visited: inout Set<String>) throws -> [Reason]? {
        visited.insert(node)
        let history = try store.executions(of: node, limit: 2)
        guard let last = history.first else { return nil }
        let reasons = differences(from: history.count > 1 ? history[1] : nil, kind: last.kind, version: last.version,
                                  params: last.params, inputs: last.inputs)
        // Same identity as the previous execution: it reran because an artifact was lost.
        if reasons.isEmpty {
            return [.artifactProblem(ArtifactProblem(output: "*", digest: last.fingerprint, problem: "rebuilt after its artifacts were lost"))]
        }
        return try reasons.map { try withUpstreamCause($0, store: store, visited: &visited) }
    }

    /// Wraps an input change from node `U` with why `U` last ran.
    private static func withUpstreamCause(_ reason: Reason, store: any BuildStore, visited: inout Set<String>) throws -> Reason {
        guard case .inputChanged(_, let source, .some, .some) = reason, source.hasPrefix("node:") else { return reason }
        let upstream = String(source.dropFirst(5).split(separator: "#").first ?? "")
        guard !visited.contains(upstream), let cause = try whyLastRan(upstream, store: store, visited: &visited) else { return reason }
        return .upstream(node: upstream, reasons: [reason] + cause)
    }

    /// Flattens nested reasons into display lines, indenting upstream causes.
    public static func lines(_ reasons: [Reason], indent: String = "") -> [String] {
        reasons.flatMap { r -> [String] in
            if case .upstream(let n, let rs) = r {
                return ["\(indent)because upstream \(n) ran:"] + lines(rs, indent: indent + "  ")
            }
            return [indent + r.description]
        }
    }
}
