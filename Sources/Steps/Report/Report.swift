import Foundation
import Imaging

/// The HTML report of a run (`report.html`), written by the runner after the run from artifacts.
///
/// Guarantees: one self-contained file (inline CSS, inline SVG plots, PNG previews as `data:` URIs;
/// no script, no external URL); every section is always present, and a section whose inputs are
/// absent (nil path, missing or zero-byte file) says "not produced by this run", one whose inputs
/// cannot be read names the file and the problem; text from artifacts and paths is HTML-escaped;
/// the same inputs give the same bytes (no clock, no randomness). Frames are never read: everything
/// comes from the metric artifacts and at most three images (stack, classical, reconstruction),
/// processed up to `ReportInputs.threads` at a time.
public enum Report {
    /// The sections, in page order: (anchor id, title).
    public static let sections: [(id: String, title: String)] = [
        ("run", "Run"), ("validation", "Validation"), ("images", "Images"), ("fwhm", "FWHM before / after"),
        ("fieldmap", "FWHM field map"), ("background", "Background over time"), ("quality", "G and mean L over time"),
        ("weights", "Tile weights W"), ("difference", "Reconstruction − classical"), ("rejection", "Outlier rejection"), ("snr", "Local SNR vs FWHM"),
        ("clusters", "Clusters"), ("timings", "Node timings"),
    ]

    /// Renders the report and writes it to `path` (atomically: a temporary file renamed into place).
    /// Throws `ReportError.cannotWrite` only when the file cannot be written.
    public static func write(to path: String, inputs: ReportInputs) throws {
        let html = render(inputs)
        do { try Data(html.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ReportError.cannotWrite(path: path, message: error.localizedDescription)
        }
    }

    /// The report's HTML.
    public static func render(_ inputs: ReportInputs) -> String {
        let data = Loaded(inputs)
        let images = ImageResults(inputs, validation: data.validation)
        var body = ""
        for (id, title) in sections {
            let html: String
            switch id {
            case "run": html = runSection(inputs, data)
            case "validation": html = validationSection(data)
            case "images": html = images.previewsHTML
            case "fwhm": html = fwhmSection(data, images)
            case "fieldmap": html = fieldMapSection(inputs, data)
            case "background": html = backgroundSection(data)
            case "quality": html = qualitySection(data)
            case "weights": html = weightsSection(data)
            case "difference": html = images.differenceHTML
            case "rejection": html = rejectionSection(inputs)
            case "snr": html = snrSection(data)
            case "clusters": html = clustersSection(data)
            default: html = timingsSection(inputs.timings)
            }
            body += ReportHTML.section(id, title, html)
        }
        let title = "tcbuild report" + (inputs.summary.runID.map { " — run \($0)" } ?? "")
        return ReportHTML.page(title: title, nav: sections, body: body)
    }

    // MARK: run, validation, clusters, timings

    static func runSection(_ inputs: ReportInputs, _ data: Loaded) -> String {
        let s = inputs.summary
        let ok = s.status == "ok"
        var html = "<p><span class=\"verdict \(ok ? "pass" : "fail")\">\(ReportHTML.escape(s.status.uppercased()))</span></p>"
        var rows: [[String]] = []
        if let id = s.runID { rows.append(["run", String(id)]) }
        rows.append(["command", "<code>\(ReportHTML.escape(s.command))</code>"])
        rows.append(["workspace", "<code>\(ReportHTML.escape(s.workspace))</code>"])
        if let t = data.table { rows.append(["frames", String(t.frames.count)]) }
        if let g = data.grid {
            rows.append(["image", "\(g.width) × \(g.height) px"])
            rows.append(["tiles", "\(g.tiles.count) tiles of \(g.size) px, overlap \(g.overlap) px, seeing F = \(g.fwhm.map(ReportHTML.number) ?? "n/a") px"])
        }
        rows.append(["nodes", "\(s.executed) executed, \(s.cached) cached, \(s.failed.count) failed, \(s.notStarted) not started"])
        rows.append(["duration", ReportHTML.duration(s.seconds)])
        html += ReportHTML.table(["", ""], rows)
        if !s.failed.isEmpty {
            html += "<h3>Failed nodes</h3>" + ReportHTML.table(["node", "message"], s.failed.keys.sorted().map {
                ["<code>\(ReportHTML.escape($0))</code>", ReportHTML.escape(s.failed[$0]!)]
            })
        }
        if !s.notes.isEmpty { html += "<ul>" + s.notes.map { "<li>\(ReportHTML.escape($0))</li>" }.joined() + "</ul>" }
        return html
    }

    static func validationSection(_ data: Loaded) -> String {
        guard let v = data.validation else { return data.validationError ?? ReportHTML.missing("Validation (phase 10)") }
        var html = "<p><span class=\"verdict \(v.passed ? "pass" : "fail")\">Validation \(v.passed ? "PASSED" : "FAILED")</span></p>"
        guard !v.checks.isEmpty else { return html + "<p class=\"missing\">The validation artifact lists no checks.</p>" }
        html += ReportHTML.table(["check", "value", "limit", "passed", "detail"], v.checks.map { c in
            [ReportHTML.escape(c.name) + (c.key.isEmpty ? "" : "<br><code>\(ReportHTML.escape(c.key))</code>"),
             ReportHTML.escape(ReportData.value(c)), ReportHTML.escape(ReportData.limit(c)),
             c.passed ? "yes" : "NO", ReportHTML.escape(c.detail)]
        }, rowClasses: v.checks.map { $0.passed ? "pass" : "fail" })
        if let stacks = v.stacks, !stacks.isEmpty {
            func f(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "n/a" }
            html += "<p>Quality against the classical stack (matched stars; noise flux-normalized, star scale = means of "
                + "FWHM-sized blocks of star-free background; FoM = faint-star SNR gain, &gt; 1 is better):</p>"
            html += ReportHTML.table(["stack", "FWHM (px)", "FWHM gain", "noise, star scale", "noise, pixel", "FoM"], stacks.map { q in
                [ReportHTML.escape(q.name), f(q.fwhm, "%.3f"), f(q.fwhmGainPercent, "%+.1f %%"),
                 f(q.starScaleNoiseRatio, "x%.3f"), f(q.pixelNoiseRatio, "x%.3f"), f(q.fom, "%.3f")]
            })
        }
        return html
    }

    static func clustersSection(_ data: Loaded) -> String {
        guard let c = data.clusters else { return data.clustersError ?? ReportHTML.missing("Frame clusters (phase 7)") }
        let sizes = ReportData.clusterSizes(c)
        var html = "<p>Method: <b>\(ReportHTML.escape(c.method))</b>, k = \(c.k), "
            + "\(sizes.reduce(0, +)) frames; sizes \(sizes.min() ?? 0) … \(sizes.max() ?? 0).</p>"
        if !c.reason.isEmpty { html += "<p class=\"note\">\(ReportHTML.escape(c.reason))</p>" }
        html += ReportSVG.bars(sizes.enumerated().map { (String(format: "%02d", $0.offset), Double($0.element)) },
                               title: "Frames per cluster (synthetic frame syn_NN)", yLabel: "frames")
        if !c.frames.isEmpty {
            let pts = c.frames.map { (x: Double($0.index), y: Double($0.cluster)) }
            html += ReportSVG.scatter([ReportSVG.Series(label: "", points: pts, color: ReportSVG.palette[3])],
                                      title: "Cluster of each frame over time", xLabel: "frame index", yLabel: "cluster")
        }
        return html
    }

    static func timingsSection(_ timings: [NodeTiming]) -> String {
        guard !timings.isEmpty else { return ReportHTML.missing("Per-node timings") }
        var groups: [String: [NodeTiming]] = [:], order: [String] = []
        for t in timings {
            if groups[t.group] == nil { order.append(t.group) }
            groups[t.group, default: []].append(t)
        }
        func count(_ ts: [NodeTiming], _ state: String) -> Int { ts.filter { $0.state == state }.count }
        let total = timings.map(\.seconds).reduce(0, +)
        var html = "<p>\(timings.count) nodes, \(ReportHTML.duration(total)) of node time (summed over workers).</p>"
        html += ReportSVG.bars(order.map { ($0, groups[$0]!.map(\.seconds).reduce(0, +)) }, title: "Node time per phase", yLabel: "seconds")
        html += ReportHTML.table(["phase", "nodes", "executed", "cached", "failed", "skipped", "seconds", "slowest node"], order.map { g in
            let ts = groups[g]!
            let slow = ts.max { $0.seconds < $1.seconds }!
            return [ReportHTML.escape(g), String(ts.count), String(count(ts, "executed")), String(count(ts, "cached")),
                    String(count(ts, "failed")), String(count(ts, "skipped")), ReportHTML.duration(ts.map(\.seconds).reduce(0, +)),
                    "<code>\(ReportHTML.escape(slow.node))</code> \(ReportHTML.duration(slow.seconds))"]
        })
        let sorted = timings.enumerated().sorted { ($0.element.seconds, $1.offset) > ($1.element.seconds, $0.offset) }.map(\.element)
        func rows(_ ts: [NodeTiming]) -> [[String]] {
            ts.map { ["<code>\(ReportHTML.escape($0.node))</code>", ReportHTML.escape($0.group), ReportHTML.escape($0.state), ReportHTML.duration($0.seconds)] }
        }
        html += "<h3>Slowest nodes</h3>" + ReportHTML.table(["node", "phase", "state", "seconds"], rows(Array(sorted.prefix(15))))
        html += "<details><summary>All \(timings.count) nodes</summary>" + ReportHTML.table(["node", "phase", "state", "seconds"], rows(timings)) + "</details>"
        return html
    }
}
