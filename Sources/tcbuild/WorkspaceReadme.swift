// Generated from workspace-template/README.md (the source of truth); do not edit the text here.
// After editing the template, regenerate from the package root with:
// { sed -n '1,10p' Sources/tcbuild/WorkspaceReadme.swift; cat workspace-template/README.md; printf '\n"""#\n}\n'; } > /tmp/wr.swift && mv /tmp/wr.swift Sources/tcbuild/WorkspaceReadme.swift
// CLITests.initWritesTheEmbeddedReadmeVerbatim fails while the two differ.

/// What `tcbuild init` writes to `DIR/README.md`: how to run, inspect and iterate in a workspace.
/// Embedded so the binary works without the source tree; byte-identical to the template file.
enum WorkspaceReadme {
    /// The template text, verbatim (ends with a newline).
    static let text = #"""
# This is a tcbuild workspace

`tcbuild` runs tile-based quality reconstruction as an incremental build: every phase is a node
whose inputs and parameters are fingerprinted, so after a change only the nodes that depend on it
run again, and every intermediate result stays in the workspace's store (`.tcbuild/`).

What is here:

| path | what it is |
| --- | --- |
| `tile_compile.yaml` | the configuration: every key with its default, its meaning and its allowed values |
| `frames/` (or `data.input_dir`) | your linear light frames (FITS, mono or OSC) |
| `.tcbuild/` | the manifest, the artifact store and one event log per run; do not edit it by hand |
| `report.html` | written after each run: previews, metrics, weights, clusters, validation, timings |
| `validation.json` | the validation verdict with every check and its threshold |
| `stacked.fit`, `registered/`, `synthetic/`, `frame_metrics.csv`, `tiles/` | outputs, copied out of the store |

## First run

    tcbuild run -w .

Set `data.input_dir` (and `data.frames_min`, if you have fewer frames) in `tile_compile.yaml` first.
A run can be stopped at any time (Ctrl-C, a crash, a reboot): the next `tcbuild run` resumes where it
stopped, because every finished node is already recorded. Then open `report.html` and read
`validation.json`.

## Iterate on one parameter

1. See what a change would cost before paying for it:

       tcbuild status -w . --set tile.size_factor=40

   lists per phase what would be cached, what would run and why (`param tile.size_factor: 32 -> 40`).
2. Ask about one node:

       tcbuild explain -w . --set tile.size_factor=40 tiles/metrics

   says why it will run now (or which upstream node it waits on) and why it ran last time.
3. Run with the change:

       tcbuild run -w . --set tile.size_factor=40

   `--set` overrides a key for this run only and is checked like the file. When you like the
   result, write the value into `tile_compile.yaml`. Going back to an earlier value costs nothing:
   every earlier result is still cached.
4. Compare runs:

       tcbuild log -w .

   lists every run with its duration, executed/cached counts, status, and the config keys that
   changed from the previous run.

## Look at intermediates

    tcbuild ls -w . 'register/*'          # nodes with state, duration and size
    tcbuild show -w . tiles/geometry        # params, inputs, outputs with their paths
    tcbuild export -w . register/00017 frame reg17.fits
    tcbuild export -w . tiles/metrics weights w_tile12.fits --tile 12
    tcbuild graph -w . --format dot | dot -Tsvg > graph.svg

Without `--set` or `--config`, `status`, `explain`, `ls`, `show`, `export` and `graph` use the
configuration the latest run used (its `--set` included) and say so; with them, the file plus the
given overrides, as `tcbuild run` would read them.

## Keep the store small

    tcbuild gc -w .                          # keep what the latest run uses, delete the rest
    tcbuild gc -w . --keep-runs 3            # keep the last 3 runs' results (cheap to switch back)
    tcbuild gc -w . --max-size 2G            # then drop the oldest runs until the store fits
    tcbuild verify -w . --rehash             # check every artifact; damaged ones rerun next time

`gc` never touches what the latest run references, so the next `tcbuild run` with the same
configuration executes nothing. If `.tcbuild/manifest.sqlite` is ever damaged (a full disk, a bad
copy), read-only commands say so and `tcbuild run` moves it aside and rebuilds it, reusing every
result it can verify.

## Exit statuses

`0` ok; `1` a node failed or validation failed with `pipeline.abort_on_fail` (all finished work
stays cached: fix the cause and run again); `2` a usage or configuration error (the message names
the file, or the key with its line and the allowed values).

More: `tcbuild --help`, `tcbuild help run`, and the project's `docs/cli.md` and `docs/tuning.md`.

"""#
}
