import Foundation
import Imaging
import Testing
import TestSupport

/// The FFTW wrapper: layout, normalization, agreement with a direct DFT, fast sizes.
@Suite("FFT2D")
struct FFT2DTests {
    @Test("forward matches a direct DFT; inverse(forward(x)) = width * height * x; identical bytes on two threads")
    func roundTrip() {
        let w = 12, h = 10
        let fft = FFT2D(width: w, height: h)
        #expect(fft.spectrumCount == h * (w / 2 + 1))
        var rng = TestRNG(seed: 3)
        let x = (0..<(w * h)).map { _ in rng.normal() }
        let b = fft.makeBuffers()
        for i in x.indices { b.real[i] = x[i] }
        fft.forward(b)
        for (ky, kx) in [(0, 0), (1, 2), (3, 6), (9, 5)] {
            var re = 0.0, im = 0.0
            for y in 0..<h {
                for xx in 0..<w {
                    let a = -2 * Double.pi * (Double(kx * xx) / Double(w) + Double(ky * y) / Double(h))
                    re += x[y * w + xx] * cos(a)
                    im += x[y * w + xx] * sin(a)
                }
            }
            let k = ky * (w / 2 + 1) + kx
            #expect(abs(b.spectrum[2 * k] - re) < 1e-9 && abs(b.spectrum[2 * k + 1] - im) < 1e-9)
        }
        let spectrum = (0..<(2 * fft.spectrumCount)).map { b.spectrum[$0] }
        fft.inverse(b)
        for i in x.indices { #expect(abs(b.real[i] / Double(w * h) - x[i]) < 1e-12) }
        // The same transform on another thread, other buffers: the same bytes.
        let other = fft.makeBuffers()
        for i in x.indices { other.real[i] = x[i] }
        DispatchQueue.concurrentPerform(iterations: 2) { i in if i == 1 { fft.forward(other) } }
        #expect((0..<(2 * fft.spectrumCount)).map { other.spectrum[$0].bitPattern } == spectrum.map(\.bitPattern))
    }

    @Test("goodSize: the smallest 2-3-5-7 number at or above the minimum")
    func goodSizes() {
        #expect(FFT2D.goodSize(157) == 160)
        #expect(FFT2D.goodSize(11) == 12)
        #expect(FFT2D.goodSize(128) == 128)
        #expect(FFT2D.goodSize(1) == 1)
    }
}
