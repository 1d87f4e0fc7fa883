import Foundation

/// Finds and measures stars in plane `channel` of `image`.
///
/// Steps, in order (each documented on `StarDetectionOptions`):
/// 1. sky level and noise from `options.background`; values below are background-subtracted (with a
///    map, the noise is that of the flattened plane, from a 1-in-4 subsample on planes >= 2^18 px);
/// 2. candidates: pixels inside the edge margin above `thresholdSigma * noise` that are the maximum
///    of their `(2r+1)^2` window;
/// 3. hot pixels (single-pixel spikes) rejected;
/// 4. minimum separation: candidates by descending peak, a candidate within `minSeparation` of a
///    kept one is dropped;
/// 5. saturated peaks (raw value >= `saturationLevel`) rejected; (5b) with `lineRejection`,
///    candidates whose half-maximum footprint is a line (satellite/plane trail segments) rejected;
///    then the fit bounds: at most `fitSpread.perCell` candidates per cell and `fitBudget` (default
///    `4 * maxStars`) in all, the highest peaks first;
/// 6. intensity-weighted centroid over a 7x7 window (positive background-subtracted values), then a
///    PSF fit (`options.fit`) started there; stars whose fit fails, drifts more than
///    `maxCentroidShift`, or has a FWHM outside [minFWHM, maxFWHM] are dropped;
/// 7. sorted by flux descending (ties: row, then column), truncated to `maxStars`.
///
/// Returns an empty list for a plane without finite pixels or without stars. `contrast` and `snr`
/// use the detection noise. Deterministic: same image and options give identical results.
///
/// `sourceMask` (`width x height`, true = source), with a `.map` background: the detection noise is
/// `Statistics.maskedNoise` of the flattened plane outside this mask (e.g. the star mask the caller
/// already built for the plane's global background), instead of a second sigma clip and star mask on
/// the flattened plane. Ignored with the other backgrounds.
public func detectStars(in image: Image, channel: Int = 0,
                        options: StarDetectionOptions = StarDetectionOptions(),
                        sourceMask: [Bool]? = nil) -> [StarMeasurement] {
    detectStarLists(in: image, channel: channel, options: options, field: nil, sourceMask: sourceMask).stars
}

/// `detectStars`, and from the same candidates a second list, the *field* (`StarFieldOptions`): the
/// fits of the `field.spread` selection (at most `perCell` candidates per cell, highest peaks first,
/// no fit budget) of the candidates kept by steps 2-5b, sorted like step 7 and capped at
/// `field.maxStars`. `stars` is exactly what `detectStars(in:channel:options:sourceMask:)` returns
/// (same candidates, fits and order). A candidate in both selections is fitted once: a fit depends on
/// its candidate only, so the shared fits are the same values in both lists.
public func detectStars(in image: Image, channel: Int = 0, options: StarDetectionOptions,
                        field: StarFieldOptions,
                        sourceMask: [Bool]? = nil) -> (stars: [StarMeasurement], field: [StarMeasurement]) {
    let r = detectStarLists(in: image, channel: channel, options: options, field: field, sourceMask: sourceMask)
    return (r.stars, r.field ?? [])
}

/// Steps 1-7 of `detectStars`, and the field list when `field` is set.
func detectStarLists(in image: Image, channel: Int, options: StarDetectionOptions, field: StarFieldOptions?,
                     sourceMask: [Bool]?) -> (stars: [StarMeasurement], field: [StarMeasurement]?) {
    precondition(channel >= 0 && channel < image.channels, "channel out of range")
    let w = image.width, h = image.height
    // Sky level (constant or per pixel) and noise.
    var level: Float = 0
    var noise: Float = 0
    var map: BackgroundMap? = nil
    switch options.background {
    case .constant(let l, let n):
        level = l; noise = n
    case .global:
        guard let est = Statistics.background(image, plane: channel) else { return ([], field.map { _ in [] }) }
        level = est.level; noise = est.noise
    case .map(let mesh):
        guard let m = BackgroundMap.estimate(image, plane: channel, mesh: max(8, mesh),
                                             sampleStride: max(1, options.backgroundSampleStride ?? 1)) else { return ([], field.map { _ in [] }) }
        map = m
    }
    let r = max(1, options.localMaximumRadius)
    let margin = max(options.edgeMargin, r, 1)
    let none: (stars: [StarMeasurement], field: [StarMeasurement]?) = ([], field.map { _ in [] })
    guard w > 2 * margin, h > 2 * margin else { return none }

    // Background-subtracted copy of the plane (one pass; the raw plane stays for saturation and fit;
    // a map is interpolated row by row on the fly, never rendered as a plane).
    let residual = image.pixels.withUnsafeBufferPointer { all in
        [Float](unsafeUninitializedCapacity: w * h) { res, filled in
            let src = all.baseAddress! + channel * w * h
            if let map {
                map.subtract(from: src, into: res.baseAddress!)
            } else {
                for i in 0..<(w * h) { res[i] = src[i] - level }
            }
            filled = w * h
        }
    }

    if map != nil {
        // Noise of the flattened plane: a gradient must not inflate it.
        // (on planes of >= 2^18 px a 1-in-4 subsample: the noise of >= 6.5 * 10^4 sky pixels is as
        // exact as that of all of them)
        let stride = w * h >= 1 << 18 ? 4 : 1
        if let sourceMask, sourceMask.count == w * h {
            guard let n = residual.withUnsafeBufferPointer({ Statistics.maskedNoise($0, mask: sourceMask, sampleStride: stride) })
            else { return none }
            noise = n
        } else {
            guard let est = Statistics.background(Image(width: w, height: h, pixels: residual), sampleStride: stride) else { return none }
            noise = est.noise
        }
    }
    guard noise > 0, noise.isFinite else { return none }
    let threshold = Float(options.thresholdSigma) * noise

    var stars: [StarMeasurement] = []
    var fieldStars: [StarMeasurement]? = nil
    image.pixels.withUnsafeBufferPointer { all in
        residual.withUnsafeBufferPointer { sub in
            let finder = StarFinder(
                plane: UnsafeBufferPointer(rebasing: all[(channel * w * h)..<((channel + 1) * w * h)]),
                residual: sub, width: w, height: h, options: options)
            var kept = finder.separated(finder.candidates(threshold: threshold, radius: r, margin: margin))
            // 5. Saturation, and the fit budget under a star cap.
            if let sat = options.saturationLevel { kept.removeAll { $0.raw >= sat } }
            // 5b. Lines (trail segments) are not stars and take no fit slot.
            if let rule = options.lineRejection { kept = finder.withoutLines(kept, rule) }
            // The registration selection and the field selection, as indices into `kept` (ascending).
            var chosen = Array(kept.indices)
            if let spread = options.fitSpread { chosen = spreadSelection(kept, chosen, spread, width: w, height: h) }
            if let budget = options.fitBudget ?? options.maxStars.map({ 4 * $0 }), chosen.count > budget {
                chosen.removeLast(chosen.count - max(0, budget))
            }
            let fieldChosen = field.map { spreadSelection(kept, Array(kept.indices), $0.spread, width: w, height: h) }
            // 6. Each selected candidate fitted once (a fit depends on its candidate only).
            var fits = [StarMeasurement?](repeating: nil, count: fieldChosen == nil ? 0 : kept.count)
            var fitted = [Bool](repeating: false, count: fits.count)
            func fit(_ i: Int) -> StarMeasurement? {
                guard fieldChosen != nil else { return finder.measure(kept[i], noise: Double(noise)) }
                if !fitted[i] { fits[i] = finder.measure(kept[i], noise: Double(noise)); fitted[i] = true }
                return fits[i]
            }
            stars = chosen.compactMap(fit)
            fieldStars = fieldChosen.map { $0.compactMap(fit) }
        }
    }

    // 7. Order and cap.
    return (ordered(stars, cap: options.maxStars), fieldStars.map { ordered($0, cap: field?.maxStars) })
}

/// Step 7: by flux descending (ties: row, then column), at most `cap`.
private func ordered(_ list: [StarMeasurement], cap: Int?) -> [StarMeasurement] {
    var stars = list
    stars.sort { $0.flux != $1.flux ? $0.flux > $1.flux : ($0.y, $0.x) < ($1.y, $1.x) }
    if let cap, stars.count > cap { stars.removeLast(stars.count - max(0, cap)) }
    return stars
}

/// The fit bound `spread` on `indices` (into `kept`, in order, i.e. highest peaks first): at most
/// `perCell` of them per `cell` x `cell` square of the `width` x `height` plane.
private func spreadSelection(_ kept: [StarFinder.Candidate], _ indices: [Int], _ spread: StarFitSpread,
                             width w: Int, height h: Int) -> [Int] {
    let cell = max(1, spread.cell), gw = (w + cell - 1) / cell, gh = (h + cell - 1) / cell
    var counts = [Int](repeating: 0, count: gw * gh)
    return indices.filter { i in
        let k = (kept[i].y / cell) * gw + kept[i].x / cell
        counts[k] += 1
        return counts[k] <= max(1, spread.perCell)
    }
}
