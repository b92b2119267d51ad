// SPDX-License-Identifier: MIT
/* qnpu inspect: a model's operators, tensors and MACs. */
#include "qnpu_cli.h"

static const char usage[] =
	"usage: qnpu inspect [--backend=NAME] [--target=DTB] MODEL.tflite|MODEL.onnx\n"
	"\n"
	"Print the model's operators (shapes, quantization, MACs, where they\n"
	"run), its tensors and the total MACs.\n";

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

/* " t3:INT8:1x8x8x16:s=0.5 zp=-128" for each input, " -> ", each output. */
static void print_op_io(struct qnpu_model *model, const struct qnpu_op_info *op)
{
	int j;

	for (j = 0;
	     j < op->num_inputs + op->num_outputs && j < 2 * QNPU_MAX_OP_IO;
	     j++) {
		bool is_in = j < op->num_inputs;
		int ti =
			is_in ? op->inputs[j] : op->outputs[j - op->num_inputs];
		struct qnpu_tensor_info t;
		char shape[96];

		printf("%s", j == op->num_inputs ? " -> " : j ? ", " : "");
		if (ti < 0) {
			printf("-");
			continue;
		}
		qnpu_model_tensor_info(model, ti, &t);
		cli_shape(&t, shape, sizeof(shape));
		printf("t%d:%s:%s:", ti, qnpu_dtype_name(t.dtype), shape);
		print_quant(&t);
	}
}

static int inspect(struct cli *c)
{
	uint64_t total = 0;
	int i, n;

	printf("model %s on %s\n\noperators:\n", c->models[0],
	       qnpu_device_name(c->dev));
	printf("%4s  %-20s %-4s %12s  %s\n", "idx", "op", "on", "MACs",
	       "inputs -> outputs (tensor:dtype:shape:quant)");
	n = qnpu_model_num_ops(c->model);
	for (i = 0; i < n; i++) {
		struct qnpu_op_info op;

		qnpu_model_op_info(c->model, i, &op);
		total += op.macs;
		printf("%4d  %-20s %-4s %12llu  ", i, op.name, cli_where(&op),
		       (ull)op.macs);
		print_op_io(c->model, &op);
		printf("\n");
	}
	printf("\ntensors:\n");
	n = qnpu_model_num_tensors(c->model);
	for (i = 0; i < n; i++) {
		struct qnpu_tensor_info t;
		char shape[96];

		qnpu_model_tensor_info(c->model, i, &t);
		cli_shape(&t, shape, sizeof(shape));
		printf("%4d  %-7s %-14s %-5s ", i, qnpu_dtype_name(t.dtype),
		       shape, t.is_constant ? "const" : "");
		print_quant(&t);
		printf("  %s\n", t.name);
	}
	printf("\ntotal MACs: %llu\n", (ull)total);
	return 0;
}

const struct cli_cmd cli_cmd_inspect = {
	.name = "inspect",
	.summary = "list a model's operators, tensors and MACs",
	.usage = usage,
	.opts = CLI_BACKEND | CLI_TARGET,
	.run = inspect,
};
