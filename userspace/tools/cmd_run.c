// SPDX-License-Identifier: MIT
/* qnpu run: a model on input files, its outputs into one file. */
#include <stdlib.h>

#include "qnpu_cli.h"

static const char usage[] =
	"usage: qnpu run [--backend=cpu|sim|drm|auto] [--target=DTB]\n"
	"                --input=FILE [--input=FILE ...]\n"
	"                --output=FILE [--dump-layers=DIR] [--threads=N]\n"
	"                [--batch=N]\n"
	"                MODEL.tflite|MODEL.onnx\n"
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
	"                     inference to DIR, with DIR/index.tsv\n"
	"  --threads=N        threads for the operators run on the CPU\n"
	"                     (default: one per core; same outputs for any N)\n"
	"  --batch=N          run N inputs at once (1 to 256; the model\n"
	"                     compiled once for N): same outputs as one by\n"
	"                     one; a last run short of N is padded with zero\n"
	"                     inputs whose outputs are dropped. --dump-layers\n"
	"                     then dumps the first N inferences' tensors\n";

static int run(struct cli *c)
{
	unsigned char *out;
	size_t len;
	int ret;

	if (cli_infer(c, &out, &len))
		return 1;
	ret = cli_write_file(c->output, out, len);
	free(out);
	return ret;
}

const struct cli_cmd cli_cmd_run = {
	.name = "run",
	.summary = "run a model on input files, write its outputs",
	.usage = usage,
	.missing = "need MODEL, --output and at least one --input",
	.opts = CLI_BACKEND | CLI_TARGET | CLI_INPUT | CLI_OUTPUT |
		CLI_DUMP_LAYERS | CLI_THREADS | CLI_BATCH,
	.need = CLI_OUTPUT | CLI_INPUT,
	.flags = CLI_INFER,
	.run = run,
};
