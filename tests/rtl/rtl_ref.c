// SPDX-License-Identifier: MIT
#include "rtl_ref.h"

#include <limits.h>

static int32_t srdhm(int32_t a, int32_t b)
{
	if (a == INT32_MIN && b == INT32_MIN)
		return INT32_MAX;
	int64_t ab = (int64_t)a * b;
	int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
	return (int32_t)((ab + nudge) / (1ll << 31));
}

static int32_t rdbpot(int32_t x, int e)
{
	int32_t mask = (int32_t)((1ll << e) - 1);
	int32_t rem = x & mask;
	int32_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
	return (x >> e) + (rem > thr ? 1 : 0);
}

int32_t ref_mbqm(int32_t x, int32_t mult, int shift)
{
	int l = shift > 0 ? shift : 0, r = shift > 0 ? 0 : -shift;
	return rdbpot(srdhm((int32_t)((uint32_t)x << l), mult), r);
}

static int8_t clamp(int32_t v, int32_t lo, int32_t hi)
{
	return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

void ref_conv(const struct ref_conv *p, const int8_t *in, const int8_t *f, int8_t *out)
{
	for (int oy = 0; oy < p->oh; oy++)
		for (int ox = 0; ox < p->ow; ox++)
			for (int o = 0; o < p->oc; o++) {
				int32_t acc = 0;
				for (int ky = 0; ky < p->kh; ky++)
					for (int kx = 0; kx < p->kw; kx++) {
						int y = oy * p->sh - p->pad_t + ky * p->dh;
						int x = ox * p->sw - p->pad_l + kx * p->dw;
						if (y < 0 || y >= p->ih || x < 0 || x >= p->iw)
							continue;
						for (int i = 0; i < p->ic; i++)
							acc += (in[(y * p->iw + x) * p->ic + i] + p->in_off) *
							       f[((o * p->kh + ky) * p->kw + kx) * p->ic + i];
					}
				if (p->bias)
					acc += p->bias[o];
				acc = ref_mbqm(acc, p->mult[o], p->shift[o]) + p->out_zp;
				out[(oy * p->ow + ox) * p->oc + o] = clamp(acc, p->act_min, p->act_max);
			}
}

void ref_dwconv(const struct ref_conv *p, const int8_t *in, const int8_t *f, int8_t *out)
{
	for (int oy = 0; oy < p->oh; oy++)
		for (int ox = 0; ox < p->ow; ox++)
			for (int o = 0; o < p->oc; o++) {
				int i = o / p->dm;
				int32_t acc = 0;
				for (int ky = 0; ky < p->kh; ky++)
					for (int kx = 0; kx < p->kw; kx++) {
						int y = oy * p->sh - p->pad_t + ky * p->dh;
						int x = ox * p->sw - p->pad_l + kx * p->dw;
						if (y < 0 || y >= p->ih || x < 0 || x >= p->iw)
							continue;
						acc += (in[(y * p->iw + x) * p->ic + i] + p->in_off) *
						       f[(ky * p->kw + kx) * p->oc + o];
					}
				if (p->bias)
					acc += p->bias[o];
				acc = ref_mbqm(acc, p->mult[o], p->shift[o]) + p->out_zp;
				out[(oy * p->ow + ox) * p->oc + o] = clamp(acc, p->act_min, p->act_max);
			}
}

void ref_pool(const struct ref_conv *p, int avg, const int8_t *in, int8_t *out)
{
	for (int oy = 0; oy < p->oh; oy++)
		for (int ox = 0; ox < p->ow; ox++)
			for (int c = 0; c < p->ic; c++) {
				int32_t acc = avg ? 0 : -128, n = 0;
				for (int ky = 0; ky < p->kh; ky++)
					for (int kx = 0; kx < p->kw; kx++) {
						int y = oy * p->sh - p->pad_t + ky;
						int x = ox * p->sw - p->pad_l + kx;
						if (y < 0 || y >= p->ih || x < 0 || x >= p->iw)
							continue;
						int32_t v = in[(y * p->iw + x) * p->ic + c];
						n++;
						if (avg)
							acc += v;
						else if (v > acc)
							acc = v;
					}
				if (avg)
					acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
				out[(oy * p->ow + ox) * p->ic + c] = clamp(acc, p->act_min, p->act_max);
			}
}

void ref_add(const struct ref_add *p, int n, const int8_t *a, const int8_t *b, int8_t *out)
{
	for (int i = 0; i < n; i++) {
		int32_t x = (int32_t)((uint32_t)(a[i] + p->off_a) << p->lshift);
		int32_t y = (int32_t)((uint32_t)(b[i] + p->off_b) << p->lshift);
		int32_t s = ref_mbqm(x, p->mult_a, p->shift_a) + ref_mbqm(y, p->mult_b, p->shift_b);
		int32_t o = ref_mbqm(s, p->mult_o, p->shift_o) + p->out_zp;
		out[i] = clamp(o, p->act_min, p->act_max);
	}
}
