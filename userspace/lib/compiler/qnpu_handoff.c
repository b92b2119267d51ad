// SPDX-License-Identifier: MIT
/*
 * On-chip handoff (issue 12): a layer's output stays in ABUF for the next
 * layer instead of going OBUF -> STORE -> memory -> LOAD -> ABUF. Works on
 * the two jobs' command streams as qnpu_compile.c emitted them, and only
 * when the result is provably the same ABUF contents:
 *
 *  - walking producer A in stream order (its tokens make that the order
 *    OBUF is written and read), every OBUF row a DRAIN writes and a STORE
 *    copies out lands, through consumer B's input LOADs, in one ABUF word
 *    at the same byte offsets, filling exactly the bytes that LOAD fills
 *    (the rest of the word is the LOAD's zero tail, and DRAIN_ABUF writes
 *    unused columns as zero), no two rows in one word, each ABUF word
 *    loaded once, and a DRAIN's rows at a constant word stride;
 *  - A's ABUF use and B's are disjoint (B's moves if it must), so the PPU
 *    writing B's input never meets what A still reads.
 *
 * Then A's DRAINs write ABUF (DRAIN_ABUF) and its STOREs go, B's input
 * LOADs go, and B's first compute waits for the PPU (PPU_WAIT). The
 * caller checks the graph side (no other reader, not a model output).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"

#define CF(c, name) (((c)->w[QNPU_CMD_##name##_WORD] & \
		      QNPU_CMD_##name##_MASK) >> QNPU_CMD_##name##_SHIFT)
#define SET(c, name, v) ((c)->w[QNPU_CMD_##name##_WORD] = \
	((c)->w[QNPU_CMD_##name##_WORD] & ~QNPU_CMD_##name##_MASK) | \
	(((uint32_t)(v) << QNPU_CMD_##name##_SHIFT) & QNPU_CMD_##name##_MASK))

#define NOT_HERE 1	/* the streams do not allow a handoff */

struct hull {
	int64_t lo, hi;		/* ABUF words; empty when lo >= hi */
};

static void grow(struct hull *h, int64_t lo, int64_t hi)
{
	if (lo >= hi)
		return;
	if (h->lo >= h->hi) {
		h->lo = lo;
		h->hi = hi;
		return;
	}
	h->lo = lo < h->lo ? lo : h->lo;
	h->hi = hi > h->hi ? hi : h->hi;
}

static bool is_compute(uint32_t op)
{
	return op != QNPU_OP_LOAD && op != QNPU_OP_STORE;
}

static int64_t sfield(uint32_t v, uint32_t mask, int shift)
{
	int64_t m = (int64_t)(mask >> shift);

	return (int64_t)v > m / 2 ? (int64_t)v - m - 1 : (int64_t)v;
}

/* The ABUF words a compute reads (its input window rows), or false for a
 * command this pass does not handle. */
static bool reads(const struct qnpu_cmd *c, uint32_t C, struct hull *h)
{
	uint32_t op = CF(c, OPCODE);
	int64_t pad, oy0, oy1, y0, y1, a = CF(c, A_ADDR), rs = CF(c, ROW_STRIDE);

	if (op == QNPU_OP_SYNC)
		return true;
	if ((op != QNPU_OP_CONV && op != QNPU_OP_DWCONV &&
	     op != QNPU_OP_MAXPOOL && op != QNPU_OP_AVGPOOL) || CF(c, RES) ||
	    !CF(c, OUT_W) || !CF(c, NPIX) || !CF(c, IN_H) || !CF(c, IN_W))
		return false;
	pad = sfield(CF(c, PAD_T), QNPU_CMD_PAD_T_MASK, QNPU_CMD_PAD_T_SHIFT);
	oy0 = CF(c, PIX0) / CF(c, OUT_W);
	oy1 = (CF(c, PIX0) + CF(c, NPIX) - 1) / CF(c, OUT_W);
	y0 = oy0 * CF(c, STRIDE_H) - pad;
	y1 = oy1 * CF(c, STRIDE_H) - pad + ((int64_t)CF(c, KH) - 1) * CF(c, DIL_H);
	if (y0 < 0)
		y0 = 0;
	if (y1 > (int64_t)CF(c, IN_H) - 1)
		y1 = (int64_t)CF(c, IN_H) - 1;
	if (y1 < y0)
		return true;
	/* whole rows: a row's pixels reach at most ROW_STRIDE bytes */
	grow(h, (a + y0 * rs) / C, (a + (y1 + 1) * rs + C - 1) / C);
	return rs != 0;
}

static void load_words(const struct qnpu_cmd *c, uint32_t C, struct hull *h)
{
	int64_t s = CF(c, SRAM_ADDR), st = CF(c, SRAM_STRIDE);

	grow(h, s, s + ((int64_t)CF(c, ROWS) - 1) * st +
		   (CF(c, ROW_BYTES) + C - 1) / C);
}

static uint64_t va_of(const struct qnpu_cmd *c)
{
	return (uint64_t)CF(c, DRAM_LO) | (uint64_t)CF(c, DRAM_HI) << 32;
}

/* Rows of a compute's DRAIN: array rows holding pixels. */
static uint32_t drain_rows(const struct qnpu_cmd *c)
{
	uint32_t g = CF(c, COL_GROUPS) > 1 ? CF(c, COL_GROUPS) : 1;

	return (CF(c, NPIX) + g - 1) / g;
}

static uint64_t col_mask(const struct qnpu_cmd *c, uint32_t C)
{
	uint32_t g = CF(c, COL_GROUPS) > 1 ? CF(c, COL_GROUPS) : 1, i;
	uint64_t m = 0;

	for (i = 0; i < C; i++)
		if (i % (C / g) < CF(c, NCOLS))
			m |= 1ull << i;
	return m;
}

struct drow {			/* one array row of one DRAIN of A */
	int64_t word;		/* ABUF word it goes to, -1: none yet */
	uint64_t mask;		/* bytes of it stored */
};

/* Ranges in use by both; B's ABUF use moves by *delta words to clear A's. */
static bool place(struct hull a, struct hull b, int64_t words, int64_t *delta)
{
	int64_t size = b.hi - b.lo;

	*delta = 0;
	if (a.lo >= a.hi || b.lo >= b.hi || a.hi <= b.lo || b.hi <= a.lo)
		return true;
	if (size > words)
		return false;
	*delta = words - size - b.lo;		/* to the top */
	if (a.hi <= words - size)
		return true;
	*delta = -b.lo;				/* to the bottom */
	return size <= a.lo;
}

/* Give @flag to the nearest LOAD from @from towards @to (step @dir,
 * backwards: from - 1 down to @to) before any compute, if it has none. */
static bool give(struct qnpu_cmd *b, size_t from, size_t to, int dir,
		 uint32_t flag)
{
	size_t m = from;

	for (;;) {
		if (dir < 0) {
			if (m == to)
				return false;
			m--;
		} else if (m >= to) {
			return false;
		}
		if (is_compute(CF(&b[m], OPCODE)))
			return false;
		if (CF(&b[m], OPCODE) == QNPU_OP_LOAD)
			break;
		if (dir > 0)
			m++;
	}
	if (b[m].w[0] & flag)
		return false;
	b[m].w[0] |= flag;
	return true;
}

static int hand(const struct qnpu_npu_target *t, struct qnpu_cmd *a,
		size_t *na, struct qnpu_cmd *b, size_t *nb, uint64_t *saved)
{
	const uint32_t C = t->cols;
	const int64_t aw = t->abuf_bytes / C, ow = t->obuf_bytes / C;
	struct hull ah = { 0, 0 }, bh = { 0, 0 };
	uint64_t t_lo = UINT64_MAX, t_hi = 0, x;
	int64_t *pos = NULL, *owner = NULL, *abuf_row = NULL, delta;
	uint64_t *loadmask = NULL;
	uint8_t *other = NULL;
	bool *drop_lc = NULL, *drop_cl = NULL;
	size_t nlc = 0, ncl = 0;
	size_t *row0 = NULL, i, j, nrows = 0, k;
	struct drow *dr = NULL;
	bool first_cmp = true;
	int r = NOT_HERE;

	if (C > 64)
		return NOT_HERE;
	/* A: what it reads and loads in ABUF, its output's extent */
	row0 = calloc(*na + 1, sizeof(*row0));
	if (!row0)
		return -ENOMEM;
	for (i = 0; i < *na; i++) {
		const struct qnpu_cmd *c = &a[i];
		uint32_t op = CF(c, OPCODE);

		row0[i] = nrows;
		if (op == QNPU_OP_LOAD) {
			if (CF(c, BUF) == QNPU_BUF_ABUF)
				load_words(c, C, &ah);
		} else if (op == QNPU_OP_STORE) {
			uint64_t v = va_of(c), end = v +
				((uint64_t)CF(c, ROWS) - 1) * CF(c, DRAM_STRIDE) +
				CF(c, ROW_BYTES);

			t_lo = v < t_lo ? v : t_lo;
			t_hi = end > t_hi ? end : t_hi;
		} else {
			if (!reads(c, C, &ah))
				goto out;
			if (CF(c, DRAIN) && op != QNPU_OP_SYNC)
				nrows += drain_rows(c);
		}
	}
	row0[*na] = nrows;
	if (!nrows || t_lo >= t_hi || t_hi - t_lo > (uint64_t)t->abuf_bytes)
		goto out;
	/* B: where its loads put each byte of A's output */
	r = -ENOMEM;
	pos = malloc((t_hi - t_lo) * sizeof(*pos));
	abuf_row = malloc((size_t)aw * sizeof(*abuf_row));
	loadmask = calloc((size_t)aw, sizeof(*loadmask));
	owner = malloc((size_t)ow * sizeof(*owner));
	other = calloc((size_t)aw, 1);
	drop_lc = calloc(*nb + 1, sizeof(*drop_lc));
	drop_cl = calloc(*nb + 1, sizeof(*drop_cl));
	dr = malloc(nrows * sizeof(*dr));
	if (!pos || !abuf_row || !loadmask || !owner || !dr || !other ||
	    !drop_lc || !drop_cl)
		goto out;
	r = NOT_HERE;
	for (x = 0; x < t_hi - t_lo; x++)
		pos[x] = -1;
	for (i = 0; i < (size_t)aw; i++)
		abuf_row[i] = -1;
	for (i = 0; i < *nb; i++) {
		const struct qnpu_cmd *c = &b[i];
		uint32_t op = CF(c, OPCODE), ro, jb;
		uint64_t v, end;

		if (is_compute(op)) {
			if (!reads(c, C, &bh))
				goto out;
			continue;
		}
		if (op != QNPU_OP_LOAD || CF(c, BUF) != QNPU_BUF_ABUF)
			continue;
		load_words(c, C, &bh);
		v = va_of(c);
		end = v + ((uint64_t)CF(c, ROWS) - 1) * CF(c, DRAM_STRIDE) +
		      CF(c, ROW_BYTES);
		if (end <= t_lo || v >= t_hi) {	/* not A's output */
			for (ro = 0; ro < CF(c, ROWS); ro++)
				for (jb = 0; jb < CF(c, ROW_BYTES); jb += C) {
					uint64_t w = CF(c, SRAM_ADDR) + jb / C +
						(uint64_t)ro * CF(c, SRAM_STRIDE);

					if (w >= (uint64_t)aw)
						goto out;
					other[w] = 1;
				}
			continue;
		}
		if (v < t_lo || end > t_hi)
			goto out;
		for (ro = 0; ro < CF(c, ROWS); ro++) {
			uint64_t w0 = CF(c, SRAM_ADDR) +
				      (uint64_t)ro * CF(c, SRAM_STRIDE);

			for (jb = 0; jb < CF(c, ROW_BYTES); jb++) {
				uint64_t w = w0 + jb / C;

				x = v + (uint64_t)ro * CF(c, DRAM_STRIDE) + jb -
				    t_lo;
				if (w >= (uint64_t)aw || pos[x] >= 0 ||
				    (loadmask[w] >> (jb % C) & 1))
					goto out;
				pos[x] = (int64_t)(w * C + jb % C);
				loadmask[w] |= 1ull << (jb % C);
			}
		}
	}
	/* A in stream order: which DRAIN row each STORE copies out */
	for (i = 0; i < (size_t)ow; i++)
		owner[i] = -1;
	for (k = 0; k < nrows; k++)
		dr[k] = (struct drow){ -1, 0 };
	for (i = 0; i < *na; i++) {
		const struct qnpu_cmd *c = &a[i];
		uint32_t op = CF(c, OPCODE), ro, jb;

		if (is_compute(op) && CF(c, DRAIN) && op != QNPU_OP_SYNC) {
			for (ro = 0; ro < drain_rows(c); ro++) {
				int64_t w = CF(c, O_ADDR) +
					    (int64_t)ro * CF(c, O_STRIDE);

				if (w >= ow)
					goto out;
				owner[w] = (int64_t)(row0[i] + ro);
			}
		}
		if (op != QNPU_OP_STORE)
			continue;
		for (ro = 0; ro < CF(c, ROWS); ro++) {
			for (jb = 0; jb < CF(c, ROW_BYTES); jb++) {
				uint64_t w = CF(c, SRAM_ADDR) +
					     (uint64_t)ro * CF(c, SRAM_STRIDE) +
					     jb / C;
				int64_t p;
				struct drow *d;

				x = va_of(c) + (uint64_t)ro * CF(c, DRAM_STRIDE) +
				    jb - t_lo;
				if (w >= (uint64_t)ow || owner[w] < 0)
					goto out;
				d = &dr[owner[w]];
				p = pos[x];
				if (p < 0 || (uint64_t)p % C != jb % C ||
				    (d->word >= 0 && d->word != p / (int64_t)C))
					goto out;
				d->word = p / (int64_t)C;
				d->mask |= 1ull << (jb % C);
			}
		}
	}
	/* every DRAIN row to one word of its own, filling what LOAD filled,
	 * the rows of one DRAIN a constant stride apart */
	for (i = 0; i < *na; i++) {
		const struct qnpu_cmd *c = &a[i];
		uint32_t op = CF(c, OPCODE), n;
		int64_t st = 0;

		if (!is_compute(op) || !CF(c, DRAIN) || op == QNPU_OP_SYNC)
			continue;
		n = drain_rows(c);
		for (k = row0[i]; k < row0[i] + n; k++) {
			struct drow *d = &dr[k];

			if (d->word < 0 || abuf_row[d->word] >= 0 ||
			    d->mask != col_mask(c, C) ||
			    d->mask != loadmask[d->word])
				goto out;
			abuf_row[d->word] = (int64_t)k;
		}
		if (n > 1)
			st = dr[row0[i] + 1].word - dr[row0[i]].word;
		for (k = row0[i] + 1; k < row0[i] + n; k++)
			if (dr[k].word - dr[k - 1].word != st)
				goto out;
		if (st < 0 || st > (int64_t)(QNPU_CMD_O_STRIDE_MASK >>
					      QNPU_CMD_O_STRIDE_SHIFT))
			goto out;
	}
	/* every byte B loads of A's output comes from a DRAIN row, and B's
	 * other ABUF loads keep off those words */
	for (x = 0; x < t_hi - t_lo; x++)
		if (pos[x] >= 0 && abuf_row[pos[x] / C] < 0)
			goto out;
	for (i = 0; i < (size_t)aw; i++)
		if (other[i] && loadmask[i])
			goto out;
	if (!place(ah, bh, aw, &delta))
		goto out;

	/* rewrite A: DRAINs to ABUF (moved with B), no STOREs, no tokens
	 * for them */
	for (i = 0, j = 0; i < *na; i++) {
		struct qnpu_cmd *c = &a[i];
		uint32_t op = CF(c, OPCODE);

		if (op == QNPU_OP_STORE) {
			saved[0] += (uint64_t)CF(c, ROWS) * CF(c, ROW_BYTES);
			continue;
		}
		if (is_compute(op)) {
			c->w[0] &= ~(QNPU_CMD_PUSH_NEXT_MASK |
				     QNPU_CMD_POP_NEXT_MASK);
			if (CF(c, DRAIN) && op != QNPU_OP_SYNC) {
				const struct drow *d = &dr[row0[i]];

				SET(c, DRAIN_ABUF, 1);
				SET(c, O_ADDR, d->word + delta);
				SET(c, O_STRIDE, drain_rows(c) > 1 ?
				    d[1].word - d->word : 0);
			}
		}
		a[j++] = *c;
	}
	*na = j;
	/* rewrite B: no input LOADs of A's output, ABUF moved, the first
	 * compute waits for the PPU */
	for (i = 0, j = 0; i < *nb; i++) {
		struct qnpu_cmd *c = &b[i];
		uint32_t op = CF(c, OPCODE);

		if (op == QNPU_OP_LOAD && (CF(c, BUF) != QNPU_BUF_ABUF ||
					   va_of(c) < t_lo || va_of(c) >= t_hi)) {
			/* (the tokens of every load, as the counters see
			 * them) */
			ncl += !!(c->w[0] & QNPU_CMD_POP_NEXT_MASK);
			nlc += !!(c->w[0] & QNPU_CMD_PUSH_NEXT_MASK);
		}
		if (op == QNPU_OP_LOAD && CF(c, BUF) == QNPU_BUF_ABUF) {
			uint64_t v = va_of(c);

			if (v >= t_lo && v < t_hi) {
				saved[1] += (uint64_t)CF(c, ROWS) *
					    CF(c, ROW_BYTES);
				/* its tokens move to another load, else
				 * they go with the compute token they pair
				 * with (the counters pair k-th push and pop) */
				if (c->w[0] & QNPU_CMD_POP_NEXT_MASK) {
					size_t m;

					/* the next load waited for it in the
					 * in-order engine: now it takes it
					 * (and counts it), unless a later
					 * token of its own covers it (compute
					 * pushes come in order) */
					for (m = i + 1; m < *nb; m++)
						if (CF(&b[m], OPCODE) == QNPU_OP_LOAD)
							break;
					if (m < *nb && !(b[m].w[0] &
							 QNPU_CMD_POP_NEXT_MASK)) {
						b[m].w[0] |= QNPU_CMD_POP_NEXT_MASK;
					} else {
						drop_cl[ncl] = true;
						ncl++;
					}
				}
				if (!(c->w[0] & QNPU_CMD_PUSH_NEXT_MASK))
					continue;
				if (give(b, j, 0, -1, QNPU_CMD_PUSH_NEXT_MASK)) {
					nlc++;	/* counted before, now here */
				} else if (!give(b, i + 1, *nb, 1,
						 QNPU_CMD_PUSH_NEXT_MASK)) {
					size_t m;

					/* no load since the last push that
					 * only this push waits for */
					for (m = j; m-- > 0;) {
						if (CF(&b[m], OPCODE) != QNPU_OP_LOAD)
							continue;
						if (b[m].w[0] & QNPU_CMD_PUSH_NEXT_MASK)
							break;
						goto fail;
					}
					drop_lc[nlc] = true;
					nlc++;
				}
				continue;
			}
			SET(c, SRAM_ADDR, (int64_t)CF(c, SRAM_ADDR) + delta);
		} else if (is_compute(op) && op != QNPU_OP_SYNC) {
			SET(c, A_ADDR, (int64_t)CF(c, A_ADDR) + delta * C);
			if (first_cmp)
				SET(c, PPU_WAIT, 1);
			first_cmp = false;
		}
		b[j++] = *c;
	}
	*nb = j;
	/* the compute tokens paired with dropped load tokens */
	for (i = 0, ncl = 0, nlc = 0; i < *nb; i++) {
		struct qnpu_cmd *c = &b[i];

		if (!is_compute(CF(c, OPCODE)))
			continue;
		if (c->w[0] & QNPU_CMD_POP_PREV_MASK) {
			if (nlc < *nb && drop_lc[nlc])
				c->w[0] &= ~QNPU_CMD_POP_PREV_MASK;
			nlc++;
		}
		if (c->w[0] & QNPU_CMD_PUSH_PREV_MASK) {
			if (ncl < *nb && drop_cl[ncl])
				c->w[0] &= ~QNPU_CMD_PUSH_PREV_MASK;
			ncl++;
		}
	}
	r = 0;
	goto out;
fail:
	r = -EINVAL;	/* half rewritten: the caller drops both copies */
out:
	free(row0);
	free(pos);
	free(abuf_row);
	free(loadmask);
	free(owner);
	free(dr);
	free(other);
	free(drop_lc);
	free(drop_cl);
	return r;
}

int qnpu_npu_handoff(const struct qnpu_npu_target *t, struct qnpu_cmd *a,
		     size_t *na, struct qnpu_cmd *b, size_t *nb,
		     uint64_t saved[2])
{
	saved[0] = saved[1] = 0;
	/* an older device has no DRAIN_ABUF: streams as they are */
	if (t->version_minor < QNPU_MINOR_HANDOFF)
		return NOT_HERE;
	return hand(t, a, na, b, nb, saved);
}
