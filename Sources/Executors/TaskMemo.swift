import Cache
import Foundation
import Graph

/// The store's memory of finished tasks: `.tcbuild/tasks/ab/<task key>` holds the result reference
/// and checksum of the task with that key. Written by whoever computed the task (a worker on any
/// machine, or the local executor) after the result artifact is committed, with a temporary file and
/// an atomic rename; read by the master before it publishes, so a run after a killed master, a lost
/// broker or a failed tile reuses every tile result already in the store. Files, not SQLite rows:
/// workers never take the workspace lock and may write over a shared filesystem.
public struct TaskMemo: Sendable {
    /// `ROOT/.tcbuild/tasks`.
    public let directory: String
    private let store: ArtifactStore

    /// The memo of a store.
    public init(store: ArtifactStore) {
        self.store = store
        directory = store.stateDir + "/tasks"
    }

    struct Entry: Codable {
        var tileDataRef: Digest
        var checksum: String
        enum CodingKeys: String, CodingKey { case tileDataRef = "tile_data_ref", checksum }
    }

    private func path(_ key: Digest) -> String { "\(directory)/\(key.hex.prefix(2))/\(key.hex)" }

    /// The stored result of `task` when its artifact is present and verifies, else nil.
    public func lookup(_ task: TileTask) -> (ref: Digest, checksum: String)? {
        guard let data = FileManager.default.contents(atPath: path(task.key)),
              let e = try? JSONDecoder().decode(Entry.self, from: data),
              ArtifactChecksum.problem(ref: e.tileDataRef, checksum: e.checksum, in: store) == nil else { return nil }
        return (e.tileDataRef, e.checksum)
    }

    /// Records the result of `task` (atomic: temporary file, then rename).
    public func record(_ task: TileTask, ref: Digest, checksum: String) throws {
        let dest = path(task.key)
        let dir = (dest as NSString).deletingLastPathComponent
        if access(directory, F_OK) != 0 { mkdir(directory, 0o755) }
        let temp = "\(directory)/tmp.\(UUID().uuidString.lowercased())"
        try ArtifactStore.writeFile(temp, Array(try JSONEncoder().encode(Entry(tileDataRef: ref, checksum: checksum))))
        var moved = rename(temp, dest) == 0
        if !moved && errno == ENOENT {  // first memo of this fan-out directory
            mkdir(dir, 0o755)
            moved = rename(temp, dest) == 0
        }
        guard moved else {
            let message = String(cString: strerror(errno))
            unlink(temp)
            throw CacheError.io(path: dest, message: "cannot record the task result: \(message)")
        }
    }
}
