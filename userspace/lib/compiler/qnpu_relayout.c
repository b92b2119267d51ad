// SPDX-License-Identifier: MIT
/*
 * ABUF relayout for the on-chip handoff (issue 12). qnpu_handoff.c needs
 * the consumer's input to land in ABUF words of its own, each loaded once,
 * clear of what the producer uses. Two layouts the compiler emits stand in
 * the way although the data fit:
 *  - a consumer that streams its input through a ring of band slots (a
 *    1x1 convolution loading a few image rows at a time into two halves)
 *    loads the same words again and again;
 *  - a producer whose band slots sit at both ends of ABUF (the second half
 *    at ABUF / 2) leaves no room for the consumer's whole input between
 *    them, although it uses a few KiB.
 * Both are renamings of ABUF words that change nothing a command computes:
 * every LOAD of the consumer's handed input gets words of its own, one
 * after the other, and the computes that read a LOAD's words move with it;
 * the producer's load slots are packed together, with the computes that
 * read each slot. A compute that reads words of two LOADs that would move
 * apart, or words no LOAD of its own stream wrote (a handoff already made
 * into it), stops the renaming and the streams stay as they are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"

#define CF(c, name) (((c)->w[QNPU_CMD_##name##_WORD] & \
		      QNPU_CMD_##name##_MASK) >> QNPU_CMD_##name##_SHIFT)
#define FMAX(name) ((int64_t)(QNPU_CMD_##name##_MASK >> \
			      QNPU_CMD_##name##_SHIFT))

static bool is_compute(uint32_t op)
{
	return op != QNPU_OP_LOAD && op != QNPU_OP_STORE;
}

static uint64_t va_of(const struct qnpu_cmd *c)
{
	return (uint64_t)CF(c, DRAM_LO) | (uint64_t)CF(c, DRAM_HI) << 32;
}

static bool abuf_load(const struct qnpu_cmd *c)
{
	return CF(c, OPCODE) == QNPU_OP_LOAD && CF(c, BUF) == QNPU_BUF_ABUF;
}

/* Words [lo, hi) a LOAD spans, first to last row. */
static void span(const struct qnpu_cmd *c, uint32_t C, int64_t *lo,
		 int64_t *hi)
{
	*lo = CF(c, SRAM_ADDR);
	*hi = *lo + ((int64_t)CF(c, ROWS) - 1) * CF(c, SRAM_STRIDE) +
	      (CF(c, ROW_BYTES) + C - 1) / C;
}

/* Mark the words a LOAD writes (row by row) as written by @who. */
static bool mark(const struct qnpu_cmd *c, uint32_t C, int64_t aw,
		 int64_t *writer, int64_t who)
{
	int64_t n = (CF(c, ROW_BYTES) + C - 1) / C, r, w;

	for (r = 0; r < CF(c, ROWS); r++)
		for (w = 0; w < n; w++) {
			int64_t x = CF(c, SRAM_ADDR) + r * CF(c, SRAM_STRIDE) + w;

			if (x >= aw)
				return false;
			writer[x] = who;
		}
	return true;
}

static bool set_field(struct qnpu_cmd *c, int word, uint32_t mask, int shift,
		      int64_t v)
{
	if (v < 0 || v > (int64_t)(mask >> shift))
		return false;
	c->w[word] = (c->w[word] & ~mask) | (((uint32_t)v << shift) & mask);
	return true;
}

#define SETF(c, name, v) set_field(c, QNPU_CMD_##name##_WORD, \
				   QNPU_CMD_##name##_MASK, \
				   QNPU_CMD_##name##_SHIFT, (int64_t)(v))

/*
 * Move every command by its delta in words (@dl, per command): LOADs'
 * SRAM_ADDR, computes' A_ADDR. False if a field cannot hold it.
 */
static bool apply(struct qnpu_cmd *c, size_t n, uint32_t C,
		  const int64_t *dl)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!dl[i])
			continue;
		if (abuf_load(&c[i])) {
			if (!SETF(&c[i], SRAM_ADDR, CF(&c[i], SRAM_ADDR) + dl[i]))
				return false;
		} else if (!SETF(&c[i], A_ADDR,
				 CF(&c[i], A_ADDR) + dl[i] * (int64_t)C)) {
			return false;
		}
	}
	return true;
}

/*
 * The delta of the LOADs that wrote words [lo, hi) last, through
 * @ldelta (per LOAD index): one for all, or false (a word nobody wrote,
 * or two deltas).
 */
static bool one_delta(const int64_t *writer, const int64_t *ldelta,
		      int64_t lo, int64_t hi, int64_t *d)
{
	int64_t x;
	bool seen = false;

	for (x = lo; x < hi; x++) {
		if (writer[x] < 0)
			return false;
		if (seen && ldelta[writer[x]] != *d)
			return false;
		*d = ldelta[writer[x]];
		seen = true;
	}
	return true;
}

/* The first ABUF LOAD before @i that loads what it does (the same
 * address, strides and sizes: the command words that hold them), or @i. */
static size_t same(const struct qnpu_cmd *b, size_t i)
{
	static const int f[] = {
		QNPU_CMD_DRAM_LO_WORD, QNPU_CMD_DRAM_HI_WORD,
		QNPU_CMD_DRAM_STRIDE_WORD, QNPU_CMD_ROW_BYTES_WORD,
		QNPU_CMD_ROWS_WORD, QNPU_CMD_SRAM_STRIDE_WORD,
	};
	size_t k, j;

	for (k = 0; k < i; k++) {
		if (!abuf_load(&b[k]))
			continue;
		for (j = 0; j < sizeof(f) / sizeof(f[0]); j++)
			if (b[k].w[f[j]] != b[i].w[f[j]])
				break;
		if (j == sizeof(f) / sizeof(f[0]))
			return k;
	}
	return i;
}

int qnpu_npu_relayout_consumer(const struct qnpu_npu_target *t,
			       struct qnpu_cmd *b, size_t nb, uint64_t t_lo,
			       uint64_t t_hi)
{
	const uint32_t C = t->cols;
	const int64_t aw = t->abuf_bytes / C;
	int64_t *writer = NULL, *dl = NULL, cursor = 0, lo, hi, d = 0;
	uint8_t *other = NULL;
	size_t i, k;
	bool moved = false;
	int r = -ENOMEM;

	writer = malloc((size_t)aw * sizeof(*writer));
	dl = calloc(nb + 1, sizeof(*dl));
	other = calloc((size_t)aw, 1);
	if (!writer || !dl || !other)
		goto out;
	r = 1;
	for (i = 0; i < (size_t)aw; i++)
		writer[i] = -1;
	/* the words the other ABUF loads write stay theirs */
	for (i = 0; i < nb; i++) {
		uint64_t v = va_of(&b[i]);

		if (abuf_load(&b[i]) && (v < t_lo || v >= t_hi)) {
			span(&b[i], C, &lo, &hi);
			if (hi > aw)
				goto out;
			memset(other + lo, 1, (size_t)(hi - lo));
		}
	}
	for (i = 0; i < nb; i++) {
		const struct qnpu_cmd *c = &b[i];
		uint32_t op = CF(c, OPCODE);

		if (abuf_load(c)) {
			uint64_t v = va_of(c);

			span(c, C, &lo, &hi);
			if (v >= t_lo && v < t_hi && (k = same(b, i)) < i) {
				/* a reload (a last tile of its own): where
				 * the first one went */
				dl[i] = CF(&b[k], SRAM_ADDR) + dl[k] - lo;
				moved |= dl[i] != 0;
			} else if (v >= t_lo && v < t_hi) {
				/* the handed input: words of its own */
				while (cursor < aw && other[cursor])
					cursor++;
				if (cursor + (hi - lo) > aw ||
				    memchr(other + cursor, 1,
					   (size_t)(hi - lo)))
					goto out;
				dl[i] = cursor - lo;
				moved |= dl[i] != 0;
				cursor += hi - lo;
			}
			if (!mark(c, C, aw, writer, (int64_t)i))
				goto out;
		} else if (is_compute(op) && op != QNPU_OP_SYNC) {
			if (!qnpu_npu_abuf_reads(c, C, &lo, &hi))
				goto out;
			if (lo >= hi)
				continue;
			if (hi > aw || !one_delta(writer, dl, lo, hi, &d))
				goto out;
			dl[i] = d;
		}
	}
	if (!moved || !apply(b, nb, C, dl))
		goto out;
	r = 0;
out:
	free(writer);
	free(dl);
	free(other);
	return r;
}

struct ivl {
	int64_t lo, hi, delta;
};

static int by_lo(const void *x, const void *y)
{
	const struct ivl *a = x, *b = y;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

int qnpu_npu_relayout_producer(const struct qnpu_npu_target *t,
			       struct qnpu_cmd *a, size_t na)
{
	const uint32_t C = t->cols;
	struct ivl *iv = malloc((na + 1) * sizeof(*iv));
	int64_t *dl = calloc(na + 1, sizeof(*dl)), lo, hi, at;
	size_t i, n = 0, m, k;
	bool moved = false;
	int r = -ENOMEM;

	if (!iv || !dl)
		goto out;
	r = 1;
	for (i = 0; i < na; i++)
		if (abuf_load(&a[i])) {
			span(&a[i], C, &lo, &hi);
			iv[n++] = (struct ivl){ lo, hi, 0 };
		}
	if (n < 2)
		goto out;
	/* the slots: overlapping load spans merged, packed from the first */
	qsort(iv, n, sizeof(*iv), by_lo);
	for (i = 1, m = 0; i < n; i++) {
		if (iv[i].lo < iv[m].hi) {
			if (iv[i].hi > iv[m].hi)
				iv[m].hi = iv[i].hi;
		} else {
			iv[++m] = iv[i];
		}
	}
	n = m + 1;
	for (i = 0, at = iv[0].lo; i < n; i++) {
		iv[i].delta = at - iv[i].lo;
		moved |= iv[i].delta != 0;
		at += iv[i].hi - iv[i].lo;
	}
	if (!moved)
		goto out;
	/* each command inside one slot moves with it */
	for (i = 0; i < na; i++) {
		uint32_t op = CF(&a[i], OPCODE);

		if (abuf_load(&a[i])) {
			span(&a[i], C, &lo, &hi);
		} else if (is_compute(op) && op != QNPU_OP_SYNC) {
			if (!qnpu_npu_abuf_reads(&a[i], C, &lo, &hi))
				goto out;
			if (lo >= hi)
				continue;
		} else {
			continue;
		}
		for (k = 0; k < n; k++)
			if (lo >= iv[k].lo && hi <= iv[k].hi)
				break;
		if (k == n)
			goto out;
		dl[i] = iv[k].delta;
	}
	if (!apply(a, na, C, dl))
		goto out;
	r = 0;
out:
	free(iv);
	free(dl);
	return r;
}
