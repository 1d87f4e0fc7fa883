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
}
