// SPDX-License-Identifier: MIT
/*
 * The cost model: the cycles a command stream takes on the device of
 * docs/hw-spec.md with the target's memory system, predicted without
 * simulating it. It follows the RTL's timing rules command by command
 * (hw-model/rtl, docs/codesign.md "The cost model"):
 *
 *  dispatch   one command per cycle from cycle 1, in order, stalled while
 *             the target engine's queue (queue_depth entries) is full;
 *  LOAD/STORE accept, check, then one burst request per row from the third
 *             cycle as long as the memory has a free slot (mem_outstanding
 *             bursts), data of a row from request + 1 + latency (reads),
 *             one word per max(C / dma_bytes, credit) cycles, in request
 *             order; the next LOAD is accepted once this one's rows are
 *             requested and the engine holds fewer than LOAD_DEPTH LOADs
 *             (the one LOAD_DEPTH - 1 before it has moved its data), the
 *             next STORE once this one's data has moved;
 *  compute    setup, one step per cycle, the next command taken in the last
 *             step (steps + 1 back to back; RES, a fused residual ADD,
 *             is one step more); a DRAIN hands the accumulators
 *             to the PPU, which writes two rows per cycle, and waits in a
 *             handoff state while the PPU is still busy; PPU_WAIT holds
 *             a command in setup until the PPU is idle (DRAIN_ABUF, the
 *             PPU writing ABUF instead of OBUF, takes the same time);
 *  tokens     a push is seen by the other engine two cycles after the
 *             event that gives it (registered pulse, then the counter).
 *
 * Every token a command waits for comes from an earlier command, so one
 * pass in stream order suffices; DMA costs one step per row (per beat
 * when the port or the memory is narrower than a word).
 */
#include <stdlib.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"

#define QMAX 64			/* deepest queue a target may have */
/* LOADs the load engine holds (qnpu_load.sv LoadDepth) */
#define LOAD_DEPTH QNPU_LOAD_DEPTH	/* qnpu_regs.toml, as the RTL */
#define TOKQ 256		/* token counters saturate at 255 */

struct tokq {
	uint64_t t[TOKQ];
	unsigned int head, tail;
};

static void tok_push(struct tokq *q, uint64_t t)
{
	q->t[q->tail++ % TOKQ] = t;
}

static uint64_t tok_pop(struct tokq *q)
{
	return q->head != q->tail ? q->t[q->head++ % TOKQ] : 0;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint32_t cmd_field(const struct qnpu_cmd *c, int word, uint32_t mask,
			  int shift)
{
	return (c->w[word] & mask) >> shift;
}

#define CF(c, name) cmd_field(c, QNPU_CMD_##name##_WORD, \
			      QNPU_CMD_##name##_MASK, QNPU_CMD_##name##_SHIFT)

/* One memory channel (read or write): its byte credit, the completion
 * cycles of its last mem_outstanding bursts (a ring over all commands) and
 * its last beat. */
struct chan {
	int64_t credit;		/* after the beat at cycle at */
	uint64_t at;
	uint64_t *done;		/* last-beat cycle of burst n, at n % N */
	uint64_t n;		/* bursts requested so far */
	uint64_t beat;		/* the last beat (0: none yet) */
};

struct cost {
	const struct qnpu_npu_target *t;
	uint32_t C, B, N, L, pace;
	struct chan ch[2];	/* 0 read (LOAD), 1 write (STORE) */
};

/* The first cycle >= t at which the channel has credit for a beat. */
static uint64_t credit_at(const struct cost *k, const struct chan *ch,
			  uint64_t t)
{
	int64_t need;

	if (!k->B || k->B >= k->C)
		return t;
	if (t > ch->at) {
		int64_t c = ch->credit + (int64_t)k->B * (int64_t)(t - ch->at);
		int64_t cap = (int64_t)k->C + k->B;

		if ((c > cap ? cap : c) >= (int64_t)k->C)
			return t;
	}
	need = (int64_t)k->C - ch->credit;
	return max64(t, ch->at + (uint64_t)((need + k->B - 1) / k->B));
}

static void credit_take(const struct cost *k, struct chan *ch, uint64_t t)
{
	int64_t cap = (int64_t)k->C + k->B, c;

	if (!k->B || k->B >= k->C)
		return;
	c = ch->credit + (int64_t)k->B * (int64_t)(t - ch->at);
	ch->credit = (c > cap ? cap : c) - (int64_t)k->C;
	ch->at = t;
}

/*
 * A LOAD or STORE accepted at cycle a: its last request and last beat.
 * Reads see the memory's latency; writes are posted (data right after the
 * request). Data moves in request order across commands: a LOAD's rows may
 * be requested while an earlier LOAD's data still moves.
 */
static void dma_cmd(struct cost *k, int dir, uint64_t a, uint32_t rows,
		    uint32_t beats, uint64_t *lastq, uint64_t *last)
{
	struct chan *ch = &k->ch[dir];
	uint64_t lat = dir ? 0 : k->L, q = a + 1, b = ch->beat;
	bool beatwise = k->pace > 1 || (k->B && k->B < k->C);
	uint32_t r, j;

	for (r = 0; r < rows; r++) {
		/* one request per cycle, only with a free slot */
		q = max64(q + 1, r == 0 ? a + 2 : 0);
		if (k->N && ch->n >= k->N)
			q = max64(q, ch->done[ch->n % k->N] + 1);
		b = max64(ch->beat ? b + k->pace : 0, q + 1 + lat);
		if (!beatwise) {
			b += beats - 1;
		} else {
			for (j = 0; j < beats; j++) {
				if (j)
					b += k->pace;
				b = credit_at(k, ch, b);
				credit_take(k, ch, b);
			}
		}
		if (k->N)
			ch->done[ch->n % k->N] = b;
		ch->n++;
		ch->beat = b;
	}
	*lastq = q;
	*last = b;
}

uint64_t qnpu_npu_stream_timeline(const struct qnpu_npu_target *t,
				  const struct qnpu_cmd *cmds, size_t n,
				  uint64_t *dma_in, uint64_t *dma_out,
				  uint64_t *at)
{
	struct tokq *tq = calloc(4, sizeof(*tq));
	struct tokq *l2c = &tq[0], *c2l = &tq[1], *c2s = &tq[2], *s2c = &tq[3];
	uint64_t qacc[3][QMAX] = { { 0 } };
	size_t nq[3] = { 0 };
	uint64_t eng_free[3] = { 0 }, idle[3] = { 0 };
	uint64_t d = 0, ppu_free = 0, end = 0, last_acc = 0;
	/* last beats of the latest LOAD_DEPTH - 1 LOADs, at nld % that */
	uint64_t ld_last[LOAD_DEPTH - 1] = { 0 };
	uint64_t nld = 0;
	uint32_t Q;
	struct cost k = { 0 };
	size_t i;

	if (!tq)
		return 0;
	k.t = t;
	k.C = t->cols;
	k.B = t->mem_bytes_per_cycle;
	k.N = t->mem_outstanding;
	k.L = t->mem_latency_cycles;
	k.pace = t->dma_bytes && t->dma_bytes < t->cols ?
		 t->cols / t->dma_bytes : 1;
	Q = t->queue_depth ? t->queue_depth : 16;
	if (Q > QMAX)
		Q = QMAX;
	k.ch[0].credit = k.ch[1].credit = (int64_t)k.C + k.B;
	if (k.N) {
		k.ch[0].done = calloc(2 * (size_t)k.N, sizeof(uint64_t));
		if (!k.ch[0].done)
			goto fail;
		k.ch[1].done = k.ch[0].done + k.N;
	}
	*dma_in = *dma_out = 0;

	for (i = 0; i < n; i++) {
		const struct qnpu_cmd *c = &cmds[i];
		uint32_t op = CF(c, OPCODE);
		int e = op == QNPU_OP_LOAD ? 0 : op == QNPU_OP_STORE ? 2 : 1;
		uint64_t a;

		/* dispatch: in order, one per cycle, into a queue with room */
		d = i ? d + 1 : 1;
		if (nq[e] >= Q)
			d = max64(d, qacc[e][(nq[e] - Q) % QMAX] + 1);
		a = max64(d + 1, eng_free[e]);
		if (e == 0) {
			uint64_t lastq, last;
			uint64_t *oldest = &ld_last[nld++ % (LOAD_DEPTH - 1)];

			if (CF(c, POP_NEXT))
				a = max64(a, tok_pop(c2l));
			*dma_in += (uint64_t)CF(c, ROWS) * CF(c, ROW_BYTES);
			dma_cmd(&k, 0, a, CF(c, ROWS),
				(CF(c, ROW_BYTES) + k.C - 1) / k.C, &lastq, &last);
			if (CF(c, PUSH_NEXT))
				tok_push(l2c, last + 2);
			/* the next LOAD is taken once this one's rows are all
			 * requested and the LOAD_DEPTH - 1 th one before it
			 * has moved its data (the engine holds LOAD_DEPTH) */
			eng_free[0] = max64(lastq + 1, *oldest + 1);
			*oldest = last;
			idle[0] = last + 1 + CF(c, PUSH_NEXT);
		} else if (e == 2) {
			uint64_t lastq, last;

			if (CF(c, POP_PREV))
				a = max64(a, tok_pop(c2s));
			*dma_out += (uint64_t)CF(c, ROWS) * CF(c, ROW_BYTES);
			dma_cmd(&k, 1, a, CF(c, ROWS),
				(CF(c, ROW_BYTES) + k.C - 1) / k.C, &lastq, &last);
			if (CF(c, PUSH_PREV))
				tok_push(s2c, last + 2);
			eng_free[2] = last + 1;
			idle[2] = last + 1 + CF(c, PUSH_PREV);
		} else {
			uint64_t steps, L, P = 0;
			bool drain = CF(c, DRAIN) && op != QNPU_OP_SYNC;
			bool pp = CF(c, PUSH_PREV), pn = CF(c, PUSH_NEXT);

			if (CF(c, POP_PREV))
				a = max64(a, tok_pop(l2c));
			if (CF(c, POP_NEXT))
				a = max64(a, tok_pop(s2c));
			if (op == QNPU_OP_SYNC) {
				if (pp)
					tok_push(c2l, a + 3);
				if (pn)
					tok_push(c2s, a + 3);
				eng_free[1] = a + 2;
				idle[1] = max64(idle[1], a + 2 + (pp || pn));
				goto next;
			}
			steps = op == QNPU_OP_CONV ?
				(uint64_t)CF(c, KH) * CF(c, KW) * CF(c, IC) :
				op == QNPU_OP_ADD ? 2 :
				(uint64_t)CF(c, KH) * CF(c, KW);
			steps += CF(c, RES);	/* the residual read (fused ADD) */
			L = a + 1 + steps;	/* the last step */
			if (CF(c, PPU_WAIT) && a + 1 < ppu_free)
				L = ppu_free + steps;	/* set up when idle */
			if (drain && L < ppu_free) {
				/* handoff: wait for the PPU, then give it the tile */
				P = ppu_free;
				if (pp)
					tok_push(c2l, P + 2);
				eng_free[1] = P + 1;
				idle[1] = max64(idle[1], P + 1 + pp);
			} else {
				P = L + 1;
				if (pp)
					tok_push(c2l, L + 2);
				if (pn && !drain)
					tok_push(c2s, L + 2);
				eng_free[1] = L;
				idle[1] = max64(idle[1], L + 1 + (pp || drain || pn));
			}
			if (drain) {
				/* two array rows per cycle; with column groups
				 * a row holds COL_GROUPS pixels */
				uint32_t g = CF(c, COL_GROUPS) > 1 ?
					     CF(c, COL_GROUPS) : 1;
				uint64_t rows = ((CF(c, NPIX) + g - 1) / g + 1) / 2;

				if (pn)
					tok_push(c2s, P + rows + 2);
				ppu_free = P + rows + 1 + pn;
				idle[1] = max64(idle[1], ppu_free);
			}
		}
next:
		qacc[e][nq[e]++ % QMAX] = a;
		last_acc = max64(last_acc, a);
		/* the job would end here if the stream stopped after c */
		if (at)
			at[i] = max64(max64(d + 1, last_acc + 1),
				      max64(idle[0], max64(idle[1], idle[2])));
	}
	/* the job ends in the first cycle where everything is dispatched, taken
	 * and idle: the bridge counts that many cycles */
	end = max64(max64(d + 1, last_acc + 1),
		    max64(idle[0], max64(idle[1], idle[2])));
	free(k.ch[0].done);
	free(tq);
	return end;
fail:
	free(tq);
	return 0;
}

uint64_t qnpu_npu_stream_cycles(const struct qnpu_npu_target *t,
				const struct qnpu_cmd *cmds, size_t n,
				uint64_t *dma_in, uint64_t *dma_out)
{
	return qnpu_npu_stream_timeline(t, cmds, n, dma_in, dma_out, NULL);
}
