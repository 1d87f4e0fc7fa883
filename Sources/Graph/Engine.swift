import Foundation

/// How to run a graph.
public struct RunOptions: Sendable {
    /// Concurrent node executions (the CPU budget), at least 1.
    public var jobs: Int

    /// Options with `jobs` workers (default: active processor count).
    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.jobs = max(1, jobs)
    }
}

/// What a run did, per node.
public struct RunReport: Sendable {
    /// Nodes whose code ran, in completion order.
    public var executed: [String] = []
    /// Nodes satisfied from the run cache.
    public var cached: [String] = []
    /// Failed nodes with their error message.
    public var failed: [String: String] = [:]
    /// Nodes not started because the run stopped after a failure.
    public var notStarted: [String] = []
    /// Output digests of every node that finished (executed or cached).
    public var outputs: [String: [String: Digest]] = [:]
    /// Wall time of the whole run, seconds.
    public var seconds: Double = 0

    /// True when no node failed.
    public var succeeded: Bool { failed.isEmpty }

    /// An empty report.
    public init() {}
}

/// Runs a `BuildGraph` against a `BuildStore`: each node whose fingerprint is in the run cache is
/// satisfied from it; every other node executes, on up to `jobs` threads, as soon as its upstreams
/// are resolved. Fingerprints are computed from upstream *output digests*, so a rerun that yields
/// identical bytes stops the wave (early cutoff) within the same run.
///
/// On a failure the engine starts nothing new, lets running nodes finish (they are recorded), and
/// reports the failure; recorded work is never lost. Before `run` returns, the store has recorded
/// every execution (`BuildStore.settle`).
public final class Engine: Sendable {
    private let store: any BuildStore
    private let events: any EventSink

    /// An engine over `store`, reporting to `events`.
    public init(store: any BuildStore, events: any EventSink = NullEventSink()) {
        self.store = store
        self.events = events
    }

    /// Runs `graph`. Never throws for a node failure: see `RunReport.failed`.
    public func run(_ graph: BuildGraph, options: RunOptions = RunOptions()) -> RunReport {
        let state = SchedulerState(graph: graph)
        let start = Date()
        events.emit(.runStarted(total: graph.nodes.count, jobs: options.jobs))
        let workers = min(options.jobs, max(1, graph.nodes.count))
        runJoined(threads: workers) { [self] in self.workLoop(state: state, graph: graph, jobs: options.jobs) }
        var report = state.report(graph: graph)
        do { try store.settle() } catch {
            // The executions ran but their records did not reach the store: they run again next time.
            report.failed["(manifest)"] = "recording the executed nodes failed: \(error)"
        }
        report.seconds = Date().timeIntervalSince(start)
        for name in report.notStarted {
            events.emit(.nodeSkipped(node: name, group: graph.node(name)?.group ?? ""))
        }
        events.emit(.runFinished(executed: report.executed.count, cached: report.cached.count,
                                 failed: report.failed.count, seconds: report.seconds))
        return report
    }

    private func workLoop(state: SchedulerState, graph: BuildGraph, jobs: Int) {
        while let (i, upstreamOutputs, threads) = state.next(jobs: jobs) {
            let outcome = resolve(graph.nodes[i], upstreamOutputs: upstreamOutputs, threads: threads)
            state.finish(i, outcome: outcome, graph: graph)
        }
    }

    /// Computes the node's fingerprint, then either takes its outputs from the run cache or executes it.
    private func resolve(_ node: Node, upstreamOutputs: [String: [String: Digest]], threads: Int) -> NodeOutcome {
        do {
            var digests: [(name: String, digest: Digest)] = []
            var paths: [String: String] = [:]
            var records: [InputRecord] = []
            for input in node.inputs {
                let digest: Digest
                switch input.source {
                case .node(let u, let o):
                    guard let d = upstreamOutputs[u]?[o] else { throw GraphError.unknownOutput(node: node.name, upstream: u, output: o) }
                    digest = d
                    paths[input.name] = store.path(of: d)
                case .file(let p):
                    digest = try store.digest(ofFile: p)
                    paths[input.name] = p
                }
                digests.append((input.name, digest))
                records.append(InputRecord(name: input.name, source: input.source.description, digest: digest))
            }
            let fingerprint = Fingerprint.compute(kind: node.kind, version: node.version, params: node.params, inputs: digests)
            if case .hit(let outputs) = try store.lookup(fingerprint: fingerprint) {
                try store.recordCached(node: node.name, fingerprint: fingerprint)
                events.emit(.nodeCached(node: node.name, group: node.group))
                return .cached(Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0.digest) }))
            }
            return try execute(node, fingerprint: fingerprint, inputPaths: paths, inputs: records, threads: threads)
        } catch {
            let message = String(describing: error)
            events.emit(.nodeFailed(node: node.name, group: node.group, message: message))
            return .failed(message)
        }
    }

    private func execute(_ node: Node, fingerprint: Digest, inputPaths: [String: String],
                         inputs: [InputRecord], threads: Int) throws -> NodeOutcome {
        var temps: [String: String] = [:]
        for o in node.outputs { temps[o] = try store.temporaryPath(for: node.name, output: o) }
        defer { for t in temps.values { store.discard(temporary: t) } }
        let events = self.events, name = node.name
        let context = NodeContext(name: node.name, threads: threads, fingerprint: fingerprint, params: node.params,
                                  inputPaths: inputPaths, inputDigests: Dictionary(uniqueKeysWithValues: inputs.map { ($0.name, $0.digest) }),
                                  outputPaths: temps, logger: { events.emit(.log(node: name, message: $0)) })
        events.emit(.nodeStarted(node: node.name, group: node.group))
        let t0 = Date()
        do { try node.action(context) } catch let e as GraphError { throw e } catch {
            throw GraphError.nodeFailed(node: node.name, message: String(describing: error))
        }
        let duration = Date().timeIntervalSince(t0)
        var outputs: [OutputRecord] = []
        for o in node.outputs {
            guard let t = temps[o], FileManager.default.fileExists(atPath: t) else {
                throw GraphError.missingOutput(node: node.name, output: o)
            }
            let committed = try store.commit(temporary: t)
            outputs.append(OutputRecord(name: o, digest: committed.digest, size: committed.size))
        }
        try store.record(ExecutionRecord(node: node.name, kind: node.kind, version: node.version, fingerprint: fingerprint,
                                         params: node.params.byPath, inputs: inputs, outputs: outputs,
                                         duration: duration, runID: store.currentRunID))
        events.emit(.nodeExecuted(node: node.name, group: node.group, seconds: duration,
                                  bytes: outputs.reduce(0) { $0 + $1.size }))
        return .executed(Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0.digest) }))
    }
}

/// Runs `body` on `threads` POSIX threads (8 MiB stacks) and joins them all: when this returns,
/// every thread has exited and released what `body` captured (the store, the graph), so nothing the
/// run used outlives it.
func runJoined(threads: Int, _ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    var ids: [pthread_t] = []
    for _ in 0..<threads {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 8 << 20)
        var id = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&id, &attributes, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        pthread_attr_destroy(&attributes)
        if rc == 0 {
            ids.append(id)
        } else {
            Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()  // no thread: run inline
        }
    }
    for id in ids { pthread_join(id, nil) }
}

/// How one node ended.
enum NodeOutcome: Sendable {
    case executed([String: Digest])
    case cached([String: Digest])
    case failed(String)
}
