import Foundation
import Imaging

/// Inline SVG plots for the HTML report: line, scatter, histogram, bars and tile heat map.
///
/// Every function returns one self-contained `<svg>` element (no script, no external reference),
/// 640 x 260 user units scaled to the page width, with axes, "nice" ticks and escaped labels.
/// Non-finite values are skipped; with nothing to draw the plot says "no finite values".
/// Output is deterministic (fixed formatting, fixed point order).
public enum ReportSVG {
    /// A named set of points drawn in one colour.
    public struct Series: Sendable {
        /// Legend text.
        public var label: String
        /// The points, in drawing order.
        public var points: [(x: Double, y: Double)]
        /// CSS colour.
        public var color: String
        /// A series.
        public init(label: String, points: [(x: Double, y: Double)], color: String) {
            self.label = label
            self.points = points
            self.color = color
        }
    }

    /// A vertical reference line on a histogram (e.g. the stack's FWHM).
    public struct Marker: Sendable {
        /// Legend text.
        public var label: String
        /// Position on the x axis.
        public var x: Double
        /// CSS colour.
        public var color: String
        /// A marker.
        public init(label: String, x: Double, color: String) {
            self.label = label
            self.x = x
            self.color = color
        }
    }

    /// One heat-map cell in image pixels.
    public struct Cell: Sendable {
        /// Left, top, width, height in image pixels.
        public var x: Int, y: Int, w: Int, h: Int
        /// Value (NaN: drawn grey, "n/a").
        public var value: Double
        /// A cell.
        public init(x: Int, y: Int, w: Int, h: Int, value: Double) {
            self.x = x
            self.y = y
            self.w = w
            self.h = h
            self.value = value
        }
    }

    /// Default series colours.
    public static let palette = ["#1f6fb4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    static let width = 640.0, height = 260.0
    static let left = 64.0, right = 16.0, top = 26.0, bottom = 42.0
    static let maxScatterPoints = 4000

    /// Line plot of `series` (points joined in order).
    public static func line(_ series: [Series], title: String, xLabel: String, yLabel: String) -> String {
        xy(series, title: title, xLabel: xLabel, yLabel: yLabel, joined: true)
    }

    /// Scatter plot of `series`; each series is thinned to at most 4000 points by a fixed stride.
    public static func scatter(_ series: [Series], title: String, xLabel: String, yLabel: String) -> String {
        xy(series, title: title, xLabel: xLabel, yLabel: yLabel, joined: false)
    }

    /// Histogram of the finite `values` in `bins` equal bins over `range` (default: the 0.1 % to
    /// 99.9 % quantiles, so a few outliers do not flatten it; values outside go to the end bins),
    /// with vertical `markers`.
    public static func histogram(_ values: [Double], bins: Int = 40, range: ClosedRange<Double>? = nil, title: String,
                                 xLabel: String, markers: [Marker] = []) -> String {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return empty(title) }
        let r = range ?? defaultRange(finite)
        let (edges, counts) = binned(finite, bins: bins, range: r)
        let xs = (markers.map(\.x) + [edges.first!, edges.last!]).filter(\.isFinite)
        let frame = Frame(x: (xs.min()!, xs.max()!), y: (0, Double(counts.max() ?? 1)))
        var body = ""
        for (i, c) in counts.enumerated() where c > 0 {
            let x0 = frame.px(edges[i]), x1 = frame.px(edges[i + 1]), y = frame.py(Double(c))
            body += "<rect x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(max(0.5, x1 - x0 - 0.5)))\" height=\"\(f(frame.py(0) - y))\" fill=\"\(palette[0])\"><title>\(fmt(edges[i])) … \(fmt(edges[i + 1])): \(c)</title></rect>"
        }
        var legend: [(String, String)] = [("\(finite.count) values", palette[0])]
        for m in markers where m.x.isFinite {
            let x = frame.px(m.x)
            body += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(height - bottom))\" stroke=\"\(m.color)\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"
            legend.append(("\(m.label) = \(fmt(m.x))", m.color))
        }
        return svg(title: title, frame: frame, xLabel: xLabel, yLabel: "count", body: body, legend: legend)
    }

    /// Bar chart, one bar per (label, value), labels under the bars (every n-th when crowded).
    public static func bars(_ bars: [(label: String, value: Double)], title: String, yLabel: String) -> String {
        guard !bars.isEmpty, bars.contains(where: { $0.value.isFinite }) else { return empty(title) }
        let maxValue = bars.map(\.value).filter(\.isFinite).max() ?? 1
        let frame = Frame(x: (0, Double(bars.count)), y: (0, max(maxValue, 1e-12)), xTicks: false)
        let every = max(1, bars.count / 16)
        var body = ""
        for (i, b) in bars.enumerated() {
            let x0 = frame.px(Double(i) + 0.1), x1 = frame.px(Double(i) + 0.9)
            if b.value.isFinite {
                let y = frame.py(b.value)
                body += "<rect x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(x1 - x0))\" height=\"\(f(frame.py(0) - y))\" fill=\"\(palette[0])\"><title>\(ReportHTML.escape(b.label)): \(fmt(b.value))</title></rect>"
            }
            if i % every == 0 {
                body += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\" class=\"tick\">\(ReportHTML.escape(b.label))</text>"
            }
        }
        return svg(title: title, frame: frame, xLabel: "", yLabel: yLabel, body: body, legend: [])
    }

    /// Ticks at 1, 2 or 5 x 10^k covering [lo, hi], about `count` of them.
    public static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
        let raw = (hi - lo) / Double(max(1, count))
        let e = floor(log10(raw)), mag = pow(10, e)
        let m = [1.0, 2, 5, 10].first { $0 * mag >= raw } ?? 10
        let step = m * mag
        // k * m scaled by 10^e (divided by 10^-e when e < 0), so 3 x 0.2 prints as 0.6.
        func value(_ k: Double) -> Double { e < 0 ? k * m / pow(10, -e) : k * m * mag }
        var ticks: [Double] = []
        var k = ceil(lo / step)
        while value(k) <= hi + step * 1e-9 { ticks.append(k == 0 ? 0 : value(k)); k += 1 }
        return ticks
    }

    /// Bin edges (`bins + 1`) and counts of `values` over `range`; values outside go to the end bins.
    public static func binned(_ values: [Double], bins: Int, range: ClosedRange<Double>) -> (edges: [Double], counts: [Int]) {
        let n = max(1, bins)
        let lo = range.lowerBound, hi = range.upperBound > lo ? range.upperBound : lo + 1
        let edges = (0...n).map { lo + (hi - lo) * Double($0) / Double(n) }
        var counts = [Int](repeating: 0, count: n)
        for v in values where v.isFinite {
            counts[min(n - 1, max(0, Int((v - lo) / (hi - lo) * Double(n))))] += 1
        }
        return (edges, counts)
    }

    static func defaultRange(_ finite: [Double]) -> ClosedRange<Double> {
        let lo = finite.count > 1000 ? Statistics.quantile(finite, 0.001)! : finite.min()!
        let hi = finite.count > 1000 ? Statistics.quantile(finite, 0.999)! : finite.max()!
        return hi > lo ? lo...hi : (lo - 0.5)...(lo + 0.5)
    }

    // MARK: shared drawing

    /// Data-to-plot mapping of the plot rectangle.
    struct Frame {
        var x: (Double, Double), y: (Double, Double)
        var xTicks = true
        init(x: (Double, Double), y: (Double, Double), xTicks: Bool = true) {
            func widen(_ r: (Double, Double)) -> (Double, Double) {
                r.1 > r.0 ? r : (r.0 - max(0.5, abs(r.0) * 0.05), r.0 + max(0.5, abs(r.0) * 0.05))
            }
            self.x = widen(x)
            self.y = widen(y)
            self.xTicks = xTicks
        }
        func px(_ v: Double) -> Double { left + (v - x.0) / (x.1 - x.0) * (width - left - right) }
        func py(_ v: Double) -> Double { height - bottom - (v - y.0) / (y.1 - y.0) * (height - top - bottom) }
    }

    static func xy(_ series: [Series], title: String, xLabel: String, yLabel: String, joined: Bool) -> String {
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard !all.isEmpty else { return empty(title) }
        let ylo = all.map(\.y).min()!, yhi = all.map(\.y).max()!, pad = (yhi - ylo) * 0.05
        let frame = Frame(x: (all.map(\.x).min()!, all.map(\.x).max()!), y: (ylo - pad, yhi + pad))
        var body = ""
        for s in series {
            var pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            if !joined && pts.count > maxScatterPoints {
                let step = (pts.count + maxScatterPoints - 1) / maxScatterPoints
                pts = stride(from: 0, to: pts.count, by: step).map { pts[$0] }
            }
            if joined {
                let coords = pts.map { "\(f(frame.px($0.x))),\(f(frame.py($0.y)))" }.joined(separator: " ")
                body += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\" points=\"\(coords)\"/>"
            } else {
                for p in pts {
                    body += "<circle cx=\"\(f(frame.px(p.x)))\" cy=\"\(f(frame.py(p.y)))\" r=\"2\" fill=\"\(s.color)\" fill-opacity=\"0.6\"/>"
                }
            }
        }
        return svg(title: title, frame: frame, xLabel: xLabel, yLabel: yLabel, body: body,
                   legend: series.count > 1 || !(series.first?.label.isEmpty ?? true) ? series.map { ($0.label, $0.color) } : [])
    }

    static func svg(title: String, frame: Frame, xLabel: String, yLabel: String, body: String, legend: [(String, String)]) -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" class=\"plot\" role=\"img\">"
        s += "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" class=\"title\">\(ReportHTML.escape(title))</text>"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width - left - right))\" height=\"\(f(height - top - bottom))\" fill=\"none\" stroke=\"#999\"/>"
        for t in niceTicks(frame.y.0, frame.y.1, count: 4) {
            let y = frame.py(t)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\" stroke=\"#e4e4e4\"/>"
            s += "<text x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\" class=\"tick\">\(fmt(t))</text>"
        }
        if frame.xTicks {
            for t in niceTicks(frame.x.0, frame.x.1, count: 6) {
                s += "<text x=\"\(f(frame.px(t)))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\" class=\"tick\">\(fmt(t))</text>"
            }
        }
        s += body
        s += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\" class=\"axis\">\(ReportHTML.escape(xLabel))</text>"
        s += "<text x=\"14\" y=\"\(f((top + height - bottom) / 2))\" text-anchor=\"middle\" class=\"axis\" transform=\"rotate(-90 14 \(f((top + height - bottom) / 2)))\">\(ReportHTML.escape(yLabel))</text>"
        for (i, (label, color)) in legend.enumerated() {
            let y = top + 12 + 14 * Double(i)
            s += "<rect x=\"\(f(width - right - 180))\" y=\"\(f(y - 8))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            s += "<text x=\"\(f(width - right - 166))\" y=\"\(f(y + 1))\" class=\"legend\">\(ReportHTML.escape(label))</text>"
        }
        return s + "</svg>"
    }

    static func empty(_ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) 60\" class=\"plot\" role=\"img\">"
            + "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" class=\"title\">\(ReportHTML.escape(title))</text>"
            + "<text x=\"\(f(width / 2))\" y=\"42\" text-anchor=\"middle\" class=\"axis\">no finite values</text></svg>"
    }

    /// Plot coordinate with one decimal.
    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    /// A value for people: 4 significant digits.
    static func fmt(_ v: Double) -> String { ReportHTML.number(v) }
}
