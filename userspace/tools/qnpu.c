// SPDX-License-Identifier: MIT
/* qnpu: run and inspect TFLite INT8 models with libqnpu. */
#include <string.h>

#include "qnpu_cli.h"

static const struct cli_cmd *const commands[] = {
	&cli_cmd_run, &cli_cmd_inspect, &cli_cmd_profile, &cli_cmd_bench,
	&cli_cmd_compile, &cli_cmd_quantize, &cli_cmd_compare, &cli_cmd_sweep,
};

#define NUM_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: qnpu COMMAND [OPTIONS] MODEL.tflite\n\ncommands:\n", f);
	for (i = 0; i < NUM_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name,
			commands[i]->summary);
	fputs("  help     this text; `qnpu COMMAND --help` for a command\n", f);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	size_t i;

	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < NUM_COMMANDS; i++)
		if (!strcmp(cmd, commands[i]->name))
			return cli_main(commands[i], argc - 1, argv + 1);
	fprintf(stderr, "qnpu: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
