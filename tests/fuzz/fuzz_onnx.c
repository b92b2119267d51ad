// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the ONNX importer: any byte string through
 * qnpu_onnx_import() (whatever its first byte, so mutations never drift
 * into the TFLite reader) and, when it imports, the runtime's checks and
 * parameters on the CPU device and one inference. Must never crash, hang
 * or trip ASan/UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import/qnpu_import.h"
#include "fuzz_run.h"
#include "qnpu.h"
#include "qnpu_runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qnpu_device *cpu;
	struct qnpu_ir_graph *g;
	struct qnpu_model *m;
	uint64_t macs = 0;
	uint8_t *copy;
	int i;

	if (!cpu && qnpu_device_open("cpu", &cpu))
		abort();
	if (qnpu_onnx_import(data, size, &g))
		return 0;
	/* Keep inferences cheap: the importer's limits allow large graphs. */
	for (i = 0; i < g->nops; i++)
		macs += g->ops[i].macs;
	for (i = 0; i < g->ntensors; i++)
		macs += g->tensors[i].bytes;
	if (macs > (1u << 24)) {
		qnpu_ir_graph_free(g);
		return 0;
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	if (!qnpu_model_from_graph(cpu, g, copy, size, &m)) {
		fuzz_run_once(m);
		qnpu_model_free(m);
	}
	return 0;
}
