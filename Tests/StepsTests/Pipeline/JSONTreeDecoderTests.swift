import Foundation
import Testing
import TestSupport
@testable import Imaging
@testable import Steps

/// `JSONTreeDecoder` gives exactly `JSONDecoder`'s values, or nil (then `Artifacts.readJSON` uses `JSONDecoder`).
struct JSONTreeDecoderTests {
    struct Inner: Codable, Equatable {
        var name: String
        var values: [Double]
        var flag: Bool
        var note: String?
    }

    struct Outer: Codable, Equatable {
        var count: Int
        var big: Int64
        var small: Int8
        var unsigned: UInt64
        var ratio: Double
        var inner: [Inner]
        var table: [String: [Int]]
        var missing: Double?
        var present: Double?
        var mode: TCConfig.NormalizationMode
        var nested: [[Double]]
    }

    private func viaJSONDecoder<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        try JSONDecoder().decode(T.self, from: data)
    }

    /// Doubles of every magnitude and precision (shortest round-trip text, as `JSONEncoder` writes
    /// them, plus 7-significant-digit roundings as the measure artifacts hold): bit for bit the same.
    @Test func doublesAreCorrectlyRounded() throws {
        var rng = TestRNG(seed: 12)
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1e22, 1e23, 9007199254740993, 5e-324, 1.7976931348623157e308,
                                2.2250738585072014e-308, 123456789012345678, 0.000001234, 3.834606, 1415.749]
        for _ in 0..<20_000 {
            let magnitude = pow(10, rng.uniform() * 40 - 20)
            let x = (rng.uniform() - 0.5) * magnitude
            values.append(x)
            values.append(Measure.rounded(x))
            values.append(Double(Float(x)))
        }
        let data = try JSONEncoder().encode(values)
        let tree = try #require(JSONTreeDecoder.decode([Double].self, from: data))
        let reference = try viaJSONDecoder([Double].self, data)
        #expect(tree.count == reference.count)
        #expect(zip(tree, reference).allSatisfy { $0.bitPattern == $1.bitPattern })
        // Hand-written spellings: exponents, leading zeros in fractions, long significands (strtod path).
        let text = "[1E2, 1e-2, 2.5e+3, -0.0, 0.0000000000000000000000001, 12345678901234567890123, 1.00000000000000011102230246251565404236316680908203125]"
        let t2 = try #require(JSONTreeDecoder.decode([Double].self, from: Data(text.utf8)))
        let r2 = try viaJSONDecoder([Double].self, Data(text.utf8))
        #expect(zip(t2, r2).allSatisfy { $0.bitPattern == $1.bitPattern } && t2.count == 7)
    }

    /// Structs, optionals (absent and null), dictionaries, enums, nested arrays, escaped strings.
    @Test func structuresDecodeAsJSONDecoderDoes() throws {
        let value = Outer(count: 42, big: -9_007_199_254_740_993, small: -128, unsigned: UInt64.max, ratio: 0.1,
                          inner: [Inner(name: "a \"quoted\" \\ name\n\t/é ✓ 𝄞", values: [1, 2.5, -3e-7], flag: true, note: nil),
                                  Inner(name: "", values: [], flag: false, note: "x")],
                          table: ["k": [1, 2], "ümlaut": []], missing: nil, present: 2,
                          mode: .median, nested: [[], [1], [2, 3]])
        let data = try Artifacts.encoder().encode(value)
        #expect(JSONTreeDecoder.decode(Outer.self, from: data) == value)
        // null for an optional, \u escapes with a surrogate pair, compact spelling.
        let text = #"{"name":"\u00e9\ud834\udd1e\u0041","values":[1,2],"flag":false,"note":null}"#
        let inner = try #require(JSONTreeDecoder.decode(Inner.self, from: Data(text.utf8)))
        #expect(inner == (try viaJSONDecoder(Inner.self, Data(text.utf8))))
        #expect(inner.name == "é𝄞A" && inner.note == nil)
    }

    /// What the decoder does not model exactly like `JSONDecoder` is refused (nil), never guessed.
    @Test func refusesWhatItDoesNotModel() throws {
        #expect(JSONTreeDecoder.decode([Float].self, from: Data("[0.1]".utf8)) == nil)
        #expect(JSONTreeDecoder.decode(Date.self, from: Data("12.5".utf8)) == nil)
        #expect(JSONTreeDecoder.decode([Double].self, from: Data("[1] x".utf8)) == nil)
        #expect(JSONTreeDecoder.decode([Double].self, from: Data("[1,]".utf8)) == nil)
        #expect(JSONTreeDecoder.decode([Double].self, from: Data("[01]".utf8)) == nil)
        #expect(JSONTreeDecoder.decode([Int].self, from: Data("[1.5]".utf8)) == nil)
        #expect(JSONTreeDecoder.decode([Int8].self, from: Data("[128]".utf8)) == nil)
        #expect(JSONTreeDecoder.decode([String].self, from: Data(#"["\ud800"]"#.utf8)) == nil)
        #expect(JSONTreeDecoder.decode(Inner.self, from: Data(#"{"name":"a","values":[],"flag":1}"#.utf8)) == nil)
        #expect(JSONTreeDecoder.decode(Inner.self, from: Data(#"{"na\u006de":"a","values":[],"flag":true}"#.utf8)) == nil)
        #expect(JSONTreeDecoder.decode([Double].self, from: Data()) == nil)
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(JSONTreeDecoder.decode([[Double]].self, from: Data(deep.utf8)) == nil)
        #expect(JSONTreeDecoder.decode([Int].self, from: Data("[9223372036854775808]".utf8)) == nil)
        #expect(JSONTreeDecoder.decode([Int].self, from: Data("[-9223372036854775808, 7]".utf8)) == [Int.min, 7])
    }

    /// The artifacts the pipeline decodes most: a measure artifact and a star list, through
    /// `Artifacts.readJSON`, equal `JSONDecoder`'s.
    @Test func measureArtifactsRoundTrip() throws {
        var rng = TestRNG(seed: 3)
        let stars = (0..<500).map { i in
            MeasuredStar(x: Measure.rounded(rng.uniform() * 1024), y: Measure.rounded(rng.uniform() * 768),
                         fwhm: Measure.rounded(2 + rng.uniform() * 3), roundness: Measure.rounded(rng.uniform()),
                         ellipticity: Measure.rounded(rng.uniform() * 0.5), contrast: Measure.rounded(rng.uniform() * 1e4),
                         snr: Measure.rounded(rng.uniform() * 1e4), saturated: i % 17 == 0,
                         flux: i % 5 == 0 ? nil : Measure.rounded(rng.uniform() * 1e3))
        }
        let m = FrameMeasurement(width: 1024, height: 768,
                                 channels: [ChannelMeasurement(background: 1415.749, noise: 0.01840421, gradient: 0.05609273)],
                                 coverage: 0.9911877, starCount: stars.count, fwhm: 3.834606, stars: stars)
        let dir = try TemporaryDirectory()
        let path = dir.path + "/measure.json"
        try Artifacts.encoder().encode(m).write(to: URL(fileURLWithPath: path))
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(JSONTreeDecoder.decode(FrameMeasurement.self, from: data) == m)
        #expect(try Artifacts.readJSON(FrameMeasurement.self, path: path, node: "measure/00000") == m)
        // A bad artifact still gets JSONDecoder's error, naming the file.
        try Data("{\"width\": 1}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: StepError.self) { try Artifacts.readJSON(FrameMeasurement.self, path: path, node: "measure/00000") }
    }
}

/// `JSONTreeEncoder` writes exactly `Artifacts.encoder()`'s bytes, or nil.
struct JSONTreeEncoderTests {
    struct Row: Codable, Equatable {
        var label: String
        var value: Double
        var scale: Float
        var count: Int
        var flag: Bool?
        var items: [Double]
        var nested: [[Int]]
        var table: [String: Double]
        var byIndex: [Int: String]
        var mode: TCConfig.NormalizationMode
    }

    private func reference<T: Encodable>(_ value: T) throws -> Data { try Artifacts.encoder().encode(value) }

    /// Random rows of every kind of value (doubles of every magnitude, floats, escapes and non-ASCII
    /// text, empty and nested containers, keys that sort by bytes): byte for byte `JSONEncoder`'s.
    @Test func bytesEqualJSONEncoder() throws {
        var rng = TestRNG(seed: 44)
        let texts = ["", "plain", "quote \" backslash \\ slash / tab \t newline \n cr \r", "\u{8}\u{c}\u{1}\u{1f}\u{7f}",
                     "é ✓ 𝄞 \u{2028}", "data.saturation_level"]
        let keys = ["Z", "a", "a.b", "a10", "a2", "aB", "a_b", "é", "e", "x y"]
        var rows: [Row] = []
        for i in 0..<400 {
            let magnitude = pow(10, rng.uniform() * 40 - 20)
            let x = (rng.uniform() - 0.5) * magnitude
            let special: [Double] = [0, -0.0, 3, 1e15, 1e16, 9007199254740993, 5e-324, 1.7976931348623157e308, 0.1, 1e-5, 2.5e-7]
            var table: [String: Double] = [:]
            for k in keys.prefix(i % keys.count) { table[k] = Measure.rounded(x * rng.uniform()) }
            rows.append(Row(label: texts[i % texts.count], value: i % 3 == 0 ? special[i % special.count] : x,
                            scale: Float(x), count: Int(rng.next() >> 1) * (i % 2 == 0 ? 1 : -1),
                            flag: i % 4 == 0 ? nil : i % 4 == 1, items: (0..<(i % 5)).map { _ in Measure.rounded(rng.normal()) },
                            nested: i % 7 == 0 ? [] : [[], [i, -i]], table: table,
                            byIndex: i % 3 == 0 ? [:] : [i + 100: "v\(i)", -1: "neg", 10: "ten"], mode: i % 2 == 0 ? .median : .background))
        }
        let fast = try #require(JSONTreeEncoder.encode(rows))
        let slow = try reference(rows)
        #expect(fast == slow)
        for row in rows.prefix(50) { #expect(JSONTreeEncoder.encode(row) == (try reference(row))) }
        // Top-level scalars and empty containers.
        #expect(JSONTreeEncoder.encode(3.0) == (try reference(3.0)))
        #expect(JSONTreeEncoder.encode("top") == (try reference("top")))
        #expect(JSONTreeEncoder.encode([Int]()) == (try reference([Int]())))
        #expect(JSONTreeEncoder.encode([String: Int]()) == (try reference([String: Int]())))
        #expect(JSONTreeEncoder.encode(Optional<Int>.none) == (try reference(Optional<Int>.none)))
        // The artifacts the pipeline writes most.
        var srng = TestRNG(seed: 5)
        let stars = (0..<300).map { _ in
            StarMeasurement(x: srng.uniform() * 1024, y: srng.uniform() * 768, flux: srng.uniform() * 1e5, peak: srng.uniform() * 1e4,
                            background: 1000 + srng.uniform(), fwhm: 2 + srng.uniform() * 3, fwhmMajor: 3, fwhmMinor: 2.5,
                            roundness: srng.uniform(), ellipticity: srng.uniform() * 0.5, contrast: srng.uniform() * 100,
                            snr: srng.uniform() * 1000, angle: srng.uniform() * 3, residualRMS: srng.uniform())
        }
        #expect(JSONTreeEncoder.encode(stars) == (try reference(stars)))
    }

    /// What it does not model gives nil (the caller then uses `JSONEncoder`).
    @Test func refusesWhatItDoesNotModel() {
        #expect(JSONTreeEncoder.encode([Double.nan]) == nil)
        #expect(JSONTreeEncoder.encode([Double.infinity]) == nil)
        #expect(JSONTreeEncoder.encode(Date(timeIntervalSinceReferenceDate: 5)) == nil)
        #expect(JSONTreeEncoder.encode(["d": Data([1, 2])]) == nil)
        #expect(JSONTreeEncoder.encode(URL(fileURLWithPath: "/tmp")) == nil)
        struct Twice: Encodable {
            enum K: String, CodingKey { case a }
            func encode(to e: any Encoder) throws {
                var c = e.container(keyedBy: K.self)
                try c.encode(1, forKey: .a)
                try c.encode(2, forKey: .a)
            }
        }
        #expect(JSONTreeEncoder.encode(Twice()) == nil)
        struct Nothing: Encodable { func encode(to e: any Encoder) throws {} }
        #expect(JSONTreeEncoder.encode([Nothing()]) == nil)
    }
}

extension JSONTreeEncoderTests {
    /// A super encoder is not modelled: nil, whatever the container.
    @Test func superEncodersAreRefused() {
        class Base: Encodable {
            var a = 1
            enum K: String, CodingKey { case a }
            func encode(to e: any Encoder) throws { var c = e.container(keyedBy: K.self); try c.encode(a, forKey: .a) }
        }
        final class Derived: Base {
            var b = 2
            enum L: String, CodingKey { case b }
            override func encode(to e: any Encoder) throws {
                var c = e.container(keyedBy: L.self)
                try c.encode(b, forKey: .b)
                try super.encode(to: c.superEncoder())
            }
        }
        #expect(JSONTreeEncoder.encode(Derived()) == nil)
        #expect(JSONTreeEncoder.encode(Base()) == (try? Artifacts.encoder().encode(Base())))
    }
}
