// SPDX-License-Identifier: MIT
/*
 * ISA selection and packed layers: weights re-laid out once (prepare
 * time) for the x86 kernels of qnpu_cpu_x86.c, requantization constants
 * per channel, and the run loop that splits a layer over the pool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_cpu_layer.h"

static const char *const isa_names[QNPU_CPU_NISA] = {
	"scalar", "avx2", "avx512vnni",
};

const char *qnpu_cpu_isa_name(int isa)
{
	return isa >= 0 && isa < QNPU_CPU_NISA ? isa_names[isa] : "?";
}

int qnpu_cpu_isa_supported(int isa)
{
#if defined(__x86_64__) || defined(__i386__)
	/* libgcc also checks that the OS saves the wider registers (XCR0). */
	__builtin_cpu_init();
	switch (isa) {
	case QNPU_CPU_SCALAR:
		return 1;
	case QNPU_CPU_AVX2:
		return __builtin_cpu_supports("avx2") &&
		       __builtin_cpu_supports("fma");
	case QNPU_CPU_AVX512VNNI:
		return __builtin_cpu_supports("avx2") &&
		       __builtin_cpu_supports("fma") &&
		       __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512dq") &&
		       __builtin_cpu_supports("avx512vl") &&
		       __builtin_cpu_supports("avx512vnni");
	}
	return 0;
#else
	return isa == QNPU_CPU_SCALAR;
#endif
}

int qnpu_cpu_isa_select(char *why, size_t n)
{
	const char *env = getenv("QNPU_CPU_ISA");
	int isa, best = QNPU_CPU_SCALAR;

	for (isa = 0; isa < QNPU_CPU_NISA; isa++)
		if (qnpu_cpu_isa_supported(isa))
			best = isa;
	if (!env || !*env)
		return best;
	for (isa = 0; isa < QNPU_CPU_NISA; isa++)
		if (!strcmp(env, isa_names[isa]))
			break;
	if (isa == QNPU_CPU_NISA) {
		snprintf(why, n, "QNPU_CPU_ISA=%s: unknown path (scalar, avx2, avx512vnni)",
			 env);
		return -EINVAL;
	}
	if (!qnpu_cpu_isa_supported(isa)) {
		snprintf(why, n, "QNPU_CPU_ISA=%s: this CPU lacks %s (it runs: scalar%s)",
			 env, isa == QNPU_CPU_AVX2 ? "AVX2" :
			 "AVX-512 VNNI (F, BW, DQ, VL, VNNI)",
			 best >= QNPU_CPU_AVX2 ? ", avx2" : "");
		return -ENOTSUP;
	}
	return isa;
}

static inline int32_t round_up(int32_t x, int32_t m)
{
	return (x + m - 1) / m * m;
}

static void *alloc64(size_t bytes)
{
	void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);

	if (p)
		memset(p, 0, (bytes + 63) / 64 * 64);
	return p;
}

void qnpu_cpu_layer_destroy(struct qnpu_cpu_layer *l)
{
	if (!l)
		return;
	free(l->run_off);
	free(l->run_off8);
	free(l->wq);
	free(l->w);
	free(l->w32);
	free(l->q);
	free(l);
}

size_t qnpu_cpu_layer_scratch(const struct qnpu_cpu_layer *l)
{
	return l->scratch;
}

/* Rows of padding so that every tap of every output pixel is inside. */
static int64_t padded_extent(int32_t in, int32_t out, int32_t stride,
			     int32_t pad, int32_t k, int32_t dil)
{
	int64_t need = (int64_t)(out - 1) * stride + (int64_t)(k - 1) * dil + 1;

	return need > (int64_t)pad + in ? need : (int64_t)pad + in;
}

/* Geometry and requantization shared by conv, depthwise and FC. */
static int layer_begin(int isa, int kind, const struct qnpu_conv_params *p,
		       const struct qnpu_shape4 *is,
		       const struct qnpu_shape4 *fs,
		       const struct qnpu_shape4 *os, int32_t cp,
		       int per_channel, const int32_t *bias, int nr,
		       struct qnpu_cpu_layer **out)
{
	struct qnpu_cpu_layer *l;
	int32_t c;

	*out = NULL;
	if (isa <= QNPU_CPU_SCALAR || isa >= QNPU_CPU_NISA ||
	    !qnpu_cpu_isa_supported(isa))
		return -ENOTSUP;
	if (is->n != os->n || p->stride_h < 1 || p->stride_w < 1 ||
	    p->dilation_h < 1 || p->dilation_w < 1 || p->pad_h < 0 ||
	    p->pad_w < 0 || fs->h < 1 || fs->w < 1 || os->c < 1 ||
	    os->h < 1 || os->w < 1)
		return -ENOTSUP;
	/* Offsets are int32: absurd geometry stays on the reference kernel. */
	if ((int64_t)padded_extent(is->h, os->h, p->stride_h, p->pad_h, fs->h,
				   p->dilation_h) *
	    padded_extent(is->w, os->w, p->stride_w, p->pad_w, fs->w,
			  p->dilation_w) * (cp + 4) > (1 << 28) ||
	    (int64_t)os->h * os->w * os->c > (1 << 28))
		return -ENOTSUP;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->isa = isa;
	l->kind = kind;
	l->n = os->n;
	l->ih = is->h;
	l->iw = is->w;
	l->ic = is->c;
	l->oh = os->h;
	l->ow = os->w;
	l->oc = os->c;
	l->sh = p->stride_h;
	l->sw = p->stride_w;
	l->pad_h = p->pad_h;
	l->pad_w = p->pad_w;
	l->dm = kind == QNPU_LAYER_DW ? p->depth_multiplier : 1;
	l->hp = (int32_t)padded_extent(is->h, os->h, p->stride_h, p->pad_h, fs->h,
			      p->dilation_h);
	l->wp = (int32_t)padded_extent(is->w, os->w, p->stride_w, p->pad_w, fs->w,
			      p->dilation_w);
	l->cp = cp;
	l->in_off = p->input_offset;
	l->out_off = p->output_offset;
	l->act_min = p->act_min;
	l->act_max = p->act_max;
	l->nob = (os->c + nr - 1) / nr;
	l->cpad = l->nob * nr;
	l->buf16_bytes = ((size_t)l->hp * l->wp * cp * sizeof(int16_t) +
			  63) / 64 * 64;
	l->scratch = l->buf16_bytes;
	l->q = alloc64((size_t)QNPU_Q_ROWS * l->cpad * sizeof(int32_t));
	if (!l->q) {
		qnpu_cpu_layer_destroy(l);
		return -ENOMEM;
	}
	/* Padding channels keep multiplier 0 and produce junk never stored. */
	for (c = 0; c < os->c; c++) {
		const int ch = per_channel ? c : 0;
		int s = p->shift[ch];
		int32_t rsh;

		s = s < -31 ? -31 : (s > 31 ? 31 : s);
		rsh = s > 0 ? 0 : -s;
		l->q[QNPU_Q_BIAS * l->cpad + c] = bias ? bias[c] : 0;
		l->q[QNPU_Q_BIAS_U8 * l->cpad + c] = bias ? bias[c] : 0;
		l->q[QNPU_Q_MULT * l->cpad + c] = p->mult[ch];
		l->q[QNPU_Q_LSH * l->cpad + c] = s > 0 ? s : 0;
		l->q[QNPU_Q_RSH * l->cpad + c] = rsh;
		l->q[QNPU_Q_MASK * l->cpad + c] =
			(int32_t)((1LL << rsh) - 1);
		l->q[QNPU_Q_HALF * l->cpad + c] =
			(int32_t)((1LL << rsh) - 1) >> 1;
	}
	*out = l;
	return 0;
}

/*
 * Conv weights as [ob][pair][16 channels][2]: the micro-kernel loads one
 * pair of reduction steps for 16 channels per vector and broadcasts the
 * matching pair of input values. @f_off is FC's filter offset.
 */
static int pack_conv(struct qnpu_cpu_layer *l, const struct qnpu_conv_params *p,
		     const struct qnpu_shape4 *fs, const int8_t *filter,
		     int32_t f_off)
{
	const int32_t kh = fs->h, kw = fs->w, ic = fs->c, cp = l->cp;
	const int contiguous = p->dilation_w == 1;
	int32_t r, j, ob, lane;

	l->nruns = contiguous ? kh : kh * kw;
	l->runlen = contiguous ? kw * cp : cp;
	l->kpairs = l->nruns * l->runlen / 2;
	l->run_off = calloc((size_t)l->nruns, sizeof(*l->run_off));
	l->w = alloc64((size_t)l->nob * l->kpairs * QNPU_CONV_NR * 2 *
		       sizeof(int16_t));
	if (!l->run_off || !l->w)
		return -ENOMEM;
	for (r = 0; r < l->nruns; r++) {
		const int32_t ky = contiguous ? r : r / kw;
		const int32_t kx = contiguous ? 0 : r % kw;

		l->run_off[r] = (ky * p->dilation_h * l->wp +
				 kx * p->dilation_w) * cp;
	}
	for (ob = 0; ob < l->nob; ob++) {
		for (r = 0; r < l->nruns; r++) {
			for (j = 0; j < l->runlen; j++) {
				const int32_t ky = contiguous ? r : r / kw;
				const int32_t kx = contiguous ? j / cp : r % kw;
				const int32_t c = j % cp;
				const size_t pair = (size_t)r * l->runlen / 2 +
						    j / 2;
				int16_t *dst = l->w + (((size_t)ob * l->kpairs +
						pair) * QNPU_CONV_NR) * 2 + j % 2;

				for (lane = 0; lane < QNPU_CONV_NR; lane++) {
					const int32_t oc = ob * QNPU_CONV_NR +
							   lane;

					if (oc >= l->oc || c >= ic)
						continue;
					dst[lane * 2] = (int16_t)(filter[
						(((size_t)oc * kh + ky) * kw +
						 kx) * ic + c] + f_off);
				}
			}
		}
	}
	return 0;
}

/*
 * The u8 path's weights as [ob][quad][16 channels][4]: one int32 lane per
 * channel holds four reduction steps, the bytes one vpbroadcastd of the
 * u8 image gives. The bias absorbs -(128 + zp) * sum(w): the image holds
 * x + 128 and its padding 128 + zp.
 */
static int pack_conv_u8(struct qnpu_cpu_layer *l,
			const struct qnpu_conv_params *p,
			const struct qnpu_shape4 *fs, const int8_t *filter)
{
	const int32_t kh = fs->h, kw = fs->w, ic = fs->c;
	const int contiguous = p->dilation_w == 1;
	const int32_t pad = 128 - l->in_off;	/* 128 + zero point */
	int32_t r, j, ob, lane, oc, wmax = 0;
	size_t k, kn = (size_t)kh * kw * ic;

	l->cq = round_up(ic, 4);
	l->qlen = contiguous ? kw * l->cq : l->cq;
	l->kquads = (contiguous ? kh : kh * kw) * l->qlen / 4;
	l->run_off8 = calloc((size_t)l->nruns, sizeof(*l->run_off8));
	l->wq = alloc64((size_t)l->nob * l->kquads * QNPU_CONV_NR * 4);
	if (!l->run_off8 || !l->wq)
		return -ENOMEM;
	for (r = 0; r < l->nruns; r++) {
		const int32_t ky = contiguous ? r : r / kw;
		const int32_t kx = contiguous ? 0 : r % kw;

		l->run_off8[r] = (ky * p->dilation_h * l->wp +
				  kx * p->dilation_w) * l->cq;
	}
	for (ob = 0; ob < l->nob; ob++) {
		for (r = 0; r < l->nruns; r++) {
			for (j = 0; j < l->qlen; j++) {
				const int32_t ky = contiguous ? r : r / kw;
				const int32_t kx = contiguous ? j / l->cq :
						   r % kw;
				const int32_t c = j % l->cq;
				const size_t quad = (size_t)r * l->qlen / 4 +
						    j / 4;
				int8_t *dst = l->wq + ((size_t)ob * l->kquads +
						quad) * QNPU_CONV_NR * 4 + j % 4;

				for (lane = 0; lane < QNPU_CONV_NR; lane++) {
					oc = ob * QNPU_CONV_NR + lane;
					if (oc < l->oc && c < ic)
						dst[lane * 4] = filter[(((size_t)oc *
							kh + ky) * kw + kx) * ic + c];
				}
			}
		}
	}
	for (oc = 0; oc < l->oc; oc++) {
		uint32_t sum = 0;

		for (k = 0; k < kn; k++) {
			const int32_t v = filter[(size_t)oc * kn + k];

			sum += (uint32_t)v;
			wmax = v < 0 ? (-v > wmax ? -v : wmax) :
			       (v > wmax ? v : wmax);
		}
		l->q[QNPU_Q_BIAS_U8 * l->cpad + oc] = (int32_t)(
			(uint32_t)l->q[QNPU_Q_BIAS_U8 * l->cpad + oc] -
			(uint32_t)pad * sum);
	}
	l->u8_limit = wmax ? 32767 / wmax : 0x7fffffff;
	l->buf8_bytes = ((size_t)l->hp * l->wp * l->cq + 63) / 64 * 64;
	l->scratch = l->buf16_bytes + l->buf8_bytes +
		     (size_t)l->hp * sizeof(int32_t);
	l->u8_ok = true;
	return 0;
}

int qnpu_cpu_conv_create(int isa, const struct qnpu_conv_params *p,
			 const struct qnpu_shape4 *is,
			 const struct qnpu_shape4 *fs, const int8_t *filter,
			 const int32_t *bias, const struct qnpu_shape4 *os,
			 struct qnpu_cpu_layer **out)
{
	struct qnpu_cpu_layer *l;
	int r;

	*out = NULL;
	/* Grouped convolution stays on the reference kernel. */
	if (fs->c != is->c || fs->n != os->c || fs->c < 1)
		return -ENOTSUP;
	r = layer_begin(isa, QNPU_LAYER_CONV, p, is, fs, os,
			round_up(is->c, 2), 1, bias, QNPU_CONV_NR, &l);
	if (r)
		return r;
	r = pack_conv(l, p, fs, filter, 0);
	if (!r)
		r = pack_conv_u8(l, p, fs, filter);
	if (r) {
		qnpu_cpu_layer_destroy(l);
		return r;
	}
	*out = l;
	return 0;
}

int qnpu_cpu_fc_create(int isa, const struct qnpu_fc_params *fp,
		       int32_t batches, int32_t accum_depth,
		       int32_t out_depth, const int8_t *filter,
		       const int32_t *bias, struct qnpu_cpu_layer **out)
{
	/* A 1 x batches image through a 1x1 convolution. */
	const struct qnpu_conv_params p = {
		.stride_h = 1, .stride_w = 1,
		.dilation_h = 1, .dilation_w = 1,
		.input_offset = fp->input_offset,
		.output_offset = fp->output_offset,
		.act_min = fp->act_min, .act_max = fp->act_max,
		.mult = fp->mult, .shift = fp->shift,
	};
	const struct qnpu_shape4 is = { 1, 1, batches, accum_depth };
	const struct qnpu_shape4 fs = { out_depth, 1, 1, accum_depth };
	const struct qnpu_shape4 os = { 1, 1, batches, out_depth };
	struct qnpu_cpu_layer *l;
	int r;

	*out = NULL;
	if (batches < 1 || accum_depth < 1 || out_depth < 1)
		return -ENOTSUP;
	r = layer_begin(isa, QNPU_LAYER_CONV, &p, &is, &fs, &os,
			round_up(accum_depth, 2), fp->per_channel, bias,
			QNPU_CONV_NR, &l);
	if (r)
		return r;
	/* The per-channel kernel ignores the filter offset, as TFLite's. */
	r = pack_conv(l, &p, &fs, filter,
		      fp->per_channel ? 0 : fp->filter_offset);
	/* A filter offset makes weights beyond int8: int16 path only. */
	if (!r && (fp->per_channel || !fp->filter_offset))
		r = pack_conv_u8(l, &p, &fs, filter);
	if (r) {
		qnpu_cpu_layer_destroy(l);
		return r;
	}
	*out = l;
	return 0;
}

int qnpu_cpu_dwconv_create(int isa, const struct qnpu_conv_params *p,
			   const struct qnpu_shape4 *is,
			   const struct qnpu_shape4 *fs, const int8_t *filter,
			   const int32_t *bias, const struct qnpu_shape4 *os,
			   struct qnpu_cpu_layer **out)
{
	struct qnpu_cpu_layer *l;
	int32_t t, c;
	int r;

	*out = NULL;
	if (p->depth_multiplier < 1 || os->c != is->c * p->depth_multiplier ||
	    fs->c != os->c)
		return -ENOTSUP;
	/* The image holds one channel per output channel (depth multiplier). */
	r = layer_begin(isa, QNPU_LAYER_DW, p, is, fs, os,
			round_up(os->c, QNPU_DW_NR), 1, bias, QNPU_DW_NR, &l);
	if (r)
		return r;
	l->ntaps = fs->h * fs->w;
	l->run_off = calloc((size_t)l->ntaps, sizeof(*l->run_off));
	l->w32 = alloc64((size_t)l->ntaps * l->cp * sizeof(int32_t));
	if (!l->run_off || !l->w32) {
		qnpu_cpu_layer_destroy(l);
		return -ENOMEM;
	}
	for (t = 0; t < l->ntaps; t++) {
		l->run_off[t] = ((t / fs->w) * p->dilation_h * l->wp +
				 (t % fs->w) * p->dilation_w) * l->cp;
		/* High half 0: vpmaddwd then ignores the input's high half. */
		for (c = 0; c < os->c; c++)
			l->w32[(size_t)t * l->cp + c] =
				(uint16_t)filter[(size_t)t * fs->c + c];
	}
	*out = l;
	return 0;
}

static void run_conv_tasks(void *job, int begin, int end)
{
	const struct qnpu_layer_job *j = job;

	if (j->l->isa == QNPU_CPU_AVX512VNNI)
		qnpu_vnni_conv_tasks(job, begin, end);
	else
		qnpu_avx2_conv_tasks(job, begin, end);
}

/* The u8 image of one input; true if the u8 path is exact on it. */
static bool pad_u8(const struct qnpu_cpu_layer *l, struct qnpu_cpu_pool *pool,
		   struct qnpu_layer_job *j)
{
	int32_t r, max = 0;

	qnpu_cpu_pool_run(pool, l->hp, qnpu_x86_pad_rows_u8, j);
	if (l->isa == QNPU_CPU_AVX512VNNI)
		return true;	/* vpdpbusd never saturates */
	for (r = 0; r < l->hp; r++)
		max = j->row_max[r] > max ? j->row_max[r] : max;
	return max <= l->u8_limit;
}

void qnpu_cpu_layer_run(const struct qnpu_cpu_layer *l,
			struct qnpu_cpu_pool *pool, const int8_t *in,
			int8_t *out, void *scratch)
{
	const size_t in_image = (size_t)l->ih * l->iw * l->ic;
	const size_t out_image = (size_t)l->oh * l->ow * l->oc;
	const int pixels = l->oh * l->ow;
	const int mr = l->isa == QNPU_CPU_AVX512VNNI ? QNPU_VNNI_MR :
		       QNPU_CONV_MR;
	struct qnpu_layer_job j = {
		.l = l, .buf = scratch,
		.buf8 = (uint8_t *)scratch + l->buf16_bytes,
		.row_max = (int32_t *)((uint8_t *)scratch + l->buf16_bytes +
				       l->buf8_bytes),
		.ntiles = (pixels + mr - 1) / mr,
	};
	int32_t b;

	for (b = 0; b < l->n; b++) {
		j.in = in + b * in_image;
		j.out = out + b * out_image;
		if (l->u8_ok && pad_u8(l, pool, &j)) {
			qnpu_cpu_pool_run(pool, j.ntiles * l->nob,
					  l->isa == QNPU_CPU_AVX512VNNI ?
					  qnpu_vnni_conv_u8_tasks :
					  qnpu_avx2_conv_u8_tasks, &j);
			continue;
		}
		qnpu_cpu_pool_run(pool, l->hp, qnpu_x86_pad_rows, &j);
		if (l->kind == QNPU_LAYER_DW) {
			qnpu_cpu_pool_run(pool, pixels, qnpu_avx2_dw_tasks,
					  &j);
			continue;
		}
		qnpu_cpu_pool_run(pool, j.ntiles * l->nob, run_conv_tasks,
				  &j);
	}
}

/* --- ADD and the pools: element or pixel ranges over the pool --- */

struct qnpu_ew_job {
	const int8_t *table;
	const struct qnpu_pool_params *pp;
	const struct qnpu_shape4 *is, *os;
	const int8_t *a, *b;
	int8_t *out;
	size_t n;
	int chunk;
};

/* Elements per ADD task: enough to amortize a claim. */
#define QNPU_ADD_CHUNK 4096

int8_t *qnpu_cpu_add_table(const struct qnpu_add_params *p)
{
	int8_t *t = malloc(256 * 256), a[256], b[256];
	int i;

	if (!t)
		return NULL;
	for (i = 0; i < 256; i++)
		b[i] = (int8_t)i;
	for (i = 0; i < 256; i++) {
		memset(a, i, sizeof(a));
		qnpu_cpu_add(p, 256, a, b, t + i * 256);
	}
	return t;
}

static void add_tasks(void *job, int begin, int end)
{
	const struct qnpu_ew_job *j = job;
	const size_t lo = (size_t)begin * QNPU_ADD_CHUNK;
	size_t hi = (size_t)end * QNPU_ADD_CHUNK, i;

	if (hi > j->n)
		hi = j->n;
	for (i = lo; i < hi; i++)
		j->out[i] = j->table[(uint8_t)j->a[i] << 8 | (uint8_t)j->b[i]];
}

void qnpu_cpu_add_lut(struct qnpu_cpu_pool *pool, const int8_t *table,
		      size_t n, const int8_t *a, const int8_t *b, int8_t *out)
{
	struct qnpu_ew_job j = { .table = table, .a = a, .b = b, .out = out,
				 .n = n };
	size_t i;

	if (n > (size_t)QNPU_ADD_CHUNK * 0x7fffffff) {
		for (i = 0; i < n; i++)
			out[i] = table[(uint8_t)a[i] << 8 | (uint8_t)b[i]];
		return;
	}
	qnpu_cpu_pool_run(pool, (int)((n + QNPU_ADD_CHUNK - 1) /
				      QNPU_ADD_CHUNK), add_tasks, &j);
}

static void avg_tasks(void *job, int begin, int end)
{
	const struct qnpu_ew_job *j = job;

	qnpu_avx2_avg_pool(j->pp, j->is, j->a, j->os, j->out, begin, end);
}

static void max_tasks(void *job, int begin, int end)
{
	const struct qnpu_ew_job *j = job;

	qnpu_avx2_max_pool(j->pp, j->is, j->a, j->os, j->out, begin, end);
}

static int pool_shapes_ok(const struct qnpu_shape4 *is,
			  const struct qnpu_shape4 *os)
{
	return is->c == os->c && is->n == os->n &&
	       (long long)os->n * os->h * os->w <= 0x7fffffff;
}

void qnpu_cpu_avg_pool_isa(int isa, struct qnpu_cpu_pool *pool,
			   const struct qnpu_pool_params *p,
			   const struct qnpu_shape4 *is, const int8_t *in,
			   const struct qnpu_shape4 *os, int8_t *out)
{
	struct qnpu_ew_job j = { .pp = p, .is = is, .os = os, .a = in,
				 .out = out };

	if (isa <= QNPU_CPU_SCALAR || !pool_shapes_ok(is, os)) {
		qnpu_cpu_avg_pool(p, is, in, os, out);
		return;
	}
	qnpu_cpu_pool_run(pool, os->n * os->h * os->w, avg_tasks, &j);
}

void qnpu_cpu_max_pool_isa(int isa, struct qnpu_cpu_pool *pool,
			   const struct qnpu_pool_params *p,
			   const struct qnpu_shape4 *is, const int8_t *in,
			   const struct qnpu_shape4 *os, int8_t *out)
{
	struct qnpu_ew_job j = { .pp = p, .is = is, .os = os, .a = in,
				 .out = out };

	if (isa <= QNPU_CPU_SCALAR || !pool_shapes_ok(is, os)) {
		qnpu_cpu_max_pool(p, is, in, os, out);
		return;
	}
	qnpu_cpu_pool_run(pool, os->n * os->h * os->w, max_tasks, &j);
}
