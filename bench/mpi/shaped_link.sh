#!/bin/bash
# shaped_link.sh - the compressed allreduce on a rate-limited link, against plain MPI.
#
# Every run happens inside a private network namespace that this script creates
# (unshare -n): only its loopback exists, brought up and shaped with a token-bucket filter
# (tc qdisc add dev lo root tbf rate R ...), and Open MPI is forced onto TCP over it
# (--mca btl tcp,self), so all rank traffic crosses the shaped link; no address outside the
# namespace is ever used. Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN) and iproute2.
#
# Three parts, all written to OUT_DIR (default bench/mpi/results/shaped):
#   sweep   rate x ranks, plain MPI_Allreduce vs the hook (training preset, path auto), the
#           Fashion-MNIST trainer for STEPS steps: time per step, speedup, wire bytes per
#           rank (the hook's report) and on the link (lo's byte counter), paths taken;
#   tta     time to accuracy: ACC_EPOCHS epochs at ACC_RATE on ACC_RANKS ranks, plain vs
#           the hook, test accuracy after each epoch against wall time;
#   sched   at ACC_RATE on ACC_RANKS ranks, one epoch through the hook with the stream
#           scheduler on (ALCM_MPI_ADAPTIVE=1) against the preset's static setting;
#   repeat  REPEAT more alternating plain/hook pairs of the sweep at REPEAT_RATES (where
#           the two are close, one run each cannot tell them apart on a shared machine):
#           the paired speedups, their median and range;
#   paths   every path of the trainer's allreduce side by side (alcm_mpi_exchange) on 4 and
#           8 ranks, unshaped: bytes received, raw bytes decoded, codec throughput; the
#           cost model (docs/MPI.md) is calibrated on these and checked against the sweep.
# Then shaped.json, shaped.md, speedup.svg, tta.svg and model.md from all of it.
#
# usage: bench/mpi/shaped_link.sh [BUILD_DIR] [OUT_DIR]
# environment (defaults in brackets):
#   RATES ["100mbit 1gbit 3gbit 10gbit none"]  RANKS ["4 8"]  STEPS [937] (100mbit: STEPS/6)
#   ACC_RATE [1gbit] ACC_RANKS [4] ACC_EPOCHS [5]  SEED [1]  BURST [256kb] LATENCY [50ms]
#   DELAY [] (e.g. 100us: netem delay on the link as well)
#   PROFILE [training]   ALCM [extra -x VAR=VALUE arguments for the hook's runs]
#   REPEAT [0] REPEAT_RATES ["10gbit none"] REPEAT_START [1] (pairs rep-RATE-RANKS-K-{plain,alcm},
#   K from REPEAT_START: a later call adds pairs to the earlier ones)
#   SKIP_SWEEP=1 SKIP_TTA=1 SKIP_PATHS=1 SKIP_SCHED=1   REPORT_ONLY=1 (rebuild the summaries)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
out=${2:-$here/results/shaped}
RATES=${RATES:-"100mbit 1gbit 3gbit 10gbit none"}
RANKS=${RANKS:-"4 8"}
STEPS=${STEPS:-937}
ACC_RATE=${ACC_RATE:-1gbit}
ACC_RANKS=${ACC_RANKS:-4}
ACC_EPOCHS=${ACC_EPOCHS:-5}
SEED=${SEED:-1}
BURST=${BURST:-256kb}
LATENCY=${LATENCY:-50ms}
DELAY=${DELAY:-}
PROFILE=${PROFILE:-training}
train=$build/bin/alcm_mpi_train
exch=$build/bin/alcm_mpi_exchange
lib=$build/lib/libalcm_mpi.so
mkdir -p "$out/runs"
for v in $(env | sed -n 's/^\(ALCM_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD 2>/dev/null || true

need() { command -v "$1" >/dev/null || { echo "shaped_link: $1 not found (apt-get install $2)" >&2; exit 1; }; }
if [ -z "${REPORT_ONLY:-}" ]; then
    need unshare util-linux
    need tc iproute2
    need mpirun openmpi-bin
    [ -x "$train" ] && [ -x "$exch" ] && [ -f "$lib" ] ||
        { echo "shaped_link: build the project first (missing $train, $exch or $lib)" >&2; exit 1; }
    unshare -n true 2>/dev/null ||
        { echo "shaped_link: cannot create a network namespace (run as root)" >&2; exit 1; }
fi

# shaped RATE CMD...: runs CMD in a new network namespace whose lo is shaped to RATE
# ("none": unshaped); netns_run.sh prints lo's transmitted bytes to stderr.
shaped() {
    local rate=$1
    shift
    unshare -n bash "$here/netns_run.sh" "$rate" "$BURST" "$LATENCY" "$DELAY" "$@"
}

# The mpirun arguments that put every byte between ranks on lo (TCP).
mpirun_tcp=(mpirun --allow-run-as-root --oversubscribe --mca btl tcp,self
            --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)

# train_run NAME RATE NP MODE(plain|alcm) TRAINER-ARGS...
train_run() {
    local name=$1 rate=$2 np=$3 mode=$4
    shift 4
    local pre=()
    if [ "$mode" = alcm ]; then
        pre=(-x LD_PRELOAD="$lib" -x ALCM_MPI_PROFILE="$PROFILE" ${ALCM:-})
    fi
    echo "shaped_link: $name" >&2
    shaped "$rate" "${mpirun_tcp[@]}" -np "$np" -x ALCM_MPI_REPORT=1 "${pre[@]}" "$train" --mode plain \
        --seed "$SEED" --batch 64 --check-every 50 "$@" --json "$out/runs/$name.json" \
        --label "$name" >"$out/runs/$name.log" 2>"$out/runs/$name.err" ||
        { tail -20 "$out/runs/$name.err" >&2; echo "shaped_link: $name failed" >&2; exit 1; }
}

if [ -z "${REPORT_ONLY:-}" ]; then
    if [ -z "${SKIP_PATHS:-}" ]; then
        for np in 4 8; do
            echo "shaped_link: paths-$np" >&2
            shaped none "${mpirun_tcp[@]}" -np "$np" "$exch" --reps 15 --json "$out/runs/paths-$np.json" \
                >"$out/runs/paths-$np.log" 2>"$out/runs/paths-$np.err"
        done
    fi
    if [ -z "${SKIP_SWEEP:-}" ]; then
        for np in $RANKS; do
            for rate in $RATES; do
                steps=$STEPS
                [ "$rate" = 100mbit ] && steps=$((STEPS / 6))
                limit=$((steps * 64))
                for mode in plain alcm; do
                    train_run "sweep-$rate-$np-$mode" "$rate" "$np" "$mode" --epochs 1 \
                        --train-limit "$limit" --test-limit 2000
                done
            done
        done
    fi
    if [ "${REPEAT:-0}" -gt 0 ]; then
        for np in $RANKS; do
            for rate in ${REPEAT_RATES:-10gbit none}; do
                limit=$((STEPS * 64))
                for k in $(seq "${REPEAT_START:-1}" $((${REPEAT_START:-1} + REPEAT - 1))); do
                    # alternate which mode goes first, so drift in the machine's load
                    # favours neither
                    modes="plain alcm"
                    [ $((k % 2)) -eq 0 ] && modes="alcm plain"
                    for mode in $modes; do
                        train_run "rep-$rate-$np-$k-$mode" "$rate" "$np" "$mode" --epochs 1 \
                            --train-limit "$limit" --test-limit 2000
                    done
                done
            done
        done
    fi
    if [ -z "${SKIP_SCHED:-}" ]; then
        train_run "sched-$ACC_RATE-$ACC_RANKS-static" "$ACC_RATE" "$ACC_RANKS" alcm --epochs 1
        ALCM="${ALCM:-} -x ALCM_MPI_ADAPTIVE=1" \
            train_run "sched-$ACC_RATE-$ACC_RANKS-adaptive" "$ACC_RATE" "$ACC_RANKS" alcm --epochs 1
    fi
    if [ -z "${SKIP_TTA:-}" ]; then
        for mode in plain alcm; do
            train_run "tta-$ACC_RATE-$ACC_RANKS-$mode" "$ACC_RATE" "$ACC_RANKS" "$mode" \
                --epochs "$ACC_EPOCHS" --lr-final 0.05
        done
    fi
fi

/usr/bin/python3 "$here/shaped_report.py" "$out"
