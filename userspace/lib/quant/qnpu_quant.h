/* SPDX-License-Identifier: MIT */
/*
 * Post-training quantization inside libqnpu: per-tensor statistics fed
 * with what a float run of the model (the runtime's, on the CPU kernels)
 * shows, the range each calibration method picks (qnpu_calib.c), the rewrite of a float graph into TFLite's int8 scheme
 * (qnpu_quantize.c) and the per-tensor error statistics of the debugger
 * (qnpu_compare.c). May include: ir/, quant/, util/.
 */
#ifndef QNPU_QUANT_H
#define QNPU_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/qnpu_ir.h"

/* --- calibration (qnpu_calib.c) --- */

#define QNPU_HIST_BINS 2048

/* What one activation tensor held over all calibration samples. */
struct qnpu_tstats {
	bool used;			/* a float activation we calibrate */
	float min, max;
	uint64_t count;
	double lo, width;		/* hist: bin i covers lo + i * width */
	uint64_t hist[QNPU_HIST_BINS];	/* signed values over [min, max] */
	double amax;			/* abs: bin i covers i * awidth */
	uint64_t ahist[QNPU_HIST_BINS];	/* |x| over [0, max|x|] */
	int nch;			/* channels: the innermost dimension */
	double *chsum;			/* per channel: sum of the values */
};

enum qnpu_calib_method_int {
	QNPU_QM_MINMAX,
	QNPU_QM_PERCENTILE,
	QNPU_QM_MSE,
	QNPU_QM_ENTROPY,
};

/*
 * Tensor @x of @n floats was observed in calibration pass @pass (1:
 * min/max and channel sums, 2: histograms): add it to its statistics @s
 * if s->used. The float run that observes it lives above quant/.
 */
void qnpu_tstats_observe(struct qnpu_tstats *s, int pass, const float *x,
			 size_t n);
/* Pass 1: min/max of @n values (and per-channel sums if s->chsum). */
void qnpu_tstats_minmax(struct qnpu_tstats *s, const float *x, size_t n);
/* Before pass 2: place the histograms on the range pass 1 found. */
void qnpu_tstats_hist_init(struct qnpu_tstats *s);
/* Pass 2: histogram @n values. */
void qnpu_tstats_hist(struct qnpu_tstats *s, const float *x, size_t n);
/* The range [*lo, *hi] the method picks (before nudging to include 0). */
void qnpu_tstats_range(const struct qnpu_tstats *s, int method,
		       double percentile, float *lo, float *hi);

/* TFLite converter's GetAsymmetricQuantizationParams for int8. */
void qnpu_asym_params(float min, float max, float *scale, int32_t *zp);
float qnpu_round_away(float x);

/* --- the quantizer (qnpu_quantize.c) --- */

struct qnpu_quant_ranges {
	float *lo, *hi;			/* per tensor, from calibration */
	bool *have;
	/*
	 * Optional, per tensor: parameters to take as they are where
	 * scale[i] > 0 (another model's, e.g. the converter's, to compare
	 * weights and biases under the same activation scales).
	 */
	const float *scale;
	const int32_t *zp;
	/*
	 * Optional, per tensor: the mean of each channel (innermost
	 * dimension) over the calibration samples, NULL where unknown. Given,
	 * biases absorb the mean error the weights' rounding causes.
	 */
	const double *const *mean;
};

struct qnpu_quantize_opts {
	bool per_tensor;		/* conv/depthwise weights per tensor */
	bool float_io;			/* keep float32 input and output */
};

/*
 * Rewrite the float graph @g (imported from a file whose bytes hold
 * @name_room spare bytes at @names for new tensor names) into TFLite's
 * int8 scheme in place: ranges per activation, weights symmetric int8,
 * biases int32. -ENOTSUP names an operator it cannot quantize.
 * qnpu_quantize_check() says beforehand whether @g is such a graph (else
 * -ENOTSUP naming the operator and its index; -EINVAL for an int8 model).
 */
int qnpu_quantize_check(const struct qnpu_ir_graph *g);
int qnpu_quantize_graph(struct qnpu_ir_graph *g,
			const struct qnpu_quant_ranges *ranges,
			const struct qnpu_quantize_opts *opts, char *names,
			size_t name_room);

/* --- the debugger's statistics (qnpu_compare.c) --- */

struct qnpu_cmp_acc {
	double sf2, se2, sq2, sfq;	/* sum f^2, (f-q)^2, q^2, f*q */
	double max_err;
	float fmin, fmax;		/* the float tensor's range */
	float qlo, qhi;			/* what the int8 tensor can hold */
	uint64_t n, clipped;
};

/* Accumulate float @f against the int8 tensor @q dequantized. */
void qnpu_cmp_acc_i8(struct qnpu_cmp_acc *a, const float *f, const int8_t *q,
		     size_t n, float scale, int32_t zp);
/* The same against a float tensor (float I/O). */
void qnpu_cmp_acc_f32(struct qnpu_cmp_acc *a, const float *f, const float *q,
		      size_t n);
double qnpu_cmp_sqnr(const struct qnpu_cmp_acc *a);
double qnpu_cmp_cosine(const struct qnpu_cmp_acc *a);

#endif /* QNPU_QUANT_H */
