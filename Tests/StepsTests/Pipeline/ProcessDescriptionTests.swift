import Foundation
import Testing
import TestSupport
@testable import Imaging
@testable import Steps

/// `tile_compile.proc`: the default is the step list, edits select and configure steps, and every
/// error names the file and line with the valid choices.
@Suite(.serialized) struct ProcessDescriptionTests {
    private func parse(_ text: String) throws(ProcessError) -> ProcessDescription {
        try ProcessDescription.parse(text, file: "tile_compile.proc")
    }

    /// The default text with `line` replaced by `with` (nil: removed).
    private func edited(_ line: String, _ with: String?) -> String {
        let lines = ProcessDescription.defaultText.components(separatedBy: "\n")
        #expect(lines.contains(line), "the default has no line '\(line)'")
        return lines.compactMap { $0 == line ? with : $0 }.joined(separator: "\n")
    }

    private func error(_ text: String) -> ProcessError? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    @Test func defaultIsTheStepListWithTheSeedsDirectories() throws {
        let p = try parse(ProcessDescription.defaultText)
        #expect(p.steps.map(\.step.name) == Pipeline.steps.map(\.name))
        #expect(p.steps.allSatisfy { $0.overrides.isEmpty })
        #expect(p.writes["register"] == .init(directoryKey: "registration.output_dir", pattern: "registration.registered_filename_pattern"))
        #expect(p.writes["synthetic"] == .init(directoryKey: "stacking.input_dir", pattern: "syn_XX.fits"))
        #expect(p.ensuredDirectories == ["stacking.input_dir"])
        let text = ProcessDescription.defaultText
        for directive in ["LOAD_FRAMES_FROM_DIR registration.output_dir", "ENSURE_DIR stacking.input_dir",
                          "WRITE stacking.input_dir/syn_XX.fits", "CALL stack_frames(engine=stacking.engine, method=stacking.method"] {
            #expect(text.contains(directive))
        }
        let config = TCConfig()
        #expect(p.framePath(step: "register", index: 17, config: config) == "registered/reg_00017.fit")
        #expect(p.framePath(step: "synthetic", index: 3, config: config) == "synthetic/syn_03.fits")
        #expect(try p.configure(config) == config)
    }

    @Test func editsDropOptionalStepsAndSetEnginesAndDirectories() throws {
        var text = edited("STEP classical", nil)
        text = text.replacingOccurrences(of: "STEP validation\n", with: "").replacingOccurrences(of: "STEP report\n", with: "")
        text = text.replacingOccurrences(of: "CALL stack_frames(engine=stacking.engine,", with: "CALL stack_frames(engine=siril,")
        text = text.replacingOccurrences(of: "WRITE stacking.input_dir/syn_XX.fits", with: "WRITE registration.output_dir/syn_XX.fits")
        let p = try parse(text)
        #expect(!p.includes("classical") && !p.includes("validation") && !p.includes("report"))
        let config = try p.configure(TCConfig())
        #expect(config.stacking.engine == .siril)
        #expect(p.framePath(step: "synthetic", index: 2, config: config) == "registered/syn_02.fits")
        let builder = try PipelineRunner.mainBuilder(config: config, frames: .standIn(), workspace: "/w", process: p)
        let names = builder.nodes.map(\.name)
        #expect(!names.contains(NodeName.classicalStack) && !names.contains(NodeName.validation))
        let stack = try #require(builder.nodes.first { $0.name == NodeName.stack })
        #expect(stack.params.flattened.contains { $0.path == "stacking.engine" && $0.value == "\"siril\"" })
        // A literal is checked like --set, and the error names the process line.
        let bad = text.replacingOccurrences(of: "engine=siril,", with: "engine=dss,")
        let line = bad.components(separatedBy: "\n").firstIndex { $0.hasPrefix("CALL stack_frames") }! + 1
        #expect(throws: ConfigError.self) { try parse(bad).configure(TCConfig()) }
        do { _ = try parse(bad).configure(TCConfig()) } catch {
            #expect("\(error)".contains("tile_compile.proc:\(line)"))
            #expect("\(error)".contains("siril"))
        }
    }

    @Test func everyErrorKindNamesTheFileLineAndTheValidChoices() throws {
        let lines = ProcessDescription.defaultText.components(separatedBy: "\n")
        func lineOf(_ prefix: String) -> Int { lines.firstIndex { $0.hasPrefix(prefix) }! + 1 }

        let directive = try #require(error(edited("STEP clusters", "STEPS clusters")))
        #expect(directive.kind == .unknownDirective && directive.line == lineOf("STEP clusters"))
        #expect(directive.description.hasPrefix("tile_compile.proc:\(lineOf("STEP clusters")): unknown directive 'STEPS'"))
        #expect(directive.description.contains("STEP, CALL, WRITE, LOAD_FRAMES_FROM_DIR, ENSURE_DIR"))

        let step = try #require(error(edited("STEP clusters", "STEP clustres")))
        #expect(step.kind == .unknownStep && step.line == lineOf("STEP clusters"))
        #expect(step.description.contains("did you mean 'clusters'?"))
        #expect(step.description.contains("valid steps: scan, stars, reference, register"))

        // measure needs register: move register below it.
        let registerLines = "STEP register engine=registration.engine reference=registration.reference\n"
            + "WRITE registration.output_dir/registration.registered_filename_pattern\nLOAD_FRAMES_FROM_DIR registration.output_dir\n"
        let moved = ProcessDescription.defaultText.replacingOccurrences(of: registerLines, with: "")
            .replacingOccurrences(of: "STEP metrics\n", with: "STEP metrics\n" + registerLines)
        let prerequisite = try #require(error(moved))
        #expect(prerequisite.kind == .missingPrerequisite)
        #expect(prerequisite.description.contains("step 'measure' needs step 'register' earlier in the process"))

        let validationWithoutClassical = try #require(error(edited("STEP classical", nil)))
        #expect(validationWithoutClassical.kind == .missingPrerequisite && validationWithoutClassical.line == lineOf("STEP validation") - 1)
        #expect(validationWithoutClassical.description.contains("needs step 'classical'"))

        let required = try #require(error(edited("STEP clusters", nil)))
        #expect(required.kind == .missingPrerequisite)  // synthetic needs clusters
        #expect(try parse(edited("STEP report", nil)).includes("validation"))  // an optional step may go

        let dir = try #require(error(edited("ENSURE_DIR stacking.input_dir", "ENSURE_DIR stacking.output_dir")))
        #expect(dir.kind == .unknownDirectory && dir.line == lineOf("ENSURE_DIR"))
        #expect(dir.description.contains("valid: registration.output_dir, stacking.input_dir"))
        let writeDir = try #require(error(edited("WRITE stacking.input_dir/syn_XX.fits", "WRITE frames/syn_XX.fits")))
        #expect(writeDir.kind == .unknownDirectory && writeDir.line == lineOf("WRITE stacking.input_dir"))

        let argument = try #require(error(edited("STEP register engine=registration.engine reference=registration.reference",
                                                 "STEP register engin=siril")))
        #expect(argument.kind == .badArgument && argument.description.contains("valid: engine, interpolation, reference"))
    }

    @Test func requiredStepsCannotBeLeftOut() throws {
        let text = ProcessDescription.defaultText.replacingOccurrences(of: "CALL stack_frames(", with: "# CALL stack_frames(")
            .replacingOccurrences(of: "STEP validation\n", with: "")
        let e = try #require(error(text))
        #expect(e.description.contains("step 'stack' is required"))
    }

    /// Through the binary: init writes the default; an unedited process gives the same artifacts as no
    /// process file; an edited one drops steps and switches the stacking engine; errors exit 2.
    @Test func initRunAndEditsThroughTheCLI() throws {
        let dir = TemporaryDirectory("proc")
        var synth = SynthConfig(width: 256, height: 192, frames: 8, seed: 5)
        synth.starCount = 700
        try SynthSeries(synth).write(to: dir.path)
        let ws = dir.file("ws")
        #expect(try runProcess(tcbuildBinary(), ["init", ws, "--input", dir.file("frames")]).status == 0)
        let proc = ws + "/tile_compile.proc"
        #expect(try String(contentsOfFile: proc, encoding: .utf8) == ProcessDescription.defaultText)
        let set = ["--set", "data.frames_min=3", "--set", "registration.reference=0", "--set", "pipeline.abort_on_fail=false"]
        let first = try runProcess(tcbuildBinary(), ["run", "-w", ws, "-q"] + set)
        #expect(first.status == 0, "\(first.stderr)")
        let stack = try Data(contentsOf: URL(fileURLWithPath: ws + "/stacked.fit"))
        // Without the file, the built-in default: nothing to do, same bytes.
        try FileManager.default.removeItem(atPath: proc)
        let again = try runProcess(tcbuildBinary(), ["run", "-w", ws] + set)
        #expect(again.stdout.contains("0 executed"), "\(again.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: ws + "/stacked.fit")) == stack)

        // Drop the optional steps and switch the stacking engine.
        let edited = ProcessDescription.defaultText.replacingOccurrences(of: "STEP classical\n", with: "")
            .replacingOccurrences(of: "STEP validation\n", with: "").replacingOccurrences(of: "STEP report\n", with: "")
            .replacingOccurrences(of: "engine=stacking.engine,", with: "engine=siril,")
        try edited.write(toFile: proc, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: ws + "/report.html")
        let status = try runProcess(tcbuildBinary(), ["status", "-w", ws, "-v"] + set)
        #expect(status.stdout.contains("stack: will run (param stacking.engine: \"native\" -> \"siril\")"), "\(status.stdout)")
        let graph = try runProcess(tcbuildBinary(), ["graph", "-w", ws] + set)
        #expect(!graph.stdout.contains("validation") && graph.stdout.contains("process (\(proc))"))
        let switched = try runProcess(tcbuildBinary(), ["run", "-w", ws, "-v"] + set)
        #expect(switched.status == 0, "\(switched.stderr)")
        #expect(switched.stdout.contains("1 executed"), "only the stack reruns: \(switched.stdout)")
        #expect(!FileManager.default.fileExists(atPath: ws + "/report.html"))

        // synthetic.frames_max shapes the stack: explain names the key, not a removed input.
        let fewer = set + ["--set", "synthetic.frames_min=1", "--set", "synthetic.frames_max=2"]
        #expect(try runProcess(tcbuildBinary(), ["run", "-w", ws, "-q"] + fewer).status == 0)
        let explain = try runProcess(tcbuildBinary(), ["explain", "-w", ws, "stack"] + fewer)
        #expect(explain.stdout.contains("param synthetic.frames_max: 30 -> 2"), "\(explain.stdout)")

        // An error: exit 2, file:line, valid choices; nothing runs.
        try (edited + "STEP sharpen\n").write(toFile: proc, atomically: true, encoding: .utf8)
        let bad = try runProcess(tcbuildBinary(), ["run", "-w", ws] + set)
        #expect(bad.status == 2)
        let line = edited.components(separatedBy: "\n").count
        #expect(bad.stderr.contains("\(proc):\(line): unknown step 'sharpen'"), "\(bad.stderr)")
        #expect(bad.stderr.contains("valid steps: scan, stars"))
    }
}
