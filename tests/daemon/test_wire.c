/* test_wire.c - the frame prefix and header codec shared by alcmd and libalcmc: every
 * check of proto/wire.c, and configs surviving the trip through StreamConfig. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

static void test_prefix(void **state)
{
    (void)state;
    uint8_t p[ALCM_WIRE_PREFIX_SIZE];
    alcm_wire_prefix_write(p, 1234, 0x0102030405060708ull);
    assert_memory_equal(p, "ALCP", 4);
    assert_int_equal(p[4], 1);   /* version, little-endian */
    assert_int_equal(p[5], 0);
    assert_int_equal(p[8], 1234 & 0xff);
    assert_int_equal(p[12], 0x08);   /* payload length, little-endian */
    assert_int_equal(p[19], 0x01);
    alcm_wire_prefix out;
    assert_int_equal(alcm_wire_prefix_read(p, UINT64_MAX, &out),
                     ALCMWIRE__ERROR_CODE__ERR_NONE);
    assert_int_equal(out.header_len, 1234);
    assert_int_equal(out.payload_len, 0x0102030405060708ull);
    assert_int_equal(alcm_wire_prefix_read(p, 0x0102030405060707ull, &out),
                     ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE);
    uint8_t q[ALCM_WIRE_PREFIX_SIZE];
    memcpy(q, p, sizeof q);
    q[0] = 'X';
    assert_int_equal(alcm_wire_prefix_read(q, UINT64_MAX, &out),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_MAGIC);
    memcpy(q, p, sizeof q);
    q[4] = 2;
    assert_int_equal(alcm_wire_prefix_read(q, UINT64_MAX, &out),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_VERSION);
    memcpy(q, p, sizeof q);
    q[7] = 0x80;
    assert_int_equal(alcm_wire_prefix_read(q, UINT64_MAX, &out),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_FRAME);
    alcm_wire_prefix_write(q, ALCM_WIRE_MAX_HEADER + 1, 0);
    assert_int_equal(alcm_wire_prefix_read(q, UINT64_MAX, &out),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_FRAME);
    alcm_wire_prefix_write(q, ALCM_WIRE_MAX_HEADER, 0);
    assert_int_equal(alcm_wire_prefix_read(q, 0, &out), ALCMWIRE__ERROR_CODE__ERR_NONE);
}

static void test_stream_names(void **state)
{
    (void)state;
    char max[ALCM_WIRE_MAX_STREAM_NAME + 2];
    memset(max, 'a', sizeof max);
    max[ALCM_WIRE_MAX_STREAM_NAME] = '\0';
    assert_true(alcm_wire_stream_name_ok("rank0/fc1.weight"));
    assert_true(alcm_wire_stream_name_ok("!~"));
    assert_true(alcm_wire_stream_name_ok(max));
    max[ALCM_WIRE_MAX_STREAM_NAME] = 'a';
    max[ALCM_WIRE_MAX_STREAM_NAME + 1] = '\0';
    assert_false(alcm_wire_stream_name_ok(max));
    assert_false(alcm_wire_stream_name_ok(NULL));
    assert_false(alcm_wire_stream_name_ok(""));
    assert_false(alcm_wire_stream_name_ok("a b"));
    assert_false(alcm_wire_stream_name_ok("tab\there"));
    assert_false(alcm_wire_stream_name_ok("caf\xc3\xa9"));
}

static void test_tensor(void **state)
{
    (void)state;
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    uint64_t storage[ALCM_MAX_RANK];
    alcm_shape s = {.rank = 3, .dims = {2, 3, 4}};
    alcm_wire_tensor_fill(&t, ALCM_DTYPE_BF16, &s, storage);
    alcm_dtype dt;
    alcm_shape back;
    uint64_t nbytes;
    assert_int_equal(alcm_wire_tensor_read(&t, &dt, &back, &nbytes),
                     ALCMWIRE__ERROR_CODE__ERR_NONE);
    assert_int_equal(dt, ALCM_DTYPE_BF16);
    assert_int_equal(back.rank, 3);
    assert_int_equal(back.dims[2], 4);
    assert_int_equal(nbytes, 2 * 3 * 4 * 2);
    t.n_dims = 0;   /* a scalar */
    assert_int_equal(alcm_wire_tensor_read(&t, &dt, &back, &nbytes),
                     ALCMWIRE__ERROR_CODE__ERR_NONE);
    assert_int_equal(nbytes, 2);
    uint64_t huge[2] = {(uint64_t)1 << 40, (uint64_t)1 << 40};
    t.n_dims = 2;
    t.dims = huge;
    assert_int_equal(alcm_wire_tensor_read(&t, &dt, &back, &nbytes),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
    uint64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    t.n_dims = 9;
    t.dims = nine;
    assert_int_equal(alcm_wire_tensor_read(&t, &dt, &back, &nbytes),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
    t.n_dims = 1;
    t.dtype = 0;
    assert_int_equal(alcm_wire_tensor_read(&t, &dt, &back, &nbytes),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
    assert_int_equal(alcm_wire_tensor_read(NULL, &dt, &back, &nbytes),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
}

static void test_config_round_trip(void **state)
{
    (void)state;
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    cfg.params.backend = ALCM_BACKEND_ZSTD;
    cfg.params.entropy_mode = ALCM_ENTROPY_MEASURED;
    cfg.params.block_size = 1024;
    cfg.params.level = 3;
    cfg.sched.error_budget = 0.02;
    cfg.sched.window = 7;
    cfg.sched.deterministic = 1;
    cfg.error_feedback = 0;
    cfg.adaptive = 1; /* not the default: the round trip carries it */
    Alcmwire__StreamConfig w = ALCMWIRE__STREAM_CONFIG__INIT;
    alcm_wire_config_fill(&w, &cfg);
    /* Through the bytes, as the daemon sees it. */
    uint8_t buf[256];
    size_t n = alcmwire__stream_config__pack(&w, buf);
    Alcmwire__StreamConfig *u = alcmwire__stream_config__unpack(NULL, n, buf);
    assert_non_null(u);
    alcm_stream_config back;
    char msg[256];
    assert_int_equal(alcm_wire_config_read(u, ALCM_DTYPE_F32, 0, &back, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_NONE);
    assert_memory_equal(&back.params, &cfg.params, sizeof cfg.params);
    assert_memory_equal(&back.sched, &cfg.sched, sizeof cfg.sched);
    assert_int_equal(back.error_feedback, 0);
    assert_int_equal(back.adaptive, 1);
    /* SCHED_DEFAULT follows the daemon; an unknown mode and bad values are refused. */
    u->sched_mode = ALCMWIRE__SCHED_MODE__SCHED_DEFAULT;
    assert_int_equal(alcm_wire_config_read(u, ALCM_DTYPE_F32, 1, &back, NULL, 0), 0);
    assert_int_equal(back.sched.deterministic, 1);
    assert_int_equal(alcm_wire_config_read(u, ALCM_DTYPE_F32, 0, &back, NULL, 0), 0);
    assert_int_equal(back.sched.deterministic, 0);
    u->sched_mode = 7;
    assert_int_equal(alcm_wire_config_read(u, ALCM_DTYPE_F32, 0, &back, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
    u->sched_mode = ALCMWIRE__SCHED_MODE__SCHED_MEASURED;
    u->window = 1;
    assert_int_equal(alcm_wire_config_read(u, ALCM_DTYPE_F32, 0, &back, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
    assert_non_null(strstr(msg, "scheduler"));
    u->window = 5;
    assert_int_equal(alcm_wire_config_read(u, ALCM_DTYPE_F16, 0, &back, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);   /* gradient is f32 only */
    alcmwire__stream_config__free_unpacked(u, NULL);
    /* No config: the library defaults with the daemon's mode. */
    assert_int_equal(alcm_wire_config_read(NULL, ALCM_DTYPE_F32, 1, &back, NULL, 0), 0);
    alcm_stream_config def;
    alcm_stream_config_default(&def);
    def.sched.deterministic = 1;
    assert_memory_equal(&back.params, &def.params, sizeof def.params);
    assert_memory_equal(&back.sched, &def.sched, sizeof def.sched);
}

/* Packs a request header into buf; returns its length. */
static size_t pack(const Alcmwire__Request *r, uint8_t *buf)
{
    return alcmwire__request__pack(r, buf);
}

static void test_request_parse(void **state)
{
    (void)state;
    uint8_t buf[1024];
    char msg[256];
    Alcmwire__Request *out;
    uint64_t id;
    Alcmwire__Request r = ALCMWIRE__REQUEST__INIT;
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    uint64_t dims[2] = {10, 10};
    t.dtype = ALCM_DTYPE_F32;
    t.n_dims = 2;
    t.dims = dims;
    r.op = ALCMWIRE__OP__OP_COMPRESS;
    r.request_id = 77;
    r.stream = "s";
    r.tensor = &t;
    size_t n = pack(&r, buf);
    assert_int_equal(alcm_wire_request_parse(buf, n, 400, &out, &id, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_NONE);
    assert_non_null(out);
    assert_int_equal(id, 77);
    assert_string_equal(out->stream, "s");
    alcm_wire_request_free(out);
    /* Wrong payload size: refused, but the id is known for the error reply. */
    assert_int_equal(alcm_wire_request_parse(buf, n, 401, &out, &id, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
    assert_null(out);
    assert_int_equal(id, 77);
    assert_non_null(strstr(msg, "401"));
    /* Ops without payloads, ops with required fields. */
    Alcmwire__Request h = ALCMWIRE__REQUEST__INIT;
    h.op = ALCMWIRE__OP__OP_HELLO;
    n = pack(&h, buf);
    assert_int_equal(alcm_wire_request_parse(buf, n, 0, &out, &id, msg, sizeof msg), 0);
    alcm_wire_request_free(out);
    assert_int_equal(alcm_wire_request_parse(buf, n, 1, &out, &id, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
    h.op = ALCMWIRE__OP__OP_DECOMPRESS;
    n = pack(&h, buf);
    assert_int_equal(alcm_wire_request_parse(buf, n, 0, &out, &id, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);
    h.op = ALCMWIRE__OP__OP_RESET_STREAM;
    n = pack(&h, buf);
    assert_int_equal(alcm_wire_request_parse(buf, n, 0, &out, &id, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST);   /* no stream name */
    h.op = ALCMWIRE__OP__OP_ERROR;                             /* a reply-only op */
    n = pack(&h, buf);
    assert_int_equal(alcm_wire_request_parse(buf, n, 0, &out, &id, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_UNKNOWN_OP);
    /* An empty header is OP_NONE. */
    assert_int_equal(alcm_wire_request_parse(buf, 0, 0, &out, &id, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_UNKNOWN_OP);
    memset(buf, 0xff, 16);
    assert_int_equal(alcm_wire_request_parse(buf, 16, 0, &out, &id, msg, sizeof msg),
                     ALCMWIRE__ERROR_CODE__ERR_BAD_HEADER);
}

static void test_reply_and_frame(void **state)
{
    (void)state;
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_ERROR;
    r.request_id = 9;
    r.error = (Alcmwire__ErrorCode)200;   /* a code from a future version */
    r.message = "x";
    size_t flen;
    uint8_t *frame = alcm_wire_frame_pack(&r.base, 5, &flen);
    assert_non_null(frame);
    alcm_wire_prefix p;
    assert_int_equal(alcm_wire_prefix_read(frame, 5, &p), 0);
    assert_int_equal(p.payload_len, 5);
    assert_int_equal(ALCM_WIRE_PREFIX_SIZE + p.header_len, flen);
    Alcmwire__Reply *back;
    assert_int_equal(alcm_wire_reply_parse(frame + ALCM_WIRE_PREFIX_SIZE, p.header_len, &back), 0);
    assert_int_equal(back->request_id, 9);
    assert_int_equal(back->error, ALCMWIRE__ERROR_CODE__ERR_INTERNAL);
    alcm_wire_reply_free(back);
    free(frame);
    r.op = (Alcmwire__Op)42;
    frame = alcm_wire_frame_pack(&r.base, 0, &flen);
    assert_int_equal(alcm_wire_reply_parse(frame + ALCM_WIRE_PREFIX_SIZE,
                                           flen - ALCM_WIRE_PREFIX_SIZE, &back), -1);
    free(frame);
    assert_string_equal(alcm_wire_error_name(ALCMWIRE__ERROR_CODE__ERR_TIMEOUT), "ERR_TIMEOUT");
    assert_string_equal(alcm_wire_op_name(ALCMWIRE__OP__OP_STATS), "OP_STATS");
    assert_string_equal(alcm_wire_error_name((Alcmwire__ErrorCode)99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_stream_names),
        cmocka_unit_test(test_tensor),
        cmocka_unit_test(test_config_round_trip),
        cmocka_unit_test(test_request_parse),
        cmocka_unit_test(test_reply_and_frame),
    };
    return cmocka_run_group_tests_name("wire codec", tests, NULL, NULL);
}
