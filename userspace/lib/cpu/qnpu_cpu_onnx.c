// SPDX-License-Identifier: MIT
/*
 * ONNX Runtime's integer kernels, bit for bit: int32 accumulation, then
 * MLAS's float32 requantization (qnpu_onnx_requant()). Plain loops: the
 * order of an int32 sum does not change it.
 */
#include <math.h>
#include <string.h>

#include "qnpu_cpu_onnx.h"

static inline int32_t wzp(const struct qnpu_onnx_operand *w, int32_t c)
{
	return w->zps ? w->zps[c] : w->zp;
}

static inline float mult(const struct qnpu_onnx_params *p, int32_t c)
{
	return p->mult[p->nmult > 1 ? c : 0];
}

static void out_elem(const struct qnpu_onnx_params *p, void *y, size_t i,
		     int32_t acc, int32_t c)
{
	if (p->y.type == QNPU_ONNX_I32)
		((int32_t *)y)[i] = acc;
	else
		qnpu_onnx_st(p->y.type, y, i,
			     qnpu_onnx_requant(acc, mult(p, c), p->y.zp,
					       p->qmin, p->qmax));
}

void qnpu_cpu_onnx_conv(const struct qnpu_onnx_params *p, const void *x,
			const void *w, const int32_t *bias, void *y)
{
	int32_t cg = p->c / p->group, mg = p->m / p->group;
	int32_t b, oc, oy, ox, ic, ky, kx;

	for (b = 0; b < p->n; b++)
		for (oc = 0; oc < p->m; oc++) {
			int32_t g = oc / mg, wz = wzp(&p->wq, oc);
			size_t wbase = (size_t)oc * cg * p->kh * p->kw;

			for (oy = 0; oy < p->oh; oy++)
				for (ox = 0; ox < p->ow; ox++) {
					/* int32 wrap-around as MLAS, without UB */
					int64_t acc = bias ? bias[oc] : 0;

					for (ic = 0; ic < cg; ic++)
						for (ky = 0; ky < p->kh; ky++) {
							int32_t iy = oy * p->stride_h -
								     p->pad_t + ky * p->dil_h;

							if (iy < 0 || iy >= p->h)
								continue;
							for (kx = 0; kx < p->kw; kx++) {
								int32_t ix = ox * p->stride_w -
									     p->pad_l + kx * p->dil_w;
								size_t wi = wbase +
									    ((size_t)ic * p->kh + ky) *
									    p->kw + kx;
								size_t xi;

								if (ix < 0 || ix >= p->w)
									continue;
								xi = qnpu_onnx_at(p->nhwc, p->c, p->h,
										  p->w, b, g * cg + ic,
										  iy, ix);
								acc += (int64_t)(qnpu_onnx_ld(p->x.type, x, xi) -
										 p->x.zp) *
								       (qnpu_onnx_ld(p->wq.type, w, wi) - wz);
							}
						}
					out_elem(p, y,
						 qnpu_onnx_at(p->nhwc, p->m, p->oh, p->ow,
							      b, oc, oy, ox),
						 (int32_t)(uint32_t)acc, oc);
				}
		}
}

void qnpu_cpu_onnx_matmul(const struct qnpu_onnx_params *p, const void *a,
			  const void *b, const int32_t *bias, void *y)
{
	size_t asz = (size_t)p->mm * p->kk, bsz = (size_t)p->kk * p->nn;
	int32_t t, i, j, k;

	for (t = 0; t < p->batch; t++) {
		size_t ab = p->a_batched ? t * asz : 0;
		size_t bb = p->b_batched ? t * bsz : 0;

		for (i = 0; i < p->mm; i++)
			for (j = 0; j < p->nn; j++) {
				int64_t acc = bias ? bias[i * p->bias_rs +
							  j * p->bias_cs] : 0;
				int32_t bz = wzp(&p->wq, j);

				for (k = 0; k < p->kk; k++) {
					size_t ai = p->trans_a ?
						    (size_t)k * p->mm + i :
						    (size_t)i * p->kk + k;
					size_t bi = p->trans_b ?
						    (size_t)j * p->kk + k :
						    (size_t)k * p->nn + j;

					acc += (qnpu_onnx_ld(p->x.type, a, ab + ai) -
						p->x.zp) *
					       (qnpu_onnx_ld(p->wq.type, b, bb + bi) -
						bz);
				}
				out_elem(p, y, t * (size_t)p->mm * p->nn +
					 (size_t)i * p->nn + j, (int32_t)(uint32_t)acc, j);
			}
	}
}

/* Offsets of element i of the output in two broadcast inputs. */
static void bcast_offsets(const struct qnpu_onnx_params *p, size_t i,
			  size_t *ao, size_t *bo)
{
	int d;

	*ao = *bo = 0;
	for (d = p->rank - 1; d >= 0; d--) {
		size_t idx = i % p->out_shape[d];

		i /= p->out_shape[d];
		*ao += idx * p->a_stride[d];
		*bo += idx * p->b_stride[d];
	}
}

void qnpu_cpu_onnx_qadd(const struct qnpu_onnx_params *p, const void *a,
			const void *b, void *y)
{
	size_t i, ao, bo;

	for (i = 0; i < p->count; i++) {
		float va, vb, f;

		bcast_offsets(p, i, &ao, &bo);
		va = p->ratio_a * (float)(qnpu_onnx_ld(p->x.type, a, ao) -
					  p->x.zp);
		vb = p->ratio_b * (float)(qnpu_onnx_ld(p->b.type, b, bo) -
					  p->b.zp);
		f = va + vb;
		if (!(f >= (float)(p->qmin - p->y.zp)))
			f = (float)(p->qmin - p->y.zp);
		if (f > (float)(p->qmax - p->y.zp))
			f = (float)(p->qmax - p->y.zp);
		qnpu_onnx_st(p->y.type, y, i, (int32_t)nearbyintf(f) + p->y.zp);
	}
}

/* QuantizeLinear's rounding (MLAS): divide, clamp, round half to even. */
static int32_t quant1(float v, float scale, int32_t zp, int32_t qmin,
		      int32_t qmax)
{
	float f = v / scale;

	if (!(f >= (float)(qmin - zp)))	/* also NaN, as _mm_max_ps */
		f = (float)(qmin - zp);
	if (f > (float)(qmax - zp))
		f = (float)(qmax - zp);
	return (int32_t)nearbyintf(f) + zp;
}

/* Pools over (b, c) planes; nhwc changes only where elements sit. */
#define AT_IN(p, i, y_, x_) \
	qnpu_onnx_at((p)->nhwc, (p)->c, (p)->h, (p)->w, (int32_t)((i) / (p)->c), \
		     (int32_t)((i) % (p)->c), y_, x_)
#define AT_OUT(p, i, y_, x_) \
	qnpu_onnx_at((p)->nhwc, (p)->c, (p)->oh, (p)->ow, \
		     (int32_t)((i) / (p)->c), (int32_t)((i) % (p)->c), y_, x_)

void qnpu_cpu_onnx_qavg_pool(const struct qnpu_onnx_params *p, const void *x,
			     void *y)
{
	size_t plane = (size_t)p->h * p->w, nc = (size_t)p->n * p->c, i;
	int32_t oy, ox, ky, kx;

	if (p->kh == p->h && p->kw == p->w && p->oh == 1 && p->ow == 1 &&
	    !p->pad_t && !p->pad_l) {
		/* MlasQLinearGlobalAveragePoolNchw: M = x_s / (y_s * H*W). */
		for (i = 0; i < nc; i++) {
			int64_t acc = -(int64_t)p->x.zp * (int64_t)plane;

			for (oy = 0; oy < p->h; oy++)
				for (ox = 0; ox < p->w; ox++)
					acc += qnpu_onnx_ld(p->x.type, x,
							    AT_IN(p, i, oy, ox));
			qnpu_onnx_st(p->y.type, y, AT_OUT(p, i, 0, 0),
				     qnpu_onnx_requant((int32_t)(uint32_t)acc,
						       p->mult[0], p->y.zp,
						       p->qmin, p->qmax));
		}
		return;
	}
	/* QLinearAveragePool: the average of dequantized values in float. */
	for (i = 0; i < nc; i++)
		for (oy = 0; oy < p->oh; oy++)
			for (ox = 0; ox < p->ow; ox++) {
				float sum = 0;
				int32_t cnt = 0;

				for (ky = 0; ky < p->kh; ky++)
					for (kx = 0; kx < p->kw; kx++) {
						int32_t iy = oy * p->stride_h -
							     p->pad_t + ky;
						int32_t ix = ox * p->stride_w -
							     p->pad_l + kx;

						if (iy < 0 || iy >= p->h ||
						    ix < 0 || ix >= p->w) {
							cnt += p->count_include_pad;
							continue;
						}
						sum += (float)(qnpu_onnx_ld(p->x.type, x,
									    AT_IN(p, i, iy, ix)) -
							       p->x.zp) * p->x.scale;
						cnt++;
					}
				qnpu_onnx_st(p->y.type, y, AT_OUT(p, i, oy, ox),
					     quant1(sum / (float)cnt, p->y.scale,
						    p->y.zp, p->qmin, p->qmax));
			}
}

void qnpu_cpu_onnx_max_pool(const struct qnpu_onnx_params *p, const void *x,
			    void *y)
{
	size_t nc = (size_t)p->n * p->c, i;
	int32_t oy, ox, ky, kx;

	for (i = 0; i < nc; i++)
		for (oy = 0; oy < p->oh; oy++)
			for (ox = 0; ox < p->ow; ox++) {
				float fm = -INFINITY;
				int32_t im = INT32_MIN;
				size_t o = AT_OUT(p, i, oy, ox);

				for (ky = 0; ky < p->kh; ky++)
					for (kx = 0; kx < p->kw; kx++) {
						int32_t iy = oy * p->stride_h -
							     p->pad_t + ky * p->dil_h;
						int32_t ix = ox * p->stride_w -
							     p->pad_l + kx * p->dil_w;
						size_t xi;

						if (iy < 0 || iy >= p->h ||
						    ix < 0 || ix >= p->w)
							continue;
						xi = AT_IN(p, i, iy, ix);
						if (p->x.type == QNPU_ONNX_F32) {
							float v = ((const float *)x)[xi];

							fm = v > fm ? v : fm;
						} else {
							int32_t v = qnpu_onnx_ld(p->x.type,
										 x, xi);

							im = v > im ? v : im;
						}
					}
				if (p->x.type == QNPU_ONNX_F32)
					((float *)y)[o] = fm;
				else
					qnpu_onnx_st(p->x.type, y, o, im);
			}
}

void qnpu_cpu_onnx_relayout(const struct qnpu_onnx_params *p, const void *x,
			    void *y)
{
	const uint8_t *in = x;
	uint8_t *out = y, f = p->flip ? 0x80 : 0;
	int32_t b, c, yy, xx;

	if (!p->relayout) {
		size_t i;

		for (i = 0; i < p->count; i++)
			out[i] = in[i] ^ f;
		return;
	}
	for (b = 0; b < p->n; b++)
		for (c = 0; c < p->c; c++)
			for (yy = 0; yy < p->h; yy++)
				for (xx = 0; xx < p->w; xx++) {
					size_t a = qnpu_onnx_at(0, p->c, p->h, p->w,
								b, c, yy, xx);
					size_t h = qnpu_onnx_at(1, p->c, p->h, p->w,
								b, c, yy, xx);

					if (p->relayout == 1)
						out[h] = in[a] ^ f;
					else
						out[a] = in[h] ^ f;
				}
}

void qnpu_cpu_onnx_quantize(const struct qnpu_onnx_params *p, const float *x,
			    const float *scale, const void *zp, void *y)
{
	size_t o, a, k, i = 0;

	for (o = 0; o < p->outer; o++)
		for (a = 0; a < p->axis; a++) {
			int32_t z = zp ? qnpu_onnx_ld(p->y.type, zp, a) : 0;

			for (k = 0; k < p->inner; k++, i++)
				qnpu_onnx_st(p->y.type, y, i,
					     quant1(x[i], scale[a], z, p->qmin,
						    p->qmax));
		}
}

void qnpu_cpu_onnx_dequantize(const struct qnpu_onnx_params *p, const void *x,
			      const float *scale, const void *zp, float *y)
{
	size_t o, a, k, i = 0;

	for (o = 0; o < p->outer; o++)
		for (a = 0; a < p->axis; a++) {
			int32_t z = zp ? qnpu_onnx_ld(p->x.type, zp, a) : 0;

			for (k = 0; k < p->inner; k++, i++)
				y[i] = (float)(qnpu_onnx_ld(p->x.type, x, i) -
					       z) * scale[a];
		}
}

/*
 * ONNX's definition in float32: the range always holds 0; scale =
 * (max - min) / 255; zp = round(clip(0 - min / scale, 0, 255)).
 */
void qnpu_cpu_onnx_dynamic_quantize(const struct qnpu_onnx_params *p,
				    const float *x, uint8_t *y, float *scale,
				    uint8_t *zp)
{
	float lo = 0, hi = 0, s, z;
	size_t i;

	for (i = 0; i < p->count; i++) {
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	s = (hi - lo) / 255.0f;
	z = s != 0 ? 0.0f - lo / s : 0.0f;
	z = !(z >= 0) ? 0 : z > 255 ? 255 : z;
	*scale = s;
	*zp = (uint8_t)nearbyintf(z);
	for (i = 0; i < p->count; i++)
		y[i] = (uint8_t)(s != 0 ? quant1(x[i], s, *zp, 0, 255) : *zp);
}
