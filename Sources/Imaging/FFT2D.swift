import CFFTW
import Foundation

/// A real 2-D discrete Fourier transform of one fixed size (FFTW 3, double precision), for kernels that
/// run many transforms of the same size on many threads.
///
/// Plans are made once, with `FFTW_ESTIMATE` (no timing measurements: the same size always gives the
/// same plan, so the same input always gives the same bytes), under one process-wide lock (FFTW's
/// planner is not thread-safe; executing a plan is). Every buffer comes from `fftw_malloc`, so each has
/// the alignment the plans were made for and every thread runs the very same codelets.
///
/// Layout: the real array is row-major `height x width`; the spectrum is row-major
/// `height x (width / 2 + 1)` complex values, interleaved (re, im) Doubles. `forward` is unnormalized
/// (`X(k) = sum_x x e^{-2 pi i k x / n}`), `inverse` too: inverse(forward(x)) = width * height * x.
public final class FFT2D: @unchecked Sendable {
    /// Columns of the real array.
    public let width: Int
    /// Rows of the real array.
    public let height: Int
    /// Complex values of the spectrum: `height * (width / 2 + 1)`.
    public var spectrumCount: Int { height * (width / 2 + 1) }

    private let forwardPlan: OpaquePointer
    private let inversePlan: OpaquePointer
    private static let planner = NSLock()

    /// `FFTW_ESTIMATE` (`1U << 6` in fftw3.h).
    private static let estimate = UInt32(1 << 6)

    /// Plans for `width x height` (both >= 1).
    public init(width: Int, height: Int) {
        precondition(width >= 1 && height >= 1, "FFT size must be positive")
        self.width = width
        self.height = height
        Self.planner.lock()
        defer { Self.planner.unlock() }
        let real = fftw_alloc_real(width * height)!
        let complex = fftw_alloc_complex(height * (width / 2 + 1))!
        defer {
            fftw_free(real)
            fftw_free(complex)
        }
        forwardPlan = fftw_plan_dft_r2c_2d(Int32(height), Int32(width), real, complex, Self.estimate)!
        inversePlan = fftw_plan_dft_c2r_2d(Int32(height), Int32(width), complex, real, Self.estimate)!
    }

    deinit {
        Self.planner.lock()
        fftw_destroy_plan(forwardPlan)
        fftw_destroy_plan(inversePlan)
        Self.planner.unlock()
    }

    /// A real array and a spectrum for one thread at a time (aligned by `fftw_malloc`, zero-filled).
    public final class Buffers: @unchecked Sendable {
        /// `height x width` real values.
        public let real: UnsafeMutablePointer<Double>
        /// `height x (width / 2 + 1)` complex values, interleaved (re, im).
        public let spectrum: UnsafeMutablePointer<Double>
        let realCount: Int, spectrumCount: Int

        init(realCount: Int, spectrumCount: Int) {
            self.realCount = realCount
            self.spectrumCount = spectrumCount
            real = fftw_alloc_real(realCount)!
            real.initialize(repeating: 0, count: realCount)
            let c = fftw_alloc_complex(spectrumCount)!
            spectrum = UnsafeMutableRawPointer(c).bindMemory(to: Double.self, capacity: 2 * spectrumCount)
            spectrum.initialize(repeating: 0, count: 2 * spectrumCount)
        }

        deinit {
            fftw_free(real)
            fftw_free(UnsafeMutableRawPointer(spectrum))
        }
    }

    /// Fresh buffers of this transform's size.
    public func makeBuffers() -> Buffers { Buffers(realCount: width * height, spectrumCount: spectrumCount) }

    /// `buffers.spectrum = DFT(buffers.real)` (the real array is kept).
    public func forward(_ buffers: Buffers) {
        check(buffers)
        fftw_execute_dft_r2c(forwardPlan, buffers.real, complexPointer(buffers.spectrum))
    }

    /// `buffers.real = inverse DFT(buffers.spectrum)`, unnormalized; the spectrum is overwritten.
    public func inverse(_ buffers: Buffers) {
        check(buffers)
        fftw_execute_dft_c2r(inversePlan, complexPointer(buffers.spectrum), buffers.real)
    }

    private func check(_ b: Buffers) {
        precondition(b.realCount == width * height && b.spectrumCount == spectrumCount, "buffers of another FFT size")
    }

    private func complexPointer(_ p: UnsafeMutablePointer<Double>) -> UnsafeMutablePointer<fftw_complex> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: fftw_complex.self)
    }

    /// The smallest n >= `minimum` whose prime factors are 2, 3, 5 and 7 only (FFTW's fast sizes).
    public static func goodSize(_ minimum: Int) -> Int {
        var n = max(1, minimum)
        while true {
            var m = n
            for p in [2, 3, 5, 7] { while m % p == 0 { m /= p } }
            if m == 1 { return n }
            n += 1
        }
    }
}
