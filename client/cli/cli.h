/* cli.h - shared pieces of the ALCM command line programs (`alcm`, and `alcm-bench` in
 * bench/cli): the subcommand table and dispatcher, and small helpers (files, shapes, JSON
 * output). Internal to the programs (library alcm_cli_common). */
#ifndef ALCM_CLI_H
#define ALCM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alcm.h"
#include "alcm_tools.h"

/* Every subcommand: argv[0] is the subcommand name. Returns the process exit code:
 * 0 success, 1 failure of the operation, 2 usage error. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int takes_stream;   /* uses the global --stream (given to any other: a usage error) */
} cli_command;

/* A program's main: global options (--socket, --stream), --help, --version, then the
 * subcommand named by the first operand. prog names the program in messages. Returns the
 * exit code. */
int cli_dispatch(const char *prog, const cli_command *cmds, size_t n, int argc, char **argv);

/* The subcommands of `alcm` (client/cli/cmd_<name>.c). */
int cmd_compress(int argc, char **argv);
int cmd_decompress(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_unpack(int argc, char **argv);

/* The program name messages start with ("alcm"; set by cli_dispatch). */
void cli_set_program(const char *prog);

/* Options given before the subcommand (`alcm --socket S --stream N <cmd> ...`): the
 * daemon socket and stream name a subcommand uses when it has no --socket/--stream of its
 * own. NULL when not given. main() also exports the socket as ALCM_SOCKET. */
const char *cli_global_socket(void);
const char *cli_global_stream(void);
void cli_set_global(const char *socket_path, const char *stream);

/* Connects to alcmd at socket_path; on failure prints why (as `alcm <cmd>: ...`) and
 * returns NULL. The connection is an alcmc_conn (client/lib/alcmc.h). */
struct alcmc_conn;
struct alcmc_conn *cli_connect(const char *cmd, const char *socket_path);

/* Prints a failed daemon call's status (an alcmc_status) with the daemon's message. */
void cli_daemon_error(const char *cmd, struct alcmc_conn *conn, int status);

/* Prints "<program> <cmd>: <message>" to stderr (printf-style). */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads a whole file (or stdin for "-") into a malloc'ed buffer. Returns 0, or -1 with
 * errno set. */
int cli_read_file(const char *path, uint8_t **data, size_t *len);

/* Opens path for reading when it is a regular file and gives its size: the descriptor, or
 * -1 ("-", a pipe, a device, an error). */
int cli_open_regular(const char *path, size_t *size);

/* 1 when the next read of fd finds the end of the file, 0 otherwise. */
int cli_fd_at_end(int fd);

/* Writes len bytes to path atomically (temporary file + rename), or stdout for "-".
 * Returns 0, or -1 with errno set. */
int cli_write_file(const char *path, const void *data, size_t len);

/* Parses "100x100", "16x1x3x3", "4096" into *shape. Returns 0, or -1 if malformed. */
int cli_parse_shape(const char *text, alcm_shape *shape);

/* Formats a shape as "100x100" into buf. */
void cli_format_shape(const alcm_shape *shape, char *buf, size_t cap);

/* Parses a double / unsigned integer argument strictly (whole string). 0 or -1. */
int cli_parse_double(const char *text, double *out);
int cli_parse_u64(const char *text, uint64_t *out);

/* After option parsing: 0 when argv[first..argc) is empty, or prints "alcm <cmd>:
 * unexpected argument '<argv[first]>'" and returns -1. */
int cli_no_operands(const char *cmd, int first, int argc, char **argv);

/* Option values checked against a range (name is the option as typed, "--runs"). Each
 * returns 0 with *out set, or prints "alcm <cmd>: <name> must be <range>, got '<text>'" and
 * returns -1 with *out unchanged. cli_opt_u64: lo..hi inclusive (hi UINT64_MAX: no upper
 * bound); cli_opt_double: [lo, hi], or (lo, hi] when lo_open. */
int cli_opt_u64(const char *cmd, const char *name, const char *text, uint64_t lo, uint64_t hi,
                uint64_t *out);
int cli_opt_double(const char *cmd, const char *name, const char *text, double lo, int lo_open,
                   double hi, double *out);

/* --error-budget: a relative L2 error budget in (0, 1], checked as by cli_opt_double. */
int cli_opt_error_budget(const char *cmd, const char *text, double *out);

/* A shape option (cli_parse_shape): 0, or prints "alcm <cmd>: bad <name> '<text>' (e.g.
 * 100x100, at most ALCM_MAX_RANK dims)" and returns -1. */
int cli_opt_shape(const char *cmd, const char *name, const char *text, alcm_shape *shape);

/* Element count *n and row length *row of a synthetic f32 tensor of this shape (rank >= 2:
 * rows of the first axis; otherwise one row of n). 0, or prints "alcm <cmd>: --size must
 * hold 1 .. 2^<max_log2> elements" and returns -1 when it is empty or larger. */
int cli_synth_extent(const char *cmd, const alcm_shape *shape, unsigned max_log2, size_t *n,
                     size_t *row);

/* n floats of a synthetic family (rows of row elements) from a generator seeded with seed,
 * in a malloc'ed buffer; NULL when out of memory. */
float *cli_synth_tensor(alcm_synth_family family, size_t n, size_t row, uint64_t seed);

/* Names on the command line <-> enums. Each parser returns 0, or -1 for an unknown name. */
int cli_parse_profile(const char *text, alcm_profile *out);
int cli_parse_dtype(const char *text, alcm_dtype *out);
int cli_parse_backend(const char *text, alcm_backend *out);
int cli_parse_entropy_mode(const char *text, alcm_entropy_mode *out);
const char *cli_profile_name(alcm_profile profile);
const char *cli_backend_name(alcm_backend backend);

/* Peak resident set size of this process in bytes (getrusage). */
uint64_t cli_peak_rss_bytes(void);

/* Monotonic wall-clock seconds. */
double cli_wall_seconds(void);

/* Minimal JSON writer: tracks commas and nesting so callers cannot emit invalid JSON. */
typedef struct {
    FILE *f;
    int depth;
    int need_comma[32];
    int pretty;
} cli_json;

void cli_json_init(cli_json *j, FILE *f);
void cli_json_begin_object(cli_json *j, const char *key);   /* key NULL inside arrays/top */
void cli_json_end_object(cli_json *j);
void cli_json_begin_array(cli_json *j, const char *key);
void cli_json_end_array(cli_json *j);
void cli_json_string(cli_json *j, const char *key, const char *value);
void cli_json_number(cli_json *j, const char *key, double value);  /* %.10g; null if !finite */
void cli_json_int(cli_json *j, const char *key, int64_t value);
void cli_json_bool(cli_json *j, const char *key, int value);
/* Ends the document with a newline. */
void cli_json_finish(cli_json *j);

/* A JSON document written to a file: cli_json_open opens path for writing ("-" = stdout)
 * and starts j on it (0, or -1 with errno set); cli_json_close finishes the document and
 * closes the file unless it is stdout (0, or -1 with errno set if a write or the close
 * failed). */
int cli_json_open(cli_json *j, const char *path);
int cli_json_close(cli_json *j);

#endif
