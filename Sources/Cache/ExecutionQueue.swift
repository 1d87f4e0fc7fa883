import Dispatch
import Foundation
import Graph

/// Group commit of finished executions: a node's worker thread hands its execution over and goes on
/// to the next node; one background queue makes the execution's artifact files durable (fsync of each
/// file and of its fan-out directory) and then writes the manifest rows of everything that arrived
/// meanwhile in one transaction.
///
/// The store's invariant is unchanged: a manifest row is written only after every artifact it names
/// is on disk, so a power loss never leaves a row pointing at a partial file. What changes is who
/// waits: 120 frames of a run commit ~2500 files, and their fsyncs (0.3-8 ms each) used to block the
/// `--jobs` worker threads. A batch syncs each file once and each fan-out directory once, however
/// many of its executions wrote there. A killed process loses the executions still queued (at most the last few
/// hundred milliseconds of work): their artifacts are in the store but unrecorded, so those nodes run
/// again on resume and `gc` removes the orphans.
///
/// Until their rows are written, queued executions answer run-cache lookups from memory (a later stage
/// of the same run resolves the registration stage's nodes again). A failure to sync or record is
/// kept and thrown by the next `enqueue` or `drain`.
final class ExecutionQueue: @unchecked Sendable {
    /// Makes a batch of executions' artifacts durable (before any manifest row names them).
    private let sync: @Sendable ([ExecutionRecord]) throws -> Void
    /// Writes a batch of executions' manifest rows (one transaction).
    private let write: @Sendable ([ExecutionRecord]) throws -> Void
    private let queue = DispatchQueue(label: "tcbuild.execution-commit")
    private let lock = NSLock()
    private var pending: [ExecutionRecord] = []
    private var inFlight: [ExecutionRecord] = []
    private var scheduled = false
    private var failure: Error?

    init(sync: @escaping @Sendable ([ExecutionRecord]) throws -> Void,
         write: @escaping @Sendable ([ExecutionRecord]) throws -> Void) {
        self.sync = sync
        self.write = write
    }

    /// Queues `execution`; returns at once. Throws an earlier batch's failure.
    func enqueue(_ execution: ExecutionRecord) throws {
        let start = try lock.withLock { () throws -> Bool in
            if let failure { throw failure }
            pending.append(execution)
            guard !scheduled else { return false }
            scheduled = true
            return true
        }
        if start { queue.async { self.commitPending() } }
    }

    /// The outputs of a queued (not yet recorded) execution with this fingerprint, newest first.
    func outputs(of fingerprint: Digest) -> [OutputRecord]? {
        lock.withLock {
            (pending.last { $0.fingerprint == fingerprint } ?? inFlight.last { $0.fingerprint == fingerprint })?.outputs
        }
    }

    /// Waits until every queued execution is recorded; throws the first failure. Call it where the
    /// manifest must be complete (end of a run, before reading executions back, before closing).
    func drain() throws {
        queue.sync { self.commitPending() }  // after every scheduled batch; then whatever is still queued
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    /// Commits batches until nothing is pending.
    private func commitPending() {
        while true {
            let batch = lock.withLock { () -> [ExecutionRecord] in
                let b = pending
                pending = []
                inFlight = b
                if b.isEmpty { scheduled = false }
                return b
            }
            guard !batch.isEmpty else { return }
            do {
                try sync(batch)
                try write(batch)
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
            lock.withLock { inFlight = [] }
        }
    }
}
