#!/bin/sh
# run_proof.sh - the MPI hook's proof on Fashion-MNIST. Trains the same 784-256-128-10 MLP
# on RANKS ranks with the same seeds and epochs three ways (plain MPI_Allreduce,
# libalcm_mpi.so preloaded, alcm_mpi_allreduce called explicitly), then sweeps the error
# budget / aggressiveness / pruning of the explicit API. Writes per-run JSON, proof.json,
# sweep.json, sweep.svg and results.md into OUT_DIR.
#
# usage: bench/mpi/run_proof.sh [BUILD_DIR] [OUT_DIR]
# environment (defaults in brackets):
#   EPOCHS [5]  BATCH [64] (global)  RANKS [4]  SEED [1]  LR [0.05]  LR_FINAL [0.05]
#   MOMENTUM [0.9]
#   BUDGET [0.7] AGGR [1] PRUNE [0]   knobs of the three-way run (interposer and explicit)
#   SWEEP ["0.3:1:0 0.5:1:0 ..."]    budget:aggressiveness:prune[:adaptive] of the sweep
#   CHECK_EVERY [10]                  steps between cross-rank parameter comparisons
#   EXTRA                             more trainer arguments (e.g. --train-limit 8000)
#   SKIP_THREE_WAY=1 / SKIP_SWEEP=1  run only one half
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
out=${2:-$here/results}
EPOCHS=${EPOCHS:-5}
BATCH=${BATCH:-64}
RANKS=${RANKS:-4}
SEED=${SEED:-1}
LR=${LR:-0.05}
MOMENTUM=${MOMENTUM:-0.9}
BUDGET=${BUDGET:-0.7}
AGGR=${AGGR:-1}
PRUNE=${PRUNE:-0}
LR_FINAL=${LR_FINAL:-0.05}
CHECK_EVERY=${CHECK_EVERY:-10}
SWEEP=${SWEEP:-"0.3:1:0 0.5:1:0 0.6:1:0 0.7:1:0 0.75:1:0 0.8:1:0 0.85:1:0 0.9:1:0 0.5:1:0.25 0.7:1:0.25 0.7:1:0:1"}
train=$build/bin/alcm_mpi_train
lib=$build/lib/libalcm_mpi.so
# Both carry libalcm inside: build them from the same sources, or the interposer and the
# explicit API would run different codecs.
cmake --build "$build" -j2 --target alcm_mpi alcm_mpi_train >/dev/null
[ -x "$train" ] || { echo "run_proof: $train not built" >&2; exit 1; }
[ -f "$lib" ] || { echo "run_proof: $lib not built" >&2; exit 1; }
mkdir -p "$out/runs"
unset LD_PRELOAD ALCM_SOCKET 2>/dev/null || true
common="--epochs $EPOCHS --batch $BATCH --seed $SEED --lr $LR --lr-final $LR_FINAL --momentum $MOMENTUM --check-every $CHECK_EVERY ${EXTRA:-}"

mpirun_() { mpirun --allow-run-as-root --oversubscribe -np "$RANKS" "$@"; }

# run NAME MODE [trainer args...]: trains once; leaves runs/NAME.json (trainer figures plus
# the per-rank report lines of the hook) and runs/NAME.log.
run() {
    name=$1
    shift
    echo "run_proof: $name" >&2
    mpirun_ -x ALCM_MPI_REPORT=1 "$@" --json "$out/runs/$name.train.json" \
        --label "$name" >"$out/runs/$name.log" 2>"$out/runs/$name.err" ||
        { cat "$out/runs/$name.err" >&2; echo "run_proof: $name failed" >&2; exit 1; }
    # Append the hook's report lines (bytes per rank) to the trainer's JSON.
    awk -v report="$out/runs/$name.err" '
        BEGIN { n = 0
                while ((getline line < report) > 0)
                    if (line ~ /^alcm_mpi: rank=[0-9]+ intercepted=/) {
                        split(line, f, /[ =]/)
                        rows[f[3]] = sprintf("{\"rank\": %s, \"intercepted\": %s, \"raw_bytes\": %s, \"sent_bytes\": %s}", f[3], f[5], f[7], f[9])
                        if (f[3] + 1 > n) n = f[3] + 1 } }
        /^}$/ { printf "  ,\"report\": ["
                for (r = 0; r < n; r++) printf "%s%s", (r ? ", " : ""), rows[r]
                print "]"; print "}"; next }
        { print }' "$out/runs/$name.train.json" >"$out/runs/$name.json"
    rm -f "$out/runs/$name.train.json"
}

# Figures of one run as a tab-separated line (awk over the run's JSON):
# name mode budget aggr prune final_acc acc_list raw_per_rank max_sent_per_rank train_s allreduce_s steps mismatches
summary() {
    awk -v name="$1" -v budget="$2" -v aggr="$3" -v prune="$4" '
        function num(s) { gsub(/[^0-9.eE+-]/, "", s); return s + 0 }
        /"mode":/ { mode = $2; gsub(/[",]/, "", mode) }
        /"test_accuracy":/ { acc = $0; sub(/.*\[/, "", acc); sub(/\].*/, "", acc); gsub(/ /, "", acc) }
        /"final_accuracy":/ { fin = num($2) }
        /"train_seconds":/ { ts = num($2) }
        /"allreduce_seconds":/ { as = num($2) }
        /"gradient_raw_bytes_per_rank":/ { raw = num($2) }
        /"steps":/ { steps = num($2) }
        /"param_mismatches":/ { mism = num($2) }
        /"report":/ { line = $0; maxs = 0
                      while (match(line, /"sent_bytes": [0-9]+/)) {
                          v = substr(line, RSTART + 14, RLENGTH - 14) + 0
                          if (v > maxs) maxs = v
                          line = substr(line, RSTART + RLENGTH) } }
        END { if (maxs == 0) maxs = raw
              printf "%s\t%s\t%s\t%s\t%s\t%.4f\t%s\t%d\t%d\t%.1f\t%.1f\t%d\t%d\n", name, mode, budget, aggr, prune, fin, acc, raw, maxs, ts, as, steps, mism }' \
        "$out/runs/$1.json"
}

if [ "${SKIP_THREE_WAY:-0}" != 1 ]; then
    run plain $train --mode plain $common
    run interposer -x LD_PRELOAD="$lib" -x ALCM_MPI_ERROR_BUDGET="$BUDGET" \
        -x ALCM_MPI_AGGRESSIVENESS="$AGGR" -x ALCM_MPI_PRUNE="$PRUNE" $train --mode plain $common
    run explicit $train --mode explicit --budget "$BUDGET" --aggressiveness "$AGGR" \
        --prune "$PRUNE" $common
    {
        summary plain - - -
        summary interposer "$BUDGET" "$AGGR" "$PRUNE"
        summary explicit "$BUDGET" "$AGGR" "$PRUNE"
    } >"$out/three_way.tsv"
fi
if [ "${SKIP_SWEEP:-0}" != 1 ]; then
    : >"$out/sweep.tsv"
    for point in $SWEEP; do
        IFS=: read -r b a p ad <<EOF
$point
EOF
        ad=${ad:-0}
        name="sweep_b${b}_a${a}_p${p}"
        [ "$ad" = 1 ] && name="${name}_adaptive"
        run "$name" $train --mode explicit --budget "$b" --aggressiveness "$a" --prune "$p" \
            --adaptive "$ad" $common
        summary "$name" "$b" "$([ "$ad" = 1 ] && echo adaptive || echo "$a")" "$p" >>"$out/sweep.tsv"
    done
fi

# ---- JSON, markdown and SVG from the TSV summaries --------------------------------------
plain_acc=$(awk -F'\t' '$1 == "plain" { print $6 }' "$out/three_way.tsv")
tojson() {
    awk -F'\t' -v ranks="$RANKS" '
        BEGIN { printf "[" }
        { red = $9 > 0 ? $8 / $9 : 0
          wire_plain = 2 * (ranks - 1) / ranks * $8
          wire = ($2 == "plain" && $3 == "-") ? wire_plain : (ranks - 1) * $9
          printf "%s\n  {\"name\": \"%s\", \"mode\": \"%s\", \"error_budget\": \"%s\", \"aggressiveness\": \"%s\", \"prune_ratio\": \"%s\", \"final_accuracy\": %s, \"test_accuracy\": [%s], \"raw_bytes_per_rank\": %d, \"max_sent_bytes_per_rank\": %d, \"reduction\": %.3f, \"wire_bytes_per_rank_estimate\": %.0f, \"train_seconds\": %s, \"allreduce_seconds\": %s, \"steps\": %d, \"param_mismatches\": %d}", (NR > 1 ? "," : ""), $1, $2, $3, $4, $5, $6, $7, $8, $9, red, wire, $10, $11, $12, $13 }
        END { print "\n]" }' "$1"
}
{
    printf '{\n"ranks": %s, "epochs": %s, "global_batch": %s, "seed": %s, "lr": %s, "momentum": %s,\n' \
        "$RANKS" "$EPOCHS" "$BATCH" "$SEED" "$LR" "$MOMENTUM"
    printf '"runs": '
    tojson "$out/three_way.tsv"
    printf '}\n'
} >"$out/proof.json"
if [ -s "$out/sweep.tsv" ]; then
    {
        printf '{\n"plain_final_accuracy": %s,\n"runs": ' "$plain_acc"
        tojson "$out/sweep.tsv"
        printf '}\n'
    } >"$out/sweep.json"
    awk -f "$here/plot_sweep.awk" -v plain="$plain_acc" "$out/sweep.tsv" >"$out/sweep.svg"
fi

{
    echo "| run | error budget | aggr. | prune | test accuracy per epoch | final | gradient bytes sent per rank | reduction | wall time (train) | of which allreduce |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' -v plain="$plain_acc" '
        { red = $9 > 0 ? $8 / $9 : 0; acc = $7; gsub(/,/, " / ", acc)
          printf "| %s | %s | %s | %s | %s | %.4f (%+.2f pt) | %d of %d | %.1fx | %.1f s | %.1f s |\n", $1, $3, $4, $5, acc, $6, ($6 - plain) * 100, $9, $8, red, $10, $11 }' \
        "$out/three_way.tsv" $([ -s "$out/sweep.tsv" ] && echo "$out/sweep.tsv")
    if [ -s "$out/three_way.tsv" ]; then
        h1=$(sed -n 's/.*"param_hash": "\([0-9a-f]*\)".*/\1/p' "$out/runs/interposer.json")
        h2=$(sed -n 's/.*"param_hash": "\([0-9a-f]*\)".*/\1/p' "$out/runs/explicit.json")
        echo
        if [ -n "$h1" ] && [ "$h1" = "$h2" ]; then
            echo "Interposer and explicit API ended with bit-identical parameters (hash $h1)."
        else
            echo "Interposer ($h1) and explicit API ($h2) parameters differ."
        fi
    fi
} >"$out/results.md"
cat "$out/results.md"
