/* SPDX-License-Identifier: MIT */
/*
 * CPU kernels: TFLite reference integer semantics, bit-exact.
 *
 * Kernels know nothing of the IR: quant/ computes their parameter structs
 * (multipliers, offsets, activation ranges) once per model and the kernels
 * only compute. Shapes are NHWC. Shift convention is TFLite's: a positive
 * shift is a left shift. May include: quant/qnpu_qparams.h and
 * quant/qnpu_fixedpoint.h only.
 */
#ifndef QNPU_CPU_H
#define QNPU_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "quant/qnpu_qparams.h"

/* --- convolution (qnpu_cpu_conv.c, qnpu_cpu_dwconv.c) --- */

/* filter shape: n = output channels, h, w = kernel, c = input channels. */
void qnpu_cpu_conv2d(const struct qnpu_conv_params *p,
		     const struct qnpu_shape4 *is, const int8_t *in,
		     const struct qnpu_shape4 *fs, const int8_t *filter,
		     const int32_t *bias, /* may be NULL */
		     const struct qnpu_shape4 *os, int8_t *out);

/* filter shape: n = 1, h, w = kernel, c = output channels. */
void qnpu_cpu_depthwise_conv2d(const struct qnpu_conv_params *p,
			       const struct qnpu_shape4 *is,
			       const int8_t *in,
			       const struct qnpu_shape4 *fs,
			       const int8_t *filter,
			       const int32_t *bias, /* may be NULL */
			       const struct qnpu_shape4 *os, int8_t *out);

/* --- fully connected (qnpu_cpu_fc.c) --- */

/* filter is [out_depth, accum_depth]; out is [batches, out_depth]. */
void qnpu_cpu_fully_connected(const struct qnpu_fc_params *p, int32_t batches,
			      int32_t accum_depth, int32_t out_depth,
			      const int8_t *in, const int8_t *filter,
			      const int32_t *bias, /* may be NULL */
			      int8_t *out);

/* --- add (qnpu_cpu_add.c) --- */

/*
 * The 4-D broadcast walk the int8 and float ADDs share: the output's
 * elements in order; for each, a[it.a] and b[it.b] are its inputs (an
 * input's stride is 0 along a dimension it broadcasts).
 */
struct qnpu_bcast {
	size_t a, b;			/* the current element's offsets */
	size_t count;			/* output elements */
	/* private: */
	size_t ac, aw, ah, an, bc, bw, bh, bn;
	size_t ra, rb;			/* the current row's offsets */
	int32_t c, x, y, n, oc, ow, oh;
};

/* 0, or -1 where a dimension of @as or @bs is neither @os's nor 1. */
int qnpu_bcast_begin(struct qnpu_bcast *it, const struct qnpu_shape4 *as,
		     const struct qnpu_shape4 *bs,
		     const struct qnpu_shape4 *os);
/* To the next row of channels. */
void qnpu_bcast_next_row(struct qnpu_bcast *it);

static inline void qnpu_bcast_next(struct qnpu_bcast *it)
{
	if (++it->c < it->oc) {
		it->a += it->ac;
		it->b += it->bc;
	} else {
		qnpu_bcast_next_row(it);
	}
}

void qnpu_cpu_add(const struct qnpu_add_params *p, size_t n, const int8_t *a,
		  const int8_t *b, int8_t *out);
/* NumPy-style broadcast of 4-D shapes (dimension 1 broadcasts). */
void qnpu_cpu_add_broadcast(const struct qnpu_add_params *p,
			    const struct qnpu_shape4 *as, const int8_t *a,
			    const struct qnpu_shape4 *bs, const int8_t *b,
			    const struct qnpu_shape4 *os, int8_t *out);

/* --- pooling (qnpu_cpu_pool.c) --- */

void qnpu_cpu_avg_pool(const struct qnpu_pool_params *p,
		       const struct qnpu_shape4 *is, const int8_t *in,
		       const struct qnpu_shape4 *os, int8_t *out);
void qnpu_cpu_max_pool(const struct qnpu_pool_params *p,
		       const struct qnpu_shape4 *is, const int8_t *in,
		       const struct qnpu_shape4 *os, int8_t *out);

/* --- softmax (qnpu_cpu_softmax.c) --- */

/* Softmax over the innermost dimension of depth elements. */
void qnpu_cpu_softmax(const struct qnpu_softmax_params *p, int32_t outer,
		      int32_t depth, const int8_t *in, int8_t *out);

/* --- (de)quantization (qnpu_cpu_quant.c) --- */

/* float -> int8 as TFLite's AffineQuantize. */
void qnpu_cpu_quantize_f32(const float *in, size_t n, float scale,
			   int32_t zero_point, int8_t *out);
/* int8 -> float as TFLite's Dequantize. */
void qnpu_cpu_dequantize_i8(const int8_t *in, size_t n, float scale,
			    int32_t zero_point, float *out);

void qnpu_cpu_requantize_i8(const struct qnpu_requant_params *p, size_t n,
			    const int8_t *in, int8_t *out);

/*
 * --- float32 (qnpu_cpu_float_conv.c, qnpu_cpu_float.c) ---
 *
 * As TFLite's reference float kernels: every output element accumulates
 * in float, in the reference order (conv: ky, kx, ic; bias last), so the
 * vectorized paths give the same bits as the plain loops. Geometry comes
 * in the int8 parameter structs (their requantization fields unused);
 * act_min / act_max is the fused activation as a float clamp.
 */

/*
 * filter is [out_c][kh][kw][in_c]. filter_t, when not NULL, is the same
 * filter laid out as [kh][kw][in_c][out_c] (quant/ makes it once for a
 * constant filter); it lets the kernel vectorize over output channels,
 * with the same results.
 */
void qnpu_cpu_conv2d_f32(const struct qnpu_conv_params *p, float act_min,
			 float act_max, const struct qnpu_shape4 *is,
			 const float *in, const struct qnpu_shape4 *fs,
			 const float *filter, const float *filter_t,
			 const float *bias, /* may be NULL */
			 const struct qnpu_shape4 *os, float *out);

/* filter shape: n = 1, h, w = kernel, c = output channels. */
void qnpu_cpu_depthwise_conv2d_f32(const struct qnpu_conv_params *p,
				   float act_min, float act_max,
				   const struct qnpu_shape4 *is,
				   const float *in,
				   const struct qnpu_shape4 *fs,
				   const float *filter,
				   const float *bias, /* may be NULL */
				   const struct qnpu_shape4 *os, float *out);

/* filter is [out_depth, accum_depth]; out is [batches, out_depth]. */
void qnpu_cpu_fully_connected_f32(float act_min, float act_max,
				  int32_t batches, int32_t accum_depth,
				  int32_t out_depth, const float *in,
				  const float *filter,
				  const float *bias, /* may be NULL */
				  float *out);

void qnpu_cpu_add_f32(float act_min, float act_max, size_t n, const float *a,
		      const float *b, float *out);
void qnpu_cpu_add_broadcast_f32(float act_min, float act_max,
				const struct qnpu_shape4 *as, const float *a,
				const struct qnpu_shape4 *bs, const float *b,
				const struct qnpu_shape4 *os, float *out);

/* Pools use the geometry of p; the average divides by the in-bounds count. */
void qnpu_cpu_avg_pool_f32(const struct qnpu_pool_params *p, float act_min,
			   float act_max, const struct qnpu_shape4 *is,
			   const float *in, const struct qnpu_shape4 *os,
			   float *out);
void qnpu_cpu_max_pool_f32(const struct qnpu_pool_params *p, float act_min,
			   float act_max, const struct qnpu_shape4 *is,
			   const float *in, const struct qnpu_shape4 *os,
			   float *out);

/* exp(beta * (x - max)) / sum over the innermost dimension. */
void qnpu_cpu_softmax_f32(float beta, int32_t outer, int32_t depth,
			  const float *in, float *out);

/*
 * int8 -> float with one scale and zero point per index of an axis:
 * the tensor is [outer][axis][inner] (per tensor: axis = 1).
 */
void qnpu_cpu_dequantize_i8_axis(const int8_t *in, size_t outer,
				 size_t axis, size_t inner, const float *scale,
				 const int32_t *zero_point, float *out);
/* IEEE half -> float (exact). */
float qnpu_f16_to_f32(uint16_t h);
void qnpu_cpu_dequantize_f16(const uint16_t *in, size_t n, float *out);

/*
 * --- fast int8 paths: ISA dispatch, thread pool, packed layers ---
 *
 * The functions above are the scalar reference. The packed layers below
 * give the same bytes on every ISA and thread count: they sum the same
 * int32 products (wrapping int32 addition does not care about order) and
 * requantize with the same double rounding, lane by lane.
 */

enum qnpu_cpu_isa {
	QNPU_CPU_SCALAR = 0,	/* the reference kernels above */
	QNPU_CPU_AVX2 = 1,
	QNPU_CPU_AVX512VNNI = 2,	/* AVX-512 F/BW/VL + VNNI */
	QNPU_CPU_NISA
};

/* "scalar", "avx2", "avx512vnni". */
const char *qnpu_cpu_isa_name(int isa);
/* Whether this CPU (and its OS) runs @isa. */
int qnpu_cpu_isa_supported(int isa);
/*
 * The path QNPU_CPU_ISA names, else the best this CPU has. -EINVAL for an
 * unknown name, -ENOTSUP for a path this CPU lacks; @why (80 bytes or
 * more) then holds one line.
 */
int qnpu_cpu_isa_select(char *why, size_t n);

/* Online cores, at least 1. */
int qnpu_cpu_online_cores(void);

/*
 * A persistent pool: @threads - 1 workers and the caller. Workers spin a
 * little after each job (layers take microseconds), then sleep.
 */
struct qnpu_cpu_pool;
/* Tasks [begin, end) of a job; each thread gets one contiguous range. */
typedef void (*qnpu_cpu_task_fn)(void *ctx, int begin, int end);
int qnpu_cpu_pool_create(int threads, struct qnpu_cpu_pool **out);
void qnpu_cpu_pool_destroy(struct qnpu_cpu_pool *pool);
int qnpu_cpu_pool_threads(const struct qnpu_cpu_pool *pool);
/*
 * Run @ntasks tasks split over the threads and wait for them. A NULL
 * pool, or one busy with another caller's job, runs them all here.
 */
void qnpu_cpu_pool_run(struct qnpu_cpu_pool *pool, int ntasks,
		       qnpu_cpu_task_fn fn, void *ctx);

/*
 * A CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED layer with constant
 * weights, packed once for an ISA (not SCALAR). Running it needs a
 * scratch buffer of qnpu_cpu_layer_scratch() bytes (64-byte aligned) and
 * allocates nothing. Create returns -ENOTSUP for shapes it does not take
 * (grouped convolution): run the reference kernel for those.
 */
struct qnpu_cpu_layer;
int qnpu_cpu_conv_create(int isa, const struct qnpu_conv_params *p,
			 const struct qnpu_shape4 *is,
			 const struct qnpu_shape4 *fs, const int8_t *filter,
			 const int32_t *bias, const struct qnpu_shape4 *os,
			 struct qnpu_cpu_layer **out);
int qnpu_cpu_dwconv_create(int isa, const struct qnpu_conv_params *p,
			   const struct qnpu_shape4 *is,
			   const struct qnpu_shape4 *fs, const int8_t *filter,
			   const int32_t *bias, const struct qnpu_shape4 *os,
			   struct qnpu_cpu_layer **out);
int qnpu_cpu_fc_create(int isa, const struct qnpu_fc_params *p,
		       int32_t batches, int32_t accum_depth,
		       int32_t out_depth, const int8_t *filter,
		       const int32_t *bias, struct qnpu_cpu_layer **out);
size_t qnpu_cpu_layer_scratch(const struct qnpu_cpu_layer *l);
void qnpu_cpu_layer_run(const struct qnpu_cpu_layer *l,
			struct qnpu_cpu_pool *pool, const int8_t *in,
			int8_t *out, void *scratch);
void qnpu_cpu_layer_destroy(struct qnpu_cpu_layer *l);

/*
 * ADD as one 64 KiB table, out = table[(uint8_t)a << 8 | (uint8_t)b],
 * filled once by the reference arithmetic: exact by construction, and a
 * load per element where the requantizing kernel takes three roundings.
 * NULL when out of memory; free() it.
 */
int8_t *qnpu_cpu_add_table(const struct qnpu_add_params *p);
void qnpu_cpu_add_lut(struct qnpu_cpu_pool *pool, const int8_t *table,
		      size_t n, const int8_t *a, const int8_t *b, int8_t *out);

/* The pools on a fast ISA (SCALAR: the reference). */
void qnpu_cpu_avg_pool_isa(int isa, struct qnpu_cpu_pool *pool,
			   const struct qnpu_pool_params *p,
			   const struct qnpu_shape4 *is, const int8_t *in,
			   const struct qnpu_shape4 *os, int8_t *out);
void qnpu_cpu_max_pool_isa(int isa, struct qnpu_cpu_pool *pool,
			   const struct qnpu_pool_params *p,
			   const struct qnpu_shape4 *is, const int8_t *in,
			   const struct qnpu_shape4 *os, int8_t *out);

#endif /* QNPU_CPU_H */
