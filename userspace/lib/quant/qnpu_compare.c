// SPDX-License-Identifier: MIT
/*
 * The quantization debugger's statistics: a float tensor against its int8
 * twin (dequantized), accumulated over inputs: signal and noise energy
 * (SQNR), cosine similarity, max |error|, the float range and how much of
 * it fell outside what the int8 tensor can represent. May include: ir/,
 * quant/, util/.
 */
#include <math.h>

#include "quant/qnpu_quant.h"

static void acc_range(struct qnpu_cmp_acc *a, float f)
{
	if (!a->n || f < a->fmin)
		a->fmin = f;
	if (!a->n || f > a->fmax)
		a->fmax = f;
}

/* One float value @f against its quantized counterpart @y. */
static void acc_one(struct qnpu_cmp_acc *a, float f, double y)
{
	double x = f, e = x - y;

	a->sf2 += x * x;
	a->se2 += e * e;
	a->sq2 += y * y;
	a->sfq += x * y;
	if (fabs(e) > a->max_err)
		a->max_err = fabs(e);
	acc_range(a, f);
	a->n++;
}

void qnpu_cmp_acc_i8(struct qnpu_cmp_acc *a, const float *f, const int8_t *q,
		     size_t n, float scale, int32_t zp)
{
	/* Half a step past the ends still rounds onto them. */
	float lo = ((float)(-128 - zp) - 0.5f) * scale;
	float hi = ((float)(127 - zp) + 0.5f) * scale;
	size_t i;

	a->qlo = (float)(-128 - zp) * scale;
	a->qhi = (float)(127 - zp) * scale;
	for (i = 0; i < n; i++) {
		acc_one(a, f[i], (double)scale * (double)((int32_t)q[i] - zp));
		a->clipped += f[i] < lo || f[i] > hi;
	}
}

void qnpu_cmp_acc_f32(struct qnpu_cmp_acc *a, const float *f, const float *q,
		      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		acc_one(a, f[i], q[i]);
	a->qlo = -INFINITY;
	a->qhi = INFINITY;
}

double qnpu_cmp_sqnr(const struct qnpu_cmp_acc *a)
{
	if (a->se2 == 0)
		return INFINITY;
	return 10.0 * log10(a->sf2 / a->se2);
}

double qnpu_cmp_cosine(const struct qnpu_cmp_acc *a)
{
	if (a->sf2 == 0 || a->sq2 == 0)
		return a->sf2 == a->sq2 ? 1.0 : 0.0;
	return a->sfq / sqrt(a->sf2 * a->sq2);
}
