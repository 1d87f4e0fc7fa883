import Foundation

/// A temporary directory removed when the value is deinitialized.
public final class TemporaryDirectory: @unchecked Sendable {
    /// Absolute path.
    public let path: String

    /// Creates `/tmp/tcbuild-test-<label>-XXXXXX`.
    public init(_ label: String = "t") {
        let base = (NSTemporaryDirectory() as NSString).standardizingPath
        var template = Array("\(base)/tcbuild-test-\(label)-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = p.map { String(cString: $0) } ?? "\(base)/tcbuild-test-\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/name`.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `text` to `path/name` and returns the path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let p = file(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    /// Writes the bytes `data` to `path/name` (creating intermediate directories) and returns the path.
    @discardableResult
    public func write(_ name: String, _ data: Data) throws -> String {
        let p = file(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: p))
        return p
    }
}

/// The built `tcbuild` executable next to the test bundle (SwiftPM builds it for the tests),
/// or `$TCBUILD_BIN`.
/// The package's root directory (holds Package.swift, docs/, workspace-template/).
public let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

public func tcbuildBinary() -> String {
    if let p = ProcessInfo.processInfo.environment["TCBUILD_BIN"] { return p }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("tcbuild").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/tcbuild").path
}

/// The result of a finished child process.
public struct ProcessResult: Sendable {
    /// Exit status (or 128 + signal).
    public let status: Int32
    /// Captured standard output.
    public let stdout: String
    /// Captured standard error.
    public let stderr: String
}

/// Runs `executable` with `arguments` to completion, capturing its output.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    return ProcessResult(status: status, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}
