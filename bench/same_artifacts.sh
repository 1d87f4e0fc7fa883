#!/usr/bin/env bash
# Runs `tcbuild demo` (mono and --cfa) with two tcbuild binaries at the same workspace path and
# compares every artifact digest of the latest run (bench/artifact_digests.py). Used to show that a
# restructuring changes no output byte. Usage: bench/same_artifacts.sh OLD_TCBUILD NEW_TCBUILD
set -euo pipefail
old=$1 new=$2
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out/same_artifacts}
mkdir -p "$out"
for kind in mono cfa; do
    flag=""; [ "$kind" = cfa ] && flag="--cfa"
    for which in old new; do
        bin=$old; [ "$which" = new ] && bin=$new
        ws=/tmp/tcbuild-same-artifacts-$kind   # one path for both: the frame list records absolute paths
        rm -rf "$ws"
        "$bin" demo --dir "$ws" $flag --quiet > "$out/$kind-$which.log" 2>&1 || true
        python3 "$here/artifact_digests.py" "$ws" > "$out/$kind-$which.digests"
    done
    total=$(wc -l < "$out/$kind-new.digests")
    differ=$(diff "$out/$kind-old.digests" "$out/$kind-new.digests" | grep -c '^<' || true)
    echo "$kind: $total artifacts, $differ differ"
    diff "$out/$kind-old.digests" "$out/$kind-new.digests" | grep '^[<>]' | head -5 || true
done
