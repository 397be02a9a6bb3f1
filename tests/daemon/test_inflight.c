/* test_inflight.c - alcmd's in-flight memory accounting: the cap, the small-request share,
 * first-come-first-served waiters, waiters that keep what they hold (a reply reserved
 * after its payload) and never wait on each other, and unwaiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "inflight.h"

#define MiB ((uint64_t)1 << 20)

typedef struct {
    alcmd_inflight_waiter w;
    int granted;
} waiter;

static void on_ready(alcmd_inflight_waiter *w)
{
    ((waiter *)w)->granted++;
}

static void wait_for(alcmd_inflight *m, waiter *x, uint64_t need, uint64_t held)
{
    x->w.need = need;
    x->w.held = held;
    x->w.ready = on_ready;
    x->granted = 0;
    alcmd_inflight_wait(m, &x->w);
}

static void test_cap_and_small_share(void **state)
{
    (void)state;
    uint64_t cap = 64 * MiB;
    alcmd_inflight m;
    alcmd_inflight_init(&m, &cap);
    /* Alone, anything goes ahead (even above the cap). */
    assert_int_equal(alcmd_inflight_reserve(&m, 100 * MiB, 0), 0);
    assert_int_equal(alcmd_inflight_reserve(&m, 1, 0), -1);
    alcmd_inflight_release(&m, 100 * MiB);
    assert_int_equal(m.bytes, 0);
    /* Large reservations stop at 15/16 of the cap (60 MiB), small ones at the cap. */
    assert_int_equal(alcmd_inflight_reserve(&m, 50 * MiB, 0), 0);
    assert_int_equal(alcmd_inflight_reserve(&m, 10 * MiB + 1, 0), -1);
    assert_int_equal(alcmd_inflight_reserve(&m, 10 * MiB, 0), 0);
    assert_int_equal(alcmd_inflight_reserve(&m, 2 * MiB, 0), -1);
    assert_int_equal(alcmd_inflight_reserve(&m, MiB, 0), 0);
    assert_int_equal(alcmd_inflight_reserve(&m, MiB, 0), 0);
    assert_int_equal(alcmd_inflight_reserve(&m, MiB, 0), 0);
    assert_int_equal(alcmd_inflight_reserve(&m, MiB, 0), 0);
    assert_int_equal(m.bytes, cap);
    assert_int_equal(alcmd_inflight_reserve(&m, 1, 0), -1);
    /* Holding everything reserved counts as alone. */
    assert_int_equal(alcmd_inflight_reserve(&m, 8 * MiB, cap), 0);
    alcmd_inflight_release(&m, m.bytes);
    assert_int_equal(m.bytes, 0);
    alcmd_inflight_free(&m);
}

static void test_waiters_in_order(void **state)
{
    (void)state;
    uint64_t cap = 64 * MiB;
    alcmd_inflight m;
    alcmd_inflight_init(&m, &cap);
    assert_int_equal(alcmd_inflight_reserve(&m, 40 * MiB, 0), 0);
    waiter big, small;
    wait_for(&m, &big, 30 * MiB, 0);
    wait_for(&m, &small, 4096, 0);
    /* A release that does not make room for the head grants nobody behind it. */
    assert_int_equal(alcmd_inflight_reserve(&m, MiB, 0), 0);
    alcmd_inflight_release(&m, MiB);
    assert_int_equal(big.granted, 0);
    assert_int_equal(small.granted, 0);
    alcmd_inflight_release(&m, 40 * MiB);
    assert_int_equal(big.granted, 1);
    assert_int_equal(small.granted, 1);
    assert_int_equal(m.bytes, 30 * MiB + 4096);
    assert_null(m.head);
    alcmd_inflight_release(&m, m.bytes);
    alcmd_inflight_free(&m);
}

/* Two decompresses hold their 8 KiB payloads and each waits for an output that does not
 * fit beside the other's payload: once nothing else is in flight, the first goes ahead,
 * the second after it. */
static void test_holding_waiters_never_wait_on_each_other(void **state)
{
    (void)state;
    uint64_t cap = 64 * MiB;
    alcmd_inflight m;
    alcmd_inflight_init(&m, &cap);
    assert_int_equal(alcmd_inflight_reserve(&m, 20 * MiB, 0), 0);   /* someone else */
    assert_int_equal(alcmd_inflight_reserve(&m, 8192, 0), 0);
    assert_int_equal(alcmd_inflight_reserve(&m, 8192, 0), 0);
    assert_int_equal(alcmd_inflight_reserve(&m, 60 * MiB, 8192), -1);
    waiter a, b, c;
    wait_for(&m, &a, 60 * MiB, 8192);
    wait_for(&m, &b, 60 * MiB, 8192);
    assert_int_equal(m.waiting_held, 16384);
    /* A connection waiting for its payload, behind them. */
    wait_for(&m, &c, 2 * MiB, 0);
    alcmd_inflight_release(&m, 20 * MiB);
    assert_int_equal(a.granted, 1);
    assert_int_equal(b.granted, 0);
    assert_int_equal(m.waiting_held, 8192);
    /* a decodes, returns its payload, then its reply is written. */
    alcmd_inflight_release(&m, 8192);
    assert_int_equal(b.granted, 0);
    alcmd_inflight_release(&m, 60 * MiB);
    assert_int_equal(b.granted, 1);
    assert_int_equal(c.granted, 0);
    assert_int_equal(m.waiting_held, 0);
    alcmd_inflight_release(&m, 8192 + 60 * MiB);
    assert_int_equal(c.granted, 1);
    assert_int_equal(m.bytes, 2 * MiB);
    alcmd_inflight_release(&m, 2 * MiB);
    alcmd_inflight_free(&m);
}

/* A connection waiting at the head for more than the cap allows beside a waiter's payload
 * is not blocked by it: that payload cannot be returned before the head is served. */
static void test_head_not_blocked_by_holding_waiter(void **state)
{
    (void)state;
    uint64_t cap = 64 * MiB;
    alcmd_inflight m;
    alcmd_inflight_init(&m, &cap);
    assert_int_equal(alcmd_inflight_reserve(&m, 40 * MiB, 0), 0);
    waiter s, d;
    wait_for(&m, &s, 62 * MiB, 0);
    assert_int_equal(alcmd_inflight_reserve(&m, 8192, 0), 0);
    wait_for(&m, &d, 30 * MiB, 8192);
    alcmd_inflight_release(&m, 40 * MiB);
    assert_int_equal(s.granted, 1);
    assert_int_equal(d.granted, 0);
    alcmd_inflight_release(&m, 62 * MiB);
    assert_int_equal(d.granted, 1);
    alcmd_inflight_release(&m, m.bytes);
    alcmd_inflight_free(&m);
}

static void test_unwait(void **state)
{
    (void)state;
    uint64_t cap = 64 * MiB;
    alcmd_inflight m;
    alcmd_inflight_init(&m, &cap);
    assert_int_equal(alcmd_inflight_reserve(&m, 60 * MiB, 0), 0);
    waiter a, b, c;
    wait_for(&m, &a, 10 * MiB, 0);
    wait_for(&m, &b, 10 * MiB, 4096);
    wait_for(&m, &c, 10 * MiB, 0);
    alcmd_inflight_unwait(&m, &b.w);
    assert_int_equal(m.waiting_held, 0);
    alcmd_inflight_unwait(&m, &c.w);
    assert_ptr_equal(m.tail, &a.w);
    alcmd_inflight_unwait(&m, &c.w);   /* not queued: no-op */
    alcmd_inflight_release(&m, 60 * MiB);
    assert_int_equal(a.granted, 1);
    assert_int_equal(b.granted, 0);
    assert_int_equal(c.granted, 0);
    assert_null(m.head);
    assert_null(m.tail);
    alcmd_inflight_release(&m, m.bytes);
    alcmd_inflight_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_and_small_share),
        cmocka_unit_test(test_waiters_in_order),
        cmocka_unit_test(test_holding_waiters_never_wait_on_each_other),
        cmocka_unit_test(test_head_not_blocked_by_holding_waiter),
        cmocka_unit_test(test_unwait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
