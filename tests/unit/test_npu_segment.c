// SPDX-License-Identifier: MIT
/*
 * Joining NPU jobs into one segment stream (compiler/qnpu_segment.c) on
 * hand-made streams: the boundary tokens (last STORE -> SYNC -> first
 * input LOAD), the next job's weights moved to SRAM the previous one does
 * not use and run ahead, or behind a SYNC after its computes when they
 * cannot be; every counter balanced; streams it cannot join refused; the
 * cost model's timeline and the split of a run's cycles over the jobs.
 * (The shared models' joined streams run bit-exact on the RTL in
 * tests/golden/segment.sh.)
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
 * One job: input, weights (@wwords words from @wbase) and parameters
 * loaded, one 3x3 CONV tile, one STORE; its tokens balanced.
 */
static void job(struct qnpu_npu_job *j, uint32_t wbase, uint32_t wwords)
{
	struct qnpu_cmd *c = calloc(5, sizeof(*c));

	c[0] = load(QNPU_BUF_ABUF, 0, 16 * 64);
	c[1] = load(QNPU_BUF_WBUF, wbase, wwords * 16);
	c[2] = load(QNPU_BUF_PBUF, 0, 3 * 16);
	c[2].w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
	SET(&c[3], OPCODE, QNPU_OP_CONV);
	c[3].w[0] |= QNPU_CMD_POP_PREV_MASK | QNPU_CMD_PUSH_NEXT_MASK;
	SET(&c[3], DRAIN, 1);
	SET(&c[3], NPIX, 16);
	SET(&c[3], NCOLS, 16);
	SET(&c[3], KH, 3);
	SET(&c[3], KW, 3);
	SET(&c[3], IC, 16);
	SET(&c[3], W_ADDR, wbase);
	SET(&c[4], OPCODE, QNPU_OP_STORE);
	SET(&c[4], DRAM_HI, 1);
	SET(&c[4], DRAM_STRIDE, 256);
	SET(&c[4], ROW_BYTES, 256);
	SET(&c[4], ROWS, 1);
	c[4].w[0] |= QNPU_CMD_POP_PREV_MASK;
	memset(j, 0, sizeof(*j));
	j->cmds = c;
	j->ncmds = j->cap = 5;
}

static void seg_of(struct qnpu_npu_seg *s, int n)
{
	int k;

	memset(s, 0, sizeof(*s));
	s->njobs = n;
	s->first = 0;
	s->last = n - 1;
	s->ops = calloc((size_t)n, sizeof(*s->ops));
	for (k = 0; k < n; k++)
		s->ops[k] = k;
}

/* Every counter's pushes == pops, and no pop before its push exists in
 * stream order of the engine that gives it (dispatch cannot deadlock). */
static void check_tokens(const struct qnpu_npu_job *j)
{
	long l2c = 0, c2l = 0, c2s = 0, s2c = 0;
	size_t i;

	for (i = 0; i < j->ncmds; i++) {
		const struct qnpu_cmd *c = &j->cmds[i];
		uint32_t op = GET(c, OPCODE);

		if (op == QNPU_OP_LOAD) {
			c2l -= GET(c, POP_NEXT);
			assert_true(c2l >= 0);
			l2c += GET(c, PUSH_NEXT);
		} else if (op == QNPU_OP_STORE) {
			c2s -= GET(c, POP_PREV);
			assert_true(c2s >= 0);
			s2c += GET(c, PUSH_PREV);
		} else {
			l2c -= GET(c, POP_PREV);
			s2c -= GET(c, POP_NEXT);
			assert_true(l2c >= 0 && s2c >= 0);
			c2l += GET(c, PUSH_PREV);
			c2s += GET(c, PUSH_NEXT);
		}
	}
	assert_true(!l2c && !c2l && !c2s && !s2c);
}

static void free_jobs(struct qnpu_npu_job *j, int n)
{
	int k;

	for (k = 0; k < n; k++)
		free(j[k].cmds);
}

/* Two jobs whose weights fit side by side: B's go to the top of WBUF and
 * PBUF and load right after A's last LOAD, before A's compute. */
static void test_weights_ahead(void **state)
{
	struct qnpu_npu_job j[2];
	struct qnpu_npu_seg s;
	uint64_t split[2];
	const struct qnpu_cmd *c;

	(void)state;
	job(&j[0], 0, 144);
	job(&j[1], 0, 144);
	seg_of(&s, 2);
	assert_int_equal(qnpu_npu_segment(&tgt, j, &s), 0);
	c = s.job.cmds;
	/* A's 3 loads, B's WBUF and PBUF loads, A's CONV and STORE, SYNC,
	 * B's input LOAD, CONV, STORE */
	assert_int_equal(s.job.ncmds, 11);
	assert_int_equal(GET(&c[3], BUF), QNPU_BUF_WBUF);
	assert_int_equal(GET(&c[3], SRAM_ADDR), 2048 - 144);
	assert_int_equal(GET(&c[4], BUF), QNPU_BUF_PBUF);
	assert_int_equal(GET(&c[4], SRAM_ADDR), 256 - 3);
	assert_false(c[3].w[0] & (QNPU_CMD_POP_NEXT_MASK |
				  QNPU_CMD_PUSH_NEXT_MASK));
	assert_true(c[6].w[0] & QNPU_CMD_PUSH_PREV_MASK);	/* A's STORE */
	assert_int_equal(GET(&c[7], OPCODE), QNPU_OP_SYNC);
	assert_true(c[7].w[0] & QNPU_CMD_POP_NEXT_MASK);
	assert_true(c[7].w[0] & QNPU_CMD_PUSH_PREV_MASK);
	assert_int_equal(GET(&c[8], BUF), QNPU_BUF_ABUF);
	assert_true(c[8].w[0] & QNPU_CMD_POP_NEXT_MASK);
	assert_true(c[8].w[0] & QNPU_CMD_PUSH_NEXT_MASK);	/* the group's */
	assert_int_equal(GET(&c[9], W_ADDR), 2048 - 144);
	assert_int_equal(GET(&c[9], P_ADDR), 256 - 3);
	check_tokens(&s.job);
	/* the input jobs are untouched */
	assert_int_equal(GET(&j[1].cmds[1], SRAM_ADDR), 0);
	/* the timeline: A's part ends with its SYNC, B's with the job */
	assert_true(s.est_end[0] > 0 && s.est_end[0] < s.est_end[1]);
	assert_true(s.est_end[1] == s.job.est_cycles);
	assert_true(s.job.est_cycles ==
		    qnpu_npu_stream_cycles(&tgt, s.job.cmds, s.job.ncmds,
					   &(uint64_t){ 0 }, &(uint64_t){ 0 }));
	qnpu_npu_seg_split(&s, 1000, split);
	assert_int_equal(split[0] + split[1], 1000);
	qnpu_npu_seg_split(&s, s.job.est_cycles, split);
	assert_int_equal(split[0], s.est_end[0]);
	qnpu_npu_seg_free(&s);
	free_jobs(j, 2);
}

/* A fills WBUF: B's weights wait for a SYNC after A's compute. */
static void test_weights_after_compute(void **state)
{
	struct qnpu_npu_job j[2];
	struct qnpu_npu_seg s;
	const struct qnpu_cmd *c;

	(void)state;
	job(&j[0], 0, 2048);
	job(&j[1], 0, 144);
	seg_of(&s, 2);
	assert_int_equal(qnpu_npu_segment(&tgt, j, &s), 0);
	c = s.job.cmds;
	/* A's 5, SYNC, B's WBUF and PBUF loads, SYNC, B's 3 */
	assert_int_equal(s.job.ncmds, 12);
	assert_int_equal(GET(&c[5], OPCODE), QNPU_OP_SYNC);
	assert_int_equal(c[5].w[0] & (QNPU_CMD_POP_NEXT_MASK |
				      QNPU_CMD_PUSH_PREV_MASK),
			 QNPU_CMD_PUSH_PREV_MASK);
	assert_int_equal(GET(&c[6], BUF), QNPU_BUF_WBUF);
	assert_int_equal(GET(&c[6], SRAM_ADDR), 0);
	assert_true(c[6].w[0] & QNPU_CMD_POP_NEXT_MASK);
	assert_int_equal(GET(&c[8], OPCODE), QNPU_OP_SYNC);
	assert_true(c[9].w[0] & QNPU_CMD_POP_NEXT_MASK);
	check_tokens(&s.job);
	qnpu_npu_seg_free(&s);
	free_jobs(j, 2);
}

/* Streams the joining cannot keep correct are refused: the backend then
 * runs the operators alone. */
static void test_refused(void **state)
{
	struct qnpu_npu_job j[2];
	struct qnpu_npu_seg s;

	(void)state;
	/* a token B gives and never takes */
	job(&j[0], 0, 144);
	job(&j[1], 0, 144);
	j[1].cmds[4].w[0] |= QNPU_CMD_PUSH_PREV_MASK;
	seg_of(&s, 2);
	assert_int_equal(qnpu_npu_segment(&tgt, j, &s), -EINVAL);
	qnpu_npu_seg_free(&s);
	free_jobs(j, 2);
	/* B's first load already waits for a token of its own */
	job(&j[0], 0, 144);
	job(&j[1], 0, 144);
	j[1].cmds[0].w[0] |= QNPU_CMD_POP_NEXT_MASK;
	j[1].cmds[3].w[0] |= QNPU_CMD_PUSH_PREV_MASK;
	seg_of(&s, 2);
	assert_int_equal(qnpu_npu_segment(&tgt, j, &s), -EINVAL);
	qnpu_npu_seg_free(&s);
	free_jobs(j, 2);
	/* an empty job */
	job(&j[0], 0, 144);
	job(&j[1], 0, 144);
	j[1].ncmds = 0;
	seg_of(&s, 2);
	assert_int_equal(qnpu_npu_segment(&tgt, j, &s), -EINVAL);
	qnpu_npu_seg_free(&s);
	free_jobs(j, 2);
}

/* Many jobs: each boundary adds one token per counter at most, and the
 * weights alternate between the bottom and the top of WBUF. */
static void test_many(void **state)
{
	struct qnpu_npu_job j[40];
	struct qnpu_npu_seg s;
	uint64_t split[40], sum = 0;
	size_t i;
	int k, lo = 0, hi = 0;

	(void)state;
	for (k = 0; k < 40; k++)
		job(&j[k], 0, 600);
	seg_of(&s, 40);
	assert_int_equal(qnpu_npu_segment(&tgt, j, &s), 0);
	check_tokens(&s.job);
	for (i = 0; i < s.job.ncmds; i++)
		if (GET(&s.job.cmds[i], OPCODE) == QNPU_OP_LOAD &&
		    GET(&s.job.cmds[i], BUF) == QNPU_BUF_WBUF) {
			lo += GET(&s.job.cmds[i], SRAM_ADDR) == 0;
			hi += GET(&s.job.cmds[i], SRAM_ADDR) == 2048 - 600;
		}
	assert_int_equal(lo, 20);
	assert_int_equal(hi, 20);
	for (k = 1; k < 40; k++)
		assert_true(s.est_end[k] > s.est_end[k - 1]);
	qnpu_npu_seg_split(&s, 123457, split);
	for (k = 0; k < 40; k++)
		sum += split[k];
	assert_int_equal(sum, 123457);
	qnpu_npu_seg_free(&s);
	free_jobs(j, 40);
}

/* A 1x1 CONV over a 64-row input, one tile per row (68 commands). */
static void tall_job(struct qnpu_npu_job *j)
{
	struct qnpu_cmd *c = calloc(68, sizeof(*c));
	int t;

	c[0] = load(QNPU_BUF_ABUF, 0, 256);
	c[0].w[QNPU_CMD_ROWS_WORD] &= ~QNPU_CMD_ROWS_MASK;
	SET(&c[0], ROWS, 64);
	c[0].w[QNPU_CMD_SRAM_STRIDE_WORD] &= ~QNPU_CMD_SRAM_STRIDE_MASK;
	SET(&c[0], SRAM_STRIDE, 16);
	c[1] = load(QNPU_BUF_WBUF, 0, 256);
	c[2] = load(QNPU_BUF_PBUF, 0, 48);
	c[2].w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
	for (t = 0; t < 64; t++) {
		struct qnpu_cmd *x = &c[3 + t];

		SET(x, OPCODE, QNPU_OP_CONV);
		SET(x, DRAIN, 1);
		SET(x, NPIX, 16);
		SET(x, NCOLS, 16);
		SET(x, PIX0, t * 16);
		SET(x, OUT_W, 16);
		SET(x, IN_W, 16);
		SET(x, IN_H, 64);
		SET(x, KH, 1);
		SET(x, KW, 1);
		SET(x, STRIDE_H, 1);
		SET(x, STRIDE_W, 1);
		SET(x, DIL_H, 1);
		SET(x, DIL_W, 1);
		SET(x, IC, 16);
		SET(x, PIX_STRIDE, 16);
		SET(x, ROW_STRIDE, 256);
	}
	c[3].w[0] |= QNPU_CMD_POP_PREV_MASK;
	c[66].w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
	SET(&c[67], OPCODE, QNPU_OP_STORE);
	SET(&c[67], DRAM_HI, 1);
	SET(&c[67], DRAM_STRIDE, 256);
	SET(&c[67], ROW_BYTES, 256);
	SET(&c[67], ROWS, 1);
	c[67].w[0] |= QNPU_CMD_POP_PREV_MASK;
	memset(j, 0, sizeof(*j));
	j->cmds = c;
	j->ncmds = j->cap = 68;
}

/*
 * The tall job's input load is cut in four, each piece's rows popped by
 * the first tile reading them, since the cost model finds that faster;
 * the pieces cover the rows once, in order. After another job, its
 * weights run ahead and no token stays on them: the group's token is on
 * the first piece (a push left on a hoisted weight load would pair the
 * first tile with the wrong load).
 */
static void test_input_pieces(void **state)
{
	struct qnpu_npu_job j[2];
	struct qnpu_npu_seg s;
	uint64_t in, out, whole;
	int n;

	(void)state;
	for (n = 1; n <= 2; n++) {
		uint32_t rows = 0, pieces = 0, pops = 0;
		const struct qnpu_npu_job *tall;
		size_t i;

		if (n == 2)
			job(&j[0], 0, 144);
		tall_job(&j[n - 1]);
		tall = &j[n - 1];
		whole = qnpu_npu_stream_cycles(&tgt, tall->cmds, tall->ncmds,
					       &in, &out);
		seg_of(&s, n);
		assert_int_equal(qnpu_npu_segment(&tgt, j, &s), 0);
		check_tokens(&s.job);
		if (n == 1) {
			assert_int_equal(s.job.ncmds, 71);
			assert_true(s.job.est_cycles < whole);
		}
		/* after A's three loads: B's hoisted weights, A's rest, B */
		for (i = n == 1 ? 0 : 3; i < s.job.ncmds; i++) {
			const struct qnpu_cmd *x = &s.job.cmds[i];
			uint32_t op = GET(x, OPCODE);

			if (op == QNPU_OP_LOAD && GET(x, BUF) != QNPU_BUF_ABUF &&
			    n == 2)
				assert_false(x->w[0] & QNPU_CMD_PUSH_NEXT_MASK);
			if (op == QNPU_OP_LOAD && GET(x, BUF) == QNPU_BUF_ABUF) {
				/* contiguous pieces, in order, each pushing
				 * (alone, the first's token is on the
				 * parameter load after it) */
				assert_int_equal(GET(x, SRAM_ADDR), rows * 16);
				assert_int_equal(GET(x, DRAM_LO), rows * 256);
				assert_int_equal(!!(x->w[0] & QNPU_CMD_PUSH_NEXT_MASK),
						 n == 2 || rows > 0);
				assert_int_equal(!!(x->w[0] & QNPU_CMD_POP_NEXT_MASK),
						 n == 2 && rows == 0);
				rows += GET(x, ROWS);
				pieces++;
			}
			if (op == QNPU_OP_CONV && GET(x, KH) == 1 &&
			    (x->w[0] & QNPU_CMD_POP_PREV_MASK)) {
				/* a tile waits for the piece with its row */
				assert_int_equal(GET(x, PIX0) / 16, 16 * pops);
				pops++;
			}
		}
		assert_int_equal(rows, 64);
		assert_int_equal(pieces, 4);
		assert_int_equal(pops, 4);
		qnpu_npu_seg_free(&s);
		free_jobs(j, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights_ahead),
		cmocka_unit_test(test_weights_after_compute),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_input_pieces),
	};

	return cmocka_run_group_tests_name("npu_segment", tests, NULL, NULL);
}
