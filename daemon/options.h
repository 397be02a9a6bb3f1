/* options.h - alcmd's command line: which config file, and settings that override it. */
#ifndef ALCMD_OPTIONS_H
#define ALCMD_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define ALCMD_MAX_OVERRIDES 64

typedef struct {
    const char *key;     /* config key (config.h) */
    const char *value;   /* points into argv or a static string */
} alcmd_override;

typedef struct {
    const char *config_path;    /* --config FILE, NULL for none */
    int check_only;             /* --check-config: validate and exit */
    int no_sandbox;             /* --no-sandbox: no seccomp filter (debugging) */
    int sandbox_probe;          /* hidden --sandbox-probe: try other socket families once
                                   sandboxed and log the outcome (tests) */
    size_t n_overrides;
    alcmd_override overrides[ALCMD_MAX_OVERRIDES];
} alcmd_options;

typedef enum {
    ALCMD_OPTIONS_RUN = 0,
    ALCMD_OPTIONS_HELP = 1,
    ALCMD_OPTIONS_VERSION = 2,
    ALCMD_OPTIONS_ERROR = 3
} alcmd_options_result;

/* Parses argv into *opts (pointers into argv are kept). Each setting's value is checked
 * as it is read; ALCMD_OPTIONS_ERROR comes with a reason in err. */
alcmd_options_result alcmd_options_parse(int argc, char **argv, alcmd_options *opts,
                                         char *err, size_t err_cap);

/* The effective configuration: defaults, then the config file, then the overrides, then
 * the cross checks. 0, or -1 with a reason in err. Used at start and on SIGHUP. */
int alcmd_options_build_config(const alcmd_options *opts, alcmd_config *cfg, char *err,
                               size_t err_cap);

/* Writes the usage text. */
void alcmd_options_usage(FILE *f);

#endif
