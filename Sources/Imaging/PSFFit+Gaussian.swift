extension PSFFitter {
    /// The Gaussian fit (the default model) on the stamp of half-size `r` around (`cx`, `cy`), from the
    /// start values of `fit`: sky `sky`, peak `peak`, FWHM `fwhm`, centre (`x`, `y`).
    ///
    /// The stamp is copied once into vector columns (`PSFStamp`); the solver (`minimizeSplit`) takes
    /// its accept/reject and convergence decisions on a cost pass with Float32 residuals (compensated
    /// sums) and steers with normal equations formed in Float32 from that pass's values
    /// (`PSFGaussianPasses`). Same start values, domain, stopping rules and
    /// outcome rules (`finish`) as the scalar Double fit this replaces; the fitted values agree with it
    /// to far below their statistical errors (not bit for bit).
    func fitGaussian(cx: Int, cy: Int, x: Double, y: Double, r: Int, sky: Double, peak: Double, fwhm: Double,
                     noiseSigma: Double?, options: PSFFitOptions) -> PSFFit? {
        let stamp = PSFStamp(plane: plane, width: width, height: height, cx: cx, cy: cy, r: r, offset: sky)
        defer { stamp.deallocate() }
        guard stamp.count >= 21 else { return nil }
        let w0 = PSFParameters.width(fwhm: fwhm, model: .gaussian, beta: 0)
        let q0 = 1 / (w0 * w0)
        let start: [Double] = [sky, peak - sky, x, y, q0, 0, q0]
        let isValid: ([Double]) -> Bool = { p in Self.isValid(p, x: x, y: y, r: r, freeBeta: false) }
        let abandon: (([Double]) -> Bool)? = options.maxDrift.map { limit in
            { p in (p[2] - x) * (p[2] - x) + (p[3] - y) * (p[3] - y) > limit * limit }
        }
        let passes = PSFGaussianPasses(stamp: stamp)
        let result = LevenbergMarquardt(options: options.solver).minimizeSplit(
            start: start, isValid: isValid, abandon: abandon,
            cost: { passes.cost($0) }, normal: { passes.normal($0, $1, $2) })
        return finish(result, start: start, x: x, y: y, m: stamp.count, noiseSigma: noiseSigma, options: options,
                      isValid: isValid, beta: 0)
    }
}
