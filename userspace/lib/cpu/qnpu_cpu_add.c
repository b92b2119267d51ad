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

void qnpu_cpu_add_broadcast(const struct qnpu_add_params *p,
			    const struct qnpu_shape4 *as, const int8_t *a,
			    const struct qnpu_shape4 *bs, const int8_t *b,
			    const struct qnpu_shape4 *os, int8_t *out)
{
	const size_t ac = qnpu_bstride(as->c, os->c, 1);
	const size_t aw = qnpu_bstride(as->w, os->w, (size_t)as->c);
	const size_t ah = qnpu_bstride(as->h, os->h, (size_t)as->c * as->w);
	const size_t an = qnpu_bstride(as->n, os->n,
				       (size_t)as->c * as->w * as->h);
	const size_t bc = qnpu_bstride(bs->c, os->c, 1);
	const size_t bw = qnpu_bstride(bs->w, os->w, (size_t)bs->c);
	const size_t bh = qnpu_bstride(bs->h, os->h, (size_t)bs->c * bs->w);
	const size_t bn = qnpu_bstride(bs->n, os->n,
				       (size_t)bs->c * bs->w * bs->h);
	int32_t n, y, x, c;

	/* Each input dimension must match the output or be 1. */
	if ((as->n != os->n && as->n != 1) || (as->h != os->h && as->h != 1) ||
	    (as->w != os->w && as->w != 1) || (as->c != os->c && as->c != 1) ||
	    (bs->n != os->n && bs->n != 1) || (bs->h != os->h && bs->h != 1) ||
	    (bs->w != os->w && bs->w != 1) || (bs->c != os->c && bs->c != 1))
		return;

	for (n = 0; n < os->n; n++) {
		for (y = 0; y < os->h; y++) {
			for (x = 0; x < os->w; x++) {
				const int8_t *pa = a + n * an + y * ah + x * aw;
				const int8_t *pb = b + n * bn + y * bh + x * bw;

				for (c = 0; c < os->c; c++)
					*out++ = qnpu_add_one(p, pa[c * ac],
							      pb[c * bc]);
			}
		}
	}
}
