import Foundation
import Graph

/// How long one node took in a run, and what happened to it.
public struct NodeTiming: Sendable, Equatable, Codable {
    /// Node name (`register/00017`).
    public var node: String
    /// The node's group (phase), as declared on the node (`register`, `tiles`, ...).
    public var group: String
    /// Wall-clock seconds of its execution (0 when cached, failed or skipped).
    public var seconds: Double
    /// `executed`, `cached`, `failed` or `skipped`.
    public var state: String

    /// A timing row.
    public init(node: String, group: String, seconds: Double, state: String) {
        self.node = node
        self.group = group
        self.seconds = seconds
        self.state = state
    }

    /// One row per node that finished, was cached, failed or was skipped, in event order
    /// (a node reported twice keeps its last state).
    public static func collect(_ events: [BuildEvent]) -> [NodeTiming] {
        var rows: [NodeTiming] = [], index: [String: Int] = [:]
        func put(_ t: NodeTiming) {
            if let i = index[t.node] { rows[i] = t } else { index[t.node] = rows.count; rows.append(t) }
        }
        for e in events {
            switch e {
            case .nodeExecuted(let n, let g, let s, _): put(NodeTiming(node: n, group: g, seconds: s, state: "executed"))
            case .nodeCached(let n, let g): put(NodeTiming(node: n, group: g, seconds: 0, state: "cached"))
            case .nodeFailed(let n, let g, _): put(NodeTiming(node: n, group: g, seconds: 0, state: "failed"))
            case .nodeSkipped(let n, let g): put(NodeTiming(node: n, group: g, seconds: 0, state: "skipped"))
            default: break
            }
        }
        return rows
    }
}

/// An event sink that keeps the events of a run so the report can show per-node timings
/// (`NodeTiming.collect(sink.events)`). Thread-safe.
public final class ReportEventRecorder: EventSink, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [BuildEvent] = []

    /// An empty recorder.
    public init() {}

    public func emit(_ event: BuildEvent) {
        lock.lock()
        recorded.append(event)
        lock.unlock()
    }

    /// The events received so far, in arrival order.
    public var events: [BuildEvent] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

/// What the report says about the run as a whole.
public struct ReportSummary: Sendable, Equatable {
    /// The run id in the manifest (nil when not recorded).
    public var runID: Int64?
    /// `ok`, `failed` (a node failed) or `validation failed`.
    public var status: String
    /// The command line as typed.
    public var command: String
    /// Workspace root.
    public var workspace: String
    /// Wall-clock seconds of the whole run.
    public var seconds: Double
    /// Nodes executed.
    public var executed: Int
    /// Nodes taken from the run cache.
    public var cached: Int
    /// Failed nodes and their messages.
    public var failed: [String: String]
    /// Nodes not started because the run stopped.
    public var notStarted: Int
    /// Free-form remarks shown as a list (e.g. fallbacks the run log mentions).
    public var notes: [String]

    /// A summary from explicit values.
    public init(runID: Int64? = nil, status: String, command: String = "", workspace: String = "", seconds: Double = 0,
                executed: Int = 0, cached: Int = 0, failed: [String: String] = [:], notStarted: Int = 0, notes: [String] = []) {
        self.runID = runID
        self.status = status
        self.command = command
        self.workspace = workspace
        self.seconds = seconds
        self.executed = executed
        self.cached = cached
        self.failed = failed
        self.notStarted = notStarted
        self.notes = notes
    }
}

/// Everything `Report.write` reads. Each path is optional: nil (or a file that does not exist) means
/// the phase did not run, and its section says "not produced by this run". Paths are artifact files
/// (store objects or materialized copies); the report only reads them.
public struct ReportInputs: Sendable {
    /// `metrics#metrics` (JSON `FrameMetricsTable`) or `frame_metrics.csv`; either is accepted.
    public var frameMetrics: String?
    /// `tiles/metrics#weights` (binary `TileWeights`).
    public var tileWeights: String?
    /// `tiles/geometry#grid` (JSON `TileGrid`).
    public var grid: String?
    /// `local/NNNNN#local` in frame order (binary `LocalMetricsFile`): FWHM field map and local SNR
    /// vs FWHM. Read one at a time. Empty: those plots fall back to frame-level data or say so.
    public var localMetrics: [String]
    /// `clusters#clusters` (JSON `FrameClusters`).
    public var clusters: String?
    /// `stack#image` (float32 FITS).
    public var stack: String?
    /// `stack/classical#image` (float32 FITS).
    public var classicalStack: String?
    /// `reconstruct#image` (float32 FITS).
    public var reconstruction: String?
    /// `validation#validation` (JSON `ValidationReport`): verdict table and the matched-star FWHM row.
    public var validation: String?
    /// `reject#summary` (JSON `RejectionSummary`): rejected values per frame.
    public var rejectionSummary: String?
    /// `reject#map` (float32 FITS): frames rejected per pixel.
    public var rejectionMap: String?
    /// Per-node timings of the run.
    public var timings: [NodeTiming]
    /// The run as a whole.
    public var summary: ReportSummary
    /// Widest preview image in pixels (larger images are box-averaged down).
    public var previewWidth: Int
    /// Threads for the image section (the three stacked images are read and rendered up to this many
    /// at a time; the bytes do not depend on it).
    public var threads: Int

    /// Inputs with every artifact absent unless given.
    public init(frameMetrics: String? = nil, tileWeights: String? = nil, grid: String? = nil, localMetrics: [String] = [],
                clusters: String? = nil, stack: String? = nil, classicalStack: String? = nil, reconstruction: String? = nil,
                validation: String? = nil, rejectionSummary: String? = nil, rejectionMap: String? = nil,
                timings: [NodeTiming] = [], summary: ReportSummary, previewWidth: Int = 800, threads: Int = 1) {
        self.frameMetrics = frameMetrics
        self.tileWeights = tileWeights
        self.grid = grid
        self.localMetrics = localMetrics
        self.clusters = clusters
        self.stack = stack
        self.classicalStack = classicalStack
        self.reconstruction = reconstruction
        self.validation = validation
        self.rejectionSummary = rejectionSummary
        self.rejectionMap = rejectionMap
        self.timings = timings
        self.summary = summary
        self.previewWidth = previewWidth
        self.threads = threads
    }
}
