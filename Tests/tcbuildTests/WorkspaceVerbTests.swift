import Foundation
import Testing
import TestSupport
@testable import Imaging
@testable import Steps

/// The workspace verbs (status, explain, gc, verify, ls, show, export, log) on a small real
/// workspace, driven through the `tcbuild` binary.
@Suite(.serialized) struct WorkspaceVerbTests {
    private func workspace() throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("verbs")
        var synth = SynthConfig(width: 256, height: 192, frames: 8, seed: 5)
        synth.starCount = 700
        try SynthSeries(synth).write(to: dir.path)
        var config = TCConfig()
        config.data.framesMin = 3
        config.registration.reference = .index(0)
        config.pipeline.abortOnFail = false  // a tiny series need not pass validation; these tests are about the verbs
        try config.renderedYAML().write(toFile: dir.file("tile_compile.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    private func tcbuild(_ args: [String]) throws -> ProcessResult { try runProcess(tcbuildBinary(), args) }

    /// Node names the `status -v` output says will run.
    private func willRun(_ out: String) -> Set<String> {
        Set(out.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard let r = t.range(of: ": will run") else { return nil }
            return String(t[..<r.lowerBound])
        })
    }

    @Test func statusAgreesWithRunAndExplainNamesTheEditedKey() throws {
        let dir = try workspace()
        let first = try tcbuild(["run", "-w", dir.path, "-q"])
        #expect(first.status == 0, "\(first.stderr)")
        let clean = try tcbuild(["status", "-w", dir.path])
        #expect(clean.stdout.contains("up to date: a run would execute nothing"))

        let edit = ["--set", "tile.overlap_fraction=0.3"]
        let status = try tcbuild(["status", "-w", dir.path, "-v"] + edit)
        #expect(status.stdout.contains("tiles/geometry: will run (param tile.overlap_fraction: 0.25 -> 0.3)"))
        let predicted = willRun(status.stdout)
        #expect(predicted == ["tiles/geometry"])
        let run = try tcbuild(["run", "-w", dir.path, "-v"] + edit)
        #expect(run.status == 0)
        let executed = Set(run.stderr.split(separator: "\n").compactMap { l -> String? in
            l.hasPrefix("done  ") ? String(l.dropFirst(6).split(separator: " ").first ?? "") : nil })
        // Everything status said will run did run; everything else that ran was pending on it.
        #expect(predicted.isSubset(of: executed))
        let upstreamOfTiles: Set<String> = ["inspect", "scan", "stars", "reference", "register", "measure", "metrics"]
        #expect(executed.allSatisfy { !upstreamOfTiles.contains(String($0.split(separator: "/")[0])) })

        let explain = try tcbuild(["explain", "-w", dir.path, "tiles/metrics"] + edit)
        #expect(explain.stdout.contains("tiles/metrics: cached now"))
        #expect(explain.stdout.contains("param tile.overlap_fraction: 0.25 -> 0.3"))
        #expect(explain.stdout.contains("because upstream tiles/geometry ran:"))
        // tiles/metrics also reran because every frame's local metrics did: only 3 upstream nodes are detailed.
        let all = try tcbuild(["explain", "-w", dir.path, "tiles/metrics", "--all"] + edit)
        let detailed = explain.stdout.components(separatedBy: "because upstream ").count - 1
        let everyUpstream = all.stdout.components(separatedBy: "because upstream ").count - 1
        #expect(detailed == 3)
        #expect(everyUpstream == 1 + 8)  // tiles/geometry and local/00000...00007
        #expect(explain.stdout.contains("... and \(everyUpstream - 3) more upstream node(s) ran (local/"))
        let text = try tcbuild(["graph", "-w", dir.path])
        #expect(text.stdout.contains("register (8 nodes) <- reference, stars"))
        #expect(text.stdout.contains("stack (3 nodes)"))  // stack/classical, stack/inverse_variance, stack
        let dot = try tcbuild(["graph", "-w", dir.path, "--format", "dot"])
        #expect(dot.stdout.hasPrefix("digraph tcbuild {"))
        #expect(dot.stdout.contains("\"tiles/geometry\" -> \"tiles/metrics\";"))
        let json = try tcbuild(["graph", "-w", dir.path, "--format", "json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let nodes = try #require(parsed?["nodes"] as? [[String: Any]])
        #expect(nodes.contains { $0["name"] as? String == "validation" && ($0["upstreams"] as? [String])?.contains("stack") == true })
        let log = try tcbuild(["log", "-w", dir.path])
        #expect(log.stdout.contains("tile.overlap_fraction: 0.25 -> 0.3"))
    }

    @Test func gcKeepsTheLatestRunCachedAndVerifyRepairsATruncatedArtifact() throws {
        let dir = try workspace()
        #expect(try tcbuild(["run", "-w", dir.path, "-q"]).status == 0)
        #expect(try tcbuild(["run", "-w", dir.path, "-q", "--set", "tile.overlap_fraction=0.3"]).status == 0)
        let gc = try tcbuild(["gc", "-w", dir.path, "--keep-runs", "1"])
        #expect(gc.status == 0)
        let freed = gc.stdout.components(separatedBy: "freed ").last.flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        #expect(freed > 0, "\(gc.stdout)")
        let after = try tcbuild(["run", "-w", dir.path, "--set", "tile.overlap_fraction=0.3"])
        #expect(after.stdout.contains(" 0 executed"), "\(after.stdout)")

        // Truncate one registered frame in the store.
        let show = try tcbuild(["show", "-w", dir.path, "--set", "tile.overlap_fraction=0.3", "register/00002"])
        let storePath = try #require(show.stdout.split(separator: "\n").first { $0.contains("frame:") }?
            .components(separatedBy: " store ").last?.components(separatedBy: " -> ").first)
        chmod(storePath, 0o644)
        #expect(truncate(storePath, 1000) == 0)
        let verify = try tcbuild(["verify", "-w", dir.path])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("register/00002"))
        let rerun = try tcbuild(["run", "-w", dir.path, "-v", "--set", "tile.overlap_fraction=0.3"])
        #expect(rerun.status == 0)
        let executed = rerun.stderr.split(separator: "\n").filter { $0.hasPrefix("done  ") }.map { String($0.dropFirst(6).split(separator: " ")[0]) }
        #expect(executed == ["register/00002"])  // recomputed bytes are identical: nothing downstream reruns
        let export = try tcbuild(["export", "-w", dir.path, "--set", "tile.overlap_fraction=0.3", "register/00002", "frame", dir.file("r2.fits")])
        #expect(export.status == 0)
        #expect(try FITS.readHeader(dir.file("r2.fits")).width == 256)
        let ls = try tcbuild(["ls", "-w", dir.path, "--set", "tile.overlap_fraction=0.3", "register/*"])
        #expect(ls.stdout.split(separator: "\n").count == 8)
    }

    @Test func exportTileWritesThatTilesWeightsAcrossFramesAsFITS() throws {
        let dir = try workspace()
        let run = try tcbuild(["run", "-w", dir.path, "-q", "--until", "tiles/metrics"])  // the later phases are not needed
        #expect(run.status == 0, "\(run.stderr)")
        // The raw artifact is the reference the FITS export must agree with, bit for bit.
        #expect(try tcbuild(["export", "-w", dir.path, "tiles/metrics", "weights", dir.file("weights.bin")]).status == 0)
        let weights = try TileWeights(path: dir.file("weights.bin"))
        let grid = try TileGrid.read(path: dir.file("tiles/grid.json"))
        #expect(weights.frameCount == 8)
        #expect(weights.tileCount == grid.tiles.count && weights.tileCount > 1)

        let last = weights.tileCount - 1
        for tile in [0, last] {
            let dest = dir.file("tile\(tile).fits")
            let export = try tcbuild(["export", "-w", dir.path, "tiles/metrics", "weights", dest, "--tile", "\(tile)"])
            #expect(export.status == 0, "\(export.stderr)")
            let image = try FITS.read(dest)
            #expect(image.width == 8 && image.height == 1 && image.channels == 3)
            let f = weights.frameCount
            for frame in 0..<f {
                #expect(image.pixels[frame].bitPattern == weights.weight(frame: frame, tile: tile).bitPattern)
                #expect(image.pixels[f + frame].bitPattern == weights.local(frame: frame, tile: tile).bitPattern)
                #expect(image.pixels[2 * f + frame].bitPattern == weights.quality(frame: frame, tile: tile).bitPattern)
            }
            let header = try FITS.readHeader(dest)
            #expect(header.keywords["TILE"]?.intValue == tile)
            #expect(header.keywords["TILEMODE"]?.stringValue == weights.modes[tile].description)
            #expect(header.keywords["TILEX"]?.intValue == grid.tiles[tile].x)
            #expect(header.keywords["TILEW"]?.intValue == grid.tiles[tile].w)
            #expect(header.keywords["PLANE1"]?.stringValue == "W")
        }
        // Frames are weighted differently within a tile (otherwise the export would say nothing).
        let w0 = (0..<weights.frameCount).map { weights.weight(frame: $0, tile: 0) }
        #expect(Set(w0).count > 1)

        // OUTPUT may be omitted with --tile; a directory DEST gets a descriptive name.
        #expect(try tcbuild(["export", "-w", dir.path, "tiles/metrics", dir.path, "--tile", "1"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: dir.file("tiles_metrics_weights_tile1.fits")))
        let outOfRange = try tcbuild(["export", "-w", dir.path, "tiles/metrics", "weights", dir.file("x.fits"), "--tile", "\(weights.tileCount)"])
        #expect(outOfRange.status == 2)
        #expect(outOfRange.stderr.contains("has \(weights.tileCount) tiles"))
        let wrongNode = try tcbuild(["export", "-w", dir.path, "register/00001", "frame", dir.file("x.fits"), "--tile", "0"])
        #expect(wrongNode.status == 2)
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.fits")))
    }
}
