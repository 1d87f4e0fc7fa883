import Foundation
import Graph

/// A tile's pixel rectangle in the reference frame.
public struct TileBBox: Codable, Sendable, Equatable {
    /// Left column.
    public var x: Int
    /// Top row.
    public var y: Int
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// A rectangle.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

/// One task: one tile across all frames of a node. A small JSON message: everything bulky is in the
/// shared content-addressed store and named here by digest (`inputs`, the `tile_data_ref`s).
///
/// JSON keys are the seed's (`run_id`, `tile_id`, `tile_bbox`, `frames_manifest_id`, `config_hash`,
/// `input_stage`, `seed`) plus `inputs`, `params`, `attempt`, `max_retries`.
public struct TileTask: Codable, Sendable, Equatable {
    /// The run this task belongs to. The pipeline uses the tile-phase node's fingerprint, so the
    /// same computation has the same run id (and seeds) on every run and every executor.
    public var runID: String
    /// Index of the tile in stable tile order.
    public var tileID: Int
    /// The tile's rectangle.
    public var tileBBox: TileBBox
    /// Digest (hex) of the frames list the task covers.
    public var framesManifestID: String
    /// Digest (hex) of the configuration the task depends on.
    public var configHash: String
    /// The task kind (registered name) that computes this task.
    public var inputStage: String
    /// First 4 bytes of sha256(run_id + ":" + tile_id), big-endian.
    public var seed: UInt32
    /// Input artifacts in the shared store, in the order the kind expects.
    public var inputs: [Digest]
    /// Small kind-specific parameters.
    public var params: [String: String]
    /// 1 for the first delivery; raised each time the task is retried or its worker died.
    public var attempt: Int
    /// Attempts allowed before the task is dead-lettered.
    public var maxRetries: Int

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", tileID = "tile_id", tileBBox = "tile_bbox", framesManifestID = "frames_manifest_id"
        case configHash = "config_hash", inputStage = "input_stage", seed, inputs, params, attempt
        case maxRetries = "max_retries"
    }

    /// A task; the seed is derived from `runID` and `tileID`.
    public init(runID: String, tileID: Int, tileBBox: TileBBox, framesManifestID: String, configHash: String,
                inputStage: String, inputs: [Digest], params: [String: String] = [:], maxRetries: Int = 3) {
        self.runID = runID
        self.tileID = tileID
        self.tileBBox = tileBBox
        self.framesManifestID = framesManifestID
        self.configHash = configHash
        self.inputStage = inputStage
        self.seed = Self.seed(runID: runID, tileID: tileID)
        self.inputs = inputs
        self.params = params
        self.attempt = 1
        self.maxRetries = maxRetries
    }

    /// The seed's per-tile seed: the first 4 bytes of sha256(run_id + ":" + tile_id), big-endian.
    public static func seed(runID: String, tileID: Int) -> UInt32 {
        let h = SHA256.hash(Array("\(runID):\(tileID)".utf8))
        return UInt32(h[0]) << 24 | UInt32(h[1]) << 16 | UInt32(h[2]) << 8 | UInt32(h[3])
    }

    /// What the task computes, independent of delivery: every field except `attempt` and
    /// `max_retries`. Tasks with the same key produce the same bytes, so a result stored under this
    /// key (`TaskMemo`) is reused by later runs and by any executor.
    public var key: Digest {
        var h = ContentHasher()
        h.field("tcbuild.tile-task.v1")
        h.field(runID)
        h.field(tileID)
        for v in [tileBBox.x, tileBBox.y, tileBBox.width, tileBBox.height] { h.field(v) }
        h.field(framesManifestID)
        h.field(configHash)
        h.field(inputStage)
        h.field(Int(seed))
        h.field(inputs.count)
        for d in inputs { h.field(d) }
        for (k, v) in params.sorted(by: { $0.key < $1.key }) { h.field(k); h.field(v) }
        return h.finalize()
    }

    /// The JSON message (sorted keys, so equal tasks are equal bytes).
    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return Array(try e.encode(self))
    }

    /// Decodes a task message; throws `ExecutorError.badMessage` saying what is wrong.
    public static func decode(_ bytes: [UInt8]) throws -> TileTask {
        do { return try JSONDecoder().decode(TileTask.self, from: Data(bytes)) } catch {
            throw ExecutorError.badMessage("not a tile task message (\(bytes.count) bytes): \(error)")
        }
    }
}
