// SPDX-License-Identifier: MIT
/*
 * Calibration: what each activation tensor held over the samples (pass 1:
 * min/max; pass 2: a histogram of the values over [min, max] and one of
 * |x| over [0, max|x|]), and the range each method picks from that:
 *   minmax      everything seen;
 *   percentile  both tails cut at (100 - P)% of the values;
 *   mse         the clip [a*min, a*max] minimizing the expected squared
 *               error: uniform rounding noise inside, clipping error out;
 *   entropy     TensorRT's: the |x| threshold whose quantized distribution
 *               is closest (KL divergence) to the clipped reference
 *               (exact zeros left out, at most 1% of the values clipped).
 * May include: ir/, quant/, util/.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/qnpu_quant.h"

float qnpu_round_away(float x)
{
	return roundf(x);	/* C's roundf: halves away from zero */
}

void qnpu_asym_params(float min, float max, float *scale, int32_t *zp)
{
	const float qmin = -128.0f, qmax = 127.0f;
	float s, zfm;

	/* As the converter: the range must hold 0. */
	min = fminf(min, 0.0f);
	max = fmaxf(max, 0.0f);
	s = (max - min) / (qmax - qmin);
	zfm = qmin;
	if (s != 0)
		zfm = qmin - min / s;
	if (zfm < qmin)
		*zp = -128;
	else if (zfm > qmax)
		*zp = 127;
	else
		*zp = (int32_t)roundf(zfm);
	/*
	 * A tensor that was 0 on every sample: the converter would write
	 * scale 0, which no int8 kernel can divide by. Any scale represents
	 * 0 exactly; take 1.
	 */
	*scale = s > 0 ? s : 1.0f;
}

void qnpu_tstats_minmax(struct qnpu_tstats *s, const float *x, size_t n)
{
	float lo = s->count ? s->min : FLT_MAX;
	float hi = s->count ? s->max : -FLT_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	if (s->chsum && s->nch > 0)
		for (i = 0; i < n; i++)
			s->chsum[i % (size_t)s->nch] += x[i];
	s->min = lo;
	s->max = hi;
	s->count += n;
}

void qnpu_tstats_observe(struct qnpu_tstats *s, int pass, const float *x,
			 size_t n)
{
	if (!s->used)
		return;
	if (pass == 1)
		qnpu_tstats_minmax(s, x, n);
	else
		qnpu_tstats_hist(s, x, n);
}

void qnpu_tstats_hist_init(struct qnpu_tstats *s)
{
	double span = (double)s->max - (double)s->min;

	s->lo = s->min;
	s->width = span > 0 ? span / QNPU_HIST_BINS : 1.0;
	s->amax = fmax(fabs((double)s->min), fabs((double)s->max));
	if (!(s->amax > 0))
		s->amax = 1.0;
	memset(s->hist, 0, sizeof(s->hist));
	memset(s->ahist, 0, sizeof(s->ahist));
}

void qnpu_tstats_hist(struct qnpu_tstats *s, const float *x, size_t n)
{
	const double inv = 1.0 / s->width;
	const double ainv = QNPU_HIST_BINS / s->amax;
	size_t i;

	for (i = 0; i < n; i++) {
		double v = x[i];
		long b = (long)((v - s->lo) * inv);
		long a = (long)(fabs(v) * ainv);

		b = b < 0 ? 0 : b >= QNPU_HIST_BINS ? QNPU_HIST_BINS - 1 : b;
		a = a >= QNPU_HIST_BINS ? QNPU_HIST_BINS - 1 : a;
		s->hist[b]++;
		/*
		 * Exact zeros (ReLU's spike) are represented exactly by the
		 * zero point; left in, their spike smeared over a level
		 * dominates the KL divergence and drags every threshold
		 * down.
		 */
		s->ahist[a] += v != 0;
	}
}

static uint64_t hist_total(const uint64_t *h)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < QNPU_HIST_BINS; i++)
		t += h[i];
	return t;
}

static void range_percentile(const struct qnpu_tstats *s, double p, float *lo,
			     float *hi)
{
	uint64_t total = hist_total(s->hist), acc = 0;
	double tail = (1.0 - p / 100.0) * (double)total;
	int i;

	*lo = s->min;
	*hi = s->max;
	if (!total)
		return;
	if (s->min < 0) {
		for (i = 0, acc = 0; i < QNPU_HIST_BINS; i++) {
			acc += s->hist[i];
			if ((double)acc > tail) {
				*lo = (float)(s->lo + i * s->width);
				break;
			}
		}
	}
	if (s->max > 0) {
		for (i = QNPU_HIST_BINS - 1, acc = 0; i >= 0; i--) {
			acc += s->hist[i];
			if ((double)acc > tail) {
				*hi = (float)(s->lo + (i + 1) * s->width);
				break;
			}
		}
	}
	if (*lo > 0)
		*lo = 0 > s->min ? 0 : s->min;
	if (*hi < 0)
		*hi = 0 < s->max ? 0 : s->max;
}

/* Expected squared error of quantizing the histogram to 256 levels on
 * [a, b]: clipped values lose their distance to the edge, the others a
 * uniform rounding error of step^2 / 12. */
static double mse_of(const struct qnpu_tstats *s, double a, double b)
{
	double step = (b - a) / 255.0, err = 0;
	double inside = step * step / 12.0;
	int i;

	for (i = 0; i < QNPU_HIST_BINS; i++) {
		double x = s->lo + (i + 0.5) * s->width;
		double c = (double)s->hist[i];

		if (!s->hist[i])
			continue;
		if (x < a)
			err += c * (a - x) * (a - x);
		else if (x > b)
			err += c * (x - b) * (x - b);
		else
			err += c * inside;
	}
	return err;
}

static void range_mse(const struct qnpu_tstats *s, float *lo, float *hi)
{
	const int steps = 200;
	double lo0 = fmin(s->min, 0.0), hi0 = fmax(s->max, 0.0);
	double best = -1;
	int k;

	*lo = s->min;
	*hi = s->max;
	if (!(hi0 > lo0))
		return;
	for (k = steps; k >= 1; k--) {
		double f = (double)k / steps;
		double e = mse_of(s, lo0 * f, hi0 * f);

		if (best < 0 || e < best) {
			best = e;
			*lo = (float)(lo0 * f);
			*hi = (float)(hi0 * f);
		}
	}
}

/* KL(P || Q) of two unnormalized histograms of @n bins. */
static double kl(const double *p, const double *q, int n)
{
	double sp = 0, sq = 0, d = 0;
	int i;

	for (i = 0; i < n; i++) {
		sp += p[i];
		sq += q[i];
	}
	if (!(sp > 0) || !(sq > 0))
		return INFINITY;
	for (i = 0; i < n; i++) {
		double pi = p[i] / sp, qi = q[i] / sq;

		if (pi <= 0)
			continue;
		if (qi <= 0)
			qi = 1e-12;	/* a level the clip left empty */
		d += pi * log(pi / qi);
	}
	return d;
}

/*
 * TensorRT's entropy calibration on the |x| histogram: for each candidate
 * threshold bin i, the reference P is bins [0, i) with everything above
 * folded into the last bin; Q quantizes those i bins to @levels levels,
 * spreading each level's mass over its non-empty bins. The i with the
 * least KL(P||Q) wins.
 */
static float entropy_threshold(const struct qnpu_tstats *s, int levels)
{
	double p[QNPU_HIST_BINS], q[QNPU_HIST_BINS], h[QNPU_HIST_BINS];
	double width = s->amax / QNPU_HIST_BINS, best = INFINITY;
	double above = 0, total = 0;
	int i, j, best_i = QNPU_HIST_BINS;

	for (i = 0; i < QNPU_HIST_BINS; i++) {
		h[i] = (double)s->ahist[i];
		total += h[i];
	}
	for (i = QNPU_HIST_BINS; i >= levels; i--) {
		double d;

		if (i < QNPU_HIST_BINS)
			above += h[i];
		/*
		 * Data far from 0 (a bottleneck's [0.9, 3.6]) has a degenerate
		 * optimum: a threshold below nearly all of it folds everything
		 * into one bin, which Q reproduces exactly (KL 0). Never clip
		 * more than 1% of the values.
		 */
		if (above > 0.01 * total)
			break;
		/* Skip thresholds that cut nothing but empty bins. */
		if (i < QNPU_HIST_BINS && h[i - 1] == 0 && above == 0)
			continue;
		memcpy(p, h, (size_t)i * sizeof(double));
		p[i - 1] += above;
		for (j = 0; j < levels; j++) {
			int a = (int)((long)j * i / levels);
			int b = (int)((long)(j + 1) * i / levels);
			double mass = 0;
			int nz = 0, k;

			for (k = a; k < b; k++) {
				mass += h[k];
				nz += h[k] != 0;
			}
			for (k = a; k < b; k++)
				q[k] = h[k] != 0 ? mass / nz : 0;
		}
		d = kl(p, q, i);
		if (d < best) {
			best = d;
			best_i = i;
		}
	}
	return (float)(best_i * width);
}

void qnpu_tstats_range(const struct qnpu_tstats *s, int method,
		       double percentile, float *lo, float *hi)
{
	float t;

	*lo = s->min;
	*hi = s->max;
	if (!s->count || s->min >= s->max)
		return;
	switch (method) {
	case QNPU_QM_PERCENTILE:
		range_percentile(s, percentile, lo, hi);
		break;
	case QNPU_QM_MSE:
		range_mse(s, lo, hi);
		break;
	case QNPU_QM_ENTROPY:
		/* 255 levels over [0, T] for one-signed data, 128 a side. */
		t = entropy_threshold(s, s->min >= 0 || s->max <= 0 ? 255 : 128);
		*lo = s->min < -t ? -t : s->min;
		*hi = s->max > t ? t : s->max;
		break;
	}
}
