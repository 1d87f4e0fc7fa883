import Foundation
import Imaging
import Testing
import TestSupport

/// The cosmetic correction as a sparse patch (`stars/NNNNN#cosmetic`, applied by `register/NNNNN`).
@Suite("pixel patch")
struct PixelPatchTests {
    /// A frame with stars, hot and dead pixels (mono and a mosaic-like step-2 plane).
    static func spiky(seed: UInt64) -> Image {
        var im = CosmeticTests.frame(width: 96, height: 64, fwhm: 2.5,
                                     stars: [(20, 15, 20000), (70.3, 40.6, 3000), (40.5, 50.2, 300)], seed: seed)
        var rng = TestRNG(seed: seed &+ 7)
        for k in 0..<25 {
            let x = 4 + Int(rng.next() % 88), y = 4 + Int(rng.next() % 56)
            im[x, y] += k % 3 == 0 ? -700 : 3000
        }
        return im
    }

    @Test("applying the patch to the raw frame gives the corrected frame bit for bit, through its encoding", arguments: [1, 2])
    func reproducesTheCorrection(step: Int) throws {
        let raw = Self.spiky(seed: UInt64(step))
        var corrected = raw
        let fixed = Cosmetic.correctSpikes(&corrected, step: step)
        #expect(fixed.hot + fixed.dead >= 10, "\(fixed)")
        let patch = PixelPatch(before: raw, after: corrected, hot: fixed.hot, dead: fixed.dead)
        #expect(patch.entries.count == fixed.hot + fixed.dead)
        let decoded = try #require(PixelPatch(data: patch.encoded()))
        #expect(decoded == patch)
        #expect(decoded.hot == fixed.hot && decoded.dead == fixed.dead)
        var applied = raw
        try decoded.apply(to: &applied)
        #expect(applied.pixels.map(\.bitPattern) == corrected.pixels.map(\.bitPattern))
    }

    @Test("a patch refuses an image of another size, and bytes that are not a patch decode to nil")
    func refusesWhatDoesNotFit() throws {
        let raw = Self.spiky(seed: 3)
        var corrected = raw
        let fixed = Cosmetic.correctSpikes(&corrected, step: 1)
        let patch = PixelPatch(before: raw, after: corrected, hot: fixed.hot, dead: fixed.dead)
        var small = Image(width: 10, height: 10)
        #expect(throws: PixelPatch.Mismatch.self) { try patch.apply(to: &small) }
        let bytes = patch.encoded()
        #expect(PixelPatch(data: bytes.dropLast(3)) == nil)             // truncated
        #expect(PixelPatch(data: Data("TCPATCH0".utf8) + bytes.dropFirst(8)) == nil)  // wrong magic
        #expect(PixelPatch(data: Data()) == nil)
        let empty = PixelPatch(pixelCount: raw.pixels.count)
        #expect(PixelPatch(data: empty.encoded()) == empty)
        var same = raw
        try empty.apply(to: &same)
        #expect(same.pixels.map(\.bitPattern) == raw.pixels.map(\.bitPattern))
    }
}
