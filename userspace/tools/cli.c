// SPDX-License-Identifier: MIT
/* The qnpu CLI's shared layer: options, usage errors, device and model. */
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_cli.h"

/*
 * Every option any command takes, each with an argument (but for the
 * CLI_NO_ARG ones, which set their string to "1"): the string in struct cli it
 * sets (--input and --samples add to c->inputs / c->samples instead).
 */
static const struct cli_option {
	const char *name;
	int val; /* getopt's value: the short name, where it has one */
	unsigned int flag;
	size_t field; /* offsetof(struct cli, ...) */
} cli_options[] = {
	{ "backend", 'b', CLI_BACKEND, offsetof(struct cli, backend) },
	{ "target", 't', CLI_TARGET, offsetof(struct cli, target) },
	{ "input", 'i', CLI_INPUT, offsetof(struct cli, inputs) },
	{ "output", 'o', CLI_OUTPUT, offsetof(struct cli, output) },
	{ "dump-layers", 'd', CLI_DUMP_LAYERS, offsetof(struct cli, dump_dir) },
	{ "format", 'f', CLI_FORMAT, offsetof(struct cli, format) },
	{ "runs", 'r', CLI_RUNS, offsetof(struct cli, runs_opt) },
	{ "calibration", 'c', CLI_CALIBRATION, offsetof(struct cli, calibration) },
	{ "per-tensor", 0x100, CLI_PER_TENSOR, offsetof(struct cli, per_tensor) },
	{ "float-io", 0x101, CLI_FLOAT_IO, offsetof(struct cli, float_io) },
	{ "samples", 's', CLI_SAMPLES, offsetof(struct cli, samples) },
	{ "plot", 'p', CLI_PLOT, offsetof(struct cli, plot) },
	{ "bias-correction", 0x102, CLI_BIAS_CORRECTION, offsetof(struct cli, bias_corr) },
	{ "threads", 0x103, CLI_THREADS, offsetof(struct cli, threads_opt) },
	{ "estimate", 0x10a, CLI_ESTIMATE, offsetof(struct cli, estimate) },
	{ "batch", 0x10b, CLI_BATCH, offsetof(struct cli, batch_opt) },
	{ "models", 0x104, CLI_GRID, offsetof(struct cli, g_models) },
	{ "rows", 0x105, CLI_GRID, offsetof(struct cli, g_rows) },
	{ "cols", 0x106, CLI_GRID, offsetof(struct cli, g_cols) },
	{ "sram", 0x107, CLI_GRID, offsetof(struct cli, g_sram) },
	{ "mem-bw", 0x108, CLI_GRID, offsetof(struct cli, g_bw) },
	{ "mem-lat", 0x109, CLI_GRID, offsetof(struct cli, g_lat) },
	{ "jobs", 'j', CLI_GRID, offsetof(struct cli, jobs) },
};

#define NUM_OPTIONS (sizeof(cli_options) / sizeof(cli_options[0]))
/* The options that take no argument. */
#define CLI_NO_ARG (CLI_PER_TENSOR | CLI_FLOAT_IO | CLI_BIAS_CORRECTION | CLI_ESTIMATE)

int cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("qnpu: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static const struct cli_option *find_option(int val)
{
	size_t i;

	for (i = 0; i < NUM_OPTIONS; i++)
		if (cli_options[i].val == val)
			return &cli_options[i];
	return NULL;
}

/* Whether the options @given and the models make sense for the command. */
static bool usage_ok(const struct cli *c, unsigned int given)
{
	const struct cli_cmd *cmd = c->cmd;

	if (cmd->flags & CLI_NO_MODEL) {
		if (c->num_models)
			return false;
	} else if (c->num_models < 1 ||
		   (c->num_models > 1 && !(cmd->flags & CLI_MANY_MODELS))) {
		return false;
	}
	if (cmd->need & ~given)
		return false;
	if (c->format && !c->json && strcmp(c->format, "table"))
		return false;
	if (c->runs < 1 || c->runs > CLI_MAX_RUNS)
		return false;
	return !(c->target && c->backend && (cmd->flags & CLI_OFFLINE_TARGET));
}

/* Options into @c; 0, 1 for a failure, 2 for a usage error, -1 for --help. */
static int parse(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd = c->cmd;
	struct option longopts[NUM_OPTIONS + 2] = {
		{ "help", no_argument, NULL, 'h' },
	};
	const struct cli_option *o;
	unsigned int given = 0, n = 1;
	char shortopts[16];
	int opt;

	for (o = cli_options; o < cli_options + NUM_OPTIONS; o++)
		if (cmd->opts & o->flag)
			longopts[n++] =
				(struct option){ o->name,
						 (o->flag & CLI_NO_ARG) ? no_argument :
							     required_argument,
						 NULL, o->val };
	snprintf(shortopts, sizeof(shortopts), "h%s",
		 cmd->shortopts ? cmd->shortopts : "");
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	       -1) {
		o = find_option(opt);
		if (!o) { /* -h, --help, or getopt has said what is wrong */
			fputs(cmd->usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? -1 : 2;
		}
		given |= o->flag;
		if (o->flag == CLI_INPUT) {
			if (c->num_inputs >= CLI_MAX_INPUTS)
				return cli_err("at most %d inputs", CLI_MAX_INPUTS);
			c->inputs[c->num_inputs++] = optarg;
		} else if (o->flag == CLI_SAMPLES) {
			if (c->num_samples >= CLI_MAX_INPUTS)
				return cli_err("at most %d sample files", CLI_MAX_INPUTS);
			c->samples[c->num_samples++] = optarg;
		} else {
			*(const char **)((char *)c + o->field) =
				(o->flag & CLI_NO_ARG) ? "1" : optarg;
		}
	}
	c->json = c->format && !strcmp(c->format, "json");
	c->runs = c->runs_opt ? atoi(c->runs_opt) : 5;
	if (c->threads_opt) {
		char *end;
		long t = strtol(c->threads_opt, &end, 10);

		if (!*c->threads_opt || *end || t < 1 || t > 1024)
			return cli_err("--threads=%s: give a thread count from 1 to 1024",
				       c->threads_opt) + 1;
		c->threads = (int)t;
	}
	c->batch = 1;
	if (c->batch_opt) {
		char *end;
		long b = strtol(c->batch_opt, &end, 10);

		if (!*c->batch_opt || *end || b < 1 || b > CLI_MAX_BATCH)
			return cli_err("--batch=%s: give a batch from 1 to %d",
				       c->batch_opt, CLI_MAX_BATCH) + 1;
		c->batch = (int)b;
	}
	c->models = argv + optind;
	c->num_models = argc - optind;
	if (!usage_ok(c, given)) {
		fputs(cmd->usage, stderr);
		if (cmd->missing)
			cli_err("%s: %s", cmd->name, cmd->missing);
		return 2;
	}
	return 0;
}

int cli_main(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct cli c = { .cmd = cmd };
	int ret = parse(&c, argc, argv);

	if (ret)
		return ret < 0 ? 0 : ret;
	if (cmd->flags & (CLI_MANY_MODELS | CLI_NO_MODEL))
		return cmd->run(&c);
	ret = cli_load(&c, c.models[0]) || cmd->run(&c);
	cli_unload(&c);
	return ret;
}

const char *cli_device(const struct cli *c, char *buf, size_t n)
{
	if (!c->target)
		return c->backend ? c->backend : "auto";
	/* an estimate needs no RTL: the offline target suffices */
	if ((c->cmd->flags & CLI_OFFLINE_TARGET) || c->estimate) {
		snprintf(buf, n, "target:%s", c->target);
		return buf;
	}
	if (c->backend && strcmp(c->backend, "sim") &&
	    strcmp(c->backend, "auto"))
		return NULL;
	snprintf(buf, n, "sim:%s", c->target);
	return buf;
}

int cli_load(struct cli *c, const char *path)
{
	char buf[4096];
	const char *name = cli_device(c, buf, sizeof(buf));
	uint64_t t0 = cli_now_ns();

	if (!name)
		return cli_err("--target applies to the sim backend, not %s",
			       c->backend);
	if (qnpu_device_open(name, &c->dev))
		return cli_err("%s", qnpu_last_error());
	if (c->threads && qnpu_device_set_threads(c->dev, c->threads))
		return cli_err("%s", qnpu_last_error());
	if (qnpu_model_load_file(c->dev, path, &c->model))
		return cli_err("%s", qnpu_last_error());
	if (c->batch > 1) {
		struct qnpu_model *one = c->model;
		int r = qnpu_model_batch(one, c->batch, &c->model);

		qnpu_model_free(one);
		if (r)
			return cli_err("%s: %s", path, qnpu_last_error());
	}
	c->load_ns = cli_now_ns() - t0;
	if (!(c->cmd->flags & CLI_INFER))
		return 0;
	return cli_read_inputs(c) || cli_set_inputs(c, 0) ||
	       (c->dump_dir && cli_dump_start(c));
}

void cli_unload(struct cli *c)
{
	int i;

	cli_dump_stop(c);
	for (i = 0; i < c->num_in_buf; i++)
		free(c->in_buf[i]);
	free(c->in_buf);
	c->in_buf = NULL;
	c->num_in_buf = 0;
	qnpu_model_free(c->model);
	c->model = NULL;
	qnpu_device_close(c->dev);
	c->dev = NULL;
}
