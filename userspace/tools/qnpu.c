// SPDX-License-Identifier: MIT
/* qnpu: run and inspect TFLite INT8 models with libqnpu. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "qnpu.h"

#define MAX_INPUTS 16

static const char *prog = "qnpu";

static const char usage_main[] =
	"usage: qnpu COMMAND [OPTIONS] MODEL.tflite\n"
	"\n"
	"commands:\n"
	"  run      run a model on input files, write its outputs\n"
	"  inspect  list a model's operators, tensors and MACs\n"
	"  profile  run once and report cycles, utilization and DMA per layer\n"
	"  bench    per model: MACs, cycles, utilization, wall and compile time\n"
	"  compile  compile a model for an NPU into a file `run` takes\n"
	"  help     this text; `qnpu COMMAND --help` for a command\n";

static const char usage_run[] =
	"usage: qnpu run [--backend=cpu|sim|drm|auto] [--target=DTB]\n"
	"                --input=FILE [--input=FILE ...]\n"
	"                --output=FILE [--dump-layers=DIR] MODEL.tflite\n"
	"\n"
	"One --input per model input, in the model's input order: raw tensor\n"
	"bytes. A file holding N inputs back to back runs N inferences and\n"
	"writes N outputs back to back (all outputs of one inference, in the\n"
	"model's output order, then the next).\n"
	"  --backend=NAME     device to run on: cpu, sim (the simulated NPU),\n"
	"                     drm (the kernel driver), auto (default: drm if\n"
	"                     a qnpu render node exists, else sim)\n"
	"  --target=DTB       NPU configuration for sim, from a device tree\n"
	"  --dump-layers=DIR  write each operator's output for the first\n"
	"                     inference to DIR, with DIR/index.tsv\n";

static const char usage_profile[] =
	"usage: qnpu profile [--backend=sim] [--target=DTB] [--format=table|json]\n"
	"                    [--input=FILE ...] MODEL.tflite\n"
	"\n"
	"Run one inference (on the given inputs, else zeros) and report per\n"
	"operator: index, op, where it ran (npu/cpu), MACs, cycles, MAC\n"
	"utilization (MACs / (rows x cols x cycles)), DMA bytes in and out;\n"
	"then totals: MACs, NPU MACs, cycles, utilization of the NPU part and\n"
	"host wall time.\n";

static const char usage_bench[] =
	"usage: qnpu bench [--backend=NAME] [--target=DTB] [--runs=N] MODEL...\n"
	"\n"
	"For each model, print: MACs, MACs on the NPU, NPU cycles per inference,\n"
	"NPU utilization (NPU MACs / (rows x cols x NPU cycles)), simulated time\n"
	"at a nominal 1 GHz, host wall time per inference (median of N runs,\n"
	"default 5, on zero inputs) and compile time (load + compile).\n";

static const char usage_compile[] =
	"usage: qnpu compile [--target=DTB | --backend=NAME] -o FILE MODEL.tflite\n"
	"\n"
	"Compile for the NPU a device tree describes (offline, no device needed)\n"
	"or for a device (default: auto). `qnpu run FILE` runs the result on a\n"
	"device with the same parameters without compiling again.\n";

static const char usage_inspect[] =
	"usage: qnpu inspect [--backend=NAME] [--target=DTB] MODEL.tflite\n"
	"\n"
	"Print the model's operators (shapes, quantization, MACs, where they\n"
	"run), its tensors and the total MACs.\n";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(const char *fmt, const char *arg, const char *why)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	if (why)
		fprintf(stderr, ": %s", why);
	fputc('\n', stderr);
	return 1;
}

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	*buf = malloc(n ? (size_t)n : 1);
	if (!*buf) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		free(*buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static void shape_str(const struct qnpu_tensor_info *t, char *buf, size_t n)
{
	size_t used = 0;
	int i;

	buf[0] = 0;
	if (!t->rank)
		snprintf(buf, n, "scalar");
	for (i = 0; i < t->rank && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%d",
					 i ? "x" : "", t->shape[i]);
}

struct dump {
	const char *dir;
	FILE *index;
};

static int dump_layer(const struct qnpu_op_info *op, const void *data,
		      void *user)
{
	struct dump *d = user;
	char path[4096], file[256], shape[96];
	FILE *f;

	snprintf(file, sizeof(file), "op%03d_%s_t%d.bin", op->index, op->name,
		 op->output.index);
	snprintf(path, sizeof(path), "%s/%s", d->dir, file);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, op->output.bytes, f) != op->output.bytes) {
		if (f)
			fclose(f);
		fail("cannot write %s", path, strerror(errno));
		return -EIO;
	}
	if (fclose(f))
		return -EIO;
	shape_str(&op->output, shape, sizeof(shape));
	fprintf(d->index, "%d\t%s\t%d\t%s\t%s\t%s\t%.9g\t%d\t%s\n", op->index,
		op->name, op->output.index, op->output.name,
		qnpu_dtype_name(op->output.dtype), shape,
		(double)op->output.scale, op->output.zero_point, file);
	return 0;
}

static int write_all(const char *path, const unsigned char *buf, size_t len)
{
	char tmp[4096];
	FILE *f;

	/* Write beside and rename, so a failed run never leaves half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		return -errno;
	if (fwrite(buf, 1, len, f) != len || fclose(f)) {
		remove(tmp);
		return -EIO;
	}
	if (rename(tmp, path)) {
		int r = -errno;

		remove(tmp);
		return r;
	}
	return 0;
}

/* "--backend=sim --target=x.dtb" is device "sim:x.dtb". */
static int open_model(const char *backend, const char *target,
		      const char *path, struct qnpu_device **dev,
		      struct qnpu_model **model)
{
	char name[4096];
	int r;

	if (target) {
		if (backend && strcmp(backend, "sim") && strcmp(backend, "auto")) {
			fprintf(stderr, "%s: --target applies to the sim backend, not %s\n",
				prog, backend);
			return 1;
		}
		snprintf(name, sizeof(name), "sim:%s", target);
		backend = name;
	}
	r = qnpu_device_open(backend, dev);
	if (r)
		return fail("%s", qnpu_last_error(), NULL);
	r = qnpu_model_load_file(*dev, path, model);
	if (r) {
		fail("%s", qnpu_last_error(), NULL);
		qnpu_device_close(*dev);
		return 1;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "dump-layers", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *backend = NULL, *output = NULL, *dump_dir = NULL;
	const char *target = NULL;
	const char *inputs[MAX_INPUTS];
	unsigned char *in_buf[MAX_INPUTS] = { 0 }, *out_buf = NULL;
	size_t in_len[MAX_INPUTS], out_per = 0, n_inf = 0, k;
	struct qnpu_device *dev = NULL;
	struct qnpu_model *model = NULL;
	struct dump dump = { 0 };
	int nin = 0, c, i, nout, ret = 1, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 't': target = optarg; break;
		case 'o': output = optarg; break;
		case 'd': dump_dir = optarg; break;
		case 'i':
			if (nin == MAX_INPUTS)
				return fail("at most %s inputs", "16", NULL);
			inputs[nin++] = optarg;
			break;
		case 'h':
			fputs(usage_run, stdout);
			return 0;
		default:
			fputs(usage_run, stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !output || !nin) {
		fputs(usage_run, stderr);
		return fail("run: %s", "need MODEL, --output and at least one --input", NULL) + 1;
	}
	if (open_model(backend, target, argv[optind], &dev, &model))
		return 1;
	if (nin != qnpu_model_num_inputs(model)) {
		fprintf(stderr, "%s: model has %d inputs, %d --input given\n",
			prog, qnpu_model_num_inputs(model), nin);
		goto out;
	}
	for (i = 0; i < nin; i++) {
		struct qnpu_tensor_info ti;
		size_t n;

		qnpu_model_input_info(model, i, &ti);
		r = read_file(inputs[i], &in_buf[i], &in_len[i]);
		if (r) {
			fail("cannot read input %s", inputs[i], strerror(-r));
			goto out;
		}
		n = in_len[i] / ti.bytes;
		if (!in_len[i] || in_len[i] % ti.bytes) {
			char shape[96];

			shape_str(&ti, shape, sizeof(shape));
			fprintf(stderr,
				"%s: input %s is %zu bytes, not a multiple of input %d (%s %s, %zu bytes)\n",
				prog, inputs[i], in_len[i], i,
				qnpu_dtype_name(ti.dtype), shape, ti.bytes);
			goto out;
		}
		if (i && n != n_inf) {
			fprintf(stderr,
				"%s: input %s holds %zu inferences, input %s holds %zu\n",
				prog, inputs[i], n, inputs[0], n_inf);
			goto out;
		}
		n_inf = n;
	}
	nout = qnpu_model_num_outputs(model);
	for (i = 0; i < nout; i++) {
		struct qnpu_tensor_info ti;

		qnpu_model_output_info(model, i, &ti);
		out_per += ti.bytes;
	}
	out_buf = malloc(out_per * n_inf);
	if (!out_buf) {
		fail("%s", "out of memory", NULL);
		goto out;
	}
	if (dump_dir) {
		char path[4096];

		if (mkdir(dump_dir, 0777) && errno != EEXIST) {
			fail("cannot create %s", dump_dir, strerror(errno));
			goto out;
		}
		snprintf(path, sizeof(path), "%s/index.tsv", dump_dir);
		dump.dir = dump_dir;
		dump.index = fopen(path, "w");
		if (!dump.index) {
			fail("cannot write %s", path, strerror(errno));
			goto out;
		}
		fputs("op_index\topcode\ttensor_index\ttensor_name\tdtype\tshape\tscale\tzero_point\tfile\n",
		      dump.index);
		qnpu_model_set_layer_callback(model, dump_layer, &dump);
	}
	for (k = 0; k < n_inf; k++) {
		unsigned char *o = out_buf + k * out_per;

		for (i = 0; i < nin; i++) {
			struct qnpu_tensor_info ti;

			qnpu_model_input_info(model, i, &ti);
			qnpu_model_set_input(model, i,
					     in_buf[i] + k * ti.bytes,
					     ti.bytes);
		}
		r = qnpu_model_run(model);
		if (k == 0 && dump.index) {
			qnpu_model_set_layer_callback(model, NULL, NULL);
			if (fclose(dump.index) && !r)
				r = -EIO;
			dump.index = NULL;
		}
		if (r) {
			fail("run failed: %s", qnpu_last_error(), NULL);
			goto out;
		}
		for (i = 0; i < nout; i++) {
			struct qnpu_tensor_info ti;

			qnpu_model_output_info(model, i, &ti);
			qnpu_model_get_output(model, i, o, ti.bytes);
			o += ti.bytes;
		}
	}
	r = write_all(output, out_buf, out_per * n_inf);
	if (r) {
		fail("cannot write %s", output, strerror(-r));
		goto out;
	}
	ret = 0;
out:
	if (dump.index)
		fclose(dump.index);
	for (i = 0; i < nin; i++)
		free(in_buf[i]);
	free(out_buf);
	qnpu_model_free(model);
	qnpu_device_close(dev);
	return ret;
}

static void print_quant(const struct qnpu_tensor_info *t)
{
	if (!t->num_scales)
		printf("-");
	else if (t->num_scales == 1)
		printf("s=%.9g zp=%d", (double)t->scale, t->zero_point);
	else
		printf("per-channel(%d, axis %d)", t->num_scales,
		       t->quant_axis);
}

static int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct qnpu_device *dev;
	struct qnpu_model *model;
	const char *backend = NULL, *target = NULL;
	uint64_t total = 0;
	int c, i, j, n;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 't': target = optarg; break;
		case 'h':
			fputs(usage_inspect, stdout);
			return 0;
		default:
			fputs(usage_inspect, stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_inspect, stderr);
		return 2;
	}
	if (open_model(backend, target, argv[optind], &dev, &model))
		return 1;
	printf("model %s on %s\n\noperators:\n", argv[optind],
	       qnpu_device_name(dev));
	printf("%4s  %-20s %-4s %12s  %s\n", "idx", "op", "on", "MACs",
	       "inputs -> outputs (tensor:dtype:shape:quant)");
	n = qnpu_model_num_ops(model);
	for (i = 0; i < n; i++) {
		struct qnpu_op_info op;

		qnpu_model_op_info(model, i, &op);
		total += op.macs;
		printf("%4d  %-20s %-4s %12llu  ", i, op.name,
		       op.target == QNPU_TARGET_NPU ? "npu" : "cpu",
		       (unsigned long long)op.macs);
		for (j = 0; j < op.num_inputs + op.num_outputs &&
			    j < 2 * QNPU_MAX_OP_IO; j++) {
			bool is_in = j < op.num_inputs;
			int ti = is_in ? op.inputs[j] : op.outputs[j - op.num_inputs];
			struct qnpu_tensor_info t;
			char shape[96];

			printf("%s", j == op.num_inputs ? " -> " : j ? ", " : "");
			if (ti < 0) {
				printf("-");
				continue;
			}
			qnpu_model_tensor_info(model, ti, &t);
			shape_str(&t, shape, sizeof(shape));
			printf("t%d:%s:%s:", ti, qnpu_dtype_name(t.dtype), shape);
			print_quant(&t);
		}
		printf("\n");
	}
	printf("\ntensors:\n");
	n = qnpu_model_num_tensors(model);
	for (i = 0; i < n; i++) {
		struct qnpu_tensor_info t;
		char shape[96];

		qnpu_model_tensor_info(model, i, &t);
		shape_str(&t, shape, sizeof(shape));
		printf("%4d  %-7s %-14s %-5s ", i, qnpu_dtype_name(t.dtype),
		       shape, t.is_constant ? "const" : "");
		print_quant(&t);
		printf("  %s\n", t.name);
	}
	printf("\ntotal MACs: %llu\n", (unsigned long long)total);
	qnpu_model_free(model);
	qnpu_device_close(dev);
	return 0;
}

/* MACs of the model, of its NPU part, and the NPU cycles of the last run. */
static void totals(const struct qnpu_model *model, uint64_t *macs,
		   uint64_t *npu_macs, uint64_t *cycles)
{
	int i, n = qnpu_model_num_ops(model);

	*macs = *npu_macs = *cycles = 0;
	for (i = 0; i < n; i++) {
		struct qnpu_op_info op;
		struct qnpu_op_stats st;

		qnpu_model_op_info(model, i, &op);
		qnpu_model_op_stats(model, i, &st);
		*macs += op.macs;
		if (op.target == QNPU_TARGET_NPU) {
			*npu_macs += op.macs;
			*cycles += st.cycles;
		}
	}
}

static double util(uint64_t macs, const struct qnpu_device_info *d,
		   uint64_t cycles)
{
	if (!cycles || !d->rows)
		return 0;
	return (double)macs / ((double)d->rows * d->cols * (double)cycles);
}

static int cmd_profile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "input", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *backend = NULL, *target = NULL, *format = "table";
	const char *inputs[MAX_INPUTS];
	struct qnpu_device_info di;
	struct qnpu_device *dev;
	struct qnpu_model *model;
	uint64_t macs = 0, npu_macs = 0, cycles = 0, host = 0, t0;
	int c, i, n, nin = 0, ret = 1, json;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 't': target = optarg; break;
		case 'f': format = optarg; break;
		case 'i':
			if (nin == MAX_INPUTS)
				return fail("at most %s inputs", "16", NULL);
			inputs[nin++] = optarg;
			break;
		case 'h':
			fputs(usage_profile, stdout);
			return 0;
		default:
			fputs(usage_profile, stderr);
			return 2;
		}
	}
	json = !strcmp(format, "json");
	if (optind != argc - 1 || (!json && strcmp(format, "table"))) {
		fputs(usage_profile, stderr);
		return 2;
	}
	if (open_model(backend, target, argv[optind], &dev, &model))
		return 1;
	qnpu_device_query(dev, &di);
	if (nin && nin != qnpu_model_num_inputs(model)) {
		fprintf(stderr, "%s: model has %d inputs, %d --input given\n",
			prog, qnpu_model_num_inputs(model), nin);
		goto out;
	}
	for (i = 0; i < qnpu_model_num_inputs(model); i++) {
		struct qnpu_tensor_info ti;
		unsigned char *buf = NULL;
		size_t len = 0;
		int r;

		qnpu_model_input_info(model, i, &ti);
		if (nin) {
			r = read_file(inputs[i], &buf, &len);
			if (r) {
				fail("cannot read input %s", inputs[i],
				     strerror(-r));
				goto out;
			}
		}
		if (len < ti.bytes) {	/* zeros, or the first inference */
			free(buf);
			buf = calloc(1, ti.bytes);
			if (nin && len) {
				fprintf(stderr, "%s: input %s is shorter than input %d (%zu bytes)\n",
					prog, inputs[i], i, ti.bytes);
				free(buf);
				goto out;
			}
		}
		r = qnpu_model_set_input(model, i, buf, ti.bytes);
		free(buf);
		if (r) {
			fail("%s", qnpu_last_error(), NULL);
			goto out;
		}
	}
	t0 = now_ns();
	if (qnpu_model_run(model)) {
		fail("run failed: %s", qnpu_last_error(), NULL);
		goto out;
	}
	host = now_ns() - t0;
	n = qnpu_model_num_ops(model);
	if (json)
		printf("{\n  \"model\": \"%s\",\n  \"device\": \"%s\",\n  \"rows\": %u,\n  \"cols\": %u,\n  \"layers\": [\n",
		       argv[optind], di.name, di.rows, di.cols);
	else
		printf("%4s  %-18s %-4s %10s %10s %6s %9s %9s  %s\n", "idx", "op",
		       "on", "MACs", "cycles", "util", "dma_in", "dma_out",
		       "note");
	for (i = 0; i < n; i++) {
		struct qnpu_op_info op;
		struct qnpu_op_stats st;
		int npu;

		qnpu_model_op_info(model, i, &op);
		qnpu_model_op_stats(model, i, &st);
		npu = op.target == QNPU_TARGET_NPU;
		if (json)
			printf("    {\"index\": %d, \"op\": \"%s\", \"where\": \"%s\", \"macs\": %llu, \"cycles\": %llu, \"utilization\": %.4f, \"dma_in\": %llu, \"dma_out\": %llu, \"host_us\": %.1f}%s\n",
			       i, op.name, npu ? "npu" : "cpu",
			       (unsigned long long)op.macs,
			       (unsigned long long)st.cycles,
			       util(op.macs, &di, st.cycles),
			       (unsigned long long)st.dma_in,
			       (unsigned long long)st.dma_out,
			       (double)st.host_ns / 1e3, i + 1 < n ? "," : "");
		else
			printf("%4d  %-18s %-4s %10llu %10llu %5.1f%% %9llu %9llu  %s\n",
			       i, op.name, npu ? "npu" : "cpu",
			       (unsigned long long)op.macs,
			       (unsigned long long)st.cycles,
			       100 * util(op.macs, &di, st.cycles),
			       (unsigned long long)st.dma_in,
			       (unsigned long long)st.dma_out,
			       st.note ? st.note : "");
	}
	totals(model, &macs, &npu_macs, &cycles);
	if (json)
		printf("  ],\n  \"total\": {\"macs\": %llu, \"npu_macs\": %llu, \"cycles\": %llu, \"utilization\": %.4f, \"host_wall_us\": %.1f}\n}\n",
		       (unsigned long long)macs, (unsigned long long)npu_macs,
		       (unsigned long long)cycles,
		       util(npu_macs, &di, cycles), (double)host / 1e3);
	else
		printf("\ntotal: %llu MACs, %llu on the NPU (%.1f%%), %llu NPU cycles, NPU utilization %.1f%% (%ux%u), host wall %.2f ms\n",
		       (unsigned long long)macs, (unsigned long long)npu_macs,
		       macs ? 100.0 * (double)npu_macs / (double)macs : 0.0,
		       (unsigned long long)cycles,
		       100 * util(npu_macs, &di, cycles), di.rows, di.cols,
		       (double)host / 1e6);
	ret = 0;
out:
	qnpu_model_free(model);
	qnpu_device_close(dev);
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int bench_one(const char *backend, const char *target,
		     const char *path, int runs)
{
	struct qnpu_device_info di;
	struct qnpu_device *dev;
	struct qnpu_model *model;
	uint64_t t0, compile, wall[64], macs = 0, npu_macs = 0, cycles = 0;
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int i, k;

	t0 = now_ns();
	if (open_model(backend, target, path, &dev, &model))
		return 1;
	compile = now_ns() - t0;
	qnpu_device_query(dev, &di);
	for (i = 0; i < qnpu_model_num_inputs(model); i++) {
		struct qnpu_tensor_info ti;
		void *zero;

		qnpu_model_input_info(model, i, &ti);
		zero = calloc(1, ti.bytes);
		qnpu_model_set_input(model, i, zero, ti.bytes);
		free(zero);
	}
	for (k = 0; k < runs; k++) {
		t0 = now_ns();
		if (qnpu_model_run(model)) {
			fail("%s", qnpu_last_error(), NULL);
			qnpu_model_free(model);
			qnpu_device_close(dev);
			return 1;
		}
		wall[k] = now_ns() - t0;
	}
	qsort(wall, (size_t)runs, sizeof(wall[0]), cmp_u64);
	totals(model, &macs, &npu_macs, &cycles);
	printf("%-30s %10llu %10llu %10llu %6.1f%% %10.1f %10.2f %9.2f\n",
	       name, (unsigned long long)macs, (unsigned long long)npu_macs,
	       (unsigned long long)cycles, 100 * util(npu_macs, &di, cycles),
	       (double)cycles / 1e3, (double)wall[runs / 2] / 1e6,
	       (double)compile / 1e6);
	qnpu_model_free(model);
	qnpu_device_close(dev);
	return 0;
}

static int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "runs", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *backend = NULL, *target = NULL;
	struct qnpu_device_info di;
	struct qnpu_device *dev;
	int c, runs = 5, ret = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 't': target = optarg; break;
		case 'r': runs = atoi(optarg); break;
		case 'h':
			fputs(usage_bench, stdout);
			return 0;
		default:
			fputs(usage_bench, stderr);
			return 2;
		}
	}
	if (optind >= argc || runs < 1 || runs > 64) {
		fputs(usage_bench, stderr);
		return 2;
	}
	if (qnpu_device_open(backend, &dev) == 0) {
		qnpu_device_query(dev, &di);
		printf("device %s, %ux%u MAC array; %d runs per model, median\n\n",
		       di.name, di.rows, di.cols, runs);
		qnpu_device_close(dev);
	}
	printf("%-30s %10s %10s %10s %7s %10s %10s %9s\n", "model", "MACs",
	       "NPU MACs", "cycles", "util", "sim us@1G", "wall ms",
	       "compile ms");
	for (; optind < argc; optind++)
		ret |= bench_one(backend, target, argv[optind], runs);
	return ret;
}

static int cmd_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *backend = NULL, *target = NULL, *output = NULL;
	struct qnpu_device *dev;
	struct qnpu_model *model;
	char name[4096];
	int c, i, n, npu = 0, ret;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 't': target = optarg; break;
		case 'o': output = optarg; break;
		case 'h':
			fputs(usage_compile, stdout);
			return 0;
		default:
			fputs(usage_compile, stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !output || (target && backend)) {
		fputs(usage_compile, stderr);
		return 2;
	}
	if (target) {
		snprintf(name, sizeof(name), "target:%s", target);
		backend = name;
	}
	if (open_model(backend, NULL, argv[optind], &dev, &model))
		return 1;
	ret = qnpu_model_save(model, output);
	if (ret) {
		fail("%s", qnpu_last_error(), NULL);
	} else {
		struct qnpu_device_info di;

		n = qnpu_model_num_ops(model);
		for (i = 0; i < n; i++) {
			struct qnpu_op_info op;

			qnpu_model_op_info(model, i, &op);
			npu += op.target == QNPU_TARGET_NPU;
		}
		qnpu_device_query(dev, &di);
		printf("%s: %d of %d operators on the %ux%u NPU\n", output, npu,
		       n, di.rows, di.cols);
	}
	qnpu_model_free(model);
	qnpu_device_close(dev);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage_main, stderr);
		return 2;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "inspect"))
		return cmd_inspect(argc - 1, argv + 1);
	if (!strcmp(cmd, "profile"))
		return cmd_profile(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "compile"))
		return cmd_compile(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command \"%s\"\n%s", prog, cmd,
		usage_main);
	return 2;
}
