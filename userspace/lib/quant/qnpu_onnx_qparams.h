/* SPDX-License-Identifier: MIT */
/*
 * Parameters of the ONNX operators' kernels (cpu/qnpu_cpu_onnx*.c), made
 * once per model by quant/qnpu_onnx_params.c from the IR. ONNX Runtime's
 * integer arithmetic: int32 accumulation of (x - x_zp) * (w - w_zp) plus
 * the int32 bias, then round_half_even(float32(acc) * M) + y_zp,
 * saturated, with M = float32(x_scale * w_scale[c] / y_scale) computed in
 * float32 as ORT does. May include: quant/qnpu_qparams.h only.
 */
#ifndef QNPU_ONNX_QPARAMS_H
#define QNPU_ONNX_QPARAMS_H

#include <stddef.h>
#include <stdint.h>

/* Element types, as enum qnpu_dtype. */
#define QNPU_ONNX_F32 0
#define QNPU_ONNX_I32 2
#define QNPU_ONNX_U8 3
#define QNPU_ONNX_I64 4
#define QNPU_ONNX_I8 9

/* Kernel functions of the elementwise and reduce kernels. */
enum qnpu_onnx_kfn {
	QNPU_ONNX_K_ADD, QNPU_ONNX_K_SUB, QNPU_ONNX_K_MUL, QNPU_ONNX_K_DIV,
	QNPU_ONNX_K_MIN, QNPU_ONNX_K_MAX, QNPU_ONNX_K_CLIP, QNPU_ONNX_K_ROUND,
};

/* One operand: type and quantization (per tensor, or per channel). */
struct qnpu_onnx_operand {
	int type;
	float scale;
	int32_t zp;
	const float *scales;	/* per channel, or NULL */
	const int32_t *zps;	/* per channel, or NULL */
};

struct qnpu_onnx_params {
	struct qnpu_onnx_operand x, wq, y;
	/* Requantization: M per output channel (nmult 1: per tensor). */
	const float *mult;
	int32_t nmult;
	int32_t qmin, qmax;		/* output clamp, fused Relu/Clip */
	float lo, hi;			/* float clamp */
	/* Convolution and pooling, NCHW. */
	int32_t n, c, h, w;		/* input */
	int32_t m, kh, kw, oh, ow;	/* output channels, kernel, output */
	int32_t group, stride_h, stride_w, dil_h, dil_w, pad_t, pad_l;
	int32_t count_include_pad;
	int32_t nhwc;			/* activations stored NHWC */
	int32_t relayout, flip;		/* RELAYOUT: 1 to NHWC, 2 to NCHW */
	/* MatMul / Gemm: [batch] x [mm, kk] x [kk, nn]. */
	int32_t batch, mm, kk, nn;
	int32_t a_batched, b_batched, trans_a, trans_b;
	size_t bias_rs, bias_cs;	/* bias strides over rows, cols */
	float alpha, beta;
	/* Elementwise, softmax, (de)quantize: [outer][axis][inner]. */
	size_t outer, axis, inner, count;
	int32_t fn;
	int rank;
	size_t out_shape[6], a_stride[6], b_stride[6];
	/* QLinearAdd */
	float ratio_a, ratio_b;
	struct qnpu_onnx_operand b;
};

#endif /* QNPU_ONNX_QPARAMS_H */
