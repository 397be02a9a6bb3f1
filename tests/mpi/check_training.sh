#!/bin/sh
# check_training.sh - a short data-parallel Fashion-MNIST run on 4 ranks with the training
# preset: through the explicit API and through the preloaded interposer on the rsag path,
# then through the interposer with the path left to the planner. Every run must reach the
# accuracy floor and keep the parameters bit-identical on every rank after every step; the
# forced runs must send at least 16x fewer gradient bytes per rank and end with the same
# parameters as each other.
# usage: check_training.sh MPIRUN ALCM_MPI_TRAIN LIBALCM_MPI [PRELOAD_PREFIX] [short]
# "short" (for the sanitizer builds, several times slower): one epoch on 8000 images.
set -eu
mpirun=$1 train=$2 lib=$3 prefix=${4:-} size=${5:-full}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for v in $(env | sed -n 's/^\(ALCM_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD 2>/dev/null || true
if [ "$size" = short ]; then
    args="--epochs 1 --train-limit 8000 --test-limit 2000 --batch 64 --check-every 1 --min-accuracy 0.70"
    steps=125
else
    args="--epochs 2 --train-limit 15000 --test-limit 2000 --batch 64 --check-every 1 --min-accuracy 0.75"
    steps=468
fi
run() { "$mpirun" --allow-run-as-root --oversubscribe --timeout 400 -np 4 \
        -x ASAN_OPTIONS=detect_leaks=0 -x ALCM_MPI_REPORT=1 "$@"; }
fail() { echo "check_training: FAIL: $*" >&2; for f in "$tmp"/*; do echo "== $f" >&2; cat "$f" >&2; done; exit 1; }

# The trainer exits non-zero below the accuracy floor or when the ranks' parameters differ.
run "$train" --mode explicit --profile training --path rsag $args \
    >"$tmp/explicit.out" 2>"$tmp/explicit.err" || fail "explicit run"
run -x LD_PRELOAD="$prefix$lib" -x ALCM_MPI_PROFILE=training -x ALCM_MPI_PATH=rsag \
    "$train" --mode plain $args >"$tmp/interposer.out" 2>"$tmp/interposer.err" ||
    fail "interposer run"
run -x LD_PRELOAD="$prefix$lib" -x ALCM_MPI_PROFILE=training \
    "$train" --mode plain $args >"$tmp/auto.out" 2>"$tmp/auto.err" || fail "interposer run (auto)"

for m in explicit interposer auto; do
    grep -q "^final: .* identical yes checks $steps mismatches 0 " "$tmp/$m.out" ||
        fail "$m: parameters not checked identical after each of the $steps steps"
    [ "$(grep -c "^alcm_mpi: rank=[0-3] intercepted=$steps " "$tmp/$m.err")" -eq 4 ] ||
        fail "$m: expected $steps considered allreduce calls on each of 4 ranks"
done
for m in explicit interposer; do
    awk -v steps=$steps '/^alcm_mpi: rank=/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
           if (!(v["sent_bytes"] > 0 && v["raw_bytes"] / v["sent_bytes"] >= 16)) { print "reduction below 16x: " $0; bad = 1 }
           if (v["rsag"] != steps) { print "not every call on rsag: " $0; bad = 1 } }
         END { exit bad }' "$tmp/$m.err" >"$tmp/awk.out" || fail "$m: $(cat "$tmp/awk.out")"
done
h1=$(sed -n 's/^final: .* hash \([0-9a-f]*\) .*/\1/p' "$tmp/explicit.out")
h2=$(sed -n 's/^final: .* hash \([0-9a-f]*\) .*/\1/p' "$tmp/interposer.out")
[ -n "$h1" ] && [ "$h1" = "$h2" ] || fail "interposer parameters ($h2) differ from the explicit API's ($h1)"
echo "check_training: ok"
cat "$tmp/explicit.out"
grep -h '^alcm_mpi: ' "$tmp/explicit.err" "$tmp/auto.err"
