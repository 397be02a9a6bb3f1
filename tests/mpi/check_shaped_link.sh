#!/bin/sh
# check_shaped_link.sh - a small run of the shaped-link testbed (bench/mpi/shaped_link.sh):
# one link rate and the unshaped link, 4 ranks, a few dozen steps, every path side by side;
# checks that it creates its namespace, shapes the link, counts the link's bytes, that the
# hook's runs keep the parameters identical and send fewer bytes, and that the summaries
# and plots are written.
# usage: check_shaped_link.sh BUILD_DIR
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check_shaped_link: FAIL: $*" >&2; cat "$tmp"/log >&2 || true; for f in "$tmp"/out/runs/*.err; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }
RATES="1gbit none" RANKS=4 STEPS=40 SKIP_TTA=1 SKIP_SCHED=1 \
    bash "$here/../../bench/mpi/shaped_link.sh" "$build" "$tmp/out" >"$tmp/log" 2>&1 ||
    fail "the testbed failed"
for f in shaped.json shaped.md model.md speedup.svg; do
    [ -s "$tmp/out/$f" ] || fail "no $f"
done
/usr/bin/python3 - "$tmp/out/shaped.json" <<'PY' || fail "figures"
import json, sys
j = json.load(open(sys.argv[1]))
rows = {r["rate"]: r for r in j["sweep"]}
assert set(rows) == {"1gbit", "none"}, rows.keys()
for r in rows.values():
    assert r["identical"], r
    assert r["plain_link_bytes"] > 0 and r["alcm_link_bytes"] > 0, r
    assert r["speedup"] > 0, r
# plain moves the whole gradient: at least 2 (p-1)/p of it per step and rank, on the link too
s = rows["1gbit"]
assert s["plain_wire_per_rank_step"] >= 1.5 * 235146 * 4 * 0.999, s
assert s["plain_link_bytes"] >= 4 * s["steps"] * s["plain_wire_per_rank_step"], s
# the link is shaped: it cannot have carried the plain run's bytes faster than 1 Gbit/s
# (plus the 256 kB burst); a loaded machine only makes it slower
assert s["plain_link_bytes"] <= (s["plain_allreduce_s"] * 1e9 / 8 + 262144) * 1.05, s
for p in ("4", "8"):
    f = j["paths"][p]
    assert f["rsag_decoded_per_raw"] < 2.0 and f["allgather_decoded_per_raw"] == int(p), f
    assert f["rsag_over_allgather_recv"] < 1.0, f
print("check_shaped_link: ok;", {k: round(v["speedup"], 2) for k, v in rows.items()})
PY
