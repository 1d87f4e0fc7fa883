import Foundation
import Testing
import TestSupport
@testable import Graph

@Suite struct DigestTests {
    @Test func knownXXH3Vectors() {
        // Reference values from the Python xxhash package (xxh3_128_hexdigest).
        #expect(Digest.of([UInt8]()).hex == "99aa06d3014798d86001c324468d497f")
        #expect(Digest.of(string: "tcbuild").hex == "52807c2d37aeaecc8b4355050928e0c0")
    }

    @Test func hexRoundTripAndOrdering() throws {
        let d = Digest.of(string: "abc")
        #expect(Digest(hex: d.hex) == d)
        #expect(Digest(hex: "xyz") == nil)
        #expect(d.short.count == 12)
        let json = try JSONEncoder().encode([d])
        #expect(try JSONDecoder().decode([Digest].self, from: json) == [d])
    }

    @Test func fileDigestMatchesBufferDigestAcrossChunks() throws {
        let dir = TemporaryDirectory("digest")
        var rng = TestRNG(seed: 7)
        let bytes = (0..<(3 << 20) + 123).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let path = dir.file("blob")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let (d, n) = try Digest.ofFile(atPath: path)
        #expect(n == Int64(bytes.count))
        #expect(d == Digest.of(bytes))
        #expect(throws: GraphError.self) { try Digest.ofFile(atPath: dir.file("missing")) }
    }

    @Test func fieldsAreLengthPrefixedSoConcatenationsDiffer() {
        var a = ContentHasher(); a.field("ab"); a.field("c")
        var b = ContentHasher(); b.field("a"); b.field("bc")
        let da = a.finalize(), db = b.finalize()
        #expect(da != db)
    }

    @Test func fingerprintDependsOnEveryIdentityPart() {
        let p1 = ParamSet(ToyGraph.Params(value: 1, cut: nil, sleepMs: 0))
        let p2 = ParamSet(ToyGraph.Params(value: 2, cut: nil, sleepMs: 0))
        let i = Digest.of(string: "x"), j = Digest.of(string: "y")
        let base = Fingerprint.compute(kind: "k", version: 1, params: p1, inputs: [("a", i)])
        #expect(base == Fingerprint.compute(kind: "k", version: 1, params: ParamSet(ToyGraph.Params(value: 1, cut: nil, sleepMs: 0)), inputs: [("a", i)]))
        #expect(base != Fingerprint.compute(kind: "k2", version: 1, params: p1, inputs: [("a", i)]))
        #expect(base != Fingerprint.compute(kind: "k", version: 2, params: p1, inputs: [("a", i)]))
        #expect(base != Fingerprint.compute(kind: "k", version: 1, params: p2, inputs: [("a", i)]))
        #expect(base != Fingerprint.compute(kind: "k", version: 1, params: p1, inputs: [("a", j)]))
        #expect(base != Fingerprint.compute(kind: "k", version: 1, params: p1, inputs: [("b", i)]))
    }

    @Test func paramsFlattenToKeyPaths() {
        struct Inner: Codable { var noise = 0.3; var gradient = 0.3 }
        struct P: Codable { var weights = Inner(); var clamp = [-3.0, 3.0]; var mode = "background" }
        let set = ParamSet(P())
        let paths = set.byPath
        #expect(paths["weights.noise"] == "0.3")
        #expect(paths["clamp"] == "[-3,3]")
        #expect(paths["mode"] == "\"background\"")
        #expect(set.flattened.map(\.path) == ["clamp", "mode", "weights.gradient", "weights.noise"])
        #expect(String(decoding: set.canonical, as: UTF8.self).hasPrefix("{\"clamp\""))
    }
}
