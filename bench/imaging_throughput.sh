#!/bin/sh
# Imaging throughput: FITS read/write and the statistics kernels on a 4096x3072 frame, release build.
# Prints "BENCH <kernel> <Mpx/s>" lines (median of 5 runs after a warm-up). Takes about a minute
# including the release build on 2 cores; the timed part is a few seconds.
# Usage: bench/imaging_throughput.sh   (from the package root)
set -eu
cd "$(dirname "$0")/.."
TCBUILD_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter FITSThroughputTests 2>&1 | grep '^BENCH'
