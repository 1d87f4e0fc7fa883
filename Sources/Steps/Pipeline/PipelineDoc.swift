import Foundation
import Graph

extension FrameList {
    /// A stand-in series of `count` mono 640x480 16-bit frames (`/frames/fN.fits`, 64 s apart, saturating
    /// at the BITPIX ceiling): enough to build every node of the main graph for documentation and the
    /// config-readers table.
    static func standIn(count: Int = 2) -> FrameList {
        FrameList(frames: (0..<count).map {
            FrameInfo(index: $0, path: "/frames/f\($0).fits",
                      properties: FrameProperties(width: 640, height: 480, exposure: 60, observationTime: 1_773_522_000 + 64 * Double($0),
                                                  observationTimeSource: "DATE-OBS"))
        }, saturation: SaturationLevel(adu: 65535, source: .bitpix))
    }
}

/// `docs/pipeline.md`, generated from `Pipeline.steps` and the nodes they build under the default
/// config and process (a test checks the file equals this; `tcbuild _pipeline-doc` prints it).
public enum PipelineDoc {
    /// The whole markdown document.
    public static func markdown() throws -> String {
        let config = TCConfig()
        let builder = try PipelineRunner.mainBuilder(config: config, frames: .standIn(), workspace: "/workspace")
        let scan = try Scan.graph(config: config, files: FrameList.standIn().frames.map(\.path))
        let nodes = scan.nodes + builder.nodes
        var out = """
        # The pipeline as a graph

        <!-- Generated from Pipeline.steps (Sources/Steps/Pipeline/Pipeline.swift) by PipelineDoc; a test checks
             this file. After changing a step, regenerate it: `swift run tcbuild _pipeline-doc > docs/pipeline.md`. -->

        A run has two stages in one recorded run. The **scan stage** always runs first and is cheap: the
        input files are the regular files (symlinks followed) of `data.input_dir` matching `data.pattern`;
        a file with the same content as an earlier one is counted once (`run` names it). `inspect/NNNNN`
        per input file (header, NaN/Inf count, a pixel subsample of at most 64k values for the linearity
        check, or the reason the file cannot be read; keyed by file content, so adding frames inspects only
        the new ones) and `scan`, which validates the series (one size, one Bayer pattern, exposures within
        `data.max_exposure_spread_percent`, NaN/Inf within `data.max_nonfinite_fraction`, linear, not noise
        only) and writes the frame list. Every bad frame is reported at once, in one table (file, problem,
        fix). Listing errors (missing or empty directory, fewer than `data.frames_min` frames) stop before
        anything runs, with exit status 2.

        The linearity check flags a frame as stretched when its median sits above 12 % of its value range
        (linear sky sits within a few per cent above the darkest pixels) or when more than 20 % of its
        pixels sit 1 % of the range above the median (lifted midtones; linear synthetic frames have at most
        16 %), and as noise only when no pixel stands 10 robust sigmas above the median. It is a heuristic
        tuned on the synthetic series: a gentle stretch of a dark-sky frame can pass (the tests catch 4 or
        more of 6 such frames), a noise frame with hot pixels passes as linear.

        The **main graph** is built from the scan's frame list, the config and the workspace's process
        description `tile_compile.proc` (`tcbuild init` writes the default below; a workspace without one
        uses it). NNNNN is the frame's position in the sorted file list (its scan index); NN a cluster.

        Registration (`stars`, `reference`, `register`) runs first over every scanned frame. A frame that
        cannot be registered (too few stars or matches, or a weighted fit residual of the matched stars above
        max(0.5 px, 0.25 x their median FWHM): doubled or trailed stars) does not fail its `register/NNNNN`
        node: the node records the reason in `transform` and writes an empty `frame`. With
        `registration.on_failure: exclude` (default) the frame is left out: every later step sees only the
        registered frames (their nodes keep their scan index, so excluding or adding a frame re-runs only
        the nodes that combine frames), the run names the excluded frames (`run`, `status`, report.html,
        `excluded_frames.csv`; `frame_metrics.csv` lists only registered frames) and `data.frames_min`
        counts registered frames (exit status 2 when fewer remain). With `abort` the run fails (exit status
        1) naming every frame that could not be registered.

        ## Steps, in order

        | step | nodes | needs | config sections | optional |
        | --- | --- | --- | --- | --- |

        """
        for step in Pipeline.steps {
            let nodes = step.nodes.isEmpty ? "(after the run)" : step.nodes.map { "`\($0)`" }.joined(separator: ", ")
            let needs = step.prerequisites.isEmpty ? "-" : step.prerequisites.map { "`\($0)`" }.joined(separator: ", ")
            let sections = step.configSections.isEmpty ? "-" : step.configSections.map { "`\($0)`" }.joined(separator: ", ")
            out += "| `\(step.name)` | \(nodes) | \(needs) | \(sections) | \(step.isOptional ? "yes" : "no") |\n"
        }
        out += "\nWhat each step computes:\n\n"
        for step in Pipeline.steps { out += "- `\(step.name)`: \(step.summary).\n" }
        out += """

        ## Nodes

        Inputs are `node#output` (per-frame inputs once, as a pattern) or the input frame file; params are the
        config key paths in the node's params (what `explain` names when they change); node-specific params
        (a cluster number, frame names) are listed as well. `reference` reads `stars/NNNNN` of every frame
        with `registration.reference: auto`, of one frame for an index, `stars/ref` for a path; `siril/register`
        exists only with `registration.engine: siril`.

        | node | inputs | outputs | params | materialized at |
        | --- | --- | --- | --- | --- |

        """
        var seen: Set<String> = []
        for node in nodes {
            let pattern = NodeName.pattern(node.name)
            guard seen.insert(pattern).inserted else { continue }
            var inputs: [String] = []
            for input in node.inputs {
                let text: String
                switch input.source {
                case .node(let from, let output): text = "`\(NodeName.pattern(from))#\(outputPattern(output))`"
                case .file: text = "input frame"
                }
                if !inputs.contains(text) { inputs.append(text) }
            }
            let params = node.params.flattened.map { NodeName.pattern($0.path) }.filter { !$0.isEmpty }
            var uniqueParams: [String] = []
            for p in params where !uniqueParams.contains(p) { uniqueParams.append(p) }
            let materialized = builder.materializations.filter { NodeName.pattern($0.node) == pattern }
                .map { "`\($0.output)` -> `\(materializedPattern($0.path))`" }
            var places: [String] = []
            for m in materialized where !places.contains(m) { places.append(m) }
            out += "| `\(pattern)` | \(inputs.isEmpty ? "-" : inputs.joined(separator: ", ")) | "
                + "\(node.outputs.map(outputPattern).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.map { "`\($0)`" }.joined(separator: ", ")) | "
                + "\(uniqueParams.isEmpty ? "-" : uniqueParams.map { "`\($0)`" }.joined(separator: ", ")) | "
                + "\(places.isEmpty ? "-" : places.joined(separator: ", ")) |\n"
        }
        out += """

        Materialized paths are relative to the workspace, under the default config (`registered/reg_NNNNN.fit`
        is `registration.output_dir/registration.registered_filename_pattern`; `synthetic/syn_NN.fits` is
        `stacking.input_dir/syn_XX.fits`). After the main graph the runner materializes them (hard links to the
        read-only artifacts; an empty `synthetic/NN` artifact, a cluster beyond the chosen k, is not
        materialized). `validation.json` is a plain file because the runner adds the runtime checks (wall time
        of the run; the time of the tile phases divided by the time of registration plus the classical mean),
        then writes `report.html` (the `report` step; skipped when nothing changed and a report exists). A
        failed validation marks the run `validation failed` in the manifest (`tcbuild log`); with
        `pipeline.abort_on_fail` (the default) `tcbuild run` exits 1, and every artifact stays inspectable.

        Per-frame nodes never depend on other frames (except through the reference), so adding frames with a
        pinned `registration.reference` registers only the new ones. How often a registered frame is read: once
        each by `measure`, `local`, `stack/classical`; once per tile row (T/S ~ 1.33 reads of each pixel row at
        25 % overlap) by `reconstruct` and by the one `synthetic/NN` whose cluster holds it. Registration writes
        each frame once.

        ## The default process description (`tile_compile.proc`)

        ```

        """
        out += ProcessDescription.defaultText
        out += """
        ```

        A user may remove the optional steps (`classical`, `validation`, `report`; validation needs the
        classical stack), give a step another engine or directory through its arguments
        (`CALL stack_frames(engine=siril, ...)`, `STEP register engine=siril`, `input=` another directory), or
        write a step's frames elsewhere (`WRITE registration.output_dir/syn_XX.fits`). An unknown directive or
        step, a missing prerequisite (a step above the steps it needs), a required step left out, or a
        directory that no config key names is an error naming `tile_compile.proc:LINE` and the valid choices
        (exit status 2). Literal arguments are checked like `--set` overrides and reach nodes only through
        their params.

        """
        return out
    }

    /// `members_03` -> `members_NN` (one output per synthetic frame).
    static func outputPattern(_ output: String) -> String {
        output.replacingOccurrences(of: #"_\d{2}$"#, with: "_NN", options: .regularExpression)
    }

    /// `registered/reg_00001.fit` -> `registered/reg_NNNNN.fit`, `synthetic/syn_03.fits` -> `synthetic/syn_NN.fits`.
    static func materializedPattern(_ path: String) -> String {
        path.replacingOccurrences(of: #"\d{5}"#, with: "NNNNN", options: .regularExpression)
            .replacingOccurrences(of: #"_\d{2}\."#, with: "_NN.", options: .regularExpression)
    }
}
