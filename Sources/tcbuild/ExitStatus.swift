import ArgumentParser
import Cache
import Executors
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
        case is RunFailed, is ValidationAbort: return 1
        case is UsageError, is CacheError, is GraphError, is SQLiteError, is ConfigError, is StepError, is ProcessError: return 2
        case let e as ExecutorError: return e.isSetupError ? 2 : 1
        default: return nil
        }
    }
}

/// Validation failed with `pipeline.abort_on_fail`: exit status 1, every artifact kept.
struct ValidationAbort: Error, CustomStringConvertible {
    let failed: [String]
    var description: String {
        "validation FAILED (\(failed.joined(separator: ", "))); the run is marked FAILED and every artifact is kept "
            + "(see validation.json and report.html; set pipeline.abort_on_fail: false to exit 0 anyway)"
    }
}

/// Prints the validation verdict and throws `ValidationAbort` when it failed and aborting is on.
func concludeValidation(_ validation: ValidationReport?, quiet: Bool) throws {
    guard let v = validation else { return }
    if !quiet || !v.passed {
        print("validation: \(v.passed ? "passed" : "FAILED")")
        for c in v.checks { print("  \(c.passed ? "ok  " : "FAIL") \(c.name): \(c.value.map { String(format: "%.4g", $0) } ?? "-") (limit \(String(format: "%.4g", c.limit)))") }
    }
    if !v.passed && v.abortOnFail { throw ValidationAbort(failed: v.checks.filter { !$0.passed }.map(\.name)) }
}
