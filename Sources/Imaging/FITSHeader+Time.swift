import Foundation

/// When an exposure started and which keywords said so.
public struct ObservationTime: Sendable, Equatable {
    /// The start of the exposure (UTC).
    public var date: Date
    /// The keywords it came from: `DATE-OBS`, `DATE-OBS+TIME-OBS` (a date-only DATE-OBS with the time of
    /// day from TIME-OBS, UT-OBS or UT), `DATE+UT-OBS`, `UT-OBS`, `MJD-OBS` or `DATE-END` (minus the exposure).
    public var source: String

    /// A time and its source.
    public init(date: Date, source: String) {
        self.date = date
        self.source = source
    }
}

extension FITSHeader {
    /// When the exposure started (UTC), from the first usable of: DATE-OBS (ISO 8601, with or without
    /// fractional seconds, `Z` or a `+hh:mm` offset; a date-only DATE-OBS takes its time from TIME-OBS
    /// or UT-OBS), UT-OBS with DATE (or a full date-time in UT-OBS), MJD-OBS (modified Julian date),
    /// DATE-END minus the exposure. Nil when none parses (callers then fall back to file order).
    public var observationTime: Date? { observation?.date }

    /// `observationTime` and the keywords it came from.
    public var observation: ObservationTime? {
        func text(_ k: String) -> String? {
            keywords[k]?.stringValue?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        }
        if let d = text("DATE-OBS") {
            // A date alone takes its time of day from TIME-OBS / UT-OBS / UT when one is there.
            if d.count == 10 {
                for k in ["TIME-OBS", "UT-OBS", "UT"] {
                    if let time = text(k), let t = FITSTime.parse(d + "T" + time) { return ObservationTime(date: t, source: "DATE-OBS+" + k) }
                }
            }
            if let t = FITSTime.parse(d) { return ObservationTime(date: t, source: "DATE-OBS") }
        }
        if let ut = text("UT-OBS") {
            if let date = text("DATE"), let t = FITSTime.parse(date.prefix(10) + "T" + ut) { return ObservationTime(date: t, source: "DATE+UT-OBS") }
            if let t = FITSTime.parse(ut) { return ObservationTime(date: t, source: "UT-OBS") }
        }
        if let mjd = keywords["MJD-OBS"]?.doubleValue, mjd > 0 { return ObservationTime(date: FITSTime.date(mjd: mjd), source: "MJD-OBS") }
        if let end = text("DATE-END").flatMap(FITSTime.parse) {
            return ObservationTime(date: end.addingTimeInterval(-(exposure ?? 0)), source: "DATE-END")
        }
        return nil
    }
}

/// FITS date-time strings (FITS standard 4.0, section 9.1.1, plus the variants capture programs write).
public enum FITSTime {
    /// Parses `YYYY-MM-DDThh:mm:ss[.sss][Z|±hh:mm|±hhmm]` (also with a space instead of `T`, and
    /// without seconds); an offset is applied, so the result is UTC. A date alone is midnight UTC.
    public static func parse(_ text: String) -> Date? {
        var s = text.trimmingCharacters(in: .whitespaces)
        guard s.count >= 10 else { return nil }
        var offset = 0.0
        if s.hasSuffix("Z") || s.hasSuffix("z") { s.removeLast() }
        // A trailing zone offset after the time part (the date's own '-' are at positions 4 and 7).
        if let sign = s.lastIndex(where: { $0 == "+" || $0 == "-" }), s.distance(from: s.startIndex, to: sign) > 10 {
            let zone = s[s.index(after: sign)...].replacingOccurrences(of: ":", with: "")
            guard zone.count == 4 || zone.count == 2, let v = Int(zone) else { return nil }
            let minutes = zone.count == 4 ? (v / 100) * 60 + v % 100 : v * 60
            offset = Double(minutes * 60) * (s[sign] == "+" ? 1 : -1)
            s = String(s[..<sign])
        }
        let parts = s.split(whereSeparator: { $0 == "T" || $0 == " " }).map(String.init)
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        guard date.count == 3, (1...12).contains(date[1]), (1...31).contains(date[2]) else { return nil }
        var hour = 0, minute = 0, second = 0.0
        if parts.count > 1 {
            let time = parts[1].split(separator: ":")
            guard time.count >= 2, let h = Int(time[0]), let m = Int(time[1]), (0...23).contains(h), (0...59).contains(m) else { return nil }
            hour = h
            minute = m
            if time.count > 2 { guard let sec = Double(time[2]), sec >= 0, sec < 61 else { return nil }; second = sec }
        }
        var c = DateComponents()
        c.year = date[0]; c.month = date[1]; c.day = date[2]; c.hour = hour; c.minute = minute
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let base = calendar.date(from: c) else { return nil }
        return base.addingTimeInterval(second - offset)
    }

    /// The date of a modified Julian date (MJD 40587 = 1970-01-01).
    public static func date(mjd: Double) -> Date { Date(timeIntervalSince1970: (mjd - 40587) * 86400) }
}

extension String {
    /// Nil for an empty string.
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
