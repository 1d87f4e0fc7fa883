import Foundation
import Imaging

extension Report {
    /// Previews, FWHM and the difference image of the three stacked images, read and rendered up to
    /// `inputs.threads` at a time (each with its luminance; the bytes do not depend on the count).
    struct ImageResults {
        var previewsHTML = ""
        var differenceHTML = ""
        var stackFWHM: Double?
        var classicalFWHM: Double?
        var reconstructionFWHM: Double?
        /// Whether the FWHMs are validation's (median over the stars matched with the classical
        /// stack) rather than measured here on each image's brightest stars.
        var fwhmFromValidation = false

        /// `validation`: the run's validation artifact, when there is one. Its stacks carry the
        /// FWHM of each image on one matched star set, measured by the `validation` node; the report
        /// then shows those and measures nothing (a star detection per image cost ~0.3 s of every
        /// rerun). Without it (validation left out of the process), each image is measured here.
        init(_ inputs: ReportInputs, validation: ValidationReport? = nil) {
            let measured = validation?.stacks.map { stacks in
                Dictionary(stacks.compactMap { s in s.fwhm.map { (s.name, $0) } }, uniquingKeysWith: { a, _ in a })
            } ?? [:]
            fwhmFromValidation = !measured.isEmpty
            let fromValidation = fwhmFromValidation, previewWidth = inputs.previewWidth
            let items: [(key: String, title: String, path: String?)] = [
                ("stack", "Final stack (phase 9)", inputs.stack),
                ("classical", "Classical stack (unweighted mean)", inputs.classicalStack),
                ("reconstruction", "Reconstruction (phase 6)", inputs.reconstruction),
            ]
            /// One image's figure, FWHM, luminance (kept for the difference image) or problem.
            struct Rendered: Sendable { var figure: String; var fwhm: Double? = nil; var luminance: Image? = nil; var problem: String? = nil }
            let rendered = Parallel.map(items.count, threads: max(1, min(inputs.threads, items.count))) { k -> Rendered in
                let item = items[k]
                guard let path = ReportData.present(item.path) else {
                    return Rendered(figure: "<figure>\(ReportHTML.missing(item.title))</figure>")
                }
                let image: Image
                do { image = try FITS.read(path) } catch {
                    let problem = ReportHTML.unreadable(path, error)
                    return Rendered(figure: "<figure>\(problem)</figure>", problem: problem)
                }
                let png = AsinhStretch().png(image, maxWidth: previewWidth)
                let name = (path as NSString).lastPathComponent
                let figure = "<figure>\(ReportHTML.image(png, alt: item.title))<figcaption>\(ReportHTML.escape(item.title)): "
                    + "<code>\(ReportHTML.escape(name))</code>, \(image.width) × \(image.height) × \(image.channels), asinh display stretch</figcaption></figure>"
                let stackName = ["stack": "final stack", "classical": "classical stack"][item.key] ?? "reconstruction"
                let fwhm = fromValidation ? measured[stackName] : ReportData.fwhm(image)
                // The classical stack's and the reconstruction's luminances (items 1 and 2) make the difference image.
                return Rendered(figure: figure, fwhm: fwhm, luminance: k > 0 ? Measure.luminance(image) : nil)
            }
            let figures = rendered.map(\.figure)
            stackFWHM = rendered[0].fwhm
            classicalFWHM = rendered[1].fwhm
            reconstructionFWHM = rendered[2].fwhm
            let classicalLum = rendered[1].luminance, reconstructionLum = rendered[2].luminance
            previewsHTML = "<div class=\"grid2\">" + figures.joined() + "</div>"
            if let r = reconstructionLum, let c = classicalLum {
                differenceHTML = Self.difference(r, c, previewWidth: inputs.previewWidth)
            } else {
                let missing = [reconstructionLum == nil ? "reconstruction" : nil, classicalLum == nil ? "classical stack" : nil].compactMap { $0 }
                differenceHTML = [rendered[2].problem, rendered[1].problem].compactMap { $0 }.joined()
                    + ReportHTML.missing("Difference image (needs the " + missing.joined(separator: " and ") + ")")
            }
        }

        /// `reconstruction - (a * classical + b)` with a, b the least-squares fit over the pixels finite
        /// in both (the two images are in different units), as a diverging preview and a histogram.
        static func difference(_ r: Image, _ c: Image, previewWidth: Int) -> String {
            guard r.width == c.width, r.height == c.height else {
                return "<p class=\"missing\">The reconstruction is \(r.width) × \(r.height) but the classical stack \(c.width) × \(c.height); no difference image.</p>"
            }
            guard let fit = linearFit(y: r, x: c) else { return "<p class=\"missing\">No pixel is finite in both images; no difference image.</p>" }
            var diff = Image(width: r.width, height: r.height, fill: .nan)
            r.pixels.withUnsafeBufferPointer { rp in
                c.pixels.withUnsafeBufferPointer { cp in
                    diff.pixels.withUnsafeMutableBufferPointer { dp in
                        for i in 0..<rp.count where rp[i].isFinite && cp[i].isFinite {
                            dp[i] = Float(Double(rp[i]) - (fit.a * Double(cp[i]) + fit.b))
                        }
                    }
                }
            }
            let step = max(1, diff.pixels.count / 200_000)
            let sample = stride(from: 0, to: diff.pixels.count, by: step).map { Double(diff.pixels[$0]) }.filter(\.isFinite)
            let sigma = (Statistics.mad(sample) ?? .nan) * Statistics.madToSigma
            let spread = sigma.isFinite && sigma > 0 ? 8 * sigma : nil
            let median = Statistics.median(sample) ?? 0
            var html = "<figure>" + ReportHTML.image(AsinhStretch.diverging(diff, maxWidth: previewWidth), alt: "difference image")
                + "<figcaption>Reconstruction − (a · classical + b), luminance; mid-grey = 0, brighter = the reconstruction is brighter.</figcaption></figure>"
            html += ReportSVG.histogram(sample, bins: 60, range: spread.map { (median - $0)...(median + $0) },
                                        title: "Histogram of the difference", xLabel: "reconstruction units")
            html += ReportHTML.table(["", "value"], [
                ["fit a (gain)", ReportHTML.number(fit.a)], ["fit b (offset)", ReportHTML.number(fit.b)],
                ["median difference", ReportHTML.number(median)], ["robust sigma (1.4826 MAD)", ReportHTML.number(sigma)],
            ])
            return html
        }

        /// Least squares `y ≈ a x + b` over pixels finite in both, double precision, fixed order; nil
        /// without such pixels. a = 1 and b = mean(y - x) when x has no spread.
        static func linearFit(y: Image, x: Image) -> (a: Double, b: Double)? {
            var n = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
            y.pixels.withUnsafeBufferPointer { yp in
                x.pixels.withUnsafeBufferPointer { xp in
                    for i in 0..<yp.count where yp[i].isFinite && xp[i].isFinite {
                        let a = Double(xp[i]), b = Double(yp[i])
                        n += 1; sx += a; sy += b; sxx += a * a; sxy += a * b
                    }
                }
            }
            guard n > 0 else { return nil }
            let varX = sxx / n - (sx / n) * (sx / n)
            guard varX > 1e-12 * max(1, abs(sxx / n)) else { return (1, (sy - sx) / n) }
            let a = (sxy / n - (sx / n) * (sy / n)) / varX
            return (a, sy / n - a * sx / n)
        }
    }
}
