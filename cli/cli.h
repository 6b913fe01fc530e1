/* cli/cli.h - what the files of the `weft` command share.
 *
 * The command is one binary with subcommands, like git: main.c holds the table of commands and
 * does the parsing every command has in common (global flags, `help`, `CMD --help`); each
 * command lives in its own cmd_<name>.c and exports one cli_cmd. Adding a command is a new
 * file, one line in cli/meson.build and one line in the table in main.c.
 *
 * Exit codes, for every command: 0 success, 1 the work failed, 2 bad usage (the message and the
 * usage went to stderr) or a feature that this build does not have yet.
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

enum {
    CLI_OK = 0,
    CLI_FAILED = 1,
    CLI_USAGE = 2,
};

typedef struct cli_cmd {
    const char *name;    /* what the user types after `weft` */
    const char *args;    /* the usage line after `weft NAME`, e.g. "[--workers N]" */
    const char *summary; /* one line for `weft --help` */
    const char *help;    /* what `weft help NAME` prints after the usage line */
    /* Run with argv[0] == name and the arguments that followed it. By then main.c has
     * handled -h/--help, so a command parses only its own options. Returns an exit code. */
    int (*run)(int argc, char **argv);
} cli_cmd;

extern const cli_cmd cli_cmd_demo;
extern const cli_cmd cli_cmd_lab;
extern const cli_cmd cli_cmd_explore;
extern const cli_cmd cli_cmd_replay;
extern const cli_cmd cli_cmd_record;
extern const cli_cmd cli_cmd_console;
extern const cli_cmd cli_cmd_report;
extern const cli_cmd cli_cmd_export;
extern const cli_cmd cli_cmd_import;

/* Print "weft NAME: <message>" and the command's usage line to stderr; returns CLI_USAGE so
 * that a command can `return cli_usage_error(...)`. */
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The demo program (cmd_demo.c). */
int cli_demo(unsigned workers);

#endif
