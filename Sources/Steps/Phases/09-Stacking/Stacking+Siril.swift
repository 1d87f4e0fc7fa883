import Foundation
import Imaging

extension Stacking {
    /// The siril script that averages the linked sequence `syn_` without rejection and without
    /// normalization (siril 1.0.6 syntax: `stack SEQ rej n -nonorm` = mean, rejection "none"), in
    /// 32-bit float, into `result.fit`.
    public static func sirilScript(threads: Int) -> String {
        ["requires 1.0.0", "setcpu \(max(1, threads))", "set32bits", "cd in", "link syn -out=..", "cd ..",
         "stack syn rej n -nonorm -out=result"].joined(separator: "\n") + "\n"
    }

    /// The power of two that brings the largest finite |value| `maxAbs` to <= 1 (1 when it already is).
    /// Siril 1.0 clips float data to [0, 1] on read (measured: 4.2 came back as 1.0), and dividing by a
    /// power of two is exact, so the values survive the round trip bit for bit.
    public static func sirilScale(maxAbs: Float) -> Float {
        guard maxAbs.isFinite, maxAbs > 1 else { return 1 }
        var s: Float = 1
        while maxAbs / s > 1 { s *= 2 }
        return s
    }

    /// The siril engine: averages `paths` with `siril-cli -d WORK -s script.ssf` in a private temporary
    /// directory (HOME is a temporary directory too, so no user configuration is read or written).
    ///
    /// What siril receives: copies of the frames divided by `sirilScale` (siril clips floats to [0, 1])
    /// with NaN replaced by 0 (siril cannot skip NaN). What comes back: siril's mean times the scale at
    /// every pixel where all frames are finite; where some are not, the NaN-aware native mean (siril's
    /// value there would count the zeros). Throws `StepError.externalTool` when siril-cli is missing
    /// (with the apt-get hint) or fails (with its log tail).
    public static func sirilAverage(_ paths: [String], threads: Int = 1, node: String = NodeName.stack) throws -> (image: Image, log: [String]) {
        guard let siril = ExternalTool.find("siril-cli") else {
            throw StepError.externalTool(tool: "siril-cli", message: "not found in PATH; install it (apt-get install siril) "
                + "or set stacking.engine: native")
        }
        let native = try nativeAverage(paths, trackComplete: true, node: node)
        guard paths.count >= 2 else {
            return (native.image, ["siril needs 2 frames to stack; 1 synthetic frame, copied by the native engine"])
        }
        let fm = FileManager.default
        let work = (NSTemporaryDirectory() as NSString).appendingPathComponent("tcbuild-siril-stack-\(getpid())-\(UUID().uuidString)")
        defer { try? fm.removeItem(atPath: work) }
        do {
            try fm.createDirectory(atPath: work + "/in", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: work + "/home", withIntermediateDirectories: true)
        } catch {
            throw StepError.externalTool(tool: "siril-cli", message: "cannot prepare the work directory \(work): \(error)")
        }
        // Pass 1: the scale. Pass 2: scaled, NaN-free copies (one frame in memory at a time).
        var maxAbs: Float = 0
        for p in paths {
            let img = try readFrame(p, node: node)
            for v in img.pixels where v.isFinite { maxAbs = max(maxAbs, abs(v)) }
        }
        let scale = sirilScale(maxAbs: maxAbs)
        for (k, p) in paths.enumerated() {
            var img = try readFrame(p, node: node)
            img.pixels.withUnsafeMutableBufferPointer { px in
                for i in 0..<px.count { px[i] = px[i].isFinite ? px[i] / scale : 0 }
            }
            let copy = work + "/in/" + String(format: "syn_%05d.fit", k + 1)
            do { try FITS.write(img, to: copy, as: .float32) } catch {
                throw StepError.externalTool(tool: "siril-cli", message: "cannot write its input \(copy): \(error)")
            }
        }
        let scriptPath = work + "/script.ssf"
        do { try sirilScript(threads: threads).write(toFile: scriptPath, atomically: true, encoding: .utf8) } catch {
            throw StepError.externalTool(tool: "siril-cli", message: "cannot write \(scriptPath): \(error)")
        }
        let (status, log) = ExternalTool.run(siril, ["-d", work, "-s", scriptPath], environment: ["HOME": work + "/home"])
        let tail = log.split(whereSeparator: \.isNewline).filter { !$0.contains("progress:") }.suffix(15).joined(separator: "\n")
        let resultPath = work + "/result.fit"
        guard status == 0, fm.fileExists(atPath: resultPath) else {
            throw StepError.externalTool(tool: "siril-cli", message: "stacking failed (exit status \(status)). Log tail:\n\(tail)")
        }
        let result: Image
        do { result = try FITS.read(resultPath) } catch {
            throw StepError.externalTool(tool: "siril-cli", message: "its result \(resultPath) is unreadable: \(error)")
        }
        var out = native.image
        guard result.width == out.width, result.height == out.height, result.channels == out.channels,
              let complete = native.complete else {
            throw StepError.externalTool(tool: "siril-cli", message: "its result is \(result.width)x\(result.height)x\(result.channels), "
                + "expected \(out.width)x\(out.height)x\(out.channels). Log tail:\n\(tail)")
        }
        var maxDiff: Float = 0
        var fromSiril = 0
        out.pixels.withUnsafeMutableBufferPointer { o in
            result.pixels.withUnsafeBufferPointer { r in
                complete.withUnsafeBufferPointer { c in
                    for i in 0..<o.count where c[i] {
                        let v = r[i] * scale
                        maxDiff = max(maxDiff, abs(v - o[i]))
                        o[i] = v
                        fromSiril += 1
                    }
                }
            }
        }
        return (out, ["siril-cli average of \(paths.count) synthetic frames (values divided by \(scale) for siril)",
                      "\(fromSiril) of \(out.pixels.count) values from siril, the rest (some input NaN) native; "
                      + "max |siril - native| = \(maxDiff)"])
    }

    static func readFrame(_ path: String, node: String) throws -> Image {
        do { return try FITS.read(path) } catch {
            throw StepError.badArtifact(node: node, message: "synthetic frame \(path) unreadable: \(error)")
        }
    }
}
