import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Graph
import Imaging
import Testing
import TestSupport
@testable import Steps

/// The HTML report from a small hand-built set of artifacts (12 frames, 96 x 64 px, 6 tiles).
@Suite("HTML report")
struct ReportTests {
    static let frames = 12
    static let odd = "a<b>&\"c\".fit"  // a frame name that needs escaping

    /// Writes every artifact the report reads into `dir` and returns the inputs.
    static func artifacts(_ dir: TemporaryDirectory) throws -> ReportInputs {
        var rng = TestRNG(seed: 11)
        var rows: [FrameMetrics] = []
        for f in 0..<frames {
            let x = Double(f)
            let q: Double = 0.1 * Double(f % 5) - 0.2
            let name: String = f == 3 ? odd : String(format: "f%03d.fit", f)
            rows.append(FrameMetrics(index: f, file: name, background: 1000 + 40 * x, noise: 0.01 + 0.001 * Double(f % 4),
                                     gradient: 0.2, q: q, g: exp(q), residual: 0.1, matches: 40, starCount: 30, fwhm: 3 + 0.1 * x))
        }
        let table = FrameMetricsTable(frames: rows)
        let grid = TileGeometry.grid(width: 96, height: 64, size: 32, overlapFraction: 0.25, fwhm: 3.4, starsUsed: 200)
        var weights = TileWeights(frameCount: frames, tileCount: grid.tiles.count)
        for t in 0..<grid.tiles.count {
            weights.modes[t] = t % 2 == 0 ? .star : .structure
            for f in 0..<frames {
                let q = Float(rng.uniform(-1, 1)), l = exp(q)
                weights.set(frame: f, tile: t, q: q, l: l, w: Float(table.frames[f].g) * l)
            }
        }
        var locals: [String] = []
        for f in 0..<frames {
            let tiles = grid.tiles.map { t in
                TileLocalMetrics(starCount: t.id == 5 ? 0 : 4, fwhm: t.id == 5 ? .nan : 2.5 + 0.1 * Double(t.id) + 0.05 * Double(f),
                                 roundness: 0.9, contrast: 50 - Double(f), gradient: 0.1, noise: 0.01, background: 1, coverage: 1)
            }
            locals.append(try dir.write("local/\(f).bin", LocalMetricsFile(tiles: tiles).encoded()))
        }
        // The typed artifacts of the clusters and validation nodes, encoded as those nodes write them.
        let states = rows.map { [$0.g, 0.1 * Double($0.index % 3), 0.01, $0.background, $0.noise] }
        let z = Clustering.standardize(states)
        let clusters = FrameClusters(
            requested: "kmeans", method: "kmeans", reason: "k-means <best gain>", k: 3,
            inertia: [KInertia(k: 1, inertia: 48), KInertia(k: 2, inertia: 20), KInertia(k: 3, inertia: 6), KInertia(k: 4, inertia: 5.9)],
            frames: rows.map { ClusteredFrame(index: $0.index, file: $0.file, cluster: $0.index < 4 ? 0 : ($0.index < 9 ? 1 : 2),
                                              state: states[$0.index], standardized: z[$0.index]) })
        let validation = ValidationReport(
            abortOnFail: true,
            checks: [
                ValidationCheck(name: Validation.fwhmImprovement, key: "validation.min_fwhm_improvement_percent", value: 3.2, limit: 5,
                                comparison: ">=", quantum: 1e-4, detail: "final 3.1 px vs classical 3.2 px"),
                ValidationCheck(name: "runtime", key: "", value: nil, limit: 2, comparison: "<=", measured: false,
                                detail: "not measurable in-node"),
                ValidationCheck(name: Validation.backgroundIncrease, key: "validation.max_background_rms_increase_percent", value: -1.5,
                                limit: 0, comparison: "<=", quantum: 1e-4, detail: "background noise 1.97 vs classical 2"),
                ValidationCheck(name: Validation.tilePatternRatio, key: "validation.require_no_tile_pattern", value: 1.01, limit: 1.12,
                                comparison: "<=", detail: "ratio 1.01 <= threshold 1.12"),
            ],
            fwhm: FWHMComparison(stackStars: 6, classicalStars: 6, matched: 6, stackMedian: 2.83, classicalMedian: 4.24,
                                 improvementPercent: 33.3, fluxRatio: 1.02),
            background: BackgroundComparison(stackNoise: 1.97, classicalNoise: 2, fluxScale: 1.02, fluxScaleSource: "matched stars",
                                             increasePercent: -1.5),
            tilePattern: TilePatternMeasurement(boundaryMedian: 1.01, besideMedian: 1, ratio: 1.01, boundarySamples: 1200,
                                                besideSamples: 7200, threshold: 1.12, pattern: false),
            tiles: TileUsability(tiles: 12, signalCarrying: 10, usable: 10, fraction: 1, unusableIDs: []),
            tileWeightVariance: 0.2)
        // Stack (RGB), classical (mono, wider stars), reconstruction (mono, other units, sharper).
        let stack = starField(width: 96, height: 64, sigma: 1.2, scale: 1, offset: 0, channels: 3, seed: 1)
        let classical = starField(width: 96, height: 64, sigma: 1.8, scale: 1, offset: 0, channels: 1, seed: 2)
        let reconstruction = starField(width: 96, height: 64, sigma: 1.2, scale: 0.001, offset: -0.1, channels: 1, seed: 3)
        try FileManager.default.createDirectory(atPath: dir.file("a <dir> & co"), withIntermediateDirectories: true)
        try FITS.write(stack, to: dir.file("a <dir> & co/stack<1>.fit"))
        try FITS.write(classical, to: dir.file("classical.fit"))
        try FITS.write(reconstruction, to: dir.file("reconstruction.fit"))
        let timings = [NodeTiming(node: "register/00000", group: "register", seconds: 0.5, state: "executed"),
                       NodeTiming(node: "register/00001", group: "register", seconds: 0.25, state: "cached"),
                       NodeTiming(node: "tiles/metrics", group: "tiles", seconds: 1.5, state: "executed"),
                       NodeTiming(node: "stack", group: "stack", seconds: 0.1, state: "executed")]
        // Rejection: frame_00002 carries a trail (a line in the map), the others the noise tails.
        let rejection = RejectionSummary(method: "winsorized", kappaLow: 3, kappaHigh: 3, iterations: 3, chunkRows: 64, frames: [
            .init(index: 0, name: "frame_00000.fits", rejected: 20, fraction: 20.0 / 6144),
            .init(index: 1, name: "frame_00001.fits", rejected: 18, fraction: 18.0 / 6144),
            .init(index: 2, name: "frame_00002.fits", rejected: 410, fraction: 410.0 / 6144),
            .init(index: 3, name: "frame_00003.fits", rejected: 22, fraction: 22.0 / 6144),
        ])
        var map = Image(width: 96, height: 64, fill: 0)
        for x in 0..<96 { map[x, 10 + x / 3] = 1 }
        try FITS.write(map, to: dir.file("rejection_map.fit"))
        return ReportInputs(
            frameMetrics: try dir.write("metrics.json", try Artifacts.encoder().encode(table)),
            tileWeights: try dir.write("weights.bin", weights.encoded()),
            grid: try dir.write("grid.json", try Artifacts.encoder().encode(grid)),
            localMetrics: locals, clusters: try dir.write("clusters.json", try Artifacts.encoder().encode(clusters)), stack: dir.file("a <dir> & co/stack<1>.fit"),
            classicalStack: dir.file("classical.fit"), reconstruction: dir.file("reconstruction.fit"),
            validation: try dir.write("validation.json", try Artifacts.encoder().encode(validation)),
            rejectionSummary: try dir.write("rejection.json", try Artifacts.encoder().encode(rejection)),
            rejectionMap: dir.file("rejection_map.fit"), timings: timings,
            summary: ReportSummary(runID: 7, status: "validation failed", command: "tcbuild run --set a=<b>", workspace: dir.path,
                                   seconds: 12.5, executed: 3, cached: 1, notes: ["weight sum < eps in tile 4: unweighted mean"]))
    }

    /// Gaussian stars on a flat sky with Gaussian noise: `offset + scale * (100 + stars + noise)`.
    static func starField(width: Int, height: Int, sigma: Double, scale: Float, offset: Float, channels: Int, seed: UInt64) -> Image {
        var rng = TestRNG(seed: seed)
        var image = Image(width: width, height: height, channels: channels, fill: 0)
        let stars: [(Double, Double, Double)] = [(20, 15, 4000), (50, 30, 2500), (75, 45, 3000), (30, 48, 1800), (70, 12, 2200), (12, 40, 2000)]
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    var v = 100 + 2 * rng.normal()
                    for (sx, sy, a) in stars {
                        let r2 = (Double(x) - sx) * (Double(x) - sx) + (Double(y) - sy) * (Double(y) - sy)
                        v += a * exp(-r2 / (2 * sigma * sigma))
                    }
                    image[x, y, c] = offset + scale * Float(v)
                }
            }
        }
        return image
    }

    /// The `<section id=...>` ... `</section>` text.
    static func section(_ html: String, _ id: String) -> String {
        guard let start = html.range(of: "<section id=\"\(id)\">"), let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex) else { return "" }
        return String(html[start.lowerBound..<end.upperBound])
    }

    static func matches(_ html: String, _ pattern: String) throws -> [String] {
        let re = try NSRegularExpression(pattern: pattern)
        let ns = html as NSString
        return re.matches(in: html, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }

    @Test("every section is present with its plot, and nothing says 'not produced' when all inputs exist")
    func allSections() throws {
        let dir = TemporaryDirectory("report")
        let inputs = try Self.artifacts(dir)
        let out = dir.file("report.html")
        try Report.write(to: out, inputs: inputs)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for (id, _) in Report.sections { #expect(html.contains("<section id=\"\(id)\">"), "section \(id)") }
        #expect(!html.contains("not produced by this run"))
        #expect(!html.contains("Could not read"))
        // The rejection section names the trail frame first, 410 values, 19.5 x the median frame (21), and shows the map.
        let rejection = try #require(html.components(separatedBy: "<section id=\"rejection\">").last?.components(separatedBy: "</section>").first)
        #expect(rejection.contains("<td><code>frame_00002.fits</code></td><td>410</td><td>6.673</td><td>19.52</td>"), "\(rejection.prefix(3000))")
        #expect(rejection.contains("alt=\"rejection map\""))
        #expect(rejection.contains("470 values rejected over 4 frames"))
        for id in ["fwhm", "fieldmap", "background", "quality", "weights", "difference", "snr", "clusters", "timings"] {
            #expect(Self.section(html, id).contains("<svg"), "plot in \(id)")
        }
        // Self-contained: no script, no external resource.
        #expect(!html.contains("<script"))
        #expect(try Self.matches(html, #"(https?://[^"]+)"#).allSatisfy { $0 == "http://www.w3.org/2000/svg" })
        // Field map: one cell per tile with the median FWHM; tile 5 has no star -> grey "n/a".
        let fieldmap = Self.section(html, "fieldmap")
        #expect(fieldmap.contains("x 0, y 0: 2.775 px"))  // median over frames of 2.5 + 0.05 f, f = 0...11
        #expect(fieldmap.contains("n/a px"))
        let tiles = TileGeometry.grid(width: 96, height: 64, size: 32, overlapFraction: 0.25, fwhm: 3.4, starsUsed: 200).tiles.count
        #expect(tiles == 12)
        #expect(fieldmap.contains("\((tiles + 1) / 2) of \(tiles) tiles in star mode"))  // even tiles are star mode
        // Validation verdict and its failing row.
        let validation = Self.section(html, "validation")
        #expect(validation.contains("Validation FAILED"))
        #expect(try Self.matches(validation, #"<tr class="fail"><td>([a-z_]+)<"#) == ["fwhm_improvement_percent"])
        #expect(validation.contains("ratio 1.01 &lt;= threshold 1.12"))
        #expect(validation.contains("<td>fwhm_improvement_percent<br><code>validation.min_fwhm_improvement_percent</code></td><td>3.2</td><td>≥ 5</td><td>NO</td><td>final 3.1 px vs classical 3.2 px</td>"))
        #expect(validation.contains("<td>runtime</td><td>–</td><td>≤ 2</td><td>yes</td>"))
        #expect(validation.contains("<td>-1.5</td><td>≤ 0</td><td>yes</td>"))
        #expect(validation.contains("<td>1.01</td><td>≤ 1.12</td><td>yes</td>"))
        // Cluster sizes 4, 5, 3 from the per-frame assignment.
        let clusters = Self.section(html, "clusters")
        #expect(clusters.contains("<title>00: 4</title>") && clusters.contains("<title>01: 5</title>") && clusters.contains("<title>02: 3</title>"))
        #expect(clusters.contains("<b>kmeans</b>, k = 3, 12 frames; sizes 3 … 5."))
        #expect(clusters.contains("k-means &lt;best gain&gt;"))
        // Timings grouped by phase: register = 0.5 + 0.25 s over 2 nodes.
        let timings = Self.section(html, "timings")
        #expect(timings.contains("<td>register</td><td>2</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0.750 s</td>"))
        // The sharper reconstruction improves on the classical stack.
        let fwhm = Self.section(html, "fwhm")
        let improvement = try #require(try Self.matches(fwhm, #"\(([+-][0-9.]+) % vs classical\)"#).last.flatMap(Double.init))
        #expect(improvement > 15, "reconstruction vs classical: \(improvement) %")
        #expect(fwhm.contains("<td>validation, 6 stars matched in both stacks</td><td>final 2.83 vs classical 4.24 (+33.3 %)</td>"))
        // Measured stack FWHMs match the Gaussian truth 2.3548 sigma (1.8 px classical, 1.2 px reconstruction).
        let values = try Self.matches(fwhm, #"<td>(?:classical stack|reconstruction)</td><td>([0-9.]+)"#).compactMap(Double.init)
        #expect(values.count == 2)
        #expect(abs(values[0] - 2.3548 * 1.8) < 0.1 && abs(values[1] - 2.3548 * 1.2) < 0.1, "\(values)")
    }

    @Test("with validation's stacks the FWHM table shows validation's matched-star FWHMs instead of measuring the images")
    func fwhmFromValidation() throws {
        let dir = TemporaryDirectory("report")
        var inputs = try Self.artifacts(dir)
        var validation = try Artifacts.readJSON(ValidationReport.self, path: try #require(inputs.validation), node: "validation")
        validation.stacks = [
            StackQuality(name: "final stack", fwhm: 2.5, fwhmGainPercent: 21.9, starScaleNoiseRatio: 1, pixelNoiseRatio: 1, fom: 1.28),
            StackQuality(name: "classical stack", fwhm: 3.2, fwhmGainPercent: 0, starScaleNoiseRatio: 1, pixelNoiseRatio: 1, fom: 1),
            StackQuality(name: "reconstruction", fwhm: 2.75, fwhmGainPercent: 14.1, starScaleNoiseRatio: 1, pixelNoiseRatio: 1, fom: 1.16),
        ]
        inputs.validation = try dir.write("validation-stacks.json", try Artifacts.encoder().encode(validation))
        let fwhm = Self.section(Report.render(inputs), "fwhm")
        // Not the images' own stars (1.8 px / 1.2 px Gaussians: 4.24 / 2.83 px) but validation's values.
        #expect(fwhm.contains("<td>classical stack</td><td>3.2</td>"), "\(fwhm)")
        #expect(fwhm.contains("<td>final stack</td><td>2.5 (+21.9 % vs classical)</td>"))
        #expect(fwhm.contains("<td>reconstruction</td><td>2.75 (+14.1 % vs classical)</td>"))
        #expect(fwhm.contains("validation's median over the stars matched in the classical stack"))
    }

    @Test("the images rendered on 3 threads give the same report bytes as on one")
    func threadsDoNotChangeBytes() throws {
        let dir = TemporaryDirectory("report")
        var inputs = try Self.artifacts(dir)
        let one = Report.render(inputs)
        inputs.threads = 3
        let three = Report.render(inputs)
        #expect(one == three)
        #expect(try Self.matches(three, #"(<img [^>]*>)"#).count == 5)
    }

    @Test("SVG plots parse as XML and previews are PNG data URIs with matching sizes")
    func svgAndDataURIs() throws {
        let dir = TemporaryDirectory("report")
        let html = Report.render(try Self.artifacts(dir))
        let svgs = try Self.matches(html, #"(<svg[\s\S]*?</svg>)"#)
        #expect(svgs.count >= 12)
        #expect(html.components(separatedBy: "<svg").count - 1 == svgs.count)
        for svg in svgs {
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "SVG does not parse: \(svg.prefix(200))")
        }
        let images = try Self.matches(html, #"(<img [^>]*>)"#)
        #expect(images.count == 5)  // stack, classical, reconstruction, difference, rejection map
        for tag in images {
            let b64 = try #require(try Self.matches(tag, #"src="data:image/png;base64,([A-Za-z0-9+/=]+)""#).first)
            let png = [UInt8](try #require(Data(base64Encoded: b64)))
            #expect(Array(png.prefix(8)) == PNG.signature)
            let width = Int(png[16]) << 24 | Int(png[17]) << 16 | Int(png[18]) << 8 | Int(png[19])
            #expect(tag.contains("width=\"\(width)\""))
            #expect(String(decoding: png[12..<16], as: UTF8.self) == "IHDR")
        }
        // The RGB stack becomes an RGB PNG (colour type 2), the mono ones gray (0).
        let types = try images.map { tag -> UInt8 in [UInt8](Data(base64Encoded: try Self.matches(tag, #"base64,([^"]+)""#)[0])!)[25] }
        #expect(types == [2, 0, 0, 0, 0])
    }

    @Test("file names, frame names and the command are HTML-escaped")
    func escaping() throws {
        let dir = TemporaryDirectory("report")
        let html = Report.render(try Self.artifacts(dir))
        #expect(html.contains("stack&lt;1&gt;.fit"))
        #expect(!html.contains("stack<1>"))
        #expect(html.contains("tcbuild run --set a=&lt;b&gt;"))
        #expect(!html.contains("a=<b>"))
        #expect(ReportHTML.escape(Self.odd) == "a&lt;b&gt;&amp;&quot;c&quot;.fit")
        // A broken artifact is named (escaped) in its section instead of failing the report; a JSON file
        // that is not the typed artifact (here an old untyped shape) is unreadable too.
        let bad = try dir.write("bad <x>.json", "{not json")
        let untyped = try dir.write("untyped.json", #"{"method":"gmm","assignments":[2,0,2,2]}"#)
        var inputs = try Self.artifacts(dir)
        inputs.validation = bad
        inputs.clusters = untyped
        let brokenHTML = Report.render(inputs)
        let broken = Self.section(brokenHTML, "validation")
        #expect(broken.contains("Could not read <code>") && broken.contains("bad &lt;x&gt;.json"))
        let clusters = Self.section(brokenHTML, "clusters")
        #expect(clusters.contains("Could not read <code>") && clusters.contains("untyped.json") && clusters.contains("FrameClusters"))
        #expect(!clusters.contains("<svg"))
        // Without a readable validation artifact the FWHM table has no matched-star row.
        #expect(!Self.section(brokenHTML, "fwhm").contains("stars matched in both stacks"))
    }

    @Test("missing inputs: every data section says 'not produced by this run'; zero-byte artifacts count as missing")
    func missingInputs() throws {
        let dir = TemporaryDirectory("report")
        let empty = try dir.write("syn_00.fits", Data())
        let inputs = ReportInputs(stack: empty, classicalStack: dir.file("nope.fit"), summary: ReportSummary(status: "failed", failed: ["stack": "boom <x>"]))
        let out = dir.file("report.html")
        try Report.write(to: out, inputs: inputs)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        for (id, _) in Report.sections where id != "run" {
            #expect(Self.section(html, id).contains("not produced by this run"), "section \(id)")
        }
        #expect(Self.section(html, "run").contains("boom &lt;x&gt;"))
        #expect(!html.contains("<img"))
        #expect(throws: ReportError.self) { try Report.write(to: dir.file("no/such/dir/report.html"), inputs: inputs) }
    }

    @Test("the report is byte-identical for the same inputs")
    func deterministic() throws {
        let dir = TemporaryDirectory("report")
        let inputs = try Self.artifacts(dir)
        #expect(Report.render(inputs) == Report.render(inputs))
    }
}
