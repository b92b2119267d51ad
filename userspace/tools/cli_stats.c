// SPDX-License-Identifier: MIT
/* What the qnpu CLI prints of a model: shapes, placement, MACs, cycles. */
#include <time.h>

#include "qnpu_cli.h"

void cli_shape(const struct qnpu_tensor_info *t, char *buf, size_t n)
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

const char *cli_where(const struct qnpu_op_info *op)
{
	if (op->fused_into)
		return "fused";
	return op->target == QNPU_TARGET_NPU ? "npu" : "cpu";
}

uint64_t cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cli_totals(const struct qnpu_model *model, struct cli_totals *t)
{
	int i, n = qnpu_model_num_ops(model);

	t->macs = t->npu_macs = t->cycles = t->dma_in = t->dma_out = 0;
	for (i = 0; i < n; i++) {
		struct qnpu_op_info op;
		struct qnpu_op_stats st;

		qnpu_model_op_info(model, i, &op);
		qnpu_model_op_stats(model, i, &st);
		t->macs += op.macs;
		if (op.target == QNPU_TARGET_NPU) {
			t->npu_macs += op.macs;
			t->cycles += st.cycles;
			t->dma_in += st.dma_in;
			t->dma_out += st.dma_out;
		}
	}
}

double cli_util(uint64_t macs, const struct qnpu_device_info *d,
		uint64_t cycles)
{
	if (!cycles || !d->rows)
		return 0;
	return (double)macs / ((double)d->rows * d->cols * (double)cycles);
}
