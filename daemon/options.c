/* options.c - parses alcmd's command line and merges it with the config file. */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

enum { OPT_CONFIG = 1000, OPT_CHECK, OPT_HELP, OPT_VERSION, OPT_SETTING, OPT_NO_SANDBOX,
       OPT_SANDBOX_PROBE };

/* Long options that set a config key (value from the argument, or `fixed`). */
static const struct {
    const char *option;
    const char *key;
    const char *fixed;
} k_settings[] = {
    {"socket", "socket", NULL},
    {"threads", "threads", NULL},
    {"max-message-bytes", "max_message_bytes", NULL},
    {"max-streams", "max_streams", NULL},
    {"memory-cap", "memory_cap", NULL},
    {"inflight-cap", "inflight_cap", NULL},
    {"shm-max-bytes", "shm_max_bytes", NULL},
    {"max-pending", "max_pending", NULL},
    {"idle-timeout-ms", "idle_timeout_ms", NULL},
    {"min-progress-bytes", "min_progress_bytes", NULL},
    {"max-connections", "max_connections", NULL},
    {"max-fds-per-connection", "max_fds_per_connection", NULL},
    {"shutdown-timeout-ms", "shutdown_timeout_ms", NULL},
    {"allow-uid", "allowed_uids", NULL},
    {"allow-gid", "allowed_gids", NULL},
    {"log-level", "log_level", NULL},
    {"log-format", "log_format", NULL},
    {"deterministic", "deterministic", "yes"},
    {"prometheus-file", "prometheus_file", NULL},
    {"prometheus-interval-ms", "prometheus_interval_ms", NULL},
    {"state-dir", "state_dir", NULL},
    {"state-interval-ms", "state_interval_ms", NULL},
};
#define N_SETTINGS (sizeof k_settings / sizeof k_settings[0])

void alcmd_options_usage(FILE *f)
{
    fprintf(f,
        "usage: alcmd [--socket PATH] [--config FILE] [options]\n"
        "\n"
        "The ALCM compression daemon: serves the alcmd protocol (docs/PROTOCOL.md) on a Unix\n"
        "socket, in the foreground, logging to stderr. Started by systemd with socket\n"
        "activation, it takes the listening socket from LISTEN_FDS instead of --socket.\n"
        "\n"
        "  --socket PATH               socket to create (0660); a stale one is replaced\n"
        "  --config FILE               key = value settings (deploy/alcmd.conf.example);\n"
        "                              command-line options override the file\n"
        "  --threads N                 encoder threads (default: available CPUs)\n"
        "  --max-message-bytes SIZE    largest tensor or blob per request (default 1G)\n"
        "  --max-streams N             live streams before LRU eviction (default 4096)\n"
        "  --memory-cap SIZE           per-stream state cap, LRU eviction (default 2G)\n"
        "  --inflight-cap SIZE         request/reply buffer cap (default 2G)\n"
        "  --shm-max-bytes SIZE        largest shared-memory region per connection\n"
        "                              (default 4G; 0 turns shared memory off)\n"
        "  --max-pending N             requests read ahead per connection (default 16)\n"
        "  --idle-timeout-ms MS        progress interval: drop a connection that sends less\n"
        "                              than --min-progress-bytes of an unfinished frame, or\n"
        "                              takes none of its queued replies, per interval\n"
        "                              (default 30000)\n"
        "  --min-progress-bytes N      bytes per interval a sender must deliver (65536)\n"
        "  --max-connections N         open connections; more are refused (default 1024)\n"
        "  --max-fds-per-connection N  descriptors queued on a connection before it is\n"
        "                              dropped (default 4)\n"
        "  --shutdown-timeout-ms MS    SIGTERM drain limit (default 30000)\n"
        "  --allow-uid LIST            allowed peer uids/users (default: the daemon's uid)\n"
        "  --allow-gid LIST            allowed peer gids/groups (primary or supplementary)\n"
        "  --log-level LEVEL           err, warning, notice, info (default), debug\n"
        "  --log-format F              auto (default: <N> syslog prefixes when stderr is\n"
        "                              the journal, else 'alcmd: info: ...'), journal, plain\n"
        "  --deterministic             streams default to the deterministic scheduler\n"
        "  --prometheus-file PATH      write a Prometheus textfile-collector file\n"
        "  --prometheus-interval-ms MS how often (default 15000)\n"
        "  --state-dir DIR             keep each stream's state in DIR: saved on SIGTERM\n"
        "                              and periodically, restored at start (docs/STATE.md)\n"
        "  --state-interval-ms MS      how often it is saved (default 60000)\n"
        "  --no-sandbox                no seccomp filter (debugging; the default filter\n"
        "                              allows AF_UNIX sockets only, docs/SECURITY.md)\n"
        "  --check-config              validate the settings and exit\n"
        "  --version, --help\n"
        "\n"
        "Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the config file (a bad\n"
        "file is rejected and the running settings kept).\n");
}

alcmd_options_result alcmd_options_parse(int argc, char **argv, alcmd_options *opts,
                                         char *err, size_t err_cap)
{
    memset(opts, 0, sizeof *opts);
    struct option longopts[N_SETTINGS + 7];
    size_t n = 0;
    for (size_t i = 0; i < N_SETTINGS; i++)
        longopts[n++] = (struct option){k_settings[i].option,
                                        k_settings[i].fixed ? no_argument : required_argument,
                                        NULL, OPT_SETTING};
    longopts[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    longopts[n++] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
    longopts[n++] = (struct option){"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX};
    longopts[n++] = (struct option){"sandbox-probe", no_argument, NULL, OPT_SANDBOX_PROBE};
    longopts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    longopts[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    longopts[n] = (struct option){NULL, 0, NULL, 0};

    alcmd_config scratch;
    alcmd_config_default(&scratch);
    optind = 1;
    opterr = 0;
    int c, index = -1;
    while ((c = getopt_long(argc, argv, "+h", longopts, &index)) != -1) {
        switch (c) {
        case OPT_CONFIG: opts->config_path = optarg; break;
        case OPT_CHECK: opts->check_only = 1; break;
        case OPT_NO_SANDBOX: opts->no_sandbox = 1; break;
        case OPT_SANDBOX_PROBE: opts->sandbox_probe = 1; break;
        case 'h':
        case OPT_HELP: return ALCMD_OPTIONS_HELP;
        case OPT_VERSION: return ALCMD_OPTIONS_VERSION;
        case OPT_SETTING: {
            const char *key = k_settings[index].key;
            const char *value = k_settings[index].fixed ? k_settings[index].fixed : optarg;
            char why[256];
            if (alcmd_config_set(&scratch, key, value, why, sizeof why) != 0) {
                /* The reason names the config key ("threads: ..."); the option replaces it. */
                size_t klen = strlen(key);
                const char *reason = why;
                if (!strncmp(why, key, klen) && !strncmp(why + klen, ": ", 2))
                    reason = why + klen + 2;
                snprintf(err, err_cap, "--%s: %s", k_settings[index].option, reason);
                return ALCMD_OPTIONS_ERROR;
            }
            if (opts->n_overrides == ALCMD_MAX_OVERRIDES) {
                snprintf(err, err_cap, "too many options");
                return ALCMD_OPTIONS_ERROR;
            }
            opts->overrides[opts->n_overrides++] = (alcmd_override){key, value};
            break;
        }
        default:
            snprintf(err, err_cap, "unknown or incomplete option '%s'", argv[optind - 1]);
            return ALCMD_OPTIONS_ERROR;
        }
        index = -1;
    }
    if (optind < argc) {
        snprintf(err, err_cap, "unexpected argument '%s'", argv[optind]);
        return ALCMD_OPTIONS_ERROR;
    }
    return ALCMD_OPTIONS_RUN;
}

int alcmd_options_build_config(const alcmd_options *opts, alcmd_config *cfg, char *err,
                               size_t err_cap)
{
    alcmd_config_default(cfg);
    if (opts->config_path && alcmd_config_load(cfg, opts->config_path, err, err_cap) != 0)
        return -1;
    for (size_t i = 0; i < opts->n_overrides; i++)
        if (alcmd_config_set(cfg, opts->overrides[i].key, opts->overrides[i].value, err,
                             err_cap) != 0)
            return -1;
    return alcmd_config_check(cfg, err, err_cap);
}
