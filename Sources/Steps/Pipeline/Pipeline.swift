/// The pipeline: every step, in order, one line each (one file per step, in its phase's folder under
/// `Phases/`). This list is also the default process description: `ProcessDescription.default`
/// renders it as `tile_compile.proc`, and `docs/pipeline.md` is generated from it.
///
/// Adding a phase: a folder `Phases/NN-Name/` with its kernel (`Name.swift`) and its step
/// (`Name+Node.swift`: a `PipelineStep` that adds the nodes), its node names in `NodeName`, one line
/// here, and its config section in `Config/` (see docs/architecture.md).
public enum Pipeline {
    /// Every step, in the order a run builds them.
    public static let steps: [any PipelineStep] = [
        ScanStep(),            // phase 0: inspect/NNNNN, scan
        StarsStep(),           // phase 1: stars/NNNNN
        ReferenceStep(),       // phase 1: reference (and stars/ref)
        RegisterStep(),        // phase 1: siril/register, register/NNNNN
        MeasureStep(),         // phases 2-3: measure/NNNNN
        GlobalMetricsStep(),   // phase 3: metrics
        TileGeometryStep(),    // phase 4: tiles/geometry
        LocalMetricsStep(),    // phase 5: local/NNNNN
        TileMetricsStep(),     // phase 5: tiles/metrics
        RejectionStep(),       // phase 6: reject
        ReconstructionStep(),  // phase 6: reconstruct
        ClusteringStep(),      // phase 7: clusters
        SyntheticFramesStep(), // phase 8: synthetic/NN
        ClassicalStackStep(),  // validation's yardstick: stack/classical
        StackingStep(),        // phase 9: stack
        ValidationStep(),      // phase 10: validation
        ReportStep(),          // report.html
    ]

    /// The step named `name`, if any.
    public static func step(_ name: String) -> (any PipelineStep)? { steps.first { $0.name == name } }
}
