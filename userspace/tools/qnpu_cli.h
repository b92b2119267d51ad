/* SPDX-License-Identifier: MIT */
/*
 * The qnpu CLI's private header: what a command is, the options the
 * commands share, and the helpers behind them: cli.c (options, device and
 * model), cli_io.c (inputs, inferences, output file), cli_dump.c
 * (--dump-layers), cli_stats.c (what commands print of a model).
 *
 * A command is a struct cli_cmd in its own cmd_<name>.c, listed in qnpu.c.
 * It names the options it takes; cli_main() parses them, refuses usage
 * errors, opens the device and the model and reads the inputs, so that
 * .run only does the command's own work. A new option is one line in
 * cli.c's table, a flag here and a field in struct cli.
 */
#ifndef QNPU_CLI_H
#define QNPU_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qnpu.h"

#define CLI_MAX_INPUTS 16
#define CLI_MAX_RUNS 64

typedef unsigned long long ull; /* what printf's %llu takes */

/* The options a command takes (cli_cmd.opts) or needs (cli_cmd.need). */
enum {
	CLI_BACKEND = 1 << 0, /* --backend=NAME */
	CLI_TARGET = 1 << 1, /* --target=DTB */
	CLI_INPUT = 1 << 2, /* --input=FILE, one per model input */
	CLI_OUTPUT = 1 << 3, /* --output=FILE */
	CLI_DUMP_LAYERS = 1 << 4, /* --dump-layers=DIR */
	CLI_FORMAT = 1 << 5, /* --format=table|json */
	CLI_RUNS = 1 << 6, /* --runs=N, 1 to CLI_MAX_RUNS (default 5) */
	CLI_CALIBRATION = 1 << 7, /* --calibration=METHOD[:P] */
	CLI_PER_TENSOR = 1 << 8, /* --per-tensor (no argument) */
	CLI_FLOAT_IO = 1 << 9, /* --float-io (no argument) */
	CLI_SAMPLES = 1 << 10, /* --samples=FILE, repeatable */
	CLI_PLOT = 1 << 11, /* --plot=FILE.svg */
	CLI_BIAS_CORRECTION = 1 << 12, /* --bias-correction (no argument) */
	CLI_THREADS = 1 << 13, /* --threads=N, CPU operators' threads */
	CLI_ESTIMATE = 1 << 15, /* --estimate (no argument): cost model only */
	CLI_GRID = 1 << 14, /* --models --rows --cols --sram --mem-bw --mem-lat
			     * --jobs (-j): a sweep's grid, comma lists */
	CLI_BATCH = 1 << 16, /* --batch=N: samples per run, 1 to CLI_MAX_BATCH */
};

#define CLI_MAX_BATCH 256 /* qnpu_model_batch()'s limit */

/* How a command takes its models and --target (cli_cmd.flags). */
enum {
	/* MODEL...: the command loads each with cli_load(); without this
	 * flag it takes one MODEL, loaded before .run. */
	CLI_MANY_MODELS = 1 << 0,
	/* --target=DTB is the offline device "target:DTB" and excludes
	 * --backend; without it, it configures sim ("sim:DTB"). */
	CLI_OFFLINE_TARGET = 1 << 1,
	/* Runs inferences: cli_load() reads the --input files (or makes
	 * zeros for one inference when none is given), sets the first and
	 * starts --dump-layers. */
	CLI_INFER = 1 << 2,
	/* Takes no MODEL argument (a sweep names them with --models). */
	CLI_NO_MODEL = 1 << 3,
};

struct cli;

struct cli_cmd {
	const char *name;
	const char *summary; /* its line in `qnpu help` */
	const char *usage; /* `qnpu NAME --help` */
	const char *missing; /* said after the usage on a usage error */
	const char *shortopts; /* short options besides -h, e.g. "o:" */
	unsigned int opts, need, flags;
	int (*run)(struct cli *c); /* 0, or 1 once the error is said */
};

struct cli {
	const struct cli_cmd *cmd;
	/* The options as given; NULL or 0 when not. */
	const char *backend, *target, *output, *dump_dir, *format, *runs_opt;
	const char *inputs[CLI_MAX_INPUTS];
	int num_inputs;
	const char *calibration, *per_tensor, *float_io, *plot, *bias_corr;
	const char *threads_opt;
	const char *estimate;
	const char *batch_opt;
	const char *g_models, *g_rows, *g_cols, *g_sram, *g_bw, *g_lat, *jobs;
	const char *samples[CLI_MAX_INPUTS];
	int num_samples;
	/* What parsing made of them. */
	bool json; /* --format=json */
	int runs; /* --runs, default 5 */
	int threads; /* --threads, 0 (one per core) when not given */
	int batch; /* --batch, 1 when not given */
	char **models;
	int num_models;
	/* Set by cli_load(): the model on its device (batched to c->batch);
	 * for CLI_INFER its inputs, num_inferences samples back to back in
	 * in_buf[i] (a run takes c->batch of them). */
	struct qnpu_device *dev;
	struct qnpu_model *model;
	unsigned char **in_buf;
	int num_in_buf;
	size_t num_inferences;
	uint64_t load_ns; /* device open, model load and compile */
	FILE *dump_index; /* DIR/index.tsv until the first run is dumped */
};

extern const struct cli_cmd cli_cmd_run, cli_cmd_inspect, cli_cmd_profile,
	cli_cmd_bench, cli_cmd_compile, cli_cmd_quantize, cli_cmd_compare,
	cli_cmd_sweep;

/* cli.c */

/* Parse argv (argv[0] is the command's name) and run @cmd: its exit code. */
int cli_main(const struct cli_cmd *cmd, int argc, char **argv);

/* "qnpu: MESSAGE" on stderr; returns 1, the exit code of a failure. */
int cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The device the options name, e.g. "sim:x.dtb" for --target=x.dtb; NULL
 * for a --target with a backend other than sim. @buf holds it if needed.
 */
const char *cli_device(const struct cli *c, char *buf, size_t n);

/* Open the device and load @path into @c, as CLI_INFER says; 0 or 1. */
int cli_load(struct cli *c, const char *path);
/* Undo cli_load(), whatever part of it succeeded. */
void cli_unload(struct cli *c);

/* cli_io.c; each returns 0, or 1 once the error is said. */

/* The --input files (or zeros) into c->in_buf, their sizes checked. */
int cli_read_inputs(struct cli *c);
/* Give the model run @k of those inputs: samples k*batch on (the last run
 * of a count not a multiple of the batch is padded with zero samples). */
int cli_set_inputs(struct cli *c, size_t k);
/* Run every inference (c->batch per run); all their outputs back to back,
 * one sample's after another's, in a new @out. */
int cli_infer(struct cli *c, unsigned char **out, size_t *len);
/* Write @path whole or not at all (FILE.tmp, renamed). */
int cli_write_file(const char *path, const void *buf, size_t len);

/* cli_dump.c: each operator's output of the next run into c->dump_dir. */
int cli_dump_start(struct cli *c);
/* Stop dumping, if it was. */
int cli_dump_stop(struct cli *c);

/* cmd_quantize.c, for quantize and compare */

/* A file of whole float32 samples of @floats_per_sample; 0 or 1. */
int cli_read_floats(const char *path, size_t floats_per_sample, float **buf,
		    size_t *bytes);
/* --calibration=METHOD[:P] into @o; 0 or 1. */
struct qnpu_quant_options;
int cli_calibration(const char *s, struct qnpu_quant_options *o);

/* cli_stats.c */

/* "1x32x32x3", or "scalar". */
void cli_shape(const struct qnpu_tensor_info *t, char *buf, size_t n);
/* "npu" or "cpu". */
const char *cli_where(const struct qnpu_op_info *op);
uint64_t cli_now_ns(void);

/* MACs of a model, of its NPU part, and the NPU cycles of its last run. */
struct cli_totals {
	uint64_t macs, npu_macs, cycles, dma_in, dma_out;
};

void cli_totals(const struct qnpu_model *model, struct cli_totals *t);
/* MACs / (rows x cols x cycles); 0 without cycles or a MAC array. */
double cli_util(uint64_t macs, const struct qnpu_device_info *d,
		uint64_t cycles);

/* cli_codesign.c: the first-order area and energy model and the sweep's
 * plots (docs/codesign.md) */

/* One point of a sweep: a configuration, a model and what it measured. */
struct cli_point {
	char model[64];
	uint32_t rows, cols, abuf, wbuf, pbuf, obuf, dma;
	uint32_t mem_bw, mem_lat, mem_out; /* 0: ideal */
	uint64_t cycles, est_cycles, macs, npu_macs, dma_in, dma_out;
	double area_mm2, energy_uj; /* estimates */
	bool ok;
};

/* Estimated area (mm^2) of a configuration and energy (uJ) of a point. */
double cli_area_mm2(const struct cli_point *p);
double cli_energy_uj(const struct cli_point *p);
/* The sweep's SVG plots into DIR; 0 or 1 (said). */
int cli_sweep_plots(const char *dir, const struct cli_point *pts, size_t n);

#endif
