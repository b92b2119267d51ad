// SPDX-License-Identifier: MIT
/* qnpu profile: one inference, its cycles, utilization and DMA per layer. */
#include "qnpu_cli.h"

static const char usage[] =
	"usage: qnpu profile [--backend=sim] [--target=DTB] [--format=table|json]\n"
	"                    [--estimate] [--input=FILE ...] [--threads=N]\n"
	"                    [--batch=N]\n"
	"                    MODEL.tflite|MODEL.onnx\n"
	"\n"
	"Run one inference (on the given inputs, else zeros) and report per\n"
	"operator: index, op, where it ran (npu/cpu), MACs, cycles, MAC\n"
	"utilization (MACs / (rows x cols x cycles)), DMA bytes in and out;\n"
	"then totals: MACs, NPU MACs, cycles, utilization of the NPU part and\n"
	"host wall time. The JSON also gives the compiler's cost-model\n"
	"prediction (est_cycles) and the device jobs each operator submitted\n"
	"(\"jobs\"): consecutive NPU operators run as one job, a segment, whose\n"
	"cycles are split over its operators as the cost model's timeline of\n"
	"the joined stream splits them (per-layer cycles of a segment are that\n"
	"attribution; the total is the job's). --estimate runs nothing: cycles are the\n"
	"prediction, for the DTB's configuration without building its RTL.\n"
	"--threads=N: threads for the CPU operators (default: one per core).\n"
	"--batch=N: one run of N samples (the first N of the inputs, zeros\n"
	"after them), the model compiled for batch N.\n";

static void layer(struct cli *c, const struct qnpu_device_info *di, int i,
		  bool last)
{
	struct qnpu_op_info op;
	struct qnpu_op_stats st;
	double u;

	qnpu_model_op_info(c->model, i, &op);
	qnpu_model_op_stats(c->model, i, &st);
	if (c->estimate) {
		st.cycles = st.est_cycles;
		st.dma_in = st.est_dma_in;
		st.dma_out = st.est_dma_out;
	}
	u = cli_util(op.macs, di, st.cycles);
	if (c->json)
		printf("    {\"index\": %d, \"op\": \"%s\", \"where\": \"%s\", \"macs\": %llu, \"cycles\": %llu, \"est_cycles\": %llu, \"utilization\": %.4f, \"dma_in\": %llu, \"dma_out\": %llu, \"host_us\": %.1f, \"jobs\": %u}%s\n",
		       i, op.name, cli_where(&op), (ull)op.macs, (ull)st.cycles,
		       (ull)st.est_cycles, u, (ull)st.dma_in, (ull)st.dma_out,
		       (double)st.host_ns / 1e3, st.jobs, last ? "" : ",");
	else
		printf("%4d  %-18s %-4s %10llu %10llu %5.1f%% %9llu %9llu  %s\n",
		       i, op.name, cli_where(&op), (ull)op.macs, (ull)st.cycles,
		       100 * u, (ull)st.dma_in, (ull)st.dma_out,
		       st.note ? st.note : "");
}

/* NPU operators that ran as a job of their own or in a segment. */
static uint64_t nnpu(struct cli *c)
{
	int i, n = qnpu_model_num_ops(c->model);
	uint64_t k = 0;

	for (i = 0; i < n; i++) {
		struct qnpu_op_info op;
		struct qnpu_op_stats st;

		qnpu_model_op_info(c->model, i, &op);
		qnpu_model_op_stats(c->model, i, &st);
		k += op.target == QNPU_TARGET_NPU && st.cycles;
	}
	return k;
}

static int profile(struct cli *c)
{
	int i, n = qnpu_model_num_ops(c->model);
	struct qnpu_device_info di;
	struct cli_totals t;
	uint64_t host, est = 0, est_in = 0, est_out = 0, jobs = 0;

	qnpu_device_query(c->dev, &di);
	host = cli_now_ns();
	if (!c->estimate && qnpu_model_run(c->model))
		return cli_err("run failed: %s", qnpu_last_error());
	host = cli_now_ns() - host;
	for (i = 0; i < n; i++) {
		struct qnpu_op_stats st;

		qnpu_model_op_stats(c->model, i, &st);
		est += st.est_cycles;
		est_in += st.est_dma_in;
		est_out += st.est_dma_out;
		jobs += st.jobs;
	}
	if (c->json)
		printf("{\n  \"model\": \"%s\",\n  \"device\": \"%s\",\n  \"rows\": %u,\n  \"cols\": %u,\n  \"layers\": [\n",
		       c->models[0], di.name, di.rows, di.cols);
	else
		printf("%4s  %-18s %-4s %10s %10s %6s %9s %9s  %s\n", "idx",
		       "op", "on", "MACs", "cycles", "util", "dma_in",
		       "dma_out", "note");
	for (i = 0; i < n; i++)
		layer(c, &di, i, i + 1 == n);
	cli_totals(c->model, &t);
	if (c->estimate) {
		t.cycles = est;
		t.dma_in = est_in;
		t.dma_out = est_out;
	}
	if (c->json)
		printf("  ],\n  \"total\": {\"macs\": %llu, \"npu_macs\": %llu, \"cycles\": %llu, \"est_cycles\": %llu, \"utilization\": %.4f, \"dma_in\": %llu, \"dma_out\": %llu, \"host_wall_us\": %.1f, \"jobs\": %llu}\n}\n",
		       (ull)t.macs, (ull)t.npu_macs, (ull)t.cycles, (ull)est,
		       cli_util(t.npu_macs, &di, t.cycles), (ull)t.dma_in,
		       (ull)t.dma_out, (double)host / 1e3, (ull)jobs);
	else
		printf("\ntotal: %llu MACs, %llu on the NPU (%.1f%%), %llu NPU cycles%s%.0llu%s, NPU utilization %.1f%% (%ux%u), host wall %.2f ms\n",
		       (ull)t.macs, (ull)t.npu_macs,
		       100.0 * t.npu_macs / (t.macs ? t.macs : 1),
		       (ull)t.cycles, jobs ? " in " : "", (ull)jobs,
		       jobs == 1 ? " job" : jobs ? " jobs" : "",
		       100 * cli_util(t.npu_macs, &di, t.cycles),
		       di.rows, di.cols, (double)host / 1e6);
	if (!c->json && jobs && jobs < nnpu(c))
		printf("(a job of several NPU operators is a segment: their cycles above are its cycles split as the cost model's timeline of it splits them)\n");
	return 0;
}

const struct cli_cmd cli_cmd_profile = {
	.name = "profile",
	.summary = "run once and report cycles, utilization and DMA per layer",
	.usage = usage,
	.opts = CLI_BACKEND | CLI_TARGET | CLI_FORMAT | CLI_INPUT | CLI_THREADS |
		CLI_ESTIMATE | CLI_BATCH,
	.flags = CLI_INFER,
	.run = profile,
};
