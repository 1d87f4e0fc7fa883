import Foundation

extension ReportSVG {
    /// Heat map of `cells` over an image of `imageWidth` x `imageHeight` pixels (y down, as displayed),
    /// colour from low (dark blue) to high (yellow) between the finite minimum and maximum, with a
    /// colour bar. Cells are drawn in order, so later (overlapping) cells cover earlier ones.
    public static func heatMap(_ cells: [Cell], imageWidth: Int, imageHeight: Int, title: String, unit: String) -> String {
        let finite = cells.map(\.value).filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), imageWidth > 0, imageHeight > 0 else { return empty(title) }
        let plotH = height - top - 16, plotW = min(width - 160, plotH * Double(imageWidth) / Double(imageHeight))
        let s = min(plotW / Double(imageWidth), plotH / Double(imageHeight)), x0 = 20.0, y0 = top
        var body = ""
        for c in cells {
            let color = c.value.isFinite ? ramp(hi > lo ? (c.value - lo) / (hi - lo) : 0.5) : "#bbbbbb"
            body += "<rect x=\"\(f(x0 + Double(c.x) * s))\" y=\"\(f(y0 + Double(c.y) * s))\" width=\"\(f(Double(c.w) * s))\" height=\"\(f(Double(c.h) * s))\" fill=\"\(color)\"><title>x \(c.x), y \(c.y): \(c.value.isFinite ? fmt(c.value) : "n/a") \(ReportHTML.escape(unit))</title></rect>"
        }
        body += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(Double(imageWidth) * s))\" height=\"\(f(Double(imageHeight) * s))\" fill=\"none\" stroke=\"#444\"/>"
        let barX = x0 + Double(imageWidth) * s + 24
        for k in 0..<20 {
            let y = y0 + plotH * Double(19 - k) / 20
            body += "<rect x=\"\(f(barX))\" y=\"\(f(y))\" width=\"14\" height=\"\(f(plotH / 20 + 0.5))\" fill=\"\(ramp(Double(k) / 19))\"/>"
        }
        body += "<text x=\"\(f(barX + 20))\" y=\"\(f(y0 + 10))\" class=\"tick\">\(fmt(hi)) \(ReportHTML.escape(unit))</text>"
        body += "<text x=\"\(f(barX + 20))\" y=\"\(f(y0 + plotH))\" class=\"tick\">\(fmt(lo)) \(ReportHTML.escape(unit))</text>"
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" class=\"plot\" role=\"img\">"
            + "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" class=\"title\">\(ReportHTML.escape(title))</text>" + body + "</svg>"
    }

    /// A blue-to-yellow colour ramp (viridis-like), `t` in [0, 1].
    static func ramp(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let u = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(u), stops.count - 2), w = u - Double(i)
        let c = (0..<3).map { k -> Int in
            let a = [stops[i].0, stops[i].1, stops[i].2][k], b = [stops[i + 1].0, stops[i + 1].1, stops[i + 1].2][k]
            return Int((a + (b - a) * w).rounded())
        }
        return String(format: "#%02x%02x%02x", c[0], c[1], c[2])
    }
}
