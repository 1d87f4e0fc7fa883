/// The state a node would be in if the graph ran now.
public enum PlanState: String, Sendable, Equatable {
    /// Satisfied from the run cache.
    case cached
    /// Its identity is new (or its artifacts are unusable): it will execute.
    case willRun = "will run"
    /// An upstream will run; this node executes only if that changes its inputs' bytes.
    case pending
}

/// The plan for one node, with the reasons behind it.
public struct PlanEntry: Sendable, Equatable {
    /// An entry.
    public init(node: String, group: String, state: PlanState, reasons: [Reason], fingerprint: Digest?) {
        self.node = node
        self.group = group
        self.state = state
        self.reasons = reasons
        self.fingerprint = fingerprint
    }

    /// Node name.
    public let node: String
    /// Node group (phase).
    public let group: String
    /// What would happen.
    public let state: PlanState
    /// Why (empty for a plain cache hit).
    public let reasons: [Reason]
    /// Fingerprint, when all inputs are known.
    public let fingerprint: Digest?
}

/// Decides, without executing anything, which nodes are cached and which must run and why.
/// Input files are hashed through the store's stat cache, so planning an unchanged graph reads no
/// file content.
public struct Planner: Sendable {
    private let store: any BuildStore

    /// A planner over `store`.
    public init(store: any BuildStore) { self.store = store }

    /// The plan of every node, in topological order.
    public func plan(_ graph: BuildGraph) throws -> [PlanEntry] {
        var known: [String: [String: Digest]] = [:]
        var entries: [PlanEntry] = []
        var notCached = Set<String>()
        for node in graph.nodes {
            let waiting = node.upstreams.filter { notCached.contains($0) }
            if !waiting.isEmpty {
                notCached.insert(node.name)
                entries.append(PlanEntry(node: node.name, group: node.group, state: .pending,
                                         reasons: [.upstreamWillRun(waiting)], fingerprint: nil))
                continue
            }
            var digests: [(name: String, digest: Digest)] = []
            var records: [InputRecord] = []
            for input in node.inputs {
                let d: Digest
                switch input.source {
                case .node(let u, let o): d = known[u]![o]!
                case .file(let p): d = try store.digest(ofFile: p)
                }
                digests.append((input.name, d))
                records.append(InputRecord(name: input.name, source: input.source.description, digest: d))
            }
            let fp = Fingerprint.compute(kind: node.kind, version: node.version, params: node.params, inputs: digests)
            switch try store.lookup(fingerprint: fp) {
            case .hit(let outs):
                known[node.name] = Dictionary(uniqueKeysWithValues: outs.map { ($0.name, $0.digest) })
                let last = try store.executions(of: node.name, limit: 1).first
                entries.append(PlanEntry(node: node.name, group: node.group, state: .cached,
                                         reasons: last?.fingerprint == fp || last == nil ? [] : [.cachedFromEarlierRun],
                                         fingerprint: fp))
            case .broken(let problems):
                notCached.insert(node.name)
                entries.append(PlanEntry(node: node.name, group: node.group, state: .willRun,
                                         reasons: problems.map { .artifactProblem($0) }, fingerprint: fp))
            case .miss:
                notCached.insert(node.name)
                let last = try store.executions(of: node.name, limit: 1).first
                let reasons = Explainer.differences(from: last, kind: node.kind, version: node.version,
                                                    params: node.params.byPath, inputs: records)
                entries.append(PlanEntry(node: node.name, group: node.group, state: .willRun,
                                         reasons: reasons, fingerprint: fp))
            }
        }
        return entries
    }
}
