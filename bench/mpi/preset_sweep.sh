#!/bin/bash
# preset_sweep.sh - chooses the training preset's error budget on two models and two
# trainers: the C MLP trainer (alcm_mpi_train) and a torch CNN and MLP trained through
# mpi4py (torch_mpi4py.py), each plain and through the preloaded hook at several budgets,
# on the rsag path (the one slow links take), same seeds and epochs. Writes one JSON line
# per run to OUT_DIR/runs.jsonl and a table to OUT_DIR/preset.md.
# usage: bench/mpi/preset_sweep.sh [BUILD_DIR] [OUT_DIR]
# environment: BUDGETS ["0.2 0.3 0.5"]  EPOCHS [2]  RANKS [4]  SEED [1]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
out=${2:-$here/results/preset}
BUDGETS=${BUDGETS:-"0.2 0.3 0.5"}
EPOCHS=${EPOCHS:-2}
RANKS=${RANKS:-4}
SEED=${SEED:-1}
lib=$build/lib/libalcm_mpi.so
mkdir -p "$out"
: >"$out/runs.jsonl"
for v in $(env | sed -n 's/^\(ALCM_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
mpirun_() { mpirun --allow-run-as-root --oversubscribe -np "$RANKS" "$@"; }

# one TRAINER BUDGET(plain|value) -> a JSON line
one() {
    local trainer=$1 budget=$2 pre=() log="$out/$1-$2.log"
    [ "$budget" = plain ] || pre=(-x LD_PRELOAD="$lib" -x ALCM_MPI_PROFILE=training
                                  -x ALCM_MPI_PATH=rsag -x ALCM_MPI_ERROR_BUDGET="$budget"
                                  -x ALCM_MPI_REPORT=1)
    echo "preset_sweep: $trainer $budget" >&2
    case $trainer in
    c-mlp)
        mpirun_ "${pre[@]}" "$build/bin/alcm_mpi_train" --mode plain --epochs "$EPOCHS" \
            --seed "$SEED" --check-every 50 --json "$out/c-mlp-$budget.json" >"$log" 2>&1
        line=$(cat "$out/c-mlp-$budget.json" | tr -d '\n') ;;
    torch-cnn|torch-mlp)
        mpirun_ "${pre[@]}" /usr/bin/python3 "$here/torch_mpi4py.py" --model "${trainer#torch-}" \
            --epochs "$EPOCHS" --seed "$SEED" >"$log" 2>&1
        line=$(grep '^{' "$log") ;;
    esac
    raw=$(awk '/^alcm_mpi: rank=0 /{for(i=3;i<=NF;i++){split($i,kv,"=");if(kv[1]=="raw_bytes")r=kv[2];if(kv[1]=="wire_sent_bytes")w=kv[2]}} END{print r+0, w+0}' "$log")
    echo "{\"trainer\": \"$trainer\", \"budget\": \"$budget\", \"raw_and_wire\": \"$raw\", \"run\": $line}" >>"$out/runs.jsonl"
}
for trainer in c-mlp torch-cnn torch-mlp; do
    one "$trainer" plain
    for b in $BUDGETS; do one "$trainer" "$b"; done
done
RANKS=$RANKS /usr/bin/python3 - "$out" <<'PY'
import json, os, sys
RANKS = int(os.environ["RANKS"])
out = sys.argv[1]
rows = [json.loads(l) for l in open(out + "/runs.jsonl")]
plain = {r["trainer"]: r["run"]["final_accuracy"] for r in rows if r["budget"] == "plain"}
md = ["| trainer | budget | final accuracy | vs plain | wire bytes reduction (rank 0) |", "|---|---|---|---|---|"]
for r in rows:
    acc = r["run"]["final_accuracy"]
    raw, wire = (float(x) for x in r["raw_and_wire"].split())
    red = "" if r["budget"] == "plain" or not wire else "%.1f×" % (2 * (RANKS - 1) / RANKS * raw / wire)
    d = "" if r["budget"] == "plain" else "%+.2f pt" % (100 * (acc - plain[r["trainer"]]))
    md.append("| %s | %s | %.4f | %s | %s |" % (r["trainer"], r["budget"], acc, d, red))
open(out + "/preset.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
