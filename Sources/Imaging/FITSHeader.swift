/// A FITS header card value. Strings are unquoted and right-trimmed; FITS `D` exponents are accepted.
public enum FITSValue: Sendable, Equatable {
    case string(String), int(Int), double(Double), bool(Bool)

    /// The value as a number when it is `.int` or `.double` (a numeric string is not converted).
    /// The value as a number: `.int`, `.double`, or a string holding a number (`'60.0'`, as some
    /// capture programs write numeric keywords).
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "D", with: "E")
            return Double(t).flatMap { $0.isFinite ? $0 : nil }
        default: return nil
        }
    }

    /// The value as a string when it is `.string`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as an integer when it is `.int`, a `.double` with an integral value, or a string
    /// holding one.
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
        case .string: return doubleValue.flatMap { $0 == $0.rounded() && abs($0) < 9e15 ? Int($0) : nil }
        default: return nil
        }
    }

    /// Parses a raw FITS value field as cfitsio returns it (`'text  '`, `T`, `42`, `1.5D3`).
    /// Returns nil for an empty field (e.g. COMMENT/HISTORY cards or undefined values).
    static func parse(_ raw: String) -> FITSValue? {
        let s = raw.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return nil }
        if s.hasPrefix("'") {
            var body = s.dropFirst()
            if body.hasSuffix("'") { body = body.dropLast() }
            var text = Substring(String(body).replacingOccurrences(of: "''", with: "'"))
            while text.last == " " { text.removeLast() }
            return .string(String(text))
        }
        if s == "T" { return .bool(true) }
        if s == "F" { return .bool(false) }
        if let i = Int(s) { return .int(i) }
        let d = s.replacingOccurrences(of: "D", with: "E").replacingOccurrences(of: "d", with: "e")
        if let v = Double(d) { return .double(v) }
        return .string(s)
    }
}

/// One header card the caller wants written. `name` is upper-cased on write, at most 8 characters
/// for standard keywords (cfitsio writes longer names with the HIERARCH convention).
public struct FITSKeyword: Sendable, Equatable {
    /// Keyword name, e.g. `EXPTIME`, `TCBFP`.
    public var name: String
    /// Keyword value.
    public var value: FITSValue
    /// Card comment (may be empty).
    public var comment: String

    /// A keyword card; `comment` defaults to empty.
    public init(_ name: String, _ value: FITSValue, comment: String = "") {
        self.name = name
        self.value = value
        self.comment = comment
    }
}

/// The header of a FITS image, read without touching pixel data.
///
/// `width`/`height`/`channels` describe the image as `FITS.read` returns it (NAXIS1, NAXIS2,
/// NAXIS3 or 1). `bitpix` is the stored BITPIX (for tile-compressed files the uncompressed ZBITPIX);
/// `keywords` holds every valued card of the image HDU; for `.fz` files the header is the equivalent
/// uncompressed image header (BITPIX/NAXISn describe the image). Long-string CONTINUE cards keep only
/// their first part. Derived fields are nil when the keyword is absent.
public struct FITSHeader: Sendable {
    /// Image width in pixels (NAXIS1).
    public var width: Int
    /// Image height in pixels (NAXIS2).
    public var height: Int
    /// Number of planes (NAXIS3, or 1 for a 2-D image).
    public var channels: Int
    /// Stored BITPIX: 8, 16, 32, -32 or -64 (BZERO/BSCALE are in `keywords`).
    public var bitpix: Int
    /// All valued cards by upper-case name; on duplicates the last card wins.
    public var keywords: [String: FITSValue]
    /// Exposure time in seconds from EXPTIME, else EXPOSURE.
    public var exposure: Double?
    /// DATE-OBS as written (ISO 8601 expected, not parsed).
    public var dateObs: String?
    /// Bayer pattern from BAYERPAT (e.g. "RGGB"), upper-cased and trimmed; nil for mono.
    public var bayerPattern: String?
    /// Bayer offset from XBAYROFF/YBAYROFF; (0, 0) when absent.
    public var bayerOffset: (x: Int, y: Int)
    /// TAN (gnomonic) WCS when CTYPE1/2 are RA---TAN/DEC--TAN and CRVAL/CRPIX plus CD or CDELT are present.
    public var wcs: TANWCS?

    /// A header from its parts; derived fields (`exposure`, `dateObs`, `bayerPattern`, `bayerOffset`,
    /// `wcs`) are computed from `keywords`.
    public init(width: Int, height: Int, channels: Int, bitpix: Int, keywords: [String: FITSValue]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bitpix = bitpix
        self.keywords = keywords
        self.exposure = keywords["EXPTIME"]?.doubleValue ?? keywords["EXPOSURE"]?.doubleValue
        self.dateObs = keywords["DATE-OBS"]?.stringValue
        if let p = keywords["BAYERPAT"]?.stringValue?.trimmingCharacters(in: .whitespaces).uppercased(), !p.isEmpty {
            self.bayerPattern = p
        } else {
            self.bayerPattern = nil
        }
        self.bayerOffset = (keywords["XBAYROFF"]?.intValue ?? 0, keywords["YBAYROFF"]?.intValue ?? 0)
        self.wcs = TANWCS(keywords: keywords)
    }
}

import Foundation
