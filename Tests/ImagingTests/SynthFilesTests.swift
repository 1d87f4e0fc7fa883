import Foundation
import Testing
@testable import Imaging
import TestSupport

private func tinyConfig(seed: UInt64 = 3, cfa: Bool = false) -> SynthConfig {
    var c = SynthConfig(width: 96, height: 64, frames: 4, seed: seed, cfa: cfa)
    c.starCount = 25
    return c
}

private func allFiles(_ dir: String) throws -> [String] {
    let e = try #require(FileManager.default.enumerator(atPath: dir))
    return (e.allObjects as? [String] ?? []).filter { $0.hasSuffix(".fits") || $0.hasSuffix(".json") }.sorted()
}

@Suite("Synthetic series: files and CFA")
struct SynthFilesTests {
    @Test("writing twice (1 worker vs 2) gives byte-identical files; another seed differs")
    func byteIdentical() throws {
        let a = TemporaryDirectory("synth-a"), b = TemporaryDirectory("synth-b"), c = TemporaryDirectory("synth-c")
        #expect(try SynthSeries(tinyConfig()).write(to: a.path, concurrency: 1) == 4)
        try SynthSeries(tinyConfig()).write(to: b.path, concurrency: 2)
        try SynthSeries(tinyConfig(seed: 4)).write(to: c.path)
        let names = try allFiles(a.path)
        #expect(names == ["frames/frame_00000.fits", "frames/frame_00001.fits", "frames/frame_00002.fits",
                          "frames/frame_00003.fits", "truth/reference.fits", "truth/truth.json"])
        #expect(try allFiles(b.path) == names)
        for name in names {
            let da = try Data(contentsOf: URL(fileURLWithPath: a.file(name)))
            #expect(da == (try Data(contentsOf: URL(fileURLWithPath: b.file(name)))), "\(name) differs")
            #expect(da != (try Data(contentsOf: URL(fileURLWithPath: c.file(name)))), "\(name) equal for another seed")
        }
    }

    @Test("end to end: frames read back as uint16 with BZERO honoured, headers and truth.json parse")
    func endToEnd() throws {
        let dir = TemporaryDirectory("synth-e2e")
        let series = try SynthSeries(tinyConfig())
        try series.write(to: dir.path)
        var lastDate = ""
        for f in 0..<4 {
            let path = dir.file(series.truth.perFrame[f].file)
            let img = try FITS.read(path)
            #expect(img.width == 96 && img.height == 64 && img.channels == 1)
            #expect(img.pixels.allSatisfy { $0 >= 0 && $0 <= 65535 })
            // BZERO 32768 honoured: the values are exactly the rendered ADU around pedestal + sky.
            #expect(img.pixels == series.render(frame: f).pixels)
            let med = SynthMeasure.median(img.pixels)
            #expect(med > 1000 && med < 3000, "median \(med)")
            let h = try FITS.readHeader(path)
            #expect(h.bitpix == 16)
            #expect(h.keywords["BZERO"]?.doubleValue == 32768)
            #expect(h.exposure == 60)
            let date = try #require(h.dateObs)
            #expect(date > lastDate)
            lastDate = date
            #expect(h.bayerPattern == nil)
        }
        let ref = try FITS.read(dir.file("truth/reference.fits"))
        #expect(ref.channels == 1 && ref.width == 96)
        #expect(ref.pixels == series.renderReference().pixels)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir.file("truth/truth.json")))
        let truth = try SynthTruth.decode(data)
        #expect(truth == series.truth)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["width", "height", "frames", "seed", "cfa", "star_count", "starless_nebula_rect", "hot_pixels",
                    "best_frame", "per_frame"] {
            #expect(json[key] != nil, "truth.json lacks \(key)")
        }
        let first = try #require((json["per_frame"] as? [[String: Any]])?.first)
        for key in ["index", "file", "seeing_fwhm", "transparency", "background", "transform", "has_trail"] {
            #expect(first[key] != nil, "per-frame truth lacks \(key)")
        }
    }

    @Test("stale frames of a longer earlier series are removed")
    func staleFramesRemoved() throws {
        let dir = TemporaryDirectory("synth-stale")
        var long = tinyConfig()
        long.frames = 6
        try SynthSeries(long).write(to: dir.path)
        try SynthSeries(tinyConfig()).write(to: dir.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("frames")).sorted().count == 4)
    }

    @Test("CFA frames carry BAYERPAT=RGGB and the red nebula makes R sites brighter than G and B")
    func cfaMosaic() throws {
        var config = SynthConfig(width: 200, height: 160, frames: 3, seed: 11, cfa: true)
        config.starCount = 40
        let series = try SynthSeries(config)
        #expect(series.truth.bayerPattern == "RGGB")
        #expect(series.frameKeywords(0).contains { $0.name == "BAYERPAT" && $0.value == .string("RGGB") })
        let img = series.render(frame: 0)
        let r = series.truth.starlessNebulaRect
        let t = series.truth.perFrame[0].transform
        var sums = [0.0, 0.0, 0.0], counts = [0.0, 0.0, 0.0]
        for y in 0..<config.height {
            for x in 0..<config.width {
                let p = t.preimage(x: Double(x), y: Double(y))
                if !r.contains(p.x, p.y, margin: -2) { continue }
                let site = (y & 1) * 2 + (x & 1)
                let ch = site == 0 ? 0 : (site == 3 ? 2 : 1)
                sums[ch] += Double(img[x, y]); counts[ch] += 1
            }
        }
        let mean = (0..<3).map { sums[$0] / counts[$0] }
        // Sky is neutral; the nebula is (2.1, 0.6, 0.7) x luminance: R well above G and B.
        #expect(mean[0] - mean[1] > 80, "R \(mean[0]) G \(mean[1]) B \(mean[2])")
        #expect(mean[0] - mean[2] > 80)
        // The RGB reference shows the same colour in its planes.
        let ref = series.renderReference()
        #expect(ref.channels == 3)
        let cx = Int(r.x + r.width / 2), cy = Int(r.y + r.height / 2)
        #expect(ref[cx, cy, 0] > 2 * ref[cx, cy, 1] && ref[cx, cy, 0] > 2 * ref[cx, cy, 2])

        let dir = TemporaryDirectory("synth-cfa")
        var tiny = tinyConfig(cfa: true)
        tiny.frames = 2
        try SynthSeries(tiny).write(to: dir.path)
        let h = try FITS.readHeader(dir.file("frames/frame_00001.fits"))
        #expect(h.bayerPattern == "RGGB")
        #expect(h.channels == 1)
        #expect(try FITS.readHeader(dir.file("truth/reference.fits")).channels == 3)
    }
}
