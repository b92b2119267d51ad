// SPDX-License-Identifier: MIT
/*
 * x86 kernels for the packed layers (qnpu_cpu_layer.h), ADD and the pools.
 * Each function carries its own target attribute, so the library is built
 * for baseline x86-64 and runs anywhere; qnpu_cpu_isa_select() decides
 * which of them may be called.
 *
 * Requantization is TFLite's MultiplyByQuantizedMultiplier lane by lane:
 * SaturatingRoundingDoublingHighMul as (x * m + 2^30) >> 31 in int64
 * (ties up, as gemmlowp's nudge gives; m >= 0 so it never saturates),
 * then RoundingDivideByPOT with its own rounding: double rounding, bit
 * for bit.
 */
#include <string.h>

#include "qnpu_cpu_layer.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define QNPU_AVX2 __attribute__((target("avx2,fma")))
#define QNPU_VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))
#define QNPU_INLINE static inline __attribute__((always_inline))
/*
 * The micro-kernels' pixel loops carry "#pragma GCC unroll": unrolled,
 * their accumulators live in registers; GCC otherwise interchanges the
 * loops and keeps them in memory.
 */

/* MultiplyByQuantizedMultiplier on 8 lanes with per-lane constants. */
QNPU_INLINE QNPU_AVX2 __m256i rq8(__m256i x, __m256i mult, __m256i lsh,
				  __m256i rsh, __m256i mask, __m256i half)
{
	const __m256i nudge = _mm256_set1_epi64x(1LL << 30);
	const __m256i s = _mm256_sllv_epi32(x, lsh);
	__m256i ev = _mm256_add_epi64(_mm256_mul_epi32(s, mult), nudge);
	__m256i od = _mm256_add_epi64(
		_mm256_mul_epi32(_mm256_srli_epi64(s, 32),
				 _mm256_srli_epi64(mult, 32)), nudge);
	__m256i h, rem, thr;

	/* Bits 31..62 of each product: the low dword of ev, high of od. */
	ev = _mm256_srli_epi64(ev, 31);
	od = _mm256_slli_epi64(od, 1);
	h = _mm256_blend_epi32(ev, od, 0xAA);
	/* RoundingDivideByPOT: threshold is mask / 2, plus 1 if negative. */
	rem = _mm256_and_si256(h, mask);
	thr = _mm256_sub_epi32(half, _mm256_cmpgt_epi32(_mm256_setzero_si256(),
							 h));
	return _mm256_sub_epi32(_mm256_srav_epi32(h, rsh),
				_mm256_cmpgt_epi32(rem, thr));
}

/* Requantize 8 accumulators of channels c..c+7, add zero point, clamp. */
QNPU_INLINE QNPU_AVX2 __m256i rq8_out(const struct qnpu_cpu_layer *l,
				      __m256i acc, int32_t c)
{
	const int32_t *q = l->q + c;
	const size_t cp = (size_t)l->cpad;
	__m256i v = rq8(acc,
			_mm256_load_si256((const __m256i *)(q + QNPU_Q_MULT * cp)),
			_mm256_load_si256((const __m256i *)(q + QNPU_Q_LSH * cp)),
			_mm256_load_si256((const __m256i *)(q + QNPU_Q_RSH * cp)),
			_mm256_load_si256((const __m256i *)(q + QNPU_Q_MASK * cp)),
			_mm256_load_si256((const __m256i *)(q + QNPU_Q_HALF * cp)));

	v = _mm256_add_epi32(v, _mm256_set1_epi32(l->out_off));
	v = _mm256_max_epi32(v, _mm256_set1_epi32(l->act_min));
	return _mm256_min_epi32(v, _mm256_set1_epi32(l->act_max));
}

/* 16 int32 (already in int8 range) to int8, stored for @n channels. */
QNPU_INLINE QNPU_AVX2 void store16(int8_t *dst, __m256i v0, __m256i v1,
				   int n)
{
	__m256i t = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
	__m256i u = _mm256_permute4x64_epi64(_mm256_packs_epi16(t, t), 0x08);
	int8_t tmp[16];

	if (n >= 16) {
		_mm_storeu_si128((__m128i *)dst, _mm256_castsi256_si128(u));
		return;
	}
	_mm_storeu_si128((__m128i *)tmp, _mm256_castsi256_si128(u));
	memcpy(dst, tmp, (size_t)n);
}

/* 8 int32 (already in int8 range) to int8, stored for @n channels. */
QNPU_INLINE QNPU_AVX2 void store8(int8_t *dst, __m256i v, int n)
{
	__m128i s = _mm_packs_epi32(_mm256_castsi256_si128(v),
				    _mm256_extracti128_si256(v, 1));
	int8_t tmp[16];

	s = _mm_packs_epi16(s, s);
	if (n >= 8) {
		_mm_storel_epi64((__m128i *)dst, s);
		return;
	}
	_mm_storeu_si128((__m128i *)tmp, s);
	memcpy(dst, tmp, (size_t)n);
}

/* --- the padded int16 image --- */

QNPU_AVX2 void qnpu_x86_pad_rows(void *job, int begin, int end)
{
	const struct qnpu_layer_job *j = job;
	const struct qnpu_cpu_layer *l = j->l;
	const size_t row = (size_t)l->wp * l->cp;
	const __m256i off = _mm256_set1_epi16((int16_t)l->in_off);
	int r;

	for (r = begin; r < end; r++) {
		int16_t *dst = j->buf + (size_t)r * row;
		const int32_t iy = r - l->pad_h;
		int16_t *px = dst + (size_t)l->pad_w * l->cp;
		const int8_t *src;
		int32_t x, c, k;

		if (iy < 0 || iy >= l->ih) {
			memset(dst, 0, row * sizeof(*dst));
			continue;
		}
		src = j->in + (size_t)iy * l->iw * l->ic;
		memset(dst, 0, (size_t)l->pad_w * l->cp * sizeof(*dst));
		if (l->cp == l->ic && l->dm == 1) {
			const int32_t n = l->iw * l->ic;

			for (k = 0; k + 16 <= n; k += 16) {
				__m256i v = _mm256_cvtepi8_epi16(
					_mm_loadu_si128((const __m128i *)(src + k)));

				_mm256_storeu_si256((__m256i *)(px + k),
						    _mm256_add_epi16(v, off));
			}
			for (; k < n; k++)
				px[k] = (int16_t)(src[k] + l->in_off);
		} else if (l->ic == 1 && l->oc == l->cp) {
			/* One channel, depth multiplier a multiple of 8. */
			for (x = 0; x < l->iw; x++, px += l->cp)
				for (c = 0; c < l->cp; c += 8)
					_mm_storeu_si128((__m128i *)(px + c),
						_mm_set1_epi16((int16_t)(src[x] +
							l->in_off)));
		} else {
			/* Odd conv channels, depth multiplier, dw tails. */
			for (x = 0; x < l->iw; x++, px += l->cp) {
				const int8_t *s = src + (size_t)x * l->ic;
				int16_t *d = px;
				int32_t m;

				for (c = 0; c < l->ic; c++) {
					const int16_t v = (int16_t)(s[c] +
								    l->in_off);

					for (m = 0; m < l->dm; m++)
						*d++ = v;
				}
				while (d < px + l->cp)
					*d++ = 0;
			}
		}
		px = dst + (size_t)(l->pad_w + l->iw) * l->cp;
		memset(px, 0, (size_t)(dst + row - px) * sizeof(*dst));
	}
}

/* The u8 image: x + 128, padding 128 + zp; the largest pair sum per row. */
QNPU_AVX2 void qnpu_x86_pad_rows_u8(void *job, int begin, int end)
{
	const struct qnpu_layer_job *j = job;
	const struct qnpu_cpu_layer *l = j->l;
	const size_t row = (size_t)l->wp * l->cq;
	const int pad = 128 - l->in_off;
	const __m256i flip = _mm256_set1_epi8((char)0x80);
	const __m256i ones = _mm256_set1_epi8(1);
	int r;

	for (r = begin; r < end; r++) {
		uint8_t *dst = j->buf8 + (size_t)r * row;
		const int32_t iy = r - l->pad_h;
		const int8_t *src = j->in;
		uint8_t *px = dst + (size_t)l->pad_w * l->cq;
		__m256i mx = _mm256_setzero_si256();
		int16_t lanes[16];
		int32_t x, c, k, best = 0;
		size_t i;

		if (iy < 0 || iy >= l->ih) {
			memset(dst, pad, row);
		} else {
			src += (size_t)iy * l->iw * l->ic;
			memset(dst, pad, (size_t)l->pad_w * l->cq);
			if (l->cq == l->ic) {
				const int32_t n = l->iw * l->ic;

				for (k = 0; k + 32 <= n; k += 32)
					_mm256_storeu_si256((__m256i *)(px + k),
						_mm256_xor_si256(flip,
						_mm256_loadu_si256(
						(const __m256i *)(src + k))));
				for (; k < n; k++)
					px[k] = (uint8_t)(src[k] + 128);
			} else {
				for (x = 0; x < l->iw; x++, px += l->cq) {
					const int8_t *s = src + (size_t)x * l->ic;

					for (c = 0; c < l->ic; c++)
						px[c] = (uint8_t)(s[c] + 128);
					for (; c < l->cq; c++)
						px[c] = 0;
				}
			}
			px = dst + (size_t)(l->pad_w + l->iw) * l->cq;
			memset(px, pad, (size_t)(dst + row - px));
		}
		/* Pair sums (cq is a multiple of 4: pairs never straddle). */
		for (i = 0; i + 32 <= row; i += 32)
			mx = _mm256_max_epi16(mx, _mm256_maddubs_epi16(
				_mm256_loadu_si256((const __m256i *)(dst + i)),
				ones));
		_mm256_storeu_si256((__m256i *)lanes, mx);
		for (k = 0; k < 16; k++)
			best = lanes[k] > best ? lanes[k] : best;
		for (; i < row; i += 2)
			best = dst[i] + dst[i + 1] > best ? dst[i] + dst[i + 1] :
			       best;
		j->row_max[r] = best;
	}
}

/* --- convolution: MR pixels x 16 channels per call --- */

QNPU_INLINE QNPU_AVX2 void conv_block_avx2(const struct qnpu_cpu_layer *l,
					   const int16_t *buf,
					   const int32_t *base,
					   int8_t *const *dst, int32_t ob,
					   const int mr)
{
	const int16_t *w = l->w + (size_t)ob * l->kpairs * QNPU_CONV_NR * 2;
	const int32_t c0 = ob * QNPU_CONV_NR;
	const int32_t *bias = l->q + QNPU_Q_BIAS * (size_t)l->cpad + c0;
	const int nvalid = l->oc - c0;
	__m256i a0[QNPU_CONV_MR], a1[QNPU_CONV_MR];
	int32_t r, k;
	int i;

	#pragma GCC unroll 8
	for (i = 0; i < mr; i++) {
		a0[i] = _mm256_load_si256((const __m256i *)bias);
		a1[i] = _mm256_load_si256((const __m256i *)(bias + 8));
	}
	for (r = 0; r < l->nruns; r++) {
		const int16_t *x[QNPU_CONV_MR];

		#pragma GCC unroll 8
		for (i = 0; i < mr; i++)
			x[i] = buf + base[i] + l->run_off[r];
		for (k = 0; k < l->runlen; k += 2, w += 2 * QNPU_CONV_NR) {
			__m256i w0 = _mm256_load_si256((const __m256i *)w);
			__m256i w1 = _mm256_load_si256(
				(const __m256i *)(w + 16));

			__asm__("" : "+x"(w0), "+x"(w1));

			#pragma GCC unroll 8
			for (i = 0; i < mr; i++) {
				int32_t pair;
				__m256i v;

				memcpy(&pair, x[i] + k, sizeof(pair));
				v = _mm256_set1_epi32(pair);
				a0[i] = _mm256_add_epi32(a0[i],
							 _mm256_madd_epi16(v, w0));
				a1[i] = _mm256_add_epi32(a1[i],
							 _mm256_madd_epi16(v, w1));
			}
		}
	}
	#pragma GCC unroll 8
	for (i = 0; i < mr; i++)
		store16(dst[i], rq8_out(l, a0[i], c0), rq8_out(l, a1[i], c0 + 8),
			nvalid);
}

/* Where output pixel @p reads (int16 offset) and writes. */
static inline void conv_pixel(const struct qnpu_layer_job *j, int p,
			      int32_t ob, int32_t *base, int8_t **dst)
{
	const struct qnpu_cpu_layer *l = j->l;
	const int32_t oy = p / l->ow, ox = p % l->ow;

	*base = (oy * l->sh * l->wp + ox * l->sw) * l->cp;
	*dst = j->out + (size_t)p * l->oc + ob * QNPU_CONV_NR;
}

QNPU_AVX2 void qnpu_avx2_conv_tasks(void *job, int begin, int end)
{
	const struct qnpu_layer_job *j = job;
	const struct qnpu_cpu_layer *l = j->l;
	const int pixels = l->oh * l->ow;
	int t, i;

	for (t = begin; t < end; t++) {
		const int32_t ob = t / j->ntiles;
		const int p0 = (t % j->ntiles) * QNPU_CONV_MR;
		const int mr = pixels - p0 < QNPU_CONV_MR ? pixels - p0 :
			       QNPU_CONV_MR;
		int32_t base[QNPU_CONV_MR] = { 0 };
		int8_t *dst[QNPU_CONV_MR] = { NULL };

		#pragma GCC unroll 8
		for (i = 0; i < mr; i++)
			conv_pixel(j, p0 + i, ob, &base[i], &dst[i]);
		/* A constant mr lets the compiler keep accumulators in registers. */
		switch (mr) {
		case 4:
			conv_block_avx2(l, j->buf, base, dst, ob, 4);
			break;
		case 3:
			conv_block_avx2(l, j->buf, base, dst, ob, 3);
			break;
		case 2:
			conv_block_avx2(l, j->buf, base, dst, ob, 2);
			break;
		default:
			conv_block_avx2(l, j->buf, base, dst, ob, 1);
			break;
		}
	}
}

/*
 * The u8 path: per four reduction steps and pixel, one broadcast,
 * vpmaddubsw (pairs, exact below u8_limit) and vpmaddwd by 1 (quads).
 */
QNPU_INLINE QNPU_AVX2 void conv_u8_block_avx2(const struct qnpu_cpu_layer *l,
					      const uint8_t *buf,
					      const int32_t *base,
					      int8_t *const *dst, int32_t ob,
					      const int mr)
{
	const int8_t *w = l->wq + (size_t)ob * l->kquads * QNPU_CONV_NR * 4;
	const int32_t c0 = ob * QNPU_CONV_NR;
	const int32_t *bias = l->q + QNPU_Q_BIAS_U8 * (size_t)l->cpad + c0;
	const __m256i ones = _mm256_set1_epi16(1);
	const int nvalid = l->oc - c0;
	__m256i a0[QNPU_CONV_MR], a1[QNPU_CONV_MR];
	int32_t r, k;
	int i;

	#pragma GCC unroll 8
	for (i = 0; i < mr; i++) {
		a0[i] = _mm256_load_si256((const __m256i *)bias);
		a1[i] = _mm256_load_si256((const __m256i *)(bias + 8));
	}
	for (r = 0; r < l->nruns; r++) {
		const uint8_t *x[QNPU_CONV_MR];

		#pragma GCC unroll 8
		for (i = 0; i < mr; i++)
			x[i] = buf + base[i] + l->run_off8[r];
		for (k = 0; k < l->qlen; k += 4, w += 4 * QNPU_CONV_NR) {
			__m256i w0 = _mm256_load_si256((const __m256i *)w);
			__m256i w1 = _mm256_load_si256(
				(const __m256i *)(w + 32));

			/* In registers: a folded 256-bit load per use costs Zen. */
			__asm__("" : "+x"(w0), "+x"(w1));

			#pragma GCC unroll 8
			for (i = 0; i < mr; i++) {
				int32_t quad;
				__m256i v;

				memcpy(&quad, x[i] + k, sizeof(quad));
				v = _mm256_set1_epi32(quad);
				const __m256i t1 = _mm256_maddubs_epi16(v, w1);

				a0[i] = _mm256_add_epi32(a0[i], _mm256_madd_epi16(
					_mm256_maddubs_epi16(v, w0), ones));
				/*
				 * The other half widens by shifts: Zen runs
				 * vpmaddubsw and vpmaddwd on one pipe only.
				 */
				a1[i] = _mm256_add_epi32(a1[i], _mm256_add_epi32(
					_mm256_srai_epi32(t1, 16),
					_mm256_srai_epi32(_mm256_slli_epi32(t1, 16),
							  16)));
			}
		}
	}
	#pragma GCC unroll 8
	for (i = 0; i < mr; i++)
		store16(dst[i], rq8_out(l, a0[i], c0), rq8_out(l, a1[i], c0 + 8),
			nvalid);
}

QNPU_AVX2 void qnpu_avx2_conv_u8_tasks(void *job, int begin, int end)
{
	const struct qnpu_layer_job *j = job;
	const struct qnpu_cpu_layer *l = j->l;
	const int pixels = l->oh * l->ow;
	int t, i;

	for (t = begin; t < end; t++) {
		const int32_t ob = t / j->ntiles;
		const int p0 = (t % j->ntiles) * QNPU_CONV_MR;
		const int mr = pixels - p0 < QNPU_CONV_MR ? pixels - p0 :
			       QNPU_CONV_MR;
		int32_t base[QNPU_CONV_MR] = { 0 };
		int8_t *dst[QNPU_CONV_MR] = { NULL };

		#pragma GCC unroll 8
		for (i = 0; i < mr; i++) {
			conv_pixel(j, p0 + i, ob, &base[i], &dst[i]);
			base[i] = base[i] / l->cp * l->cq;
		}
		switch (mr) {
		case 4:
			conv_u8_block_avx2(l, j->buf8, base, dst, ob, 4);
			break;
		case 3:
			conv_u8_block_avx2(l, j->buf8, base, dst, ob, 3);
			break;
		case 2:
			conv_u8_block_avx2(l, j->buf8, base, dst, ob, 2);
			break;
		default:
			conv_u8_block_avx2(l, j->buf8, base, dst, ob, 1);
			break;
		}
	}
}

/* --- depthwise: one output pixel, 8 channels per vector --- */

QNPU_AVX2 void qnpu_avx2_dw_tasks(void *job, int begin, int end)
{
	const struct qnpu_layer_job *j = job;
	const struct qnpu_cpu_layer *l = j->l;
	const int32_t *bias = l->q + QNPU_Q_BIAS * (size_t)l->cpad;
	int p;

	for (p = begin; p < end; p++) {
		const int32_t oy = p / l->ow, ox = p % l->ow;
		const int16_t *px = j->buf + (oy * l->sh * l->wp +
					      ox * l->sw) * l->cp;
		int8_t *dst = j->out + (size_t)p * l->oc;
		int32_t ob, t;

		for (ob = 0; ob < l->nob; ob++) {
			const int32_t c0 = ob * QNPU_DW_NR;
			__m256i acc = _mm256_load_si256(
				(const __m256i *)(bias + c0));

			for (t = 0; t < l->ntaps; t++) {
				/* Zero-extended: the weight's high half is 0. */
				const __m256i x = _mm256_cvtepu16_epi32(
					_mm_loadu_si128((const __m128i *)(
						px + l->run_off[t] + c0)));
				const __m256i w = _mm256_load_si256(
					(const __m256i *)(l->w32 +
							  (size_t)t * l->cp + c0));

				acc = _mm256_add_epi32(acc,
						       _mm256_madd_epi16(x, w));
			}
			store8(dst + c0, rq8_out(l, acc, c0), l->oc - c0);
		}
	}
}

/* --- AVX-512 VNNI: 8 pixels x 16 channels, vpdpwssd accumulates --- */

QNPU_INLINE QNPU_VNNI void conv_block_vnni(const struct qnpu_cpu_layer *l,
					   const int16_t *buf,
					   const int32_t *base,
					   int8_t *const *dst, int32_t ob,
					   const int mr)
{
	const int16_t *w = l->w + (size_t)ob * l->kpairs * QNPU_CONV_NR * 2;
	const int32_t c0 = ob * QNPU_CONV_NR;
	const int32_t *bias = l->q + QNPU_Q_BIAS * (size_t)l->cpad + c0;
	const int nvalid = l->oc - c0;
	__m512i a[QNPU_VNNI_MR];
	int32_t r, k;
	int i;

	#pragma GCC unroll 8
	for (i = 0; i < mr; i++)
		a[i] = _mm512_load_si512((const void *)bias);
	for (r = 0; r < l->nruns; r++) {
		const int16_t *x[QNPU_VNNI_MR];

		#pragma GCC unroll 8
		for (i = 0; i < mr; i++)
			x[i] = buf + base[i] + l->run_off[r];
		for (k = 0; k < l->runlen; k += 2, w += 2 * QNPU_CONV_NR) {
			const __m512i w0 = _mm512_load_si512((const void *)w);

			#pragma GCC unroll 8
			for (i = 0; i < mr; i++) {
				int32_t pair;

				memcpy(&pair, x[i] + k, sizeof(pair));
				a[i] = _mm512_dpwssd_epi32(a[i],
							   _mm512_set1_epi32(pair),
							   w0);
			}
		}
	}
	/* Requantization is the AVX2 one on each half: exactly the same. */
	#pragma GCC unroll 8
	for (i = 0; i < mr; i++)
		store16(dst[i],
			rq8_out(l, _mm512_castsi512_si256(a[i]), c0),
			rq8_out(l, _mm512_extracti64x4_epi64(a[i], 1), c0 + 8),
			nvalid);
}

QNPU_VNNI void qnpu_vnni_conv_tasks(void *job, int begin, int end)
{
	const struct qnpu_layer_job *j = job;
	const struct qnpu_cpu_layer *l = j->l;
	const int pixels = l->oh * l->ow;
	int t, i;

	for (t = begin; t < end; t++) {
		const int32_t ob = t / j->ntiles;
		const int p0 = (t % j->ntiles) * QNPU_VNNI_MR;
		const int mr = pixels - p0 < QNPU_VNNI_MR ? pixels - p0 :
			       QNPU_VNNI_MR;
		int32_t base[QNPU_VNNI_MR] = { 0 };
		int8_t *dst[QNPU_VNNI_MR] = { NULL };

		#pragma GCC unroll 8
		for (i = 0; i < mr; i++)
			conv_pixel(j, p0 + i, ob, &base[i], &dst[i]);
		switch (mr) {
		case 8:
			conv_block_vnni(l, j->buf, base, dst, ob, 8);
			break;
		case 7:
			conv_block_vnni(l, j->buf, base, dst, ob, 7);
			break;
		case 6:
			conv_block_vnni(l, j->buf, base, dst, ob, 6);
			break;
		case 5:
			conv_block_vnni(l, j->buf, base, dst, ob, 5);
			break;
		case 4:
			conv_block_vnni(l, j->buf, base, dst, ob, 4);
			break;
		case 3:
			conv_block_vnni(l, j->buf, base, dst, ob, 3);
			break;
		case 2:
			conv_block_vnni(l, j->buf, base, dst, ob, 2);
			break;
		default:
			conv_block_vnni(l, j->buf, base, dst, ob, 1);
			break;
		}
	}
}

/* vpdpbusd: four u8 x s8 products into int32, never saturating. */
QNPU_INLINE QNPU_VNNI void conv_u8_block_vnni(const struct qnpu_cpu_layer *l,
					      const uint8_t *buf,
					      const int32_t *base,
					      int8_t *const *dst, int32_t ob,
					      const int mr)
{
	const int8_t *w = l->wq + (size_t)ob * l->kquads * QNPU_CONV_NR * 4;
	const int32_t c0 = ob * QNPU_CONV_NR;
	const int32_t *bias = l->q + QNPU_Q_BIAS_U8 * (size_t)l->cpad + c0;
	const int nvalid = l->oc - c0;
	__m512i a[QNPU_VNNI_MR];
	int32_t r, k;
	int i;

	#pragma GCC unroll 8
	for (i = 0; i < mr; i++)
		a[i] = _mm512_load_si512((const void *)bias);
	for (r = 0; r < l->nruns; r++) {
		const uint8_t *x[QNPU_VNNI_MR];

		#pragma GCC unroll 8
		for (i = 0; i < mr; i++)
			x[i] = buf + base[i] + l->run_off8[r];
		for (k = 0; k < l->qlen; k += 4, w += 4 * QNPU_CONV_NR) {
			const __m512i w0 = _mm512_load_si512((const void *)w);

			#pragma GCC unroll 8
			for (i = 0; i < mr; i++) {
				int32_t quad;

				memcpy(&quad, x[i] + k, sizeof(quad));
				a[i] = _mm512_dpbusd_epi32(a[i],
							   _mm512_set1_epi32(quad),
							   w0);
			}
		}
	}
	#pragma GCC unroll 8
	for (i = 0; i < mr; i++)
		store16(dst[i],
			rq8_out(l, _mm512_castsi512_si256(a[i]), c0),
			rq8_out(l, _mm512_extracti64x4_epi64(a[i], 1), c0 + 8),
			nvalid);
}

QNPU_VNNI void qnpu_vnni_conv_u8_tasks(void *job, int begin, int end)
{
	const struct qnpu_layer_job *j = job;
	const struct qnpu_cpu_layer *l = j->l;
	const int pixels = l->oh * l->ow;
	int t, i;

	for (t = begin; t < end; t++) {
		const int32_t ob = t / j->ntiles;
		const int p0 = (t % j->ntiles) * QNPU_VNNI_MR;
		const int mr = pixels - p0 < QNPU_VNNI_MR ? pixels - p0 :
			       QNPU_VNNI_MR;
		int32_t base[QNPU_VNNI_MR] = { 0 };
		int8_t *dst[QNPU_VNNI_MR] = { NULL };

		#pragma GCC unroll 8
		for (i = 0; i < mr; i++) {
			conv_pixel(j, p0 + i, ob, &base[i], &dst[i]);
			base[i] = base[i] / l->cp * l->cq;
		}
		switch (mr) {
		case 8:
			conv_u8_block_vnni(l, j->buf8, base, dst, ob, 8);
			break;
		case 7:
			conv_u8_block_vnni(l, j->buf8, base, dst, ob, 7);
			break;
		case 6:
			conv_u8_block_vnni(l, j->buf8, base, dst, ob, 6);
			break;
		case 5:
			conv_u8_block_vnni(l, j->buf8, base, dst, ob, 5);
			break;
		case 4:
			conv_u8_block_vnni(l, j->buf8, base, dst, ob, 4);
			break;
		case 3:
			conv_u8_block_vnni(l, j->buf8, base, dst, ob, 3);
			break;
		case 2:
			conv_u8_block_vnni(l, j->buf8, base, dst, ob, 2);
			break;
		default:
			conv_u8_block_vnni(l, j->buf8, base, dst, ob, 1);
			break;
		}
	}
}

/* --- pools: one output pixel per task, 8 channels per vector --- */

struct pool_win {
	int32_t ys, ye, xs, xe;		/* clipped window in the image */
	const int8_t *img;
	int8_t *o;
};

static inline void pool_window(const struct qnpu_pool_params *p,
			       const struct qnpu_shape4 *is,
			       const int8_t *in,
			       const struct qnpu_shape4 *os, int8_t *out,
			       int pix, struct pool_win *w)
{
	const int32_t b = pix / (os->h * os->w);
	const int32_t oy = pix / os->w % os->h, ox = pix % os->w;
	const int32_t y0 = oy * p->stride_h - p->pad_h;
	const int32_t x0 = ox * p->stride_w - p->pad_w;

	w->ys = y0 > 0 ? y0 : 0;
	w->ye = y0 + p->filter_h < is->h ? y0 + p->filter_h : is->h;
	w->xs = x0 > 0 ? x0 : 0;
	w->xe = x0 + p->filter_w < is->w ? x0 + p->filter_w : is->w;
	w->img = in + (size_t)b * is->h * is->w * is->c;
	w->o = out + (size_t)pix * os->c;
}

QNPU_AVX2 void qnpu_avx2_avg_pool(const struct qnpu_pool_params *p,
				  const struct qnpu_shape4 *is,
				  const int8_t *in,
				  const struct qnpu_shape4 *os, int8_t *out,
				  int begin, int end)
{
	const int32_t depth = os->c;
	int pix;

	for (pix = begin; pix < end; pix++) {
		struct pool_win w;
		int32_t count, c, y, x;
		__m256d dc;

		pool_window(p, is, in, os, out, pix, &w);
		count = (w.ye > w.ys ? w.ye - w.ys : 0) *
			(w.xe > w.xs ? w.xe - w.xs : 0);
		dc = _mm256_set1_pd((double)count);
		for (c = 0; c < depth; c += 8) {
			const int n = depth - c < 8 ? depth - c : 8;
			__m256i acc = _mm256_setzero_si256(), half, num, q;
			__m128i lo, hi;

			for (y = w.ys; y < w.ye; y++) {
				for (x = w.xs; x < w.xe; x++) {
					const int8_t *ip = w.img +
						((size_t)y * is->w + x) *
						is->c + c;
					int8_t v[8] = { 0 };

					memcpy(v, ip, (size_t)n);
					acc = _mm256_add_epi32(acc,
						_mm256_cvtepi8_epi32(
						_mm_loadl_epi64((const __m128i *)v)));
				}
			}
			if (!count) {
				acc = _mm256_setzero_si256();
			} else {
				/*
				 * (acc +- count/2) / count, truncating: the
				 * double quotient of two int32 is never
				 * rounded across an integer.
				 */
				half = _mm256_set1_epi32(count / 2);
				num = _mm256_blendv_epi8(
					_mm256_sub_epi32(acc, half),
					_mm256_add_epi32(acc, half),
					_mm256_cmpgt_epi32(acc,
						_mm256_setzero_si256()));
				lo = _mm256_cvttpd_epi32(_mm256_div_pd(
					_mm256_cvtepi32_pd(
						_mm256_castsi256_si128(num)), dc));
				hi = _mm256_cvttpd_epi32(_mm256_div_pd(
					_mm256_cvtepi32_pd(
						_mm256_extracti128_si256(num, 1)),
					dc));
				q = _mm256_set_m128i(hi, lo);
				acc = q;
			}
			acc = _mm256_max_epi32(acc, _mm256_set1_epi32(p->act_min));
			acc = _mm256_min_epi32(acc, _mm256_set1_epi32(p->act_max));
			store8(w.o + c, acc, n);
		}
	}
}

QNPU_AVX2 void qnpu_avx2_max_pool(const struct qnpu_pool_params *p,
				  const struct qnpu_shape4 *is,
				  const int8_t *in,
				  const struct qnpu_shape4 *os, int8_t *out,
				  int begin, int end)
{
	const int32_t depth = os->c;
	int pix;

	for (pix = begin; pix < end; pix++) {
		struct pool_win w;
		int32_t c, y, x;

		pool_window(p, is, in, os, out, pix, &w);
		for (c = 0; c < depth; c += 16) {
			const int n = depth - c < 16 ? depth - c : 16;
			__m128i m = _mm_set1_epi8(-128);
			int8_t tmp[16];

			for (y = w.ys; y < w.ye; y++) {
				for (x = w.xs; x < w.xe; x++) {
					const int8_t *ip = w.img +
						((size_t)y * is->w + x) *
						is->c + c;
					int8_t v[16];

					memset(v, -128, sizeof(v));
					memcpy(v, ip, (size_t)n);
					m = _mm_max_epi8(m, _mm_loadu_si128(
						(const __m128i *)v));
				}
			}
			m = _mm_max_epi8(m, _mm_set1_epi8((int8_t)p->act_min));
			m = _mm_min_epi8(m, _mm_set1_epi8((int8_t)p->act_max));
			_mm_storeu_si128((__m128i *)tmp, m);
			memcpy(w.o + c, tmp, (size_t)n);
		}
	}
}

#else /* !__x86_64__: qnpu_cpu_isa_supported() only allows SCALAR. */

void qnpu_x86_pad_rows(void *job, int begin, int end)
{
	(void)job, (void)begin, (void)end;
}
void qnpu_avx2_conv_tasks(void *job, int begin, int end)
{
	(void)job, (void)begin, (void)end;
}
void qnpu_avx2_dw_tasks(void *job, int begin, int end)
{
	(void)job, (void)begin, (void)end;
}
void qnpu_vnni_conv_tasks(void *job, int begin, int end)
{
	(void)job, (void)begin, (void)end;
}
void qnpu_x86_pad_rows_u8(void *job, int begin, int end)
{
	(void)job, (void)begin, (void)end;
}
void qnpu_avx2_conv_u8_tasks(void *job, int begin, int end)
{
	(void)job, (void)begin, (void)end;
}
void qnpu_vnni_conv_u8_tasks(void *job, int begin, int end)
{
	(void)job, (void)begin, (void)end;
}
void qnpu_avx2_avg_pool(const struct qnpu_pool_params *p,
			const struct qnpu_shape4 *is, const int8_t *in,
			const struct qnpu_shape4 *os, int8_t *out,
			int begin, int end)
{
	(void)p, (void)is, (void)in, (void)os, (void)out, (void)begin,
	(void)end;
}
void qnpu_avx2_max_pool(const struct qnpu_pool_params *p,
			const struct qnpu_shape4 *is, const int8_t *in,
			const struct qnpu_shape4 *os, int8_t *out,
			int begin, int end)
{
	(void)p, (void)is, (void)in, (void)os, (void)out, (void)begin,
	(void)end;
}
#endif
