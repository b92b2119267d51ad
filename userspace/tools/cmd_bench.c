// SPDX-License-Identifier: MIT
/* qnpu bench: per model, MACs, NPU cycles and utilization, wall times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_cli.h"

static const char usage[] =
	"usage: qnpu bench [--backend=NAME] [--target=DTB] [--runs=N]\n"
	"                  [--threads=N] [--batch=N] MODEL...\n"
	"\n"
	"For each model, print: MACs, MACs on the NPU, NPU cycles per inference,\n"
	"NPU utilization (NPU MACs / (rows x cols x NPU cycles)), simulated time\n"
	"at a nominal 1 GHz, host wall time per inference (median of N runs,\n"
	"default 5, on zero inputs) and compile time (load + compile).\n"
	"--threads=N: threads for the CPU operators (default: one per core).\n"
	"--batch=N: each model compiled for batch N, run on N zero samples at\n"
	"once; MACs, cycles and wall time are then those of N inferences\n"
	"(the model is named NAME@bN).\n";

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One row for @path, loaded into @c: c->runs runs on zero inputs. */
static int bench_one(struct cli *c, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct qnpu_device_info di;
	char name[256];
	struct cli_totals t;
	uint64_t t0, wall[CLI_MAX_RUNS];
	int k;

	if (c->batch > 1)
		snprintf(name, sizeof(name), "%s@b%d", base, c->batch);
	else
		snprintf(name, sizeof(name), "%s", base);
	qnpu_device_query(c->dev, &di);
	for (k = 0; k < c->runs; k++) {
		t0 = cli_now_ns();
		if (qnpu_model_run(c->model))
			return cli_err("%s", qnpu_last_error());
		wall[k] = cli_now_ns() - t0;
	}
	qsort(wall, (size_t)c->runs, sizeof(wall[0]), cmp_u64);
	cli_totals(c->model, &t);
	printf("%-30s %10llu %10llu %10llu %6.1f%% %10.1f %10.2f %9.2f\n", name,
	       (ull)t.macs, (ull)t.npu_macs, (ull)t.cycles,
	       100 * cli_util(t.npu_macs, &di, t.cycles),
	       (double)t.cycles / 1e3, (double)wall[c->runs / 2] / 1e6,
	       (double)c->load_ns / 1e6);
	return 0;
}

static int bench(struct cli *c)
{
	const char *device;
	struct qnpu_device_info di;
	struct qnpu_device *dev;
	char buf[4096];
	int i, ret = 0;

	device = cli_device(c, buf, sizeof(buf));
	if (device && qnpu_device_open(device, &dev) == 0) {
		qnpu_device_query(dev, &di);
		printf("device %s, %ux%u MAC array; %d runs per model, median\n\n",
		       di.name, di.rows, di.cols, c->runs);
		qnpu_device_close(dev);
	}
	printf("%-30s %10s %10s %10s %7s %10s %10s %9s\n", "model", "MACs",
	       "NPU MACs", "cycles", "util", "sim us@1G", "wall ms",
	       "compile ms");
	for (i = 0; i < c->num_models; i++) {
		ret |= cli_load(c, c->models[i]) || bench_one(c, c->models[i]);
		cli_unload(c);
	}
	return ret;
}

const struct cli_cmd cli_cmd_bench = {
	.name = "bench",
	.summary =
		"per model: MACs, cycles, utilization, wall and compile time",
	.usage = usage,
	.opts = CLI_BACKEND | CLI_TARGET | CLI_RUNS | CLI_THREADS | CLI_BATCH,
	.flags = CLI_MANY_MODELS | CLI_INFER,
	.run = bench,
};
