#!/usr/bin/env bash
# deploy/demo.sh against an existing build tree: it reports each step and each finished
# target while it builds (never silent for long), then runs the experiment through alcmd
# and prints the daemon's stats for the demo stream.
#   tests/deploy/check_demo.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
build="$(cd "$2" && pwd)"
work="$(mktemp -d /tmp/alcm-demo-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
ALCM_BUILD_DIR="$build" ALCM_RESULTS_DIR="$work/results" \
  bash "$src/deploy/demo.sh" --epochs 2 >"$work/out" 2>"$work/err"
fail() { echo "demo: $1" >&2; echo "--- stderr"; cat "$work/err"; echo "--- stdout"; cat "$work/out"; exit 1; }
grep -q '^demo: building alcm, alcm-bench and alcmd' "$work/err" || fail "no build step announced"
grep -Eq '^demo:   \[[0-9]+%\] built alcm_cli$' "$work/err" || fail "no progress line for alcm"
grep -Eq '^demo:   \[[0-9]+%\] built alcm-bench$' "$work/err" || fail "no progress line for alcm-bench"
grep -Eq '^demo:   \[[0-9]+%\] built alcmd$' "$work/err" || fail "no progress line for alcmd"
grep -q '^demo: alcmd is listening on' "$work/err" || fail "daemon start not reported"
grep -q 'through alcmd' "$work/out" || fail "the experiment did not go through alcmd"
grep -Eq '^demo/grad +[0-9]+ +2 ' "$work/out" || fail "no stats row for demo/grad with 2 requests"
[ -s "$work/results/experiment.json" ] || fail "no experiment JSON"
echo "demo reported progress and ran through alcmd"
