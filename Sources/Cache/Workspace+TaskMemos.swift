import Foundation
import Graph

/// `gc`'s view of the tile tasks' memo files (`.tcbuild/tasks/ab/<task key>`, written by
/// `Executors.TaskMemo`: JSON with `tile_data_ref`, `checksum`, `run_id` and `inputs`). A memo and the
/// artifacts it names (the result and the task's inputs, e.g. a reconstruction plan) are what lets a
/// run after a killed master resume a tile node; they stop mattering once that node has finished
/// (the node's output, recorded in the manifest, supersedes them; nodes also remove their own) or
/// when no kept run could have written them.
extension Workspace {
    /// What the memo pass of `gc` decided.
    struct TaskMemoSweep {
        /// Artifacts the kept memos still reference (spared by the unreferenced-file sweep).
        var referenced: Set<Digest> = []
        /// Memo files (and stray temporaries) deleted.
        var removed = 0
    }

    /// Deletes the memo files that are no longer needed and returns the artifacts the others name.
    /// A memo is kept when its result artifact exists, its `run_id` is not the fingerprint of any
    /// execution in the manifest (its node has not finished), and it was written at or after the
    /// start of the oldest kept run (`since`). Unreadable memos and writers' temporaries go.
    func sweepTaskMemos(since: Date) throws -> TaskMemoSweep {
        var sweep = TaskMemoSweep()
        let dir = stateDir + "/tasks"
        let fm = FileManager.default
        guard let subs = try? fm.contentsOfDirectory(atPath: dir) else { return sweep }
        let finished = Set(try manifest.select("SELECT DISTINCT fingerprint FROM executions").map { $0[0].text })
        for sub in subs.sorted() {
            let p = dir + "/" + sub
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { continue }
            guard isDir.boolValue else {  // a temporary of an interrupted memo write
                if unlink(p) == 0 { sweep.removed += 1 }
                continue
            }
            for name in ((try? fm.contentsOfDirectory(atPath: p)) ?? []).sorted() {
                let file = p + "/" + name
                if let keep = keptMemo(file, finished: finished, since: since) {
                    sweep.referenced.formUnion(keep)
                } else if unlink(file) == 0 {
                    sweep.removed += 1
                }
            }
            rmdir(p)  // only when empty
        }
        return sweep
    }

    /// The artifacts a memo file references when it is kept, else nil.
    private func keptMemo(_ file: String, finished: Set<String>, since: Date) -> Set<Digest>? {
        guard let data = FileManager.default.contents(atPath: file),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let ref = (object["tile_data_ref"] as? String).flatMap(Digest.init(hex:)),
              objects.fileSize(path(of: ref)) != nil,
              let modified = (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date,
              modified >= since else { return nil }
        if let run = object["run_id"] as? String, finished.contains(run) { return nil }
        let inputs = (object["inputs"] as? [String] ?? []).compactMap(Digest.init(hex:))
        return Set([ref] + inputs)
    }
}
