/* comm.c - per-communicator state of the hook (streams, scratch), cached as an MPI attribute. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpi_internal.h"

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static int ctx_keyval = MPI_KEYVAL_INVALID;
static int self_keyval = MPI_KEYVAL_INVALID;
static mpi_comm_ctx *live;        /* every context not yet deleted */
static uint64_t ctx_serial;       /* contexts this process created */
static int shut_down;

int mpi_grow(void **buf, size_t *cap, size_t need)
{
    if (*cap >= need && *buf) return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need) n = n > SIZE_MAX / 2 ? need : n * 2;
    void *p = realloc(*buf, n);
    if (!p) return -1;
    *buf = p;
    *cap = n;
    return 0;
}

/* Room for one more item of size bytes in *arr (n used of *cap): doubles the array. */
static int grow_items(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, c * size);
    if (!p) return -1;
    *arr = p;
    *cap = c;
    return 0;
}

static void ctx_free(mpi_comm_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_slots; i++) alcm_stream_free(ctx->slots[i].local);
    mpi_daemon_close(ctx);
    free(ctx->slots);
    free(ctx->counters);
    free(ctx->keys);
    alcm_planner_free(ctx->planner);
    alcm_dctx_free(ctx->dctx);
    free(ctx->blob);
    free(ctx->oblob);
    free(ctx->xbuf);
    free(ctx->tmp);
    free(ctx->acc);
    free(ctx->wout);
    free(ctx->win);
    free(ctx->counts);
    free(ctx->displs);
    free(ctx->scounts);
    free(ctx->sdispls);
    free(ctx->reqs);
    free(ctx->dec);
    if (ctx->pcomm != MPI_COMM_NULL) PMPI_Comm_free(&ctx->pcomm);
    free(ctx);
}

/* MPI calls this when the communicator is freed (or the attribute deleted). */
static int ctx_delete(MPI_Comm comm, int keyval, void *attr, void *extra)
{
    (void)comm;
    (void)keyval;
    (void)extra;
    mpi_comm_ctx *ctx = attr;
    pthread_mutex_lock(&ctx_lock);
    for (mpi_comm_ctx **p = &live; *p; p = &(*p)->next) {
        if (*p == ctx) {
            *p = ctx->next;
            break;
        }
    }
    pthread_mutex_unlock(&ctx_lock);
    ctx_free(ctx);
    return MPI_SUCCESS;
}

/* A 64-bit nonce unique to this process and moment (splitmix64 of pid, time, serial). */
static uint64_t make_nonce(uint64_t serial)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t z = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec * 1000000007u ^
                 (uint64_t)ts.tv_nsec ^ (serial << 48);
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int mpi_comm_ctx_get(MPI_Comm comm, mpi_comm_ctx **out)
{
    *out = NULL;
    int rc = MPI_SUCCESS;
    pthread_mutex_lock(&ctx_lock);
    if (ctx_keyval == MPI_KEYVAL_INVALID)
        rc = PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, ctx_delete, &ctx_keyval, NULL);
    int keyval = ctx_keyval;
    uint64_t serial = ++ctx_serial;
    pthread_mutex_unlock(&ctx_lock);
    if (rc != MPI_SUCCESS) return rc;

    void *val = NULL;
    int flag = 0;
    rc = PMPI_Comm_get_attr(comm, keyval, &val, &flag);
    if (rc != MPI_SUCCESS) return rc;
    if (flag) {
        *out = val;
        return MPI_SUCCESS;
    }

    /* First compressed call on comm (collective): agree on the job nonce first, so a
     * rank that then fails to allocate has not skipped a collective. */
    int rank, size;
    PMPI_Comm_rank(comm, &rank);
    PMPI_Comm_size(comm, &size);
    uint64_t job = rank == 0 ? make_nonce(serial) : 0;
    rc = PMPI_Bcast(&job, 1, MPI_UINT64_T, 0, comm);
    if (rc != MPI_SUCCESS) return rc;
    /* The hook's own point-to-point messages travel on a duplicate, so they never meet the
     * program's messages on comm. */
    MPI_Comm pcomm = MPI_COMM_NULL;
    rc = PMPI_Comm_dup(comm, &pcomm);
    if (rc != MPI_SUCCESS) return rc;

    mpi_comm_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        PMPI_Comm_free(&pcomm);
        return MPI_ERR_NO_MEM;
    }
    ctx->comm = comm;
    ctx->pcomm = pcomm;
    ctx->rank = rank;
    ctx->size = size;
    ctx->job = job;
    ctx->dctx = alcm_dctx_create();
    size_t p = (size_t)size;
    ctx->wout = calloc(4 * p, sizeof *ctx->wout);
    ctx->win = calloc(4 * p, sizeof *ctx->win);
    ctx->counts = calloc(p, sizeof *ctx->counts);
    ctx->displs = calloc(p, sizeof *ctx->displs);
    ctx->scounts = calloc(p, sizeof *ctx->scounts);
    ctx->sdispls = calloc(p, sizeof *ctx->sdispls);
    ctx->reqs = calloc(2 * p, sizeof *ctx->reqs);
    alcm_status pst = alcm_planner_create(NULL, &ctx->planner);
    if (!ctx->dctx || !ctx->wout || !ctx->win || !ctx->counts || !ctx->displs ||
        !ctx->scounts || !ctx->sdispls || !ctx->reqs || pst != ALCM_OK) {
        ctx_free(ctx);
        return MPI_ERR_NO_MEM;
    }
    rc = PMPI_Comm_set_attr(comm, keyval, ctx);
    if (rc != MPI_SUCCESS) {
        ctx_free(ctx);
        return rc;
    }
    pthread_mutex_lock(&ctx_lock);
    ctx->next = live;
    live = ctx;
    pthread_mutex_unlock(&ctx_lock);
    *out = ctx;
    return MPI_SUCCESS;
}

mpi_slot *mpi_slot_get(mpi_comm_ctx *ctx, uint32_t tag, uint64_t count, uint32_t seg,
                       uint32_t part, const alcm_stream_config *cfg)
{
    for (size_t i = 0; i < ctx->n_slots; i++) {
        mpi_slot *s = &ctx->slots[i];
        if (s->tag != tag || s->count != count || s->seg != seg || s->part != part) continue;
        if (!alcm_stream_config_equal(&s->cfg, cfg)) {
            /* New options: fresh state, as the daemon does on a changed config. */
            alcm_stream_free(s->local);
            s->local = NULL;
            s->cfg = *cfg;
        }
        return s;
    }
    if (grow_items((void **)&ctx->slots, &ctx->cap_slots, ctx->n_slots, sizeof *ctx->slots))
        return NULL;
    mpi_slot *s = &ctx->slots[ctx->n_slots++];
    memset(s, 0, sizeof *s);
    s->tag = tag;
    s->count = count;
    s->seg = seg;
    s->part = part;
    s->cfg = *cfg;
    s->via_daemon = -1; /* undecided: the first encode picks the path */
    if (part == MPI_PART_OWNER)
        snprintf(s->name, sizeof s->name, "alcm-mpi.%016llx.t%u.n%llu.s%u.po.r%d",
                 (unsigned long long)ctx->job, tag, (unsigned long long)count, seg, ctx->rank);
    else
        snprintf(s->name, sizeof s->name, "alcm-mpi.%016llx.t%u.n%llu.s%u.p%u.r%d",
                 (unsigned long long)ctx->job, tag, (unsigned long long)count, seg, part,
                 ctx->rank);
    return s;
}

int mpi_slots_reserve(mpi_comm_ctx *ctx, size_t more)
{
    while (ctx->cap_slots - ctx->n_slots < more) {
        size_t n = ctx->cap_slots; /* grow_items doubles when n reaches the capacity */
        if (grow_items((void **)&ctx->slots, &ctx->cap_slots, n, sizeof *ctx->slots)) return -1;
    }
    return 0;
}

void mpi_slots_reset_path(mpi_comm_ctx *ctx, uint32_t tag, uint64_t count, uint32_t seg,
                          alcm_path path)
{
    for (size_t i = 0; i < ctx->n_slots; i++) {
        mpi_slot *s = &ctx->slots[i];
        if (s->tag != tag || s->count != count || s->seg != seg) continue;
        int whole = s->part == MPI_PART_WHOLE;
        if ((path == ALCM_PATH_ALLGATHER && whole) || (path == ALCM_PATH_RSAG && !whole))
            mpi_slot_reset(ctx, s);
    }
}

mpi_key *mpi_key_get(mpi_comm_ctx *ctx, uint32_t tag, uint64_t count, uint32_t seg)
{
    for (size_t i = 0; i < ctx->n_keys; i++) {
        mpi_key *k = &ctx->keys[i];
        if (k->tag == tag && k->count == count && k->seg == seg) return k;
    }
    if (grow_items((void **)&ctx->keys, &ctx->cap_keys, ctx->n_keys, sizeof *ctx->keys))
        return NULL;
    mpi_key *k = &ctx->keys[ctx->n_keys++];
    memset(k, 0, sizeof *k);
    k->tag = tag;
    k->count = count;
    k->seg = seg;
    k->last_path = -1;
    k->last_compressed = -1;
    return k;
}

uint64_t mpi_next_call_index(mpi_comm_ctx *ctx, uint64_t count)
{
    for (size_t i = 0; i < ctx->n_counters; i++)
        if (ctx->counters[i].count == count) return ctx->counters[i].calls++;
    if (grow_items((void **)&ctx->counters, &ctx->cap_counters, ctx->n_counters,
                   sizeof *ctx->counters))
        return 0; /* out of memory: every call of this count shares stream 0 */
    ctx->counters[ctx->n_counters].count = count;
    ctx->counters[ctx->n_counters].calls = 1;
    ctx->n_counters++;
    return 0;
}

void mpi_shutdown(void)
{
    pthread_mutex_lock(&ctx_lock);
    int done = shut_down;
    shut_down = 1;
    pthread_mutex_unlock(&ctx_lock);
    if (done) return;
    if (mpi_env_report()) alcm_mpi_print_report(stderr);
    for (;;) {
        pthread_mutex_lock(&ctx_lock);
        mpi_comm_ctx *ctx = live;
        int keyval = ctx_keyval;
        pthread_mutex_unlock(&ctx_lock);
        if (!ctx) break;
        /* Runs ctx_delete, which unlinks and frees ctx. */
        if (PMPI_Comm_delete_attr(ctx->comm, keyval) != MPI_SUCCESS) {
            /* MPI refused: the attribute may still point at ctx, so only unlink it. */
            pthread_mutex_lock(&ctx_lock);
            if (live == ctx) live = ctx->next;
            pthread_mutex_unlock(&ctx_lock);
        }
    }
    pthread_mutex_lock(&ctx_lock);
    if (ctx_keyval != MPI_KEYVAL_INVALID) PMPI_Comm_free_keyval(&ctx_keyval);
    pthread_mutex_unlock(&ctx_lock);
}

static int self_delete(MPI_Comm comm, int keyval, void *attr, void *extra)
{
    (void)comm;
    (void)keyval;
    (void)attr;
    (void)extra;
    mpi_shutdown();
    return MPI_SUCCESS;
}

void mpi_install_finalize_hook(void)
{
    pthread_mutex_lock(&ctx_lock);
    if (self_keyval == MPI_KEYVAL_INVALID &&
        PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, self_delete, &self_keyval, NULL) ==
            MPI_SUCCESS)
        PMPI_Comm_set_attr(MPI_COMM_SELF, self_keyval, NULL);
    pthread_mutex_unlock(&ctx_lock);
}
