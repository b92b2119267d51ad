// SPDX-License-Identifier: MIT
/*
 * Device "target:FILE.dtb": an NPU described by a device tree, for
 * offline compilation. Nothing runs here; qnpu_model_save() writes what
 * was compiled, and a device with those parameters runs it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/qnpu_backend.h"
#include "compiler/qnpu_compiler.h"
#include "qnpu_hw.h"
#include "qnpu_regs.h"

static int target_open(struct qnpu_device *dev, const char *arg)
{
	struct qnpu_hw_params p;
	struct qnpu_npu_target *t;
	char err[256] = "";
	uint8_t *dtb;
	size_t n;
	int r;

	if (!arg || !*arg)
		return qnpu_err(-EINVAL, "device \"target\" needs a DTB: target:FILE.dtb");
	r = qnpu_read_file(arg, &dtb, &n);
	if (r)
		return qnpu_err(r, "target: %s", qnpu_last_error());
	r = qnpu_hw_params_from_dtb(dtb, n, NULL, &p, err, sizeof(err));
	free(dtb);
	if (r)
		return qnpu_err(r, "target: %s: %s", arg, err);
	t = calloc(1, sizeof(*t));
	if (!t)
		return qnpu_err(-ENOMEM, "out of memory");
	*t = (struct qnpu_npu_target){ p.rows, p.cols, p.abuf_bytes,
				       p.wbuf_bytes, p.pbuf_bytes,
				       p.obuf_bytes, p.dma_bytes,
				       p.queue_depth, p.mem_latency_cycles,
				       p.mem_bytes_per_cycle,
				       p.mem_outstanding,
				       QNPU_VERSION_MINOR };
	dev->priv = t;
	qnpu_npu_set_info(dev, t);
	return 0;
}

static void target_close(struct qnpu_device *dev)
{
	free(dev->priv);
}

static int target_model_init(struct qnpu_model *m)
{
	m->arena = calloc(1, m->arena_size ? m->arena_size : 1);
	if (!m->arena)
		return qnpu_err(-ENOMEM, "out of memory");
	return qnpu_npu_model_compile(m, NULL, NULL);
}

static void target_model_fini(struct qnpu_model *m)
{
	free(m->arena);
}

static int target_run_op(struct qnpu_model *m, struct qnpu_ir_op *op)
{
	(void)m;
	return qnpu_err(-ENODEV,
			"operator %d: device \"target\" only compiles; save the model and run it on an NPU",
			op->index);
}

const struct qnpu_backend qnpu_target_backend = {
	.name = "target",
	.open = target_open,
	.close = target_close,
	.supported = qnpu_npu_backend_supported,
	.model_init = target_model_init,
	.model_fini = target_model_fini,
	.run_op = target_run_op,
};
