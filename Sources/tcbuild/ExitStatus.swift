import ArgumentParser
import Cache
import Graph
import Steps

/// A usage or input error: message to stderr, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// A run in which nodes failed: exit status 1 (everything that finished is recorded).
struct RunFailed: Error, CustomStringConvertible {
    let report: RunReport
    var description: String {
        (report.failed.sorted { $0.key < $1.key }.map { $0.value.hasPrefix("node '") ? $0.value : "node '\($0.key)' failed: \($0.value)" }
            + [String(describing: GraphError.runFailed(failed: report.failed.keys.sorted()))]).joined(separator: "\n")
    }
}

/// Maps tcbuild's errors to the exit statuses the CLI promises: 0 ok, 1 failed run or validation
/// abort, 2 usage, config or workspace error (e.g. the workspace is locked). Nil for errors that are
/// not tcbuild's (ArgumentParser's help and usage errors handle themselves).
enum ExitStatus {
    static func code(for error: Error) -> Int32? {
        switch error {
        case is RunFailed: return 1
        case is UsageError, is CacheError, is GraphError, is SQLiteError, is ConfigError, is StepError: return 2
        default: return nil
        }
    }
}
