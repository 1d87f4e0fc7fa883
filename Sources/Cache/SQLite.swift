import CSQLite
import Foundation

/// A failure of the manifest database; names the database file and SQLite's message.
public struct SQLiteError: Error, CustomStringConvertible {
    /// The database path.
    public let path: String
    /// SQLite result code.
    public let code: Int32
    /// SQLite's message and the statement or action that failed.
    public let message: String

    public var description: String {
        "\(path): SQLite error \(code): \(message)"
            + (isDamage ? "; the manifest is damaged: 'tcbuild run' moves it aside and rebuilds it (docs/cli.md, damaged manifest)" : "")
    }

    /// True for the result codes of a damaged database file (malformed, not a database, short read).
    public var isDamage: Bool { code & 0xff == SQLITE_CORRUPT || code & 0xff == SQLITE_NOTADB || code == 522 /* SQLITE_IOERR_SHORT_READ */ }
}

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable {
    case int(Int64)
    case double(Double)
    case text(String)
    case null
}

/// One SQLite connection. Not thread-safe by itself: `Manifest` serializes access with a lock.
final class Database {
    let path: String
    private(set) var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Opens `path`. `readOnly` opens it with `mode=ro`; `immutable` also tells SQLite the file
    /// cannot change while open, so it needs no `-shm` file or lock (read-only storage, another
    /// user's workspace).
    init(path: String, readOnly: Bool = false, immutable: Bool = false) throws {
        self.path = path
        let flags = readOnly ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let name = readOnly ? "file:" + Database.uriEscaped(path) + (immutable ? "?immutable=1" : "?mode=ro") : path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(name, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        handle = db
        guard rc == SQLITE_OK else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            handle = nil
            throw SQLiteError(path: path, code: rc, message: msg)
        }
        sqlite3_busy_timeout(db, 5000)
        sqlite3_exec(db, "PRAGMA cache_size=\(-Database.pageCacheKiB)", nil, nil, nil)
    }

    /// The connection's page cache, KiB (SQLite's default is 2000). The opening's `quick_check` reads
    /// every page and a run touches most of them, so the cache fills to its bound: ~0.9 MB for a
    /// 100-frame manifest, the whole 2 MB from ~250 frames on. Pages it does not keep come from the
    /// operating system's file cache (one `pread` each); a no-op run over 300 frames is as fast.
    static let pageCacheKiB = 512

    /// `path` with the characters a SQLite URI reserves percent-encoded.
    static func uriEscaped(_ path: String) -> String {
        var out = ""
        for u in path.utf8 {
            if u == UInt8(ascii: "%") || u == UInt8(ascii: "?") || u == UInt8(ascii: "#") || u < 0x20 || u >= 0x7f {
                out += String(format: "%%%02X", u)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(u))
            }
        }
        return out
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close(handle)
    }

    private func error(_ rc: Int32, _ what: String) -> SQLiteError {
        SQLiteError(path: path, code: rc, message: "\(String(cString: sqlite3_errmsg(handle))) (\(what))")
    }

    /// Runs one or more statements without results.
    func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "?"
            sqlite3_free(err)
            throw SQLiteError(path: path, code: rc, message: "\(msg) (\(sql.prefix(80)))")
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let s = statements[sql] {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
            return s
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, String(sql.prefix(80))) }
        statements[sql] = stmt
        return stmt
    }

    private func bind(_ stmt: OpaquePointer, _ values: [SQLValue]) throws {
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .int(let x): rc = sqlite3_bind_int64(stmt, idx, x)
            case .double(let x): rc = sqlite3_bind_double(stmt, idx, x)
            case .text(let s): rc = tc_sqlite3_bind_text(stmt, idx, s, -1)
            case .null: rc = sqlite3_bind_null(stmt, idx)
            }
            guard rc == SQLITE_OK else { throw error(rc, "bind \(idx)") }
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ sql: String, _ values: [SQLValue] = []) throws {
        let stmt = try prepared(sql)
        defer { sqlite3_reset(stmt) }
        try bind(stmt, values)
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error(rc, String(sql.prefix(80))) }
    }

    /// Runs a query and returns every row as an array of values.
    func query(_ sql: String, _ values: [SQLValue] = []) throws -> [[SQLValue]] {
        let stmt = try prepared(sql)
        defer { sqlite3_reset(stmt) }
        try bind(stmt, values)
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc, String(sql.prefix(80))) }
            let n = sqlite3_column_count(stmt)
            var row: [SQLValue] = []
            row.reserveCapacity(Int(n))
            for c in 0..<n {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: row.append(.double(sqlite3_column_double(stmt, c)))
                case SQLITE_NULL: row.append(.null)
                default: row.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Row id of the last insert.
    var lastInsertID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in one transaction (BEGIN IMMEDIATE ... COMMIT), rolling back on error.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try exec("COMMIT")
            return result
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }
}

extension SQLValue {
    /// The integer value (0 for anything else).
    public var int: Int64 {
        switch self {
        case .int(let x): return x
        case .double(let x): return Int64(x)
        case .text(let s): return Int64(s) ?? 0
        case .null: return 0
        }
    }
    /// The double value (0 for anything else).
    public var double: Double {
        switch self {
        case .int(let x): return Double(x)
        case .double(let x): return x
        case .text(let s): return Double(s) ?? 0
        case .null: return 0
        }
    }
    /// The text value ("" for null).
    public var text: String {
        switch self {
        case .int(let x): return String(x)
        case .double(let x): return String(x)
        case .text(let s): return s
        case .null: return ""
        }
    }
}
