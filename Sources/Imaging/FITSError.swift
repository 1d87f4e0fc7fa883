/// Everything that can go wrong reading or writing a FITS file.
///
/// Every case names the file; cases that come from cfitsio carry its status code, its status
/// text (`ffgerr`) and its error-message stack (`ffgmsg`), so the user sees what cfitsio saw.
public enum FITSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file does not exist.
    case fileNotFound(path: String)
    /// cfitsio could not open the file (not FITS, truncated header, unreadable).
    case cannotOpen(path: String, status: Int32, cfitsio: String)
    /// The file opened but holds no image HDU with data (e.g. an empty primary plus tables only).
    case noImage(path: String)
    /// The image has a shape this tool cannot hold (NAXIS > 3 with real extent, or zero-sized).
    case unsupportedShape(path: String, axes: [Int])
    /// Reading pixels or header failed (e.g. the data unit is truncated).
    case readFailed(path: String, status: Int32, cfitsio: String)
    /// Creating or writing the file failed.
    case writeFailed(path: String, status: Int32, cfitsio: String)
    /// A row range outside the image was requested.
    case rowRange(path: String, y0: Int, count: Int, height: Int)
    /// The caller passed a keyword that the writer owns or that FITS cannot hold.
    case invalidKeyword(path: String, name: String, reason: String)
    /// The image cannot be written with the requested layout (e.g. too many planes).
    case unsupportedImage(path: String, reason: String)

    /// One-line message: what is wrong, which file, and what to do.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "FITS file '\(path)' does not exist; check the path or the input directory in the config."
        case .cannotOpen(let path, let status, let msg):
            return "cannot open '\(path)' as FITS (cfitsio status \(status): \(msg)); the file is not FITS, is truncated or unreadable. Replace or remove it."
        case .noImage(let path):
            return "FITS file '\(path)' contains no image data (primary HDU empty and no IMAGE extension); it is not a light frame. Remove it from the input set."
        case .unsupportedShape(let path, let axes):
            return "FITS image in '\(path)' has axes \(axes); only 2-D mono or 3-D cubes (width x height x planes) are supported."
        case .readFailed(let path, let status, let msg):
            return "reading '\(path)' failed (cfitsio status \(status): \(msg)); the file is probably truncated or corrupt. Re-export or remove it."
        case .writeFailed(let path, let status, let msg):
            return "writing '\(path)' failed (cfitsio status \(status): \(msg)); check that the directory exists, is writable and has free space."
        case .rowRange(let path, let y0, let count, let height):
            return "rows \(y0)..<\(y0 + count) requested from '\(path)' but the image has \(height) rows; ask for a range inside 0..<\(height)."
        case .invalidKeyword(let path, let name, let reason):
            return "keyword '\(name)' for '\(path)' rejected: \(reason)."
        case .unsupportedImage(let path, let reason):
            return "cannot write '\(path)': \(reason)."
        }
    }
}
