import Graph

/// When a step does its work.
public enum StepStage: String, Sendable, Codable {
    /// Before the frame list exists: the scan stage graph (`inspect/NNNNN`, `scan`).
    case scan
    /// Registration (`stars/NNNNN`, `reference`, `register/NNNNN`): run first over every scanned frame;
    /// in the main graph these steps still see every frame, so their nodes stay cache hits.
    case registration
    /// In the main graph, built from the registered frames (the scan's frame list minus the frames
    /// registration excluded, `registration.on_failure: exclude`).
    case main
    /// After the main graph ran (the report).
    case afterRun = "after-run"
}

/// One step of the pipeline: what it adds to the graph, which config sections reach its nodes, its
/// node names and what it needs before it. `Pipeline.steps` lists them in order; a
/// `tile_compile.proc` selects and orders them (`ProcessDescription`).
///
/// A step takes part in fingerprints only through the params and inputs it gives its nodes: the step
/// value itself, its name and its place in the list are never hashed.
public protocol PipelineStep: Sendable {
    /// The step's name in `tile_compile.proc` (`register`, `tiles/metrics`).
    var name: String { get }
    /// What it computes, one line (docs/pipeline.md, `tcbuild graph`).
    var summary: String { get }
    /// Steps whose nodes it reads; they must come earlier in the process.
    var prerequisites: [String] { get }
    /// Whether a process description may leave it out (nothing required reads its nodes).
    var isOptional: Bool { get }
    /// Config sections whose keys reach its nodes' params (`registration`, `tile`).
    var configSections: [String] { get }
    /// Its node names as patterns (`register/NNNNN`, `synthetic/NN`).
    var nodes: [String] { get }
    /// When it works.
    var stage: StepStage { get }
    /// Arguments a process line may give it (`STEP register engine=siril`): name -> the config key it sets.
    var arguments: [String: String] { get }
    /// Where it materializes frames by default, for steps that write one file per frame or cluster.
    var frameWrite: ProcessDescription.FrameWrite? { get }
    /// Its lines in the default `tile_compile.proc`.
    var defaultDirectives: [String] { get }
    /// Adds its nodes and materializations to the main graph's builder.
    func add(to builder: inout PipelineBuilder) throws
}

extension PipelineStep {
    public var isOptional: Bool { false }
    public var stage: StepStage { .main }
    public var arguments: [String: String] { [:] }
    public var frameWrite: ProcessDescription.FrameWrite? { nil }
    public var defaultDirectives: [String] { ["STEP \(name)"] }
}
