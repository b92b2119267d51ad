// SPDX-License-Identifier: MIT
/*
 * A model's run of consecutive NPU operators as one command stream, one
 * device job (issue 12): no drain between layers unless a dependency
 * forces it, and the next layer's weights and parameters loaded while the
 * current one computes.
 *
 * Each operator's stream stays as qnpu_compile.c emitted it: its tokens
 * balance (every push popped within it), so the engines' counters, which
 * pair the k-th pop of a counter with its k-th push, keep pairing its own
 * pushes and pops when streams are joined. Between jobs A and B:
 *   - A's last STORE pushes S->C; a SYNC after A's computes pops it and
 *     pushes C->L; B's first input LOAD pops that. So B reads A's output
 *     (and every earlier one) only once stored, B's ABUF loads wait until
 *     A's computes stopped reading ABUF, and B's computes (after the SYNC
 *     in the compute queue) write OBUF only once A's stores read it. A
 *     STORE's token comes after its last beat was accepted, and the memory
 *     applies a burst at its last beat, so the read sees the data.
 *   - B's first WBUF/PBUF loads need none of that, only SRAM that A does
 *     not read: if B's WBUF and PBUF ranges are disjoint from A's (moved
 *     to either end of the buffer, or beside one of A's ranges, when that
 *     makes them so), they go
 *     right after A's last LOAD with no token. The job before A finished
 *     computing before A's first input LOAD ran, which precedes them.
 *     Otherwise (A streams its weights through both halves) they wait for
 *     a SYNC right after A's last compute: they overlap A's drain and
 *     stores, and the token latency of the input load.
 * The SYNCs pass one token each, so no counter gets above what the jobs'
 * own streams reach plus one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"

#define CF(c, name) (((c)->w[QNPU_CMD_##name##_WORD] & \
		      QNPU_CMD_##name##_MASK) >> QNPU_CMD_##name##_SHIFT)

struct range {
	uint32_t lo, hi;	/* words; empty when lo == hi */
};

static bool is_compute(uint32_t op)
{
	return op != QNPU_OP_LOAD && op != QNPU_OP_STORE;
}

static int set_field(struct qnpu_cmd *c, int word, uint32_t mask, int shift,
		     int64_t v)
{
	if (v < 0 || (uint64_t)v > (mask >> shift))
		return -ERANGE;
	c->w[word] = (c->w[word] & ~mask) | (((uint32_t)v << shift) & mask);
	return 0;
}

#define SETF(c, name, v) set_field(c, QNPU_CMD_##name##_WORD, \
				   QNPU_CMD_##name##_MASK, \
				   QNPU_CMD_##name##_SHIFT, (int64_t)(v))

/* Whether every token the stream gives it also takes, per counter. */
static bool balanced(const struct qnpu_cmd *c, size_t n)
{
	int64_t l2c = 0, c2l = 0, c2s = 0, s2c = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t op = CF(&c[i], OPCODE);

		if (op == QNPU_OP_LOAD) {
			l2c += CF(&c[i], PUSH_NEXT);
			c2l -= CF(&c[i], POP_NEXT);
		} else if (op == QNPU_OP_STORE) {
			s2c += CF(&c[i], PUSH_PREV);
			c2s -= CF(&c[i], POP_PREV);
		} else {
			l2c -= CF(&c[i], POP_PREV);
			s2c -= CF(&c[i], POP_NEXT);
			c2l += CF(&c[i], PUSH_PREV);
			c2s += CF(&c[i], PUSH_NEXT);
		}
	}
	return !l2c && !c2l && !c2s && !s2c;
}

static bool overlap(struct range a, struct range b)
{
	return a.lo != a.hi && b.lo != b.hi && a.lo < b.hi && b.lo < a.hi;
}

/* Ranges of SRAM in use, kept apart (a hull of two jobs at both ends of
 * a buffer would cover all of it); past RSET_MAX the closest two merge. */
#define RSET_MAX 8

struct rset {
	struct range r[RSET_MAX];
	int n;
};

static void rset_add(struct rset *s, struct range a)
{
	int i, j, bi = 0, bj = 1;
	uint32_t best = UINT32_MAX;

	if (a.lo == a.hi)
		return;
	for (i = 0; i < s->n; i++)	/* overlapping or adjacent: one */
		if (a.lo <= s->r[i].hi && s->r[i].lo <= a.hi) {
			struct range m = {
				a.lo < s->r[i].lo ? a.lo : s->r[i].lo,
				a.hi > s->r[i].hi ? a.hi : s->r[i].hi,
			};

			s->r[i] = s->r[--s->n];
			rset_add(s, m);
			return;
		}
	if (s->n < RSET_MAX) {
		s->r[s->n++] = a;
		return;
	}
	for (i = 0; i < s->n; i++)	/* merge the closest two first */
		for (j = i + 1; j < s->n; j++) {
			uint32_t lo = s->r[i].lo < s->r[j].lo ? s->r[i].lo : s->r[j].lo;
			uint32_t hi = s->r[i].hi > s->r[j].hi ? s->r[i].hi : s->r[j].hi;
			uint32_t gap = hi - lo - (s->r[i].hi - s->r[i].lo) -
				       (s->r[j].hi - s->r[j].lo);

			if ((int32_t)gap < 0)
				gap = 0;
			if (gap < best) {
				best = gap;
				bi = i;
				bj = j;
			}
		}
	if (s->r[bj].lo < s->r[bi].lo)
		s->r[bi].lo = s->r[bj].lo;
	if (s->r[bj].hi > s->r[bi].hi)
		s->r[bi].hi = s->r[bj].hi;
	s->r[bj] = a;
}

/* The WBUF (r[0]) and PBUF (r[1]) words a stream's loads write. */
static void used(const struct qnpu_cmd *c, size_t n, uint32_t C,
		 struct rset r[2])
{
	size_t i;

	r[0].n = r[1].n = 0;
	for (i = 0; i < n; i++) {
		uint32_t b = CF(&c[i], BUF), lo, hi;

		if (CF(&c[i], OPCODE) != QNPU_OP_LOAD ||
		    (b != QNPU_BUF_WBUF && b != QNPU_BUF_PBUF))
			continue;
		lo = CF(&c[i], SRAM_ADDR);
		hi = lo + (CF(&c[i], ROWS) - 1) * CF(&c[i], SRAM_STRIDE) +
		     (CF(&c[i], ROW_BYTES) + C - 1) / C;
		rset_add(&r[b == QNPU_BUF_PBUF], (struct range){ lo, hi });
	}
}

static void rset_union(struct rset *to, const struct rset *from)
{
	int i;

	for (i = 0; i < from->n; i++)
		rset_add(to, from->r[i]);
}

/* Whether @a moved by @d stays in [0, @words) clear of @b and @c. */
static bool fits(const struct rset *a, int64_t d, const struct rset *b,
		 const struct rset *c, uint32_t words)
{
	int i, j;

	for (i = 0; i < a->n; i++) {
		struct range m = { (uint32_t)(a->r[i].lo + d),
				   (uint32_t)(a->r[i].hi + d) };

		if ((int64_t)a->r[i].lo + d < 0 ||
		    (int64_t)a->r[i].hi + d > words)
			return false;
		for (j = 0; j < b->n; j++)
			if (overlap(m, b->r[j]))
				return false;
		for (j = 0; j < c->n; j++)
			if (overlap(m, c->r[j]))
				return false;
	}
	return true;
}


/* A shift of @r (in a buffer of @words) that clears @prev and @prev2, or
 * false: none, to either end, or one of its ranges right beside one of
 * theirs (a pointwise layer's weights between those of the layer two
 * before, still computing, and of the depthwise layer before). */
static bool clear_of2(const struct rset *r, const struct rset *prev,
		      const struct rset *prev2, uint32_t words, int64_t *delta)
{
	const struct rset *o[2] = { prev, prev2 };
	uint32_t lo = UINT32_MAX, hi = 0;
	int i, j, k;

	*delta = 0;
	if (!r->n)
		return true;
	for (i = 0; i < r->n; i++) {
		lo = r->r[i].lo < lo ? r->r[i].lo : lo;
		hi = r->r[i].hi > hi ? r->r[i].hi : hi;
	}
	if (fits(r, 0, prev, prev2, words))
		return true;
	if (fits(r, -(int64_t)lo, prev, prev2, words)) {
		*delta = -(int64_t)lo;
		return true;
	}
	if (fits(r, (int64_t)words - hi, prev, prev2, words)) {
		*delta = (int64_t)words - hi;
		return true;
	}
	for (k = 0; k < 2; k++)
		for (j = 0; j < o[k]->n; j++)
			for (i = 0; i < r->n; i++) {
				int64_t d[2] = {
					(int64_t)o[k]->r[j].hi - r->r[i].lo,
					(int64_t)o[k]->r[j].lo - r->r[i].hi,
				};
				int e;

				for (e = 0; e < 2; e++)
					if (fits(r, d[e], prev, prev2, words)) {
						*delta = d[e];
						return true;
					}
			}
	return false;
}

/* Move the stream's WBUF use by @dw words and PBUF use by @dp. */
static int shift(struct qnpu_cmd *c, size_t n, int64_t dw, int64_t dp)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && !r; i++) {
		uint32_t op = CF(&c[i], OPCODE), b = CF(&c[i], BUF);

		if (op == QNPU_OP_LOAD && b == QNPU_BUF_WBUF && dw)
			r = SETF(&c[i], SRAM_ADDR, CF(&c[i], SRAM_ADDR) + dw);
		else if (op == QNPU_OP_LOAD && b == QNPU_BUF_PBUF && dp)
			r = SETF(&c[i], SRAM_ADDR, CF(&c[i], SRAM_ADDR) + dp);
		if (op == QNPU_OP_CONV || op == QNPU_OP_DWCONV) {
			if (dw)
				r = r ? r :
				    SETF(&c[i], W_ADDR, CF(&c[i], W_ADDR) + dw);
			if (dp)
				r = r ? r :
				    SETF(&c[i], P_ADDR, CF(&c[i], P_ADDR) + dp);
		} else if (op == QNPU_OP_ADD && dp) {
			r = SETF(&c[i], P_ADDR, CF(&c[i], P_ADDR) + dp);
		}
	}
	return r;
}


/* The ABUF bytes below which compute command @c reads its input rows:
 * the end of the last input row its pixels' windows touch. */
static uint64_t reads_below(const struct qnpu_cmd *c)
{
	uint32_t pm = QNPU_CMD_PAD_T_MASK >> QNPU_CMD_PAD_T_SHIFT;
	int64_t pad = CF(c, PAD_T), oy, y;

	if (pad > (int64_t)(pm >> 1))		/* signed field */
		pad -= (int64_t)pm + 1;
	if (!CF(c, OUT_W) || !CF(c, NPIX) || !CF(c, IN_H))
		return UINT64_MAX;
	oy = (CF(c, PIX0) + CF(c, NPIX) - 1) / CF(c, OUT_W);
	y = oy * CF(c, STRIDE_H) - pad +
	    ((int64_t)CF(c, KH) - 1) * CF(c, DIL_H);
	if (y > (int64_t)CF(c, IN_H) - 1)
		y = (int64_t)CF(c, IN_H) - 1;
	if (y < 0)
		return CF(c, A_ADDR);
	return CF(c, A_ADDR) + (uint64_t)(y + 1) * CF(c, ROW_STRIDE);
}

#define IN_PARTS 4	/* most pieces a job's first input load is cut into */

/* Rows of a load (from SRAM word @s, @st words apart) below byte @end. */
static uint32_t rows_below(uint64_t end, uint32_t s, uint32_t st,
			   uint32_t C, uint32_t rows)
{
	uint64_t need;

	if (end <= (uint64_t)s * C)
		return 0;
	need = (end - (uint64_t)s * C + (uint64_t)st * C - 1) /
	       ((uint64_t)st * C);
	return need > rows ? rows : (uint32_t)need;
}

/*
 * Cut the job's first input LOAD into pieces so that its first computes
 * start when the rows they read are in, not when the whole input is
 * (e.g. a whole 32x32x16 input is 1,024 cycles at 16 B/cycle). The first
 * piece keeps the group's token; each further one pushes L->C and the
 * first compute reading its rows pops it. Counters pair in order, so the
 * extra pops must come before the stream's own second L->C pop: the last
 * piece takes every row still missing. Only for a group whose one input
 * LOAD comes first (weights and a residual after it) and computes whose
 * rows read_below() bounds. @parts (2..IN_PARTS) pieces at most; @src
 * has room for IN_PARTS - 1 more commands; returns the new count.
 */
static size_t split_input(struct qnpu_cmd *src, size_t n, uint32_t C,
			  uint32_t parts)
{
	size_t first_cmp = n, i, c1, pop_at[IN_PARTS];
	uint32_t rows, s, st, k[IN_PARTS + 1], end_of[IN_PARTS], loaded;
	uint32_t np = 0, j, need;
	uint64_t va;
	int nabuf = 0;
	bool w_seen = false;

	for (i = 0; i < n && first_cmp == n; i++)
		if (is_compute(CF(&src[i], OPCODE)))
			first_cmp = i;
	if (first_cmp == 0 || first_cmp == n ||
	    !(src[first_cmp].w[0] & QNPU_CMD_POP_PREV_MASK))
		return n;
	for (i = 0; i < first_cmp; i++) {
		if (CF(&src[i], OPCODE) != QNPU_OP_LOAD)
			return n;
		if (CF(&src[i], BUF) != QNPU_BUF_ABUF)
			w_seen = true;
		else if (!w_seen)
			nabuf++;
	}
	if (nabuf != 1 || CF(&src[0], BUF) != QNPU_BUF_ABUF ||
	    (src[0].w[0] & QNPU_CMD_POP_NEXT_MASK))
		return n;
	rows = CF(&src[0], ROWS);
	s = CF(&src[0], SRAM_ADDR);
	st = CF(&src[0], SRAM_STRIDE);
	if (parts < 2 || parts > IN_PARTS || rows < 2 * parts || !st ||
	    CF(&src[0], ROW_BYTES) > st * C)
		return n;
	for (c1 = first_cmp + 1; c1 < n; c1++)
		if (is_compute(CF(&src[c1], OPCODE)) &&
		    (src[c1].w[0] & QNPU_CMD_POP_PREV_MASK))
			break;
	for (j = 0; j <= parts; j++)
		k[j] = (uint32_t)((uint64_t)rows * j / parts);
	loaded = 0;
	for (i = first_cmp; i < c1; i++) {
		uint32_t op = CF(&src[i], OPCODE);
		uint64_t end;

		if (!is_compute(op))
			continue;
		if (op != QNPU_OP_CONV && op != QNPU_OP_DWCONV &&
		    op != QNPU_OP_MAXPOOL && op != QNPU_OP_AVGPOOL)
			return n;
		end = reads_below(&src[i]);
		if (end == UINT64_MAX)
			return n;
		need = rows_below(end, s, st, C, rows);
		if (i > first_cmp && need <= loaded)
			continue;
		if (np == parts)
			break;
		for (j = 1; k[j] < need; j++)
			;
		if (i > first_cmp)
			pop_at[np] = i;
		end_of[np++] = loaded = k[j];
		if (loaded == rows)
			break;
	}
	if (np < 2)
		return n;
	end_of[np - 1] = rows;	/* the rest with the last piece */
	memmove(&src[first_cmp + np - 1], &src[first_cmp],
		(n - first_cmp) * sizeof(*src));
	va = (uint64_t)CF(&src[0], DRAM_LO) |
	     (uint64_t)CF(&src[0], DRAM_HI) << 32;
	for (j = 1; j < np; j++) {
		struct qnpu_cmd *c = &src[first_cmp + j - 1];
		uint64_t at = va + (uint64_t)end_of[j - 1] *
			      CF(&src[0], DRAM_STRIDE);

		*c = src[0];
		c->w[0] &= ~(QNPU_CMD_POP_NEXT_MASK | QNPU_CMD_PUSH_NEXT_MASK);
		c->w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
		SETF(c, DRAM_LO, at & 0xffffffffu);
		SETF(c, DRAM_HI, at >> 32);
		SETF(c, SRAM_ADDR, s + end_of[j - 1] * st);
		SETF(c, ROWS, end_of[j] - end_of[j - 1]);
		src[pop_at[j] + np - 1].w[0] |= QNPU_CMD_POP_PREV_MASK;
	}
	SETF(&src[0], ROWS, end_of[0]);
	return n + np - 1;
}

/*
 * Whether and how to cut @src's first input load: each piece is a command
 * of its own, which on a memory with latency pays it again, so the cost
 * model of the job's stream alone decides (no cut, 2 or IN_PARTS).
 */
static size_t best_split(const struct qnpu_npu_target *t,
			 struct qnpu_cmd *src, size_t n)
{
	struct qnpu_cmd *c = malloc((n + IN_PARTS) * sizeof(*c));
	uint64_t in, out, best, e;
	uint32_t p, bestp = 1;
	size_t m;

	if (!c)
		return n;
	best = qnpu_npu_stream_cycles(t, src, n, &in, &out);
	for (p = 2; p <= IN_PARTS; p *= 2) {
		memcpy(c, src, n * sizeof(*c));
		m = split_input(c, n, t->cols, p);
		if (m == n)
			continue;
		e = qnpu_npu_stream_cycles(t, c, m, &in, &out);
		if (e && e < best) {
			best = e;
			bestp = p;
		}
	}
	free(c);
	return bestp > 1 ? split_input(src, n, t->cols, bestp) : n;
}

struct out {
	struct qnpu_cmd *c;
	size_t n, cap;
	/* where the last join inserted commands before its own (in order),
	 * so that the recorded ends of earlier jobs can follow */
	size_t ins_at[2], ins_n[2];
	int nins;
};

static void note_ins(struct out *o, size_t at, size_t n)
{
	o->ins_at[o->nins] = at;
	o->ins_n[o->nins++] = n;
}

/*
 * A SYNC after command @at that passes the computes' token on: the next
 * load asking for one waits for every compute up to @at. Room reserved.
 */
static void insert_gate(struct out *o, size_t at)
{
	memmove(&o->c[at + 2], &o->c[at + 1],
		(o->n - at - 1) * sizeof(*o->c));
	note_ins(o, at + 1, 1);
	memset(&o->c[at + 1], 0, sizeof(*o->c));
	o->c[at + 1].w[0] = QNPU_OP_SYNC | QNPU_CMD_PUSH_PREV_MASK;
	o->n++;
}

/* Commands of job @job put into an earlier job's part (@n from @at). */
struct moved {
	size_t at, n;
	int job;
};

/* Ends of jobs 0..k-1 recorded in @last and the moved commands in @mv
 * (*@nmv of them), after @o's insertions, which job k made. */
static void follow_ins(const struct out *o, size_t *last, int k,
		       struct moved *mv, int *nmv)
{
	int i, j;

	for (i = 0; i < o->nins; i++) {
		for (j = 0; j < k; j++)
			if (last[j] >= o->ins_at[i])
				last[j] += o->ins_n[i];
		for (j = 0; j < *nmv; j++)
			if (mv[j].at >= o->ins_at[i])
				mv[j].at += o->ins_n[i];
		mv[(*nmv)++] = (struct moved){ o->ins_at[i], o->ins_n[i], k };
	}
}

/*
 * Where each job's part ends on the cost model's timeline: the end of the
 * stream up to its last command without the commands later jobs moved
 * into it (weights loading ahead), which would otherwise count as its.
 */
static int job_ends(const struct qnpu_npu_target *t, const struct out *o,
		    const size_t *last, const struct moved *mv, int nmv,
		    int njobs, uint64_t total, uint64_t *end)
{
	struct qnpu_cmd *f = malloc((o->n + 1) * sizeof(*f));
	int *own = malloc((o->n + 1) * sizeof(*own));
	uint64_t din, dout;
	size_t i, m;
	int j, k;

	if (!f || !own) {
		free(f);
		free(own);
		return -ENOMEM;
	}
	for (i = 0, j = 0; i < o->n; i++) {
		while (j < njobs - 1 && i > last[j])
			j++;
		own[i] = j;
	}
	for (k = 0; k < nmv; k++)
		for (i = mv[k].at; i < mv[k].at + mv[k].n && i < o->n; i++)
			own[i] = mv[k].job;
	for (k = 0; k < njobs; k++) {
		if (k + 1 == njobs) {
			end[k] = total;
			break;
		}
		for (i = 0, m = 0; i <= last[k] && i < o->n; i++)
			if (own[i] <= k)
				f[m++] = o->c[i];
		end[k] = qnpu_npu_stream_cycles(t, f, m, &din, &dout);
	}
	free(f);
	free(own);
	return 0;
}

static int reserve(struct out *o, size_t more)
{
	struct qnpu_cmd *c;
	size_t cap = o->cap ? o->cap : 256;

	while (cap < o->n + more)
		cap *= 2;
	if (cap == o->cap)
		return 0;
	c = realloc(o->c, cap * sizeof(*c));
	if (!c)
		return -ENOMEM;
	o->c = c;
	o->cap = cap;
	return 0;
}

/* How the next job's first WBUF/PBUF loads may run ahead of its input. */
enum { AHEAD_NONE, AHEAD_FREE, AHEAD_AFTER_COMPUTE };

static void put_sync(struct out *o, uint32_t flags)
{
	memset(&o->c[o->n], 0, sizeof(*o->c));
	o->c[o->n++].w[0] = QNPU_OP_SYNC | flags;
}

/*
 * Append job stream @src (@n commands, WBUF/PBUF already moved) after the
 * previous job's, whose last command is o->c[o->n - 1]. @ahead: whether
 * and when its first weight loads run ahead (AHEAD_FREE: right after the
 * previous job's last LOAD, on SRAM it does not use; AHEAD_AFTER_COMPUTE:
 * once its computes ended, a SYNC's token). Returns in *@sync_at the
 * index of the SYNC that passes the last STORE's token on. @gate_at
 * (SIZE_MAX: none): with AHEAD_FREE, the weight loads also wait for a
 * SYNC put after command @gate_at (the computes of a job before the
 * previous one, which no load of the previous one waited for).
 */
static int join(struct out *o, struct qnpu_cmd *src, size_t n, int ahead,
		size_t *sync_at, size_t gate_at)
{
	size_t first_cmp = n, i, k, nh = 0, last_ld = 0, ins;
	struct qnpu_cmd *h = NULL;
	bool ld_seen = false, pushed = false;
	int r;

	o->nins = 0;
	/* the previous job's last STORE gives the boundary token */
	for (i = o->n; i-- > 0;)
		if (CF(&o->c[i], OPCODE) == QNPU_OP_STORE)
			break;
	if (i == (size_t)-1 || (o->c[i].w[0] & QNPU_CMD_PUSH_PREV_MASK))
		return -EINVAL;
	o->c[i].w[0] |= QNPU_CMD_PUSH_PREV_MASK;
	for (i = 0; i < n && first_cmp == n; i++)
		if (is_compute(CF(&src[i], OPCODE)))
			first_cmp = i;
	/* the first load group: loads only, none waiting for a token */
	for (i = 0; i < first_cmp; i++)
		if (CF(&src[i], OPCODE) != QNPU_OP_LOAD ||
		    (src[i].w[0] & QNPU_CMD_POP_NEXT_MASK))
			return -EINVAL;
	if (first_cmp == 0 || first_cmp == n)
		return -EINVAL;
	/* a weight load's push moves to the input load before it (the
	 * weights then load before the whole group), which must exist */
	for (i = 0; i < first_cmp; i++) {
		if (CF(&src[i], BUF) == QNPU_BUF_ABUF) {
			ld_seen = true;
			pushed = src[i].w[0] & QNPU_CMD_PUSH_NEXT_MASK;
		} else if (src[i].w[0] & QNPU_CMD_PUSH_NEXT_MASK) {
			if (!ld_seen || pushed)
				ahead = AHEAD_NONE;
			pushed = true;
		}
	}
	if (!ld_seen)
		ahead = AHEAD_NONE;
	if (ahead != AHEAD_NONE) {
		h = malloc(first_cmp * sizeof(*h));
		if (!h)
			return -ENOMEM;
		for (i = 0, k = 0; i < first_cmp; i++) {
			if (CF(&src[i], BUF) == QNPU_BUF_ABUF ||
			    !(src[i].w[0] & QNPU_CMD_PUSH_NEXT_MASK))
				continue;
			src[i].w[0] &= ~QNPU_CMD_PUSH_NEXT_MASK;
			for (k = i; k-- > 0;)
				if (CF(&src[k], BUF) == QNPU_BUF_ABUF)
					break;
			src[k].w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
		}
		/* take the weight loads out of the group */
		for (i = 0, k = 0; i < first_cmp; i++) {
			if (CF(&src[i], BUF) == QNPU_BUF_ABUF)
				src[k++] = src[i];
			else
				h[nh++] = src[i];
		}
		memmove(&src[k], &src[first_cmp],
			(n - first_cmp) * sizeof(*src));
		n -= nh;
		first_cmp = k;
	}
	r = reserve(o, n + nh + 3);
	if (r) {
		free(h);
		return r;
	}
	if (nh && ahead == AHEAD_FREE) {
		if (gate_at != SIZE_MAX) {
			/* they wait for the computes up to @gate_at */
			insert_gate(o, gate_at);
			h[0].w[0] |= QNPU_CMD_POP_NEXT_MASK;
		}
		for (i = 0; i < o->n; i++)
			if (CF(&o->c[i], OPCODE) == QNPU_OP_LOAD)
				last_ld = i;
		ins = last_ld + 1;
		/* behind the SYNC they wait for: every token comes from an
		 * earlier command (the cost model's one pass, and a full load
		 * queue must not hold the SYNC back) */
		if (gate_at != SIZE_MAX && ins < gate_at + 2)
			ins = gate_at + 2;
		note_ins(o, ins, nh);
		memmove(&o->c[ins + nh], &o->c[ins],
			(o->n - ins) * sizeof(*o->c));
		memcpy(&o->c[ins], h, nh * sizeof(*h));
		o->n += nh;
	} else if (nh) {
		/* the SYNC before them in the stream: no load waits in the
		 * queue for a command not yet dispatched */
		put_sync(o, QNPU_CMD_PUSH_PREV_MASK);
		h[0].w[0] |= QNPU_CMD_POP_NEXT_MASK;
		memcpy(&o->c[o->n], h, nh * sizeof(*h));
		o->n += nh;
	}
	free(h);
	*sync_at = o->n;
	put_sync(o, QNPU_CMD_POP_NEXT_MASK | QNPU_CMD_PUSH_PREV_MASK);
	src[0].w[0] |= QNPU_CMD_POP_NEXT_MASK;
	memcpy(&o->c[o->n], src, n * sizeof(*src));
	o->n += n;
	return 0;
}

/*
 * Append consumer @b (@n commands, its input LOADs gone: its producer's
 * DRAINs write that input into ABUF) right after its producer. Its first
 * loads (weights) run ahead when @hoist (SRAM the producer does not use)
 * and they touch no ABUF, else behind a SYNC after the producer's
 * computes. @gate_at (SIZE_MAX: none): with @hoist, they also wait for a
 * SYNC put after command @gate_at (the computes of the job before the
 * producer, whose SRAM they may reuse), as in join(). *@a_end: the
 * producer's last command.
 */
static int join_hand(struct out *o, const struct qnpu_cmd *b, size_t n,
		     bool hoist, size_t gate_at, size_t *a_end,
		     size_t *b_start, bool *gated)
{
	size_t first_cmp = n, i, ins = 0;
	int r;

	o->nins = 0;
	for (i = 0; i < n && first_cmp == n; i++)
		if (is_compute(CF(&b[i], OPCODE)))
			first_cmp = i;
	if (first_cmp == n)
		return -EINVAL;
	for (i = 0; i < first_cmp; i++) {
		if (CF(&b[i], OPCODE) != QNPU_OP_LOAD ||
		    (b[i].w[0] & QNPU_CMD_POP_NEXT_MASK))
			return -EINVAL;
		if (CF(&b[i], BUF) == QNPU_BUF_ABUF)
			hoist = false;
	}
	if (!hoist || !first_cmp || gate_at >= o->n)
		gate_at = SIZE_MAX;
	r = reserve(o, n + 2);
	if (r)
		return r;
	*a_end = o->n - 1;
	*gated = first_cmp && !hoist;
	if (!first_cmp) {
		*b_start = o->n;
	} else if (hoist) {
		if (gate_at != SIZE_MAX) {
			insert_gate(o, gate_at);
			*a_end += 1;
		}
		for (i = 0; i < o->n; i++)
			if (CF(&o->c[i], OPCODE) == QNPU_OP_LOAD)
				ins = i + 1;
		/* behind the SYNC they wait for (see join()) */
		if (gate_at != SIZE_MAX && ins < gate_at + 2)
			ins = gate_at + 2;
		note_ins(o, ins, first_cmp);
		memmove(&o->c[ins + first_cmp], &o->c[ins],
			(o->n - ins) * sizeof(*o->c));
		memcpy(&o->c[ins], b, first_cmp * sizeof(*b));
		if (gate_at != SIZE_MAX)
			o->c[ins].w[0] |= QNPU_CMD_POP_NEXT_MASK;
		o->n += first_cmp;
		*a_end += first_cmp;
		*b_start = o->n;
		b += first_cmp;
		n -= first_cmp;
	} else {
		put_sync(o, QNPU_CMD_PUSH_PREV_MASK);
		*a_end = o->n - 1;
		*b_start = o->n;
	}
	memcpy(&o->c[o->n], b, n * sizeof(*b));
	if (first_cmp && !hoist)
		o->c[o->n].w[0] |= QNPU_CMD_POP_NEXT_MASK;
	o->n += n;
	return 0;
}

/*
 * Job @b (@n commands, WBUF/PBUF moved, @hoist as for join()) with the
 * previous one's output handed over on chip, when the streams allow it:
 * into *@h (a copy of @o with the producer from @a_start rewritten), or
 * h->n == 0 when they do not.
 */
static int try_hand(const struct qnpu_npu_target *t, const struct out *o,
		    size_t a_start, const struct qnpu_cmd *b, size_t n,
		    bool hoist, size_t gate_at, struct out *h,
		    size_t *a_end, size_t *b_start, bool *gated,
		    uint64_t saved[2])
{
	struct qnpu_cmd *bb = malloc((n + 1) * sizeof(*bb));
	size_t na = o->n - a_start, nb = n;
	int r;

	*h = (struct out){ 0 };
	if (!bb)
		return -ENOMEM;
	memcpy(bb, b, n * sizeof(*b));
	r = reserve(h, o->n + n + 1);
	if (r)
		goto out;
	memcpy(h->c, o->c, o->n * sizeof(*o->c));
	r = qnpu_npu_handoff(t, h->c + a_start, &na, bb, &nb, saved);
	if (r == 0) {
		h->n = a_start + na;
		r = join_hand(h, bb, nb, hoist, gate_at, a_end, b_start,
			      gated);
	}
	if (r == 1 || r == -EINVAL)
		r = 0;
	if (r || !*b_start) {
		free(h->c);
		*h = (struct out){ 0 };
	}
out:
	free(bb);
	return r;
}

/* Whether no load after command @from takes a compute token: a SYNC's
 * token given there goes to the next load that asks for one. */
static bool gate_ok(const struct out *o, size_t from)
{
	size_t i;

	for (i = from + 1; i < o->n; i++)
		if (CF(&o->c[i], OPCODE) == QNPU_OP_LOAD &&
		    (o->c[i].w[0] & QNPU_CMD_POP_NEXT_MASK))
			return false;
	return true;
}

static int segment_once(const struct qnpu_npu_target *t,
			const struct qnpu_npu_job *jobs,
			struct qnpu_npu_seg *seg)
{
	const uint32_t C = t->cols;
	const uint32_t ww = t->wbuf_bytes / C, pw = t->pbuf_bytes / C;
	struct rset prev[2] = { { .n = 0 }, { .n = 0 } }, cur[2];
	/* what the jobs before the previous one use while no load of the
	 * previous one waited for their computes (a handoff consumer whose
	 * loads run ahead): loads that run ahead now keep clear of it too */
	struct rset prev2[2] = { { .n = 0 }, { .n = 0 } }, none2 = { .n = 0 };
	struct rset pa[2];
	size_t ung_end = SIZE_MAX;	/* its producer's last command */
	struct out o = { 0 };
	size_t *last = NULL, sync_at = 0;
	uint64_t *at = NULL, total;
	struct qnpu_cmd *tmp = NULL, *raw = NULL;
	size_t a_start = 0;
	struct moved *mv = NULL;
	int k, r = 0, nmv = 0;

	seg->est_end = calloc((size_t)seg->njobs + 1, sizeof(*seg->est_end));
	seg->saved_out = calloc((size_t)seg->njobs + 1, sizeof(uint64_t));
	seg->saved_in = calloc((size_t)seg->njobs + 1, sizeof(uint64_t));
	last = calloc((size_t)seg->njobs + 1, sizeof(*last));
	mv = calloc(2 * (size_t)seg->njobs + 2, sizeof(*mv));
	if (!seg->est_end || !seg->saved_out || !seg->saved_in || !last ||
	    !mv) {
		r = -ENOMEM;
		goto out;
	}
	for (k = 0; k < seg->njobs && !r; k++) {
		const struct qnpu_npu_job *j = &jobs[seg->ops[k]];
		int64_t dw = 0, dp = 0;
		bool hoist, gated;
		int ahead;
		size_t nc;

		if (!j->ncmds || !balanced(j->cmds, j->ncmds)) {
			r = -EINVAL;
			break;
		}
		free(tmp);
		tmp = malloc((j->ncmds + IN_PARTS) * sizeof(*tmp));
		if (!tmp) {
			r = -ENOMEM;
			break;
		}
		memcpy(tmp, j->cmds, j->ncmds * sizeof(*tmp));
		used(tmp, j->ncmds, C, cur);
		gated = false;
		hoist = clear_of2(&cur[0], &prev[0], &prev2[0], ww, &dw) &&
			clear_of2(&cur[1], &prev[1], &prev2[1], pw, &dp);
		if (!hoist && ung_end != SIZE_MAX && gate_ok(&o, ung_end)) {
			/* run ahead once the producer's computes ended */
			hoist = clear_of2(&cur[0], &prev[0], &none2, ww, &dw) &&
				clear_of2(&cur[1], &prev[1], &none2, pw, &dp);
			gated = hoist;
		}
		if (!hoist || shift(tmp, j->ncmds, dw, dp)) {
			/* no room apart: as emitted, behind the token */
			memcpy(tmp, j->cmds, j->ncmds * sizeof(*tmp));
			hoist = false;
			dw = dp = 0;
		}
		pa[0] = prev[0];
		pa[1] = prev[1];
		used(tmp, j->ncmds, C, prev);
		free(raw);
		raw = malloc(j->ncmds * sizeof(*raw));
		if (!raw) {
			r = -ENOMEM;
			break;
		}
		memcpy(raw, tmp, j->ncmds * sizeof(*raw));
		nc = best_split(t, tmp, j->ncmds);
		if (k > 0 && seg->hand && seg->hand[k - 1]) {
			struct out h;
			size_t a_end = 0, b_start = 0;
			bool hgated = true;
			uint64_t saved[2] = { 0, 0 };
			uint64_t din, dout, ch, cn;

			r = try_hand(t, &o, a_start, raw, j->ncmds,
				     hoist, gated ? ung_end : SIZE_MAX, &h,
				     &a_end, &b_start,
				     &hgated, saved);
			if (r)
				break;
			if (h.n) {
				/* the cost model decides against the usual
				 * join on a copy */
				ahead = hoist ? AHEAD_FREE : AHEAD_AFTER_COMPUTE;
				r = join(&o, tmp, nc, ahead, &sync_at,
					 gated ? ung_end : SIZE_MAX);
				if (r) {
					free(h.c);
					break;
				}
				ch = qnpu_npu_stream_cycles(t, h.c, h.n,
							    &din, &dout);
				cn = qnpu_npu_stream_cycles(t, o.c, o.n,
							    &din, &dout);
				if (ch && ch < cn) {
					free(o.c);
					o = h;
					follow_ins(&o, last, k - 1, mv, &nmv);
					last[k - 1] = a_end;
					a_start = b_start;
					seg->saved_out[k - 1] = saved[0];
					seg->saved_in[k] = saved[1];
					last[k] = o.n - 1;
					if (hgated) {
						prev2[0] = prev2[1] = none2;
						ung_end = SIZE_MAX;
					} else if (gated) {
						/* they waited for the computes
						 * before the producer's */
						prev2[0] = pa[0];
						prev2[1] = pa[1];
						ung_end = a_end;
					} else {
						rset_union(&prev2[0], &pa[0]);
						rset_union(&prev2[1], &pa[1]);
						ung_end = a_end;
					}
					continue;
				}
				free(h.c);
				follow_ins(&o, last, k - 1, mv, &nmv);
				prev2[0] = prev2[1] = none2;
				ung_end = SIZE_MAX;
				last[k - 1] = sync_at;
				a_start = sync_at + 1;
				last[k] = o.n - 1;
				continue;
			}
		}
		if (k == 0) {
			r = reserve(&o, nc);
			if (r)
				break;
			memcpy(o.c, tmp, nc * sizeof(*tmp));
			o.n = nc;
		} else {
			ahead = hoist ? AHEAD_FREE : AHEAD_AFTER_COMPUTE;
			r = join(&o, tmp, nc, ahead, &sync_at,
				 gated ? ung_end : SIZE_MAX);
			if (r)
				break;
			/* the previous job's part ends with the SYNC */
			follow_ins(&o, last, k - 1, mv, &nmv);
			last[k - 1] = sync_at;
			a_start = sync_at + 1;
			prev2[0] = prev2[1] = none2;
			ung_end = SIZE_MAX;
		}
		last[k] = o.n - 1;
	}
	if (r)
		goto out;
	at = calloc(o.n + 1, sizeof(*at));
	if (!at) {
		r = -ENOMEM;
		goto out;
	}
	total = qnpu_npu_stream_timeline(t, o.c, o.n, &seg->job.est_dma_in,
					 &seg->job.est_dma_out, at);
	r = job_ends(t, &o, last, mv, nmv, seg->njobs, total, seg->est_end);
	if (r)
		goto out;
	seg->job.est_cycles = total;
	seg->job.cmds = o.c;
	seg->job.ncmds = seg->job.cap = o.n;
	o.c = NULL;
out:
	free(o.c);
	free(tmp);
	free(raw);
	free(mv);
	free(last);
	free(at);
	return r;
}

static void seg_outputs_free(struct qnpu_npu_seg *s)
{
	free(s->est_end);
	free(s->saved_out);
	free(s->saved_in);
	free(s->job.cmds);
}

static int segment_alt(const struct qnpu_npu_target *t,
		       const struct qnpu_npu_job *jobs,
		       struct qnpu_npu_seg *seg);

/* At a batch, image by image too where faster (qnpu_seg_images.c). */

int qnpu_npu_segment(const struct qnpu_npu_target *t,
		     const struct qnpu_npu_job *jobs, struct qnpu_npu_seg *seg)
{
	int r;

	r = segment_once(t, jobs, seg);
	if (!r && seg->hand)
		r = segment_alt(t, jobs, seg);
	return r ? r : qnpu_npu_seg_images(t, jobs, seg);
}

/*
 * Each handoff is kept where the cost model finds the stream faster with
 * it at that point, but it changes where later jobs' weights fit, so the
 * whole segment with handoffs can end up slower than without any: the
 * segment is joined both ways and the faster kept.
 */
static int segment_alt(const struct qnpu_npu_target *t,
		       const struct qnpu_npu_job *jobs, struct qnpu_npu_seg *seg)
{
	struct qnpu_npu_seg alt;
	int r;

	memset(&alt, 0, sizeof(alt));
	alt.first = seg->first;
	alt.last = seg->last;
	alt.njobs = seg->njobs;
	alt.ops = seg->ops;
	r = segment_once(t, jobs, &alt);
	if (!r && alt.job.est_cycles < seg->job.est_cycles) {
		seg_outputs_free(seg);
		seg->est_end = alt.est_end;
		seg->saved_out = alt.saved_out;
		seg->saved_in = alt.saved_in;
		seg->job = alt.job;
	} else {
		seg_outputs_free(&alt);
	}
	return r == -ENOMEM ? r : 0;
}

void qnpu_npu_seg_split(const struct qnpu_npu_seg *seg, uint64_t total,
			uint64_t *out)
{
	uint64_t e = seg->job.est_cycles, prev = 0, cum;
	int k;

	for (k = 0; k < seg->njobs; k++) {
		if (k + 1 == seg->njobs)
			cum = total;
		else if (!e)
			cum = 0;
		else	/* rounded; 128-bit: cycles x cycles may not fit */
			cum = (uint64_t)(((unsigned __int128)total *
					  seg->est_end[k] + e / 2) / e);
		if (cum < prev)
			cum = prev;
		if (cum > total)
			cum = total;
		out[k] = cum - prev;
		prev = cum;
	}
}

void qnpu_npu_seg_free(struct qnpu_npu_seg *seg)
{
	free(seg->ops);
	free(seg->est_end);
	free(seg->hand);
	free(seg->saved_out);
	free(seg->saved_in);
	free(seg->job.cmds);
	memset(seg, 0, sizeof(*seg));
}
