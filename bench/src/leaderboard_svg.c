/* leaderboard_svg.c - writes the leaderboard chart: per bundle a panel of compression ratio
 * against compress MB/s (log scale), one colour per codec, axes, grid, labels and a legend;
 * then, per float bundle, a panel of its lossy codecs (one marker per error budget, a
 * codec's points joined) and one of its lossless codecs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

#define PANEL_W 420.0
#define PANEL_H 320.0
#define MARGIN 24.0
#define HEADER_H 64.0
#define SECTION_H 34.0   /* title line of the lossy and lossless-floats sections */
#define COLS 3
#define PLOT_L 58.0   /* plot area inset inside a panel */
#define PLOT_R 18.0
#define PLOT_T 52.0
#define PLOT_B 52.0
#define MAX_CODECS 64
#define MAX_LABELS 256
#define MAX_DECADE_LABELS 8   /* decades labelled on the speed axis, at most (+1) */

static const char *const k_font = "DejaVu Sans, Helvetica, Arial, sans-serif";

static const struct {
    const char *codec;
    const char *color;
} k_fixed[] = {
    {"baseline", "#6b6b6b"},  {"alcm", "#d62728"},        {"alcm-lossless", "#ff7f0e"},
    {"zstd-1", "#1f77b4"},    {"zstd-3", "#17becf"},      {"lz4", "#2ca02c"},
    {"mock", "#9467bd"},      {"fp16", "#8c564b"},        {"bf16", "#e377c2"},
    {"int8-zstd", "#393b79"}, {"global-q", "#000000"},    {"topk", "#bcbd22"},
    {"zfp", "#637939"},       {"planes-zstd", "#ff9896"}, {"planes-huff", "#9c9ede"},
};
static const char *const k_extra[] = {"#7b4173", "#e6550d", "#31a354", "#756bb1", "#636363",
                                      "#fd8d3c", "#6baed6", "#a55194"};

typedef struct {
    const char *names[MAX_CODECS];
    int adaptive[MAX_CODECS];
    size_t n;
} codec_list;

static const char *codec_color(const codec_list *cl, const char *name)
{
    for (size_t i = 0; i < sizeof k_fixed / sizeof k_fixed[0]; i++)
        if (!strcmp(k_fixed[i].codec, name)) return k_fixed[i].color;
    size_t extra = 0;
    for (size_t i = 0; i < cl->n; i++) {
        int fixed = 0;
        for (size_t k = 0; k < sizeof k_fixed / sizeof k_fixed[0]; k++)
            fixed |= !strcmp(k_fixed[k].codec, cl->names[i]);
        if (fixed) continue;
        if (!strcmp(cl->names[i], name)) break;
        extra++;
    }
    return k_extra[extra % (sizeof k_extra / sizeof k_extra[0])];
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Codecs in legend order: built-ins in their usual order, then others by appearance. */
static void collect_codecs(const alcm_bench_submission *subs, size_t n, codec_list *cl)
{
    memset(cl, 0, sizeof *cl);
    const char *const *builtin = alcm_bench_builtin_names();
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < subs[i].n_results; k++) {
                const alcm_bench_result *r = &subs[i].results[k];
                int is_builtin = 0;
                for (size_t b = 0; builtin[b]; b++) is_builtin |= !strcmp(builtin[b], r->codec);
                if (pass == 0 && !is_builtin) continue;
                int seen = 0;
                for (size_t j = 0; j < cl->n; j++) seen |= !strcmp(cl->names[j], r->codec);
                if (seen || cl->n == MAX_CODECS) continue;
                cl->names[cl->n] = r->codec;
                cl->adaptive[cl->n] = r->adaptive;
                cl->n++;
            }
    /* Built-ins found in pass 0 come out in result order; put them in registry order. */
    size_t w = 0;
    for (size_t b = 0; builtin[b]; b++)
        for (size_t j = w; j < cl->n; j++)
            if (!strcmp(cl->names[j], builtin[b])) {
                const char *tn = cl->names[w];
                int ta = cl->adaptive[w];
                cl->names[w] = cl->names[j];
                cl->adaptive[w] = cl->adaptive[j];
                cl->names[j] = tn;
                cl->adaptive[j] = ta;
                w++;
                break;
            }
}

/* A step of 1, 2 or 5 times a power of ten, near x. */
static double nice_step(double x)
{
    if (!(x > 0)) return 1;
    double p = pow(10, floor(log10(x)));
    double m = x / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_decade(char *buf, size_t cap, int k)
{
    static const char *const big[] = {"1", "10", "100", "1k", "10k", "100k", "1M", "10M"};
    if (k >= 0 && k < 8) snprintf(buf, cap, "%s", big[k]);
    else if (k < 0 && k >= -3) snprintf(buf, cap, "%.*f", -k, pow(10, k));
    else snprintf(buf, cap, "1e%d", k);
}

typedef struct {
    double x0, y0, x1, y1;
} box;

static int overlaps(const box *a, const box *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Index of budget e among the panel's budgets (0 when absent). */
static size_t bud_index(const double *budgets, size_t nbud, double e)
{
    for (size_t k = 0; k < nbud; k++)
        if (budgets[k] == e) return k;
    return 0;
}

/* What a panel shows: every result of a bundle (main), its lossy results at every budget
 * (one marker per budget, a codec's points joined), or its lossless results. */
typedef enum { PANEL_MAIN, PANEL_LOSSY, PANEL_LOSSLESS } panel_kind;

static void panel(FILE *f, const alcm_bench_submission *subs, size_t n, const codec_list *cl,
                  const char *bundle, panel_kind kind, double px, double py)
{
    lb_row *rows;
    size_t nr = kind == PANEL_MAIN ? lb_rows(subs, n, bundle, 1, &rows)
                                   : lb_rows_by_ratio(subs, n, bundle, kind == PANEL_LOSSLESS,
                                                      -1, &rows);
    double budgets[4];
    size_t nbud = kind == PANEL_LOSSY ? lb_budgets(subs, n, bundle, budgets, 4) : 0;
    double ax0 = px + PLOT_L, ax1 = px + PANEL_W - PLOT_R;
    double ay0 = py + PLOT_T, ay1 = py + PANEL_H - PLOT_B;

    fprintf(f, "<g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"6\" "
               "fill=\"#ffffff\" stroke=\"#d0d0d0\"/>\n", px, py, PANEL_W, PANEL_H);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" "
               "font-weight=\"bold\" fill=\"#222\">", px + PANEL_W / 2, py + 24);
    xml_text(f, bundle);
    if (kind == PANEL_LOSSY) fputs(": lossy", f);
    if (kind == PANEL_LOSSLESS) fputs(": lossless", f);
    fputs("</text>\n", f);
    const alcm_bench_bundle_info *bi = nr ? lb_bundle_info(&subs[rows[0].sub], bundle) : NULL;
    if (kind == PANEL_LOSSY && nbud) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
                   "fill=\"#777\">error budget", px + PANEL_W / 2, py + 38);
        for (size_t k = 0; k < nbud; k++)
            fprintf(f, "%s%g %% (%s)", k ? ", " : " ", 100 * budgets[k],
                    k == 0 ? "filled" : k == 1 ? "hollow" : k == 2 ? "square" : "diamond");
        fputs("</text>\n", f);
    } else if (bi)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
                   "fill=\"#777\">%.2f MB in %u file%s</text>\n", px + PANEL_W / 2, py + 38,
                (double)bi->bytes / 1e6, (unsigned)bi->files, bi->files == 1 ? "" : "s");
    if (!nr) {
        fputs("</g>\n", f);
        return;
    }
    double lo_v = INFINITY, hi_v = 0, rmax = 0;
    for (size_t i = 0; i < nr; i++) {
        double v = rows[i].r->compress_mb_s;
        if (v < lo_v) lo_v = v;
        if (v > hi_v) hi_v = v;
        if (rows[i].r->ratio > rmax) rmax = rows[i].r->ratio;
    }
    int lo = (int)floor(log10(lo_v)), hi = (int)ceil(log10(hi_v));
    if (hi <= lo) hi = lo + 1;
    /* Figures may span hundreds of decades (a valid file may hold 1e-15 and 1e308 MB/s): past
     * MAX_DECADE_LABELS decades every stride-th one is labelled and the minor lines are
     * left out, so the panel's size does not grow with the values. */
    int stride = (hi - lo + MAX_DECADE_LABELS - 1) / MAX_DECADE_LABELS;
    hi = lo + stride * ((hi - lo + stride - 1) / stride);
    double ystep = nice_step(rmax * 1.1 / 5);
    double ymax = ceil(rmax * 1.1 / ystep) * ystep;
    if (ymax <= 0) ymax = 1;
#define SX(v) (ax0 + (log10(v) - lo) / (double)(hi - lo) * (ax1 - ax0))
#define SY(v) (ay1 - (v) / ymax * (ay1 - ay0))
    /* Grid: minor decades, decades, ratio steps. */
    for (int k = lo; stride == 1 && k < hi; k++)
        for (int m = 2; m <= 9; m++) {
            double x = SX(m * pow(10, k));
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#f1f1f1\"/>\n", x, ay0, x, ay1);
        }
    for (int k = lo; k <= hi; k += stride) {
        double x = SX(pow(10, k));
        char lab[32];
        fmt_decade(lab, sizeof lab, k);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
                x, ay0, x, ay1);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
                   "fill=\"#555\">%s</text>\n", x, ay1 + 16, lab);
    }
    for (double y = 0; y <= ymax + ystep / 2; y += ystep) {
        double sy = SY(y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
                ax0, sy, ax1, sy);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" "
                   "fill=\"#555\">%g</text>\n", ax0 - 6, sy + 4, y);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", ax0,
            ay1, ax1, ay1);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", ax0,
            ay0, ax0, ay1);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
               "fill=\"#333\">compress MB/s (log scale)</text>\n", (ax0 + ax1) / 2, ay1 + 36);
    fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" "
               "font-size=\"12\" fill=\"#333\">compression ratio</text>\n", px + 18,
            (ay0 + ay1) / 2);
    box placed[MAX_LABELS];
    size_t np = 0;
    /* Baseline ratio reference line (first submission's baseline); its label is placed
     * first so codec labels keep clear of it. */
    for (size_t i = 0; kind != PANEL_LOSSY && i < nr; i++)
        if (!strcmp(rows[i].r->codec, "baseline")) {
            double sy = SY(rows[i].r->ratio);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#6b6b6b\" "
                       "stroke-dasharray=\"5 4\"/>\n", ax0, sy, ax1, sy);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\" "
                       "fill=\"#6b6b6b\">baseline ratio</text>\n", ax1 - 2, sy - 4);
            placed[np].x0 = ax1 - 2 - 72;
            placed[np].x1 = ax1 - 2;
            placed[np].y0 = sy - 14;
            placed[np].y1 = sy - 2;
            np++;
            break;
        }
    /* Points, then labels placed around them without overlapping each other. */
    for (size_t i = 0; i < nr; i++) {
        const alcm_bench_result *r = rows[i].r;
        double x = SX(r->compress_mb_s), y = SY(r->ratio);
        if (np < MAX_LABELS) {
            placed[np].x0 = x - 6;
            placed[np].x1 = x + 6;
            placed[np].y0 = y - 6;
            placed[np].y1 = y + 6;
            np++;
        }
    }
    /* Lossy: one codec's points at successive budgets (same submission order) are joined. */
    for (size_t i = 0; kind == PANEL_LOSSY && i < nr; i++)
        for (size_t j = 0; j < nr; j++) {
            size_t bi_ = bud_index(budgets, nbud, subs[rows[i].sub].error_budget);
            size_t bj = bud_index(budgets, nbud, subs[rows[j].sub].error_budget);
            if (bj != bi_ + 1 || strcmp(rows[i].r->codec, rows[j].r->codec) != 0) continue;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                       "stroke-width=\"1.2\" stroke-opacity=\"0.6\"/>\n",
                    SX(rows[i].r->compress_mb_s), SY(rows[i].r->ratio),
                    SX(rows[j].r->compress_mb_s), SY(rows[j].r->ratio),
                    codec_color(cl, rows[i].r->codec));
        }
    for (size_t i = 0; i < nr; i++) {
        const alcm_bench_result *r = rows[i].r;
        const char *color = codec_color(cl, r->codec);
        double x = SX(r->compress_mb_s), y = SY(r->ratio);
        size_t bk = kind == PANEL_LOSSY ? bud_index(budgets, nbud, subs[rows[i].sub].error_budget)
                                        : 0;
        fputs("<g>", f);
        fputs("<title>", f);
        xml_text(f, r->codec);
        if (kind == PANEL_LOSSY)
            fprintf(f, " (S%zu): ratio %.3f, %.1f MB/s, error %.3f %% at a %g %% budget</title>",
                    rows[i].sub + 1, r->ratio, r->compress_mb_s, 100 * r->rel_l2_error,
                    100 * subs[rows[i].sub].error_budget);
        else
            fprintf(f, " (S%zu): ratio %.3f, %.1f MB/s, CAQ %.3f, %+.1f %% vs baseline</title>",
                    rows[i].sub + 1, r->ratio, r->compress_mb_s, r->caq,
                    r->delta_vs_baseline_pct);
        if (r->adaptive)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" stroke=\"%s\" "
                       "stroke-width=\"1.8\"/>", x, y, color);
        if (bk == 0)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"%s\" "
                       "stroke=\"#ffffff\" stroke-width=\"1.2\"/></g>\n", x, y, color);
        else if (bk == 1)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#ffffff\" "
                       "stroke=\"%s\" stroke-width=\"2\"/></g>\n", x, y, color);
        else if (bk == 2)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"%s\"/></g>\n",
                    x - 4.5, y - 4.5, color);
        else
            fprintf(f, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"%s\"/></g>\n", x, y - 5,
                    color);
        /* Lossy: a codec is labelled once, at its first budget's point. */
        if (bk > 0) {
            int labelled = 0;
            for (size_t j = 0; j < nr && !labelled; j++)
                labelled = !strcmp(rows[j].r->codec, r->codec) &&
                           bud_index(budgets, nbud, subs[rows[j].sub].error_budget) == 0;
            if (labelled) continue;
        }
        char lab[96];
        if (n > 1) snprintf(lab, sizeof lab, "%s (S%zu)", r->codec, rows[i].sub + 1);
        else snprintf(lab, sizeof lab, "%s", r->codec);
        double w = 6.4 * (double)strlen(lab), h = 12;
        const double dx[] = {11, 11, 11, -11, -11, -11, 11, -11};
        const double dy[] = {4, -8, 16, 4, -8, 16, -20, -20};
        double lx = x + 11, ly = y + 4;
        int anchor_end = 0;
        for (size_t t = 0; t < sizeof dx / sizeof dx[0]; t++) {
            double cx = x + dx[t], cy = y + dy[t];
            box bx = {dx[t] > 0 ? cx : cx - w, cy - h + 2, dx[t] > 0 ? cx + w : cx, cy + 2};
            if (bx.x1 > px + PANEL_W - 4 || bx.x0 < ax0 + 2 || bx.y0 < ay0 - 8) continue;
            int clash = 0;
            for (size_t k = 0; k < np && !clash; k++) clash = overlaps(&bx, &placed[k]);
            lx = cx;
            ly = cy;
            anchor_end = dx[t] < 0;
            if (!clash) {
                if (np < MAX_LABELS) placed[np++] = bx;
                break;
            }
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" stroke=\"#ffffff\" "
                   "stroke-width=\"3\" paint-order=\"stroke\"%s>", lx, ly, color,
                anchor_end ? " text-anchor=\"end\"" : "");
        xml_text(f, lab);
        fputs("</text>\n", f);
    }
#undef SX
#undef SY
    fputs("</g>\n", f);
    free(rows);
}

alcm_bench_status alcm_bench_leaderboard_svg(FILE *f, const alcm_bench_submission *subs,
                                             size_t n)
{
    if (!f || (!subs && n)) return ALCM_BENCH_E_ARG;
    const char *bundles[LB_MAX_BUNDLES];
    size_t nb = lb_bundles(subs, n, bundles, LB_MAX_BUNDLES);
    codec_list cl;
    collect_codecs(subs, n, &cl);
    const char *fb[LB_MAX_BUNDLES];
    size_t nf = lb_float_bundles(subs, n, fb, LB_MAX_BUNDLES);
    size_t wide = nb > nf ? nb : nf;
    size_t cols = wide < COLS ? (wide ? wide : 1) : COLS;
    size_t prow = nb ? (nb + cols - 1) / cols : 1;
    size_t frow = nf ? (nf + cols - 1) / cols : 0;
    double width = 2 * MARGIN + (double)cols * PANEL_W + (double)(cols - 1) * MARGIN;
    /* Sections below the per-bundle panels: lossy at matched error, then lossless floats,
     * each a title line and its panels. */
    double lossy_y0 = HEADER_H + (double)prow * (PANEL_H + MARGIN);
    double lossless_y0 = lossy_y0 + (nf ? SECTION_H + (double)frow * (PANEL_H + MARGIN) : 0);
    double legend_y0 = lossless_y0 + (nf ? SECTION_H + (double)frow * (PANEL_H + MARGIN) : 0) + 8;
    double lx = MARGIN, ly = legend_y0 + 18;
    double item_x[MAX_CODECS + 1], item_y[MAX_CODECS + 1];
    for (size_t i = 0; i <= cl.n; i++) {
        const char *label = i < cl.n ? cl.names[i] : "ring = adaptive codec";
        double w = 28 + 7.0 * (double)strlen(label);
        if (lx + w > width - MARGIN && lx > MARGIN) {
            lx = MARGIN;
            ly += 24;
        }
        item_x[i] = lx;
        item_y[i] = ly;
        lx += w + 12;
    }
    double height = ly + 22;

    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\">\n", width, height, width, height,
            k_font);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#f7f7f5\"/>\n");
    fprintf(f, "<text x=\"%.1f\" y=\"30\" font-size=\"20\" font-weight=\"bold\" "
               "fill=\"#222\">ALCM CAQ leaderboard: compression ratio vs speed</text>\n", MARGIN);
    fprintf(f, "<text x=\"%.1f\" y=\"50\" font-size=\"12\" fill=\"#555\">Up and to the right is "
               "better. Every blob verified before plotting; dashed line: zlib-6 baseline "
               "ratio.</text>\n", MARGIN);
    if (!nb)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" fill=\"#555\">No results."
                   "</text>\n", MARGIN, HEADER_H + 30);
    for (size_t b = 0; b < nb; b++) {
        double px = MARGIN + (double)(b % cols) * (PANEL_W + MARGIN);
        double py = HEADER_H + (double)(b / cols) * (PANEL_H + MARGIN);
        panel(f, subs, n, &cl, bundles[b], PANEL_MAIN, px, py);
    }
    for (int sec = 0; nf && sec < 2; sec++) {
        double y0 = sec ? lossless_y0 : lossy_y0;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"16\" font-weight=\"bold\" "
                   "fill=\"#222\">%s</text>\n", MARGIN, y0 + 22,
                sec ? "Lossless floats: every lossless codec on the float bundles"
                    : "Lossy codecs at matched error: one panel per float bundle, every budget");
        for (size_t b = 0; b < nf; b++) {
            double px = MARGIN + (double)(b % cols) * (PANEL_W + MARGIN);
            double py = y0 + SECTION_H + (double)(b / cols) * (PANEL_H + MARGIN);
            panel(f, subs, n, &cl, fb[b], sec ? PANEL_LOSSLESS : PANEL_LOSSY, px, py);
        }
    }
    for (size_t i = 0; i <= cl.n; i++) {
        double x = item_x[i], y = item_y[i];
        if (i < cl.n) {
            const char *color = codec_color(&cl, cl.names[i]);
            if (cl.adaptive[i])
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" stroke=\"%s\" "
                           "stroke-width=\"1.8\"/>", x + 9, y - 4, color);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"%s\"/>", x + 9, y - 4,
                    color);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#222\">", x + 24, y);
            xml_text(f, cl.names[i]);
            fputs("</text>\n", f);
        } else {
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" stroke=\"#555\" "
                       "stroke-width=\"1.8\"/>", x + 9, y - 4);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#555\">ring = "
                       "adaptive codec</text>\n", x + 24, y);
        }
    }
    fputs("</svg>\n", f);
    return ferror(f) ? ALCM_BENCH_E_IO : ALCM_BENCH_OK;
}
