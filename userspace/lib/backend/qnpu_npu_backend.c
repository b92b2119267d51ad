// SPDX-License-Identifier: MIT
/* What the NPU backends (sim, drm, target) share. */
#include <stdio.h>

#include "backend/qnpu_backend.h"
#include "compiler/qnpu_compiler.h"

void qnpu_npu_set_info(struct qnpu_device *dev,
		       const struct qnpu_npu_target *t)
{
	dev->npu = t;
	dev->info.is_npu = 1;
	dev->info.rows = t->rows;
	dev->info.cols = t->cols;
	dev->info.abuf_bytes = t->abuf_bytes;
	dev->info.wbuf_bytes = t->wbuf_bytes;
	dev->info.pbuf_bytes = t->pbuf_bytes;
	dev->info.obuf_bytes = t->obuf_bytes;
}

const char *qnpu_npu_status_name(uint32_t st)
{
	static const char *const names[] = {
		"OK", "BAD_OPCODE", "BAD_FIELD", "SRAM_RANGE", "ALIGN",
		"FAULT", "DEADLOCK", "TOKEN_OVERFLOW", "TIMEOUT", "ABORTED",
		"BAD_DESC",
	};

	if (st < sizeof(names) / sizeof(names[0]))
		return names[st];
	switch (st) {	/* qnpu_drm.h's DRM_QNPU_JOB_* past the device's */
	case 0x100: return "HANG (device reset)";
	case 0x101: return "DEVICE_LOST";
	case 0x102: return "CANCELED";
	}
	return "unknown status";
}

void qnpu_npu_device_target(const struct qnpu_device *dev,
			    struct qnpu_npu_target *t)
{
	static const struct qnpu_npu_target none;

	*t = dev->npu ? *dev->npu : none;
}

bool qnpu_npu_backend_supported(struct qnpu_model *m,
				const struct qnpu_ir_op *op)
{
	struct qnpu_npu_target t;

	qnpu_npu_device_target(m->dev, &t);
	return qnpu_npu_supported(&t, op);
}

int qnpu_npu_model_compile(struct qnpu_model *m,
			   int (*place)(struct qnpu_model *m, int op,
					struct qnpu_npu_job *job))
{
	struct qnpu_npu_target t;
	int i, r;

	/* From a compiled file the loader already checked the target. */
	if (!m->jobs) {
		qnpu_npu_device_target(m->dev, &t);
		r = qnpu_npu_compile(&t, m->g, m->offsets, &m->jobs);
		if (r)
			return r;
	}
	for (i = 0; i < m->g->nops; i++) {
		if (m->jobs[i].why[0])
			snprintf(m->runs[i].note, sizeof(m->runs[i].note),
				 "%s", m->jobs[i].why);
		if (!place || m->g->ops[i].target != QNPU_TARGET_NPU ||
		    m->g->ops[i].res_conv)
			continue;
		r = place(m, i, &m->jobs[i]);
		if (r)
			return r;
	}
	return 0;
}
