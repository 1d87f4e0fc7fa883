import CFITSIO
import Foundation

/// Owns one open `fitsfile*` and closes it exactly once (RAII). Internal: C stays at this edge.
///
/// Files are opened with the disk-file entry points (`ffdkopn`/`ffdkinit`), so a path containing
/// `[`, `(` or `!` is taken literally rather than parsed as cfitsio's extended file-name syntax.
final class FITSFile {
    let path: String
    private(set) var pointer: UnsafeMutablePointer<fitsfile>?
    /// For a file in memory (`createInMemory`): where cfitsio keeps the buffer's address and size
    /// (it reallocates through them), freed after the handle is closed.
    private var memory: (buffer: UnsafeMutablePointer<UnsafeMutableRawPointer?>, size: UnsafeMutablePointer<Int>)?

    private init(path: String, pointer: UnsafeMutablePointer<fitsfile>?) {
        self.path = path
        self.pointer = pointer
    }

    /// Creates a new, empty FITS file in memory (`ffimem`), e.g. to have cfitsio format a header.
    /// Errors name `reportAs`.
    static func createInMemory(reportAs: String) throws -> FITSFile {
        let buffer = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        let size = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        buffer.initialize(to: nil)
        size.initialize(to: 0)
        var status: Int32 = 0
        var fptr: UnsafeMutablePointer<fitsfile>?
        ffimem(&fptr, buffer, size, 2880 * 4, realloc, &status)
        let file = FITSFile(path: reportAs, pointer: fptr)
        file.memory = (buffer, size)
        if status != 0 {
            throw FITSError.writeFailed(path: reportAs, status: status, cfitsio: FITSFile.cfitsioMessage(status))
        }
        return file
    }

    /// Opens an existing file read-only.
    static func open(_ path: String) throws -> FITSFile {
        guard FileManager.default.fileExists(atPath: path) else { throw FITSError.fileNotFound(path: path) }
        var status: Int32 = 0
        var fptr: UnsafeMutablePointer<fitsfile>?
        ffdkopn(&fptr, path, READONLY, &status)
        if status != 0 {
            let msg = FITSFile.cfitsioMessage(status)
            if fptr != nil { var s: Int32 = 0; ffclos(fptr, &s) }
            throw FITSError.cannotOpen(path: path, status: status, cfitsio: msg)
        }
        return FITSFile(path: path, pointer: fptr)
    }

    /// Creates a new file; `path` must not exist. Errors name `reportAs` (the user-visible path).
    static func create(_ path: String, reportAs: String) throws -> FITSFile {
        var status: Int32 = 0
        var fptr: UnsafeMutablePointer<fitsfile>?
        ffdkinit(&fptr, path, &status)
        if status != 0 {
            let msg = FITSFile.cfitsioMessage(status)
            if fptr != nil { var s: Int32 = 0; ffclos(fptr, &s) }
            throw FITSError.writeFailed(path: reportAs, status: status, cfitsio: msg)
        }
        return FITSFile(path: path, pointer: fptr)
    }

    /// Closes the file now and reports a failed flush (the deinit cannot report).
    func close() throws {
        guard let p = pointer else { return }
        pointer = nil
        var status: Int32 = 0
        ffclos(p, &status)
        if status != 0 {
            throw FITSError.writeFailed(path: path, status: status, cfitsio: FITSFile.cfitsioMessage(status))
        }
    }

    deinit {
        if let p = pointer {
            var status: Int32 = 0
            ffclos(p, &status)
        }
        if let memory {
            free(memory.buffer.pointee)
            memory.buffer.deallocate()
            memory.size.deallocate()
        }
    }

    /// Throws `make(status, message)` when `status` is non-zero.
    func check(_ status: Int32, _ make: (Int32, String) -> FITSError) throws {
        if status != 0 { throw make(status, FITSFile.cfitsioMessage(status)) }
    }

    /// cfitsio's status text (`ffgerr`) followed by its drained error-message stack (`ffgmsg`).
    static func cfitsioMessage(_ status: Int32) -> String {
        var text = [CChar](repeating: 0, count: 96)
        ffgerr(status, &text)
        var parts = [FITSFile.string(from: text)]
        var msg = [CChar](repeating: 0, count: 96)
        var guardCount = 0
        while ffgmsg(&msg) != 0, guardCount < 64 {
            let line = FITSFile.string(from: msg).trimmingCharacters(in: .whitespaces)
            if !line.isEmpty && !parts.contains(line) { parts.append(line) }
            guardCount += 1
        }
        return parts.joined(separator: " | ")
    }

    /// Decodes a NUL-terminated C character buffer filled by cfitsio.
    static func string(from buffer: [CChar]) -> String {
        let end = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
