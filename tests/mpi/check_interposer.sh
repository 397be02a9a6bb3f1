#!/bin/sh
# check_interposer.sh - runs an unmodified MPI program (unmodified_allreduce) on 4 ranks
# plainly, with libalcm_mpi.so preloaded, and preloaded with ALCM_MPI=off, and checks that
# the float sums are compressed (within the budget, the same bits on every rank, fewer
# bytes) while every other allreduce gives exactly what plain MPI gives.
# usage: check_interposer.sh MPIRUN PROGRAM LIBALCM_MPI [PRELOAD_PREFIX]
set -eu
mpirun=$1 prog=$2 lib=$3 prefix=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ASAN_OPTIONS=detect_leaks=0
export ASAN_OPTIONS
unset LD_PRELOAD ALCM_SOCKET ALCM_MPI ALCM_MPI_MIN_BYTES ALCM_MPI_ERROR_BUDGET 2>/dev/null || true
run() { "$mpirun" --allow-run-as-root --oversubscribe --timeout 120 -np 4 "$@"; }
fail() { echo "check_interposer: FAIL: $*" >&2; for f in "$tmp"/*; do echo "== $f" >&2; cat "$f" >&2; done; exit 1; }

run "$prog" >"$tmp/plain.out" 2>"$tmp/plain.err" || fail "plain run"
# The README's form: LD_PRELOAD in mpirun's environment, inherited by the ranks.
LD_PRELOAD="$prefix$lib" ALCM_MPI_REPORT=1 ALCM_MPI_ERROR_BUDGET=0.5 \
    run "$prog" >"$tmp/pre.out" 2>"$tmp/pre.err" || fail "preloaded run"
# The same with -x (only the ranks get the library).
ALCM_MPI_REPORT=1 ALCM_MPI_ERROR_BUDGET=0.5 \
    run -x LD_PRELOAD="$prefix$lib" -x ALCM_MPI_REPORT -x ALCM_MPI_ERROR_BUDGET \
    "$prog" >"$tmp/prex.out" 2>"$tmp/prex.err" || fail "run with -x LD_PRELOAD"
LD_PRELOAD="$prefix$lib" ALCM_MPI=off ALCM_MPI_REPORT=1 \
    run "$prog" >"$tmp/off.out" 2>"$tmp/off.err" || fail "preloaded run with ALCM_MPI=off"

# Everything that is not a float sum: the same bits as plain MPI.
grep hash= "$tmp/plain.out" >"$tmp/plain.hash"
[ "$(wc -l <"$tmp/plain.hash")" -eq 5 ] || fail "plain run printed no hashes"
grep hash= "$tmp/pre.out" | cmp -s - "$tmp/plain.hash" || fail "pass-through results differ"
grep hash= "$tmp/prex.out" | cmp -s - "$tmp/plain.hash" || fail "pass-through results differ (-x)"
# ALCM_MPI=off: byte-for-byte the plain output.
cmp -s "$tmp/off.out" "$tmp/plain.out" || fail "ALCM_MPI=off output differs from plain MPI"

# Float sums: compressed (error above float rounding), within the budget on the first
# step (no residual yet), within 2 eps / (1 - eps) = 2 afterwards, identical on all ranks.
# The -x run must give exactly the same output as the LD_PRELOAD run.
cmp -s "$tmp/pre.out" "$tmp/prex.out" || fail "-x LD_PRELOAD run differs from LD_PRELOAD run"
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
' "$tmp/pre.out" >"$tmp/awk.out" || fail "$(cat "$tmp/awk.out")"

# The report: one exact line per rank; 9 float-sum calls of 400000 bytes were compressed.
for f in pre off; do
    grep '^alcm_mpi: ' "$tmp/$f.err" | grep -v '^alcm_mpi: rank=[0-3] intercepted=[0-9]* raw_bytes=[0-9]* sent_bytes=[0-9]*$' \
        && fail "malformed report line ($f)"
    [ "$(grep -c '^alcm_mpi: rank=[0-3] ' "$tmp/$f.err")" -eq 4 ] || fail "expected 4 report lines ($f)"
done
awk '/^alcm_mpi: rank=/ { split($3, a, "="); split($4, b, "="); split($5, c, "=");
       if (a[2] != 9 || b[2] != 3600000 || !(c[2] > 0 && c[2] * 4 < b[2])) { print; bad = 1 } }
     END { exit bad }' "$tmp/pre.err" >"$tmp/awk.out" || fail "report figures: $(cat "$tmp/awk.out")"
awk '/^alcm_mpi: rank=/ { if ($3 != "intercepted=0" || $4 != "raw_bytes=0" || $5 != "sent_bytes=0") { print; bad = 1 } }
     END { exit bad }' "$tmp/off.err" >"$tmp/awk.out" || fail "ALCM_MPI=off report: $(cat "$tmp/awk.out")"
echo "check_interposer: ok"
grep -h '^float_sum\|^alcm_mpi: ' "$tmp/pre.out" "$tmp/pre.err"
