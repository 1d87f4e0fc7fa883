import Foundation
import Graph
import Imaging

/// Reading and writing node artifacts. JSON artifacts use sorted keys (deterministic bytes);
/// image artifacts are float32 FITS with provenance keywords (tcbuild version, node name).
public enum Artifacts {
    /// The version written into FITS provenance (`TCBVER`).
    public static let toolVersion = "0.1.0"

    /// A deterministic JSON encoder (sorted keys, no escaping of slashes).
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return e
    }

    /// Writes `value` as JSON to output `name`: `encoder()`'s bytes, written by `JSONTreeEncoder` (or by
    /// `JSONEncoder` for what that does not model).
    public static func writeJSON<T: Encodable>(_ value: T, _ context: NodeContext, _ name: String) throws {
        try context.writeOutput(name, try encode(value))
    }

    /// `value` as JSON, the bytes of `encoder()` (see `writeJSON`).
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        if let data = JSONTreeEncoder.encode(value) { return data }
        return try encoder().encode(value)
    }

    /// Reads input `name` as JSON.
    public static func readJSON<T: Decodable>(_ type: T.Type, _ context: NodeContext, _ name: String) throws -> T {
        try readJSON(T.self, path: try context.input(name), node: context.name)
    }

    /// Reads a JSON artifact at `path` (through `JSONTreeDecoder`, with `JSONDecoder` for what it does
    /// not model and to name the error of a bad artifact).
    public static func readJSON<T: Decodable>(_ type: T.Type, path: String, node: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StepError.badArtifact(node: node, message: "cannot read \(path)")
        }
        if let value = JSONTreeDecoder.decode(T.self, from: data) { return value }
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw StepError.badArtifact(node: node, message: "\(path) is not a \(T.self): \(error)")
        }
    }

    /// Writes an image as float32 FITS to output `name`, with provenance keywords.
    public static func writeImage(_ image: Image, _ context: NodeContext, _ name: String, keywords: [FITSKeyword] = []) throws {
        let path = try context.output(name)
        try FITS.write(image, to: path, as: .float32, keywords: [
            FITSKeyword("TCBVER", .string(toolVersion), comment: "tcbuild version"),
            FITSKeyword("TCBNODE", .string(context.name), comment: "tcbuild node that wrote this"),
        ] + keywords)
    }

    /// The size of the file at `path` in bytes (`stat`), nil when there is none. A zero-byte artifact
    /// means "not produced". (`FileManager.attributesOfItem` also looks up the owner's and group's names,
    /// reading /etc/passwd and /etc/group on every call.)
    public static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// Writes UTF-8 text to output `name`.
    public static func writeText(_ text: String, _ context: NodeContext, _ name: String) throws {
        try context.writeOutput(name, Data(text.utf8))
    }
}
