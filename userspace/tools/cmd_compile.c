// SPDX-License-Identifier: MIT
/* qnpu compile: a model compiled for an NPU, into a file `run` loads. */
#include "qnpu_cli.h"

static const char usage[] =
	"usage: qnpu compile [--target=DTB | --backend=NAME] -o FILE MODEL.tflite|MODEL.onnx\n"
	"\n"
	"Compile for the NPU a device tree describes (offline, no device needed)\n"
	"or for a device (default: auto). `qnpu run FILE` runs the result on a\n"
	"device with the same parameters without compiling again.\n";

static int compile(struct cli *c)
{
	struct qnpu_device_info di;
	int i, n, npu = 0;

	if (qnpu_model_save(c->model, c->output))
		return cli_err("%s", qnpu_last_error());
	n = qnpu_model_num_ops(c->model);
	for (i = 0; i < n; i++) {
		struct qnpu_op_info op;

		qnpu_model_op_info(c->model, i, &op);
		npu += op.target == QNPU_TARGET_NPU;
	}
	qnpu_device_query(c->dev, &di);
	printf("%s: %d of %d operators on the %ux%u NPU\n", c->output, npu, n,
	       di.rows, di.cols);
	return 0;
}

const struct cli_cmd cli_cmd_compile = {
	.name = "compile",
	.summary = "compile a model for an NPU into a file `run` takes",
	.usage = usage,
	.shortopts = "o:",
	.opts = CLI_BACKEND | CLI_TARGET | CLI_OUTPUT,
	.need = CLI_OUTPUT,
	.flags = CLI_OFFLINE_TARGET,
	.run = compile,
};
