/// Errors of the metric phases (normalization, global and local metrics, tile geometry).
/// Each names the frame or artifact involved and says what to do.
public enum MetricsError: Error, CustomStringConvertible, Equatable {
    /// A channel of a registered frame has no usable background to divide by.
    case noBackground(file: String, channel: Int, level: Double?)
    /// A registered frame has a size different from the frame list's.
    case sizeMismatch(file: String, width: Int, height: Int, expectedWidth: Int, expectedHeight: Int)
    /// Artifacts of one aggregate disagree (tile counts, channel counts, frame counts).
    case inconsistent(node: String, message: String)

    /// What is wrong, where, and what to do.
    public var description: String {
        switch self {
        case .noBackground(let f, let c, let level):
            let what = level.map { "its background level is \($0)" } ?? "it has no finite pixel"
            return "\(f): channel \(c) cannot be normalized because \(what); normalization divides by the "
                + "background, so frames must be linear with a positive sky level (not bias- or background-subtracted)"
        case .sizeMismatch(let f, let w, let h, let ew, let eh):
            return "\(f): registered frame is \(w)x\(h) but the series is \(ew)x\(eh); rerun registration "
                + "('tcbuild verify --rehash' if the store may be damaged)"
        case .inconsistent(let n, let m):
            return "node \(n): inconsistent inputs: \(m); run 'tcbuild verify --rehash' and rerun"
        }
    }
}
