import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Steps

@Suite("report SVG helpers")
struct ReportSVGTests {
    static func parses(_ svg: String) -> Bool { XMLParser(data: Data(svg.utf8)).parse() }
    static func count(_ s: String, _ needle: String) -> Int { s.components(separatedBy: needle).count - 1 }

    @Test("nice ticks are 1-2-5 steps inside the range")
    func ticks() {
        #expect(ReportSVG.niceTicks(0, 10) == [0, 2, 4, 6, 8, 10])
        #expect(ReportSVG.niceTicks(0.13, 0.87, count: 4) == [0.2, 0.4, 0.6, 0.8])
        #expect(ReportSVG.niceTicks(-3, 3, count: 6) == [-3, -2, -1, 0, 1, 2, 3])
        #expect(ReportSVG.niceTicks(5, 5) == [5])
        #expect(ReportSVG.niceTicks(.nan, 1).isEmpty)
    }

    @Test("histogram bins count every finite value once; outliers land in the end bins")
    func bins() {
        let values = [0.0, 0.5, 1, 1.5, 2, 9.99, -5, 50, .nan, .infinity]
        let (edges, counts) = ReportSVG.binned(values, bins: 4, range: 0...10)
        #expect(edges == [0, 2.5, 5, 7.5, 10])
        #expect(counts == [6, 0, 0, 2])  // -5 -> first bin, 50 -> last
        #expect(counts.reduce(0, +) == values.filter(\.isFinite).count)
        let svg = ReportSVG.histogram(values, bins: 4, range: 0...10, title: "h <1>", xLabel: "x",
                                      markers: [ReportSVG.Marker(label: "m", x: 3, color: "#f00")])
        #expect(Self.parses(svg))
        #expect(Self.count(svg, "<rect") == 1 + 2 + 2)  // frame, two non-empty bins, two legend boxes
        #expect(svg.contains("h &lt;1&gt;") && svg.contains("m = 3"))
        #expect(svg.contains("<title>0 … 2.5: 6</title>"))
    }

    @Test("line and scatter draw every finite point; empty input says so")
    func lineAndScatter() {
        let pts: [(x: Double, y: Double)] = [(0, 1), (1, 2), (2, .nan), (3, 4)]
        let line = ReportSVG.line([ReportSVG.Series(label: "a", points: pts, color: "#000")], title: "t", xLabel: "x", yLabel: "y")
        #expect(Self.parses(line))
        let poly = line.components(separatedBy: "points=\"")[1].components(separatedBy: "\"")[0]
        #expect(poly.split(separator: " ").count == 3)
        let many = (0..<10_000).map { (x: Double($0), y: Double($0 % 7)) }
        let scatter = ReportSVG.scatter([ReportSVG.Series(label: "", points: many, color: "#000")], title: "s", xLabel: "x", yLabel: "y")
        #expect(Self.parses(scatter))
        #expect(Self.count(scatter, "<circle") == 3334)  // stride 3 over 10 000 points
        let empty = ReportSVG.line([ReportSVG.Series(label: "", points: [(1, .nan)], color: "#000")], title: "e", xLabel: "", yLabel: "")
        #expect(Self.parses(empty) && empty.contains("no finite values"))
    }

    @Test("heat map: one cell per tile, colours span the ramp, NaN grey")
    func heatMap() {
        let cells = (0..<6).map { ReportSVG.Cell(x: ($0 % 3) * 10, y: ($0 / 3) * 10, w: 10, h: 10, value: $0 == 4 ? .nan : Double($0)) }
        let svg = ReportSVG.heatMap(cells, imageWidth: 30, imageHeight: 20, title: "map", unit: "px")
        #expect(Self.parses(svg))
        #expect(Self.count(svg, "<rect") == 6 + 1 + 20)  // cells, outline, colour bar
        #expect(svg.contains("fill=\"\(ReportSVG.ramp(0))\"") && svg.contains("fill=\"\(ReportSVG.ramp(1))\""))
        #expect(svg.contains("fill=\"#bbbbbb\"><title>x 10, y 10: n/a px</title>"))
        #expect(ReportSVG.ramp(0) == "#440154" && ReportSVG.ramp(1) == "#fde725")
    }

    @Test("bars: one bar per finite value, labels escaped")
    func bars() {
        let svg = ReportSVG.bars([("a&b", 3), ("c", 0), ("d", .nan)], title: "b", yLabel: "n")
        #expect(Self.parses(svg))
        #expect(Self.count(svg, "<title>") == 2)
        #expect(svg.contains("a&amp;b"))
    }

    @Test("numbers for people: 4 significant digits, n/a for non-finite")
    func numbers() {
        #expect(ReportHTML.number(3.14159) == "3.142")
        #expect(ReportHTML.number(123_456) == "123456")
        #expect(ReportHTML.number(0) == "0")
        #expect(ReportHTML.number(1.5e-7) == "1.500e-07")
        #expect(ReportHTML.number(.nan) == "n/a")
        #expect(ReportHTML.duration(0.25) == "0.250 s" && ReportHTML.duration(184) == "3 min 04 s")
    }
}
