/* SPDX-License-Identifier: MIT */
/*
 * CPU kernels of the ONNX operators: NCHW, UINT8 or INT8 operands, ONNX
 * Runtime's integer kernels bit for bit (qnpu_cpu_onnx.c) and its float
 * operators (qnpu_cpu_onnx_float.c). Parameters come precomputed in
 * struct qnpu_onnx_params (quant/qnpu_onnx_qparams.h).
 */
#ifndef QNPU_CPU_ONNX_H
#define QNPU_CPU_ONNX_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "quant/qnpu_onnx_qparams.h"

/*
 * MLAS's requantization: float32(acc) * M, clamped to the output range
 * less the zero point, rounded half to even (the default FP rounding
 * mode), plus the zero point. Clamping before rounding equals saturating
 * after it, the bounds being integers.
 */
static inline int32_t qnpu_onnx_requant(int32_t acc, float m, int32_t zp,
					int32_t qmin, int32_t qmax)
{
	float f = (float)acc * m;

	if (!(f >= (float)(qmin - zp)))	/* also NaN */
		f = (float)(qmin - zp);
	if (f > (float)(qmax - zp))
		f = (float)(qmax - zp);
	return (int32_t)nearbyintf(f) + zp;
}

/* float -> int32 without UB: saturated, NaN as 0 (ORT's Cast leaves
 * these undefined; the model cannot rely on them). */
static inline int32_t qnpu_onnx_f2i(double v)
{
	if (!(v == v))
		return 0;
	if (v <= -2147483648.0)
		return INT32_MIN;
	if (v >= 2147483647.0)
		return INT32_MAX;
	return (int32_t)v;
}

/* Element i of a UINT8 / INT8 / INT32 tensor as int32. */
static inline int32_t qnpu_onnx_ld(int type, const void *p, size_t i)
{
	switch (type) {
	case QNPU_ONNX_U8:
		return ((const uint8_t *)p)[i];
	case QNPU_ONNX_I8:
		return ((const int8_t *)p)[i];
	default:
		return ((const int32_t *)p)[i];
	}
}

static inline void qnpu_onnx_st(int type, void *p, size_t i, int32_t v)
{
	switch (type) {
	case QNPU_ONNX_U8:
		((uint8_t *)p)[i] = (uint8_t)v;
		break;
	case QNPU_ONNX_I8:
		((int8_t *)p)[i] = (int8_t)v;
		break;
	default:
		((int32_t *)p)[i] = v;
		break;
	}
}

/* Offset of (b, c, y, x) in a [n][c][h][w] or, with nhwc, [n][h][w][c] tensor. */
static inline size_t qnpu_onnx_at(int nhwc, int32_t c_n, int32_t h_n,
				  int32_t w_n, int32_t b, int32_t c, int32_t y,
				  int32_t x)
{
	return nhwc ? (((size_t)b * h_n + y) * w_n + x) * c_n + c :
		      (((size_t)b * c_n + c) * h_n + y) * w_n + x;
}

/* QLinearConv / folded QDQ Conv; y INT32 (ConvInteger): no requantization. */
void qnpu_cpu_onnx_conv(const struct qnpu_onnx_params *p, const void *x,
			const void *w, const int32_t *bias, void *y);
/* QLinearMatMul, MatMulInteger, folded QDQ Gemm / MatMul. */
void qnpu_cpu_onnx_matmul(const struct qnpu_onnx_params *p, const void *a,
			  const void *b, const int32_t *bias, void *y);
/* QLinearAdd: MLAS's float-ratio formula, NumPy broadcast. */
void qnpu_cpu_onnx_qadd(const struct qnpu_onnx_params *p, const void *a,
			const void *b, void *y);
/* QLinearGlobalAveragePool (kernel = whole plane, integer) or
 * QLinearAveragePool (float through dequantized values, as ORT). */
void qnpu_cpu_onnx_qavg_pool(const struct qnpu_onnx_params *p, const void *x,
			     void *y);
/* MaxPool of any element type (integers: of the same quantization). */
void qnpu_cpu_onnx_max_pool(const struct qnpu_onnx_params *p, const void *x,
			    void *y);
/*
 * QuantizeLinear: round_half_even(x / scale) + zp, saturated; scale and
 * zp (of y's type, or NULL for 0) hold p->axis values (1: per tensor),
 * read at run time since they may be computed by the graph.
 */
void qnpu_cpu_onnx_quantize(const struct qnpu_onnx_params *p, const float *x,
			    const float *scale, const void *zp, void *y);
/* DequantizeLinear: float32(x - zp) * scale, zp of x's type or NULL. */
void qnpu_cpu_onnx_dequantize(const struct qnpu_onnx_params *p, const void *x,
			      const float *scale, const void *zp, float *y);
/* DynamicQuantizeLinear to UINT8: y, y_scale, y_zero_point. */
void qnpu_cpu_onnx_dynamic_quantize(const struct qnpu_onnx_params *p,
				    const float *x, uint8_t *y, float *scale,
				    uint8_t *zp);

/* Copy [n][c][h][w] <-> [n][h][w][c] (p->relayout 1 / 2, 0 plain copy) of
 * bytes, flipping bit 7 with p->flip (UINT8 <-> INT8 of zero point - 128). */
void qnpu_cpu_onnx_relayout(const struct qnpu_onnx_params *p, const void *x,
			    void *y);

/* --- float32 (qnpu_cpu_onnx_float.c) --- */
void qnpu_cpu_onnx_conv_f32(const struct qnpu_onnx_params *p, const float *x,
			    const float *w, const float *bias, float *y);
void qnpu_cpu_onnx_gemm_f32(const struct qnpu_onnx_params *p, const float *a,
			    const float *b, const float *c, float *y);
void qnpu_cpu_onnx_avg_pool_f32(const struct qnpu_onnx_params *p,
				const float *x, float *y);
void qnpu_cpu_onnx_softmax_f32(const struct qnpu_onnx_params *p,
			       const float *x, float *y);
void qnpu_cpu_onnx_binary_f32(const struct qnpu_onnx_params *p,
			      const float *a, const float *b, float *y);
void qnpu_cpu_onnx_unary_f32(const struct qnpu_onnx_params *p, const float *x,
			     float *y);
void qnpu_cpu_onnx_reduce_f32(const struct qnpu_onnx_params *p,
			      const float *x, float *y);
/* Cast between FLOAT32, INT32, INT64, UINT8, INT8 (float -> int: C's
 * truncation, saturated as ORT's Cast does not; values out of range are
 * the model's problem). */
void qnpu_cpu_onnx_cast(int from, int to, size_t n, const void *x, void *y);

#endif /* QNPU_CPU_ONNX_H */
