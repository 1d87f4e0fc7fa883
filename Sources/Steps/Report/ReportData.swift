import Foundation
import Imaging

/// Any JSON value, decoded without a schema (cluster and validation artifacts come from other
/// phases; the report reads them by key and tolerates extra or missing fields).
enum ReportJSON: Decodable, Equatable {
    case bool(Bool), number(Double), string(String), array([ReportJSON]), object([String: ReportJSON]), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([ReportJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: ReportJSON].self)) }
    }

    subscript(_ key: String) -> ReportJSON? { if case .object(let o) = self { return o[key] } else { return nil } }
    /// The first of `keys` present.
    func first(_ keys: [String]) -> ReportJSON? { keys.lazy.compactMap { self[$0] }.first }
    var double: Double? { if case .number(let d) = self { return d } else { return nil } }
    var int: Int? { double.flatMap { $0.rounded() == $0 && abs($0) < 1e15 ? Int($0) : nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var array: [ReportJSON]? { if case .array(let a) = self { return a } else { return nil } }
    var object: [String: ReportJSON]? { if case .object(let o) = self { return o } else { return nil } }

    /// Display text of a scalar (numbers with 4 significant digits), compact text otherwise.
    var text: String {
        switch self {
        case .bool(let b): return b ? "yes" : "no"
        case .number(let d): return ReportHTML.number(d)
        case .string(let s): return s
        case .null: return "–"
        case .array(let a): return "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]!.text)" }.joined(separator: ", ") + "}"
        }
    }

    static func read(_ path: String) throws -> ReportJSON {
        guard let d = FileManager.default.contents(atPath: path) else { throw ReportError.badInput(path: path, message: "cannot read the file") }
        do { return try JSONDecoder().decode(ReportJSON.self, from: d) } catch {
            throw ReportError.badInput(path: path, message: "not JSON (\(error))")
        }
    }
}

/// The report's readers of phase artifacts.
enum ReportData {
    /// `path` when it names a non-empty regular file (a zero-byte artifact means "not produced").
    static func present(_ path: String?) -> String? {
        guard let path, let attrs = try? FileManager.default.attributesOfItem(atPath: path),
              (attrs[.size] as? NSNumber)?.intValue ?? 0 > 0 else { return nil }
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

    // MARK: clusters

    struct Clusters: Equatable {
        var method: String?
        /// Why that method (e.g. the stable-state fallback), when the artifact says.
        var reason: String?
        var k: Int?
        /// Frame -> cluster (empty when the artifact lists only sizes).
        var assignment: [Int]
        /// Frames per cluster, cluster index order.
        var sizes: [Int]
    }

    /// Accepts `method`, `k`, and either `frames: [{cluster | cluster_index | clusterIndex | label}]`,
    /// `assignments | labels: [Int]`, or `sizes: [Int]`.
    static func clusters(_ path: String) throws -> Clusters {
        let j = try ReportJSON.read(path)
        let method = j.first(["method", "algorithm"])?.string
        var assignment: [Int] = []
        if let frames = j.first(["frames", "assignment"])?.array, frames.first?.object != nil {
            assignment = frames.compactMap { $0.first(["cluster", "cluster_index", "clusterIndex", "label"])?.int }
        } else if let labels = j.first(["assignments", "labels", "assignment", "clusters"])?.array {
            assignment = labels.compactMap(\.int)
        }
        var sizes = j["sizes"]?.array?.compactMap(\.int) ?? []
        if !assignment.isEmpty {
            let k = max(j["k"]?.int ?? 0, (assignment.max() ?? -1) + 1)
            sizes = [Int](repeating: 0, count: k)
            for a in assignment where a >= 0 { sizes[a] += 1 }
        }
        guard !sizes.isEmpty else {
            throw ReportError.badInput(path: path, message: "no cluster assignment found (expected frames[].cluster, assignments or sizes)")
        }
        return Clusters(method: method, reason: j["reason"]?.string, k: j["k"]?.int ?? sizes.count, assignment: assignment, sizes: sizes)
    }

    // MARK: validation

    struct Check: Equatable {
        var name: String, key: String, value: String, limit: String, passed: Bool?, detail: String
    }

    struct Validation: Equatable {
        var passed: Bool?
        var checks: [Check]
    }

    /// Accepts `passed` and `checks` as an array of objects (`name`) or an object keyed by name; each
    /// check has `value`, `limit`, `passed` and optionally `key` (config key), `comparison` (`>=`, `<=`,
    /// shown before the limit) and `detail | message | note`.
    static func validation(_ path: String) throws -> Validation {
        let j = try ReportJSON.read(path)
        guard j.object != nil else { throw ReportError.badInput(path: path, message: "validation is not a JSON object") }
        func check(_ name: String, _ c: ReportJSON) -> Check {
            let limit = c.first(["limit", "threshold"])?.text ?? "–"
            let comparison = c["comparison"]?.string.map { $0.replacingOccurrences(of: ">=", with: "≥").replacingOccurrences(of: "<=", with: "≤") }
            return Check(name: name, key: c["key"]?.string ?? "", value: c["value"]?.text ?? "–",
                         limit: comparison.map { "\($0) \(limit)" } ?? limit,
                         passed: c["passed"]?.bool, detail: c.first(["detail", "message", "note"])?.text ?? "")
        }
        var checks: [Check] = []
        if let a = j["checks"]?.array {
            checks = a.enumerated().map { i, c in check(c.first(["name", "check", "id", "key"])?.string ?? "check \(i + 1)", c) }
        } else if let o = j["checks"]?.object {
            checks = o.keys.sorted().map { check($0, o[$0]!) }
        } else if let o = j.object {
            checks = o.keys.sorted().filter { o[$0]?["passed"] != nil }.map { check($0, o[$0]!) }
        }
        return Validation(passed: j["passed"]?.bool, checks: checks)
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
