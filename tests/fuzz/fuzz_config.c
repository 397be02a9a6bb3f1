/* fuzz_config.c - fuzz target for alcmd's config file parser (daemon/config.c): the input
 * is a whole config file; it is parsed on top of the defaults and, when it parses, checked
 * as a whole (as alcmd does at start and on SIGHUP). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > ALCMD_CONFIG_MAX_BYTES) return 0;
    char *text = malloc(size ? size : 1);   /* exactly size bytes: overreads are caught */
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    alcmd_config cfg;
    alcmd_config_default(&cfg);
    char err[512];
    if (alcmd_config_parse(&cfg, "fuzz.conf", text, size, err, sizeof err) == 0)
        (void)alcmd_config_check(&cfg, err, sizeof err);
    free(text);
    return 0;
}
