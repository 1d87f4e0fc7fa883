import Foundation

/// Errors of the workspace and its manifest; each says what happened and what to do.
public enum CacheError: Error, CustomStringConvertible, Equatable {
    /// Another live process holds the workspace lock.
    case locked(workspace: String, pid: Int32)
    /// The manifest was written by a newer tcbuild.
    case schemaTooNew(path: String, found: Int, supported: Int)
    /// A filesystem operation failed.
    case io(path: String, message: String)
    /// The directory is not a tcbuild workspace.
    case notAWorkspace(String)
    /// The manifest file fails SQLite's integrity check or cannot be read as a database.
    case manifestDamaged(path: String, detail: String)

    public var description: String {
        switch self {
        case .locked(let w, let pid):
            return "workspace \(w) is locked by a running tcbuild (PID \(pid)); wait for it to finish or stop it (kill \(pid))"
        case .schemaTooNew(let p, let f, let s):
            return "\(p): manifest schema version \(f) is newer than this tcbuild supports (\(s)); upgrade tcbuild"
        case .io(let p, let m): return "\(p): \(m)"
        case .manifestDamaged(let p, let d):
            return "\(p) is damaged (\(d)); 'tcbuild run' moves it aside (to \((p as NSString).lastPathComponent).damaged-TIME) "
                + "and rebuilds it: artifacts whose record and content still verify are reused, every other node reruns"
        case .notAWorkspace(let p): return "\(p) is not a tcbuild workspace (no tile_compile.yaml, no .tcbuild/); create one with 'tcbuild init \(p)'"
        }
    }
}
