/* SPDX-License-Identifier: MIT */
/*
 * Private to cpu/: a packed layer (qnpu_cpu_layer.c builds it) and the
 * x86 kernels that run it (qnpu_cpu_x86.c).
 *
 * Every packed layer reads its input through one int16 image per batch,
 * (x + input_offset) with the padding written as 0 around it: a padding
 * tap then adds 0, which is what TFLite's skipping it means, and no
 * kernel checks bounds. Products of two int16 summed in pairs into int32
 * (vpmaddwd) are exact here: |x + off| <= 255, |w| <= 255.
 *
 * Convolutions also have a u8 path: x + 128 against int8 weights, four
 * reduction steps per int32 lane (vpmaddubsw + vpmaddwd on AVX2, vpdpbusd
 * on VNNI), with the zero point folded into the bias (padding holds
 * 128 + zp, which adds 0 after the fold). vpdpbusd is exact for any data.
 * vpmaddubsw saturates a pair x0*w0 + x1*w1 to int16, so AVX2 takes this
 * path only for an image whose every channel pair has x0 + x1 <= u8_limit
 * (= 32767 / max |w|): then no pair can saturate. The pad pass measures
 * that; an image beyond it runs the int16 path. Same bytes either way,
 * only the time differs (real activations sit far below the limit).
 */
#ifndef QNPU_CPU_LAYER_H
#define QNPU_CPU_LAYER_H

#include <stdbool.h>

#include "qnpu_cpu.h"

enum { QNPU_LAYER_CONV, QNPU_LAYER_DW };

/* Per output channel requantization, rows of cpad int32 in l->q. */
enum { QNPU_Q_BIAS, QNPU_Q_MULT, QNPU_Q_LSH, QNPU_Q_RSH, QNPU_Q_MASK,
       QNPU_Q_HALF, QNPU_Q_BIAS_U8, QNPU_Q_ROWS };

/* Output channels per block: conv 16 (two ymm, one zmm), depthwise 8. */
#define QNPU_CONV_NR 16
#define QNPU_DW_NR 8
/* Output pixels per conv micro-kernel call. */
#define QNPU_CONV_MR 4
#define QNPU_VNNI_MR 8

struct qnpu_cpu_layer {
	int isa, kind;
	int32_t n;			/* images (batches) */
	int32_t ih, iw, ic, oh, ow, oc;
	int32_t sh, sw, pad_h, pad_w, dm;
	int32_t hp, wp, cp;		/* the padded int16 image */
	int32_t in_off, out_off, act_min, act_max;
	/*
	 * conv: a pixel reads nruns runs of runlen int16 (even) at
	 * base + run_off[r]; depthwise: ntaps taps of cp channels at
	 * base + run_off[t].
	 */
	int32_t nruns, runlen, ntaps;
	int32_t *run_off;
	int32_t nob, cpad;		/* output channel blocks, nob * NR */
	int32_t kpairs;			/* conv: int16 pairs per output */
	int16_t *w;			/* conv: [nob][kpairs][NR][2] */
	int32_t *w32;			/* dw: [ntaps][cp], w in the low half */
	int32_t *q;			/* [QNPU_Q_ROWS][cpad] */
	size_t scratch;			/* bytes: int16 image, u8 image, rows */
	/*
	 * conv u8 path (u8_ok): the image has cq bytes per pixel (ic
	 * rounded up to 4); runs of qlen bytes at base8 + run_off8[r]; weights
	 * [nob][kquads][NR][4].
	 */
	bool u8_ok;
	int32_t cq, qlen, kquads, u8_limit;
	int32_t *run_off8;
	int8_t *wq;
	size_t buf16_bytes, buf8_bytes;
};

struct qnpu_layer_job {
	const struct qnpu_cpu_layer *l;
	const int8_t *in;		/* this image's input */
	int8_t *out;			/* this image's output */
	int16_t *buf;
	uint8_t *buf8;
	int32_t *row_max;		/* per padded row: largest pair sum */
	int ntiles;			/* conv: pixel tiles per channel block */
};

/* Tasks: padded rows; conv (ob, tile) ob-major; depthwise output pixels. */
void qnpu_x86_pad_rows(void *job, int begin, int end);
void qnpu_x86_pad_rows_u8(void *job, int begin, int end);
void qnpu_avx2_conv_u8_tasks(void *job, int begin, int end);
void qnpu_vnni_conv_u8_tasks(void *job, int begin, int end);
void qnpu_avx2_conv_tasks(void *job, int begin, int end);
void qnpu_avx2_dw_tasks(void *job, int begin, int end);
void qnpu_vnni_conv_tasks(void *job, int begin, int end);

/* Output pixels [begin, end) of image-major NHWC (n * oh * ow in all). */
void qnpu_avx2_avg_pool(const struct qnpu_pool_params *p,
			const struct qnpu_shape4 *is, const int8_t *in,
			const struct qnpu_shape4 *os, int8_t *out,
			int begin, int end);
void qnpu_avx2_max_pool(const struct qnpu_pool_params *p,
			const struct qnpu_shape4 *is, const int8_t *in,
			const struct qnpu_shape4 *os, int8_t *out,
			int begin, int end);

#endif /* QNPU_CPU_LAYER_H */
