/* test_config.c - alcmd's settings: key = value parsing, sizes, id lists, files with
 * errors, command-line overrides, cross checks; and the uid/gid allow-list decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "access.h"
#include "config.h"
#include "log.h"
#include "options.h"

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(alcmd_parse_size("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(alcmd_parse_size("512", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(alcmd_parse_size("4K", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(alcmd_parse_size("3M", &v), 0);
    assert_int_equal(v, 3u << 20);
    assert_int_equal(alcmd_parse_size("2GiB", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(alcmd_parse_size("1TB", &v), 0);
    assert_int_equal(v, 1ull << 40);
    const char *bad[] = {"", "-1", "1X", "1.5G", "G", "99999999999999999999", "5000000000G",
                         "1 G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(alcmd_parse_size(bad[i], &v), -1);
}

static void test_set_keys(void **state)
{
    (void)state;
    alcmd_config c;
    alcmd_config_default(&c);
    char err[256];
    assert_int_equal(alcmd_config_check(&c, err, sizeof err), 0);
    assert_int_equal(alcmd_config_set(&c, "max_message_bytes", "64M", err, sizeof err), 0);
    assert_int_equal(c.max_message_bytes, 64u << 20);
    assert_int_equal(alcmd_config_set(&c, "threads", "3", err, sizeof err), 0);
    assert_int_equal(c.threads, 3);
    assert_int_equal(alcmd_config_set(&c, "deterministic", "yes", err, sizeof err), 0);
    assert_int_equal(c.deterministic, 1);
    assert_int_equal(alcmd_config_set(&c, "deterministic", "off", err, sizeof err), 0);
    assert_int_equal(c.deterministic, 0);
    assert_int_equal(alcmd_config_set(&c, "log_level", "debug", err, sizeof err), 0);
    assert_int_equal(c.log_level, ALCMD_LOG_DEBUG);
    assert_int_equal(alcmd_config_set(&c, "allowed_uids", "0, 1000 root", err, sizeof err), 0);
    assert_int_equal(c.n_uids, 3);
    assert_int_equal(c.uids[1], 1000);
    assert_int_equal(c.uids[2], 0);
    assert_int_equal(alcmd_config_set(&c, "allowed_gids", "", err, sizeof err), 0);
    assert_int_equal(c.n_gids, 0);

    assert_int_equal(alcmd_config_set(&c, "threads", "-2", err, sizeof err), -1);
    assert_non_null(strstr(err, "threads"));
    assert_int_equal(alcmd_config_set(&c, "deterministic", "maybe", err, sizeof err), -1);
    assert_int_equal(alcmd_config_set(&c, "log_level", "loud", err, sizeof err), -1);
    assert_int_equal(alcmd_config_set(&c, "allowed_uids", "no-such-user-xyz", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "no-such-user-xyz"));
    assert_int_equal(alcmd_config_set(&c, "colour", "blue", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown setting"));
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(alcmd_config_set(&c, "socket", longpath, err, sizeof err), -1);
}

static void test_checks(void **state)
{
    (void)state;
    alcmd_config c;
    char err[256];
    alcmd_config_default(&c);
    c.max_streams = 0;
    assert_int_equal(alcmd_config_check(&c, err, sizeof err), -1);
    alcmd_config_default(&c);
    c.inflight_cap = c.max_message_bytes - 1;
    assert_int_equal(alcmd_config_check(&c, err, sizeof err), -1);
    alcmd_config_default(&c);
    c.max_message_bytes = (uint64_t)1 << 41;
    c.inflight_cap = c.max_message_bytes;
    assert_int_equal(alcmd_config_check(&c, err, sizeof err), -1);
    alcmd_config_default(&c);
    c.idle_timeout_ms = 1;
    assert_int_equal(alcmd_config_check(&c, err, sizeof err), -1);
}

static char g_path[64];

static void write_conf(const char *text)
{
    FILE *f = fopen(g_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_file_and_overrides(void **state)
{
    (void)state;
    snprintf(g_path, sizeof g_path, "/tmp/alcmd-conf-%ld", (long)getpid());
    write_conf("# comment\n\n  max_streams = 12   # trailing comment\nmemory_cap=1G\n"
               "socket = /tmp/x.sock\n");
    alcmd_config c;
    alcmd_config_default(&c);
    char err[256];
    assert_int_equal(alcmd_config_load(&c, g_path, err, sizeof err), 0);
    assert_int_equal(c.max_streams, 12);
    assert_int_equal(c.memory_cap, 1u << 30);
    assert_string_equal(c.socket_path, "/tmp/x.sock");

    write_conf("max_streams = 12\nthis line has no equals sign\n");
    assert_int_equal(alcmd_config_load(&c, g_path, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2:"));
    write_conf("max_streams = 12\nmemory_cap = lots\n");
    assert_int_equal(alcmd_config_load(&c, g_path, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: memory_cap"));
    assert_int_equal(alcmd_config_load(&c, "/nonexistent/alcmd.conf", err, sizeof err), -1);

    /* Command line over file over defaults. */
    write_conf("max_streams = 12\nmax_pending = 4\n");
    char *argv[] = {"alcmd", "--config", g_path, "--max-streams", "99", "--deterministic",
                    "--socket", "/tmp/y.sock", NULL};
    alcmd_options o;
    assert_int_equal(alcmd_options_parse(8, argv, &o, err, sizeof err), ALCMD_OPTIONS_RUN);
    assert_int_equal(alcmd_options_build_config(&o, &c, err, sizeof err), 0);
    assert_int_equal(c.max_streams, 99);
    assert_int_equal(c.max_pending, 4);
    assert_int_equal(c.deterministic, 1);
    assert_string_equal(c.socket_path, "/tmp/y.sock");
    /* The file changes (as before a SIGHUP): rebuilt with the same overrides. */
    write_conf("max_streams = 12\nmax_pending = 8\n");
    assert_int_equal(alcmd_options_build_config(&o, &c, err, sizeof err), 0);
    assert_int_equal(c.max_streams, 99);
    assert_int_equal(c.max_pending, 8);
    unlink(g_path);

    char *bad1[] = {"alcmd", "--threads", "many", NULL};
    assert_int_equal(alcmd_options_parse(3, bad1, &o, err, sizeof err), ALCMD_OPTIONS_ERROR);
    assert_non_null(strstr(err, "--threads"));
    /* The option names the setting once: "--threads: 'zero' is not ...". */
    char *bad_zero[] = {"alcmd", "--threads", "zero", NULL};
    assert_int_equal(alcmd_options_parse(3, bad_zero, &o, err, sizeof err), ALCMD_OPTIONS_ERROR);
    assert_string_equal(err, "--threads: 'zero' is not a non-negative integer");
    char *bad2[] = {"alcmd", "--no-such-option", NULL};
    assert_int_equal(alcmd_options_parse(2, bad2, &o, err, sizeof err), ALCMD_OPTIONS_ERROR);
    char *bad3[] = {"alcmd", "stray", NULL};
    assert_int_equal(alcmd_options_parse(2, bad3, &o, err, sizeof err), ALCMD_OPTIONS_ERROR);
    char *help[] = {"alcmd", "--help", NULL};
    assert_int_equal(alcmd_options_parse(2, help, &o, err, sizeof err), ALCMD_OPTIONS_HELP);
}

static void test_log_levels(void **state)
{
    (void)state;
    assert_int_equal(alcmd_log_parse_level("err"), ALCMD_LOG_ERR);
    assert_int_equal(alcmd_log_parse_level("warning"), ALCMD_LOG_WARNING);
    assert_int_equal(alcmd_log_parse_level("notice"), ALCMD_LOG_NOTICE);
    assert_int_equal(alcmd_log_parse_level("info"), ALCMD_LOG_INFO);
    assert_int_equal(alcmd_log_parse_level("7"), ALCMD_LOG_DEBUG);
    assert_int_equal(alcmd_log_parse_level("8"), -1);
    assert_int_equal(alcmd_log_parse_level("verbose"), -1);
}

static void test_allow_list(void **state)
{
    (void)state;
    alcmd_config c;
    alcmd_config_default(&c);
    alcmd_peer p = {.uid = 1000, .gid = 1000};
    assert_false(alcmd_peer_allowed(&c, 0, &p));       /* default: the daemon's uid only */
    assert_true(alcmd_peer_allowed(&c, 1000, &p));
    c.n_uids = 1;
    c.uids[0] = 1001;
    assert_false(alcmd_peer_allowed(&c, 1000, &p));    /* a list replaces the default */
    c.n_gids = 1;
    c.gids[0] = 50;
    assert_false(alcmd_peer_allowed(&c, 0, &p));
    p.n_groups = 2;
    p.groups[0] = 7;
    p.groups[1] = 50;
    assert_true(alcmd_peer_allowed(&c, 0, &p));        /* by a supplementary group */
    p.n_groups = 0;
    p.gid = 50;
    assert_true(alcmd_peer_allowed(&c, 0, &p));        /* by the primary group */
    p.gid = 1;
    p.uid = 1001;
    assert_true(alcmd_peer_allowed(&c, 0, &p));        /* by uid */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_set_keys),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_file_and_overrides),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_allow_list),
    };
    return cmocka_run_group_tests_name("daemon config", tests, NULL, NULL);
}
