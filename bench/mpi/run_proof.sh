#!/bin/sh
# run_proof.sh - the MPI hook's proof on Fashion-MNIST. Trains the same 784-256-128-10 MLP
# on RANKS ranks with the same seeds and epochs three ways (plain MPI_Allreduce,
# libalcm_mpi.so preloaded, alcm_mpi_allreduce called explicitly), repeats plain and
# explicit with more seeds, and sweeps the error budget / aggressiveness / pruning of the
# explicit API; finally times plain against compressed allreduce over message sizes (the
# interposer's threshold). Writes runs/*.json (one per training run), proof.json,
# seeds.json, sweep.json, sweep.svg, threshold.json and results.md into OUT_DIR.
#
# usage: bench/mpi/run_proof.sh [BUILD_DIR] [OUT_DIR]
# environment (defaults in brackets):
#   EPOCHS [5]  BATCH [64] (global)  RANKS [4]  SEED [1]  LR [0.05]  LR_FINAL [0.05]
#   MOMENTUM [0.9]
#   BUDGET [0.7] AGGR [1] PRUNE [0]   knobs of the three-way run (interposer and explicit)
#   PATH_ [allgather]                 the hook's path (forced: the runs measure bytes and
#                                     accuracy; bench/mpi/shaped_link.sh measures time)
#   SEEDS ["2 3"]                     more seeds for plain vs explicit at BUDGET
#   SWEEP ["0.3:1:0 0.5:1:0 ..."]    budget:aggressiveness:prune[:adaptive] of the sweep
#   CHECK_EVERY [10]                  steps between cross-rank parameter comparisons
#   EXTRA                             more trainer arguments (e.g. --train-limit 8000)
#   SKIP_THREE_WAY=1 SKIP_SEEDS=1 SKIP_SWEEP=1 SKIP_THRESHOLD=1   leave out a part
#   REPORT_ONLY=1                     rebuild the summaries from the existing runs/*.json
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
out=${2:-$here/results}
EPOCHS=${EPOCHS:-5}
BATCH=${BATCH:-64}
RANKS=${RANKS:-4}
SEED=${SEED:-1}
LR=${LR:-0.05}
LR_FINAL=${LR_FINAL:-0.05}
MOMENTUM=${MOMENTUM:-0.9}
BUDGET=${BUDGET:-0.7}
AGGR=${AGGR:-1}
PRUNE=${PRUNE:-0}
PATH_=${PATH_:-allgather}
SEEDS=${SEEDS:-"2 3"}
CHECK_EVERY=${CHECK_EVERY:-10}
SWEEP=${SWEEP:-"0.3:1:0 0.5:1:0 0.6:1:0 0.7:1:0 0.75:1:0 0.8:1:0 0.85:1:0 0.9:1:0 0.5:1:0.25 0.7:1:0.25 0.7:1:0:1"}
train=$build/bin/alcm_mpi_train
lib=$build/lib/libalcm_mpi.so
mkdir -p "$out/runs"
unset LD_PRELOAD ALCM_SOCKET 2>/dev/null || true

mpirun_() { mpirun --allow-run-as-root --oversubscribe -np "$RANKS" "$@"; }

# run NAME SEED [mpirun args...] TRAINER [trainer args...]: one training run; leaves
# runs/NAME.json (the trainer's figures plus the hook's per-rank report) and runs/NAME.log.
run() {
    name=$1
    seed=$2
    shift 2
    echo "run_proof: $name" >&2
    mpirun_ -x ALCM_MPI_REPORT=1 "$@" --epochs "$EPOCHS" --batch "$BATCH" --seed "$seed" \
        --lr "$LR" --lr-final "$LR_FINAL" --momentum "$MOMENTUM" --check-every "$CHECK_EVERY" \
        ${EXTRA:-} --json "$out/runs/$name.train.json" --label "$name" \
        >"$out/runs/$name.log" 2>"$out/runs/$name.err" ||
        { cat "$out/runs/$name.err" >&2; echo "run_proof: $name failed" >&2; exit 1; }
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
    rm -f "$out/runs/$name.train.json" "$out/runs/$name.err"
}

# Figures of one run as a tab-separated line:
# name mode budget aggr prune final_acc accs raw_per_rank max_sent_per_rank train_s allreduce_s steps mismatches hash
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
        /"param_hash":/ { hash = $2; gsub(/[",]/, "", hash) }
        /"report":/ { line = $0; maxs = 0
                      while (match(line, /"sent_bytes": [0-9]+/)) {
                          v = substr(line, RSTART + 14, RLENGTH - 14) + 0
                          if (v > maxs) maxs = v
                          line = substr(line, RSTART + RLENGTH) } }
        END { if (maxs == 0) maxs = raw
              printf "%s\t%s\t%s\t%s\t%s\t%.4f\t%s\t%.0f\t%.0f\t%.1f\t%.1f\t%d\t%d\t%s\n", name, mode, budget, aggr, prune, fin, acc, raw, maxs, ts, as, steps, mism, hash }' \
        "$out/runs/$1.json"
}

# sweep_point POINT: sets b a p ad name for one budget:aggr:prune[:adaptive] entry.
sweep_point() {
    IFS=: read -r b a p ad <<EOF
$1
EOF
    ad=${ad:-0}
    name="sweep_b${b}_a${a}_p${p}"
    [ "$ad" = 1 ] && name="${name}_adaptive"
    return 0
}

if [ "${REPORT_ONLY:-0}" != 1 ]; then
    [ -x "$train" ] && [ -f "$lib" ] || { echo "run_proof: build $train and $lib first" >&2; exit 1; }
    # Both carry libalcm inside: build them from the same sources, or the interposer and
    # the explicit API would run different codecs.
    cmake --build "$build" -j2 --target alcm_mpi alcm_mpi_train alcm_mpi_threshold >/dev/null
    if [ "${SKIP_THREE_WAY:-0}" != 1 ]; then
        run plain "$SEED" "$train" --mode plain
        run interposer "$SEED" -x LD_PRELOAD="$lib" -x ALCM_MPI_PROFILE=training \
            -x ALCM_MPI_PATH="$PATH_" -x ALCM_MPI_ERROR_BUDGET="$BUDGET" \
            -x ALCM_MPI_AGGRESSIVENESS="$AGGR" -x ALCM_MPI_PRUNE="$PRUNE" "$train" --mode plain
        run explicit "$SEED" "$train" --mode explicit --path "$PATH_" --budget "$BUDGET" \
            --aggressiveness "$AGGR" --prune "$PRUNE"
    fi
    if [ "${SKIP_SEEDS:-0}" != 1 ]; then
        for s in $SEEDS; do
            run "plain_seed$s" "$s" "$train" --mode plain
            run "explicit_seed$s" "$s" "$train" --mode explicit --path "$PATH_" --budget "$BUDGET" \
                --aggressiveness "$AGGR" --prune "$PRUNE"
        done
    fi
    if [ "${SKIP_SWEEP:-0}" != 1 ]; then
        for point in $SWEEP; do
            sweep_point "$point"
            run "$name" "$SEED" "$train" --mode explicit --path "$PATH_" --budget "$b" --aggressiveness "$a" \
                --prune "$p" --adaptive "$ad"
        done
    fi
    if [ "${SKIP_THRESHOLD:-0}" != 1 ]; then
        echo "run_proof: threshold" >&2
        mpirun_ "$build/bin/alcm_mpi_threshold" "$BUDGET" 41 "$out/threshold.json" >&2
    fi
fi

# ---- summaries: TSV, JSON, markdown and SVG from runs/*.json ------------------------------
: >"$out/three_way.tsv"
: >"$out/seeds.tsv"
: >"$out/sweep.tsv"
if [ -f "$out/runs/plain.json" ]; then
    summary plain - - - >>"$out/three_way.tsv"
    for n in interposer explicit; do
        [ -f "$out/runs/$n.json" ] && summary $n "$BUDGET" "$AGGR" "$PRUNE" >>"$out/three_way.tsv"
    done
fi
for s in $SEEDS; do
    [ -f "$out/runs/plain_seed$s.json" ] && summary "plain_seed$s" - - - >>"$out/seeds.tsv"
    [ -f "$out/runs/explicit_seed$s.json" ] &&
        summary "explicit_seed$s" "$BUDGET" "$AGGR" "$PRUNE" >>"$out/seeds.tsv"
done
for point in $SWEEP; do
    sweep_point "$point"
    [ -f "$out/runs/$name.json" ] &&
        summary "$name" "$b" "$([ "$ad" = 1 ] && echo adaptive || echo "$a")" "$p" >>"$out/sweep.tsv"
done
plain_acc=$(awk -F'\t' '$1 == "plain" { print $6 }' "$out/three_way.tsv")
[ -n "$plain_acc" ] || { echo "run_proof: no plain run in $out/runs" >&2; exit 1; }

tojson() {
    awk -F'\t' -v ranks="$RANKS" '
        BEGIN { printf "[" }
        { red = $9 > 0 ? $8 / $9 : 0
          wire = ($2 == "plain" && $3 == "-") ? 2 * (ranks - 1) / ranks * $8 : (ranks - 1) * $9
          printf "%s\n  {\"name\": \"%s\", \"mode\": \"%s\", \"error_budget\": \"%s\", \"aggressiveness\": \"%s\", \"prune_ratio\": \"%s\", \"final_accuracy\": %s, \"test_accuracy\": [%s], \"raw_bytes_per_rank\": %.0f, \"max_sent_bytes_per_rank\": %.0f, \"reduction\": %.3f, \"wire_bytes_per_rank_estimate\": %.0f, \"train_seconds\": %s, \"allreduce_seconds\": %s, \"steps\": %d, \"param_mismatches\": %d, \"param_hash\": \"%s\"}", (NR > 1 ? "," : ""), $1, $2, $3, $4, $5, $6, $7, $8, $9, red, wire, $10, $11, $12, $13, $14 }
        END { print "\n]" }' "$1"
}
header() {
    printf '{\n"ranks": %s, "epochs": %s, "global_batch": %s, "lr": %s, "lr_final": %s, "momentum": %s, "check_every": %s,\n' \
        "$RANKS" "$EPOCHS" "$BATCH" "$LR" "$LR_FINAL" "$MOMENTUM" "$CHECK_EVERY"
}
{ header; printf '"seed": %s,\n"runs": ' "$SEED"; tojson "$out/three_way.tsv"; printf '}\n'; } >"$out/proof.json"
if [ -s "$out/seeds.tsv" ]; then
    { header; printf '"runs": '; tojson "$out/seeds.tsv"; printf '}\n'; } >"$out/seeds.json"
fi
if [ -s "$out/sweep.tsv" ]; then
    { header; printf '"seed": %s,\n"plain_final_accuracy": %s,\n"runs": ' "$SEED" "$plain_acc"
      tojson "$out/sweep.tsv"; printf '}\n'; } >"$out/sweep.json"
    awk -f "$here/plot_sweep.awk" -v plain="$plain_acc" "$out/sweep.tsv" >"$out/sweep.svg"
fi

table() {
    echo "| run | error budget | aggr. | prune | test accuracy per epoch | final | vs plain | max gradient bytes sent per rank | reduction | wall time | of which allreduce |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' -v plain="$2" '
        { red = $9 > 0 ? $8 / $9 : 0; k = split($7, v, ","); acc = ""
          for (i = 1; i <= k; i++) acc = acc (i > 1 ? " / " : "") sprintf("%.4f", v[i])
          printf "| %s | %s | %s | %s | %s | %.4f | %+.2f pt | %.0f of %.0f | %.1fx | %.1f s | %.1f s |\n", $1, $3, $4, $5, acc, $6, ($6 - plain) * 100, $9, $8, red, $10, $11 }' "$1"
}
{
    echo "Fashion-MNIST, 784-256-128-10 MLP, $RANKS ranks, $EPOCHS epochs, global batch $BATCH,"
    echo "SGD with momentum $MOMENTUM, learning rate $LR decaying linearly to $LR x $LR_FINAL at the last step."
    echo
    echo "Three ways, seed $SEED:"
    echo
    table "$out/three_way.tsv" "$plain_acc"
    if grep -q '^interposer' "$out/three_way.tsv" && grep -q '^explicit' "$out/three_way.tsv"; then
        h1=$(awk -F'\t' '$1 == "interposer" { print $14 }' "$out/three_way.tsv")
        h2=$(awk -F'\t' '$1 == "explicit" { print $14 }' "$out/three_way.tsv")
        echo
        if [ "$h1" = "$h2" ]; then
            echo "Interposer and explicit API ended with bit-identical parameters (hash $h1)."
        else
            echo "Interposer ($h1) and explicit API ($h2) parameters differ."
        fi
    fi
    if [ -s "$out/seeds.tsv" ]; then
        echo
        echo "More seeds (plain vs explicit at budget $BUDGET; each compared with plain of its seed):"
        echo
        echo "| seed | plain final | explicit final | difference | reduction |"
        echo "|---|---|---|---|---|"
        { awk -F'\t' '$1 == "plain" || $1 == "explicit" { print }' "$out/three_way.tsv" | sed 's/^plain\t/plain_seed'"$SEED"'\t/; s/^explicit\t/explicit_seed'"$SEED"'\t/'
          cat "$out/seeds.tsv"; } |
            awk -F'\t' '{ s = $1; sub(/.*_seed/, "", s)
                          if ($1 ~ /^plain/) p[s] = $6; else { e[s] = $6; r[s] = $9 > 0 ? $8 / $9 : 0; order[++n] = s } }
                        END { for (i = 1; i <= n; i++) { s = order[i]; d = (e[s] - p[s]) * 100; sum += d
                                printf "| %s | %.4f | %.4f | %+.2f pt | %.1fx |\n", s, p[s], e[s], d, r[s] }
                              if (n) printf "| mean | | | %+.2f pt | |\n", sum / n }'
    fi
    if [ -s "$out/sweep.tsv" ]; then
        echo
        echo "Sweep (explicit API, seed $SEED; plain MPI reached $plain_acc):"
        echo
        table "$out/sweep.tsv" "$plain_acc"
    fi
    if [ -s "$out/threshold.json" ]; then
        echo
        echo "Plain MPI_Allreduce against alcm_mpi_allreduce (budget $BUDGET), median over 41 calls of"
        echo "the slowest rank, on this machine's shared memory. Break-even: the per-rank network"
        echo "bandwidth below which the bytes saved on the wire (ring allreduce 2(p-1)/p x raw"
        echo "against allgather (p-1) x blob) outweigh the extra time."
        echo
        echo "| message bytes | plain (us) | compressed (us) | bytes sent per rank | ratio | break-even (MB/s) |"
        echo "|---|---|---|---|---|---|"
        awk '/"bytes":/ { line = $0; gsub(/[{}",]/, " ", line); n = split(line, f, /[ :]+/)
                          for (i = 1; i < n; i++) v[f[i]] = f[i + 1]
                          printf "| %s | %s | %s | %s | %.1f | %s |\n", v["bytes"], v["plain_us"], v["alcm_us"], v["sent_bytes"], v["ratio"], v["breakeven_MB_per_s"] }' \
            "$out/threshold.json"
    fi
} >"$out/results.md"
rm -f "$out/three_way.tsv" "$out/seeds.tsv" "$out/sweep.tsv" "$out/threshold.txt"
cat "$out/results.md"
