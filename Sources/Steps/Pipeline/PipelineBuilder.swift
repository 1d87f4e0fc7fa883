import Graph

/// An artifact made visible at a human-facing path in the workspace after a run
/// (`registered/reg_00017.fit`, `frame_metrics.csv`, `stacked.fit`).
public struct Materialization: Sendable, Equatable {
    /// Producing node.
    public let node: String
    /// Its output name.
    public let output: String
    /// Path relative to the workspace root.
    public let path: String

    /// A materialization.
    public init(node: String, output: String, path: String) {
        self.node = node
        self.output = output
        self.path = path
    }
}

/// Collects the nodes of the main pipeline graph (everything after the scan). Each step of the
/// process (`Pipeline.steps`, `ProcessDescription`) adds its nodes (`PipelineStep.add(to:)`).
///
/// Contract between phases (node names and outputs):
/// - `stars/NNNNN`: `stars` (JSON `[StarMeasurement]`, raw frame coordinates)
/// - `reference`: `reference` (JSON)
/// - `register/NNNNN`: `frame` (float32 FITS in the reference geometry, mono or 3-plane RGB, NaN where the
///   frame has no coverage), `transform` (JSON `RegistrationResult`)
/// - `measure/NNNNN`: `measure` (JSON: normalization and global metrics of one registered frame)
/// - `metrics`: `metrics` (JSON), `csv` (`frame_metrics.csv`)
/// - `tiles/geometry`: `grid` (JSON)
/// - `local/NNNNN`: `local` (per-tile raw metrics of one frame)
/// - `tiles/metrics`: `weights` (frame x tile L and W), `csv`
/// Params are built from `config` only; a node reads nothing that is not in its params or inputs.
public struct PipelineBuilder: Sendable {
    /// The checked configuration.
    public let config: TCConfig
    /// The frames the steps being added work on: every scanned frame for the registration steps
    /// (`StepStage.registration`), then only the registered ones (`registered(_:)`). A frame keeps its
    /// scan `index` (node names), which is not its position in this list once frames are excluded.
    public private(set) var frames: FrameList
    /// The workspace root (config-relative paths such as a reference frame path resolve against it).
    public let workspace: String
    /// The process description (where frame-writing steps materialize).
    public let process: ProcessDescription
    /// Nodes added so far.
    public private(set) var nodes: [Node] = []
    /// Outputs to materialize after the run.
    public private(set) var materializations: [Materialization] = []

    /// A builder for `frames` under `config`.
    public init(config: TCConfig, frames: FrameList, workspace: String, process: ProcessDescription = .default) {
        self.config = config
        self.frames = frames
        self.workspace = workspace
        self.process = process
    }

    /// From now on, steps see only `frames` (the registered frames, a subset of the scanned ones).
    public mutating func restrict(to frames: FrameList) { self.frames = frames }

    /// Adds a node.
    public mutating func add(_ node: Node) { nodes.append(node) }

    /// Adds the nodes of `steps`, in order.
    public mutating func add(_ steps: any PipelineStep...) throws {
        for step in steps { try step.add(to: &self) }
    }

    /// Materializes `node`'s `output` at `path` (relative to the workspace) after the run.
    public mutating func materialize(_ node: String, _ output: String, at path: String) {
        materializations.append(Materialization(node: node, output: output, path: path))
    }

    /// The validated graph.
    public func graph() throws -> BuildGraph { try BuildGraph(nodes) }
}
