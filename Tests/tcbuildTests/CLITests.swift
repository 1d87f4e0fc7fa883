import Foundation
import Testing
import TestSupport

/// The CLI's exit statuses and messages, driven as a child process.
@Suite struct CLITests {
    @Test func configErrorExitsTwoNamingKeyAndLine() throws {
        let dir = TemporaryDirectory("cli-config")
        try dir.write("tile_compile.yaml", "data:\n  frames_min: 3\ntile:\n  size_factr: 40\n")
        let result = try runProcess(tcbuildBinary(), ["run", "-w", dir.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("tile_compile.yaml:4"))
        #expect(result.stderr.contains("unknown key 'tile.size_factr'; did you mean 'tile.size_factor'?"))
        #expect(!FileManager.default.fileExists(atPath: dir.file(".tcbuild/manifest.sqlite")))  // nothing touched
    }

    @Test func badOverrideAndMissingConfigAndUsageErrorsExitTwo() throws {
        let dir = TemporaryDirectory("cli-usage")
        let missing = try runProcess(tcbuildBinary(), ["run", "-w", dir.path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("tcbuild init"))
        try dir.write("tile_compile.yaml", "")
        let override = try runProcess(tcbuildBinary(), ["run", "-w", dir.path, "--set", "tile.overlap_fraction=0.7"])
        #expect(override.status == 2)
        #expect(override.stderr.contains("--set tile.overlap_fraction=0.7"))
        #expect(override.stderr.contains("out of range"))
        let usage = try runProcess(tcbuildBinary(), ["synth", dir.path, "--size", "12"])
        #expect(usage.status == 2)
        let frames = try runProcess(tcbuildBinary(), ["run", "-w", dir.path])
        #expect(frames.status == 2)
        #expect(frames.stderr.contains("data.input_dir"))
    }

    @Test func synthRealisticOptionsOverridesAndErrors() throws {
        let dir = TemporaryDirectory("cli-synth")
        let real = try runProcess(tcbuildBinary(), ["synth", dir.file("r"), "--frames", "6", "--size", "96x64",
                                                    "--realistic", "--extension", "FITS"])
        #expect(real.status == 0, "\(real.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.file("r/frames")).sorted()
        #expect(names == (0..<6).map { String(format: "frame_%05d.FITS", $0) })
        let truth = try String(contentsOfFile: dir.file("r/truth/truth.json"), encoding: .utf8)
        for key in ["\"adc_bits\" : 12", "\"blooming\" : true", "\"drift_fraction\" : 0.3", "\"cosmic_rays\"", "\"glitch\""] {
            #expect(truth.contains(key), "truth.json lacks \(key)")
        }
        // Individual options override the preset.
        #expect(try runProcess(tcbuildBinary(), ["synth", dir.file("o"), "--frames", "6", "--size", "96x64", "--realistic",
                                                 "--adc-bits", "16", "--no-blooming", "--glitches", "0"]).status == 0)
        let over = try String(contentsOfFile: dir.file("o/truth/truth.json"), encoding: .utf8)
        #expect(!over.contains("\"adc_bits\"") && !over.contains("\"blooming\"") && !over.contains("\"glitch\""))
        #expect(over.contains("\"cosmic_rays\""))
        let bad = try runProcess(tcbuildBinary(), ["synth", dir.file("b"), "--adc-bits", "20"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("adcBits"))
        let help = try runProcess(tcbuildBinary(), ["synth", "--help"])
        #expect(help.stdout.contains("--realistic") && help.stdout.contains("--cosmic-rays"))
    }

    @Test func initWritesATemplateThatRunsAfterSynth() throws {
        let dir = TemporaryDirectory("cli-init")
        let ws = dir.file("ws")
        #expect(try runProcess(tcbuildBinary(), ["synth", ws, "--frames", "4", "--size", "64x48"]).status == 0)
        #expect(try runProcess(tcbuildBinary(), ["init", ws]).status == 0)
        #expect(try runProcess(tcbuildBinary(), ["init", ws]).status == 2)  // never overwrites
        let run = try runProcess(tcbuildBinary(), ["run", "-w", ws, "--set", "data.frames_min=4", "--until", "scan"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("5 executed"))
    }

    /// `workspace-template/README.md` in this source tree.
    private static let templateReadme = packageRoot.appendingPathComponent("workspace-template/README.md").path

    @Test func initWritesTheEmbeddedReadmeVerbatim() throws {
        let dir = TemporaryDirectory("cli-readme")
        let ws = dir.file("ws")
        try FileManager.default.createDirectory(atPath: dir.file("frames"), withIntermediateDirectories: true)
        let result = try runProcess(tcbuildBinary(), ["init", ws, "--input", dir.file("frames")])
        #expect(result.status == 0, "\(result.stderr)")
        let template = try #require(FileManager.default.contents(atPath: Self.templateReadme), "no \(Self.templateReadme)")
        let written = try #require(FileManager.default.contents(atPath: ws + "/README.md"))
        // On failure: regenerate Sources/tcbuild/WorkspaceReadme.swift (the command is in its header).
        #expect(written == template, "the README embedded in tcbuild differs from workspace-template/README.md")
        let text = String(decoding: written, as: UTF8.self)
        for verb in ["tcbuild run", "tcbuild status", "tcbuild explain", "--set", "tcbuild log", "tcbuild gc"] {
            #expect(text.contains(verb), "README does not mention \(verb)")
        }
        #expect(result.stdout.contains("README.md"))
    }

    @Test func initKeepsAnExistingReadme() throws {
        let dir = TemporaryDirectory("cli-readme-keep")
        try dir.write("README.md", "my notes\n")
        #expect(try runProcess(tcbuildBinary(), ["init", dir.path]).status == 0)
        #expect(try String(contentsOfFile: dir.file("README.md"), encoding: .utf8) == "my notes\n")
        #expect(FileManager.default.fileExists(atPath: dir.file("tile_compile.yaml")))
    }

    @Test func gcMaxSizeRejectsABadSizeAndReportsWhatItFreed() throws {
        let dir = TemporaryDirectory("cli-gc")
        let bad = try runProcess(tcbuildBinary(), ["gc", "-w", dir.path, "--max-size", "lots"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--max-size"))
        // A toy workspace: three runs of a two-node graph, then gc down to (almost) nothing.
        for v in [1, 2, 3] {
            try dir.write("spec.json", #"[{"name":"a","deps":[],"files":[],"value":\#(v),"sleepMs":0},{"name":"b","deps":["a"],"files":[],"value":7,"sleepMs":0}]"#)
            let toy = try runProcess(tcbuildBinary(), ["_toy", "--workspace", dir.path, "--spec", dir.file("spec.json")])
            #expect(toy.status == 0, "\(toy.stderr)")
        }
        let gc = try runProcess(tcbuildBinary(), ["gc", "-w", dir.path, "--keep-runs", "3", "--max-size", "1"])
        #expect(gc.status == 0, "\(gc.stderr)")
        #expect(gc.stdout.contains("also dropped runs 1, 2"), "\(gc.stdout)")
        #expect(gc.stdout.contains("still above --max-size 1 B"), "\(gc.stdout)")
    }
}
