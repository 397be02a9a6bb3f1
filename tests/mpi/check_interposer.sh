#!/bin/sh
# check_interposer.sh - runs an unmodified MPI program (unmodified_allreduce) on 4 ranks
# plainly and with libalcm_mpi.so preloaded: on defaults (the safe preset, path auto), on the
# safe preset forced onto the rsag path, on the training preset forced onto the allgather
# path, and with ALCM_MPI=off. Checks that every float sum is within 1 % of the exact sum on
# the safe preset (compressed where the path is forced), within the budget on the training
# preset, the same bits on every rank, while every other allreduce gives exactly what plain
# MPI gives, and that the report lines carry the wire figures.
# usage: check_interposer.sh MPIRUN PROGRAM LIBALCM_MPI [PRELOAD_PREFIX]
set -eu
mpirun=$1 prog=$2 lib=$3 prefix=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ASAN_OPTIONS=detect_leaks=0
export ASAN_OPTIONS
for v in $(env | sed -n 's/^\(ALCM_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD 2>/dev/null || true
run() { "$mpirun" --allow-run-as-root --oversubscribe --timeout 200 -np 4 "$@"; }
fail() { echo "check_interposer: FAIL: $*" >&2; for f in "$tmp"/*; do echo "== $f" >&2; cat "$f" >&2; done; exit 1; }

run "$prog" >"$tmp/plain.out" 2>"$tmp/plain.err" || fail "plain run"
# The README's form: LD_PRELOAD in mpirun's environment, inherited by the ranks; defaults.
LD_PRELOAD="$prefix$lib" ALCM_MPI_REPORT=1 \
    run "$prog" >"$tmp/safe.out" 2>"$tmp/safe.err" || fail "preloaded run (defaults)"
# Safe preset on the rsag path, in both forms (environment, and -x for the ranks only):
# a forced path is deterministic, so both give the same output.
LD_PRELOAD="$prefix$lib" ALCM_MPI_REPORT=1 ALCM_MPI_PATH=rsag \
    run "$prog" >"$tmp/rsag.out" 2>"$tmp/rsag.err" || fail "preloaded run (rsag)"
ALCM_MPI_REPORT=1 ALCM_MPI_PATH=rsag \
    run -x LD_PRELOAD="$prefix$lib" -x ALCM_MPI_REPORT -x ALCM_MPI_PATH \
    "$prog" >"$tmp/rsagx.out" 2>"$tmp/rsagx.err" || fail "run with -x LD_PRELOAD (rsag)"
# Training preset on the allgather path at a per-rank budget of 0.5.
LD_PRELOAD="$prefix$lib" ALCM_MPI_REPORT=1 ALCM_MPI_PROFILE=training ALCM_MPI_PATH=allgather \
    ALCM_MPI_ERROR_BUDGET=0.5 run "$prog" >"$tmp/train.out" 2>"$tmp/train.err" ||
    fail "preloaded run (training)"
LD_PRELOAD="$prefix$lib" ALCM_MPI=off ALCM_MPI_REPORT=1 \
    run "$prog" >"$tmp/off.out" 2>"$tmp/off.err" || fail "preloaded run with ALCM_MPI=off"

# Everything that is not a float sum: the same bits as plain MPI.
grep hash= "$tmp/plain.out" >"$tmp/plain.hash"
[ "$(wc -l <"$tmp/plain.hash")" -eq 5 ] || fail "plain run printed no hashes"
for f in safe rsag rsagx train; do
    grep hash= "$tmp/$f.out" | cmp -s - "$tmp/plain.hash" || fail "pass-through results differ ($f)"
done
cmp -s "$tmp/off.out" "$tmp/plain.out" || fail "ALCM_MPI=off output differs from plain MPI"
cmp -s "$tmp/rsag.out" "$tmp/rsagx.out" || fail "-x LD_PRELOAD run differs from LD_PRELOAD run"

# check FILE MIN_ERR: float sums identical on all ranks, every one within 1 % of the exact
# sum, and (MIN_ERR > 0) compressed: an error above float rounding.
check_safe() {
    awk -v min="$2" '
      /^float_sum / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                      if (v["identical"] != 1) bad = bad " float sums differ across ranks";
                      if (!(v["max_sum_rel_err"] <= 0.01)) bad = bad " a sum beyond 1 %";
                      if (!(v["max_sum_rel_err"] >= min)) bad = bad " float sum not compressed";
                      seen++ }
      /^float_sum_in_place / { for (i = 2; i <= NF; i++) { split($i, kv, "="); w[kv[1]] = kv[2] }
                      if (w["identical"] != 1) bad = bad " in-place sums differ across ranks";
                      if (!(w["sum_rel_err"] <= 0.01)) bad = bad " in-place sum beyond 1 %";
                      seen++ }
      END { if (seen != 2) bad = bad " missing float lines"; if (bad != "") { print bad; exit 1 } }
    ' "$1" >"$tmp/awk.out" || fail "$1: $(cat "$tmp/awk.out")"
}
check_safe "$tmp/safe.out" 0
check_safe "$tmp/rsag.out" 1e-5
# Training: compressed, within the budget on the first step (no residual yet), within
# 2 eps / (1 - eps) = 2 afterwards, identical on all ranks.
awk '
  /^float_sum / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                  if (v["identical"] != 1) bad = bad " float sums differ across ranks";
                  if (!(v["first_rel_err"] > 1e-3)) bad = bad " float sum not compressed";
                  if (!(v["first_rel_err"] <= 0.5)) bad = bad " first step above budget";
                  if (!(v["max_rel_err"] <= 2.0)) bad = bad " a step above 2 eps/(1-eps)";
                  seen++ }
  /^float_sum_in_place / { for (i = 2; i <= NF; i++) { split($i, kv, "="); w[kv[1]] = kv[2] }
                  if (w["identical"] != 1) bad = bad " in-place sums differ across ranks";
                  if (!(w["rel_err"] > 1e-3 && w["rel_err"] <= 2.0)) bad = bad " in-place error";
                  seen++ }
  END { if (seen != 2) bad = bad " missing float lines"; if (bad != "") { print bad; exit 1 } }
' "$tmp/train.out" >"$tmp/awk.out" || fail "training: $(cat "$tmp/awk.out")"

# The report: one exact line per rank; 25 float-sum calls of 400000 bytes were considered.
line='^alcm_mpi: rank=[0-3] intercepted=[0-9]* raw_bytes=[0-9]* sent_bytes=[0-9]* wire_sent_bytes=[0-9]* wire_recv_bytes=[0-9]* time_s=[0-9.]* codec_s=[0-9.]* plain=[0-9]* allgather=[0-9]* rsag=[0-9]* fallbacks=[0-9]* decoded_bytes=[0-9]*$'
for f in safe rsag train off; do
    grep '^alcm_mpi: ' "$tmp/$f.err" | grep -v "$line" && fail "malformed report line ($f)"
    [ "$(grep -c '^alcm_mpi: rank=[0-3] ' "$tmp/$f.err")" -eq 4 ] || fail "expected 4 report lines ($f)"
done
# field value: key=value from a report line
awk '/^alcm_mpi: rank=/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       if (v["intercepted"] != 25 || v["raw_bytes"] != 10000000) { print "counts: " $0; bad = 1 }
       if (v["plain"] + v["allgather"] + v["rsag"] != 25) { print "paths: " $0; bad = 1 }
       if (!(v["time_s"] > 0)) { print "time: " $0; bad = 1 } }
     END { exit bad }' "$tmp/safe.err" >"$tmp/awk.out" || fail "report figures: $(cat "$tmp/awk.out")"
# rsag: every call on it; wire bytes received well below a plain ring allreduce's
# 2 (p-1)/p * 10 MB = 15 MB.
awk '/^alcm_mpi: rank=/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       if (v["rsag"] != 25 || !(v["wire_recv_bytes"] > 0 && v["wire_recv_bytes"] < 7500000)) { print; bad = 1 } }
     END { exit bad }' "$tmp/rsag.err" >"$tmp/awk.out" || fail "rsag report: $(cat "$tmp/awk.out")"
awk '/^alcm_mpi: rank=/ { split($5, c, "=");
       if (!(c[2] > 0 && c[2] * 4 < 10000000)) { print; bad = 1 } }
     END { exit bad }' "$tmp/train.err" >"$tmp/awk.out" || fail "training report: $(cat "$tmp/awk.out")"
awk '/^alcm_mpi: rank=/ { if ($3 != "intercepted=0" || $4 != "raw_bytes=0" || $5 != "sent_bytes=0") { print; bad = 1 } }
     END { exit bad }' "$tmp/off.err" >"$tmp/awk.out" || fail "ALCM_MPI=off report: $(cat "$tmp/awk.out")"
echo "check_interposer: ok"
grep -h '^float_sum\|^alcm_mpi: ' "$tmp/safe.out" "$tmp/safe.err" "$tmp/rsag.out" "$tmp/rsag.err"
