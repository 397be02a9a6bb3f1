/* config.c - the interposer's settings: read from the environment, shared by world rank 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

static int parse_double(const char *name, double lo, double hi, double *out)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    double d = strtod(v, &end);
    if (*end != '\0' || !(d >= lo && d <= hi)) {
        mpi_warn("ignoring %s=%s (want a number in [%g, %g])", name, v, lo, hi);
        return 0;
    }
    *out = d;
    return 1;
}

static int parse_u64(const char *name, unsigned long long lo, unsigned long long hi,
                     unsigned long long *out)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    unsigned long long u = strtoull(v, &end, 10);
    if (*end != '\0' || v[0] == '-' || u < lo || u > hi) {
        mpi_warn("ignoring %s=%s (want an integer in [%llu, %llu])", name, v, lo, hi);
        return 0;
    }
    *out = u;
    return 1;
}

static void parse_flag(const char *name, int *out)
{
    const char *v = getenv(name);
    if (!v || !*v) return;
    if (!strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))
        *out = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
        *out = 0;
    else
        mpi_warn("ignoring %s=%s (want 0/1, on/off)", name, v);
}

void mpi_config_from_env(mpi_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->enabled = 1;
    cfg->period = 1;
    alcm_mpi_options_default(&cfg->opts);
    const char *prof = getenv("ALCM_MPI_PROFILE");
    if (prof && *prof) {
        if (!strcmp(prof, "training")) alcm_mpi_options_preset(&cfg->opts, ALCM_MPI_TRAINING);
        else if (strcmp(prof, "safe") != 0)
            mpi_warn("ignoring ALCM_MPI_PROFILE=%s (want safe or training)", prof);
    }
    cfg->opts.min_bytes = MPI_DEFAULT_MIN_BYTES;

    parse_flag("ALCM_MPI", &cfg->enabled);
    unsigned long long u;
    if (parse_u64("ALCM_MPI_MIN_BYTES", 0, (unsigned long long)1 << 40, &u))
        cfg->opts.min_bytes = (size_t)u;
    if (parse_u64("ALCM_MPI_PERIOD", 1, 1u << 20, &u)) cfg->period = (uint32_t)u;
    parse_double("ALCM_MPI_ERROR_BUDGET", 1e-9, 1.0, &cfg->opts.error_budget);
    parse_double("ALCM_MPI_RESULT_BUDGET", 0.0, 1.0, &cfg->opts.result_budget);
    parse_double("ALCM_MPI_SHARD_BUDGET", 0.0, 1.0, &cfg->opts.shard_budget);
    parse_double("ALCM_MPI_AGGRESSIVENESS", 0.0, 1.0, &cfg->opts.aggressiveness);
    parse_double("ALCM_MPI_PRUNE", 0.0, 0.25, &cfg->opts.prune_ratio);
    parse_flag("ALCM_MPI_ADAPTIVE", &cfg->opts.adaptive);
    parse_flag("ALCM_MPI_DETERMINISTIC", &cfg->opts.deterministic);
    parse_flag("ALCM_MPI_ERROR_FEEDBACK", &cfg->opts.error_feedback);
    parse_flag("ALCM_MPI_USE_DAEMON", &cfg->opts.use_daemon);
    parse_flag("ALCM_MPI_PIPELINE", &cfg->opts.pipeline);
    if (parse_u64("ALCM_MPI_BLOCK", 0, 1u << 30, &u)) cfg->opts.block_size = (uint32_t)u;
    if (parse_u64("ALCM_MPI_THREADS", 0, MPI_MAX_THREADS, &u)) cfg->opts.threads = (int)u;
    if (parse_u64("ALCM_MPI_SEGMENT", 0, MPI_SEGMENT_ELEMS, &u))
        cfg->opts.segment_elems = (size_t)u;
    const char *path = getenv("ALCM_MPI_PATH");
    if (path && *path) {
        alcm_path ap;
        if (!strcmp(path, "auto")) cfg->opts.path = ALCM_MPI_PATH_AUTO;
        else if (alcm_path_parse(path, &ap) == ALCM_OK) cfg->opts.path = (alcm_mpi_path)ap;
        else mpi_warn("ignoring ALCM_MPI_PATH=%s (want auto, plain, allgather or rsag)", path);
    }
    /* A result bound and residuals carried across calls exclude each other: an explicit
     * ALCM_MPI_ERROR_FEEDBACK=1 turns the bound off, an explicit result budget the
     * feedback. */
    if (cfg->opts.error_feedback && cfg->opts.result_budget > 0) {
        const char *rb = getenv("ALCM_MPI_RESULT_BUDGET");
        if (rb && *rb) cfg->opts.error_feedback = 0;
        else cfg->opts.result_budget = 0.0;
    }
    const char *b = getenv("ALCM_MPI_BACKEND");
    if (b && *b) {
        if (!strcmp(b, "auto")) cfg->opts.backend = ALCM_BACKEND_AUTO;
        else if (!strcmp(b, "zlib")) cfg->opts.backend = ALCM_BACKEND_ZLIB;
        else if (!strcmp(b, "zstd")) cfg->opts.backend = ALCM_BACKEND_ZSTD;
        else mpi_warn("ignoring ALCM_MPI_BACKEND=%s (want auto, zlib or zstd)", b);
    }
}

/* The settings travel as fixed-width fields, so no struct padding crosses the wire. */
int mpi_config_share(mpi_config *cfg)
{
    double d[5] = {cfg->opts.error_budget, cfg->opts.aggressiveness, cfg->opts.prune_ratio,
                   cfg->opts.result_budget, cfg->opts.shard_budget};
    uint64_t u[14] = {(uint64_t)cfg->enabled, cfg->period, cfg->opts.min_bytes,
                      (uint64_t)cfg->opts.adaptive, (uint64_t)cfg->opts.deterministic,
                      (uint64_t)cfg->opts.error_feedback, (uint64_t)cfg->opts.use_daemon,
                      cfg->opts.block_size, (uint64_t)cfg->opts.backend,
                      cfg->opts.segment_elems, (uint64_t)cfg->opts.profile,
                      (uint64_t)(int64_t)cfg->opts.path, (uint64_t)cfg->opts.pipeline,
                      (uint64_t)cfg->opts.threads};
    int rc = PMPI_Bcast(d, 5, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS) rc = PMPI_Bcast(u, 14, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
    cfg->opts.error_budget = d[0];
    cfg->opts.aggressiveness = d[1];
    cfg->opts.prune_ratio = d[2];
    cfg->opts.result_budget = d[3];
    cfg->opts.shard_budget = d[4];
    cfg->enabled = (int)u[0];
    cfg->period = (uint32_t)u[1];
    cfg->opts.min_bytes = (size_t)u[2];
    cfg->opts.adaptive = (int)u[3];
    cfg->opts.deterministic = (int)u[4];
    cfg->opts.error_feedback = (int)u[5];
    cfg->opts.use_daemon = (int)u[6];
    cfg->opts.block_size = (uint32_t)u[7];
    cfg->opts.backend = (alcm_backend)u[8];
    cfg->opts.segment_elems = (size_t)u[9];
    cfg->opts.profile = (alcm_mpi_profile)u[10];
    cfg->opts.path = (alcm_mpi_path)(int64_t)u[11];
    cfg->opts.pipeline = (int)u[12];
    cfg->opts.threads = (int)u[13];
    return MPI_SUCCESS;
}
