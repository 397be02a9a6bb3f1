/* path_rsag_pipe.c - the rsag path with point-to-point messages, so codec work overlaps the
 * transfers: each piece leaves as soon as it is encoded, each piece and each shard sum is
 * decoded as soon as it arrives. Same bytes, same sums and same fallbacks as the bulk
 * version in path_rsag.c (docs/MPI.md, "Overlap").
 *
 * Message = a header of MSG_WORDS doubles, then the blob. Stage 1 (tag TAG_PIECE): rank r
 * sends the piece of shard d to d, in the order d = r+1, r+2, ...; header {blob length or
 * -1, the piece's error bound}. Stage 2 (tag TAG_SHARD): the owner sends its encoded shard
 * sum to every other rank; header {length or -1, the shard's error bound, the owner's input
 * norm}. Every message is received with a matched probe from a named source, in the order
 * the senders send, on the communicator's private duplicate. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_internal.h"

#define MSG_WORDS 3
#define HDR_BYTES (MSG_WORDS * sizeof(double))
#define TAG_PIECE 7301
#define TAG_SHARD 7302

/* Receives the next message with tag from src into ctx->xbuf (grown), its length in *len:
 * MPI_SUCCESS, MPI_ERR_NO_MEM, or MPI's error. */
static int recv_from(mpi_comm_ctx *ctx, int src, int tag, size_t *len)
{
    MPI_Message msg;
    MPI_Status st;
    int rc = mpi_wait_probe(src, tag, ctx->pcomm, &msg, &st);
    if (rc != MPI_SUCCESS) return rc;
    int count = 0;
    PMPI_Get_count(&st, MPI_BYTE, &count);
    if (mpi_grow((void **)&ctx->xbuf, &ctx->xbuf_cap, (size_t)count + HDR_BYTES) != 0)
        return MPI_ERR_NO_MEM; /* raised on comm: the default handler ends the job */
    rc = PMPI_Mrecv(ctx->xbuf, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    *len = (size_t)count;
    return rc;
}

/* The blob length a header announces, or -1 when it announces a failure or disagrees with
 * the message length. */
static long long announced(const unsigned char *m, size_t len)
{
    double h;
    memcpy(&h, m, sizeof h);
    if (len < HDR_BYTES || !(h >= 0.0) || h != (double)(len - HDR_BYTES)) return -1;
    return (long long)(len - HDR_BYTES);
}

/* Waiting without spinning: MPI's blocking calls poll the network in a loop, which on a
 * node with more ranks than cores takes the core from the rank whose message is awaited.
 * These poll, then sleep a little (ALCM_MPI_POLL_US, default 20 us; 0 = MPI's blocking
 * calls). */
int mpi_wait_probe(int src, int tag, MPI_Comm comm, MPI_Message *msg, MPI_Status *st)
{
    long us = mpi_env_poll_us();
    if (us == 0) return PMPI_Mprobe(src, tag, comm, msg, st);
    for (;;) {
        int flag = 0;
        int rc = PMPI_Improbe(src, tag, comm, &flag, msg, st);
        if (rc != MPI_SUCCESS || flag) return rc;
        struct timespec ts = {0, us * 1000};
        nanosleep(&ts, NULL);
    }
}

int mpi_wait_all(int n, MPI_Request *reqs)
{
    long us = mpi_env_poll_us();
    if (us == 0) return PMPI_Waitall(n, reqs, MPI_STATUSES_IGNORE);
    for (;;) {
        int flag = 0;
        int rc = PMPI_Testall(n, reqs, &flag, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS || flag) return rc;
        struct timespec ts = {0, us * 1000};
        nanosleep(&ts, NULL);
    }
}

static double header_word(const unsigned char *m, int k)
{
    double v;
    memcpy(&v, m + (size_t)k * sizeof v, sizeof v);
    return v;
}

/* The pieces of one call, encoded by the calling thread and up to opts->threads - 1
 * helpers: piece k (destination me + 1 + k) goes to its own region of ctx->blob, so pieces
 * can finish in any order; the calling thread sends them in order as they are done. */
typedef struct {
    const mpi_seg *s;
    mpi_slot **slots;            /* per piece, looked up before any thread starts */
    size_t *off, *cap, *len;     /* region of each piece (header included), blob length */
    alcm_status *st;
    alcm_info *info;
    int *done;
    int total, next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} piece_work;

static void encode_piece(piece_work *w, int k)
{
    const mpi_seg *s = w->s;
    mpi_comm_ctx *ctx = s->ctx;
    const int p = ctx->size, d = (ctx->rank + 1 + k) % p;
    size_t lo = mpi_shard_lo(s->n, p, d), m = mpi_shard_lo(s->n, p, d + 1) - lo;
    alcm_status st = ALCM_E_NOMEM;
    w->len[k] = 0;
    if (w->slots[k])
        st = mpi_encode(ctx, w->slots[k], s->src + lo, m, ctx->blob + w->off[k] + HDR_BYTES,
                        w->cap[k] - HDR_BYTES, &w->len[k], &w->info[k]);
    w->st[k] = st;
}

static void *piece_worker(void *arg)
{
    piece_work *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        int k = w->next < w->total ? w->next++ : -1;
        pthread_mutex_unlock(&w->mu);
        if (k < 0) return NULL;
        encode_piece(w, k);
        pthread_mutex_lock(&w->mu);
        w->done[k] = 1;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

/* Piece k is encoded when this returns: by a helper, or by the calling thread, which takes
 * the next unclaimed piece instead of waiting while any is left. */
static void wait_piece(piece_work *w, int k)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done[k]) {
        if (w->next < w->total) {
            int j = w->next++;
            pthread_mutex_unlock(&w->mu);
            encode_piece(w, j);
            pthread_mutex_lock(&w->mu);
            w->done[j] = 1;
            pthread_cond_broadcast(&w->cv);
        } else {
            pthread_cond_wait(&w->cv, &w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
}

int mpi_path_rsag_pipelined(const mpi_seg *s, mpi_seg_figures *f)
{
    mpi_comm_ctx *ctx = s->ctx;
    const int p = ctx->size, me = ctx->rank;
    const size_t n = s->n;
    const int safe = s->opts->result_budget > 0;
    const uint32_t tag = s->key->tag, seg = s->key->seg;
    const uint64_t count = s->key->count;
    const size_t my_lo = mpi_shard_lo(n, p, me), my_n = mpi_shard_lo(n, p, me + 1) - my_lo;
    const size_t my_bytes = my_n * sizeof(float);
    int nreq = 0, rc = MPI_SUCCESS;

    /* Room for every outgoing piece (header + worst-case blob) and this rank's shard sum. */
    const int total = p - 1;
    size_t cap = 0;
    void *mem = calloc((size_t)total, 3 * sizeof(size_t) + sizeof(mpi_slot *) +
                                          sizeof(alcm_status) + sizeof(alcm_info) + sizeof(int));
    if (!mem) return MPI_ERR_NO_MEM;
    piece_work w;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.total = total;
    w.off = mem;
    w.cap = w.off + total;
    w.len = w.cap + total;
    w.info = (alcm_info *)(w.len + total);
    w.slots = (mpi_slot **)(w.info + total);
    w.st = (alcm_status *)(w.slots + total);
    w.done = (int *)(w.st + total);
    for (int k = 0; k < total; k++) {
        int d = (me + 1 + k) % p;
        w.off[k] = cap;
        w.cap[k] = HDR_BYTES + alcm_compress_bound((mpi_shard_lo(n, p, d + 1) -
                                                    mpi_shard_lo(n, p, d)) * sizeof(float));
        cap += (w.cap[k] + 7) & ~(size_t)7;
    }
    if (mpi_grow((void **)&ctx->blob, &ctx->blob_cap, cap) != 0 ||
        mpi_grow((void **)&ctx->oblob, &ctx->oblob_cap,
                 HDR_BYTES + alcm_compress_bound(my_bytes)) != 0 ||
        mpi_grow((void **)&ctx->dec, &ctx->dec_cap, (n - my_n) * sizeof(float) + 4) != 0 ||
        mpi_grow((void **)&ctx->acc, &ctx->acc_cap, (safe || s->in_place ? n : my_n) * 4 + 4) != 0) {
        free(mem);
        return MPI_ERR_NO_MEM;
    }

    /* 1. Encode and send the pieces, nearest owner first; helpers (opts->threads - 1 of
     * them, in-process streams only: a daemon connection is one ordered channel) encode
     * ahead while the calling thread sends. */
    alcm_stream_config cfg;
    mpi_stream_config(s->opts, s->budget, &cfg);
    /* Room for every piece's slot first, so the pointers taken below stay valid. */
    int have_room = mpi_slots_reserve(ctx, (size_t)total) == 0;
    for (int k = 0; k < total; k++) {
        mpi_slot *slot = have_room ? mpi_slot_get(ctx, tag, count, seg,
                                                  1u + (uint32_t)((me + 1 + k) % p), &cfg)
                                   : NULL;
        if (slot) slot->use_daemon = s->opts->use_daemon;
        w.slots[k] = slot;
    }
    int helpers = s->opts->threads > 1 ? s->opts->threads - 1 : 0;
    if (helpers > total - 1) helpers = total - 1;
    if (s->opts->use_daemon && mpi_env_socket()) helpers = 0;
    pthread_t tid[MPI_MAX_THREADS];
    int started = 0;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    double t0 = mpi_now();
    for (int i = 0; i < helpers && i < MPI_MAX_THREADS; i++)
        if (pthread_create(&tid[started], NULL, piece_worker, &w) == 0) started++;
    int failed_any = 0;
    for (int k = 0; k < total; k++) {
        int d = (me + 1 + k) % p;
        size_t lo = mpi_shard_lo(n, p, d), m = mpi_shard_lo(n, p, d + 1) - lo;
        wait_piece(&w, k);
        unsigned char *msg = ctx->blob + w.off[k];
        double h[MSG_WORDS] = {MPI_SIZE_FAILED, 0.0, 0.0};
        size_t len = w.len[k];
        if (w.st[k] == ALCM_OK && len <= INT_MAX - HDR_BYTES) {
            f->encoded = 1;
            f->info = w.info[k];
            f->via_daemon = w.slots[k]->via_daemon == 1;
            h[0] = (double)len;
            h[1] = safe ? w.info[k].rel_l2_error * mpi_l2(s->src + lo, m) : 0.0;
        } else {
            if (!failed_any)
                mpi_debug("shard %d piece: cannot encode (%s): the call falls back", d,
                          alcm_strerror(w.st[k]));
            failed_any = 1;
            len = 0;
        }
        f->enc_bytes += m * sizeof(float);
        memcpy(msg, h, HDR_BYTES);
        rc = PMPI_Isend(msg, (int)(HDR_BYTES + len), MPI_BYTE, d, TAG_PIECE, ctx->pcomm,
                        &ctx->reqs[nreq++]);
        if (rc != MPI_SUCCESS) break;
        f->sent += HDR_BYTES + len;
        f->wire_sent += HDR_BYTES + len;
    }
    if (rc != MPI_SUCCESS) wait_piece(&w, total - 1); /* let the helpers finish */
    for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    free(mem);
    double dt = mpi_now() - t0;
    f->enc_seconds += dt;
    f->codec_seconds += dt;
    if (rc != MPI_SUCCESS) return rc;

    /* 2. Receive the pieces of the owned shard as they come (rank me-1 sends to me first),
     * decode each at once; sum in rank order once all are in. */
    int owner_failed = failed_any;
    double bound = 0.0;
    for (int k = 1; k < p; k++) {
        int src = (me - k + p) % p;
        size_t len = 0;
        rc = recv_from(ctx, src, TAG_PIECE, &len);
        if (rc != MPI_SUCCESS) return rc;
        f->received += len;
        f->wire_recv += len;
        long long bl = announced(ctx->xbuf, len);
        float *out = ctx->dec + (size_t)(src < me ? src : src - 1) * my_n;
        double td0 = mpi_now();
        if (bl < 0 || owner_failed ||
            mpi_decode_exact(ctx, ctx->xbuf + HDR_BYTES, (size_t)bl, out, my_n) != 0) {
            if (!owner_failed && bl >= 0)
                mpi_debug("the shard piece of rank %d is damaged: the call falls back", src);
            owner_failed = 1;
        } else {
            bound += header_word(ctx->xbuf, 1);
            f->dec_bytes += my_bytes;
        }
        double dt = mpi_now() - td0;
        f->dec_seconds += dt;
        f->codec_seconds += dt;
    }
    t0 = mpi_now();
    float *acc = ctx->acc;
    if (!owner_failed) {
        for (int r = 0; r < p; r++) {
            const float *piece =
                r == me ? s->src + my_lo : ctx->dec + (size_t)(r < me ? r : r - 1) * my_n;
            if (r == 0) memcpy(acc, piece, my_bytes);
            else
                for (size_t i = 0; i < my_n; i++) acc[i] += piece[i];
        }
    }

    /* 3. Re-encode the shard sum once and send it to every rank. */
    size_t olen = 0;
    alcm_info oinfo;
    memset(&oinfo, 0, sizeof oinfo);
    if (!owner_failed) {
        alcm_stream_config ocfg;
        mpi_stream_config(s->opts, s->owner_budget, &ocfg);
        mpi_slot *os = mpi_slot_get(ctx, tag, count, seg, MPI_PART_OWNER, &ocfg);
        alcm_status st = ALCM_E_NOMEM;
        if (os) {
            os->use_daemon = s->opts->use_daemon;
            double te = mpi_now();
            st = mpi_encode(ctx, os, acc, my_n, ctx->oblob + HDR_BYTES, ctx->oblob_cap - HDR_BYTES,
                            &olen, &oinfo);
            f->enc_seconds += mpi_now() - te;
            f->enc_bytes += my_bytes;
        }
        if (st != ALCM_OK || olen > INT_MAX - HDR_BYTES) {
            mpi_debug("shard sum: cannot encode (%s): the call falls back", alcm_strerror(st));
            owner_failed = 1;
            olen = 0;
        } else if (safe) {
            bound += oinfo.rel_l2_error * mpi_l2(acc, my_n);
        }
    }
    double oh[MSG_WORDS] = {owner_failed ? MPI_SIZE_FAILED : (double)olen, bound,
                            safe ? mpi_l2(s->src, n) : 0.0};
    memcpy(ctx->oblob, oh, HDR_BYTES);
    f->codec_seconds += mpi_now() - t0;
    for (int k = 1; k < p; k++) {
        rc = PMPI_Isend(ctx->oblob, (int)(HDR_BYTES + olen), MPI_BYTE, (me + k) % p, TAG_SHARD,
                        ctx->pcomm, &ctx->reqs[nreq++]);
        if (rc != MPI_SUCCESS) return rc;
        f->wire_sent += HDR_BYTES + olen;
    }
    f->sent += HDR_BYTES + olen;
    if (!owner_failed) {
        f->info = oinfo;
        f->encoded = 1;
    }

    /* 4. Decode every shard sum as it arrives, this rank's own too (every rank decodes the
     * same bytes, so every rank holds the same bits). The input is still needed if a later
     * header announces a failure: in place, or in safe mode, decode into scratch. */
    float *sum = safe || s->in_place ? ctx->acc : s->dst;
    int failed = owner_failed;
    double sq = 0.0, norms = oh[2];
    sq += bound * bound;
    if (!owner_failed) {
        double td = mpi_now();
        float *mine = sum + my_lo;
        /* acc holds the shard sum itself when sum is acc: decode after the sum's use. */
        if (mpi_decode_exact(ctx, ctx->oblob + HDR_BYTES, olen, mine, my_n) != 0) failed = 1;
        f->dec_seconds += mpi_now() - td;
        f->codec_seconds += mpi_now() - td;
        f->dec_bytes += my_bytes;
    }
    for (int k = 1; k < p; k++) {
        int src = (me - k + p) % p;
        size_t len = 0;
        rc = recv_from(ctx, src, TAG_SHARD, &len);
        if (rc != MPI_SUCCESS) return rc;
        f->received += len;
        f->wire_recv += len;
        long long bl = announced(ctx->xbuf, len);
        if (bl < 0) {
            failed = 1;
            continue;
        }
        double b = header_word(ctx->xbuf, 1);
        sq += b * b;
        norms += header_word(ctx->xbuf, 2);
        if (failed) continue;
        size_t lo = mpi_shard_lo(n, p, src), m = mpi_shard_lo(n, p, src + 1) - lo;
        double td = mpi_now();
        if (mpi_decode_exact(ctx, ctx->xbuf + HDR_BYTES, (size_t)bl, sum + lo, m) != 0) failed = 1;
        double dt = mpi_now() - td;
        f->dec_seconds += dt;
        f->codec_seconds += dt;
        f->dec_bytes += m * sizeof(float);
    }
    rc = mpi_wait_all(nreq, ctx->reqs);
    if (rc != MPI_SUCCESS) return rc;
    if (failed) {
        /* Every rank saw the same p headers and blobs, so every rank falls back. */
        mpi_debug("a shard sum is missing or damaged: the call falls back to PMPI_Allreduce");
        mpi_rsag_reset(s);
        return MPI_ALCM_FALLBACK;
    }
    if (safe) {
        t0 = mpi_now();
        int ok = mpi_safe_accept(s->key, s->opts->result_budget, sum, n, sqrt(sq), norms);
        f->codec_seconds += mpi_now() - t0;
        if (!ok) {
            mpi_stats_verify_failure();
            return MPI_ALCM_FALLBACK;
        }
    }
    if (sum != s->dst) memcpy(s->dst, sum, n * sizeof(float));
    return MPI_SUCCESS;
}
