import Foundation
import Testing
import TestSupport
@testable import Imaging
@testable import Steps

/// Everyday use of a workspace (issue 13), through the real `tcbuild` binary: the inspection verbs
/// work on what the workspace is (the latest run's configuration, or before any run), log tells
/// what happened, read-only storage can be inspected, symlinked frames are read through.
@Suite(.serialized) struct WorkspaceEverydayTests {
    private func tcbuild(_ args: [String]) throws -> ProcessResult { try runProcess(tcbuildBinary(), args) }

    /// A small synthetic series in `frames/` with a config that keeps the default `data.frames_min`
    /// (800), so a run needs `--set data.frames_min=8`.
    private func workspace() throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("everyday")
        var synth = SynthConfig(width: 256, height: 192, frames: 8, seed: 5)
        synth.starCount = 700
        try SynthSeries(synth).write(to: dir.path)
        var config = TCConfig()
        config.registration.reference = .index(0)
        try config.renderedYAML().write(toFile: dir.file("tile_compile.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func inspectionVerbsUseTheLatestRunsConfigurationAndLogTellsValidationFromNodes() throws {
        let dir = try workspace()
        let sets = ["--set", "data.frames_min=8", "--set", "validation.min_fwhm_improvement_percent=1000"]
        let run = try tcbuild(["run", "-w", dir.path, "-q"] + sets)
        #expect(run.status == 1, "\(run.stderr)")  // every node ran; validation cannot meet a 1000 % improvement
        #expect(run.stderr.contains("validation FAILED"))
        let log = try tcbuild(["log", "-w", dir.path])
        #expect(log.stdout.contains("validation failed (all nodes ok)"), "\(log.stdout)")
        #expect(log.stdout.contains("failed 0"))

        let source = "config: as run 1 used it (tile_compile.yaml + --set data.frames_min=8 + --set validation.min_fwhm_improvement_percent=1000)"
        let status = try tcbuild(["status", "-w", dir.path])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("up to date: a run would execute nothing"))
        #expect(status.stderr.contains(source), "\(status.stderr)")
        let explain = try tcbuild(["explain", "-w", dir.path, "stack"])
        #expect(explain.status == 0 && explain.stdout.contains("stack: cached now"), "\(explain.stderr)")
        let ls = try tcbuild(["ls", "-w", dir.path, "register/*"])
        #expect(ls.status == 0 && ls.stdout.split(separator: "\n").count == 8)
        let show = try tcbuild(["show", "-w", dir.path, "stack"])
        #expect(show.status == 0 && show.stdout.contains("stacked.fit"), "\(show.stdout)")
        let graph = try tcbuild(["graph", "-w", dir.path])
        #expect(graph.status == 0 && graph.stdout.contains("register (8 nodes)"))
        // export to a directory keeps the artifact's extension (from its materialized path stacked.fit)
        let out = dir.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let export = try tcbuild(["export", "-w", dir.path, "stack", out])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/stack_image.fit")) == Data(contentsOf: URL(fileURLWithPath: dir.file("stacked.fit"))))
        let json = try tcbuild(["export", "-w", dir.path, "tiles/geometry", out])
        #expect(json.status == 0 && FileManager.default.fileExists(atPath: out + "/tiles_geometry_grid.json"), "\(json.stdout)")
        // A binary star list is exported as the JSON list of its stars.
        let starsExport = try tcbuild(["export", "-w", dir.path, "stars/00001", "stars", out])
        #expect(starsExport.status == 0 && starsExport.stdout.contains("as JSON"), "\(starsExport.stdout)\(starsExport.stderr)")
        let exported = try JSONDecoder().decode([StarMeasurement].self, from: Data(contentsOf: URL(fileURLWithPath: out + "/stars_00001_stars.json")))
        #expect(exported.count >= 10 && exported.allSatisfy { $0.fwhm > 0 && $0.x >= 0 }, "\(exported.count) stars")

        // --set picks the file plus those overrides, as 'run' would; the file alone is not enough here.
        let explicit = try tcbuild(["status", "-w", dir.path, "--set", "data.frames_min=8"])
        #expect(explicit.stderr.contains("config: tile_compile.yaml + --set data.frames_min=8"))
        #expect(explicit.stdout.contains("validation: 1 will run"), "\(explicit.stdout)")
        // An edited file is named when the latest run's configuration is shown.
        var edited = TCConfig()
        edited.registration.reference = .index(0)
        edited.tile.overlapFraction = 0.3
        try edited.renderedYAML().write(toFile: dir.file("tile_compile.yaml"), atomically: true, encoding: .utf8)
        let after = try tcbuild(["status", "-w", dir.path])
        #expect(after.stderr.contains("tile_compile.yaml now differs in data.frames_min, tile.overlap_fraction, validation.min_fwhm_improvement_percent"),
                "\(after.stderr)")
    }

    @Test func beforeTheFirstRunEveryVerbWorksOnAnInitedWorkspaceAndCreatesNothing() throws {
        let series = try workspace()
        let dir = TemporaryDirectory("everyday-init")
        let ws = dir.file("ws")
        let bad = try tcbuild(["init", ws, "--input", dir.file("nonexistent")])
        #expect(bad.status == 2 && bad.stderr.contains("does not exist"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ws + "/tile_compile.yaml"))
        #expect(try tcbuild(["init", ws, "--input", series.file("frames")]).status == 0)
        let set = ["--set", "data.frames_min=8"]
        let status = try tcbuild(["status", "-w", ws] + set)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("inspect: 8 will run"), "\(status.stdout)")
        #expect(status.stderr.contains("no run yet"))
        let explain = try tcbuild(["explain", "-w", ws, "stack"] + set)
        #expect(explain.status == 0, "\(explain.stderr)")
        #expect(explain.stdout.contains("stack: will run"))
        #expect(explain.stdout.contains("the scan will run"))
        let typo = try tcbuild(["explain", "-w", ws, "stak"] + set)
        #expect(typo.status == 2)
        for verb in [["ls"], ["show", "scan"], ["graph"], ["log"]] {
            let r = try tcbuild(verb + ["-w", ws] + (verb[0] == "log" ? [] : set))
            #expect(r.status == 0, "\(verb): \(r.stderr)")
        }
        for verb in ["gc", "verify"] {
            let r = try tcbuild([verb, "-w", ws])
            #expect(r.status == 0 && r.stdout.contains("no run yet"), "\(verb): \(r.stdout) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: ws + "/.tcbuild"))
    }

    @Test func aWorkspaceOnReadOnlyStorageCanBeInspectedByAnotherUser() throws {
        let dir = try workspace()
        #expect(try tcbuild(["run", "-w", dir.path, "-q", "--until", "tiles/geometry", "--set", "data.frames_min=8"]).status == 0)
        // Another user (nobody) who may read but not write the workspace, as on read-only storage.
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") else {
            chmod(dir.path + "/.tcbuild", 0o555)
            defer { chmod(dir.path + "/.tcbuild", 0o755) }
            let status = try tcbuild(["status", "-w", dir.path])
            #expect(status.status == 0, "\(status.stderr)")
            return
        }
        chmod(dir.path, 0o755)
        let asNobody = { (args: [String]) in try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", tcbuildBinary()] + args) }
        for args in [["status"], ["ls", "register/*"], ["log"], ["show", "tiles/geometry"]] {
            let r = try asNobody(args + ["-w", dir.path])
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("readonly database"))
        }
        let gc = try asNobody(["gc", "-w", dir.path])
        #expect(gc.status == 2 && gc.stderr.contains("lock"), "\(gc.stderr)")  // writing needs write access, and says why
    }

    /// The pipeline after its manifest was truncated, extended or bit-flipped: a read-only verb
    /// refuses (naming the file and the fix) or works, and the next run gives the byte-identical stack.
    @Test func aDamagedManifestGivesTheByteIdenticalStackOrARefusal() throws {
        let dir = try workspace()
        let sets = ["--set", "data.frames_min=8", "--set", "pipeline.abort_on_fail=false"]
        #expect(try tcbuild(["run", "-w", dir.path, "-q"] + sets).status == 0)
        let stack = try Data(contentsOf: URL(fileURLWithPath: dir.file("stacked.fit")))
        let manifestPath = dir.file(".tcbuild/manifest.sqlite")
        let pristine = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
        var rng = TestRNG(seed: 99)
        var flipped = pristine
        for _ in 0..<5 { flipped[Int(rng.next() % UInt64(flipped.count))] ^= UInt8(1) << UInt8(rng.next() % 8) }
        let damages: [(String, Data)] = [("cut to half", pristine.prefix(pristine.count / 2)),
                                         ("cut by 100 bytes", pristine.prefix(pristine.count - 100)),
                                         ("extended by 100 bytes", pristine + Data(repeating: 7, count: 100)),
                                         ("5 bits flipped", flipped)]
        var rebuilt = 0
        for (label, bytes) in damages {
            try bytes.write(to: URL(fileURLWithPath: manifestPath))
            for suffix in ["-wal", "-shm"] { unlink(manifestPath + suffix) }
            let status = try tcbuild(["status", "-w", dir.path])
            #expect(status.status == 0 || (status.status == 2 && status.stderr.contains("manifest.sqlite is damaged")
                                           && status.stderr.contains("'tcbuild run'")), "\(label): \(status.stderr)")
            let run = try tcbuild(["run", "-w", dir.path, "-q"] + sets)
            #expect(run.status == 0, "\(label): \(run.stderr)")
            if run.stderr.contains("warning: the manifest was damaged") { rebuilt += 1 }
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("stacked.fit"))) == stack, "\(label): the stack differs")
            // Back to the pristine manifest, and the damaged ones out of the way.
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.file(".tcbuild")) where name.contains(".damaged-") {
                try FileManager.default.removeItem(atPath: dir.file(".tcbuild/" + name))
            }
        }
        #expect(rebuilt >= 3)  // the cuts and the extension are always noticed
    }

    @Test func symlinkedFramesAreReadThroughTheirTargets() throws {
        let source = try workspace()
        let dir = TemporaryDirectory("everyday-links")
        try FileManager.default.createDirectory(atPath: dir.file("frames"), withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.file("frames")) {
            try FileManager.default.createSymbolicLink(atPath: dir.file("frames/" + name), withDestinationPath: source.file("frames/" + name))
        }
        try FileManager.default.copyItem(atPath: source.file("tile_compile.yaml"), toPath: dir.file("tile_compile.yaml"))
        let run = try tcbuild(["run", "-w", dir.path, "-q", "--until", "scan", "--set", "data.frames_min=8"])
        #expect(run.status == 0, "\(run.stderr)")
        let ls = try tcbuild(["ls", "-w", dir.path, "inspect/*"])
        #expect(ls.stdout.split(separator: "\n").filter { $0.contains("cached") }.count == 8, "\(ls.stdout)")
    }
}
