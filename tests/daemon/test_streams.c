/* test_streams.c - alcmd's stream table: lookup by (uid, name), LRU order, eviction under
 * the stream limit and the memory cap, busy streams never evicted, bounded history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "streams.h"

static alcmd_stream *live(alcmd_streams *t, uint32_t uid, const char *name)
{
    alcmd_stream *s = alcmd_streams_get(t, uid, name, 1000);
    assert_non_null(s);
    alcm_stream_config cfg;
    alcm_stream_config_default(&cfg);
    alcm_stream *st = NULL;
    assert_int_equal(alcm_stream_create(&cfg, &st), ALCM_OK);
    assert_non_null(st);
    alcmd_streams_attach(t, s, st, &cfg);
    return s;
}

static void test_lookup(void **state)
{
    (void)state;
    alcmd_streams t;
    assert_int_equal(alcmd_streams_init(&t), 0);
    char name[32];
    for (int i = 0; i < 300; i++) {   /* enough to grow the hash table several times */
        snprintf(name, sizeof name, "s%d", i);
        assert_non_null(alcmd_streams_get(&t, (uint32_t)(i % 3), name, 1000));
    }
    assert_int_equal(t.n_entries, 300);
    assert_non_null(alcmd_streams_find(&t, 1, "s7"));
    assert_null(alcmd_streams_find(&t, 0, "s7"));   /* same name, other uid */
    assert_ptr_equal(alcmd_streams_get(&t, 1, "s7", 1000), alcmd_streams_find(&t, 1, "s7"));
    assert_int_equal(t.n_entries, 300);
    assert_ptr_equal(t.lru_head, alcmd_streams_find(&t, 1, "s7"));   /* touched by get */
    alcmd_streams_free(&t);
}

static void test_evict_lru_idle(void **state)
{
    (void)state;
    alcmd_streams t;
    assert_int_equal(alcmd_streams_init(&t), 0);
    alcmd_stream *a = live(&t, 0, "a"), *b = live(&t, 0, "b"), *c = live(&t, 0, "c");
    assert_int_equal(t.n_live, 3);
    uint64_t mem = a->memory + b->memory + c->memory;
    assert_int_equal(t.memory, mem);
    alcmd_streams_touch(&t, a);   /* LRU order now: b (oldest), c, a */
    b->busy = 1;                  /* running: never evicted */
    assert_int_equal(alcmd_streams_make_room(&t, 3), 1);
    assert_null(c->st);           /* c was the least recently used idle stream */
    assert_true(c->evicted);
    assert_int_equal(c->counters.evictions, 1);
    assert_int_equal(t.n_live, 2);
    assert_int_equal(t.memory, a->memory + b->memory);
    /* Memory cap: a goes, b is busy and stays even over the cap. */
    alcmd_streams_set_memory(&t, b, 1000000);
    assert_int_equal(alcmd_streams_enforce_cap(&t, 1000), 1);
    assert_null(a->st);
    assert_non_null(b->st);
    assert_int_equal(alcmd_streams_make_room(&t, 1), -1);   /* only b left, busy */
    b->busy = 0;
    assert_int_equal(alcmd_streams_enforce_cap(&t, 1000), 1);
    assert_int_equal(t.n_live, 0);
    assert_int_equal(t.memory, 0);
    assert_int_equal(t.evictions, 3);
    alcmd_streams_free(&t);
}

static void test_bounded_entries(void **state)
{
    (void)state;
    alcmd_streams t;
    assert_int_equal(alcmd_streams_init(&t), 0);
    alcmd_stream *keep = live(&t, 0, "keep");
    keep->busy = 1;
    assert_non_null(alcmd_streams_get(&t, 0, "x1", 3));
    assert_non_null(alcmd_streams_get(&t, 0, "x2", 3));
    assert_non_null(alcmd_streams_get(&t, 0, "x3", 3));   /* drops x1, the oldest idle */
    assert_int_equal(t.n_entries, 3);
    assert_null(alcmd_streams_find(&t, 0, "x1"));
    assert_non_null(alcmd_streams_find(&t, 0, "keep"));
    /* All busy: no room. */
    alcmd_streams_find(&t, 0, "x2")->busy = 1;
    alcmd_streams_find(&t, 0, "x3")->busy = 1;
    assert_null(alcmd_streams_get(&t, 0, "x4", 3));
    alcmd_streams_find(&t, 0, "x2")->busy = 0;
    alcmd_streams_find(&t, 0, "x3")->busy = 0;
    keep->busy = 0;
    alcmd_streams_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_evict_lru_idle),
        cmocka_unit_test(test_bounded_entries),
    };
    return cmocka_run_group_tests_name("daemon streams", tests, NULL, NULL);
}
