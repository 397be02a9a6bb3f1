/* test_log.c - alcmd's log lines: "<N>" syslog prefixes only when stderr is the journal
 * stream (JOURNAL_STREAM names its device and inode) or journal is asked for, plain
 * "alcmd: info: ..." otherwise; levels filtered; one line per message. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char g_path[] = "/tmp/alcmd-log-test-XXXXXX";
static int g_saved = -1;

/* Points stderr at a fresh temporary file; returns its descriptor. */
static void capture_begin(void)
{
    int fd = mkstemp(g_path);
    assert_true(fd >= 0);
    fflush(stderr);
    g_saved = dup(STDERR_FILENO);
    assert_true(g_saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

/* Restores stderr and returns what was written (malloc'ed). */
static char *capture_end(void)
{
    assert_true(dup2(g_saved, STDERR_FILENO) >= 0);
    close(g_saved);
    FILE *f = fopen(g_path, "rb");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(g_path);
    strcpy(g_path, "/tmp/alcmd-log-test-XXXXXX");
    return buf;
}

static void set_journal_stream_to_stderr(void)
{
    struct stat st;
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    char js[64];
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    assert_int_equal(setenv("JOURNAL_STREAM", js, 1), 0);
}

static void test_plain_without_journal(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    alcmd_log_set_level(ALCMD_LOG_INFO);
    alcmd_log_set_format(ALCMD_LOG_FORMAT_AUTO);
    capture_begin();
    assert_int_equal(alcmd_log_stderr_is_journal(), 0);
    alcmd_log(ALCMD_LOG_INFO, "listening on %s", "/tmp/x.sock");
    alcmd_log(ALCMD_LOG_ERR, "two\nlines");
    alcmd_log(ALCMD_LOG_DEBUG, "filtered out");
    assert_string_equal(capture_end(),
                        "alcmd: info: listening on /tmp/x.sock\nalcmd: error: two lines\n");
}

static void test_journal_when_stderr_is_the_journal(void **state)
{
    (void)state;
    alcmd_log_set_level(ALCMD_LOG_INFO);
    alcmd_log_set_format(ALCMD_LOG_FORMAT_AUTO);
    capture_begin();
    set_journal_stream_to_stderr();
    assert_int_equal(alcmd_log_stderr_is_journal(), 1);
    alcmd_log(ALCMD_LOG_NOTICE, "serving");
    assert_string_equal(capture_end(), "<5>serving\n");
    unsetenv("JOURNAL_STREAM");
}

static void test_journal_stream_of_another_file(void **state)
{
    (void)state;
    /* Inherited from a systemd service but stderr redirected (alcmd ... 2>file): plain. */
    set_journal_stream_to_stderr();
    alcmd_log_set_format(ALCMD_LOG_FORMAT_AUTO);
    capture_begin();
    assert_int_equal(alcmd_log_stderr_is_journal(), 0);
    alcmd_log(ALCMD_LOG_WARNING, "w");
    assert_string_equal(capture_end(), "alcmd: warning: w\n");
    setenv("JOURNAL_STREAM", "garbage", 1);
    assert_int_equal(alcmd_log_stderr_is_journal(), 0);
    unsetenv("JOURNAL_STREAM");
}

static void test_forced_formats(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(alcmd_log_parse_format("journal"), ALCMD_LOG_FORMAT_JOURNAL);
    assert_int_equal(alcmd_log_parse_format("plain"), ALCMD_LOG_FORMAT_PLAIN);
    assert_int_equal(alcmd_log_parse_format("auto"), ALCMD_LOG_FORMAT_AUTO);
    assert_int_equal(alcmd_log_parse_format("syslog"), -1);
    alcmd_log_set_level(ALCMD_LOG_INFO);
    alcmd_log_set_format(ALCMD_LOG_FORMAT_JOURNAL);
    capture_begin();
    alcmd_log(ALCMD_LOG_INFO, "i");
    assert_string_equal(capture_end(), "<6>i\n");
    capture_begin();
    set_journal_stream_to_stderr();
    alcmd_log_set_format(ALCMD_LOG_FORMAT_PLAIN);
    alcmd_log(ALCMD_LOG_INFO, "i");
    assert_string_equal(capture_end(), "alcmd: info: i\n");
    unsetenv("JOURNAL_STREAM");
    alcmd_log_set_format(ALCMD_LOG_FORMAT_AUTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_without_journal),
        cmocka_unit_test(test_journal_when_stderr_is_the_journal),
        cmocka_unit_test(test_journal_stream_of_another_file),
        cmocka_unit_test(test_forced_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
