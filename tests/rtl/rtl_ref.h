/* SPDX-License-Identifier: MIT */
/* Reference integer kernels for the RTL tests: TFLite reference semantics,
 * written independently of the RTL (and of userspace/lib/cpu, which the
 * tests also compare against when it is present). NHWC, batch 1. */
#ifndef RTL_REF_H
#define RTL_REF_H

#include <stdint.h>

int32_t ref_mbqm(int32_t x, int32_t mult, int shift);

struct ref_conv {
	int ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pad_t, pad_l;
	int dm;			/* depthwise: depth multiplier */
	int32_t in_off, out_zp, act_min, act_max;
	const int32_t *mult, *shift, *bias;
};

/* filter [oc][kh][kw][ic] */
void ref_conv(const struct ref_conv *p, const int8_t *in, const int8_t *f, int8_t *out);
/* filter [kh][kw][oc], oc = ic * dm */
void ref_dwconv(const struct ref_conv *p, const int8_t *in, const int8_t *f, int8_t *out);
/* pooling over kh x kw; avg rounds half away from zero over the valid taps */
void ref_pool(const struct ref_conv *p, int avg, const int8_t *in, int8_t *out);

struct ref_add {
	int32_t off_a, off_b, lshift, mult_a, shift_a, mult_b, shift_b;
	int32_t mult_o, shift_o, out_zp, act_min, act_max;
};
void ref_add(const struct ref_add *p, int n, const int8_t *a, const int8_t *b, int8_t *out);

#endif
