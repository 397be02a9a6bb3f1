#!/usr/bin/python3
"""shaped_report.py - summaries of bench/mpi/shaped_link.sh's runs (standard library only).

Reads OUT_DIR/runs/ and writes OUT_DIR/shaped.json, shaped.md, speedup.svg, tta.svg and
model.md: the sweep table (rate x ranks -> plain s, ALCM s, speedup, wire reduction,
accuracy), time-to-accuracy curves, and the cost model of docs/MPI.md calibrated on the
measured codec figures, checked against the sweep and projected to large clusters.

usage: shaped_report.py OUT_DIR
"""
import json
import statistics
import math
import os
import re
import sys

RATE_BITS = {"100mbit": 1e8, "1gbit": 1e9, "3gbit": 3e9, "10gbit": 1e10}
CORES = os.cpu_count() or 2


def report_lines(path):
    """Per-rank dicts of the hook's report lines, and lo's byte count, from a run's stderr."""
    ranks, lo = [], None
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return ranks, lo
    for line in text.splitlines():
        if line.startswith("alcm_mpi: rank=") and "intercepted=" in line:
            kv = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            ranks.append({k: float(v) for k, v in kv.items()})
        m = re.match(r"lo_tx_bytes=(\d+)", line)
        if m:
            lo = int(m.group(1))
    return ranks, lo


def load_run(runs, name):
    path = os.path.join(runs, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        r = json.load(f)
    rep, lo = report_lines(os.path.join(runs, name + ".err"))
    r["report"] = rep
    r["lo_tx_bytes"] = lo
    steps = max(r["steps"], 1)
    if rep:  # what each rank put on and took off the wire: the hook's figures (max rank)
        r["wire_per_rank_step"] = max(max(x["wire_sent_bytes"], x["wire_recv_bytes"])
                                      for x in rep) / steps
        r["paths"] = {k: int(rep[0].get(k, 0)) for k in ("plain", "allgather", "rsag")}
        r["codec_s"] = max(x["codec_s"] for x in rep)
    else:  # plain MPI: a ring allreduce moves 2 (p-1)/p of the gradient each way
        r["wire_per_rank_step"] = r["wire_sent_bytes_per_rank"] / steps
        r["paths"] = {"plain": steps, "allgather": 0, "rsag": 0}
        r["codec_s"] = 0.0
    return r


def fmt_rate(rate):
    return "unshaped" if rate == "none" else rate.replace("mbit", " Mbit/s").replace("gbit", " Gbit/s")


# ------------------------------------------------------------------------------------------
# Cost model (alcm_exchange_predict in core/src/exchange.c, the same formulas)
# ------------------------------------------------------------------------------------------
def predict(path, n, p, B, a, E, D, R, overlap=0.0):
    if path == "plain":
        return 2 * (p - 1) / p * n / B + 2 * (p - 1) * a
    if path == "allgather":
        codec = n / E + p * n / D
        net = (p - 1) * n / (R * B) + (p - 1) * a + a * math.log2(p)
    else:
        codec = (1 + 1 / p) * n / E + 2 * n / D
        net = 2 * (p - 1) / p * n / (R * B) + 2 * (p - 1) * a + a
    return codec + net - overlap * min(codec, net)


def paths_figures(runs, p):
    path = os.path.join(runs, "paths-%d.json" % p)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    n = j["raw_bytes"]
    out = {"ranks": p, "raw_bytes": n, "paths": j["paths"]}
    for name in ("allgather", "rsag"):
        q = j["paths"][name]
        q["encode_Bps"] = q["encoded_bytes"] / q["encode_seconds"] if q["encode_seconds"] else 0
        q["decode_Bps"] = q["decoded_bytes"] / q["decode_seconds"] if q["decode_seconds"] else 0
    ag = j["paths"]["allgather"]
    # the codec's ratio on the wire: allgather receives p-1 blobs of the whole tensor
    out["ratio"] = (p - 1) * n / ag["wire_recv_bytes"] if ag["wire_recv_bytes"] else 1.0
    out["encode_Bps"] = ag["encode_Bps"]
    out["decode_Bps"] = max(ag["decode_Bps"], j["paths"]["rsag"]["decode_Bps"])
    rs = j["paths"]["rsag"]
    out["rsag_over_allgather_recv"] = rs["wire_recv_bytes"] / ag["wire_recv_bytes"]
    out["rsag_over_allgather_decoded"] = rs["decoded_bytes"] / ag["decoded_bytes"]
    out["rsag_decoded_per_raw"] = rs["decoded_bytes"] / n
    out["allgather_decoded_per_raw"] = ag["decoded_bytes"] / n
    out["codec_hidden_share"] = j.get("codec_hidden_share")
    if "rsag_bulk" in j["paths"]:
        out["rsag_us"] = rs["median_us"]
        out["rsag_bulk_us"] = j["paths"]["rsag_bulk"]["median_us"]
    return out


# ------------------------------------------------------------------------------------------
# SVG
# ------------------------------------------------------------------------------------------
def svg_lines(path, title, xlabel, ylabel, series, xlog=False, hline=None, xticks=None):
    W, H, L, Rm, T, Bm = 640, 400, 70, 150, 40, 50
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts]
    if hline is not None:
        ys.append(hline)
    if not xs:
        return
    fx = (lambda v: math.log10(v)) if xlog else (lambda v: v)
    x0, x1 = fx(min(xs)), fx(max(xs))
    y0, y1 = 0.0, max(ys) * 1.1
    if x1 == x0:
        x1 = x0 + 1
    sx = lambda v: L + (fx(v) - x0) / (x1 - x0) * (W - L - Rm)
    sy = lambda v: H - Bm - (v - y0) / (y1 - y0) * (H - T - Bm)
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="14">%s</text>' % (L, title),
         '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, H - Bm, W - Rm, H - Bm),
         '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, T, L, H - Bm),
         '<text x="%d" y="%d" text-anchor="middle">%s</text>' % ((L + W - Rm) // 2, H - 12, xlabel),
         '<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">%s</text>' % ((T + H - Bm) // 2, (T + H - Bm) // 2, ylabel)]
    for k in range(6):
        v = y0 + (y1 - y0) * k / 5
        o.append('<text x="%d" y="%.1f" text-anchor="end">%.3g</text>' % (L - 6, sy(v) + 4, v))
        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (L, sy(v), W - Rm, sy(v)))
    for v, label in (xticks or []):
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (sx(v), H - Bm + 16, label))
    if hline is not None:
        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888" stroke-dasharray="4 4"/>' % (L, sy(hline), W - Rm, sy(hline)))
    for i, (name, pts) in enumerate(series):
        c = colors[i % len(colors)]
        pts = sorted(pts)
        o.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (c, " ".join("%.1f,%.1f" % (sx(x), sy(y)) for x, y in pts)))
        for x, y in pts:
            o.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (sx(x), sy(y), c))
        o.append('<text x="%d" y="%d" fill="%s">%s</text>' % (W - Rm + 10, T + 16 * (i + 1), c, name))
    o.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")


def main():
    out = sys.argv[1]
    runs = os.path.join(out, "runs")
    names = sorted(os.listdir(runs)) if os.path.isdir(runs) else []
    summary = {"sweep": [], "tta": {}, "paths": {}, "model": {}}

    # ---- sweep
    pat = re.compile(r"sweep-(\w+)-(\d+)-(?:plain|alcm)\.json$")
    keys = {(m.group(1), m.group(2)) for m in map(pat.match, names) if m}
    order = ["100mbit", "1gbit", "3gbit", "10gbit", "none"]
    keys = sorted(keys, key=lambda k: (int(k[1]), order.index(k[0]) if k[0] in order else 9))
    for rate, np_ in keys:
        pl = load_run(runs, "sweep-%s-%s-plain" % (rate, np_))
        al = load_run(runs, "sweep-%s-%s-alcm" % (rate, np_))
        if not pl or not al:
            continue
        row = {
            "rate": rate, "ranks": int(np_), "steps": pl["steps"],
            "plain_s": pl["train_seconds"], "alcm_s": al["train_seconds"],
            "plain_allreduce_s": pl["allreduce_seconds"], "alcm_allreduce_s": al["allreduce_seconds"],
            "speedup": pl["train_seconds"] / al["train_seconds"],
            "plain_wire_per_rank_step": pl["wire_per_rank_step"],
            "alcm_wire_per_rank_step": al["wire_per_rank_step"],
            "wire_reduction": pl["wire_per_rank_step"] / al["wire_per_rank_step"],
            "plain_link_bytes": pl["lo_tx_bytes"], "alcm_link_bytes": al["lo_tx_bytes"],
            "link_reduction": (pl["lo_tx_bytes"] / al["lo_tx_bytes"]) if pl["lo_tx_bytes"] and al["lo_tx_bytes"] else None,
            "plain_accuracy": pl["final_accuracy"], "alcm_accuracy": al["final_accuracy"],
            "alcm_paths": al["paths"], "alcm_codec_s": al["codec_s"],
            "identical": pl["param_mismatches"] == 0 and al["param_mismatches"] == 0,
        }
        summary["sweep"].append(row)

    # ---- repeats: the sweep's pair plus rep-RATE-RANKS-K-{plain,alcm} pairs
    pat = re.compile(r"rep-(\w+)-(\d+)-(\d+)-(?:plain|alcm)\.json$")
    reps = {}
    for m in filter(None, map(pat.match, names)):
        reps.setdefault((m.group(1), m.group(2)), set()).add(m.group(3))
    summary["repeats"] = []
    for (rate, np_), ks in sorted(reps.items(), key=lambda kv: (int(kv[0][1]), order.index(kv[0][0]) if kv[0][0] in order else 9)):
        pairs = [("sweep-%s-%s-plain" % (rate, np_), "sweep-%s-%s-alcm" % (rate, np_))]
        pairs += [("rep-%s-%s-%s-plain" % (rate, np_, k), "rep-%s-%s-%s-alcm" % (rate, np_, k))
                  for k in sorted(ks, key=int)]
        sp, pls, als = [], [], []
        for a, b in pairs:
            pl, al = load_run(runs, a), load_run(runs, b)
            if pl and al:
                pls.append(pl["train_seconds"])
                als.append(al["train_seconds"])
                sp.append(pl["train_seconds"] / al["train_seconds"])
        if sp:
            summary["repeats"].append({"rate": rate, "ranks": int(np_), "pairs": len(sp),
                                       "plain_s": pls, "alcm_s": als, "speedups": sp,
                                       "median_speedup": statistics.median(sp),
                                       "min_speedup": min(sp), "max_speedup": max(sp),
                                       "median_plain_s": statistics.median(pls),
                                       "median_alcm_s": statistics.median(als)})

    # ---- time to accuracy
    for n in names:
        m = re.match(r"tta-(\w+)-(\d+)-(plain|alcm)\.json$", n)
        if not m:
            continue
        r = load_run(runs, n[:-5])
        t, cum = [], 0.0
        for s in r["epoch_seconds"]:
            cum += s
            t.append(cum)
        summary["tta"][m.group(3)] = {
            "rate": m.group(1), "ranks": int(m.group(2)), "epochs": r["epochs"],
            "test_accuracy": r["test_accuracy"], "cumulative_seconds": t,
            "train_seconds": r["train_seconds"], "final_accuracy": r["final_accuracy"],
            "wire_per_rank_step": r["wire_per_rank_step"], "paths": r["paths"],
            "param_mismatches": r["param_mismatches"]}

    # ---- scheduler: adaptive against static, same link, one epoch
    for n in names:
        m = re.match(r"sched-(\w+)-(\d+)-(static|adaptive)\.json$", n)
        if m:
            r = load_run(runs, n[:-5])
            summary.setdefault("sched", {})[m.group(3)] = {
                "rate": m.group(1), "ranks": int(m.group(2)), "train_seconds": r["train_seconds"],
                "final_accuracy": r["final_accuracy"], "wire_per_rank_step": r["wire_per_rank_step"]}

    # ---- paths and the cost model
    for p in (4, 8):
        f = paths_figures(runs, p)
        if f:
            summary["paths"][str(p)] = f
    model_rows = []
    for row in summary["sweep"]:
        f = summary["paths"].get(str(row["ranks"]))
        if not f:
            continue
        p, n, steps = row["ranks"], f["raw_bytes"], row["steps"]
        plain_step = row["plain_allreduce_s"] / steps
        if row["rate"] in RATE_BITS:
            B = RATE_BITS[row["rate"]] / 8 / p  # one shaped lo shared by every rank
        else:
            B = 2 * (p - 1) / p * n / plain_step  # unshaped: what plain achieved
        a = 50e-6
        pred = {k: predict(k, n, p, B, a, f["encode_Bps"], f["decode_Bps"], f["ratio"])
                for k in ("plain", "allgather", "rsag")}
        best = min(("allgather", "rsag"), key=lambda k: pred[k])
        model_rows.append({"rate": row["rate"], "ranks": p,
                           "plain_measured_ms": 1e3 * plain_step,
                           "plain_predicted_ms": 1e3 * pred["plain"],
                           "alcm_measured_ms": 1e3 * row["alcm_allreduce_s"] / steps,
                           "compressed_predicted_ms": 1e3 * pred[best], "predicted_path": best})
    summary["model"]["check"] = model_rows
    # projection: one core per rank (the measured per-rank figures scaled by ranks/cores)
    f4 = summary["paths"].get("4")
    proj = []
    if f4:
        scale = 4 / CORES
        E, D, R = f4["encode_Bps"] * scale, f4["decode_Bps"] * scale, f4["ratio"]
        n = 100 * 1024 * 1024  # a 100 MiB gradient bucket per step
        for gbit in (1, 10, 100, 400):
            for p in (2, 8, 64, 256, 1024):
                B = gbit * 1e9 / 8
                pr = {k: predict(k, n, p, B, 10e-6, E, D, R) for k in ("plain", "allgather", "rsag")}
                best = min(pr, key=pr.get)
                proj.append({"gbit": gbit, "ranks": p, "plain_ms": 1e3 * pr["plain"],
                             "allgather_ms": 1e3 * pr["allgather"], "rsag_ms": 1e3 * pr["rsag"],
                             "best": best, "speedup_vs_plain": pr["plain"] / pr[best]})
        summary["model"]["projection"] = {"raw_bytes": n, "encode_Bps_per_core": E,
                                          "decode_Bps_per_core": D, "ratio": R,
                                          "latency_s": 10e-6, "rows": proj}

    with open(os.path.join(out, "shaped.json"), "w", encoding="utf-8") as fj:
        json.dump(summary, fj, indent=1)

    # ---- markdown
    md = ["| link | ranks | steps | plain s | ALCM s | speedup | wire bytes/rank/step plain | ALCM | wire reduction | link bytes reduction | accuracy plain | ALCM | ALCM paths (plain/allgather/rsag) |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary["sweep"]:
        md.append("| %s | %d | %d | %.1f | %.1f | **%.2f×** | %.0f | %.0f | %.1f× | %s | %.4f | %.4f | %d/%d/%d |" % (
            fmt_rate(r["rate"]), r["ranks"], r["steps"], r["plain_s"], r["alcm_s"], r["speedup"],
            r["plain_wire_per_rank_step"], r["alcm_wire_per_rank_step"], r["wire_reduction"],
            ("%.1f×" % r["link_reduction"]) if r["link_reduction"] else "-",
            r["plain_accuracy"], r["alcm_accuracy"], r["alcm_paths"]["plain"],
            r["alcm_paths"]["allgather"], r["alcm_paths"]["rsag"]))
    if summary["repeats"]:
        md += ["", "Repeated pairs where plain and ALCM are close (alternating order; speedup = plain s / ALCM s of each pair):", "",
               "| link | ranks | pairs | plain s (median) | ALCM s (median) | speedup per pair | median speedup | range |",
               "|---|---|---|---|---|---|---|---|"]
        for r in summary["repeats"]:
            md.append("| %s | %d | %d | %.2f | %.2f | %s | **%.3f×** | %.3f–%.3f |" % (
                fmt_rate(r["rate"]), r["ranks"], r["pairs"], r["median_plain_s"], r["median_alcm_s"],
                " ".join("%.3f" % x for x in r["speedups"]), r["median_speedup"], r["min_speedup"], r["max_speedup"]))
    tta = summary["tta"]
    if "plain" in tta and "alcm" in tta:
        md += ["", "Time to accuracy (%s, %d ranks, %d epochs):" % (fmt_rate(tta["plain"]["rate"]), tta["plain"]["ranks"], tta["plain"]["epochs"]), "",
               "| run | accuracy per epoch | final | wall s | wire bytes/rank/step |", "|---|---|---|---|---|"]
        for k in ("plain", "alcm"):
            t = tta[k]
            md.append("| %s | %s | %.4f | %.1f | %.0f |" % (k, " / ".join("%.4f" % a for a in t["test_accuracy"]),
                      t["final_accuracy"], t["train_seconds"], t["wire_per_rank_step"]))
    sc = summary.get("sched", {})
    if "static" in sc and "adaptive" in sc:
        md += ["", "Stream scheduler (%s, %d ranks, 1 epoch):" % (fmt_rate(sc["static"]["rate"]), sc["static"]["ranks"]), "",
               "| setting | wall s | final accuracy | wire bytes/rank/step |", "|---|---|---|---|"]
        for k in ("static", "adaptive"):
            md.append("| %s | %.1f | %.4f | %.0f |" % (k, sc[k]["train_seconds"], sc[k]["final_accuracy"], sc[k]["wire_per_rank_step"]))
    with open(os.path.join(out, "shaped.md"), "w", encoding="utf-8") as fm:
        fm.write("\n".join(md) + "\n")

    mm = ["Cost model check (per allreduce, ms; measured on the shaped link against the model fed",
          "with the codec figures measured by alcm_mpi_exchange at the same rank count):", "",
          "| link | ranks | plain measured | plain predicted | ALCM measured | compressed predicted (path) |",
          "|---|---|---|---|---|---|"]
    for r in model_rows:
        mm.append("| %s | %d | %.2f | %.2f | %.2f | %.2f (%s) |" % (fmt_rate(r["rate"]), r["ranks"], r["plain_measured_ms"],
                  r["plain_predicted_ms"], r["alcm_measured_ms"], r["compressed_predicted_ms"], r["predicted_path"]))
    if proj:
        P = summary["model"]["projection"]
        mm += ["", "Projection: a 100 MiB gradient per step, one core per rank (encode %.0f MB/s, decode %.0f MB/s, ratio %.1f, latency 10 us):" % (
            P["encode_Bps_per_core"] / 1e6, P["decode_Bps_per_core"] / 1e6, P["ratio"]), "",
            "| link | ranks | plain ms | allgather ms | rsag ms | best | speedup |", "|---|---|---|---|---|---|---|"]
        for r in proj:
            mm.append("| %d Gbit/s | %d | %.1f | %.1f | %.1f | %s | %.2f× |" % (r["gbit"], r["ranks"], r["plain_ms"], r["allgather_ms"], r["rsag_ms"], r["best"], r["speedup_vs_plain"]))
    for p in ("4", "8"):
        f = summary["paths"].get(p)
        if f:
            mm.append("")
            mm.append("Paths at %s ranks (unshaped, %d raw bytes): rsag receives %.3f of the allgather path's bytes and decodes %.3f of its raw bytes (%.2f n against %.2f n); encode %.0f MB/s, decode %.0f MB/s per rank." % (
                p, f["raw_bytes"], f["rsag_over_allgather_recv"], f["rsag_over_allgather_decoded"], f["rsag_decoded_per_raw"],
                f["allgather_decoded_per_raw"], f["encode_Bps"] / 1e6, f["decode_Bps"] / 1e6))
            if f.get("rsag_bulk_us"):
                mm.append("Pipelined rsag %.0f us per call against %.0f us bulk: share of codec time hidden behind the transfers %.2f." % (
                    f["rsag_us"], f["rsag_bulk_us"], f["codec_hidden_share"]))
    with open(os.path.join(out, "model.md"), "w", encoding="utf-8") as fm:
        fm.write("\n".join(mm) + "\n")

    # ---- plots
    series = []
    for p in sorted({r["ranks"] for r in summary["sweep"]}):
        pts = []
        for r in summary["sweep"]:
            if r["ranks"] != p:
                continue
            x = RATE_BITS.get(r["rate"], 4e10) / 1e9  # unshaped drawn at 40 Gbit/s
            pts.append((x, r["speedup"]))
        series.append(("%d ranks" % p, pts))
    svg_lines(os.path.join(out, "speedup.svg"), "Training time, plain / ALCM (training preset, path auto)",
              "link rate (Gbit/s, log; rightmost: unshaped)", "speedup", series, xlog=True, hline=1.0,
              xticks=[(0.1, "0.1"), (1, "1"), (3, "3"), (10, "10"), (40, "unshaped")])
    if tta:
        series = [(k, list(zip(v["cumulative_seconds"], v["test_accuracy"]))) for k, v in sorted(tta.items())]
        svg_lines(os.path.join(out, "tta.svg"), "Test accuracy against wall time", "seconds", "test accuracy", series)
    print("\n".join(md))
    print()
    print("\n".join(mm))


if __name__ == "__main__":
    main()
