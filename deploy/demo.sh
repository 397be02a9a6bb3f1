#!/usr/bin/env bash
# The main job on defaults: installs what is missing, builds, starts alcmd on a private
# socket, runs the adaptive experiment through it, prints the daemon's per-stream stats, and
# stops the daemon. Without the daemon binary it runs the experiment in-process.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
mkdir -p results
if [ ! -x build/bin/alcmd ]; then
  exec build/bin/alcm experiment --json results/experiment.json "$@"
fi
rundir="$(mktemp -d /tmp/alcm-demo.XXXXXX)"
sock="$rundir/alcm.sock"
build/bin/alcmd --socket "$sock" --log-level info 2>"$rundir/alcmd.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$rundir"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { cat "$rundir/alcmd.log" >&2; echo "alcmd did not start" >&2; exit 1; }
build/bin/alcm experiment --socket "$sock" --stream demo/grad --json results/experiment.json "$@"
echo
build/bin/alcm stats --socket "$sock"
