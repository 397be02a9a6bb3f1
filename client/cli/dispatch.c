/* dispatch.c - the command line of the ALCM programs (`alcm`, `alcm-bench`): the global
 * options given before the subcommand, usage, --version, and the subcommand table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f, const char *prog, const cli_command *cmds, size_t n)
{
    fprintf(f, "usage: %s [--socket PATH] [--stream NAME] <command> [options]\n\n"
               "  --socket PATH   send work to the alcmd at PATH (default: in-process)\n"
               "  --stream NAME   daemon stream name for the commands that take one\n\n"
               "commands:\n", prog);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-12s %s%s\n", cmds[i].name, cmds[i].summary,
                cmds[i].takes_stream ? " (--stream)" : "");
    fprintf(f, "\n'%s <command> --help' describes a command. Version %s.\n", prog,
            ALCM_VERSION_STRING);
}

/* Takes "--opt VALUE" or "--opt=VALUE" at argv[*i]; advances *i past it. */
static int global_option(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len)) return 0;
    if (argv[*i][len] == '=') {
        *out = argv[*i] + len + 1;
        (*i)++;
        return 1;
    }
    if (argv[*i][len] != '\0' || *i + 1 >= argc) return 0;
    *out = argv[*i + 1];
    *i += 2;
    return 1;
}

int cli_dispatch(const char *prog, const cli_command *cmds, size_t n, int argc, char **argv)
{
    const char *sock = NULL, *stream = NULL;
    cli_set_program(prog);
    int i = 1;
    while (i < argc && (global_option(argc, argv, &i, "--socket", &sock) ||
                        global_option(argc, argv, &i, "--stream", &stream))) {}
    if (sock && (!*sock || setenv("ALCM_SOCKET", sock, 1) != 0)) {
        fprintf(stderr, "%s: bad --socket\n", prog);
        return 2;
    }
    cli_set_global(sock, stream);
    argc -= i - 1;
    argv += i - 1;
    if (argc < 2) {
        usage(stderr, prog, cmds, n);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout, prog, cmds, n);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("%s %s\n", prog, ALCM_VERSION_STRING);
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        if (strcmp(argv[1], cmds[k].name)) continue;
        if (stream && !cmds[k].takes_stream) {
            fprintf(stderr, "%s: --stream names a daemon stream; %s takes none\n", prog,
                    argv[1]);
            return 2;
        }
        return cmds[k].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "%s: unknown command '%s'\n\n", prog, argv[1]);
    usage(stderr, prog, cmds, n);
    return 2;
}
