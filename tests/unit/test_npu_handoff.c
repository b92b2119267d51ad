// SPDX-License-Identifier: MIT
/*
 * On-chip handoff (compiler/qnpu_handoff.c, joined by qnpu_segment.c) on
 * hand-made streams: a producer's DRAINs rewritten to write the consumer's
 * input into ABUF (DRAIN_ABUF, moved clear of what the producer uses), its
 * STOREs and the consumer's input LOADs gone, the consumer's first compute
 * waiting for the PPU, tokens balanced; every stream pair whose ABUF
 * contents would differ refused unchanged. (The shared models run
 * bit-exact with and without it on the RTL in tests/golden/handoff.sh.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qnpu_unit_cmd.h"

#define T_VA 0x100000000ull	/* the handed tensor */

static struct qnpu_cmd dma(int op, int buf, uint64_t va, uint32_t rb,
			   uint32_t rows, uint32_t ds, uint32_t sram,
			   uint32_t ss)
{
	struct qnpu_cmd c = { { 0 } };

	SET(&c, OPCODE, op);
	SET(&c, BUF, buf);
	SET(&c, DRAM_LO, (uint32_t)va);
	SET(&c, DRAM_HI, (uint32_t)(va >> 32));
	SET(&c, DRAM_STRIDE, ds);
	SET(&c, ROW_BYTES, rb);
	SET(&c, ROWS, rows);
	SET(&c, SRAM_ADDR, sram);
	SET(&c, SRAM_STRIDE, ss);
	return c;
}

static struct qnpu_cmd tile(int op, uint32_t npix, uint32_t ncols,
			    uint32_t k, uint32_t ic)
{
	struct qnpu_cmd c = { { 0 } };

	SET(&c, OPCODE, op);
	SET(&c, ACC_CLEAR, 1);
	SET(&c, DRAIN, 1);
	SET(&c, NPIX, npix);
	SET(&c, NCOLS, ncols);
	SET(&c, KH, k);
	SET(&c, KW, k);
	SET(&c, STRIDE_H, 1);
	SET(&c, STRIDE_W, 1);
	SET(&c, DIL_H, 1);
	SET(&c, DIL_W, 1);
	SET(&c, PAD_T, k / 2);
	SET(&c, PAD_L, k / 2);
	SET(&c, IC, ic);
	SET(&c, PIX_STRIDE, 16);
	SET(&c, ROW_STRIDE, 64);
	SET(&c, IN_H, 4);
	SET(&c, IN_W, 4);
	SET(&c, OUT_W, 4);
	SET(&c, O_STRIDE, 1);
	return c;
}

/* A: a 4x4x@ch depthwise layer, its input one pixel per ABUF word at 0,
 * its output stored NHWC at T_VA (@ch bytes per pixel). */
static size_t producer(struct qnpu_cmd *a, uint32_t ch)
{
	a[0] = dma(QNPU_OP_LOAD, QNPU_BUF_ABUF, 0x200000000ull, ch, 16, ch, 0, 1);
	a[1] = dma(QNPU_OP_LOAD, QNPU_BUF_WBUF, 0x300000000ull, 144, 1, 0, 0, 0);
	a[2] = dma(QNPU_OP_LOAD, QNPU_BUF_PBUF, 0x300001000ull, 192, 1, 0, 0, 0);
	a[2].w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
	a[3] = tile(QNPU_OP_DWCONV, 16, ch, 3, 1);
	a[3].w[0] |= QNPU_CMD_POP_PREV_MASK | QNPU_CMD_PUSH_NEXT_MASK;
	a[4] = dma(QNPU_OP_STORE, 0, T_VA, ch, 16, ch, 0, 1);
	a[4].w[0] |= QNPU_CMD_POP_PREV_MASK;
	return 5;
}

/* B: a 1x1 CONV over A's output, loaded one pixel per word at 0. */
static size_t consumer(struct qnpu_cmd *b, uint32_t ch)
{
	b[0] = dma(QNPU_OP_LOAD, QNPU_BUF_ABUF, T_VA, ch, 16, ch, 0, 1);
	b[1] = dma(QNPU_OP_LOAD, QNPU_BUF_WBUF, 0x300002000ull, 16 * ch, 1, 0,
		   100, 0);
	b[2] = dma(QNPU_OP_LOAD, QNPU_BUF_PBUF, 0x300003000ull, 192, 1, 0, 20, 0);
	b[2].w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
	b[3] = tile(QNPU_OP_CONV, 16, 16, 1, ch);
	SET(&b[3], W_ADDR, 100);
	SET(&b[3], P_ADDR, 20);
	b[3].w[0] |= QNPU_CMD_POP_PREV_MASK | QNPU_CMD_PUSH_NEXT_MASK;
	b[4] = dma(QNPU_OP_STORE, 0, 0x400000000ull, 16, 16, 16, 0, 1);
	b[4].w[0] |= QNPU_CMD_POP_PREV_MASK;
	return 5;
}

static void balanced(const struct qnpu_cmd *c, size_t n)
{
	long l2c = 0, c2l = 0, c2s = 0, s2c = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t op = GET(&c[i], OPCODE);

		if (op == QNPU_OP_LOAD) {
			c2l -= GET(&c[i], POP_NEXT);
			l2c += GET(&c[i], PUSH_NEXT);
		} else if (op == QNPU_OP_STORE) {
			c2s -= GET(&c[i], POP_PREV);
			s2c += GET(&c[i], PUSH_PREV);
		} else {
			l2c -= GET(&c[i], POP_PREV);
			s2c -= GET(&c[i], POP_NEXT);
			c2l += GET(&c[i], PUSH_PREV);
			c2s += GET(&c[i], PUSH_NEXT);
		}
	}
	assert_true(!l2c && !c2l && !c2s && !s2c);
}

/* The pair is refused on @t and both streams are left as they were. */
static void refused_on(const struct qnpu_npu_target *t, struct qnpu_cmd *a,
		       size_t na, struct qnpu_cmd *b, size_t nb)
{
	struct qnpu_cmd a0[8], b0[8];
	size_t na0 = na, nb0 = nb;
	uint64_t saved[2];

	memcpy(a0, a, na * sizeof(*a));
	memcpy(b0, b, nb * sizeof(*b));
	assert_int_equal(qnpu_npu_handoff(t, a, &na, b, &nb, saved), 1);
	assert_int_equal(na, na0);
	assert_int_equal(nb, nb0);
	assert_memory_equal(a, a0, na * sizeof(*a));
	assert_memory_equal(b, b0, nb * sizeof(*b));
}

static void refused(struct qnpu_cmd *a, size_t na, struct qnpu_cmd *b,
		    size_t nb)
{
	refused_on(&tgt, a, na, b, nb);
}

static void test_handed(void **state)
{
	struct qnpu_cmd a[8], b[8];
	size_t na = producer(a, 16), nb = consumer(b, 16), i;
	uint64_t saved[2];

	(void)state;
	assert_int_equal(qnpu_npu_handoff(&tgt, a, &na, b, &nb, saved), 0);
	assert_int_equal(saved[0], 256);
	assert_int_equal(saved[1], 256);
	/* A: no STORE, its DRAIN into ABUF, no token for a STORE */
	assert_int_equal(na, 4);
	for (i = 0; i < na; i++)
		assert_int_not_equal(GET(&a[i], OPCODE), QNPU_OP_STORE);
	assert_int_equal(GET(&a[3], DRAIN_ABUF), 1);
	assert_int_equal(GET(&a[3], PUSH_NEXT), 0);
	assert_int_equal(GET(&a[3], O_STRIDE), 1);
	/* B: no input LOAD; its ABUF use moved off A's input (words 0..15),
	 * where A's DRAIN writes it */
	assert_int_equal(nb, 4);
	assert_int_equal(GET(&b[0], BUF), QNPU_BUF_WBUF);
	assert_int_equal(GET(&b[2], OPCODE), QNPU_OP_CONV);
	assert_int_equal(GET(&b[2], PPU_WAIT), 1);
	assert_int_equal(GET(&b[2], A_ADDR), GET(&a[3], O_ADDR) * 16);
	assert_true(GET(&a[3], O_ADDR) >= 16);
	assert_true(GET(&a[3], O_ADDR) + 16 <= tgt.abuf_bytes / 16);
	balanced(a, na);
	balanced(b, nb);
}

/* A 1.1 device has no DRAIN_ABUF: the same pair stays as it was. */
static void test_old_device(void **state)
{
	struct qnpu_npu_target old = tgt;
	struct qnpu_cmd a[8], b[8];

	(void)state;
	old.version_minor = QNPU_MINOR_HANDOFF - 1;
	refused_on(&old, a, producer(a, 16), b, consumer(b, 16));
}

/* Fewer channels than C: the unused columns are zero in ABUF exactly
 * where the LOAD left its row's zero tail. */
static void test_narrow(void **state)
{
	struct qnpu_cmd a[8], b[8];
	size_t na = producer(a, 8), nb = consumer(b, 8);
	uint64_t saved[2];

	(void)state;
	assert_int_equal(qnpu_npu_handoff(&tgt, a, &na, b, &nb, saved), 0);
	assert_int_equal(saved[0], 128);
	/* but not when B loads the pixels densely (two per word) */
	na = producer(a, 8);
	nb = consumer(b, 8);
	b[0] = dma(QNPU_OP_LOAD, QNPU_BUF_ABUF, T_VA, 128, 1, 0, 0, 0);
	refused(a, na, b, nb);
}

static void test_refused(void **state)
{
	struct qnpu_cmd a[8], b[8];
	size_t na, nb;

	(void)state;
	/* B loads only part of A's output */
	na = producer(a, 16);
	nb = consumer(b, 16);
	SET(&b[0], ROWS, 15);
	refused(a, na, b, nb);
	/* B loads a byte outside it too */
	na = producer(a, 16);
	nb = consumer(b, 16);
	SET(&b[0], DRAM_LO, (uint32_t)T_VA + 1);
	refused(a, na, b, nb);
	/* B loads A's output twice */
	na = producer(a, 16);
	nb = consumer(b, 16);
	b[5] = b[4];
	b[4] = b[3];
	b[3] = dma(QNPU_OP_LOAD, QNPU_BUF_ABUF, T_VA, 16, 16, 16, 200, 1);
	refused(a, na, b, nb + 1);
	/* a DRAIN row that no STORE copies out */
	na = producer(a, 16);
	nb = consumer(b, 16);
	SET(&a[4], ROWS, 15);
	SET(&b[0], ROWS, 15);
	refused(a, na, b, nb);
	/* stored bytes beyond NCOLS (unspecified in OBUF) */
	na = producer(a, 16);
	nb = consumer(b, 16);
	SET(&a[3], NCOLS, 12);
	refused(a, na, b, nb);
	/* B's words two pixels apart for rows of one DRAIN: fine (stride
	 * 2); one pixel out of line: not */
	na = producer(a, 16);
	nb = consumer(b, 16);
	SET(&b[0], SRAM_STRIDE, 2);
	assert_int_equal(qnpu_npu_handoff(&tgt, a, &na, b, &nb,
					  (uint64_t[2]){ 0 }), 0);
	assert_int_equal(GET(&a[3], O_STRIDE), 2);
	na = producer(a, 16);
	nb = consumer(b, 16);
	SET(&a[4], ROWS, 15);
	b[0] = dma(QNPU_OP_LOAD, QNPU_BUF_ABUF, T_VA, 16, 15, 16, 0, 1);
	b[5] = b[4];
	b[4] = b[3];
	b[3] = b[2];
	b[2] = b[1];
	b[1] = dma(QNPU_OP_LOAD, QNPU_BUF_ABUF, T_VA + 240, 16, 1, 16, 40, 1);
	a[5] = dma(QNPU_OP_STORE, 0, T_VA + 240, 16, 1, 16, 15, 1);
	refused(a, na + 1, b, nb + 1);
	/* a consumer with a fused residual: not handled */
	na = producer(a, 16);
	nb = consumer(b, 16);
	SET(&b[3], RES, 1);
	refused(a, na, b, nb);
	/* no room in ABUF beside A's input */
	na = producer(a, 16);
	nb = consumer(b, 16);
	SET(&a[0], ROWS, 4096);
	refused(a, na, b, nb);
}

/* Joined by the segment joiner when allowed: one stream, A's STORE gone,
 * tokens balanced; not when the caller says no. */
static void test_segment(void **state)
{
	struct qnpu_npu_job j[2];
	struct qnpu_npu_seg s;
	bool hand[2] = { true, false };
	size_t i, stores;
	int pass;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		memset(j, 0, sizeof(j));
		j[0].cmds = calloc(8, sizeof(struct qnpu_cmd));
		j[1].cmds = calloc(8, sizeof(struct qnpu_cmd));
		j[0].ncmds = producer(j[0].cmds, 16);
		j[1].ncmds = consumer(j[1].cmds, 16);
		memset(&s, 0, sizeof(s));
		s.njobs = 2;
		s.last = 1;
		s.ops = calloc(2, sizeof(*s.ops));
		s.ops[1] = 1;
		s.hand = pass ? NULL : malloc(sizeof(hand));
		if (s.hand)
			memcpy(s.hand, hand, sizeof(hand));
		assert_int_equal(qnpu_npu_segment(&tgt, j, &s), 0);
		balanced(s.job.cmds, s.job.ncmds);
		for (i = 0, stores = 0; i < s.job.ncmds; i++)
			stores += GET(&s.job.cmds[i], OPCODE) == QNPU_OP_STORE;
		assert_int_equal(stores, pass ? 2 : 1);
		assert_int_equal(s.saved_out[0], pass ? 0 : 256);
		assert_int_equal(s.saved_in[1], pass ? 0 : 256);
		assert_true(s.job.est_cycles > 0);
		qnpu_npu_seg_free(&s);
		free(j[0].cmds);
		free(j[1].cmds);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handed),
		cmocka_unit_test(test_old_device),
		cmocka_unit_test(test_narrow),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_segment),
	};

	return cmocka_run_group_tests_name("npu_handoff", tests, NULL, NULL);
}
