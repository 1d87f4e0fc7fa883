import Cache
import Foundation
import Graph

/// A task kind: a named, deterministic function of a task that reads its inputs from the shared
/// content-addressed store by digest and writes its result there as an artifact (with the store's
/// atomic commit), returning the result's digest. The same task must give the same bytes on any
/// machine, thread count or attempt.
public struct TaskKind: Sendable {
    /// The name tasks carry in `input_stage`.
    public let name: String
    /// The computation.
    public let run: @Sendable (TileTask, ArtifactStore) throws -> Digest

    /// A kind.
    public init(name: String, run: @escaping @Sendable (TileTask, ArtifactStore) throws -> Digest) {
        self.name = name
        self.run = run
    }
}

/// The kinds a process can execute, by name. Master and workers must register the same kinds (the
/// worker looks each task's `input_stage` up here); `tcbuild worker` registers every kind tcbuild has.
public struct TaskKindRegistry: Sendable {
    private var kinds: [String: TaskKind] = [:]

    /// An empty registry.
    public init() {}

    /// A registry holding `kinds`.
    public init(_ kinds: [TaskKind]) {
        for k in kinds { register(k) }
    }

    /// Adds (or replaces) a kind.
    public mutating func register(_ kind: TaskKind) { kinds[kind.name] = kind }

    /// The kind called `name`; throws `ExecutorError.unknownTaskKind`.
    public func kind(_ name: String) throws -> TaskKind {
        guard let k = kinds[name] else { throw ExecutorError.unknownTaskKind(name) }
        return k
    }

    /// The registered names, sorted.
    public var names: [String] { kinds.keys.sorted() }
}
