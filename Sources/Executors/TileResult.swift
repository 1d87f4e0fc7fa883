import Foundation
import Graph

/// What a worker reports for one task: the result artifact (`tile_data_ref`, a digest in the shared
/// store) with its SHA-256 checksum, or the error that failed the task for good.
public struct TileResult: Codable, Sendable, Equatable {
    /// The task's run.
    public var runID: String
    /// The task's tile.
    public var tileID: Int
    /// The result artifact; nil when the task failed.
    public var tileDataRef: Digest?
    /// `sha256:<hex>` of the result artifact's bytes; nil when the task failed.
    public var checksum: String?
    /// The attempt that produced this result (1 = first delivery).
    public var attempt: Int
    /// Who computed it (`host:pid`, or `local` / `store` for a reused result).
    public var workerID: String
    /// Why the task failed (after its last attempt); nil on success.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", tileID = "tile_id", tileDataRef = "tile_data_ref", checksum, attempt
        case workerID = "worker_id", error
    }

    /// A result.
    public init(runID: String, tileID: Int, tileDataRef: Digest?, checksum: String?, attempt: Int, workerID: String, error: String? = nil) {
        self.runID = runID
        self.tileID = tileID
        self.tileDataRef = tileDataRef
        self.checksum = checksum
        self.attempt = attempt
        self.workerID = workerID
        self.error = error
    }

    /// The JSON message.
    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return Array(try e.encode(self))
    }

    /// Decodes a result message; throws `ExecutorError.badMessage` saying what is wrong.
    public static func decode(_ bytes: [UInt8]) throws -> TileResult {
        do { return try JSONDecoder().decode(TileResult.self, from: Data(bytes)) } catch {
            throw ExecutorError.badMessage("not a tile result message (\(bytes.count) bytes): \(error)")
        }
    }
}
