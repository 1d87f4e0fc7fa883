/// Errors of the report. Reading problems never stop the report (the section says what it could
/// not read); only failing to write the page throws.
public enum ReportError: Error, CustomStringConvertible, Equatable {
    /// The report file could not be written.
    case cannotWrite(path: String, message: String)
    /// An input artifact is not in the format the report expects (shown inside its section).
    case badInput(path: String, message: String)

    public var description: String {
        switch self {
        case .cannotWrite(let p, let m):
            return "cannot write the report to \(p): \(m); check that the directory exists and is writable"
        case .badInput(let p, let m):
            return "\(p): \(m); the report shows the other sections, run 'tcbuild verify' if the artifact looks damaged"
        }
    }
}
