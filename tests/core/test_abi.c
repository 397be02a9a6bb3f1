/* test_abi.c - the parts of the ABI checked at run time: the library version, struct_size
 * of the growable structs, constructors telling a bad config from out-of-memory, and
 * every floating-point field of alcm_params checked whatever the profile. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alcm.h"

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(alcm_version_number(), ALCM_VERSION_NUMBER);
    assert_string_equal(alcm_version_string(), ALCM_VERSION_STRING);
    assert_int_equal(ALCM_VERSION_NUMBER / 10000, ALCM_VERSION_MAJOR);
}

static void test_struct_size_checked(void **state)
{
    (void)state;
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    assert_int_equal(p.struct_size, sizeof p);
    assert_int_equal(alcm_params_check(&p), ALCM_OK);
    p.struct_size = (uint32_t)sizeof p + 8;   /* a newer header than the library */
    assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
    p.struct_size = 0;                        /* filled without alcm_params_default */
    assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);

    alcm_sched_config sc;
    alcm_sched_config_default(&sc);
    sc.struct_size = 4;
    alcm_sched *sched = (alcm_sched *)&sc;
    assert_int_equal(alcm_sched_create(&sc, &sched), ALCM_E_ARG);
    assert_null(sched);

    alcm_stream_config c;
    alcm_stream_config_default(&c);
    assert_int_equal(c.struct_size, sizeof c);
    c.struct_size--;
    alcm_stream *s = (alcm_stream *)&c;
    assert_int_equal(alcm_stream_create(&c, &s), ALCM_E_ARG);
    assert_null(s);
    alcm_stream_config_default(&c);
    c.params.struct_size = 0;
    assert_int_equal(alcm_stream_create(&c, &s), ALCM_E_ARG);
    assert_int_equal(alcm_stream_create(NULL, NULL), ALCM_E_ARG);
    assert_int_equal(alcm_stream_create(NULL, &s), ALCM_OK);
    assert_non_null(s);
    alcm_stream_free(s);
}

/* A NaN or out-of-range value in a field the profile ignores is refused too. */
static void test_unused_fields_checked(void **state)
{
    (void)state;
    const alcm_profile profiles[] = {ALCM_PROFILE_LOSSLESS, ALCM_PROFILE_BASELINE,
                                     ALCM_PROFILE_GRADIENT};
    for (size_t i = 0; i < 3; i++) {
        alcm_params p;
        alcm_params_default(&p, profiles[i]);
        assert_int_equal(alcm_params_check(&p), ALCM_OK);
        p.aggressiveness = NAN;
        assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
        alcm_params_default(&p, profiles[i]);
        p.error_budget = NAN;
        assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
        alcm_params_default(&p, profiles[i]);
        p.prune_ratio = INFINITY;
        assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
        alcm_params_default(&p, profiles[i]);
        p.prune_ratio = -0.5;
        assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
        alcm_params_default(&p, profiles[i]);
        p.entropy_mode = (alcm_entropy_mode)7;
        assert_int_equal(alcm_params_check(&p), ALCM_E_ARG);
    }
    alcm_stream_config c;
    alcm_stream_config_default(&c);
    c.params.profile = ALCM_PROFILE_LOSSLESS;
    c.sched.back_off = NAN;
    alcm_stream *s;
    assert_int_equal(alcm_stream_create(&c, &s), ALCM_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_struct_size_checked),
        cmocka_unit_test(test_unused_fields_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
