// SPDX-License-Identifier: MIT
/*
 * ADD, as TFLite Micro's reference_integer_ops::AddFunc and its
 * element-wise / 4-D broadcast drivers.
 */
#include "qnpu_cpu.h"

/*
 * MultiplyByQuantizedMultiplierSmallerThanOneExp: for shift <= 0 it is the
 * general function; going through it also keeps a (TFLite-rejected)
 * positive shift from becoming a negative shift count.
 */
static inline int32_t qnpu_mul_small(int32_t x, int32_t mult, int32_t shift)
{
	return qnpu_mul_by_quantized_multiplier(x, mult, shift);
}

static inline int8_t qnpu_add_one(const struct qnpu_add_params *p, int8_t x,
				  int8_t y)
{
	const int32_t a = (p->in1_offset + x) * (1 << p->left_shift);
	const int32_t b = (p->in2_offset + y) * (1 << p->left_shift);
	const int32_t sa = qnpu_mul_small(a, p->in1_mult, p->in1_shift);
	const int32_t sb = qnpu_mul_small(b, p->in2_mult, p->in2_shift);
	int32_t o = qnpu_mul_small(sa + sb, p->out_mult, p->out_shift) +
		    p->out_offset;

	o = o > p->act_min ? o : p->act_min;
	o = o < p->act_max ? o : p->act_max;
	return (int8_t)o;
}

void qnpu_cpu_add(const struct qnpu_add_params *p, size_t n, const int8_t *a,
		  const int8_t *b, int8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = qnpu_add_one(p, a[i], b[i]);
}

/* Element stride of one dimension: 0 where the input broadcasts. */
static inline size_t qnpu_bstride(int32_t dim, int32_t odim, size_t stride)
{
	return dim == 1 && odim != 1 ? 0 : stride;
}

int qnpu_bcast_begin(struct qnpu_bcast *it, const struct qnpu_shape4 *as,
		     const struct qnpu_shape4 *bs,
		     const struct qnpu_shape4 *os)
{
	/* Each input dimension must match the output or be 1. */
	if ((as->n != os->n && as->n != 1) || (as->h != os->h && as->h != 1) ||
	    (as->w != os->w && as->w != 1) || (as->c != os->c && as->c != 1) ||
	    (bs->n != os->n && bs->n != 1) || (bs->h != os->h && bs->h != 1) ||
	    (bs->w != os->w && bs->w != 1) || (bs->c != os->c && bs->c != 1))
		return -1;
	it->ac = qnpu_bstride(as->c, os->c, 1);
	it->aw = qnpu_bstride(as->w, os->w, (size_t)as->c);
	it->ah = qnpu_bstride(as->h, os->h, (size_t)as->c * as->w);
	it->an = qnpu_bstride(as->n, os->n, (size_t)as->c * as->w * as->h);
	it->bc = qnpu_bstride(bs->c, os->c, 1);
	it->bw = qnpu_bstride(bs->w, os->w, (size_t)bs->c);
	it->bh = qnpu_bstride(bs->h, os->h, (size_t)bs->c * bs->w);
	it->bn = qnpu_bstride(bs->n, os->n, (size_t)bs->c * bs->w * bs->h);
	it->count = (size_t)os->n * os->h * os->w * os->c;
	it->oc = os->c;
	it->ow = os->w;
	it->oh = os->h;
	it->c = it->x = it->y = it->n = 0;
	it->a = it->b = it->ra = it->rb = 0;
	return 0;
}

void qnpu_bcast_next_row(struct qnpu_bcast *it)
{
	it->c = 0;
	if (++it->x < it->ow) {
		it->ra += it->aw;
		it->rb += it->bw;
	} else {
		it->x = 0;
		if (++it->y >= it->oh) {
			it->y = 0;
			it->n++;
		}
		it->ra = (size_t)it->n * it->an + (size_t)it->y * it->ah;
		it->rb = (size_t)it->n * it->bn + (size_t)it->y * it->bh;
	}
	it->a = it->ra;
	it->b = it->rb;
}

void qnpu_cpu_add_broadcast(const struct qnpu_add_params *p,
			    const struct qnpu_shape4 *as, const int8_t *a,
			    const struct qnpu_shape4 *bs, const int8_t *b,
			    const struct qnpu_shape4 *os, int8_t *out)
{
	struct qnpu_bcast it;
	size_t i;

	if (qnpu_bcast_begin(&it, as, bs, os))
		return;
	for (i = 0; i < it.count; i++, qnpu_bcast_next(&it))
		out[i] = qnpu_add_one(p, a[it.a], b[it.b]);
}
