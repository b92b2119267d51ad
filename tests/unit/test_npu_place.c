// SPDX-License-Identifier: MIT
/*
 * Where the segment joiner (compiler/qnpu_segment.c) puts the next job's
 * weights so they load while the previous job computes: by the ranges of
 * WBUF / PBUF the previous jobs load, not by their hull. A job whose
 * weights sit at both ends of WBUF (a hull covering all of it) leaves a
 * gap between them; the next job's weights go there, right beside one of
 * them, and run ahead (no token), the compute reading them moved along.
 * When no gap fits, they wait for a SYNC after the previous computes.
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

/*
 * One job: its input, weights in one or two pieces (@w0 words at 0, and
 * @w1 words at the top of WBUF when non-zero), parameters, one CONV tile
 * reading the weights at 0, one STORE; its tokens balanced.
 */
static void job(struct qnpu_npu_job *j, uint32_t w0, uint32_t w1)
{
	struct qnpu_cmd *c = calloc(6, sizeof(*c));
	size_t n = 0;

	c[n++] = load(QNPU_BUF_ABUF, 0, 16 * 64);
	c[n++] = load(QNPU_BUF_WBUF, 0, w0 * 16);
	if (w1)
		c[n++] = load(QNPU_BUF_WBUF, 2048 - w1, w1 * 16);
	c[n] = load(QNPU_BUF_PBUF, 0, 3 * 16);
	c[n].w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
	n++;
	SET(&c[n], OPCODE, QNPU_OP_CONV);
	c[n].w[0] |= QNPU_CMD_POP_PREV_MASK | QNPU_CMD_PUSH_NEXT_MASK;
	SET(&c[n], DRAIN, 1);
	SET(&c[n], NPIX, 16);
	SET(&c[n], NCOLS, 16);
	SET(&c[n], KH, 1);
	SET(&c[n], KW, 1);
	SET(&c[n], IC, w0 < 16 ? w0 : 16);
	SET(&c[n], W_ADDR, 0);
	n++;
	SET(&c[n], OPCODE, QNPU_OP_STORE);
	SET(&c[n], DRAM_HI, 1);
	SET(&c[n], DRAM_STRIDE, 256);
	SET(&c[n], ROW_BYTES, 256);
	SET(&c[n], ROWS, 1);
	c[n].w[0] |= QNPU_CMD_POP_PREV_MASK;
	n++;
	memset(j, 0, sizeof(*j));
	j->cmds = c;
	j->ncmds = j->cap = n;
}

static void seg_of(struct qnpu_npu_seg *s, int n)
{
	int k;

	memset(s, 0, sizeof(*s));
	s->njobs = n;
	s->last = n - 1;
	s->ops = calloc((size_t)n, sizeof(*s->ops));
	for (k = 0; k < n; k++)
		s->ops[k] = k;
}

/* B's WBUF load and the index of the first compute of B in @s. */
static size_t b_weights(const struct qnpu_npu_seg *s, size_t *b_cmp)
{
	size_t i, w = SIZE_MAX, ncmp = 0;

	for (i = 0; i < s->job.ncmds; i++) {
		const struct qnpu_cmd *c = &s->job.cmds[i];

		if (GET(c, OPCODE) == QNPU_OP_CONV && ++ncmp == 2)
			*b_cmp = i;
		/* B's: the WBUF load of 144 words */
		if (GET(c, OPCODE) == QNPU_OP_LOAD &&
		    GET(c, BUF) == QNPU_BUF_WBUF && GET(c, ROW_BYTES) == 144 * 16)
			w = i;
	}
	assert_true(w != SIZE_MAX);
	return w;
}

static void test_between(void **state)
{
	struct qnpu_npu_job j[2];
	struct qnpu_npu_seg s;
	size_t w, bc = 0, i, acmp = SIZE_MAX;

	(void)state;
	job(&j[0], 100, 100);		/* [0,100) and [1948,2048) */
	job(&j[1], 144, 0);
	seg_of(&s, 2);
	assert_int_equal(qnpu_npu_segment(&tgt, j, &s), 0);
	w = b_weights(&s, &bc);
	for (i = 0; i < s.job.ncmds && acmp == SIZE_MAX; i++)
		if (GET(&s.job.cmds[i], OPCODE) == QNPU_OP_CONV)
			acmp = i;
	/* right after A's lower weights, loading before A's compute, no
	 * token; B's compute reads them there */
	assert_int_equal(GET(&s.job.cmds[w], SRAM_ADDR), 100);
	assert_true(w < acmp);
	assert_false(s.job.cmds[w].w[0] & QNPU_CMD_POP_NEXT_MASK);
	assert_int_equal(GET(&s.job.cmds[bc], W_ADDR), 100);
	qnpu_npu_seg_free(&s);
	free(j[0].cmds);
	free(j[1].cmds);
}

/* The gap is too small: B's weights stay at 0 and wait for a SYNC after
 * A's compute (a token), as before. */
static void test_no_gap(void **state)
{
	struct qnpu_npu_job j[2];
	struct qnpu_npu_seg s;
	size_t w, bc = 0;

	(void)state;
	job(&j[0], 1000, 1000);		/* 48 words free between */
	job(&j[1], 144, 0);
	seg_of(&s, 2);
	assert_int_equal(qnpu_npu_segment(&tgt, j, &s), 0);
	w = b_weights(&s, &bc);
	assert_int_equal(GET(&s.job.cmds[w], SRAM_ADDR), 0);
	assert_true(s.job.cmds[w].w[0] & QNPU_CMD_POP_NEXT_MASK);
	assert_int_equal(GET(&s.job.cmds[w - 1], OPCODE), QNPU_OP_SYNC);
	assert_int_equal(GET(&s.job.cmds[bc], W_ADDR), 0);
	qnpu_npu_seg_free(&s);
	free(j[0].cmds);
	free(j[1].cmds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_between),
		cmocka_unit_test(test_no_gap),
	};

	return cmocka_run_group_tests_name("npu_place", tests, NULL, NULL);
}
