import Foundation
import Imaging

extension Report {
    /// The metric, cluster and validation artifacts (not the images), each read once; a read failure
    /// is kept as the section's message.
    struct Loaded {
        var table: FrameMetricsTable?
        var tableError: String?
        var weights: TileWeights?
        var weightsError: String?
        var grid: TileGrid?
        var gridError: String?
        var local: ReportData.LocalSummary?
        var localError: String?
        var clusters: FrameClusters?
        var clustersError: String?
        var validation: ValidationReport?
        var validationError: String?

        init(_ inputs: ReportInputs) {
            func load<T>(_ path: String?, _ read: (String) throws -> T) -> (T?, String?) {
                guard let p = ReportData.present(path) else { return (nil, nil) }
                do { return (try read(p), nil) } catch { return (nil, ReportHTML.unreadable(p, error)) }
            }
            (table, tableError) = load(inputs.frameMetrics, ReportData.frameMetrics)
            (weights, weightsError) = load(inputs.tileWeights) { try TileWeights(path: $0) }
            (grid, gridError) = load(inputs.grid) { try TileGrid.read(path: $0) }
            (clusters, clustersError) = load(inputs.clusters) { try Artifacts.readJSON(FrameClusters.self, path: $0, node: NodeName.clusters) }
            (validation, validationError) = load(inputs.validation) { try ValidationReport.read(path: $0) }
            let locals = inputs.localMetrics.compactMap(ReportData.present)
            if !locals.isEmpty {
                do { local = try ReportData.local(locals) } catch { localError = ReportHTML.unreadable(locals[0], error) }
            }
        }

        /// Mean over tiles of L, per frame.
        var meanL: [Double]? {
            guard let w = weights, w.tileCount > 0 else { return nil }
            return (0..<w.frameCount).map { f in (0..<w.tileCount).map { Double(w.local(frame: f, tile: $0)) }.reduce(0, +) / Double(w.tileCount) }
        }
    }

    static func series(_ ys: [Double], _ label: String, _ color: Int) -> ReportSVG.Series {
        ReportSVG.Series(label: label, points: ys.enumerated().map { (Double($0.offset), $0.element) }, color: ReportSVG.palette[color])
    }

    static func fwhmSection(_ data: Loaded, _ images: ImageResults) -> String {
        guard let table = data.table else { return data.tableError ?? ReportHTML.missing("Frame metrics (phase 3)") }
        let frames = table.frames.compactMap(\.fwhm).filter { $0 > 0 }
        var markers: [ReportSVG.Marker] = []
        if let m = Statistics.median(frames) { markers.append(.init(label: "median frame", x: m, color: "#555555")) }
        if let f = images.classicalFWHM { markers.append(.init(label: "classical stack", x: f, color: ReportSVG.palette[3])) }
        if let f = images.stackFWHM { markers.append(.init(label: "final stack", x: f, color: ReportSVG.palette[1])) }
        if let f = images.reconstructionFWHM { markers.append(.init(label: "reconstruction", x: f, color: ReportSVG.palette[2])) }
        var html = ReportSVG.histogram(frames, bins: 30, title: "FWHM of the registered frames and of the stacks", xLabel: "FWHM (px)", markers: markers)
        var rows: [[String]] = [["frames (median of \(frames.count))", Statistics.median(frames).map(ReportHTML.number) ?? "n/a"]]
        for (name, v) in [("classical stack", images.classicalFWHM), ("final stack", images.stackFWHM), ("reconstruction", images.reconstructionFWHM)] {
            var cell = v.map(ReportHTML.number) ?? "n/a"
            if let v, let c = images.classicalFWHM, name != "classical stack", c > 0 {
                cell += String(format: " (%+.1f %% vs classical)", (c - v) / c * 100)
            }
            rows.append([name, cell])
        }
        // Validation's own comparison (stars matched in both stacks), when the artifact carries it.
        if let f = data.validation?.fwhm, f.stackMedian != nil || f.improvementPercent != nil {
            let pct = f.improvementPercent.map { String(format: " (%+.1f %%)", $0) } ?? ""
            rows.append(["validation, \(f.matched) stars matched in both stacks",
                         "final \(f.stackMedian.map(ReportHTML.number) ?? "n/a") vs classical \(f.classicalMedian.map(ReportHTML.number) ?? "n/a")\(pct)"])
        }
        html += ReportHTML.table(["", "FWHM (px)"], rows)
        html += images.fwhmFromValidation
            ? "<p class=\"note\">Stack FWHM: validation's median over the stars matched in the classical stack (one star set for every image). A positive percentage is an improvement.</p>"
            : "<p class=\"note\">Stack FWHM: median over the stars of the image's luminance (same detection and ellipticity cut as the frame metrics). A positive percentage is an improvement.</p>"
        return html
    }

    static func fieldMapSection(_ inputs: ReportInputs, _ data: Loaded) -> String {
        guard let grid = data.grid else { return data.gridError ?? ReportHTML.missing("Tile grid (phase 4)") }
        var html = ""
        func cells(_ values: [Double]) -> [ReportSVG.Cell] {
            zip(grid.tiles, values).map { ReportSVG.Cell(x: $0.x, y: $0.y, w: $0.w, h: $0.h, value: $1) }
        }
        if let local = data.local, local.tileFWHM.count == grid.tiles.count {
            html += ReportSVG.heatMap(cells(local.tileFWHM), imageWidth: grid.width, imageHeight: grid.height,
                                      title: "Median FWHM per tile over \(local.frames) frames", unit: "px")
        } else if let e = data.localError {
            html += e
        } else if data.local != nil {
            html += "<p class=\"missing\">Local metrics have \(data.local!.tileFWHM.count) tiles, the grid \(grid.tiles.count).</p>"
        } else {
            html += ReportHTML.missing("Per-tile FWHM (local metrics, phase 5)")
        }
        if let w = data.weights, w.tileCount == grid.tiles.count, w.frameCount > 0 {
            let mean = (0..<w.tileCount).map { t in w.weights(tile: t).map(Double.init).reduce(0, +) / Double(w.frameCount) }
            html += ReportSVG.heatMap(cells(mean), imageWidth: grid.width, imageHeight: grid.height,
                                      title: "Mean effective weight W per tile", unit: "")
            let star = w.modes.filter { $0 == .star }.count
            html += "<p class=\"note\">\(star) of \(w.tileCount) tiles in star mode, \(w.tileCount - star) in structure mode.</p>"
        }
        return html
    }

    static func backgroundSection(_ data: Loaded) -> String {
        guard let table = data.table else { return data.tableError ?? ReportHTML.missing("Frame metrics (phase 3)") }
        var html = ReportSVG.line([series(table.frames.map(\.background), "B_f", 0)],
                                  title: "Background B_f before normalization", xLabel: "frame index (time order)", yLabel: "ADU")
        if let w = data.weights, w.frameCount == table.frames.count, w.tileCount > 0 {
            let perFrame = (0..<w.frameCount).map { f in (0..<w.tileCount).map { Double(w.weight(frame: f, tile: $0)) }.reduce(0, +) }
            let total = perFrame.reduce(0, +)
            let share = perFrame.map { total > 0 ? $0 / total * Double(w.frameCount) : .nan }
            html += ReportSVG.line([series(share, "contribution", 1)], title: "Effective contribution (share of all W, 1 = average frame)",
                                   xLabel: "frame index (time order)", yLabel: "relative weight")
        } else {
            html += ReportHTML.missing("Effective contribution (tile weights, phase 5)")
        }
        return html
    }

    static func qualitySection(_ data: Loaded) -> String {
        guard let table = data.table else { return data.tableError ?? ReportHTML.missing("Frame metrics (phase 3)") }
        var s = [series(table.frames.map(\.g), "G_f (global)", 0)]
        if let l = data.meanL, l.count == table.frames.count { s.append(series(l, "mean_t L_f,t (local)", 2)) }
        var html = ReportSVG.line(s, title: "Global quality G_f and mean local quality L over time", xLabel: "frame index (time order)", yLabel: "exp(Q)")
        if s.count == 1 { html += data.weightsError ?? ReportHTML.missing("Mean L (tile weights, phase 5)") }
        return html
    }

    static func weightsSection(_ data: Loaded) -> String {
        guard let w = data.weights else { return data.weightsError ?? ReportHTML.missing("Tile weights (phase 5)") }
        let values = w.w.map(Double.init)
        var html = ReportSVG.histogram(values, bins: 40, title: "Histogram of W_f,t over \(w.frameCount) frames × \(w.tileCount) tiles", xLabel: "W = G_f · L_f,t")
        let mean = values.reduce(0, +) / Double(max(1, values.count))
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, values.count))
        html += ReportHTML.table(["", "value"], [["mean W", ReportHTML.number(mean)], ["variance of W", ReportHTML.number(variance)],
                                                 ["min / max", "\(ReportHTML.number(values.min() ?? .nan)) / \(ReportHTML.number(values.max() ?? .nan))"]])
        return html
    }

    static func snrSection(_ data: Loaded) -> String {
        if let local = data.local, !local.snr.isEmpty {
            return ReportSVG.scatter([ReportSVG.Series(label: "", points: local.snr, color: ReportSVG.palette[0])],
                                     title: "Local SNR vs local FWHM (\(local.snr.count) tile-frames with stars)",
                                     xLabel: "tile FWHM (px)", yLabel: "star contrast (peak / noise)")
                + "<p class=\"note\">One point per (frame, tile) with stars; SNR is the tile's median star peak over the background noise. At most 4000 points are drawn (fixed stride).</p>"
        }
        var html = data.localError ?? ""
        guard let table = data.table else { return html + ReportHTML.missing("Local and frame metrics (phases 3, 5)") }
        let pts = table.frames.compactMap { f in f.fwhm.flatMap { fw in f.noise > 0 ? (x: fw, y: 1 / f.noise) : nil } }
        html += ReportSVG.scatter([ReportSVG.Series(label: "", points: pts, color: ReportSVG.palette[0])],
                                  title: "Frame SNR vs frame FWHM", xLabel: "frame FWHM (px)", yLabel: "1 / sigma_f (normalized sky SNR)")
        html += "<p class=\"note\">Local metrics were not given to the report; frame-level values are shown instead.</p>"
        return html
    }
}
