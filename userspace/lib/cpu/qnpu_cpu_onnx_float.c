// SPDX-License-Identifier: MIT
/*
 * Float32 kernels of the ONNX operators, NCHW. ONNX Runtime sums in
 * other orders (im2col + SGEMM), so results agree within rounding, not
 * bit for bit (docs/onnx.md states the tolerance).
 */
#include <math.h>
#include <stdint.h>

#include "qnpu_cpu_onnx.h"

static float clampf(const struct qnpu_onnx_params *p, float v)
{
	return v < p->lo ? p->lo : v > p->hi ? p->hi : v;
}

void qnpu_cpu_onnx_conv_f32(const struct qnpu_onnx_params *p, const float *x,
			    const float *w, const float *bias, float *y)
{
	int32_t cg = p->c / p->group, mg = p->m / p->group;
	int32_t b, oc, oy, ox, ic, ky, kx;

	for (b = 0; b < p->n; b++)
		for (oc = 0; oc < p->m; oc++)
			for (oy = 0; oy < p->oh; oy++)
				for (ox = 0; ox < p->ow; ox++) {
					float acc = 0;

					for (ic = 0; ic < cg; ic++)
						for (ky = 0; ky < p->kh; ky++)
							for (kx = 0; kx < p->kw; kx++) {
								int32_t iy = oy * p->stride_h - p->pad_t + ky * p->dil_h;
								int32_t ix = ox * p->stride_w - p->pad_l + kx * p->dil_w;
								size_t xi, wi;

								if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
									continue;
								xi = (((size_t)b * p->c + (size_t)(oc / mg) * cg + ic) * p->h + iy) * p->w + ix;
								wi = (((size_t)oc * cg + ic) * p->kh + ky) * p->kw + kx;
								acc += x[xi] * w[wi];
							}
					if (bias)
						acc += bias[oc];
					y[(((size_t)b * p->m + oc) * p->oh + oy) * p->ow + ox] =
						clampf(p, acc);
				}
}

void qnpu_cpu_onnx_gemm_f32(const struct qnpu_onnx_params *p, const float *a,
			    const float *b, const float *c, float *y)
{
	size_t asz = (size_t)p->mm * p->kk, bsz = (size_t)p->kk * p->nn;
	int32_t t, i, j, k;

	for (t = 0; t < p->batch; t++)
		for (i = 0; i < p->mm; i++)
			for (j = 0; j < p->nn; j++) {
				const float *ab = a + (p->a_batched ? t * asz : 0);
				const float *bb = b + (p->b_batched ? t * bsz : 0);
				float acc = 0;

				for (k = 0; k < p->kk; k++)
					acc += ab[p->trans_a ? (size_t)k * p->mm + i :
						  (size_t)i * p->kk + k] *
					       bb[p->trans_b ? (size_t)j * p->kk + k :
						  (size_t)k * p->nn + j];
				acc *= p->alpha;
				if (c)
					acc += p->beta * c[i * p->bias_rs +
							   j * p->bias_cs];
				y[t * (size_t)p->mm * p->nn + (size_t)i * p->nn + j] =
					clampf(p, acc);
			}
}

void qnpu_cpu_onnx_avg_pool_f32(const struct qnpu_onnx_params *p,
				const float *x, float *y)
{
	size_t plane = (size_t)p->h * p->w, nc = (size_t)p->n * p->c, i;
	int32_t oy, ox, ky, kx;

	for (i = 0; i < nc; i++)
		for (oy = 0; oy < p->oh; oy++)
			for (ox = 0; ox < p->ow; ox++) {
				float sum = 0;
				int32_t cnt = 0;

				for (ky = 0; ky < p->kh; ky++)
					for (kx = 0; kx < p->kw; kx++) {
						int32_t iy = oy * p->stride_h - p->pad_t + ky;
						int32_t ix = ox * p->stride_w - p->pad_l + kx;

						if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) {
							cnt += p->count_include_pad;
							continue;
						}
						sum += x[i * plane + (size_t)iy * p->w + ix];
						cnt++;
					}
				y[(i * p->oh + oy) * p->ow + ox] =
					clampf(p, sum / (float)cnt);
			}
}

void qnpu_cpu_onnx_softmax_f32(const struct qnpu_onnx_params *p,
			       const float *x, float *y)
{
	size_t o, k, n = p->axis;

	for (o = 0; o < p->outer; o++) {
		const float *xi = x + o * n;
		float *yo = y + o * n, mx = xi[0], sum = 0;

		for (k = 1; k < n; k++)
			mx = xi[k] > mx ? xi[k] : mx;
		for (k = 0; k < n; k++) {
			yo[k] = expf(xi[k] - mx);
			sum += yo[k];
		}
		for (k = 0; k < n; k++)
			yo[k] /= sum;
	}
}

void qnpu_cpu_onnx_binary_f32(const struct qnpu_onnx_params *p,
			      const float *a, const float *b, float *y)
{
	size_t i;
	int d;

	for (i = 0; i < p->count; i++) {
		size_t r = i, ao = 0, bo = 0;
		float u, v, o;

		for (d = p->rank - 1; d >= 0; d--) {
			size_t idx = r % p->out_shape[d];

			r /= p->out_shape[d];
			ao += idx * p->a_stride[d];
			bo += idx * p->b_stride[d];
		}
		u = a[ao];
		v = b[bo];
		switch (p->fn) {
		case QNPU_ONNX_K_ADD: o = u + v; break;
		case QNPU_ONNX_K_SUB: o = u - v; break;
		case QNPU_ONNX_K_MUL: o = u * v; break;
		case QNPU_ONNX_K_DIV: o = u / v; break;
		case QNPU_ONNX_K_MIN: o = fminf(u, v); break;
		default: o = fmaxf(u, v); break;
		}
		y[i] = clampf(p, o);
	}
}

void qnpu_cpu_onnx_unary_f32(const struct qnpu_onnx_params *p, const float *x,
			     float *y)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		y[i] = p->fn == QNPU_ONNX_K_ROUND ? nearbyintf(x[i]) :
		       clampf(p, x[i]);
}

void qnpu_cpu_onnx_reduce_f32(const struct qnpu_onnx_params *p,
			      const float *x, float *y)
{
	size_t i;
	float v = x[0];

	for (i = 1; i < p->count; i++)
		v = p->fn == QNPU_ONNX_K_MIN ? fminf(v, x[i]) : fmaxf(v, x[i]);
	y[0] = v;
}

static double ld_any(int t, const void *x, size_t i)
{
	switch (t) {
	case QNPU_ONNX_F32:
		return ((const float *)x)[i];
	case QNPU_ONNX_I64:
		return (double)((const int64_t *)x)[i];
	default:
		return qnpu_onnx_ld(t, x, i);
	}
}

void qnpu_cpu_onnx_cast(int from, int to, size_t n, const void *x, void *y)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double v = ld_any(from, x, i);

		switch (to) {
		case QNPU_ONNX_F32:
			((float *)y)[i] = (float)v;
			break;
		case QNPU_ONNX_I64:
			((int64_t *)y)[i] = !(v == v) ? 0 :
					    v <= -9.2e18 ? INT64_MIN :
					    v >= 9.2e18 ? INT64_MAX : (int64_t)v;
			break;
		default:
			qnpu_onnx_st(to, y, i, qnpu_onnx_f2i(v));
			break;
		}
	}
}
