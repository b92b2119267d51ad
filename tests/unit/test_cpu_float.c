// SPDX-License-Identifier: MIT
/*
 * The float32 kernels against straightforward re-computations on random
 * shapes (padding, strides, dilation, depth multiplier, channel counts
 * around the vector blocks, dead channels with weights ~1e-16):
 * - bit for bit against a naive float loop in TFLite's reference order
 *   (conv: ky, kx, ic, bias last), which the kernels promise to keep;
 * - within a relative bound of the same sum in double;
 * - the vectorized conv path (re-laid-out filter) equals the plain one.
 * Where the compiler may contract a * b + c into a fused multiply-add
 * (__FP_FAST_FMAF), the bit-exact checks become the double bound only.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qnpu_cpu.h"

#define QNPU_UNIT_SEED 0xF10A7u
#include "qnpu_unit.h"

#ifdef __FP_FAST_FMAF
#define EXACT 0
#else
#define EXACT 1
#endif

static const float act_lo[] = { -FLT_MAX, 0.0f, -1.0f, 0.0f };
static const float act_hi[] = { FLT_MAX, FLT_MAX, 1.0f, 6.0f };

static float rndf(float lo, float hi)
{
	return lo + (hi - lo) * (float)(xorshift() & 0xffffff) / 16777215.0f;
}

static float *rnd_array(size_t n, float lo, float hi)
{
	float *a = malloc((n ? n : 1) * sizeof(float));
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = rndf(lo, hi);
	return a;
}

static float clampf(float v, float lo, float hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/*
 * One output: the float sum in reference order against the kernel's (bit
 * for bit), and the double sum (within a bound relative to sum |terms|).
 */
static void check(float got, float ref_f, double ref_d, double mag, float lo,
		  float hi)
{
	double want = fmin(fmax(ref_d, lo), hi);

	if (EXACT && memcmp(&got, &ref_f, sizeof(got)))
		fail_msg("got %.9g, reference order gives %.9g", (double)got,
			 (double)ref_f);
	if (fabs((double)got - want) > 1e-5 * mag + 1e-30)
		fail_msg("got %.9g, double sum %.9g (magnitude %g)",
			 (double)got, want, mag);
}

/* Output extent that makes windows hang off both edges at times. */
static int32_t out_extent(int32_t in, int32_t pad, int32_t stride)
{
	return rnd(1, (in + pad) / stride + 1);
}

static void conv_case(int dw, int dm)
{
	struct qnpu_shape4 is, fs, os;
	struct qnpu_conv_params p;
	float *in, *f, *ft, *bias, *out, *out2;
	int act = rnd(0, 3), with_bias = rnd(0, 3) != 0;
	int32_t b, y, x, o, ky, kx, i, dead;
	size_t nin, nf, nout, k, t, taps;

	memset(&p, 0, sizeof(p));
	is.n = rnd(1, 2);
	is.h = rnd(1, 9);
	is.w = rnd(1, 9);
	is.c = dw ? rnd(1, 20) : rnd(1, 9);
	fs.h = rnd(1, 4);
	fs.w = rnd(1, 4);
	if (dw) {
		fs.n = 1;
		fs.c = is.c * dm;
	} else {
		fs.n = rnd(1, 40);
		fs.c = is.c;
	}
	p.stride_h = rnd(1, 3);
	p.stride_w = rnd(1, 3);
	p.dilation_h = rnd(1, 2);
	p.dilation_w = rnd(1, 2);
	p.pad_h = rnd(0, p.dilation_h * (fs.h - 1));
	p.pad_w = rnd(0, p.dilation_w * (fs.w - 1));
	p.depth_multiplier = dm;
	os.n = is.n;
	os.c = dw ? fs.c : fs.n;
	os.h = out_extent(is.h, p.pad_h, p.stride_h);
	os.w = out_extent(is.w, p.pad_w, p.stride_w);
	nin = (size_t)is.n * is.h * is.w * is.c;
	nf = (size_t)fs.n * fs.h * fs.w * fs.c;
	nout = (size_t)os.n * os.h * os.w * os.c;
	in = rnd_array(nin, -3.0f, 3.0f);
	f = rnd_array(nf, -1.0f, 1.0f);
	bias = rnd_array((size_t)os.c, -2.0f, 2.0f);
	out = malloc(nout * sizeof(float));
	out2 = malloc(nout * sizeof(float));
	/* A dead channel: weights of order 1e-16, as real models carry. */
	dead = rnd(0, os.c - 1);
	taps = (size_t)fs.h * fs.w * (dw ? 1 : fs.c);
	for (k = 0; k < taps; k++)
		f[dw ? k * fs.c + dead : dead * taps + k] *= 1e-16f;

	if (dw) {
		qnpu_cpu_depthwise_conv2d_f32(&p, act_lo[act], act_hi[act], &is,
					      in, &fs, f,
					      with_bias ? bias : NULL, &os,
					      out);
	} else {
		/* [kh][kw][ic][oc], as quant/ lays a constant filter out. */
		ft = malloc(nf * sizeof(float));
		for (o = 0; o < fs.n; o++)
			for (t = 0; t < taps; t++)
				ft[t * fs.n + o] = f[o * taps + t];
		qnpu_cpu_conv2d_f32(&p, act_lo[act], act_hi[act], &is, in,
				    &fs, f, ft, with_bias ? bias : NULL, &os,
				    out);
		qnpu_cpu_conv2d_f32(&p, act_lo[act], act_hi[act], &is, in,
				    &fs, f, NULL, with_bias ? bias : NULL, &os,
				    out2);
		if (EXACT)
			assert_memory_equal(out, out2, nout * sizeof(float));
		free(ft);
	}

	for (b = 0; b < os.n; b++)
	for (y = 0; y < os.h; y++)
	for (x = 0; x < os.w; x++)
	for (o = 0; o < os.c; o++) {
		float sf = 0.0f;
		double sd = 0.0, mag = 0.0;

		for (ky = 0; ky < fs.h; ky++)
		for (kx = 0; kx < fs.w; kx++) {
			int32_t iy = y * p.stride_h - p.pad_h + ky * p.dilation_h;
			int32_t ix = x * p.stride_w - p.pad_w + kx * p.dilation_w;
			int32_t i0 = dw ? o / dm : 0, i1 = dw ? i0 + 1 : is.c;

			if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w)
				continue;
			for (i = i0; i < i1; i++) {
				float xv = in[((b * is.h + iy) * is.w + ix) *
					      is.c + i];
				float wv = dw ? f[(ky * fs.w + kx) * fs.c + o] :
					   f[((o * fs.h + ky) * fs.w + kx) *
					     fs.c + i];

				sf += xv * wv;
				sd += (double)xv * wv;
				mag += fabs((double)xv * wv);
			}
		}
		if (with_bias) {
			sf += bias[o];
			sd += bias[o];
			mag += fabs(bias[o]);
		}
		check(out[((b * os.h + y) * os.w + x) * os.c + o],
		      clampf(sf, act_lo[act], act_hi[act]), sd, mag,
		      act_lo[act], act_hi[act]);
	}
	free(in);
	free(f);
	free(bias);
	free(out);
	free(out2);
}

static void test_conv(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 400; i++)
		conv_case(0, 1);
}

static void test_dwconv(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 400; i++)
		conv_case(1, i % 3 + 1);
}

static void test_fc(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		int32_t nb = rnd(1, 3), depth = rnd(1, 100), od = rnd(1, 30);
		int act = rnd(0, 3), with_bias = i % 3 != 0, bb, o, d;
		float *x = rnd_array((size_t)nb * depth, -5.0f, 5.0f);
		float *w = rnd_array((size_t)od * depth, -1.0f, 1.0f);
		float *bias = rnd_array((size_t)od, -1.0f, 1.0f);
		float *out = malloc((size_t)nb * od * sizeof(float));

		for (d = 0; d < depth; d++)	/* a dead output */
			w[d] *= 1e-16f;
		qnpu_cpu_fully_connected_f32(act_lo[act], act_hi[act], nb,
					     depth, od, x, w,
					     with_bias ? bias : NULL, out);
		for (bb = 0; bb < nb; bb++)
			for (o = 0; o < od; o++) {
				float sf = 0.0f;
				double sd = 0.0, mag = 0.0;

				for (d = 0; d < depth; d++) {
					float p = x[bb * depth + d] *
						  w[o * depth + d];

					sf += p;
					sd += (double)x[bb * depth + d] *
					      w[o * depth + d];
					mag += fabs((double)p);
				}
				if (with_bias) {
					sf += bias[o];
					sd += bias[o];
					mag += fabs(bias[o]);
				}
				check(out[bb * od + o],
				      clampf(sf, act_lo[act], act_hi[act]), sd,
				      mag, act_lo[act], act_hi[act]);
			}
		free(x);
		free(w);
		free(bias);
		free(out);
	}
}

static void test_add(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		struct qnpu_shape4 os = { rnd(1, 2), rnd(1, 5), rnd(1, 5),
					  rnd(1, 7) };
		struct qnpu_shape4 as = os, bs = os;
		int act = rnd(0, 3), n, y, x, c;
		float *a, *b, *out;

		/* Broadcast some dimensions of either input. */
		if (i % 2) {
			if (rnd(0, 1)) as.h = 1;
			if (rnd(0, 1)) bs.w = 1;
			if (rnd(0, 1)) as.c = 1;
			if (rnd(0, 1)) bs.n = 1;
		}
		a = rnd_array((size_t)as.n * as.h * as.w * as.c, -8, 8);
		b = rnd_array((size_t)bs.n * bs.h * bs.w * bs.c, -8, 8);
		out = malloc((size_t)os.n * os.h * os.w * os.c * sizeof(float));
		if (i % 2)
			qnpu_cpu_add_broadcast_f32(act_lo[act], act_hi[act],
						   &as, a, &bs, b, &os, out);
		else
			qnpu_cpu_add_f32(act_lo[act], act_hi[act],
					 (size_t)os.n * os.h * os.w * os.c, a,
					 b, out);
		for (n = 0; n < os.n; n++)
		for (y = 0; y < os.h; y++)
		for (x = 0; x < os.w; x++)
		for (c = 0; c < os.c; c++) {
#define AT(s, t) t[(((n % s.n) * s.h + y % s.h) * s.w + x % s.w) * s.c + c % s.c]
			float want = clampf(AT(as, a) + AT(bs, b), act_lo[act],
					    act_hi[act]);
#undef AT
			assert_memory_equal(&out[((n * os.h + y) * os.w + x) *
						 os.c + c], &want, sizeof(want));
		}
		free(a);
		free(b);
		free(out);
	}
}

static void test_pool(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 300; i++) {
		struct qnpu_shape4 is = { rnd(1, 2), rnd(1, 9), rnd(1, 9),
					  rnd(1, 6) };
		struct qnpu_shape4 os;
		struct qnpu_pool_params p;
		int act = rnd(0, 3), is_max = i % 2, b, y, x, c, fy, fx;
		float *in, *out;

		memset(&p, 0, sizeof(p));
		p.filter_h = rnd(1, 4);
		p.filter_w = rnd(1, 4);
		p.stride_h = rnd(1, 3);
		p.stride_w = rnd(1, 3);
		p.pad_h = rnd(0, p.filter_h - 1);
		p.pad_w = rnd(0, p.filter_w - 1);
		os.n = is.n;
		os.c = is.c;
		/* Every window keeps at least one element in bounds. */
		os.h = (is.h + p.pad_h - 1) / p.stride_h + 1;
		os.w = (is.w + p.pad_w - 1) / p.stride_w + 1;
		in = rnd_array((size_t)is.n * is.h * is.w * is.c, -10, 10);
		out = malloc((size_t)os.n * os.h * os.w * os.c * sizeof(float));
		if (is_max)
			qnpu_cpu_max_pool_f32(&p, act_lo[act], act_hi[act], &is,
					      in, &os, out);
		else
			qnpu_cpu_avg_pool_f32(&p, act_lo[act], act_hi[act], &is,
					      in, &os, out);
		for (b = 0; b < os.n; b++)
		for (y = 0; y < os.h; y++)
		for (x = 0; x < os.w; x++)
		for (c = 0; c < os.c; c++) {
			float sum = 0.0f, max = -FLT_MAX, want;
			int count = 0;

			for (fy = 0; fy < p.filter_h; fy++)
			for (fx = 0; fx < p.filter_w; fx++) {
				int iy = y * p.stride_h - p.pad_h + fy;
				int ix = x * p.stride_w - p.pad_w + fx;
				float v;

				if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w)
					continue;
				v = in[((b * is.h + iy) * is.w + ix) * is.c + c];
				sum += v;
				max = v > max ? v : max;
				count++;
			}
			assert_true(count > 0);
			want = clampf(is_max ? max : sum / (float)count,
				      act_lo[act], act_hi[act]);
			assert_memory_equal(&out[((b * os.h + y) * os.w + x) *
						 os.c + c], &want, sizeof(want));
		}
		free(in);
		free(out);
	}
}

static void test_softmax(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		int32_t outer = rnd(1, 4), depth = rnd(1, 40), o, c;
		float beta = i % 4 ? rndf(0.1f, 3.0f) : 1.0f;
		float *in = rnd_array((size_t)outer * depth, -30, 30);
		float *out = malloc((size_t)outer * depth * sizeof(float));

		qnpu_cpu_softmax_f32(beta, outer, depth, in, out);
		for (o = 0; o < outer; o++) {
			const float *x = in + o * depth;
			double max = -INFINITY, sum = 0.0, total = 0.0;

			for (c = 0; c < depth; c++)
				max = fmax(max, x[c]);
			for (c = 0; c < depth; c++)
				sum += exp(((double)x[c] - max) * beta);
			for (c = 0; c < depth; c++) {
				double want = exp(((double)x[c] - max) * beta) /
					      sum;

				assert_true(fabs(out[o * depth + c] - want) <=
					    5e-6 * want + 1e-30);
				total += out[o * depth + c];
			}
			assert_true(fabs(total - 1.0) < 1e-5);
		}
		free(in);
		free(out);
	}
}

static void test_dequantize_i8(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		size_t outer = (size_t)rnd(1, 5), axis = (size_t)rnd(1, 9);
		size_t inner = (size_t)rnd(1, 7), n = outer * axis * inner, e;
		float scale[9];
		int32_t zp[9];
		int8_t *q = malloc(n);
		float *out = malloc(n * sizeof(float));

		for (e = 0; e < axis; e++) {
			/* A dead channel's floor scale included. */
			scale[e] = e == 0 ? 7.874e-9f : rndf(1e-4f, 0.5f);
			zp[e] = i % 2 ? 0 : rnd(-20, 20);
		}
		for (e = 0; e < n; e++)
			q[e] = (int8_t)xorshift();
		qnpu_cpu_dequantize_i8_axis(q, outer, axis, inner, scale, zp,
					    out);
		for (e = 0; e < n; e++) {
			size_t a = (e / inner) % axis;
			/* TFLite DEQUANTIZE arithmetic, as README states it. */
			float want = (float)((double)scale[a] *
					     (double)(q[e] - zp[a]));

			assert_memory_equal(&out[e], &want, sizeof(want));
		}
		free(q);
		free(out);
	}
}

/* Every half, against its value computed from the fields in double. */
static void test_dequantize_f16(void **state)
{
	uint32_t h;

	(void)state;
	for (h = 0; h < 0x10000; h++) {
		uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
		double v = e == 0 ? ldexp(m, -24) :
			   e == 31 ? (m ? NAN : INFINITY) :
			   ldexp(1024 + m, (int)e - 25);
		float got, want = (float)((h & 0x8000) ? -v : v);
		uint16_t in = (uint16_t)h;

		qnpu_cpu_dequantize_f16(&in, 1, &got);
		if (isnan(want))
			assert_true(isnan(got));
		else
			assert_memory_equal(&got, &want, sizeof(got));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv),
		cmocka_unit_test(test_dwconv),
		cmocka_unit_test(test_fc),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_softmax),
		cmocka_unit_test(test_dequantize_i8),
		cmocka_unit_test(test_dequantize_f16),
	};

	return cmocka_run_group_tests_name("cpu_float", tests, NULL, NULL);
}
