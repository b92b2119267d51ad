// SPDX-License-Identifier: MIT
/*
 * Requantization parameters: real scales become TFLite's (multiplier,
 * shift) pairs, offsets and activation ranges exactly as TFLite Micro's
 * prepare functions compute them. Computed once per operator; the CPU
 * kernels and the NPU compiler both take them from here.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>

#include "quant/qnpu_qparams.h"

#define QNPU_SCALED_DIFF_INT_BITS	5

/* Quantize() helper of kernel_util.cc: float division, float round. */
static int qnpu_act_quantize(float scale, int32_t zero_point, float f,
			     int32_t *q)
{
	const float tmp = roundf(f / scale);

	if (!(tmp >= (float)INT32_MIN && tmp <= (float)INT32_MAX))
		return -EINVAL;
	*q = zero_point + (int32_t)tmp;
	return 0;
}

/* CalculateActivationRangeQuantized() for int8 outputs. */
int qnpu_act_range(int activation, float scale, int32_t zero_point,
		       int32_t *act_min, int32_t *act_max)
{
	const int32_t qmin = -128, qmax = 127;
	int32_t lo = qmin, hi = qmax, q;

	switch (activation) {
	case 0:
		break;
	case 1:	/* relu */
		if (qnpu_act_quantize(scale, zero_point, 0.0f, &q))
			return -EINVAL;
		lo = q > qmin ? q : qmin;
		break;
	case 2:	/* relu_n1_to_1 */
		if (qnpu_act_quantize(scale, zero_point, -1.0f, &q))
			return -EINVAL;
		lo = q > qmin ? q : qmin;
		if (qnpu_act_quantize(scale, zero_point, 1.0f, &q))
			return -EINVAL;
		hi = q < qmax ? q : qmax;
		break;
	case 3:	/* relu6 */
		if (qnpu_act_quantize(scale, zero_point, 0.0f, &q))
			return -EINVAL;
		lo = q > qmin ? q : qmin;
		if (qnpu_act_quantize(scale, zero_point, 6.0f, &q))
			return -EINVAL;
		hi = q < qmax ? q : qmax;
		break;
	default:
		return -EINVAL;
	}
	*act_min = lo;
	*act_max = hi;
	return 0;
}

/* PrepareQuantizeReference(): in_scale / out_scale in double. */
void qnpu_requantize_prepare(struct qnpu_requant_params *p, float in_scale,
				 int32_t in_zp, float out_scale,
				 int32_t out_zp)
{
	int shift;

	qnpu_quantize_multiplier((double)in_scale / (double)out_scale,
				 &p->mult, &shift);
	p->shift = shift;
	p->in_zero_point = in_zp;
	p->out_zero_point = out_zp;
}

/*
 * PopulateConvolutionQuantizationParams(): the per-channel product is done
 * in double (unlike the legacy uint8 scalar path, which multiplies floats).
 */
void qnpu_conv_multipliers(float in_scale, const float *w_scale,
			       int nscales, float out_scale, int channels,
			       int32_t *mult, int32_t *shift)
{
	int i;

	for (i = 0; i < channels; i++) {
		const float w = nscales > 1 ? w_scale[i] : w_scale[0];
		const double eff = (double)in_scale * (double)w /
				   (double)out_scale;
		int s;

		qnpu_quantize_multiplier(eff, &mult[i], &s);
		shift[i] = s;
	}
}

/*
 * CalculateOpDataFullyConnected(). Per channel: double(in) * double(w) /
 * double(out). Per tensor it goes through GetQuantizedConvolutionMultipler,
 * which multiplies the two scales in *float* before widening to double.
 */
void qnpu_fc_multipliers(float in_scale, const float *w_scale,
			     int nscales, float out_scale, int32_t *mult,
			     int32_t *shift)
{
	int i, s;

	if (nscales <= 1) {
		const float prod = in_scale * w_scale[0];

		qnpu_quantize_multiplier((double)prod / (double)out_scale,
					 &mult[0], &s);
		shift[0] = s;
		return;
	}
	for (i = 0; i < nscales; i++) {
		const double eff = (double)in_scale * (double)w_scale[i] /
				   (double)out_scale;

		qnpu_quantize_multiplier(eff, &mult[i], &s);
		shift[i] = s;
	}
}

/* QuantizeMultiplierSmallerThanOneExp(): shift is <= 0 for m in (0, 1). */
static void qnpu_add_mult(double real, int32_t *mult, int32_t *shift)
{
	int s;

	qnpu_quantize_multiplier(real, mult, &s);
	*shift = s;
}

/*
 * CalculateOpDataAdd(): the max of the two scales is taken in float, then
 * doubled in double; all ratios are in double.
 */
void qnpu_add_prepare(struct qnpu_add_params *p, float s1, int32_t zp1,
			  float s2, int32_t zp2, float so, int32_t zpo,
			  int32_t act_min, int32_t act_max)
{
	const double twice_max = 2 * (double)(s1 > s2 ? s1 : s2);

	p->in1_offset = -zp1;
	p->in2_offset = -zp2;
	p->out_offset = zpo;
	p->left_shift = 20;
	qnpu_add_mult((double)s1 / twice_max, &p->in1_mult, &p->in1_shift);
	qnpu_add_mult((double)s2 / twice_max, &p->in2_mult, &p->in2_shift);
	qnpu_add_mult(twice_max / ((1 << p->left_shift) * (double)so),
		      &p->out_mult, &p->out_shift);
	p->act_min = act_min;
	p->act_max = act_max;
}

/* CalculateSoftmaxParams() for int8 input and int8 output. */
int qnpu_softmax_prepare(struct qnpu_softmax_params *p, float beta,
			     float input_scale, int32_t output_zero_point)
{
	const double max_real = (double)((1LL << 31) - 1);
	double real, radius;
	int32_t mult;
	int shift;

	if (output_zero_point != -128)
		return -EINVAL;
	/* PreprocessSoftmaxScaling(): all in double, capped at 2^31 - 1. */
	real = (double)beta * (double)input_scale *
	       (double)(1 << (31 - QNPU_SCALED_DIFF_INT_BITS));
	if (real > max_real)
		real = max_real;
	/* QuantizeMultiplierGreaterThanOne() checks the multiplier > 1. */
	if (!(real > 1.))
		return -EINVAL;
	qnpu_quantize_multiplier(real, &mult, &shift);
	if (shift < 0)
		return -EINVAL;
	/* CalculateInputRadius(5, shift, 31), floored in double. */
	radius = 1.0 * ((1 << QNPU_SCALED_DIFF_INT_BITS) - 1) *
		 (double)(1LL << (31 - QNPU_SCALED_DIFF_INT_BITS)) /
		 (double)(1LL << shift);
	p->input_multiplier = mult;
	p->input_left_shift = shift;
	p->diff_min = (int32_t)(-1.0 * (int)floor(radius));
	p->output_zero_point = output_zero_point;
	return 0;
}
