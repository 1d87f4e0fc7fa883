import Dispatch
import Foundation

extension SynthSeries {
    /// FITS keywords of frame `index`: EXPTIME (same for all), DATE-OBS (increasing), IMAGETYP,
    /// GAIN, and for CFA series BAYERPAT = "RGGB" with XBAYROFF/YBAYROFF = 0.
    public func frameKeywords(_ index: Int) -> [FITSKeyword] {
        let t = truth.perFrame[index]
        var k: [FITSKeyword] = [
            FITSKeyword("EXPTIME", .double(config.exposureSeconds), comment: "exposure time [s]"),
            FITSKeyword("DATE-OBS", .string(t.dateObs), comment: "UTC start of exposure"),
            FITSKeyword("IMAGETYP", .string("Light Frame"), comment: "synthetic light frame"),
            FITSKeyword("GAIN", .double(config.gain * config.adcDivisor), comment: "e-/ADU"),
            FITSKeyword("PEDESTAL", .double(config.pedestal / config.adcDivisor), comment: "bias offset [ADU]"),
            FITSKeyword("SYNSEED", .int(Int(truncatingIfNeeded: config.seed)), comment: "tcbuild synth seed"),
            FITSKeyword("SYNFRAME", .int(index), comment: "tcbuild synth frame index"),
        ]
        if config.cfa {
            k.append(FITSKeyword("BAYERPAT", .string("RGGB"), comment: "Bayer pattern, top-left first"))
            k.append(FITSKeyword("XBAYROFF", .int(0), comment: "Bayer x offset"))
            k.append(FITSKeyword("YBAYROFF", .int(0), comment: "Bayer y offset"))
        }
        return k
    }

    /// Writes the series under `directory`: `frames/frame_NNNNN.fits` (uint16, BZERO 32768; the
    /// extension is `config.frameExtension`, e.g. upper-case `.FITS`),
    /// `truth/reference.fits` (float32; 3 planes for CFA) and `truth/truth.json`.
    ///
    /// Frames are rendered and written in parallel on `concurrency` workers (nil: one per core);
    /// the bytes written do not depend on it. Stale `frame_*.fits` files of an earlier, longer
    /// series in the same directory are removed so the directory holds exactly this series.
    /// Returns the number of frames written.
    @discardableResult
    public func write(to directory: String, concurrency: Int? = nil) throws -> Int {
        let fm = FileManager.default
        let framesDir = directory + "/frames", truthDir = directory + "/truth"
        for dir in [directory, framesDir, truthDir] {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw SynthError.cannotCreateDirectory(path: dir, reason: error.localizedDescription)
            }
        }
        let wanted = Set((0..<config.frames).map { (framePath($0) as NSString).lastPathComponent })
        if let existing = try? fm.contentsOfDirectory(atPath: framesDir) {
            for name in existing where name.hasPrefix("frame_") && name.lowercased().hasSuffix(".fits") && !wanted.contains(name) {
                try? fm.removeItem(atPath: framesDir + "/" + name)
            }
        }

        let failures = SynthFailureBox()
        let n = config.frames
        let workers = max(1, min(n, concurrency ?? ProcessInfo.processInfo.activeProcessorCount))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < n {
                if failures.hasFailure { return }
                let path = directory + "/" + framePath(index)
                do {
                    try FITS.write(render(frame: index), to: path, as: .uint16, keywords: frameKeywords(index))
                } catch {
                    failures.record(index: index, SynthError.writeFailed(path: path, reason: "\(error)"))
                }
                index += workers
            }
        }
        if let error = failures.first { throw error }

        let refPath = truthDir + "/reference.fits"
        do {
            try FITS.write(renderReference(), to: refPath, as: .float32, keywords: [
                FITSKeyword("SEEING", .double(truth.perFrame[truth.bestFrame].seeingFwhm), comment: "FWHM at centre [px]"),
                FITSKeyword("SYNSEED", .int(Int(truncatingIfNeeded: config.seed)), comment: "tcbuild synth seed"),
            ])
        } catch {
            throw SynthError.writeFailed(path: refPath, reason: "\(error)")
        }
        let jsonPath = truthDir + "/truth.json"
        do {
            try truth.jsonData().write(to: URL(fileURLWithPath: jsonPath), options: .atomic)
        } catch {
            throw SynthError.writeFailed(path: jsonPath, reason: "\(error)")
        }
        return n
    }
}

/// Collects the first failure (by frame index) from parallel workers.
private final class SynthFailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: (index: Int, error: SynthError)?

    var hasFailure: Bool { lock.lock(); defer { lock.unlock() }; return failure != nil }

    var first: SynthError? { lock.lock(); defer { lock.unlock() }; return failure?.error }

    func record(index: Int, _ error: SynthError) {
        lock.lock(); defer { lock.unlock() }
        if failure == nil || index < failure!.index { failure = (index, error) }
    }
}
