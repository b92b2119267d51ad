/* SPDX-License-Identifier: MIT */
/*
 * CPU kernels: TFLite reference integer semantics, bit-exact.
 *
 * Kernels know nothing of the IR: the runtime prepares the parameter
 * structs (multipliers, offsets, activation ranges) once per model and the
 * kernels only compute. Shapes are NHWC. Shift convention is TFLite's:
 * a positive shift is a left shift.
 */
#ifndef QNPU_CPU_H
#define QNPU_CPU_H

#include <stddef.h>
#include <stdint.h>

/*
 * int32 addition that wraps like TFLite's on two's-complement targets:
 * only absurd models (huge reductions, biases near INT32_MAX) get there,
 * and C leaves signed overflow undefined.
 */
static inline int32_t qnpu_wrap_add(int32_t a, int32_t b)
{
	return (int32_t)((uint32_t)a + (uint32_t)b);
}

struct qnpu_cpu_shape {
	int32_t n, h, w, c;
};

/* --- fixed-point helpers (qnpu_cpu_quant.c) --- */

/* TFLite QuantizeMultiplier(): real = mult * 2^(shift - 31). */
void qnpu_quantize_multiplier(double real, int32_t *mult, int *shift);
/* TFLite MultiplyByQuantizedMultiplier(), double rounding. */
int32_t qnpu_mul_by_quantized_multiplier(int32_t x, int32_t mult, int shift);
int32_t qnpu_saturating_rounding_doubling_high_mul(int32_t a, int32_t b);
int32_t qnpu_rounding_divide_by_pot(int32_t x, int exponent);

/* Fused activation, as TFLite's builtin enum (0 none, 1 relu, 2 relu_n1_to_1,
 * 3 relu6). Returns -EINVAL for others. */
int qnpu_cpu_act_range(int activation, float scale, int32_t zero_point,
		       int32_t *act_min, int32_t *act_max);

/* --- convolution (qnpu_cpu_conv.c, qnpu_cpu_dwconv.c) --- */

struct qnpu_cpu_conv {
	int32_t stride_h, stride_w;
	int32_t dilation_h, dilation_w;
	int32_t pad_h, pad_w;		/* top / left padding */
	int32_t depth_multiplier;	/* depthwise only */
	int32_t input_offset;		/* minus the input zero point */
	int32_t output_offset;		/* the output zero point */
	int32_t act_min, act_max;
	const int32_t *mult;		/* per output channel */
	const int32_t *shift;		/* per output channel */
};

/*
 * Effective scales to per-channel (mult, shift), as TFLite Micro's
 * PopulateConvolutionQuantizationParams: in_scale * w_scale[i] / out_scale
 * in double. nscales is 1 (per tensor, broadcast) or channels.
 */
void qnpu_cpu_conv_multipliers(float in_scale, const float *w_scale,
			       int nscales, float out_scale, int channels,
			       int32_t *mult, int32_t *shift);

/* filter shape: n = output channels, h, w = kernel, c = input channels. */
void qnpu_cpu_conv2d(const struct qnpu_cpu_conv *p,
		     const struct qnpu_cpu_shape *is, const int8_t *in,
		     const struct qnpu_cpu_shape *fs, const int8_t *filter,
		     const int32_t *bias, /* may be NULL */
		     const struct qnpu_cpu_shape *os, int8_t *out);

/* filter shape: n = 1, h, w = kernel, c = output channels. */
void qnpu_cpu_depthwise_conv2d(const struct qnpu_cpu_conv *p,
			       const struct qnpu_cpu_shape *is,
			       const int8_t *in,
			       const struct qnpu_cpu_shape *fs,
			       const int8_t *filter,
			       const int32_t *bias, /* may be NULL */
			       const struct qnpu_cpu_shape *os, int8_t *out);

/* --- fully connected (qnpu_cpu_fc.c) --- */

struct qnpu_cpu_fc {
	int32_t input_offset;	/* minus the input zero point */
	int32_t filter_offset;	/* minus the filter zero point */
	int32_t output_offset;	/* the output zero point */
	int32_t act_min, act_max;
	int per_channel;	/* mult/shift hold out_depth entries, else 1 */
	const int32_t *mult;
	const int32_t *shift;
};

/*
 * As TFLite Micro's FC prepare: in_scale * w_scale[i] / out_scale in double.
 * nscales is 1 (per tensor) or out_depth (per channel).
 */
void qnpu_cpu_fc_multipliers(float in_scale, const float *w_scale,
			     int nscales, float out_scale, int32_t *mult,
			     int32_t *shift);

/* filter is [out_depth, accum_depth]; out is [batches, out_depth]. */
void qnpu_cpu_fully_connected(const struct qnpu_cpu_fc *p, int32_t batches,
			      int32_t accum_depth, int32_t out_depth,
			      const int8_t *in, const int8_t *filter,
			      const int32_t *bias, /* may be NULL */
			      int8_t *out);

/* --- add (qnpu_cpu_add.c) --- */

struct qnpu_cpu_add {
	int32_t left_shift;
	int32_t in1_offset, in1_mult, in1_shift;
	int32_t in2_offset, in2_mult, in2_shift;
	int32_t out_offset, out_mult, out_shift;
	int32_t act_min, act_max;
};

/* As TFLite Micro's CalculateOpDataAdd for int8. */
void qnpu_cpu_add_prepare(struct qnpu_cpu_add *p, float s1, int32_t zp1,
			  float s2, int32_t zp2, float so, int32_t zpo,
			  int32_t act_min, int32_t act_max);
void qnpu_cpu_add(const struct qnpu_cpu_add *p, size_t n, const int8_t *a,
		  const int8_t *b, int8_t *out);
/* NumPy-style broadcast of 4-D shapes (dimension 1 broadcasts). */
void qnpu_cpu_add_broadcast(const struct qnpu_cpu_add *p,
			    const struct qnpu_cpu_shape *as, const int8_t *a,
			    const struct qnpu_cpu_shape *bs, const int8_t *b,
			    const struct qnpu_cpu_shape *os, int8_t *out);

/* --- pooling (qnpu_cpu_pool.c) --- */

struct qnpu_cpu_pool {
	int32_t stride_h, stride_w;
	int32_t filter_h, filter_w;
	int32_t pad_h, pad_w;
	int32_t act_min, act_max;
};

void qnpu_cpu_avg_pool(const struct qnpu_cpu_pool *p,
		       const struct qnpu_cpu_shape *is, const int8_t *in,
		       const struct qnpu_cpu_shape *os, int8_t *out);
void qnpu_cpu_max_pool(const struct qnpu_cpu_pool *p,
		       const struct qnpu_cpu_shape *is, const int8_t *in,
		       const struct qnpu_cpu_shape *os, int8_t *out);

/* --- softmax (qnpu_cpu_softmax.c) --- */

struct qnpu_cpu_softmax {
	int32_t input_multiplier;
	int32_t input_left_shift;
	int32_t diff_min;
	int32_t output_zero_point;	/* TFLite requires -128 for int8 */
};

/* As TFLite Micro's CalculateSoftmaxParams for int8 input. */
int qnpu_cpu_softmax_prepare(struct qnpu_cpu_softmax *p, float beta,
			     float input_scale, int32_t output_zero_point);
/* Softmax over the innermost dimension of depth elements. */
void qnpu_cpu_softmax(const struct qnpu_cpu_softmax *p, int32_t outer,
		      int32_t depth, const int8_t *in, int8_t *out);

/* --- (de)quantization (qnpu_cpu_quant.c) --- */

/* float -> int8 as TFLite's AffineQuantize. */
void qnpu_cpu_quantize_f32(const float *in, size_t n, float scale,
			   int32_t zero_point, int8_t *out);
/* int8 -> float as TFLite's Dequantize. */
void qnpu_cpu_dequantize_i8(const int8_t *in, size_t n, float scale,
			    int32_t zero_point, float *out);

/* int8 -> int8 QUANTIZE (requantize), as TFLite Micro's quantize kernel. */
struct qnpu_cpu_requant {
	int32_t in_zero_point, out_zero_point;
	int32_t mult, shift;
};

void qnpu_cpu_requantize_prepare(struct qnpu_cpu_requant *p, float in_scale,
				 int32_t in_zp, float out_scale,
				 int32_t out_zp);
void qnpu_cpu_requantize_i8(const struct qnpu_cpu_requant *p, size_t n,
			    const int8_t *in, int8_t *out);

#endif /* QNPU_CPU_H */
