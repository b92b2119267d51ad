// SPDX-License-Identifier: MIT
/*
 * A batched segment image by image (issue 12). At batch N a convolution's
 * job is N streams of one image, one after the other (emit_images()), so
 * a segment joined layer by layer runs each layer over all N images: its
 * N-times larger tensors no longer fit on chip and the handoffs between
 * layers are lost. Here each run of such jobs is joined for one image
 * (handoffs, weights ahead: qnpu_npu_segment()) and that stream repeated
 * per image at the image's addresses; jobs of another form (FC with the
 * batch on the array's rows, ADD) stay as they are. The pieces follow one
 * another behind emit_images()' barrier (the last STORE pushes S->C, a
 * SYNC passes it on to the next piece's first LOAD), or joined as a
 * segment's jobs are (the next image's weights ahead) when the cost model
 * finds that faster; it also decides between this and the layer-major
 * stream.
 *
 * Image i of a tensor is at i times its per-image bytes (batch is the
 * leading dimension), so image i's stream is image 0's with every DRAM
 * address moved by i times its move from image 0 to image 1; streams
 * that differ in more than addresses are joined image by image.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"

#define CF(c, name) (((c)->w[QNPU_CMD_##name##_WORD] & \
		      QNPU_CMD_##name##_MASK) >> QNPU_CMD_##name##_SHIFT)
#define OPC(c) CF(c, OPCODE)

static bool is_dma(const struct qnpu_cmd *c)
{
	return OPC(c) == QNPU_OP_LOAD || OPC(c) == QNPU_OP_STORE;
}

static bool is_barrier(const struct qnpu_cmd *c)
{
	return OPC(c) == QNPU_OP_SYNC &&
	       (c->w[0] & QNPU_CMD_POP_NEXT_MASK) &&
	       (c->w[0] & QNPU_CMD_PUSH_PREV_MASK);
}

static uint64_t dram(const struct qnpu_cmd *c)
{
	return (uint64_t)CF(c, DRAM_LO) | (uint64_t)CF(c, DRAM_HI) << 32;
}

static void set_dram(struct qnpu_cmd *c, uint64_t va)
{
	c->w[QNPU_CMD_DRAM_LO_WORD] = (c->w[QNPU_CMD_DRAM_LO_WORD] &
				       ~QNPU_CMD_DRAM_LO_MASK) |
		(((uint32_t)va << QNPU_CMD_DRAM_LO_SHIFT) &
		 QNPU_CMD_DRAM_LO_MASK);
	c->w[QNPU_CMD_DRAM_HI_WORD] = (c->w[QNPU_CMD_DRAM_HI_WORD] &
				       ~QNPU_CMD_DRAM_HI_MASK) |
		(((uint32_t)(va >> 32) << QNPU_CMD_DRAM_HI_SHIFT) &
		 QNPU_CMD_DRAM_HI_MASK);
}


/*
 * Take emit_images()' barrier tokens off @n commands cut out of a stream:
 * the first LOAD's pop unless @first, the last STORE's push unless @last.
 */
static void unbarrier(struct qnpu_cmd *c, size_t n, bool first, bool last)
{
	size_t i;

	for (i = 0; !first && i < n; i++)
		if (OPC(&c[i]) == QNPU_OP_LOAD) {
			c[i].w[0] &= ~QNPU_CMD_POP_NEXT_MASK;
			break;
		}
	for (i = n; !last && i-- > 0;)
		if (OPC(&c[i]) == QNPU_OP_STORE) {
			c[i].w[0] &= ~QNPU_CMD_PUSH_PREV_MASK;
			break;
		}
}
/* A job's stream cut at its N - 1 image barriers: N equal blocks, the
 * barrier's tokens taken off. */
struct blocks {
	struct qnpu_cmd *c;	/* N blocks of len commands, back to back */
	size_t len;
};

static bool cut(const struct qnpu_npu_job *j, int N, struct blocks *b)
{
	size_t i, nb = 0, len;
	int k;

	b->c = NULL;
	for (i = 0; i < j->ncmds; i++)
		nb += is_barrier(&j->cmds[i]);
	if (nb != (size_t)N - 1 || (j->ncmds - nb) % (size_t)N)
		return false;
	len = (j->ncmds - nb) / (size_t)N;
	for (k = 1; k < N; k++)
		if (!is_barrier(&j->cmds[k * (len + 1) - 1]))
			return false;
	b->c = malloc((size_t)N * len * sizeof(*b->c));
	if (!b->c)
		return false;
	b->len = len;
	for (k = 0; k < N; k++) {
		struct qnpu_cmd *c = &b->c[k * len];

		memcpy(c, &j->cmds[k * (len + 1)], len * sizeof(*c));
		unbarrier(c, len, !k, k + 1 == N);
	}
	return true;
}

struct out {
	struct qnpu_cmd *c;
	size_t n, cap;
};

/* Append @src behind the barrier (none before the first piece). */
static int put(struct out *o, const struct qnpu_cmd *src, size_t n)
{
	size_t i, cap = o->cap ? o->cap : 256, at;

	while (cap < o->n + n + 1)
		cap *= 2;
	if (cap != o->cap) {
		struct qnpu_cmd *c = realloc(o->c, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		o->c = c;
		o->cap = cap;
	}
	if (o->n) {
		for (i = o->n; i-- > 0;)
			if (OPC(&o->c[i]) == QNPU_OP_STORE)
				break;
		if (i == (size_t)-1 ||
		    (o->c[i].w[0] & QNPU_CMD_PUSH_PREV_MASK))
			return -EINVAL;
		o->c[i].w[0] |= QNPU_CMD_PUSH_PREV_MASK;
		memset(&o->c[o->n], 0, sizeof(*o->c));
		o->c[o->n++].w[0] = QNPU_OP_SYNC | QNPU_CMD_POP_NEXT_MASK |
				    QNPU_CMD_PUSH_PREV_MASK;
	}
	at = o->n;
	memcpy(&o->c[at], src, n * sizeof(*src));
	o->n += n;
	for (i = at; at && i < o->n; i++)
		if (OPC(&o->c[i]) == QNPU_OP_LOAD) {
			if (o->c[i].w[0] & QNPU_CMD_POP_NEXT_MASK)
				return -EINVAL;
			o->c[i].w[0] |= QNPU_CMD_POP_NEXT_MASK;
			break;
		}
	return 0;
}

/* Jobs [k0, k1) of @seg, image @img, joined as a segment of their own. */
static int join_image(const struct qnpu_npu_target *t,
		      const struct qnpu_npu_seg *seg, const struct blocks *bl,
		      int k0, int k1, int img, struct qnpu_npu_seg *s)
{
	struct qnpu_npu_job *jb = calloc((size_t)(k1 - k0), sizeof(*jb));
	int k, r = -ENOMEM;

	memset(s, 0, sizeof(*s));
	s->njobs = k1 - k0;
	s->ops = calloc((size_t)s->njobs, sizeof(*s->ops));
	if (seg->hand)
		s->hand = calloc((size_t)s->njobs + 1, sizeof(*s->hand));
	if (!jb || !s->ops || (seg->hand && !s->hand))
		goto out;
	for (k = k0; k < k1; k++) {
		jb[k - k0].cmds = &bl[k].c[(size_t)img * bl[k].len];
		jb[k - k0].ncmds = bl[k].len;
		s->ops[k - k0] = k - k0;
		if (s->hand && k + 1 < k1)
			s->hand[k - k0] = seg->hand[k];
	}
	r = qnpu_npu_segment(t, jb, s);
out:
	free(jb);
	return r;
}

/* Per command of @a and @b (image 0 and 1): the move of its DRAM
 * address, or false when they differ in more than addresses. */
static bool moves(const struct qnpu_npu_seg *a, const struct qnpu_npu_seg *b,
		  int64_t *d)
{
	size_t i;
	int w;

	if (a->job.ncmds != b->job.ncmds)
		return false;
	for (i = 0; i < a->job.ncmds; i++) {
		const struct qnpu_cmd *x = &a->job.cmds[i], *y = &b->job.cmds[i];

		d[i] = 0;
		for (w = 0; w < 16; w++) {
			if (x->w[w] == y->w[w])
				continue;
			if (!is_dma(x) || (w != QNPU_CMD_DRAM_LO_WORD &&
					   w != QNPU_CMD_DRAM_HI_WORD))
				return false;
		}
		if (is_dma(x))
			d[i] = (int64_t)(dram(y) - dram(x));
	}
	return true;
}

/*
 * The pieces (@np, ending at @piece_end in @o) joined as the jobs of a
 * segment are (the next one's weights may load ahead) instead of behind
 * the plain barrier, when the cost model finds that faster: @o and
 * @seg's estimates then that stream's, @pend the pieces' ends.
 */
static int rejoin(const struct qnpu_npu_target *t, struct qnpu_npu_seg *seg,
		  struct out *o, const size_t *piece_end, int np,
		  uint64_t *pend)
{
	struct qnpu_npu_job *pj = calloc((size_t)np + 1, sizeof(*pj));
	struct qnpu_npu_seg ps;
	size_t from = 0;
	int p, r = -ENOMEM;

	memset(&ps, 0, sizeof(ps));
	ps.njobs = np;
	ps.ops = calloc((size_t)np + 1, sizeof(*ps.ops));
	if (!pj || !ps.ops)
		goto out;
	for (p = 0; p < np; p++) {
		struct qnpu_cmd *c;
		size_t n = piece_end[p] + 1 - from;

		c = pj[p].cmds = malloc(n * sizeof(*c));
		if (!c)
			goto out;
		memcpy(c, &o->c[from], n * sizeof(*c));
		pj[p].ncmds = n;
		ps.ops[p] = p;
		/* the barrier's tokens off again */
		unbarrier(c, n, !p, p + 1 == np);
		from = piece_end[p] + 2;	/* past the SYNC */
	}
	r = qnpu_npu_segment(t, pj, &ps);
	if (!r && ps.job.est_cycles && ps.job.est_cycles < seg->job.est_cycles) {
		free(o->c);
		o->c = ps.job.cmds;
		o->n = o->cap = ps.job.ncmds;
		ps.job.cmds = NULL;
		seg->job.est_cycles = ps.job.est_cycles;
		seg->job.est_dma_in = ps.job.est_dma_in;
		seg->job.est_dma_out = ps.job.est_dma_out;
		for (p = 0; p < np; p++)
			pend[p] = ps.est_end[p];
	}
	r = r == -ENOMEM ? r : 0;
out:
	for (p = 0; pj && p < np; p++)
		free(pj[p].cmds);
	free(pj);
	qnpu_npu_seg_free(&ps);
	return r;
}

/* Each run of image-cut jobs image by image, the rest as they are. */
static int images(const struct qnpu_npu_target *t,
		  const struct qnpu_npu_job *jobs, struct qnpu_npu_seg *seg,
		  const struct blocks *bl, struct out *o, uint64_t *end,
		  uint64_t *saved_out, uint64_t *saved_in)
{
	const int N = seg->batch;
	size_t *piece_end = calloc((size_t)seg->njobs * (size_t)N + 1,
				   sizeof(*piece_end));
	uint64_t *at = NULL, *loc = NULL, *pend = NULL;
	int *run_of = calloc((size_t)seg->njobs + 1, sizeof(*run_of));
	struct qnpu_npu_seg s0, s1;
	struct qnpu_cmd *rel = NULL;
	int64_t *d = NULL;
	int k = 0, k1, i, np = 0, r = 0, q;
	bool lin;
	size_t c;

	memset(&s0, 0, sizeof(s0));
	memset(&s1, 0, sizeof(s1));
	loc = calloc((size_t)seg->njobs + 1, sizeof(*loc));
	pend = calloc((size_t)seg->njobs * (size_t)N + 1, sizeof(*pend));
	if (!piece_end || !run_of || !loc || !pend) {
		r = -ENOMEM;
		goto out;
	}
	while (k < seg->njobs && !r) {
		const struct qnpu_npu_job *j = &jobs[seg->ops[k]];

		if (!bl[k].c) {		/* as it is: one piece */
			r = put(o, j->cmds, j->ncmds);
			piece_end[np] = o->n - 1;
			run_of[k] = np++;
			k++;
			continue;
		}
		for (k1 = k; k1 < seg->njobs && bl[k1].c; k1++)
			;
		r = join_image(t, seg, bl, k, k1, 0, &s0);
		if (!r && N > 1)
			r = join_image(t, seg, bl, k, k1, 1, &s1);
		if (r)
			break;
		free(d);
		free(rel);
		d = malloc((s0.job.ncmds + 1) * sizeof(*d));
		rel = malloc((s0.job.ncmds + 1) * sizeof(*rel));
		if (!d || !rel) {
			r = -ENOMEM;
			break;
		}
		for (q = k; q < k1; q++)
			loc[q] = s0.est_end[q - k];
		loc[k1 - 1] = s0.job.est_cycles;
		lin = N > 2 && moves(&s0, &s1, d);
		for (i = 0; i < N && !r; i++) {
			const struct qnpu_npu_seg *s = i ? &s1 : &s0;

			if (i > 1 && !lin) {
				qnpu_npu_seg_free(&s1);
				r = join_image(t, seg, bl, k, k1, i, &s1);
				if (r)
					break;
			}
			if (i > 1 && lin) {
				memcpy(rel, s0.job.cmds,
				       s0.job.ncmds * sizeof(*rel));
				for (c = 0; c < s0.job.ncmds; c++)
					if (d[c])
						set_dram(&rel[c],
							 dram(&rel[c]) +
							 (uint64_t)(d[c] * i));
				r = put(o, rel, s0.job.ncmds);
			} else {
				r = put(o, s->job.cmds, s->job.ncmds);
			}
			for (q = k; q < k1; q++) {
				saved_out[q] += s->saved_out[q - k];
				saved_in[q] += s->saved_in[q - k];
			}
			piece_end[np++] = o->n - 1;
		}
		for (q = k; q < k1; q++)
			run_of[q] = -np;	/* a run: ends at piece np - 1 */
		qnpu_npu_seg_free(&s0);
		qnpu_npu_seg_free(&s1);
		k = k1;
	}
	if (r)
		goto out;
	at = calloc(o->n + 1, sizeof(*at));
	if (!at) {
		r = -ENOMEM;
		goto out;
	}
	seg->job.est_cycles = qnpu_npu_stream_timeline(t, o->c, o->n,
						       &seg->job.est_dma_in,
						       &seg->job.est_dma_out,
						       at);
	for (q = 0; q < np; q++)
		pend[q] = at[piece_end[q]];
	r = rejoin(t, seg, o, piece_end, np, pend);
	if (r)
		goto out;
	/* each job's end: a piece's, or within its run's span as image 0
	 * splits its own stream */
	for (k = 0; k < seg->njobs; k++) {
		int p = run_of[k], first;
		uint64_t a, b;

		if (p >= 0) {
			end[k] = pend[p];
			continue;
		}
		for (k1 = k; k1 < seg->njobs && run_of[k1] == p; k1++)
			;
		first = -p - N;
		a = first ? pend[first - 1] : 0;
		b = pend[-p - 1];
		for (q = k; q < k1; q++)
			end[q] = a + (uint64_t)(((unsigned __int128)(b - a) *
						 loc[q] + loc[k1 - 1] / 2) /
						(loc[k1 - 1] ? loc[k1 - 1] : 1));
		k = k1 - 1;
	}
	end[seg->njobs - 1] = seg->job.est_cycles;
out:
	qnpu_npu_seg_free(&s0);
	qnpu_npu_seg_free(&s1);
	free(piece_end);
	free(run_of);
	free(loc);
	free(pend);
	free(at);
	free(d);
	free(rel);
	return r;
}

int qnpu_npu_seg_images(const struct qnpu_npu_target *t,
			const struct qnpu_npu_job *jobs,
			struct qnpu_npu_seg *seg)
{
	struct qnpu_npu_seg alt = *seg;
	struct blocks *bl;
	struct out o = { 0 };
	int k, ncut = 0, r;

	if (seg->batch < 2)
		return 0;
	bl = calloc((size_t)seg->njobs + 1, sizeof(*bl));
	alt.est_end = calloc((size_t)seg->njobs + 1, sizeof(uint64_t));
	alt.saved_out = calloc((size_t)seg->njobs + 1, sizeof(uint64_t));
	alt.saved_in = calloc((size_t)seg->njobs + 1, sizeof(uint64_t));
	memset(&alt.job, 0, sizeof(alt.job));
	r = !bl || !alt.est_end || !alt.saved_out || !alt.saved_in ?
	    -ENOMEM : 0;
	for (k = 0; !r && k < seg->njobs; k++)
		ncut += cut(&jobs[seg->ops[k]], seg->batch, &bl[k]);
	if (!r && ncut)
		r = images(t, jobs, &alt, bl, &o, alt.est_end, alt.saved_out,
			   alt.saved_in);
	if (!r && ncut && alt.job.est_cycles &&
	    alt.job.est_cycles < seg->job.est_cycles) {
		free(seg->est_end);
		free(seg->saved_out);
		free(seg->saved_in);
		free(seg->job.cmds);
		seg->est_end = alt.est_end;
		seg->saved_out = alt.saved_out;
		seg->saved_in = alt.saved_in;
		seg->job.est_cycles = alt.job.est_cycles;
		seg->job.est_dma_in = alt.job.est_dma_in;
		seg->job.est_dma_out = alt.job.est_dma_out;
		seg->job.cmds = o.c;
		seg->job.ncmds = seg->job.cap = o.n;
		o.c = NULL;
		alt.est_end = NULL;
		alt.saved_out = alt.saved_in = NULL;
	}
	free(alt.est_end);
	free(alt.saved_out);
	free(alt.saved_in);
	free(o.c);
	for (k = 0; bl && k < seg->njobs; k++)
		free(bl[k].c);
	free(bl);
	/* a stream it cannot cut or join: the layer-major one stays */
	return r == -ENOMEM ? r : 0;
}
