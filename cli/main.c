/* cli/main.c - the `weft` command: global flags, help, and dispatch to subcommands.
 *
 *     weft [--help | --version] COMMAND [ARGS...]
 *     weft help [COMMAND]
 *     weft COMMAND --help
 *
 * Global flags are only recognised before the command; everything after the command belongs to
 * it. Usage errors (unknown command, unknown flag, missing argument) print one line naming the
 * problem, then the usage, both to stderr, and exit 2, so that scripts can tell a typo from a
 * failure. Help that was asked for goes to stdout and exits 0.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <weft/runtime.h>

#include "cli.h"

static const cli_cmd cli_cmd_help;

/* The commands, in the order `weft --help` lists them. The console, record, replay, explore,
 * report and export commands join this table with their issues. */
static const cli_cmd *const commands[] = {
    &cli_cmd_demo,
    &cli_cmd_lab,
    &cli_cmd_explore,
    &cli_cmd_replay,
    &cli_cmd_record,
    &cli_cmd_console,
    &cli_cmd_report,
    &cli_cmd_export,
    &cli_cmd_import,
    &cli_cmd_help,
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: weft [--help | --version] <command> [<args>]\n"
            "\n"
            "weft is an async runtime and a workbench for learning and debugging async programs.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nRun 'weft help <command>' for what a command does and its options.\n");
}

static void print_command_usage(FILE *out, const cli_cmd *cmd)
{
    fprintf(out, "usage: weft %s%s%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args);
}

static void print_command_help(FILE *out, const cli_cmd *cmd)
{
    print_command_usage(out, cmd);
    fprintf(out, "\n%s", cmd->help);
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "weft %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    print_command_usage(stderr, cmd);
    return CLI_USAGE;
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("weft: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    print_usage(stderr);
    return CLI_USAGE;
}

static bool is_help_flag(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* `weft help [COMMAND]` */
static int help_run(int argc, char **argv)
{
    if (argc == 1) {
        print_usage(stdout);
        return CLI_OK;
    }
    if (argc > 2)
        return cli_usage_error(&cli_cmd_help, "expected one command name, got %d arguments",
                               argc - 1);
    const cli_cmd *cmd = find_command(argv[1]);
    if (!cmd)
        return usage_error("no such command '%s'", argv[1]);
    print_command_help(stdout, cmd);
    return CLI_OK;
}

static const cli_cmd cli_cmd_help = {
    .name = "help",
    .args = "[<command>]",
    .summary = "show what a command does and its options",
    .help = "Without a command, list the commands. With one, show its usage and options\n"
            "(the same as 'weft <command> --help').\n",
    .run = help_run,
};

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *arg = argv[i];
        if (is_help_flag(arg)) {
            print_usage(stdout);
            return CLI_OK;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("weft %s\n", weft_version());
            return CLI_OK;
        }
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        return usage_error("unknown option '%s'", arg);
    }
    if (i == argc) {
        fputs("weft: no command given\n", stderr);
        print_usage(stderr);
        return CLI_USAGE;
    }

    const cli_cmd *cmd = find_command(argv[i]);
    if (!cmd)
        return usage_error("unknown command '%s'", argv[i]);

    /* `weft CMD ... --help` anywhere before a `--` shows the command's help instead of running
     * it; that way no command has to remember to handle it. */
    int cmd_argc = argc - i;
    char **cmd_argv = argv + i;
    for (int j = 1; j < cmd_argc && strcmp(cmd_argv[j], "--") != 0; j++) {
        if (is_help_flag(cmd_argv[j])) {
            print_command_help(stdout, cmd);
            return CLI_OK;
        }
    }
    return cmd->run(cmd_argc, cmd_argv);
}
