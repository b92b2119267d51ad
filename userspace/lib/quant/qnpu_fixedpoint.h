/* SPDX-License-Identifier: MIT */
/*
 * TFLite's fixed-point arithmetic (gemmlowp, double rounding), shared by
 * the CPU kernels, the parameter computation and the NPU tests' reference.
 * Shift convention is TFLite's: a positive shift is a left shift.
 * Includes nothing of libqnpu.
 */
#ifndef QNPU_FIXEDPOINT_H
#define QNPU_FIXEDPOINT_H

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

/* TFLite QuantizeMultiplier(): real = mult * 2^(shift - 31). */
void qnpu_quantize_multiplier(double real, int32_t *mult, int *shift);
/* TFLite MultiplyByQuantizedMultiplier(), double rounding. */
int32_t qnpu_mul_by_quantized_multiplier(int32_t x, int32_t mult, int shift);
int32_t qnpu_saturating_rounding_doubling_high_mul(int32_t a, int32_t b);
int32_t qnpu_rounding_divide_by_pot(int32_t x, int exponent);

#endif /* QNPU_FIXEDPOINT_H */
