#!/usr/bin/env bash
# The main job on defaults: installs the build packages that are missing, builds the
# programs it runs (alcmd, alcm-bench for the experiment, alcm; showing progress), starts
# alcmd on a private socket, runs the adaptive experiment through it, prints the daemon's
# per-stream stats, and stops the daemon.
# Without the daemon binary it runs the experiment in-process.
# ALCM_BUILD_DIR (default build) and ALCM_RESULTS_DIR (default results) move its build tree
# and its output; a tree configured before keeps its settings (the tests use this).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
say() { echo "demo: $*" >&2; }
say "checking the build packages (deploy/packages/build.txt)"
bash deploy/install-deps.sh build
jobs="$(nproc 2>/dev/null || echo 2)"
build="${ALCM_BUILD_DIR:-build}"
results="${ALCM_RESULTS_DIR:-results}"
say "configuring $build/"
if [ -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" >/dev/null
else
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DALCM_BUILD_TESTS=OFF >/dev/null
fi
say "building alcm, alcm-bench and alcmd on $jobs cores (about a minute on two)"
mkdir -p "$results"
log="$results/demo-build.log"
# One line a finished target, the full output in $log (shown when the build fails).
if ! cmake --build "$build" -j"$jobs" --target alcm_cli alcm-bench alcmd 2>&1 | tee "$log" |
     sed -un 's/^\[ *\([0-9]*\)%\] Built target \(.*\)/demo:   [\1%] built \2/p' >&2; then
  tail -n 40 "$log" >&2
  say "build failed (full output in $log)"
  exit 1
fi
if [ ! -x "$build/bin/alcmd" ]; then
  say "no alcmd: running the experiment in-process"
  exec "$build"/bin/alcm-bench experiment --json "$results"/experiment.json "$@"
fi
rundir="$(mktemp -d /tmp/alcm-demo.XXXXXX)"
sock="$rundir/alcmd.sock"
"$build"/bin/alcmd --socket "$sock" --log-level info 2>"$rundir/alcmd.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$rundir"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { cat "$rundir/alcmd.log" >&2; echo "alcmd did not start" >&2; exit 1; }
say "alcmd is listening on $sock; running the experiment through it"
"$build"/bin/alcm-bench experiment --socket "$sock" --stream demo/grad --json "$results"/experiment.json "$@"
echo
"$build"/bin/alcm stats --socket "$sock"
