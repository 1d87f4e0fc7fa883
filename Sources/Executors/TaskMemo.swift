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

    /// One memo file. `run_id` and `inputs` (absent in memos of older versions) let `gc` tell which
    /// node a result belongs to and which input artifacts (e.g. a plan) it still needs.
    public struct Entry: Codable, Sendable, Equatable {
        /// The result artifact.
        public var tileDataRef: Digest
        /// `sha256:<hex>` of it.
        public var checksum: String
        /// The task's run id (the pipeline: the tile node's fingerprint).
        public var runID: String?
        /// The task's inputs.
        public var inputs: [Digest]?
        enum CodingKeys: String, CodingKey { case tileDataRef = "tile_data_ref", checksum, runID = "run_id", inputs }
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
        let entry = Entry(tileDataRef: ref, checksum: checksum, runID: task.runID, inputs: task.inputs)
        try ArtifactStore.writeFile(temp, Array(try JSONEncoder().encode(entry)))
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

    /// Removes the memo of `task` and its result artifact `ref`: the node that needed the result has
    /// assembled its own output, which supersedes it. Missing files are fine.
    public func forget(_ task: TileTask, ref: Digest?) {
        if let ref { unlink(store.path(of: ref)) }
        unlink(path(task.key))
    }
}
