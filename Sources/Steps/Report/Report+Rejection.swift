import Foundation
import Imaging

extension Report {
    /// The "Outlier rejection" section: rejected values per frame (a trail frame or a hot-pixel-rich
    /// frame stands out), the frames with the most, and the map of where (`reject#summary`, `reject#map`).
    static func rejectionSection(_ inputs: ReportInputs) -> String {
        guard let path = ReportData.present(inputs.rejectionSummary) else { return ReportHTML.missing("Outlier rejection (phase 6)") }
        let summary: RejectionSummary
        do { summary = try Artifacts.readJSON(RejectionSummary.self, path: path, node: NodeName.reject) } catch {
            return ReportHTML.unreadable(path, error)
        }
        guard summary.method != TCConfig.Rejection.none.rawValue else {
            return "<p>Outlier rejection is off (<code>reconstruction.rejection: none</code>).</p>"
        }
        let counts = summary.frames.map { Double($0.rejected) }
        let median = Statistics.median(counts) ?? 0
        let total = counts.reduce(0, +)
        var html = "<p>Method <b>\(ReportHTML.escape(summary.method))</b>, κ low/high \(ReportHTML.number(summary.kappaLow))/"
            + "\(ReportHTML.number(summary.kappaHigh)), \(summary.iterations) rounds: \(Int(total)) values rejected over "
            + "\(summary.frames.count) frames, median \(ReportHTML.number(median)) per frame "
            + "(\(ReportHTML.number(100 * (Statistics.median(summary.frames.map(\.fraction)) ?? 0))) % of its values). "
            + "Rejected values count as missing in the reconstruction, the synthetic frames and the classical stack.</p>"
        html += ReportSVG.line([series(counts, "rejected", 3)], title: "Rejected values per frame",
                               xLabel: "frame index (time order)", yLabel: "values")
        let top = summary.frames.enumerated().sorted { ($0.element.rejected, $1.offset) > ($1.element.rejected, $0.offset) }
            .prefix(10).map(\.element)
        html += "<h3>Frames with the most rejected values</h3>" + ReportHTML.table(["frame", "rejected", "% of values", "× median frame"], top.map {
            ["<code>\(ReportHTML.escape($0.name))</code>", String($0.rejected), ReportHTML.number(100 * $0.fraction),
             median > 0 ? ReportHTML.number(Double($0.rejected) / median) : "n/a"]
        })
        if let mapPath = ReportData.present(inputs.rejectionMap) {
            do {
                let map = try FITS.read(mapPath)
                html += "<figure>" + ReportHTML.image(countPreview(map, maxWidth: inputs.previewWidth), alt: "rejection map")
                    + "<figcaption>Rejection map: frames rejected per pixel (all planes), black = none, white = the 99.95th "
                    + "percentile or more; trails show as lines, hot pixels moved by the drift as streaks.</figcaption></figure>"
            } catch {
                html += ReportHTML.unreadable(mapPath, error)
            }
        }
        return html
    }

    /// A linear gray preview of a count image (planes summed): 0 black, the 99.95th percentile (at least 1) white.
    static func countPreview(_ map: Image, maxWidth: Int) -> PNGImage {
        var sum = Image(width: map.width, height: map.height, fill: 0)
        for c in 0..<map.channels {
            for i in 0..<map.planeSize { sum.pixels[i] += map.pixels[c * map.planeSize + i] }
        }
        let small = sum.downscaled(maxWidth: maxWidth)
        let white = max(1, Double(Statistics.quantile(small.pixels, 0.9995) ?? 1))
        let bytes = small.pixels.map { v -> UInt8 in
            v.isFinite ? UInt8((min(max(Double(v) / white, 0), 1) * 255).rounded()) : 0
        }
        return try! PNGImage(width: small.width, height: small.height, color: .gray, pixels: bytes)
    }
}
