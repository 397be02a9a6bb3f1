# plot_sweep.awk - SVG scatter plot of the sweep: final test accuracy against the reduction
# of gradient bytes per rank (log2 axis), with plain MPI's accuracy and the 0.5-point band.
# input: sweep.tsv (name mode budget aggr prune final_acc accs raw max_sent ...); -v plain=ACC
BEGIN { FS = "\t"; n = 0 }
{ n++; B[n] = $3; A[n] = $4; P[n] = $5; acc[n] = $6 * 100; red[n] = $9 > 0 ? $8 / $9 : 1 }
function lg2(v) { return log(v) / log(2) }
function px(r) { return L + (lg2(r) - x0) / (x1 - x0) * W }
function py(a) { return T + (y1 - a) / (y1 - y0) * H }
END {
    L = 70; T = 40; W = 560; H = 320
    pa = plain * 100
    x0 = 0; x1 = 1; y0 = pa - 1; y1 = pa + 0.5
    for (i = 1; i <= n; i++) {
        if (lg2(red[i]) > x1) x1 = lg2(red[i])
        if (acc[i] < y0) y0 = acc[i]
        if (acc[i] > y1) y1 = acc[i]
    }
    x1 = int(x1) + 1; y0 = int(y0 - 0.5); y1 = int(y1 + 1.5)
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", L + W + 30, T + H + 60
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"%d\" y=\"22\" font-size=\"14\">Fashion-MNIST, 4 ranks: final test accuracy vs gradient bytes saved</text>\n", L
    # band: within 0.5 points of plain MPI
    printf "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"#d8f0d8\"/>\n", L, py(pa), W, py(pa - 0.5) - py(pa)
    printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#2a7\" stroke-dasharray=\"6 3\"/>\n", L, py(pa), L + W, py(pa)
    printf "<text x=\"%d\" y=\"%.1f\" fill=\"#2a7\">plain MPI %.2f%% (band: -0.5 pt)</text>\n", L + 5, py(pa) - 4, pa
    # axes and ticks
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T + H, L + W, T + H
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L, T + H
    for (k = x0; k <= x1; k++) {
        x = px(2 ^ k)
        printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>\n", x, T, x, T + H
        printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%dx</text>\n", x, T + H + 16, 2 ^ k
    }
    for (a = y0; a <= y1; a++) {
        y = py(a)
        printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>\n", L, y, L + W, y
        printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>\n", L - 6, y + 4, a
    }
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">reduction of gradient bytes each rank sends (raw / sent, log scale)</text>\n", L + W / 2, T + H + 40
    printf "<text x=\"18\" y=\"%d\" transform=\"rotate(-90 18 %d)\" text-anchor=\"middle\">final test accuracy</text>\n", T + H / 2, T + H / 2
    for (k = 4; k <= 5; k++)
        printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e90\" stroke-dasharray=\"3 3\"/>\n", px(2 ^ k), T, px(2 ^ k), T + H
    printf "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#e90\">targets 16x, 32x</text>\n", px(16) + 4, T + 12
    for (i = 1; i <= n; i++) {
        col = A[i] == "adaptive" ? "#93c" : P[i] > 0 ? "#c33" : "#25c"
        printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>budget %s, aggressiveness %s, prune %s: %.2f%%, %.1fx</title></circle>\n", px(red[i]), py(acc[i]), col, B[i], A[i], P[i], acc[i], red[i]
        printf "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">%s%s%s</text>\n", px(red[i]) + 7, py(acc[i]) - 6, B[i], (P[i] > 0 ? " p" P[i] : ""), (A[i] == "adaptive" ? " adaptive" : "")
    }
    printf "<text x=\"%d\" y=\"%d\" font-size=\"10\">labels: error budget per step (aggressiveness 1)</text>\n", L + 10, T + H - 38
    printf "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#25c\">blue: no pruning</text>\n", L + 10, T + H - 24
    printf "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#c33\">red: prune ratio p</text>\n", L + 110, T + H - 24
    printf "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#93c\">purple: CAQ scheduler (adaptive)</text>\n", L + 10, T + H - 10
    print "</svg>"
}
