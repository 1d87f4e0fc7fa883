import Foundation
import Imaging

/// HTML building blocks of the report: escaping, numbers, tables, sections, the page frame and
/// inline CSS. Everything the page needs is inline (no script, no external URL).
enum ReportHTML {
    /// `s` with `& < > " '` replaced by entities: safe in text and in quoted attributes.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// 4 significant digits, no exponent for ordinary magnitudes; "n/a" for non-finite values.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "n/a" }
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e4 && a < 1e9 { return String(format: "%.0f", v) }
        if a >= 1e-3 && a < 1e4 { return String(format: "%.4g", v) }
        return String(format: "%.3e", v)
    }

    /// Seconds as `0.123 s`, `12.3 s` or `3 min 04 s`.
    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "n/a" }
        if s < 60 { return s < 10 ? String(format: "%.3f s", s) : String(format: "%.1f s", s) }
        let m = Int(s / 60)
        return String(format: "%d min %02d s", m, Int(s) - 60 * m)
    }

    /// A table: `header` cells and rows of already-escaped HTML cells; `classes` per row (optional).
    static func table(_ header: [String], _ rows: [[String]], rowClasses: [String]? = nil) -> String {
        var s = "<table>"
        if header.contains(where: { !$0.isEmpty }) {
            s += "<thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>"
        }
        s += "<tbody>"
        for (i, r) in rows.enumerated() {
            let cls = rowClasses.map { " class=\"\($0[i])\"" } ?? ""
            s += "<tr\(cls)>" + r.map { "<td>\($0)</td>" }.joined() + "</tr>"
        }
        return s + "</tbody></table>"
    }

    /// A section with an anchor `id`, a heading and a body of HTML.
    static func section(_ id: String, _ title: String, _ body: String) -> String {
        "<section id=\"\(id)\"><h2>\(escape(title))</h2>\n\(body)\n</section>\n"
    }

    /// The standard text of a section whose inputs this run did not produce.
    static func missing(_ what: String) -> String {
        "<p class=\"missing\">\(escape(what)): not produced by this run.</p>"
    }

    /// A paragraph for an input that exists but could not be read.
    static func unreadable(_ path: String, _ error: Error) -> String {
        "<p class=\"missing\">Could not read <code>\(escape(path))</code>: \(escape(String(describing: error))).</p>"
    }

    /// A PNG as an `<img>` with a `data:image/png;base64,` URI.
    static func image(_ png: PNGImage, alt: String) -> String {
        let b64 = Data(PNG.encode(png)).base64EncodedString()
        return "<img class=\"preview\" alt=\"\(escape(alt))\" width=\"\(png.width)\" height=\"\(png.height)\" src=\"data:image/png;base64,\(b64)\">"
    }

    /// The page: title, navigation over `sections` (id, title), the sections' HTML.
    static func page(title: String, nav: [(id: String, title: String)], body: String) -> String {
        var s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        s += "<title>\(escape(title))</title><style>\(css)</style></head><body>\n"
        s += "<header><h1>\(escape(title))</h1><nav>"
        s += nav.map { "<a href=\"#\($0.id)\">\(escape($0.title))</a>" }.joined(separator: " · ")
        s += "</nav></header>\n<main>\n" + body + "</main>\n</body></html>\n"
        return s
    }

    static let css = """
    body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;background:#fafafa;margin:0}
    header{background:#20262e;color:#eee;padding:12px 24px}header h1{margin:0 0 6px;font-size:20px}
    nav a{color:#9cf;text-decoration:none;font-size:13px}main{max-width:1000px;margin:0 auto;padding:8px 24px 40px}
    section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 18px 14px;margin:16px 0}
    h2{font-size:17px;margin:8px 0}h3{font-size:15px;margin:10px 0 4px}
    table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
    th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
    tr.fail td{background:#fde7e7}tr.pass td{background:#e9f7ea}
    .verdict{font-size:16px;font-weight:bold;padding:6px 10px;border-radius:4px;display:inline-block}
    .verdict.pass{background:#d8f2da;color:#145a1c}.verdict.fail{background:#fbd5d5;color:#8a1414}
    .missing{color:#777;font-style:italic}.note{color:#555;font-size:12px}
    svg.plot{width:100%;max-width:760px;height:auto;display:block;margin:6px 0}
    svg .title{font-size:13px;font-weight:bold;fill:#222}svg .tick{font-size:10px;fill:#555}
    svg .axis{font-size:11px;fill:#333}svg .legend{font-size:10px;fill:#333}
    img.preview{max-width:100%;height:auto;image-rendering:auto;border:1px solid #ccc;background:#000}
    .grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:10px}
    figure{margin:0}figcaption{font-size:12px;color:#555}code{font-size:12px}details{margin:6px 0}
    """
}
