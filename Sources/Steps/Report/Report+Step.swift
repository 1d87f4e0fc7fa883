/// The report step: `report.html` after the main graph ran (not a node: it reads the run's artifacts
/// and the manifest's timings). Optional.
public struct ReportStep: PipelineStep {
    public var name: String { "report" }
    public var summary: String { "self-contained report.html: METHOD's diagnostics, previews, validation, node timings" }
    public var prerequisites: [String] { [NodeName.scan] }
    public var isOptional: Bool { true }
    public var configSections: [String] { [] }
    public var nodes: [String] { [] }
    public var stage: StepStage { .afterRun }
    /// Nothing to add: the runner writes the report after the run (`PipelineRunner.writeReport`).
    public func add(to builder: inout PipelineBuilder) throws {}
}
