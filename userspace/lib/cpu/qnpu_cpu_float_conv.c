// SPDX-License-Identifier: MIT
/*
 * Float32 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, as TFLite's
 * reference_ops (float): each output accumulates in float over the taps
 * in the order ky, kx, ic, taps in the padding skipped, then the bias is
 * added and the fused activation clamps. The fast paths keep exactly that
 * order per output element and vectorize across output channels (each
 * lane of a vector is one channel's sum, nothing is reassociated), with
 * the sums of a block of 16 channels in registers.
 */
#include <string.h>

#include "qnpu_cpu.h"

static inline float qnpu_clampf(float v, float lo, float hi)
{
	/* std::min(std::max(v, lo), hi): NaN passes through as in TFLite. */
	v = v < lo ? lo : v;
	return v > hi ? hi : v;
}

/* The window of one output coordinate: first tap and end tap in bounds. */
static inline void qnpu_taps(int32_t o0, int32_t dil, int32_t k,
			     int32_t size, int32_t *lo, int32_t *hi)
{
	int32_t t;

	for (t = 0; t < k && o0 + t * dil < 0; t++)
		;
	*lo = t;
	for (t = k; t > *lo && o0 + (t - 1) * dil >= size; t--)
		;
	*hi = t;
}

/*
 * Four lanes of float (gcc/clang vector extension); unaligned loads via
 * memcpy. Element-wise mul then add, exactly as the scalar code rounds.
 */
typedef float qnpu_v4f __attribute__((vector_size(16)));

static inline qnpu_v4f qnpu_ld4(const float *p)
{
	qnpu_v4f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Output channels [ob, ob + 4 * nv) (nv is 4 or 1) of np pixels (1 or 2,
 * the second one stride_w to the right with the same taps), with the
 * filter_t layout; the sums live in registers, and two pixels share each
 * load of weights. acc gets 16 floats per pixel.
 */
static inline __attribute__((always_inline)) void
qnpu_conv_block(const struct qnpu_conv_params *p,
		const struct qnpu_shape4 *is, const float *img,
		const struct qnpu_shape4 *fs, const float *filter_t,
		int32_t iy0, int32_t ix0, int32_t ky0, int32_t ky1,
		int32_t kx0, int32_t kx1, int32_t ob, const int nv,
		const int np, float *acc)
{
	const int32_t oc = fs->n, ic = fs->c;
	const size_t px = (size_t)p->stride_w * is->c;
	qnpu_v4f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	qnpu_v4f b0 = { 0 }, b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
	int32_t ky, kx, i;

	for (ky = ky0; ky < ky1; ky++) {
		const float *irow = img + (size_t)(iy0 + ky * p->dilation_h) *
				    is->w * is->c;

		for (kx = kx0; kx < kx1; kx++) {
			const float *ip = irow + (size_t)(ix0 + kx *
					  p->dilation_w) * is->c;
			const float *w = filter_t + ((size_t)ky * fs->w + kx) *
					 ic * oc + ob;

			for (i = 0; i < ic; i++, w += oc) {
				const qnpu_v4f w0 = qnpu_ld4(w);
				const float x = ip[i];

				a0 += x * w0;
				if (nv == 4) {
					const qnpu_v4f w1 = qnpu_ld4(w + 4);
					const qnpu_v4f w2 = qnpu_ld4(w + 8);
					const qnpu_v4f w3 = qnpu_ld4(w + 12);

					a1 += x * w1;
					a2 += x * w2;
					a3 += x * w3;
					if (np == 2) {
						const float y = ip[px + i];

						b0 += y * w0;
						b1 += y * w1;
						b2 += y * w2;
						b3 += y * w3;
					}
				} else if (np == 2) {
					b0 += ip[px + i] * w0;
				}
			}
		}
	}
	memcpy(acc, &a0, sizeof(a0));
	memcpy(acc + 4, &a1, sizeof(a1));
	memcpy(acc + 8, &a2, sizeof(a2));
	memcpy(acc + 12, &a3, sizeof(a3));
	memcpy(acc + 16, &b0, sizeof(b0));
	memcpy(acc + 20, &b1, sizeof(b1));
	memcpy(acc + 24, &b2, sizeof(b2));
	memcpy(acc + 28, &b3, sizeof(b3));
}

/* Output channels [oc, oc + 4 * nv) of np pixels, in one call. */
static void qnpu_conv_blocks(const struct qnpu_conv_params *p,
			     const struct qnpu_shape4 *is, const float *img,
			     const struct qnpu_shape4 *fs,
			     const float *filter_t, int32_t iy0, int32_t ix0,
			     int32_t ky0, int32_t ky1, int32_t kx0,
			     int32_t kx1, int32_t oc, int nv, int np,
			     float *acc)
{
	if (nv == 4 && np == 2)
		qnpu_conv_block(p, is, img, fs, filter_t, iy0, ix0, ky0, ky1,
				kx0, kx1, oc, 4, 2, acc);
	else if (nv == 4)
		qnpu_conv_block(p, is, img, fs, filter_t, iy0, ix0, ky0, ky1,
				kx0, kx1, oc, 4, 1, acc);
	else if (np == 2)
		qnpu_conv_block(p, is, img, fs, filter_t, iy0, ix0, ky0, ky1,
				kx0, kx1, oc, 1, 2, acc);
	else
		qnpu_conv_block(p, is, img, fs, filter_t, iy0, ix0, ky0, ky1,
				kx0, kx1, oc, 1, 1, acc);
}

/* One output channel of one pixel, in the plain [oc][kh][kw][ic] layout. */
static inline float qnpu_conv_one(const struct qnpu_conv_params *p,
				  const struct qnpu_shape4 *is,
				  const float *img,
				  const struct qnpu_shape4 *fs,
				  const float *filter, const float *filter_t,
				  int32_t iy0, int32_t ix0, int32_t ky0,
				  int32_t ky1, int32_t kx0, int32_t kx1,
				  int32_t oc)
{
	const int32_t ic = fs->c;
	float total = 0.0f;
	int32_t ky, kx, i;

	for (ky = ky0; ky < ky1; ky++) {
		const float *irow = img + (size_t)(iy0 + ky * p->dilation_h) *
				    is->w * is->c;

		for (kx = kx0; kx < kx1; kx++) {
			const float *ip = irow + (size_t)(ix0 + kx *
					  p->dilation_w) * is->c;
			size_t tap = ((size_t)ky * fs->w + kx) * ic;

			if (filter_t) {
				for (i = 0; i < ic; i++)
					total += ip[i] *
						 filter_t[(tap + i) * fs->n + oc];
			} else {
				const float *w = filter + (size_t)oc * fs->h *
						 fs->w * ic + tap;

				for (i = 0; i < ic; i++)
					total += ip[i] * w[i];
			}
		}
	}
	return total;
}

void qnpu_cpu_conv2d_f32(const struct qnpu_conv_params *p, float act_min,
			 float act_max, const struct qnpu_shape4 *is,
			 const float *in, const struct qnpu_shape4 *fs,
			 const float *filter, const float *filter_t,
			 const float *bias, const struct qnpu_shape4 *os,
			 float *out)
{
	const size_t in_image = (size_t)is->h * is->w * is->c;
	int32_t b, oy, ox, oc, np;

	if (fs->c != is->c || fs->n != os->c || is->n != os->n)
		return;
	for (b = 0; b < os->n; b++) {
		const float *img = in + b * in_image;

		for (oy = 0; oy < os->h; oy++) {
			const int32_t iy0 = oy * p->stride_h - p->pad_h;
			int32_t ky0, ky1;

			qnpu_taps(iy0, p->dilation_h, fs->h, is->h, &ky0, &ky1);
			for (ox = 0; ox < os->w; ox += np) {
				const int32_t ix0 = ox * p->stride_w - p->pad_w;
				float *o = out + (((size_t)b * os->h + oy) *
						  os->w + ox) * os->c;
				int32_t kx0, kx1, kx0b, kx1b;

				qnpu_taps(ix0, p->dilation_w, fs->w, is->w,
					  &kx0, &kx1);
				/* Two pixels at once where their taps agree. */
				np = 1;
				if (filter_t && ox + 1 < os->w) {
					qnpu_taps(ix0 + p->stride_w,
						  p->dilation_w, fs->w, is->w,
						  &kx0b, &kx1b);
					if (kx0b == kx0 && kx1b == kx1)
						np = 2;
				}
				for (oc = 0; filter_t && oc < os->c - 3;) {
					const int nv = oc + 16 <= os->c ? 4 : 1;
					float acc[32];
					int32_t j, k;

					qnpu_conv_blocks(p, is, img, fs,
							 filter_t, iy0, ix0,
							 ky0, ky1, kx0, kx1,
							 oc, nv, np, acc);
					for (k = 0; k < np; k++)
						for (j = 0; j < 4 * nv; j++)
							o[k * os->c + oc + j] =
								qnpu_clampf(acc[16 * k + j] +
									(bias ? bias[oc + j] : 0.0f),
									act_min, act_max);
					oc += 4 * nv;
				}
				for (; oc < os->c; oc++) {
					int32_t k;

					for (k = 0; k < np; k++) {
						float t = qnpu_conv_one(p, is,
							img, fs, filter,
							filter_t, iy0,
							ix0 + k * p->stride_w,
							ky0, ky1, kx0, kx1,
							oc);

						o[k * os->c + oc] =
							qnpu_clampf(t +
								(bias ? bias[oc] : 0.0f),
								act_min, act_max);
					}
				}
			}
		}
	}
}

/*
 * Output channel oc = ic * depth_multiplier + m reads input channel ic;
 * with multiplier 1 a block of channels is contiguous in input, filter
 * and output alike.
 */
void qnpu_cpu_depthwise_conv2d_f32(const struct qnpu_conv_params *p,
				   float act_min, float act_max,
				   const struct qnpu_shape4 *is,
				   const float *in,
				   const struct qnpu_shape4 *fs,
				   const float *filter, const float *bias,
				   const struct qnpu_shape4 *os, float *out)
{
	const int32_t dm = p->depth_multiplier, oc_n = os->c;
	const size_t in_image = (size_t)is->h * is->w * is->c;
	int32_t b, oy, ox, oc, ky, kx, j;

	if (dm < 1 || fs->c != oc_n || is->c * dm != oc_n || is->n != os->n)
		return;
	for (b = 0; b < os->n; b++) {
		const float *img = in + b * in_image;

		for (oy = 0; oy < os->h; oy++) {
			const int32_t iy0 = oy * p->stride_h - p->pad_h;
			int32_t ky0, ky1;

			qnpu_taps(iy0, p->dilation_h, fs->h, is->h, &ky0, &ky1);
			for (ox = 0; ox < os->w; ox++) {
				const int32_t ix0 = ox * p->stride_w - p->pad_w;
				float *o = out + (((size_t)b * os->h + oy) *
						  os->w + ox) * oc_n;
				int32_t kx0, kx1;

				qnpu_taps(ix0, p->dilation_w, fs->w, is->w,
					  &kx0, &kx1);
				for (oc = 0; dm == 1 && oc < oc_n - 3; oc += 4) {
					qnpu_v4f acc = { 0 };
					float a[4];

					for (ky = ky0; ky < ky1; ky++)
					for (kx = kx0; kx < kx1; kx++)
						acc += qnpu_ld4(img +
							((size_t)(iy0 + ky * p->dilation_h) *
							 is->w + ix0 + kx * p->dilation_w) *
							is->c + oc) *
						       qnpu_ld4(filter +
							((size_t)ky * fs->w + kx) *
							oc_n + oc);
					memcpy(a, &acc, sizeof(a));
					for (j = 0; j < 4; j++)
						o[oc + j] = qnpu_clampf(a[j] +
							(bias ? bias[oc + j] : 0.0f),
							act_min, act_max);
				}
				for (; oc < oc_n; oc++) {
					float total = 0.0f;

					for (ky = ky0; ky < ky1; ky++)
					for (kx = kx0; kx < kx1; kx++)
						total += img[((size_t)(iy0 + ky * p->dilation_h) *
							      is->w + ix0 + kx * p->dilation_w) *
							     is->c + oc / dm] *
							 filter[((size_t)ky * fs->w + kx) *
								oc_n + oc];
					o[oc] = qnpu_clampf(total + (bias ? bias[oc] :
							    0.0f), act_min,
							    act_max);
				}
			}
		}
	}
}

void qnpu_cpu_fully_connected_f32(float act_min, float act_max,
				  int32_t batches, int32_t accum_depth,
				  int32_t out_depth, const float *in,
				  const float *filter, const float *bias,
				  float *out)
{
	int32_t b, o, d;

	for (b = 0; b < batches; b++) {
		const float *x = in + (size_t)b * accum_depth;

		for (o = 0; o < out_depth; o++) {
			const float *w = filter + (size_t)o * accum_depth;
			float total = 0.0f;

			for (d = 0; d < accum_depth; d++)
				total += x[d] * w[d];
			out[(size_t)b * out_depth + o] =
				qnpu_clampf(total + (bias ? bias[o] : 0.0f),
					    act_min, act_max);
		}
	}
}
