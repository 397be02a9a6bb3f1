/* util.c - helpers shared by the subcommands of `alcm` and `alcm-bench`: files, argument
 * parsing, JSON. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The tool's only process-wide state: what main() parsed before the subcommand. */
static const char *g_socket, *g_stream, *g_program = "alcm";

void cli_set_program(const char *prog)
{
    g_program = prog;
}

const char *cli_global_socket(void)
{
    return g_socket;
}

const char *cli_global_stream(void)
{
    return g_stream;
}

void cli_set_global(const char *socket_path, const char *stream)
{
    g_socket = socket_path;
    g_stream = stream;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s %s: ", g_program, cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return -1;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) goto fail;
    for (;;) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) goto fail;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) { errno = EIO; goto fail; }
    if (f != stdin) fclose(f);
    *data = buf;
    *len = n;
    return 0;
fail:;
    int e = errno;
    free(buf);
    if (f != stdin) fclose(f);
    errno = e;
    return -1;
}

int cli_open_regular(const char *path, size_t *size)
{
    if (!strcmp(path, "-")) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) return -1;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0 ||
        (uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return -1;
    }
    *size = (size_t)sb.st_size;
    return fd;
}

int cli_fd_at_end(int fd)
{
    char extra;
    ssize_t r;
    do r = read(fd, &extra, 1);
    while (r < 0 && errno == EINTR);
    return r == 0;
}

int cli_write_file(const char *path, const void *data, size_t len)
{
    if (!strcmp(path, "-")) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) return -1;
        return 0;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return -1;
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) { free(tmp); return -1; }
    /* mkstemp creates 0600; an output file gets the mode open(O_CREAT, 0666) would give. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) goto fail;
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 && errno != EINVAL) goto fail;
    if (close(fd) != 0) { fd = -1; goto fail; }
    fd = -1;
    if (rename(tmp, path) != 0) goto fail;
    free(tmp);
    return 0;
fail:;
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    errno = e;
    return -1;
}

int cli_parse_u64(const char *text, uint64_t *out)
{
    if (!text || !*text || *text == '-' || *text == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *text, double *out)
{
    if (!text || !*text) return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int cli_no_operands(const char *cmd, int first, int argc, char **argv)
{
    if (first >= argc) return 0;
    cli_error(cmd, "unexpected argument '%s'", argv[first]);
    return -1;
}

int cli_opt_u64(const char *cmd, const char *name, const char *text, uint64_t lo, uint64_t hi,
                uint64_t *out)
{
    uint64_t v;
    if (cli_parse_u64(text, &v) == 0 && v >= lo && v <= hi) {
        *out = v;
        return 0;
    }
    if (hi != UINT64_MAX)
        cli_error(cmd, "%s must be %llu..%llu, got '%s'", name, (unsigned long long)lo,
                  (unsigned long long)hi, text);
    else if (lo > 0)
        cli_error(cmd, "%s must be >= %llu, got '%s'", name, (unsigned long long)lo, text);
    else
        cli_error(cmd, "%s must be an unsigned integer, got '%s'", name, text);
    return -1;
}

int cli_opt_double(const char *cmd, const char *name, const char *text, double lo, int lo_open,
                   double hi, double *out)
{
    double v;
    if (cli_parse_double(text, &v) == 0 && (lo_open ? v > lo : v >= lo) && v <= hi) {
        *out = v;
        return 0;
    }
    cli_error(cmd, "%s must be in %c%g, %g], got '%s'", name, lo_open ? '(' : '[', lo, hi,
              text);
    return -1;
}

int cli_opt_error_budget(const char *cmd, const char *text, double *out)
{
    return cli_opt_double(cmd, "--error-budget", text, 0, 1, 1, out);
}

int cli_opt_shape(const char *cmd, const char *name, const char *text, alcm_shape *shape)
{
    if (cli_parse_shape(text, shape) == 0) return 0;
    cli_error(cmd, "bad %s '%s' (e.g. 100x100, at most %d dims)", name, text, ALCM_MAX_RANK);
    return -1;
}

int cli_synth_extent(const char *cmd, const alcm_shape *shape, unsigned max_log2, size_t *n,
                     size_t *row)
{
    uint64_t numel;
    if (alcm_shape_numel(shape, &numel) != ALCM_OK || numel == 0 || numel > (1ull << max_log2)) {
        cli_error(cmd, "--size must hold 1 .. 2^%u elements", max_log2);
        return -1;
    }
    *n = (size_t)numel;
    *row = shape->rank >= 2 ? (size_t)(numel / shape->dims[0]) : *n;
    return 0;
}

float *cli_synth_tensor(alcm_synth_family family, size_t n, size_t row, uint64_t seed)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    if (!x) return NULL;
    alcm_rng rng;
    alcm_rng_seed(&rng, seed);
    alcm_synth_fill(&rng, family, x, n, row);
    return x;
}

int cli_parse_shape(const char *text, alcm_shape *shape)
{
    memset(shape, 0, sizeof *shape);
    const char *p = text;
    if (!p || !*p) return -1;
    for (;;) {
        if (shape->rank == ALCM_MAX_RANK) return -1;
        if (*p < '0' || *p > '9') return -1;
        char *end;
        errno = 0;
        unsigned long long d = strtoull(p, &end, 10);
        if (errno) return -1;
        shape->dims[shape->rank++] = d;
        if (*end == '\0') break;
        if (*end != 'x' && *end != 'X' && *end != ',') return -1;
        p = end + 1;
    }
    uint64_t numel;
    return alcm_shape_numel(shape, &numel) == ALCM_OK ? 0 : -1;
}

void cli_format_shape(const alcm_shape *shape, char *buf, size_t cap)
{
    size_t off = 0;
    if (cap == 0) return;
    buf[0] = '\0';
    if (shape->rank == 0) {
        snprintf(buf, cap, "scalar");
        return;
    }
    for (uint32_t i = 0; i < shape->rank && off < cap; i++) {
        int n = snprintf(buf + off, cap - off, i ? "x%llu" : "%llu",
                         (unsigned long long)shape->dims[i]);
        if (n < 0) return;
        off += (size_t)n;
    }
}

typedef struct {
    const char *name;
    int value;
} name_value;

static int lookup(const name_value *table, size_t n, const char *text, int *out)
{
    for (size_t i = 0; i < n; i++)
        if (text && !strcmp(table[i].name, text)) {
            *out = table[i].value;
            return 0;
        }
    return -1;
}

static const char *reverse(const name_value *table, size_t n, int value)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].value == value) return table[i].name;
    return "?";
}

static const name_value k_profiles[] = {
    {"gradient", ALCM_PROFILE_GRADIENT},
    {"lossless", ALCM_PROFILE_LOSSLESS},
    {"baseline", ALCM_PROFILE_BASELINE},
};
static const name_value k_dtypes[] = {
    {"f32", ALCM_DTYPE_F32}, {"f16", ALCM_DTYPE_F16},
    {"bf16", ALCM_DTYPE_BF16}, {"bytes", ALCM_DTYPE_BYTES},
};
static const name_value k_backends[] = {
    {"auto", ALCM_BACKEND_AUTO}, {"zlib", ALCM_BACKEND_ZLIB}, {"zstd", ALCM_BACKEND_ZSTD},
};
static const name_value k_entropy[] = {
    {"learned", ALCM_ENTROPY_LEARNED}, {"measured", ALCM_ENTROPY_MEASURED},
};
#define N_OF(t) (sizeof(t) / sizeof((t)[0]))

int cli_parse_profile(const char *text, alcm_profile *out)
{
    int v;
    if (lookup(k_profiles, N_OF(k_profiles), text, &v)) return -1;
    *out = (alcm_profile)v;
    return 0;
}

int cli_parse_dtype(const char *text, alcm_dtype *out)
{
    int v;
    if (lookup(k_dtypes, N_OF(k_dtypes), text, &v)) return -1;
    *out = (alcm_dtype)v;
    return 0;
}

int cli_parse_backend(const char *text, alcm_backend *out)
{
    int v;
    if (lookup(k_backends, N_OF(k_backends), text, &v)) return -1;
    *out = (alcm_backend)v;
    return 0;
}

int cli_parse_entropy_mode(const char *text, alcm_entropy_mode *out)
{
    int v;
    if (lookup(k_entropy, N_OF(k_entropy), text, &v)) return -1;
    *out = (alcm_entropy_mode)v;
    return 0;
}

const char *cli_profile_name(alcm_profile profile)
{
    return reverse(k_profiles, N_OF(k_profiles), (int)profile);
}

const char *cli_backend_name(alcm_backend backend)
{
    return reverse(k_backends, N_OF(k_backends), (int)backend);
}

uint64_t cli_peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)ru.ru_maxrss * 1024u;
}

double cli_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- JSON ---------------------------------------------------------------------------- */

void cli_json_init(cli_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->pretty = 1;
}

static void json_indent(cli_json *j)
{
    if (!j->pretty) return;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
}

static void json_escape(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void json_key(cli_json *j, const char *key)
{
    if (j->depth > 0) {
        if (j->need_comma[j->depth]) fputc(',', j->f);
        json_indent(j);
    }
    j->need_comma[j->depth] = 1;
    if (key) {
        json_escape(j->f, key);
        fputs(j->pretty ? ": " : ":", j->f);
    }
}

void cli_json_begin_object(cli_json *j, const char *key)
{
    json_key(j, key);
    fputc('{', j->f);
    if (j->depth < 31) j->depth++;
    j->need_comma[j->depth] = 0;
}

void cli_json_end_object(cli_json *j)
{
    int had = j->need_comma[j->depth];
    if (j->depth > 0) j->depth--;
    if (had) json_indent(j);
    fputc('}', j->f);
}

void cli_json_begin_array(cli_json *j, const char *key)
{
    json_key(j, key);
    fputc('[', j->f);
    if (j->depth < 31) j->depth++;
    j->need_comma[j->depth] = 0;
}

void cli_json_end_array(cli_json *j)
{
    int had = j->need_comma[j->depth];
    if (j->depth > 0) j->depth--;
    if (had) json_indent(j);
    fputc(']', j->f);
}

void cli_json_string(cli_json *j, const char *key, const char *value)
{
    json_key(j, key);
    json_escape(j->f, value ? value : "");
}

void cli_json_number(cli_json *j, const char *key, double value)
{
    json_key(j, key);
    if (isfinite(value)) fprintf(j->f, "%.10g", value);
    else fputs("null", j->f);
}

void cli_json_int(cli_json *j, const char *key, int64_t value)
{
    json_key(j, key);
    fprintf(j->f, "%lld", (long long)value);
}

void cli_json_bool(cli_json *j, const char *key, int value)
{
    json_key(j, key);
    fputs(value ? "true" : "false", j->f);
}

void cli_json_finish(cli_json *j)
{
    fputc('\n', j->f);
    fflush(j->f);
}

int cli_json_open(cli_json *j, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) return -1;
    cli_json_init(j, f);
    return 0;
}

int cli_json_close(cli_json *j)
{
    cli_json_finish(j);
    int bad = ferror(j->f);
    if (bad && errno == 0) errno = EIO;
    if (j->f != stdout && fclose(j->f) != 0) bad = 1;
    j->f = NULL;
    return bad ? -1 : 0;
}
