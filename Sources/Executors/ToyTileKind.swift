import Cache
import Foundation
import Graph

/// A deterministic toy task kind for tests and benchmarks of the executors, in the spirit of
/// `Graph.ToyGraph`: reads every input blob and writes a combination of them, the task's identity
/// and its seed. Parameters (all optional):
/// - `size`: result bytes after the header (default 1024);
/// - `fail`: `always` makes the task throw (dead-letter tests);
/// - `marker_dir` + `wait_for`: writes `marker_dir/started.<tile>.<pid>`, then waits until the file
///   `wait_for` exists (lets a test kill a worker or the broker while the task is running);
/// - `sleep_ms`: sleeps before computing (benchmarks of slow tasks).
public enum ToyTileKind {
    /// The kind's name.
    public static let name = "toy.combine"

    /// The kind, for a registry.
    public static let kind = TaskKind(name: name) { task, store in
        try hooks(task)
        let inputs = try task.inputs.map { try store.read($0) }
        return try store.write(bytes(task: task, inputs: inputs))
    }

    /// A registry with the toy kind.
    public static var registry: TaskKindRegistry { TaskKindRegistry([kind]) }

    /// The result bytes for a task and its input contents (the oracle the tests compare against).
    public static func bytes(task: TileTask, inputs: [[UInt8]]) -> [UInt8] {
        let b = task.tileBBox
        var out = Array("toy.combine v1 run=\(task.runID) tile=\(task.tileID) bbox=\(b.x),\(b.y),\(b.width)x\(b.height) seed=\(task.seed) frames=\(task.framesManifestID) config=\(task.configHash)\n".utf8)
        let size = Int(task.params["size"] ?? "") ?? 1024
        var state = UInt64(task.seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        out.reserveCapacity(out.count + size)
        for i in 0..<size {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            var byte = UInt8(truncatingIfNeeded: state)
            for input in inputs where !input.isEmpty { byte &+= input[(i &* 31 &+ Int(byte)) % input.count] }
            out.append(byte)
        }
        return out
    }

    /// Deterministic input blobs for toy tasks: `count` blobs of `size` bytes for tile `tile`.
    public static func inputBlobs(tile: Int, count: Int, size: Int) -> [[UInt8]] {
        (0..<count).map { j in
            var state = UInt64(tile &* 1_000_003 &+ j &* 7919 &+ 1)
            return (0..<size).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
        }
    }

    /// The harness's batch: `count` tasks in tile order over deterministic input blobs (written to
    /// `store` when given, else only named), with tiles on an 8-wide grid of 64-pixel squares.
    public static func tasks(count: Int, inputs: Int, size: Int, runID: String, maxRetries: Int = 3,
                             store: ArtifactStore? = nil) throws -> [TileTask] {
        try (0..<count).map { tile in
            let blobs = try inputBlobs(tile: tile, count: inputs, size: size).map { try store?.write($0) ?? Digest.of($0) }
            return TileTask(runID: runID, tileID: tile, tileBBox: TileBBox(x: (tile % 8) * 64, y: (tile / 8) * 64, width: 64, height: 64),
                            framesManifestID: Digest.of(string: "frames:\(inputs)").hex, configHash: Digest.of(string: "config:\(size)").hex,
                            inputStage: name, inputs: blobs, params: ["size": String(size)], maxRetries: maxRetries)
        }
    }

    /// The result digests `tasks(count:inputs:size:runID:)` must produce, computed in this process.
    public static func expectedDigests(count: Int, inputs: Int, size: Int, runID: String) throws -> [Digest] {
        try tasks(count: count, inputs: inputs, size: size, runID: runID).map { task in
            Digest.of(bytes(task: task, inputs: inputBlobs(tile: task.tileID, count: inputs, size: size)))
        }
    }

    private static func hooks(_ task: TileTask) throws {
        if let ms = task.params["sleep_ms"].flatMap(Int.init), ms > 0 { usleep(UInt32(ms) * 1000) }
        if let waitFor = task.params["wait_for"] {
            if let dir = task.params["marker_dir"] {
                _ = FileManager.default.createFile(atPath: "\(dir)/started.\(task.tileID).\(getpid())", contents: Data())
            }
            while !FileManager.default.fileExists(atPath: waitFor) { usleep(20_000) }
        }
        if task.params["fail"] == "always" {
            throw ToyTaskFailure(message: "toy task failure requested for tile \(task.tileID)")
        }
    }
}

/// The failure a toy task throws on request.
public struct ToyTaskFailure: Error, CustomStringConvertible {
    /// What happened.
    public let message: String
    public var description: String { message }
}
