/* session.c - a client connection: reads frames into their final buffers, enforces the
 * idle timeout and flow control, writes replies. */
#include "session.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define SKIP_BUF_SIZE 65536
#define SOCKET_BUFFER (4 << 20)
/* Largest single buffer handed to libuv (uv_buf_t lengths are unsigned int). */
#define MAX_BUF_CHUNK ((size_t)1 << 30)

typedef struct {
    uv_write_t w;
    alcmd_session *s;
    uint8_t *frame;
    uint8_t *payload;
    size_t payload_cap;
    uint64_t hold;
} out_write;

static void on_handle_closed(uv_handle_t *h)
{
    alcmd_session *s = h->data;
    if (--s->handles_open > 0) return;
    alcmd_server *srv = s->srv;
    free(s->skip_buf);
    free(s);
    alcmd_server_check_drained(srv);
}

static void start_reading(alcmd_session *s);
static void progress_arm(alcmd_session *s);

static int mid_frame(const alcmd_session *s)
{
    return s->state != ALCMD_RD_PREFIX || s->got > 0;
}

void alcmd_session_close(alcmd_session *s)
{
    if (s->closing) return;
    s->closing = 1;
    alcmd_server *srv = s->srv;
    if (s->reading) uv_read_stop((uv_stream_t *)&s->pipe);
    s->reading = 0;
    uv_timer_stop(&s->timer);
    if (s->state == ALCMD_RD_WAIT_MEMORY) alcmd_request_unadmit(s->cur);
    if (s->cur) {
        alcmd_request_discard(s->cur);
        s->cur = NULL;
    }
    free(s->hdr);
    s->hdr = NULL;
    alcmd_shm_unref(s->shm);   /* requests still running hold their own reference */
    s->shm = NULL;
    for (alcmd_request *r = s->reqs; r; r = r->s_next) r->session = NULL;
    s->reqs = NULL;
    if (s->prev) s->prev->next = s->next;
    else srv->sessions = s->next;
    if (s->next) s->next->prev = s->prev;
    srv->n_sessions--;
    alcmd_log(ALCMD_LOG_DEBUG, "connection %llu closed", (unsigned long long)s->serial);
    uv_close((uv_handle_t *)&s->pipe, on_handle_closed);
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
}

static void on_write(uv_write_t *w, int status)
{
    out_write *o = w->data;
    alcmd_session *s = o->s;
    free(o->frame);
    alcmd_reply_done(s->srv, o->payload, o->payload_cap, o->hold);
    free(o);
    s->writes--;
    s->progress_writes++;
    if (s->closing) return;
    if (status < 0) {
        alcmd_log(ALCMD_LOG_INFO, "connection %llu: write failed (%s), closing",
                  (unsigned long long)s->serial, uv_strerror(status));
        alcmd_session_close(s);
        return;
    }
    if (s->fatal && s->writes == 0) {
        alcmd_session_close(s);
        return;
    }
    alcmd_session_update(s);
}

void alcmd_session_send(alcmd_session *s, const ProtobufCMessage *header, uint8_t *payload,
                        size_t payload_len, size_t payload_cap, uint64_t hold)
{
    /* uv_buf_t lengths are unsigned int: payloads above MAX_BUF_CHUNK go in pieces. */
    size_t chunks = (payload_len + MAX_BUF_CHUNK - 1) / MAX_BUF_CHUNK;
    uv_buf_t local[8], *bufs = local;
    out_write *o = NULL;
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    if (!s->closing) {
        if (chunks + 1 > sizeof local / sizeof local[0])
            bufs = malloc((chunks + 1) * sizeof *bufs);
        o = calloc(1, sizeof *o);
        frame = alcm_wire_frame_pack(header, payload_len, &frame_len);
    }
    if (!o || !frame || !bufs) {
        if (!s->closing) {
            alcmd_log(ALCMD_LOG_ERR, "connection %llu: out of memory for a reply, closing",
                      (unsigned long long)s->serial);
            alcmd_session_close(s);
        }
        if (bufs != local) free(bufs);
        free(o);
        free(frame);
        alcmd_reply_done(s->srv, payload, payload_cap, hold);
        return;
    }
    o->s = s;
    o->frame = frame;
    o->payload = payload;
    o->payload_cap = payload_cap;
    o->hold = hold;
    o->w.data = o;
    bufs[0] = uv_buf_init((char *)frame, (unsigned)frame_len);
    for (size_t i = 0; i < chunks; i++) {
        size_t off = i * MAX_BUF_CHUNK;
        size_t n = payload_len - off < MAX_BUF_CHUNK ? payload_len - off : MAX_BUF_CHUNK;
        bufs[i + 1] = uv_buf_init((char *)payload + off, (unsigned)n);
    }
    s->writes++;
    int rc = uv_write(&o->w, (uv_stream_t *)&s->pipe, bufs, (unsigned)(chunks + 1), on_write);
    if (bufs != local) free(bufs);   /* libuv keeps its own copy of the array */
    if (rc < 0) on_write(&o->w, rc);
}

void alcmd_session_error(alcmd_session *s, uint64_t id, alcm_wire_error code,
                         alcm_status status, const char *message, int fatal)
{
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    char text[ALCM_WIRE_MAX_MESSAGE_TEXT + 1];
    snprintf(text, sizeof text, "%s", message ? message : "");
    r.op = ALCMWIRE__OP__OP_ERROR;
    r.request_id = id;
    r.error = code;
    r.message = text;
    r.alcm_status = status;
    if (fatal) s->fatal = 1;
    alcmd_session_send(s, &r.base, NULL, 0, 0, 0);
    if (fatal) alcmd_session_update(s);   /* stops reading */
}

/* Answers a frame-level error: counted, logged, sent, and the connection closed after. */
static void frame_error(alcmd_session *s, alcm_wire_error code, const char *msg)
{
    alcmd_counters_error(&s->srv->total, (int)code);
    alcmd_log(ALCMD_LOG_NOTICE, "connection %llu (uid %u pid %d): %s: %s, closing",
              (unsigned long long)s->serial, s->peer.uid, s->peer.pid,
              alcm_wire_error_name(code), msg);
    if (s->cur) {
        alcmd_request_discard(s->cur);
        s->cur = NULL;
    }
    alcmd_session_error(s, 0, code, ALCM_OK, msg, 1);
}

void alcmd_session_update(alcmd_session *s)
{
    if (s->closing) return;
    alcmd_server *srv = s->srv;
    int between = !mid_frame(s);
    int want = !s->fatal && s->state != ALCMD_RD_WAIT_MEMORY &&
               s->pending < srv->cfg.max_pending && !(srv->draining && between);
    if (want && !s->reading) {
        start_reading(s);
    } else if (!want && s->reading) {
        uv_read_stop((uv_stream_t *)&s->pipe);
        s->reading = 0;
    }
    if (srv->draining && between && s->pending == 0 && s->writes == 0) {
        alcmd_session_close(s);
        return;
    }
    progress_arm(s);
}

void alcmd_session_request_done(alcmd_session *s, alcmd_request *req)
{
    if (req->s_prev) req->s_prev->s_next = req->s_next;
    else s->reqs = req->s_next;
    if (req->s_next) req->s_next->s_prev = req->s_prev;
    req->s_prev = req->s_next = NULL;
    s->pending--;
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

/* Takes the descriptors that arrived with the frame (SCM_RIGHTS): keeps the first when
 * `want`, closes the others. Returns the kept descriptor or -1. */
static int take_fds(alcmd_session *s, int want)
{
    int kept = -1;
    while (uv_pipe_pending_count(&s->pipe) > 0) {
        uv_pipe_t *tmp = malloc(sizeof *tmp);
        if (!tmp) break;
        uv_pipe_init(s->srv->loop, tmp, 0);
        int rc = uv_accept((uv_stream_t *)&s->pipe, (uv_stream_t *)tmp);
        uv_os_fd_t fd;
        if (rc == 0 && want && kept < 0 && uv_fileno((uv_handle_t *)tmp, &fd) == 0)
            kept = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        uv_close((uv_handle_t *)tmp, free_handle);   /* closes the received descriptor */
        if (rc != 0) break;
    }
    return kept;
}

/* The frame is complete: hand the request over. */
static void frame_done(alcmd_session *s)
{
    alcmd_request *req = s->cur;
    s->cur = NULL;
    req->fd = take_fds(s, req->op == ALCMWIRE__OP__OP_ATTACH_SHM);
    s->state = ALCMD_RD_PREFIX;
    s->got = 0;
    req->s_next = s->reqs;
    if (s->reqs) s->reqs->s_prev = req;
    s->reqs = req;
    s->pending++;
    alcmd_request_start(req);
}

static void start_payload(alcmd_session *s)
{
    alcmd_request *req = s->cur;
    if (alcmd_request_take_payload(req) != 0) {
        uint64_t id = req->id;
        alcmd_request_discard(req);
        s->cur = NULL;
        alcmd_counters_error(&s->srv->total, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY);
        alcmd_session_error(s, id, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY, ALCM_E_NOMEM,
                            "no memory for the payload", 0);
        s->state = ALCMD_RD_SKIP;
        s->skip_left = s->pf.payload_len;
        return;
    }
    s->state = ALCMD_RD_PAYLOAD;
    s->got = 0;
}

void alcmd_session_memory_ready(alcmd_session *s)
{
    start_payload(s);
    /* Reading resumes mid-frame: a new progress interval starts. */
    s->progress_read = 0;
    alcmd_session_update(s);
}

static void header_done(alcmd_session *s)
{
    Alcmwire__Request *r;
    uint64_t id;
    char msg[ALCM_WIRE_MAX_MESSAGE_TEXT];
    alcm_wire_error e = alcm_wire_request_parse(s->hdr, s->pf.header_len, s->pf.payload_len,
                                                &r, &id, msg, sizeof msg);
    free(s->hdr);
    s->hdr = NULL;
    s->got = 0;
    if (e != ALCMWIRE__ERROR_CODE__ERR_NONE) {
        alcmd_counters_error(&s->srv->total, (int)e);
        alcmd_log(ALCMD_LOG_INFO, "connection %llu: request %llu rejected: %s: %s",
                  (unsigned long long)s->serial, (unsigned long long)id,
                  alcm_wire_error_name(e), msg);
        alcmd_session_error(s, id, e, ALCM_OK, msg, 0);
        take_fds(s, 0);
        s->state = s->pf.payload_len ? ALCMD_RD_SKIP : ALCMD_RD_PREFIX;
        s->skip_left = s->pf.payload_len;
        return;
    }
    alcmd_request *req = alcmd_request_create(s->srv, s, r, id, s->peer.uid,
                                              (size_t)s->pf.payload_len);
    if (!req) {
        alcm_wire_request_free(r);
        frame_error(s, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY, "no memory for a request");
        return;
    }
    s->cur = req;
    if (req->payload_len == 0) {
        frame_done(s);
        return;
    }
    if (alcmd_request_admit(req) != 0) {
        s->state = ALCMD_RD_WAIT_MEMORY;
        return;
    }
    start_payload(s);
}

static void prefix_done(alcmd_session *s)
{
    s->got = 0;
    alcm_wire_error e = alcm_wire_prefix_read(s->prefix, s->srv->cfg.max_message_bytes, &s->pf);
    if (e != ALCMWIRE__ERROR_CODE__ERR_NONE) {
        char msg[256];
        switch (e) {
        case ALCMWIRE__ERROR_CODE__ERR_BAD_MAGIC:
            snprintf(msg, sizeof msg, "frame does not start with the magic \"%s\"",
                     ALCM_WIRE_MAGIC);
            break;
        case ALCMWIRE__ERROR_CODE__ERR_BAD_VERSION:
            snprintf(msg, sizeof msg, "frame version %u; this daemon speaks version %d",
                     s->pf.version, ALCM_WIRE_VERSION);
            break;
        case ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE:
            snprintf(msg, sizeof msg, "payload of %llu bytes exceeds max_message_bytes %llu",
                     (unsigned long long)s->pf.payload_len,
                     (unsigned long long)s->srv->cfg.max_message_bytes);
            break;
        default:
            snprintf(msg, sizeof msg, "flags 0x%x or header length %u (limit %u) invalid",
                     s->pf.flags, s->pf.header_len, ALCM_WIRE_MAX_HEADER);
            break;
        }
        frame_error(s, e, msg);
        return;
    }
    if (s->pf.header_len == 0) {
        header_done(s);
        return;
    }
    s->hdr = malloc(s->pf.header_len);
    if (!s->hdr) {
        frame_error(s, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY, "no memory for a header");
        return;
    }
    s->state = ALCMD_RD_HEADER;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    alcmd_session *s = h->data;
    size_t left;
    switch (s->state) {
    case ALCMD_RD_PREFIX:
        *buf = uv_buf_init((char *)s->prefix + s->got, (unsigned)(sizeof s->prefix - s->got));
        return;
    case ALCMD_RD_HEADER:
        *buf = uv_buf_init((char *)s->hdr + s->got, (unsigned)(s->pf.header_len - s->got));
        return;
    case ALCMD_RD_PAYLOAD:
        left = s->cur->payload_len - s->got;
        if (left > MAX_BUF_CHUNK) left = MAX_BUF_CHUNK;
        *buf = uv_buf_init((char *)s->cur->payload + s->got, (unsigned)left);
        return;
    case ALCMD_RD_SKIP:
        if (!s->skip_buf) s->skip_buf = malloc(SKIP_BUF_SIZE);
        left = s->skip_left < SKIP_BUF_SIZE ? (size_t)s->skip_left : SKIP_BUF_SIZE;
        *buf = uv_buf_init((char *)s->skip_buf, s->skip_buf ? (unsigned)left : 0);
        return;
    default:
        *buf = uv_buf_init(NULL, 0);
        return;
    }
}

/* Moves the state machine after n bytes landed in the buffer on_alloc gave. */
static void advance(alcmd_session *s, size_t n)
{
    switch (s->state) {
    case ALCMD_RD_PREFIX:
        s->got += n;
        if (s->got == sizeof s->prefix) prefix_done(s);
        break;
    case ALCMD_RD_HEADER:
        s->got += n;
        if (s->got == s->pf.header_len) header_done(s);
        break;
    case ALCMD_RD_PAYLOAD:
        s->got += n;
        if (s->got == s->cur->payload_len) frame_done(s);
        break;
    case ALCMD_RD_SKIP:
        s->skip_left -= n;
        if (s->skip_left == 0) {
            s->state = ALCMD_RD_PREFIX;
            s->got = 0;
        }
        break;
    default:
        break;
    }
}

/* Bytes the sender still owes for the frame being read (at least what it must send in one
 * progress interval when less than min_progress_bytes remain). */
static uint64_t frame_left(const alcmd_session *s)
{
    switch (s->state) {
    case ALCMD_RD_PREFIX: return sizeof s->prefix - s->got;
    case ALCMD_RD_HEADER: return s->pf.header_len - s->got + s->pf.payload_len;
    case ALCMD_RD_PAYLOAD: return s->cur->payload_len - s->got;
    case ALCMD_RD_SKIP: return s->skip_left;
    default: return 0;
    }
}

/* Read side: mid-frame while the daemon reads. Write side: replies queued. */
static int read_watched(const alcmd_session *s)
{
    return s->reading && mid_frame(s) && s->state != ALCMD_RD_WAIT_MEMORY;
}

static void on_progress_tick(uv_timer_t *t)
{
    alcmd_session *s = t->data;
    if (s->closing) return;
    alcmd_server *srv = s->srv;
    uint32_t ms = srv->cfg.idle_timeout_ms;
    if (!s->fatal && read_watched(s)) {
        uint64_t need = frame_left(s);
        if (need > srv->cfg.min_progress_bytes) need = srv->cfg.min_progress_bytes;
        if (s->progress_read < need) {
            char msg[160];
            snprintf(msg, sizeof msg, "%llu bytes of an unfinished frame in %u ms (at least "
                     "%llu required)", (unsigned long long)s->progress_read, ms,
                     (unsigned long long)need);
            frame_error(s, ALCMWIRE__ERROR_CODE__ERR_TIMEOUT, msg);
            return;
        }
    }
    size_t queued = s->pipe.write_queue_size;
    if (s->writes > 0 && s->progress_writes == 0 && queued >= s->progress_queue) {
        /* It does not read its replies: they would stay reserved for ever. */
        alcmd_counters_error(&srv->total, ALCMWIRE__ERROR_CODE__ERR_TIMEOUT);
        alcmd_log(ALCMD_LOG_NOTICE, "connection %llu (uid %u pid %d): ERR_TIMEOUT: took none "
                  "of its %u queued repl%s (%zu bytes) in %u ms, closing",
                  (unsigned long long)s->serial, s->peer.uid, s->peer.pid, s->writes,
                  s->writes == 1 ? "y" : "ies", queued, ms);
        alcmd_session_close(s);
        return;
    }
    s->progress_read = 0;
    s->progress_writes = 0;
    s->progress_queue = queued;
}

/* Runs the progress timer exactly while something is watched; a new watch starts a fresh
 * interval. */
static void progress_arm(alcmd_session *s)
{
    if (s->closing) return;
    int want = read_watched(s) || s->writes > 0;
    if (want && !s->progress_on) {
        s->progress_on = 1;
        s->progress_read = 0;
        s->progress_writes = 0;
        s->progress_queue = s->pipe.write_queue_size;
        uv_timer_start(&s->timer, on_progress_tick, s->srv->cfg.idle_timeout_ms,
                       s->srv->cfg.idle_timeout_ms);
    } else if (!want && s->progress_on) {
        s->progress_on = 0;
        uv_timer_stop(&s->timer);
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    alcmd_session *s = stream->data;
    if (nread == 0 || s->closing) return;
    if (nread == UV_ENOBUFS) {
        frame_error(s, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY, "no memory to read");
        return;
    }
    if (nread < 0) {
        if (mid_frame(s))
            alcmd_log(ALCMD_LOG_NOTICE, "connection %llu (uid %u pid %d) closed mid-frame (%s)",
                      (unsigned long long)s->serial, s->peer.uid, s->peer.pid,
                      uv_strerror((int)nread));
        alcmd_session_close(s);
        return;
    }
    /* Descriptors queue up with the bytes of an unfinished frame: past the cap they are
     * closed at once and the peer dropped. */
    if (uv_pipe_pending_count(&s->pipe) > (int)s->srv->cfg.max_fds_per_connection) {
        int n = uv_pipe_pending_count(&s->pipe);
        take_fds(s, 0);
        char msg[128];
        snprintf(msg, sizeof msg, "%d file descriptors queued (limit %u per connection)", n,
                 s->srv->cfg.max_fds_per_connection);
        frame_error(s, ALCMWIRE__ERROR_CODE__ERR_BAD_FRAME, msg);
        return;
    }
    s->progress_read += (size_t)nread;
    advance(s, (size_t)nread);
    if (s->closing) return;
    alcmd_session_update(s);
}

static void start_reading(alcmd_session *s)
{
    if (uv_read_start((uv_stream_t *)&s->pipe, on_alloc, on_read) == 0) s->reading = 1;
    else alcmd_session_close(s);
}

void alcmd_session_accept(alcmd_server *srv, uv_stream_t *listener)
{
    alcmd_session *s = calloc(1, sizeof *s);
    if (!s) {
        alcmd_log(ALCMD_LOG_ERR, "out of memory accepting a connection");
        return;
    }
    s->srv = srv;
    uv_pipe_init(srv->loop, &s->pipe, 1);   /* ipc: descriptors can come with frames */
    uv_timer_init(srv->loop, &s->timer);
    s->pipe.data = s;
    s->timer.data = s;
    s->handles_open = 2;
    s->serial = ++srv->next_serial;
    s->next = srv->sessions;
    if (srv->sessions) srv->sessions->prev = s;
    srv->sessions = s;
    srv->n_sessions++;
    if (uv_accept(listener, (uv_stream_t *)&s->pipe) != 0) {
        alcmd_session_close(s);
        return;
    }
    srv->connections_total++;
    if (srv->n_sessions > srv->cfg.max_connections) {
        alcmd_counters_error(&srv->total, ALCMWIRE__ERROR_CODE__ERR_OVERLOADED);
        alcmd_log(ALCMD_LOG_WARNING, "connection %llu refused: %u connections open "
                  "(max_connections %u)", (unsigned long long)s->serial, srv->n_sessions - 1,
                  srv->cfg.max_connections);
        char msg[96];
        snprintf(msg, sizeof msg, "too many connections (max_connections %u)",
                 srv->cfg.max_connections);
        alcmd_session_error(s, 0, ALCMWIRE__ERROR_CODE__ERR_OVERLOADED, ALCM_OK, msg, 1);
        return;
    }
    uv_os_fd_t fd;
    int err = uv_fileno((uv_handle_t *)&s->pipe, &fd);
    if (err == 0) err = alcmd_peer_read(fd, &s->peer);
    if (err != 0) {
        alcmd_log(ALCMD_LOG_WARNING, "connection %llu: cannot read peer credentials, closing",
                  (unsigned long long)s->serial);
        alcmd_session_close(s);
        return;
    }
    if (!alcmd_peer_allowed(&srv->cfg, srv->self_uid, &s->peer)) {
        srv->connections_denied++;
        alcmd_counters_error(&srv->total, ALCMWIRE__ERROR_CODE__ERR_DENIED);
        alcmd_log(ALCMD_LOG_WARNING, "connection %llu refused: uid %u gid %u pid %d is not "
                  "in the allow-list", (unsigned long long)s->serial, s->peer.uid,
                  s->peer.gid, s->peer.pid);
        char msg[128];
        snprintf(msg, sizeof msg, "uid %u gid %u is not allowed to use this daemon",
                 s->peer.uid, s->peer.gid);
        alcmd_session_error(s, 0, ALCMWIRE__ERROR_CODE__ERR_DENIED, ALCM_OK, msg, 1);
        return;
    }
    /* Large replies leave in few writes (the kernel caps this at net.core.wmem_max). */
    int sndbuf = SOCKET_BUFFER;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    alcmd_log(ALCMD_LOG_DEBUG, "connection %llu from uid %u pid %d",
              (unsigned long long)s->serial, s->peer.uid, s->peer.pid);
    alcmd_session_update(s);
}
