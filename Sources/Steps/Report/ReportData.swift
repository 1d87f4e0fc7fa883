import Foundation
import Imaging

/// The report's readers of phase artifacts.
enum ReportData {
    /// `path` when it names a non-empty regular file (a zero-byte artifact means "not produced").
    static func present(_ path: String?) -> String? {
        guard let path, Artifacts.fileSize(path) ?? 0 > 0 else { return nil }
        return path
    }

    // MARK: frame metrics

    /// The `metrics` JSON artifact or `frame_metrics.csv` (header `file,B,sigma,E,Q,G,residual,stars,fwhm`).
    static func frameMetrics(_ path: String) throws -> FrameMetricsTable {
        guard let d = FileManager.default.contents(atPath: path) else { throw ReportError.badInput(path: path, message: "cannot read the file") }
        let text = String(decoding: d, as: UTF8.self)
        if text.drop(while: \.isWhitespace).first == "{" { return try FrameMetricsTable.read(path: path) }
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { throw ReportError.badInput(path: path, message: "empty frame metrics") }
        let header = csvFields(lines.removeFirst())
        func col(_ name: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else {
                throw ReportError.badInput(path: path, message: "frame metrics CSV has no column '\(name)' (header: \(header.joined(separator: ",")))")
            }
            return i
        }
        let c = try ["file", "B", "sigma", "E", "Q", "G", "residual", "stars", "fwhm"].map(col)
        return FrameMetricsTable(frames: try lines.enumerated().map { i, line in
            let f = csvFields(line)
            guard f.count == header.count else {
                throw ReportError.badInput(path: path, message: "line \(i + 2) has \(f.count) fields, the header \(header.count)")
            }
            func num(_ k: Int) -> Double? { Double(f[c[k]]) }
            return FrameMetrics(index: i, file: f[c[0]], background: num(1) ?? .nan, noise: num(2) ?? .nan,
                                gradient: num(3) ?? .nan, q: num(4) ?? .nan, g: num(5) ?? .nan, residual: num(6),
                                matches: nil, starCount: Int(f[c[7]]) ?? 0, fwhm: num(8))
        })
    }

    /// Fields of one CSV line (RFC 4180 quoting).
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], cur = "", quoted = false
        var it = Array(line).makeIterator()
        var pending: Character? = nil
        while let ch = pending ?? it.next() {
            pending = nil
            if quoted {
                if ch == "\"" {
                    if let n = it.next() { if n == "\"" { cur.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
                } else { cur.append(ch) }
            } else if ch == "\"" { quoted = true } else if ch == "," { fields.append(cur); cur = "" } else { cur.append(ch) }
        }
        fields.append(cur)
        return fields
    }

    // MARK: clusters and validation (typed artifacts, read in `Report.Loaded`)

    /// Frames per cluster, cluster index order (the synthetic frame `syn_NN` is built from cluster NN).
    static func clusterSizes(_ c: FrameClusters) -> [Int] { (0..<max(0, c.k)).map { c.members($0).count } }

    /// A check's value as shown: 4 significant digits, "–" when not measured.
    static func value(_ c: ValidationCheck) -> String { c.value.map(ReportHTML.number) ?? "–" }

    /// A check's limit as shown: the comparison (`≥` for `>=`, `≤` for `<=`) before the limit.
    static func limit(_ c: ValidationCheck) -> String {
        let comparison = c.comparison.replacingOccurrences(of: ">=", with: "≥").replacingOccurrences(of: "<=", with: "≤")
        let limit = ReportHTML.number(c.limit)
        return comparison.isEmpty ? limit : "\(comparison) \(limit)"
    }

    // MARK: local metrics

    struct LocalSummary {
        /// Per tile, the median over frames of the tile's star FWHM (NaN without stars).
        var tileFWHM: [Double]
        /// (local FWHM, local SNR = median star contrast peak/noise) of every tile-frame with stars.
        var snr: [(x: Double, y: Double)]
        var frames: Int
    }

    /// Reads the local metrics files one at a time.
    static func local(_ paths: [String]) throws -> LocalSummary {
        var perTile: [[Double]] = [], snr: [(x: Double, y: Double)] = []
        for p in paths {
            let file = try LocalMetricsFile(path: p)
            if perTile.isEmpty { perTile = [[Double]](repeating: [], count: file.tiles.count) }
            guard file.tiles.count == perTile.count else {
                throw ReportError.badInput(path: p, message: "\(file.tiles.count) tiles, the first local file has \(perTile.count)")
            }
            for (t, m) in file.tiles.enumerated() where m.starCount > 0 && m.fwhm.isFinite && m.fwhm > 0 {
                perTile[t].append(m.fwhm)
                if m.contrast.isFinite { snr.append((m.fwhm, m.contrast)) }
            }
        }
        return LocalSummary(tileFWHM: perTile.map { Statistics.median($0) ?? .nan }, snr: snr, frames: paths.count)
    }

    // MARK: images

    /// Median FWHM (px) of the stars of an image's luminance, with the same star selection as the
    /// frame metrics (32 px background mesh, ellipticity <= 0.4); nil without stars.
    static func fwhm(_ image: Image) -> Double? {
        // The 80 brightest stars are plenty for a median and keep the report cheap on deep stacks
        // (fitting every star of a stack costs seconds per image).
        let options = StarDetectionOptions(thresholdSigma: 5, background: .map(mesh: 32), maxStars: 80)
        let stars = detectStars(in: Measure.luminance(image), options: options)
        return Statistics.median(stars.filter { $0.ellipticity <= TileGeometry.maxEllipticity }.map(\.fwhm))
    }
}
