#!/bin/bash
# netns_run.sh - runs a command inside the current network namespace with lo up and shaped.
# Meant to be started as `unshare -n bash netns_run.sh RATE BURST LATENCY DELAY CMD...` by
# shaped_link.sh, so the namespace is private: its lo is the only interface there is.
#   RATE     tbf rate (e.g. 1gbit), or "none" for an unshaped link
#   BURST, LATENCY   tbf burst and latency;  DELAY  netem delay before the tbf, or ""
# Prints lo's transmitted bytes during CMD to stderr as lo_tx_bytes=N (read from
# /proc/net/dev, which is per namespace; /sys/class/net is not remounted here).
set -eu
rate=$1 burst=$2 latency=$3 delay=$4
shift 4
ip link set lo up
if [ "$rate" != none ]; then
    if [ -n "$delay" ]; then
        tc qdisc add dev lo root handle 1: netem delay "$delay"
        tc qdisc add dev lo parent 1: handle 2: tbf rate "$rate" burst "$burst" latency "$latency"
    else
        tc qdisc add dev lo root tbf rate "$rate" burst "$burst" latency "$latency"
    fi
fi
txb() { sed 's/:/ /' /proc/net/dev | awk '$1 == "lo" { print $10 }'; }
b=$(txb)
"$@" </dev/null
a=$(txb)
echo "lo_tx_bytes=$((a - b))" >&2
