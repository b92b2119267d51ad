/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the tests that build command streams by hand for the
 * segment joiner and the handoff: field access through the generated
 * qnpu_regs.h, the shipped 16x16 target, a one-row LOAD.
 */
#ifndef QNPU_UNIT_CMD_H
#define QNPU_UNIT_CMD_H

#include <stdint.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"

#define SET(c, name, v) ((c)->w[QNPU_CMD_##name##_WORD] = \
	((c)->w[QNPU_CMD_##name##_WORD] & ~QNPU_CMD_##name##_MASK) | \
	(((uint32_t)(v) << QNPU_CMD_##name##_SHIFT) & QNPU_CMD_##name##_MASK))
#define GET(c, name) (((c)->w[QNPU_CMD_##name##_WORD] & \
	QNPU_CMD_##name##_MASK) >> QNPU_CMD_##name##_SHIFT)

static const struct qnpu_npu_target tgt = {
	.rows = 16, .cols = 16, .abuf_bytes = 65536, .wbuf_bytes = 32768,
	.pbuf_bytes = 4096, .obuf_bytes = 32768,
	.version_minor = QNPU_VERSION_MINOR,
};

/* @bytes from one DRAM row into @buf at word @sram. */
static inline struct qnpu_cmd load(int buf, uint32_t sram, uint32_t bytes)
{
	struct qnpu_cmd c = { { 0 } };

	SET(&c, OPCODE, QNPU_OP_LOAD);
	SET(&c, BUF, buf);
	SET(&c, DRAM_HI, 1);
	SET(&c, DRAM_STRIDE, bytes);
	SET(&c, ROW_BYTES, bytes);
	SET(&c, ROWS, 1);
	SET(&c, SRAM_ADDR, sram);
	SET(&c, SRAM_STRIDE, 1);
	return c;
}

#endif
