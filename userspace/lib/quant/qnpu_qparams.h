/* SPDX-License-Identifier: MIT */
/*
 * Requantization parameters per operator kind, as TFLite Micro's prepare
 * functions compute them (qnpu_qparams.c). The CPU kernels take them as
 * their arguments; the NPU compiler lowers the same values into commands,
 * so both paths round alike. May include: quant/ only (no IR).
 */
#ifndef QNPU_QPARAMS_H
#define QNPU_QPARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "quant/qnpu_fixedpoint.h"

/* An NHWC shape; lower ranks are right-aligned (1x1x1xc). */
struct qnpu_shape4 {
	int32_t n, h, w, c;
};

/* Fused activation, as TFLite's builtin enum (0 none, 1 relu, 2 relu_n1_to_1,
 * 3 relu6). Returns -EINVAL for others. */
int qnpu_act_range(int activation, float scale, int32_t zero_point,
		       int32_t *act_min, int32_t *act_max);

/* --- convolution --- */

struct qnpu_conv_params {
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
void qnpu_conv_multipliers(float in_scale, const float *w_scale,
			       int nscales, float out_scale, int channels,
			       int32_t *mult, int32_t *shift);

/* --- fully connected --- */

struct qnpu_fc_params {
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
void qnpu_fc_multipliers(float in_scale, const float *w_scale,
			     int nscales, float out_scale, int32_t *mult,
			     int32_t *shift);

/* --- add --- */

struct qnpu_add_params {
	int32_t left_shift;
	int32_t in1_offset, in1_mult, in1_shift;
	int32_t in2_offset, in2_mult, in2_shift;
	int32_t out_offset, out_mult, out_shift;
	int32_t act_min, act_max;
};

/* As TFLite Micro's CalculateOpDataAdd for int8. */
void qnpu_add_prepare(struct qnpu_add_params *p, float s1, int32_t zp1,
			  float s2, int32_t zp2, float so, int32_t zpo,
			  int32_t act_min, int32_t act_max);

/* --- pooling --- */

struct qnpu_pool_params {
	int32_t stride_h, stride_w;
	int32_t filter_h, filter_w;
	int32_t pad_h, pad_w;
	int32_t act_min, act_max;
};

/* --- softmax --- */

struct qnpu_softmax_params {
	int32_t input_multiplier;
	int32_t input_left_shift;
	int32_t diff_min;
	int32_t output_zero_point;	/* TFLite requires -128 for int8 */
};

/* As TFLite Micro's CalculateSoftmaxParams for int8 input. */
int qnpu_softmax_prepare(struct qnpu_softmax_params *p, float beta,
			     float input_scale, int32_t output_zero_point);

/* --- int8 -> int8 QUANTIZE (requantize) --- */

struct qnpu_requant_params {
	int32_t in_zero_point, out_zero_point;
	int32_t mult, shift;
};

void qnpu_requantize_prepare(struct qnpu_requant_params *p, float in_scale,
				 int32_t in_zp, float out_scale,
				 int32_t out_zp);

#endif /* QNPU_QPARAMS_H */
