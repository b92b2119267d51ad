// SPDX-License-Identifier: MIT
/*
 * Lowering of CONV_2D, FULLY_CONNECTED, DEPTHWISE_CONV_2D, MAX/AVERAGE_POOL
 * and ADD to the NPU's LOAD / COMPUTE / STORE commands (docs/hw-spec.md).
 *
 * A layer is cut into units. A unit loads what it needs into one half of
 * the double-buffered SRAMs, computes tiles of R output pixels x C output
 * channels into one half of OBUF, and stores them. Dependency tokens let
 * unit u+1 load while unit u computes and unit u-1 stores:
 *   load(u)    waits for compute to free half u%2 (unit u-2 done with it)
 *   compute(u) waits for load(u), and for store(u-2) to free its OBUF half
 *   store(u)   waits for compute(u)
 * Operands that fit whole are "resident": loaded once by unit 0 into the
 * whole SRAM and never overwritten.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/qnpu_compiler.h"
#include "qnpu_regs.h"
#include "quant/qnpu_op_params.h"

enum { JOB_CONV, JOB_DW, JOB_MAXPOOL, JOB_AVGPOOL, JOB_ADD };

#define PSET_WORDS QNPU_PARAM_SET_WORDS
#define PIPE_UNITS 4	/* units a layer is cut into at least, if it can */

/* A layer's geometry, normalized: FC is a 1 x batches image of depth IC. */
struct layer {
	int kind;
	int32_t ih, iw, ic, oh, ow, oc;
	int32_t kh, kw, sh, sw, dh, dw, pad_t, pad_l, dm;
	int32_t in_off, out_zp, act_min, act_max;
	int32_t nimg;				/* images of a batch, one by one */
	const int8_t *w;
	const int32_t *bias, *mult, *shift;
	bool per_channel;
	const struct qnpu_add_params *add;
	size_t count;				/* ADD elements */
	int tin, tin2, tout;
	/* a fused residual ADD (op->res_add): its parameters, whether the
	 * convolution is its second operand, the other operand */
	const struct qnpu_add_params *res;
	bool res_swap;
	int tres;
	uint32_t psw;				/* words per channel group's parameters */
	/* ONNX: PPU_FP requantization (mult holds float32 bits), and the
	 * weights and parameters re-laid out for the NPU, owned. */
	bool fp;
	int8_t *w_own;
	int32_t *mult_own, *shift_own;
	/* a sibling (op->sib): a 1x1 CONV_2D of the same input and output
	 * geometry whose tiles the job computes from the same ABUF bands */
	struct layer *sib;
};

static void layer_free(struct layer *l)
{
	if (l->sib) {
		layer_free(l->sib);
		free(l->sib);
		l->sib = NULL;
	}
	free(l->w_own);
	free(l->mult_own);
	free(l->shift_own);
	l->w_own = NULL;
	l->mult_own = l->shift_own = NULL;
}

static int describe(const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
		    struct layer *l, struct qnpu_npu_job *job);

static int describe_onnx(const struct qnpu_ir_graph *g,
			 const struct qnpu_ir_op *op, struct layer *l,
			 struct qnpu_npu_job *job);

static int why(struct qnpu_npu_job *job, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int why(struct qnpu_npu_job *job, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(job->why, sizeof(job->why), fmt, ap);
	va_end(ap);
	job->err = -ENOTSUP;
	return -ENOTSUP;
}

static uint32_t div_up(uint64_t a, uint64_t b)
{
	return (uint32_t)((a + b - 1) / b);
}

/*
 * The sibling @so of layer @l: its tiles read the rows of @l's input bands
 * (same input, strides, output size and channels, a 1x1 kernel whose row
 * lies inside @l's window), so the job computes both from one load.
 */
static int describe_sib(const struct qnpu_ir_graph *g,
			const struct qnpu_ir_op *so, struct layer *l,
			struct qnpu_npu_job *job)
{
	struct layer *s;
	int r;

	if (so->sib || so->res_add || l->res || l->kind != JOB_CONV)
		return why(job, "operator %d cannot be computed with this one",
			   so->index);
	s = calloc(1, sizeof(*s));
	if (!s) {
		job->err = -ENOMEM;
		return why(job, "out of memory");
	}
	l->sib = s;
	r = describe(g, so, s, job);
	if (r)
		return r;
	if (so->nin > 2 && so->in[2] >= 0) {
		s->bias = (const int32_t *)g->tensors[so->in[2]].const_data;
		if (!s->bias)
			return why(job, "bias is not constant");
	}
	if (s->kind != JOB_CONV || s->tin != l->tin || s->kh != 1 ||
	    s->kw != 1 || s->ic != l->ic || s->oh != l->oh ||
	    s->ow != l->ow || s->oc != l->oc || s->sh != l->sh ||
	    s->sw != l->sw || s->nimg != l->nimg || s->in_off != l->in_off ||
	    s->fp != l->fp || (l->kh == 1 && l->sh > 1) ||
	    l->pad_t < s->pad_t || l->pad_t - s->pad_t > (l->kh - 1) * l->dh ||
	    l->pad_l < s->pad_l || l->pad_l - s->pad_l > (l->kw - 1) * l->dw)
		return why(job, "operator %d does not read inside this one's windows",
			   so->index);
	return 0;
}

/* Fill @l from the IR and the operator's requantization parameters. */
static int describe(const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
		    struct layer *l, struct qnpu_npu_job *job)
{
	const struct qnpu_op_params *c = op->params;
	const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);

	memset(l, 0, sizeof(*l));
	if (!c)
		return why(job, "operator was not prepared");
	l->tin = op->in[0];
	l->tout = op->out[0];
	l->kh = l->kw = l->sh = l->sw = l->dh = l->dw = l->dm = 1;
	l->nimg = 1;
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
		l->kind = op->builtin == QNPU_TFL_CONV_2D ? JOB_CONV : JOB_DW;
		l->nimg = c->is.n;
		if (!w->const_data)
			return why(job, "weights are not constant");
		if (w->zero_point[0] != 0)
			return why(job, "weights have zero point %d",
				   w->zero_point[0]);
		l->ih = c->is.h; l->iw = c->is.w; l->ic = c->is.c;
		l->oh = c->os.h; l->ow = c->os.w; l->oc = c->os.c;
		l->kh = c->fs.h; l->kw = c->fs.w;
		l->sh = c->p.conv.stride_h; l->sw = c->p.conv.stride_w;
		l->dh = c->p.conv.dilation_h; l->dw = c->p.conv.dilation_w;
		l->pad_t = c->p.conv.pad_h; l->pad_l = c->p.conv.pad_w;
		l->dm = l->kind == JOB_DW ? c->p.conv.depth_multiplier : 1;
		l->in_off = c->p.conv.input_offset;
		l->out_zp = c->p.conv.output_offset;
		l->act_min = c->p.conv.act_min;
		l->act_max = c->p.conv.act_max;
		l->w = (const int8_t *)w->const_data;
		l->mult = c->mult;
		l->shift = c->shift;
		l->per_channel = true;
		if (op->res_add) {
			const struct qnpu_ir_op *a = &g->ops[op->res_add - 1];

			l->res = &a->params->p.add;
			l->res_swap = a->in[1] == op->out[0];
			l->tres = a->in[l->res_swap ? 0 : 1];
			l->tout = a->out[0];
		}
		break;
	case QNPU_TFL_FULLY_CONNECTED:
		l->kind = JOB_CONV;
		if (!w->const_data)
			return why(job, "weights are not constant");
		if (c->p.fc.filter_offset != 0)
			return why(job, "weights have zero point %d",
				   -c->p.fc.filter_offset);
		l->ih = 1; l->iw = c->batches; l->ic = c->accum;
		l->oh = 1; l->ow = c->batches; l->oc = c->out_depth;
		l->in_off = c->p.fc.input_offset;
		l->out_zp = c->p.fc.output_offset;
		l->act_min = c->p.fc.act_min;
		l->act_max = c->p.fc.act_max;
		l->w = (const int8_t *)w->const_data;
		l->mult = c->mult;
		l->shift = c->shift;
		l->per_channel = c->p.fc.per_channel;
		break;
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
		l->kind = op->builtin == QNPU_TFL_MAX_POOL_2D ? JOB_MAXPOOL :
			  JOB_AVGPOOL;
		l->nimg = c->is.n;
		l->ih = c->is.h; l->iw = c->is.w; l->ic = c->is.c;
		l->oh = c->os.h; l->ow = c->os.w; l->oc = c->os.c;
		l->kh = c->p.pool.filter_h; l->kw = c->p.pool.filter_w;
		l->sh = c->p.pool.stride_h; l->sw = c->p.pool.stride_w;
		l->pad_t = c->p.pool.pad_h; l->pad_l = c->p.pool.pad_w;
		l->act_min = c->p.pool.act_min;
		l->act_max = c->p.pool.act_max;
		break;
	case QNPU_TFL_ADD:
		l->kind = JOB_ADD;
		if (c->broadcast)
			return why(job, "broadcasting add");
		l->tin2 = op->in[1];
		l->add = &c->p.add;
		l->count = g->tensors[l->tout].count;
		if (l->add->left_shift > 31 || l->add->in1_shift < -128 ||
		    l->add->in1_shift > 127 || l->add->in2_shift < -128 ||
		    l->add->in2_shift > 127 || l->add->in1_offset < -32768 ||
		    l->add->in1_offset > 32767 ||
		    l->add->in2_offset < -32768 || l->add->in2_offset > 32767)
			return why(job, "add parameters out of the command's range");
		break;
	default:
		if (op->builtin >= QNPU_ONNX_BASE) {
			int r = describe_onnx(g, op, l, job);

			if (r)
				return r;
			break;
		}
		return why(job, "no NPU lowering for %s",
			   qnpu_ir_op_name(op->builtin));
	}
	if (l->nimg < 1)
		return why(job, "batch of %d images", l->nimg);
	if (l->kind != JOB_ADD &&
	    (l->kh > 255 || l->kw > 255 || l->sh > 255 || l->sw > 255 ||
	     l->dh > 255 || l->dw > 255 || l->pad_t > 127 || l->pad_l > 127 ||
	     l->dm > 255 || l->ic > 65535 || l->ih > 65535 || l->iw > 65535 ||
	     l->ow > 65535))
		return why(job, "kernel, stride, padding or size beyond the command fields");
	if (l->in_off < -32768 || l->in_off > 32767)
		return why(job, "input offset %d beyond 16 bits", l->in_off);
	/* with a residual, the PBUF holds its parameter set after each group's */
	l->psw = l->res ? 2 * PSET_WORDS : PSET_WORDS;
	return op->sib ? describe_sib(g, &g->ops[op->sib - 1], l, job) : 0;
}

/* @bytes less @less, in halves of whole words (0 if nothing is left). */
static uint32_t halves_left(uint32_t bytes, uint64_t less, uint32_t C)
{
	return bytes > less ? (uint32_t)((bytes - less) / (2 * C) * (2 * C)) :
	       0;
}

/*
 * The target as a fused layer's inputs see it: the top obuf_bytes of ABUF
 * hold the residual, two halves of at most a unit's output each; the top
 * of WBUF and PBUF a sibling's weights and parameters, resident.
 */
static struct qnpu_npu_target res_target(const struct qnpu_npu_target *t,
					 const struct layer *l)
{
	struct qnpu_npu_target r = *t;
	const uint64_t G = div_up((uint64_t)l->oc, t->cols);

	if (l->res)
		r.abuf_bytes = halves_left(t->abuf_bytes, t->obuf_bytes,
					   t->cols);
	if (l->sib) {
		r.wbuf_bytes = halves_left(t->wbuf_bytes,
					   G * l->ic * t->cols, t->cols);
		r.pbuf_bytes = halves_left(t->pbuf_bytes,
					   G * l->sib->psw * t->cols, t->cols);
	}
	return r;
}

bool qnpu_npu_supported(const struct qnpu_npu_target *t,
			const struct qnpu_ir_op *op)
{
	(void)t;
	switch (op->builtin) {
	case QNPU_TFL_CONV_2D:
	case QNPU_TFL_DEPTHWISE_CONV_2D:
	case QNPU_TFL_FULLY_CONNECTED:
	case QNPU_TFL_AVERAGE_POOL_2D:
	case QNPU_TFL_MAX_POOL_2D:
	case QNPU_TFL_ADD:
	/* ONNX: the PPU_FP mode reproduces ONNX Runtime's requantization */
	case QNPU_ONNX_QLINEAR_CONV:
	case QNPU_ONNX_QLINEAR_MATMUL:
	case QNPU_ONNX_QLINEAR_AVG_POOL:
	case QNPU_ONNX_MAX_POOL:
		return true;
	}
	return false;
}

/* Rows of input an output band of @bo rows needs. */
static int32_t band_in_rows(const struct layer *l, int32_t bo)
{
	int32_t n = (bo - 1) * l->sh + (l->kh - 1) * l->dh + 1;

	return n < l->ih ? n : l->ih;
}

/*
 * Depthwise and pooling layers whose pixels have fewer channels than C
 * (C a multiple of IC): the input stays dense in ABUF as image rows, one
 * burst per row, and the PACKED vector mode addresses each pixel inside
 * its word (docs/hw-spec.md 5.4). No fused residual (it reads whole words).
 */
static bool vec_dense(const struct qnpu_npu_target *t, const struct layer *l)
{
	return l->kind != JOB_CONV && l->kind != JOB_ADD && !l->res &&
	       l->ic < (int32_t)t->cols && t->cols % (uint32_t)l->ic == 0;
}

/*
 * Column groups of a dense layer: when its OC channels fill only C / S
 * columns (S = 2, the most the device has), S pixels share an array row,
 * each group of OC
 * columns computing one of them, so no column idles and the OBUF words
 * hold the output densely. AVGPOOL counts taps per row: one group.
 */
static uint32_t vec_groups(const struct qnpu_npu_target *t,
			   const struct layer *l)
{
	uint32_t s;

	if (!vec_dense(t, l) || l->kind == JOB_AVGPOOL)
		return 1;
	for (s = 2; s > 1; s /= 2)
		if (t->cols % s == 0 && (uint32_t)l->oc * s == t->cols)
			return s;
	return 1;
}

/*
 * Whether a resident input is loaded band by band in place (the rows
 * each band adds) rather than streamed through two halves: no halo row
 * loaded twice, no load waiting for a compute, and every ABUF word
 * loaded once, so a producer's DRAINs can write it (on-chip handoff).
 * Not with a 1-row kernel that skips rows (its rows are stacked), nor
 * for a convolution with a fused residual or a sibling (their ABUF
 * halves hold more than the input).
 */
static bool vec_resident_bands(const struct qnpu_npu_target *t,
			       const struct layer *l)
{
	(void)t;
	return l->kind != JOB_ADD && !l->res && !l->sib &&
	       !(l->kh == 1 && l->sh > 1);
}

/* Bytes of ABUF one input row takes, in the layout of the unit. */
static uint32_t in_row_bytes(const struct qnpu_npu_target *t,
			     const struct layer *l, uint32_t pix_words)
{
	if (l->kind == JOB_CONV || vec_dense(t, l))
		return div_up((uint64_t)l->iw * l->ic, t->cols) * t->cols;
	return (uint32_t)l->iw * pix_words * t->cols;
}

/*
 * Plan variants the compiler weighs with its cost model:
 *   PLAN_BANDS   resident operands, input in PIPE_UNITS bands for overlap
 *   PLAN_FINE    the same in twice as many bands
 *   PLAN_WHOLE   resident operands as they are
 *   PLAN_GROUPS  weights streamed one channel group per unit
 *   PLAN_GROUPS2, PLAN_GROUPS4  two or four groups per unit: fewer, longer
 *                loads, each paying the memory latency once (a batched
 *                FULLY_CONNECTED is bound by its weight stream)
 *   PLAN_RING1, PLAN_RING2  one or two groups' weights and parameters per
 *                unit through RING_SLOTS slots, input resident: unit u's
 *                LOAD waits only for unit u - RING_SLOTS's compute
 * (qnpu_cost.c predicts each; the fastest is kept)
 */
enum { PLAN_BANDS, PLAN_FINE, PLAN_WHOLE, PLAN_GROUPS, PLAN_GROUPS2,
       PLAN_GROUPS4, PLAN_RING1, PLAN_RING2, PLAN_VARIANTS };
#define RING_SLOTS 4

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Pixels of a tile: R rows of S pixels, as many as NPIX can count. */
static uint32_t tile_pix(const struct qnpu_npu_target *t, const struct layer *l)
{
	uint32_t S = vec_groups(t, l);

	return min_u32(t->rows * S, 255 / S * S);
}

/* Tiles of @m pixels (per channel group) in bands of @bo output rows. */
static uint32_t band_tiles(const struct layer *l, uint32_t bo, uint32_t m)
{
	uint32_t oy, n = 0;

	for (oy = 0; oy < (uint32_t)l->oh; oy += bo)
		n += div_up((uint64_t)min_u32(bo, (uint32_t)l->oh - oy) *
			    (uint32_t)l->ow, m);
	return n;
}

static int plan(const struct qnpu_npu_target *t0, const struct layer *l,
		struct qnpu_npu_job *job, int variant, bool tail)
{
	const struct qnpu_npu_target tr = res_target(t0, l), *t = &tr;
	const uint32_t C = t->cols;
	const uint32_t wb = t->wbuf_bytes / C, pb = t->pbuf_bytes / C;
	const uint32_t ob = t->obuf_bytes / C;
	const uint32_t G = div_up((uint64_t)l->oc, C);
	bool vec = l->kind != JOB_CONV && !vec_dense(t, l);
	bool weights = l->kind == JOB_CONV || l->kind == JOB_DW;
	uint64_t K = l->kind == JOB_CONV ? (uint64_t)l->kh * l->kw * l->ic :
		     (uint64_t)l->kh * l->kw;
	uint32_t pix_words, bo, nsets, oy;

	job->kind = l->kind;
	job->w_group_bytes = weights ? K * C : 0;
	/* Weights and parameter sets: resident if all fit, else per set. */
	if (!t->abuf_bytes)
		return why(job, "no activation SRAM left beside the residual");
	if (!wb || !pb)
		return why(job, "no weight or parameter SRAM left beside the sibling's");
	job->w_slots = 0;
	if (variant >= PLAN_RING1) {
		job->gset = variant == PLAN_RING1 ? 1 : 2;
		if (!weights || l->kind != JOB_CONV || l->res || l->sib ||
		    G <= job->gset * RING_SLOTS ||
		    (uint64_t)job->gset * K > wb / RING_SLOTS ||
		    (uint64_t)job->gset * l->psw > pb / RING_SLOTS)
			return why(job, "no ring plan");
		job->w_stream = true;
		job->p_resident = false;
		job->w_slots = RING_SLOTS;
	} else if (!weights || ((G * K <= wb && (uint64_t)G * l->psw <= pb) &&
			 !(variant >= PLAN_GROUPS && G > 1))) {
		job->w_stream = false;
		job->gset = G;
	} else if (variant >= PLAN_GROUPS && K <= wb / 2) {
		job->w_stream = true;
		job->gset = variant == PLAN_GROUPS ? 1 :
			    variant == PLAN_GROUPS2 ? 2 : 4;
		if (job->gset > (wb / 2) / K)
			job->gset = (uint32_t)((wb / 2) / K);
		if (job->gset > (pb / 2) / l->psw)
			job->gset = (pb / 2) / l->psw;
		if (!job->gset)
			job->gset = 1;
		/* every group's parameters fit: loaded once, by unit 0 */
		job->p_resident = variant > PLAN_GROUPS &&
				  (uint64_t)G * l->psw <= pb;
	} else {
		job->w_stream = true;
		job->gset = (uint32_t)((wb / 2) / K);
		if (job->gset > (pb / 2) / l->psw)
			job->gset = (pb / 2) / l->psw;
	}
	/*
	 * A reduction longer than half the weight SRAM is split over input
	 * channels: a tile of at most R pixels accumulates chunk after chunk
	 * (each a unit of its own) and drains after the last.
	 */
	job->ic_chunk = (uint32_t)l->ic;
	job->nchunks = 1;
	if (job->w_slots && ((uint64_t)l->ih * in_row_bytes(t, l, 0) >
			     t->abuf_bytes))
		return why(job, "a ring plan keeps its input resident");
	if (weights && job->w_stream && !job->gset) {
		uint32_t icc = (wb / 2) / ((uint32_t)l->kh * (uint32_t)l->kw);

		if (l->kind != JOB_CONV || !icc)
			return why(job, "one channel group needs %llu weight words, half the weight SRAM holds %u",
				   (unsigned long long)K, wb / 2);
		job->ic_chunk = icc;
		job->nchunks = div_up((uint64_t)l->ic, icc);
		job->gset = 1;
	}
	/* Depth multiplier > 1 slices input channels per group. */
	if (vec && l->dm > 1)
		job->gset = 1;
	if (job->gset > G)
		job->gset = G;
	if (job->w_stream && (uint64_t)job->gset * l->psw > pb / 2)
		return why(job, "a channel group's parameters need %u words, half the parameter SRAM holds %u",
			   l->psw, pb / 2);

	/* Input: resident if the whole tensor fits, else bands. */
	pix_words = vec ? (l->dm > 1 ? 1 : G) : 0;
	if (vec && l->dm == 1 && (uint64_t)l->ih * in_row_bytes(t, l, G) >
				 t->abuf_bytes)
		pix_words = job->gset;	/* stream channel slices */
	job->in_stream = (vec && l->dm > 1) ||
			 (uint64_t)l->ih * in_row_bytes(t, l, pix_words) >
			 t->abuf_bytes || pix_words != (vec ? G : 0);
	if (in_row_bytes(t, l, pix_words) > 65535 ||
	    (vec && pix_words * C > 65535))
		return why(job, "an input row of %d x %d does not fit the command's strides",
			   l->iw, l->ic);
	bo = (uint32_t)l->oh;
	if (job->in_stream) {
		uint32_t budget = t->abuf_bytes / 2;

		while (bo > 0 && (uint64_t)band_in_rows(l, (int32_t)bo) *
			in_row_bytes(t, l, pix_words) > budget)
			bo--;
		if (!bo)
			return why(job, "one output row needs more than half the activation SRAM");
	}
	/*
	 * A resident input still goes in bands when that gives the pipeline
	 * a few units: loading band b+1 and storing b-1 then overlap the
	 * compute of band b, instead of bracketing the whole layer.
	 */
	if ((variant == PLAN_BANDS || variant == PLAN_FINE) &&
	    !job->in_stream && !job->w_stream && l->oh >= PIPE_UNITS) {
		uint32_t b = div_up((uint64_t)l->oh, variant == PLAN_FINE ?
				    2 * PIPE_UNITS : PIPE_UNITS);

		if (vec_resident_bands(t, l)) {
			/* the input stays resident, each band loads only its
			 * new rows; a depthwise/pool band is whole tiles where
			 * the width allows */
			uint32_t S = vec_groups(t, l), m = t->rows * S, a, r;

			for (a = m, r = (uint32_t)l->ow; r; ) {	/* gcd */
				uint32_t x = a % r;

				a = r;
				r = x;
			}
			m /= a;		/* output rows per whole tiles */
			if (l->kind != JOB_CONV &&
			    div_up(b, m) * m * 2 <= (uint32_t)l->oh)
				b = div_up(b, m) * m;
			/* bands that cut the image into more tiles than it
			 * has whole cost a tile's steps each for the overlap;
			 * when the input comes on chip (handoff) there is
			 * none to gain, and the segment cuts a whole input's
			 * first load itself */
			if (band_tiles(l, b, tile_pix(t, l)) >
			    band_tiles(l, (uint32_t)l->oh, tile_pix(t, l)))
				return why(job, "bands of %u rows cut the image into more tiles",
					   b);
			bo = b;
		} else if ((uint64_t)band_in_rows(l, (int32_t)b) *
			   in_row_bytes(t, l, pix_words) <= t->abuf_bytes / 2) {
			job->in_stream = true;
			bo = b;
		}
	}
	while ((uint64_t)bo * l->ow > 65535)
		bo--;
	job->band_rows = bo;
	/* Output: a unit's pixels x groups fit half of OBUF (column groups
	 * put several pixels in a word). */
	job->unit_pix = (ob / 2) / job->gset * vec_groups(t, l);
	if (job->nchunks > 1 && job->unit_pix > t->rows)
		job->unit_pix = t->rows;	/* one accumulator tile */
	if (job->unit_pix > bo * (uint32_t)l->ow)
		job->unit_pix = bo * (uint32_t)l->ow;
	if (!job->unit_pix)
		return why(job, "output tile does not fit the output SRAM");
	/* The last band may be shorter and need fewer pixel ranges. */
	nsets = div_up(G, job->gset);
	job->nunits = 0;
	for (oy = 0; oy < (uint32_t)l->oh; oy += bo) {
		uint32_t rows = (uint32_t)l->oh - oy < bo ?
				(uint32_t)l->oh - oy : bo;

		job->nunits += (int)(nsets * job->nchunks *
				     div_up((uint64_t)rows * l->ow,
					    job->unit_pix));
		/* the layer's last unit, whose store the next layer waits for:
		 * with @tail, its last tile a unit of its own, so that only a
		 * tile's store is left after the last compute */
		if (oy + bo >= (uint32_t)l->oh && tail) {
			uint32_t pix = rows * (uint32_t)l->ow;
			uint32_t np = pix - (pix - 1) / job->unit_pix *
				      job->unit_pix;

			if (np <= tile_pix(t, l))
				return why(job, "no tail to split");
			job->tail = true;
			job->nunits += (int)job->nchunks;
		}
	}
	return 0;
}

static int plan_add(const struct qnpu_npu_target *t, const struct layer *l,
		    struct qnpu_npu_job *job, int variant)
{
	const uint32_t pipe[PLAN_GROUPS + 1] = { PIPE_UNITS, 2 * PIPE_UNITS,
						 1, 4 * PIPE_UNITS };
	uint32_t C = t->cols, words = div_up(l->count, C);
	uint32_t per_unit = (t->abuf_bytes / 2) / (2 * C);

	/* an ADD has no weights to stream in larger sets */
	if (variant > PLAN_GROUPS)
		return why(job, "no ADD plan %d", variant);
	job->w_slots = 0;
	job->kind = JOB_ADD;
	if (per_unit > (t->obuf_bytes / C) / 2)
		per_unit = (t->obuf_bytes / C) / 2;
	if (per_unit > 65535 / C)
		per_unit = 65535 / C;	/* one LOAD row per operand */
	if (per_unit > div_up(words, pipe[variant]))	/* overlap DMA */
		per_unit = div_up(div_up(words, pipe[variant]), t->rows) *
			   t->rows;
	job->unit_pix = per_unit;
	job->gset = 1;
	job->in_stream = true;
	job->nunits = (int)div_up(words, per_unit);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/*
 * Layer @l's weights as WBUF words (one byte per column), @wgb bytes per
 * channel group, reduction chunks of @icc input channels, at @out; its
 * parameter sets after them.
 */
static void pack_groups(const struct qnpu_npu_target *t, const struct layer *l,
			uint8_t *out, size_t wgb, uint32_t icc)
{
	const uint32_t C = t->cols;
	uint32_t G = div_up((uint64_t)l->oc, C), g, c;
	size_t K = wgb / C, s;
	size_t pset_bytes = (size_t)l->psw * C;
	const uint32_t S = vec_groups(t, l);
	uint8_t *pbase = out + G * wgb;

	for (g = 0; g < G; g++) {
		uint8_t *wg = out + g * wgb;
		uint8_t *pg = pbase + g * pset_bytes;

		/* the residual set: both input multipliers, the output's */
		for (c = 0; l->res && c < C; c++) {
			uint8_t *rs = pg + (size_t)PSET_WORDS * C;

			put32(rs + (0 * C + c) * 4, (uint32_t)(l->res_swap ?
			      l->res->in2_mult : l->res->in1_mult));
			put32(rs + (1 * C + c) * 4, (uint32_t)(l->res_swap ?
			      l->res->in1_mult : l->res->in2_mult));
			put32(rs + (2 * C + c) * 4, (uint32_t)l->res->out_mult);
		}

		for (c = 0; c < C && (g * C + c < (uint32_t)l->oc || S > 1);
		     c++) {
			/* column groups repeat the channels in every group */
			uint32_t oc = S > 1 ? c % (uint32_t)l->oc : g * C + c;
			uint32_t ch = l->per_channel ? oc : 0;

			if (l->kind == JOB_DW) {	/* [1][ky][kx][oc] */
				for (s = 0; s < K; s++)
					wg[s * C + c] = (uint8_t)
						l->w[s * (size_t)l->oc + oc];
			} else {
				/* [oc][ky][kx][i], chunk by chunk of i */
				size_t taps = (size_t)l->kh * l->kw, tap;
				uint32_t i0, i;

				s = 0;
				for (i0 = 0; i0 < (uint32_t)l->ic;
				     i0 += icc) {
					uint32_t n = (uint32_t)l->ic - i0 <
						     icc ?
						     (uint32_t)l->ic - i0 :
						     icc;

					for (tap = 0; tap < taps; tap++)
						for (i = i0; i < i0 + n; i++)
							wg[s++ * C + c] = (uint8_t)
								l->w[(size_t)oc * K +
								     tap * l->ic + i];
				}
			}
			put32(pg + (0 * C + c) * 4,
			      l->bias ? (uint32_t)l->bias[oc] : 0);
			put32(pg + (1 * C + c) * 4, (uint32_t)l->mult[ch]);
			put32(pg + (2 * C + c) * 4, (uint32_t)l->shift[ch]);
		}
	}
}

/* Weights as WBUF words (one byte per column) and parameter sets. */
static int pack(const struct qnpu_npu_target *t, const struct layer *l,
		struct qnpu_npu_job *job)
{
	const uint32_t C = t->cols;
	uint32_t G = div_up((uint64_t)l->oc, C), c;
	size_t pset_bytes = (size_t)l->psw * C;

	if (l->kind == JOB_ADD) {
		/* One parameter set: bias 0, the output multiplier and shift. */
		job->p_off = 0;
		job->consts_len = (size_t)PSET_WORDS * C;
		job->consts = calloc(1, job->consts_len);
		if (!job->consts)
			return -ENOMEM;
		for (c = 0; c < C; c++) {
			put32(job->consts + (1 * C + c) * 4,
			      (uint32_t)l->add->out_mult);
			put32(job->consts + (2 * C + c) * 4,
			      (uint32_t)l->add->out_shift);
		}
		return 0;
	}
	if (l->kind != JOB_CONV && l->kind != JOB_DW)
		return 0;
	job->p_off = G * job->w_group_bytes;
	job->consts_len = job->p_off + G * pset_bytes;
	/* a sibling's weights (K = IC) and parameter sets after them */
	job->sib_off = job->consts_len;
	if (l->sib)
		job->consts_len += G * ((size_t)l->ic * C +
					(size_t)l->sib->psw * C);
	job->consts = calloc(1, job->consts_len);
	if (!job->consts)
		return -ENOMEM;
	pack_groups(t, l, job->consts, job->w_group_bytes, job->ic_chunk);
	if (l->sib)
		pack_groups(t, l->sib, job->consts + job->sib_off,
			    (size_t)l->ic * C, (uint32_t)l->ic);
	return 0;
}

static uint64_t no_va(void *ctx, int tensor)
{
	(void)ctx;
	(void)tensor;
	return 1ull << 32;
}

/* Plan every variant, emit it, and keep the one predicted fastest. */
static int choose_plan(const struct qnpu_npu_target *t,
		       const struct qnpu_ir_graph *g,
		       const struct qnpu_ir_op *op, const struct layer *l,
		       struct qnpu_npu_job *job)
{
	struct qnpu_npu_job best = { 0 }, cand;
	uint64_t best_cycles = UINT64_MAX;
	int v, r, err = 0;

	/*
	 * Each plan with its last tile as a unit of its own or not, and with
	 * a residual loaded unit by unit or whole.
	 */
	for (v = 0; v < PLAN_VARIANTS * 4; v++) {
		bool whole = v / PLAN_VARIANTS % 2, tail = v / PLAN_VARIANTS / 2;

		if ((whole && !l->res) || (l->kind == JOB_ADD && v >= PLAN_VARIANTS))
			continue;
		cand = (struct qnpu_npu_job){ 0 };
		r = l->kind == JOB_ADD ? plan_add(t, l, &cand, v) :
		    plan(t, l, &cand, v % PLAN_VARIANTS, tail);
		cand.res_whole = whole;
		if (!r && cand.res_whole &&
		    ((uint64_t)l->oh * l->ow * l->oc > t->obuf_bytes ||
		     l->oc % t->cols))
			r = why(&cand, "the residual does not fit whole");
		if (!r) {
			/* Weights come after the plan: emit needs their sizes. */
			cand.p_off = 0;
			r = qnpu_npu_emit(t, g, op, &cand, no_va, NULL);
		}
		if (r) {
			if (!err) {
				err = r;
				memcpy(job->why, cand.why, sizeof(job->why));
			}
			free(cand.cmds);
			continue;
		}
		cand.est_cycles = qnpu_npu_stream_cycles(t, cand.cmds,
							 cand.ncmds,
							 &cand.est_dma_in,
							 &cand.est_dma_out);
		free(cand.cmds);
		cand.cmds = NULL;
		cand.ncmds = cand.cap = 0;
		if (cand.est_cycles < best_cycles) {
			best_cycles = cand.est_cycles;
			best = cand;
		}
	}
	if (best_cycles == UINT64_MAX) {
		job->err = err;
		return err;
	}
	memcpy(best.why, job->why, sizeof(best.why));
	best.why[0] = 0;
	*job = best;
	return 0;
}

int qnpu_npu_pack(const struct qnpu_npu_target *t,
		  const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
		  struct qnpu_npu_job *job)
{
	struct layer l;
	int r;

	memset(job, 0, sizeof(*job));
	r = describe(g, op, &l, job);
	if (r) {
		layer_free(&l);
		return r;
	}
	if (op->nin > 2 && op->in[2] >= 0 &&
	    (l.kind == JOB_CONV || l.kind == JOB_DW))
		l.bias = (const int32_t *)g->tensors[op->in[2]].const_data;
	if (op->nin > 2 && op->in[2] >= 0 && !l.bias &&
	    (l.kind == JOB_CONV || l.kind == JOB_DW))
		r = why(job, "bias is not constant");
	if (!r)
		r = choose_plan(t, g, op, &l, job);
	if (!r && pack(t, &l, job))
		r = why(job, "out of memory packing weights");
	layer_free(&l);
	return r;
}

void qnpu_npu_job_free(struct qnpu_npu_job *job)
{
	free(job->consts);
	free(job->cmds);
	memset(job, 0, sizeof(*job));
}

/* ---- command emission ---- */

static struct qnpu_cmd *cmd_new(struct qnpu_npu_job *job, uint32_t opcode)
{
	struct qnpu_cmd *c;

	if (job->ncmds == job->cap) {
		size_t cap = job->cap ? job->cap * 2 : 64;
		struct qnpu_cmd *n = realloc(job->cmds, cap * sizeof(*n));

		if (!n) {
			job->err = -ENOMEM;
			return NULL;
		}
		job->cmds = n;
		job->cap = cap;
	}
	c = &job->cmds[job->ncmds++];
	memset(c, 0, sizeof(*c));
	c->w[0] = opcode;
	return c;
}

/* Set a field; a value that does not fit makes the whole emit fail. */
static void field(struct qnpu_npu_job *job, struct qnpu_cmd *c, int word,
		  int shift, uint32_t mask, int is_signed, int64_t v)
{
	uint32_t width = (uint32_t)__builtin_popcount(mask);
	int64_t lo = is_signed ? -(1ll << (width - 1)) : 0;
	int64_t hi = is_signed ? (1ll << (width - 1)) - 1 :
		     (int64_t)((1ull << width) - 1);

	if (!c)
		return;
	if (v < lo || v > hi) {
		if (!job->err)
			snprintf(job->why, sizeof(job->why),
				 "field at word %d bit %d: %lld out of range",
				 word, shift, (long long)v);
		job->err = -ERANGE;
		return;
	}
	c->w[word] = (c->w[word] & ~mask) |
		     (((uint32_t)v << shift) & mask);
}

#define F(job, c, name, v) \
	field(job, c, QNPU_CMD_##name##_WORD, QNPU_CMD_##name##_SHIFT, \
	      QNPU_CMD_##name##_MASK, QNPU_CMD_##name##_SIGNED, (int64_t)(v))

struct unit_tok {
	bool pop_prev, pop_next, push_prev, push_next;
};

/*
 * DMA of @rows x @row_bytes between device memory and SRAM. Rows longer
 * than the field allows are not produced by the planner.
 */
static struct qnpu_cmd *dma(struct qnpu_npu_job *job, uint32_t op, int buf,
			    uint64_t va, uint32_t dstride, uint32_t row_bytes,
			    uint32_t rows, uint32_t sram, uint32_t sstride)
{
	struct qnpu_cmd *c = cmd_new(job, op);

	F(job, c, BUF, op == QNPU_OP_LOAD ? buf : 0);
	F(job, c, DRAM_LO, va & 0xffffffffu);
	F(job, c, DRAM_HI, va >> 32);
	F(job, c, DRAM_STRIDE, dstride);
	F(job, c, ROW_BYTES, row_bytes);
	F(job, c, ROWS, rows);
	F(job, c, SRAM_ADDR, sram);
	F(job, c, SRAM_STRIDE, sstride);
	return c;
}

/* A contiguous block of @bytes, in rows as long as the field allows. */
static void dma_block(const struct qnpu_npu_target *t, struct qnpu_npu_job *job,
		      uint32_t op, int buf, uint64_t va, uint64_t bytes,
		      uint32_t sram)
{
	uint32_t rb = (65535 / t->cols) * t->cols;
	uint64_t rows = bytes / rb, rest = bytes % rb;

	while (rows) {
		uint32_t n = rows > 65535 ? 65535 : (uint32_t)rows;

		dma(job, op, buf, va, rb, rb, n, sram, rb / t->cols);
		va += (uint64_t)n * rb;
		sram += n * (rb / t->cols);
		rows -= n;
	}
	if (rest)
		dma(job, op, buf, va, (uint32_t)rest, (uint32_t)rest, 1, sram,
		    1);
}

/* Rows of a strided region, split when the row count exceeds the field. */
static void dma_rows(struct qnpu_npu_job *job, uint32_t op, int buf,
		     uint64_t va, uint32_t dstride, uint32_t row_bytes,
		     uint64_t rows, uint32_t sram, uint32_t sstride)
{
	while (rows) {
		uint32_t n = rows > 65535 ? 65535 : (uint32_t)rows;

		dma(job, op, buf, va, dstride, row_bytes, n, sram, sstride);
		va += (uint64_t)n * dstride;
		sram += n * sstride;
		rows -= n;
	}
}

/* Flags of the first and last command of an engine within a unit. */
static void tokens(struct qnpu_npu_job *job, size_t first, size_t last,
		   const struct unit_tok *tk)
{
	if (first >= job->ncmds || job->err)
		return;
	if (tk->pop_prev)
		job->cmds[first].w[0] |= QNPU_CMD_POP_PREV_MASK;
	if (tk->pop_next)
		job->cmds[first].w[0] |= QNPU_CMD_POP_NEXT_MASK;
	if (tk->push_prev)
		job->cmds[last].w[0] |= QNPU_CMD_PUSH_PREV_MASK;
	if (tk->push_next)
		job->cmds[last].w[0] |= QNPU_CMD_PUSH_NEXT_MASK;
}

struct emit {
	const struct qnpu_npu_target *t;
	const struct layer *l;
	struct qnpu_npu_job *job;
	uint64_t in_va, in2_va, out_va;
	uint32_t C, R, G;
	bool stream;		/* every unit loads */
	uint32_t opc;		/* the layer's COMPUTE opcode */
	uint64_t res_va;	/* the fused residual's other operand */
	bool dense;		/* vector mode on dense image rows (PACKED) */
	uint32_t S;		/* column groups (pixels per array row) */
	bool inc;		/* resident input loaded band by band */
	int32_t loaded;		/* its rows loaded so far */
	uint32_t res_base;	/* its two ABUF halves (bytes) */
	int32_t skip;		/* input rows a 1-row kernel steps over */
	/* the layer being emitted: its weights and parameters in WBUF/PBUF
	 * (a sibling's after the main layer's), and whether a sibling still
	 * reads the unit's ABUF after it */
	uint32_t K, wofs, pofs;
	bool keep_abuf;
	bool abs_w;		/* resident by group whatever the layer streams */
	uint64_t sib_va;	/* a sibling's output */
};

/*
 * Load the input rows y_lo, y_lo + skip, ... (n of them) and the channel
 * slice of a unit. A 1-row kernel with a vertical stride reads every
 * skip-th row only, so only those are loaded (skip > 1 only then).
 */
static void load_input(struct emit *e, int32_t y_lo, int32_t n, int32_t skip,
		       uint32_t c0, uint32_t nch, uint32_t pix_words,
		       uint32_t abase)
{
	const struct layer *l = e->l;
	uint64_t va = e->in_va + ((uint64_t)y_lo * l->iw * l->ic);
	uint32_t rb = (uint32_t)l->iw * l->ic;

	if (l->kind == JOB_CONV || e->dense) {
		dma_rows(e->job, QNPU_OP_LOAD, QNPU_BUF_ABUF, va, rb * skip,
			 rb, (uint64_t)n, abase / e->C, div_up(rb, e->C));
	} else if (c0 == 0 && nch == (uint32_t)l->ic &&
		   l->ic % e->C == 0 && pix_words * e->C == (uint32_t)l->ic) {
		/* Whole pixels, word aligned: image rows as they are. */
		dma_rows(e->job, QNPU_OP_LOAD, QNPU_BUF_ABUF, va, rb * skip,
			 rb, (uint64_t)n, abase / e->C, rb / e->C);
	} else if (skip > 1) {
		int32_t y;

		for (y = 0; y < n; y++)
			dma_rows(e->job, QNPU_OP_LOAD, QNPU_BUF_ABUF,
				 va + (uint64_t)y * skip * rb + c0,
				 (uint32_t)l->ic, nch, (uint64_t)l->iw,
				 abase / e->C + (uint32_t)y * l->iw * pix_words,
				 pix_words);
	} else {
		/* One row per pixel: its channel slice, word aligned. */
		dma_rows(e->job, QNPU_OP_LOAD, QNPU_BUF_ABUF, va + c0,
			 (uint32_t)l->ic, nch, (uint64_t)n * l->iw,
			 abase / e->C, pix_words);
	}
}

/* The input layout of a vector-mode unit: which channels, how packed. */
static void vec_slice(const struct emit *e, uint32_t ng, uint32_t c0,
		      uint32_t nch, uint32_t *in_c0, uint32_t *in_nch,
		      uint32_t *pix_words)
{
	const struct layer *l = e->l;

	if (l->dm > 1) {	/* the input channels of one group */
		*in_c0 = c0 / (uint32_t)l->dm;
		*in_nch = (c0 + nch - 1) / (uint32_t)l->dm - *in_c0 + 1;
		*pix_words = 1;
	} else if (e->job->in_stream && ng != e->G) {
		*in_c0 = c0;
		*in_nch = nch;
		*pix_words = ng;
	} else {		/* all channels */
		*in_c0 = 0;
		*in_nch = (uint32_t)l->ic;
		*pix_words = e->G;
	}
}

/*
 * An output band: output rows [oy0, oy0 + nb) and the input rows it reads,
 * y_lo .. y_lo + in_rows - 1, of which the first pad_t are padding.
 */
struct band {
	int32_t oy0, nb;
	int32_t y_lo, in_rows, pad_t;
	uint32_t pix;			/* output pixels of the band */
};

/*
 * A unit: channel groups [g0, g0 + ng) x output pixels [p0, p0 + np) of a
 * band, computed in nchunks reduction chunks; chunk ch covers input
 * channels [i0, i0 + icc) from SRAM half h.
 */
struct unit {
	uint32_t g0, ng, c0, nch, p0, np;
	uint32_t in_c0, in_nch, pix_words;	/* vector-mode input layout */
	uint32_t obase;				/* OBUF half of the store */
	uint32_t ch, i0, icc;
	uint32_t abase, wbase, pbase;		/* SRAM halves of the chunk */
	uint32_t rbase;				/* ABUF half of the residual */
	bool last;				/* last chunk: drain */
};

/* The input rows output rows [oy0, oy0 + nb) need, and their padding. */
static int band_at(const struct emit *e, int32_t oy0, struct band *b)
{
	const struct layer *l = e->l;
	const struct qnpu_npu_job *job = e->job;
	int32_t lo = oy0 * l->sh - l->pad_t, y_hi;

	b->oy0 = oy0;
	b->nb = l->oh - oy0 < (int32_t)job->band_rows ? l->oh - oy0 :
		(int32_t)job->band_rows;
	b->pix = (uint32_t)b->nb * (uint32_t)l->ow;
	b->y_lo = lo > 0 ? lo : 0;
	y_hi = (oy0 + b->nb - 1) * l->sh - l->pad_t + (l->kh - 1) * l->dh;
	if (y_hi > l->ih - 1)
		y_hi = l->ih - 1;
	if (!job->in_stream) {
		b->y_lo = 0;
		y_hi = l->ih - 1;
	}
	b->in_rows = y_hi - b->y_lo + 1;
	if (b->in_rows < 1)
		return why(e->job, "an output band sees only padding");
	b->pad_t = l->pad_t + b->y_lo - oy0 * l->sh;
	if (e->skip > 1) {	/* rows oy * sh only, in a dense stack */
		b->y_lo = job->in_stream ? oy0 * l->sh : 0;
		b->in_rows = job->in_stream ? b->nb : l->oh;
		b->pad_t = 0;
	}
	return 0;
}

/* The unit of channel groups from g0 and pixels from p0 of band @b. */
static void unit_at(const struct emit *e, const struct band *b, uint32_t g0,
		    uint32_t p0, uint32_t su, struct unit *un)
{
	const struct layer *l = e->l;
	const struct qnpu_npu_job *job = e->job;

	memset(un, 0, sizeof(*un));
	un->g0 = g0;
	un->ng = min_u32(e->G - g0, job->gset);
	un->c0 = g0 * e->C;
	un->nch = min_u32((uint32_t)l->oc - un->c0, un->ng * e->C);
	un->p0 = p0;
	un->np = min_u32(b->pix - p0, job->unit_pix);
	un->obase = (su % 2) * ((e->t->obuf_bytes / e->C) / 2);
	if (l->kind != JOB_CONV && !e->dense)
		vec_slice(e, un->ng, un->c0, un->nch, &un->in_c0,
			  &un->in_nch, &un->pix_words);
}

/*
 * WBUF and PBUF words between the slots streamed operands rotate through
 * (two halves, or the ring's slots): what one unit loads, so a job's
 * SRAM stays a compact range from 0 and the segment finds room beside it
 * for the next layers' loads.
 */
static uint32_t w_slot(const struct emit *e)
{
	const struct qnpu_npu_job *job = e->job;

	return job->nchunks > 1 ?
	       (uint32_t)(e->l->kh * e->l->kw) * job->ic_chunk :
	       job->gset * (uint32_t)(job->w_group_bytes / e->C);
}

static uint32_t p_slot(const struct emit *e)
{
	return e->job->gset * e->l->psw;
}

/*
 * ABUF bytes between the two halves a streamed input alternates through:
 * the largest band any unit loads (its rows, at most band_in_rows(), in
 * the widest channel slice, gset groups), not half of ABUF, so a job's
 * input stays a compact range from 0 and a handoff finds room beside it
 * for its producer's input or its consumer's.
 */
static uint32_t a_slot(const struct emit *e)
{
	const struct layer *l = e->l;
	const struct qnpu_npu_job *job = e->job;
	const bool vec = l->kind != JOB_CONV && !e->dense;
	uint32_t rows = e->skip > 1 ? job->band_rows :
			(uint32_t)band_in_rows(l, (int32_t)job->band_rows);

	return rows * in_row_bytes(e->t, l, !vec ? 0 :
				   l->dm > 1 ? 1 : job->gset);
}

/* Reduction chunk @ch of unit @un, the @u-th chunk of the layer. */
static void chunk_at(const struct emit *e, struct unit *un, uint32_t ch,
		     int u)
{
	const struct qnpu_npu_job *job = e->job;
	const struct qnpu_npu_target *t = e->t;
	const uint32_t h = (uint32_t)(u % 2);

	un->i0 = ch ? un->i0 + un->icc : 0;
	un->ch = ch;
	un->icc = min_u32((uint32_t)e->l->ic - un->i0, job->ic_chunk);
	un->abase = job->in_stream ? h * a_slot(e) : 0;
	un->wbase = job->w_slots ? (uint32_t)u % job->w_slots * w_slot(e) :
		    job->w_stream ? h * w_slot(e) : 0;
	un->pbase = job->w_slots ? (uint32_t)u % job->w_slots * p_slot(e) :
		    job->w_stream && !job->p_resident ? h * p_slot(e) : 0;
	un->rbase = e->res_base + h * ((t->obuf_bytes / e->C) / 2) * e->C;
	un->last = ch + 1 == job->nchunks;
}

/*
 * Where a sibling's resident weights and parameters go: right after the
 * layer's, or after what the layer streams into the second half (res_target
 * left room), so the SRAM a job uses stays one range from 0 and the segment
 * finds the rest free for the next layer's.
 */
static uint32_t sib_wbase(const struct emit *e)
{
	const uint32_t K = (uint32_t)(e->job->w_group_bytes / e->C);

	return e->job->w_stream ? 2 * w_slot(e) : e->G * K;
}

static uint32_t sib_pbase(const struct emit *e)
{
	return e->job->w_stream && !e->job->p_resident ? 2 * p_slot(e) :
	       e->G * e->l->psw;
}

/*
 * The loads of a chunk: streamed operands every time, resident ones with
 * the first unit only. Returns whether it loaded anything.
 */
static bool emit_loads(struct emit *e, const struct band *b,
		       const struct unit *un, int u)
{
	const struct layer *l = e->l;
	struct qnpu_npu_job *job = e->job;
	const uint32_t C = e->C, taps = (uint32_t)(l->kh * l->kw);
	size_t first = job->ncmds;
	struct unit_tok tk;

	if (e->inc) {
		/* resident input in bands: the rows this band adds, in place */
		int32_t hi = (b->oy0 + b->nb - 1) * l->sh - l->pad_t +
			     (l->kh - 1) * l->dh + 1;

		if (hi > l->ih)
			hi = l->ih;
		if (un->g0 == 0 && un->p0 == 0 && hi > e->loaded) {
			load_input(e, e->loaded, hi - e->loaded, 1, un->in_c0,
				   un->in_nch, un->pix_words, un->abase +
				   (uint32_t)e->loaded *
				   in_row_bytes(e->t, l, un->pix_words));
			e->loaded = hi;
		}
	} else if (u == 0 || job->in_stream) {
		load_input(e, b->y_lo, b->in_rows, e->skip, un->in_c0,
			   un->in_nch, un->pix_words, un->abase);
	}
	if ((l->kind == JOB_CONV || l->kind == JOB_DW) &&
	    (u == 0 || job->w_stream)) {
		uint32_t wg = job->w_stream ? un->g0 : 0;
		uint32_t wn = job->w_stream ? un->ng : e->G;
		uint64_t woff = (uint64_t)wg * job->w_group_bytes +
				(uint64_t)taps * un->i0 * C;
		uint64_t wlen = job->nchunks > 1 ?
				(uint64_t)taps * un->icc * C :
				(uint64_t)wn * job->w_group_bytes;

		dma_block(e->t, job, QNPU_OP_LOAD, QNPU_BUF_WBUF,
			  job->consts_va + woff, wlen, un->wbase);
		if (job->p_resident) {
			wg = 0;
			wn = e->G;
		}
		if (u == 0 || !job->p_resident)
			dma_block(e->t, job, QNPU_OP_LOAD, QNPU_BUF_PBUF,
				  job->consts_va + job->p_off +
				  (uint64_t)wg * l->psw * C,
				  (uint64_t)wn * l->psw * C, un->pbase);
	}
	if (l->sib && u == 0) {		/* resident beside the layer's */
		uint64_t wl = (uint64_t)e->G * l->ic * C;

		dma_block(e->t, job, QNPU_OP_LOAD, QNPU_BUF_WBUF,
			  job->consts_va + job->sib_off, wl, sib_wbase(e));
		dma_block(e->t, job, QNPU_OP_LOAD, QNPU_BUF_PBUF,
			  job->consts_va + job->sib_off + wl,
			  (uint64_t)e->G * l->sib->psw * C, sib_pbase(e));
	}
	/* the whole residual once, as the tensor is laid out */
	if (l->res && job->res_whole && u == 0)
		dma_block(e->t, job, QNPU_OP_LOAD, QNPU_BUF_ABUF, e->res_va,
			  (uint64_t)l->oh * l->ow * l->oc, e->res_base / C);
	/* the residual of the unit's outputs, laid out as OBUF holds them */
	if (l->res && un->last && !job->res_whole) {
		uint64_t va = e->res_va + ((uint64_t)b->oy0 * l->ow + un->p0) *
			      (uint64_t)l->oc + un->c0;

		if (un->nch == (uint32_t)l->oc && l->oc % C == 0)
			dma_block(e->t, job, QNPU_OP_LOAD, QNPU_BUF_ABUF, va,
				  (uint64_t)un->np * l->oc, un->rbase / C);
		else
			dma_rows(job, QNPU_OP_LOAD, QNPU_BUF_ABUF, va,
				 (uint32_t)l->oc, un->nch, un->np,
				 un->rbase / C, un->ng);
	}
	tk = (struct unit_tok){
		.pop_next = e->stream && u >= (job->w_slots ? (int)job->w_slots : 2),
		.push_next = job->ncmds > first,
	};
	tokens(job, first, job->ncmds - 1, &tk);
	return job->ncmds > first;
}

/* One COMPUTE: @npix pixels from @p x channel group j of the unit. */
static void compute_cmd(struct emit *e, const struct band *b,
			const struct unit *un, uint32_t p, uint32_t npix,
			uint32_t j)
{
	const struct layer *l = e->l;
	struct qnpu_npu_job *job = e->job;
	const uint32_t C = e->C, g = un->g0 + j;
	const uint32_t gw = job->w_stream && !e->abs_w ? j : g;
	const uint32_t K = e->K;
	const bool vec = l->kind != JOB_CONV && !e->dense;
	struct qnpu_cmd *c = cmd_new(job, e->opc);
	uint32_t a = un->abase + un->i0;

	if (vec && l->dm == 1)
		a += (un->pix_words == e->G ? g : j) * C;
	if (e->dense) {		/* the group's first input channel */
		a += g * C / (uint32_t)l->dm;
		F(job, c, PACKED, 1);
		if (e->S > 1)
			F(job, c, COL_GROUPS, e->S);
	}
	F(job, c, ACC_CLEAR, un->ch == 0);
	F(job, c, DRAIN, un->last);
	F(job, c, A_ADDR, a);
	F(job, c, PIX_STRIDE, vec ? un->pix_words * C : (uint32_t)l->ic);
	F(job, c, ROW_STRIDE, in_row_bytes(e->t, l, un->pix_words));
	F(job, c, IN_H, b->in_rows);
	F(job, c, IN_W, l->iw);
	F(job, c, OUT_W, l->ow);
	F(job, c, PIX0, p);
	F(job, c, NPIX, npix);
	F(job, c, NCOLS, min_u32((uint32_t)l->oc - g * C, C / e->S));
	F(job, c, KH, l->kh);
	F(job, c, KW, l->kw);
	F(job, c, STRIDE_H, l->sh / e->skip);
	F(job, c, STRIDE_W, l->sw);
	F(job, c, PAD_T, b->pad_t);
	F(job, c, PAD_L, l->pad_l);
	F(job, c, DIL_H, l->dh);
	F(job, c, DIL_W, l->dw);
	F(job, c, IC, l->kind == JOB_CONV ? un->icc : (uint32_t)l->dm);
	F(job, c, DM_PHASE, l->kind == JOB_DW ? (g * C) % (uint32_t)l->dm :
	  0);
	if (l->kind == JOB_CONV || l->kind == JOB_DW) {
		F(job, c, W_ADDR, un->wbase + e->wofs +
		  gw * (job->nchunks > 1 ? 0 : K));
		F(job, c, P_ADDR, un->pbase + e->pofs +
		  (job->p_resident || e->abs_w ? g : gw) * l->psw);
	}
	if (l->res && un->last) {
		const struct qnpu_add_params *r = l->res;

		F(job, c, RES, 1);
		if (job->res_whole) {
			F(job, c, B_ADDR, e->res_base +
			  ((uint64_t)b->oy0 * l->ow + p) * l->oc + g * C);
			F(job, c, RES_STRIDE, l->oc);
		} else {
			F(job, c, B_ADDR, un->rbase +
			  ((p - un->p0) * un->ng + j) * C);
			F(job, c, RES_STRIDE, un->ng * C);
		}
		F(job, c, IN_OFF_B, l->res_swap ? r->in1_offset : r->in2_offset);
		F(job, c, ADD_LSHIFT, r->left_shift);
		F(job, c, ADD_SHIFT_A, l->res_swap ? r->in2_shift : r->in1_shift);
		F(job, c, ADD_SHIFT_B, l->res_swap ? r->in1_shift : r->in2_shift);
		F(job, c, RES_OUT_SHIFT, r->out_shift);
		F(job, c, RES_ZP, r->out_offset);
		F(job, c, RES_MIN, r->act_min);
		F(job, c, RES_MAX, r->act_max);
	}
	F(job, c, O_ADDR, un->obase + (p - un->p0) / e->S * un->ng + j);
	F(job, c, O_STRIDE, un->ng);
	F(job, c, IN_OFF, l->in_off);
	F(job, c, OUT_ZP, l->out_zp);
	F(job, c, ACT_MIN, l->act_min);
	F(job, c, ACT_MAX, l->act_max);
	F(job, c, PPU_FP, l->fp ? 1 : 0);
}

/*
 * A pool over the whole image to one pixel (a global average or max pool)
 * with all its channel groups in one unit: one array row per group
 * instead of one command per group. Row r reads group r of each pixel: its
 * "pixel" r of a fake output row starts at byte r x C, and the taps step
 * a whole pixel (G words, DIL_W = G) along x and an image row along y;
 * every tap is inside (IN_W = W x G), so each row counts H x W taps.
 */
static bool global_pool(const struct emit *e, const struct band *b,
			const struct unit *un)
{
	const struct layer *l = e->l;

	return (l->kind == JOB_AVGPOOL || l->kind == JOB_MAXPOOL) &&
	       !e->dense && l->oh == 1 && l->ow == 1 && l->kh == l->ih &&
	       l->kw == l->iw && !l->pad_t && !l->pad_l && l->dh == 1 &&
	       l->dw == 1 && b->in_rows == l->ih && !b->pad_t &&
	       un->np == 1 && un->ng == e->G && un->pix_words == e->G &&
	       un->g0 == 0 && l->ic == l->oc && l->oc % e->C == 0 &&
	       e->G > 1 && e->G <= e->R && e->G <= 255;
}

#define POOL_PARTS 4	/* row ranges a global pool is chained over */

/*
 * Chained over up to POOL_PARTS row ranges (the count and sums carry
 * over, 5.5): each waits only for the rows it reads, so the pool overlaps
 * its input's load when the segment cuts that load in pieces.
 */
static void global_pool_cmd(struct emit *e, const struct band *b,
			    const struct unit *un)
{
	const struct layer *l = e->l;
	struct qnpu_npu_job *job = e->job;
	const uint32_t rs = in_row_bytes(e->t, l, un->pix_words);
	const uint32_t n = min_u32((uint32_t)b->in_rows, POOL_PARTS);
	uint32_t k, y0, y1;

	for (k = 0; k < n; k++) {
		struct qnpu_cmd *c = cmd_new(job, e->opc);

		y0 = (uint32_t)b->in_rows * k / n;
		y1 = (uint32_t)b->in_rows * (k + 1) / n;
		F(job, c, ACC_CLEAR, k == 0);
		F(job, c, DRAIN, k + 1 == n);
		F(job, c, A_ADDR, un->abase + y0 * rs);
		F(job, c, PIX_STRIDE, e->C);
		F(job, c, ROW_STRIDE, rs);
		F(job, c, IN_H, y1 - y0);
		F(job, c, IN_W, (uint32_t)l->iw * e->G);
		F(job, c, OUT_W, e->G);
		F(job, c, PIX0, 0);
		F(job, c, NPIX, e->G);
		F(job, c, NCOLS, e->C);
		F(job, c, KH, y1 - y0);
		F(job, c, KW, l->kw);
		F(job, c, STRIDE_H, 1);
		F(job, c, STRIDE_W, 1);
		F(job, c, DIL_H, 1);
		F(job, c, DIL_W, e->G);
		F(job, c, IC, 1);
		/* row r is group r: OBUF word obase + r, as the regular
		 * tiles */
		F(job, c, O_ADDR, un->obase);
		F(job, c, O_STRIDE, 1);
		F(job, c, ACT_MIN, l->act_min);
		F(job, c, ACT_MAX, l->act_max);
	}
}

/* The computes of a chunk: tiles of R pixels x C channels. */
static void emit_computes(struct emit *e, const struct band *b,
			  const struct unit *un, int u, uint32_t su,
			  bool loaded)
{
	struct qnpu_npu_job *job = e->job;
	size_t first = job->ncmds;
	struct unit_tok tk;
	uint32_t p, j;

	const uint32_t tile = tile_pix(e->t, e->l);

	if (global_pool(e, b, un))
		global_pool_cmd(e, b, un);
	else
		for (p = un->p0; p < un->p0 + un->np; p += tile)
			for (j = 0; j < un->ng; j++)
				compute_cmd(e, b, un, p,
					    min_u32(un->p0 + un->np - p, tile),
					    j);
	tk = (struct unit_tok){
		.pop_prev = loaded,
		.pop_next = un->ch == 0 && su >= 2,
		.push_prev = e->stream && u + (job->w_slots ? (int)job->w_slots : 2) < job->nunits &&
			     !e->keep_abuf,
		.push_next = un->last,
	};
	tokens(job, first, job->ncmds - 1, &tk);
}

/* The store of a unit's outputs, once its last chunk drained. */
static void emit_store(struct emit *e, const struct band *b,
		       const struct unit *un, uint32_t su, uint32_t ns)
{
	const struct layer *l = e->l;
	struct qnpu_npu_job *job = e->job;
	uint64_t va = e->out_va + ((uint64_t)b->oy0 * l->ow + un->p0) *
		      (uint64_t)l->oc + un->c0;
	size_t first = job->ncmds;
	struct unit_tok tk = {
		.pop_prev = true,
		.push_prev = su + 2 < ns,
	};

	if (un->nch == (uint32_t)l->oc && (l->oc % e->C == 0 || e->S > 1))
		dma_block(e->t, job, QNPU_OP_STORE, 0, va,
			  (uint64_t)un->np * l->oc, un->obase);
	else
		dma_rows(job, QNPU_OP_STORE, 0, va, (uint32_t)l->oc, un->nch,
			 un->np, un->obase, un->ng);
	tokens(job, first, job->ncmds - 1, &tk);
}

/*
 * The sibling's tiles of unit @un (its last chunk @u), from the same ABUF
 * band, into the other OBUF half, and their store; they, not the layer's,
 * give the band's ABUF half back.
 */
static void emit_sib(struct emit *e, const struct band *b,
		     const struct unit *un, int u, uint32_t su, uint32_t ns)
{
	const struct layer *l = e->l, *s = l->sib;
	const uint64_t out = e->out_va;
	struct band sb = *b;
	struct unit su_un = *un;

	sb.pad_t = s->pad_t + b->y_lo - b->oy0 * s->sh;
	su_un.ch = su_un.i0 = 0;	/* one chunk: weights resident */
	su_un.icc = (uint32_t)s->ic;
	su_un.last = true;
	su_un.wbase = su_un.pbase = 0;
	su_un.obase = (su % 2) * ((e->t->obuf_bytes / e->C) / 2);
	e->wofs = sib_wbase(e);
	e->pofs = sib_pbase(e);
	e->l = s;
	e->out_va = e->sib_va;
	e->K = (uint32_t)s->ic;
	e->keep_abuf = false;
	e->abs_w = true;
	emit_computes(e, &sb, &su_un, u, su, false);
	emit_store(e, &sb, &su_un, su, ns);
	e->l = l;
	e->out_va = out;
	e->K = (uint32_t)(e->job->w_group_bytes / e->C);
	e->wofs = e->pofs = 0;
	e->keep_abuf = true;
	e->abs_w = false;
}

/*
 * A conv/depthwise/pool layer: for each output band, each set of channel
 * groups and each pixel range a unit, each unit in reduction chunks of
 * loads, computes, and one store.
 */
static int emit_layer(struct emit *e)
{
	const struct layer *l = e->l;
	struct qnpu_npu_job *job = e->job;
	/* a sibling stores a unit of its own after each */
	const uint32_t ns = (uint32_t)(job->nunits / (int)job->nchunks) *
			    (l->sib ? 2 : 1);
	uint32_t su = 0, g0, p0, ch;	/* su: stored (drained) units */
	int u = 0;			/* chunks emitted */
	struct band b = { 0 };
	struct unit un;
	int32_t oy0;

	e->opc = l->kind == JOB_CONV ? QNPU_OP_CONV :
		 l->kind == JOB_DW ? QNPU_OP_DWCONV :
		 l->kind == JOB_MAXPOOL ? QNPU_OP_MAXPOOL : QNPU_OP_AVGPOOL;
	e->skip = l->kh == 1 && l->sh > 1 && l->pad_t == 0 &&
		  (int64_t)(l->oh - 1) * l->sh < l->ih ? l->sh : 1;
	/* a residual is loaded by every unit, unless whole by the first */
	e->stream = job->in_stream || job->w_stream ||
		    (l->res && !job->res_whole);
	e->inc = !job->in_stream && (int32_t)job->band_rows < l->oh &&
		 vec_resident_bands(e->t, l);
	e->loaded = 0;
	e->K = (uint32_t)(job->w_group_bytes / e->C);
	e->wofs = e->pofs = 0;
	e->keep_abuf = l->sib != NULL;
	for (oy0 = 0; oy0 < l->oh; oy0 += (int32_t)job->band_rows) {
		if (band_at(e, oy0, &b))
			return job->err;
		for (g0 = 0; g0 < e->G; g0 += job->gset)
		for (p0 = 0; p0 < b.pix; p0 += un.np) {
			unit_at(e, &b, g0, p0, su, &un);
			/* the layer's last tile a unit of its own (plan()) */
			if (job->tail && oy0 + b.nb >= l->oh &&
			    g0 + job->gset >= e->G && p0 + un.np == b.pix &&
			    un.np > tile_pix(e->t, l))
				un.np -= tile_pix(e->t, l);
			for (ch = 0; ch < job->nchunks; ch++, u++) {
				chunk_at(e, &un, ch, u);
				emit_computes(e, &b, &un, u, su,
					      emit_loads(e, &b, &un, u));
			}
			emit_store(e, &b, &un, su++, ns);
			if (l->sib)
				emit_sib(e, &b, &un, u - 1, su++, ns);
		}
	}
	if (!job->err && (u != job->nunits || su != ns))
		return why(job, "planned %d units, emitted %d", job->nunits, u);
	return job->err;
}

/*
 * The images of a batch one after the other, each the whole stream of one
 * image at its own addresses. A stream seeds no tokens (its first units
 * take buffers as free), so between two images a barrier frees them: the
 * last store gives compute a token, a SYNC takes it (all of the image is
 * stored) and gives load one, which the next image's first load takes.
 */
static int emit_images(struct emit *e)
{
	const struct layer *l = e->l;
	struct qnpu_npu_job *job = e->job;
	const uint64_t in = e->in_va, out = e->out_va, res = e->res_va;
	const uint64_t sib = e->sib_va;
	const uint64_t ib = (uint64_t)l->ih * l->iw * l->ic;
	const uint64_t ob = (uint64_t)l->oh * l->ow * l->oc;
	struct qnpu_cmd *c;
	size_t first, i;
	int32_t n;
	int r;

	for (n = 0; n < l->nimg; n++) {
		e->in_va = in + n * ib;
		e->out_va = out + n * ob;
		e->res_va = res + n * ob;
		e->sib_va = sib + n * ob;	/* the same shape */
		if (n) {
			for (i = job->ncmds; i-- > 0;)
				if ((job->cmds[i].w[0] & QNPU_CMD_OPCODE_MASK) ==
				    QNPU_OP_STORE) {
					job->cmds[i].w[0] |=
						QNPU_CMD_PUSH_PREV_MASK;
					break;
				}
			c = cmd_new(job, QNPU_OP_SYNC);
			if (!c)
				return job->err;
			c->w[0] |= QNPU_CMD_POP_NEXT_MASK |
				   QNPU_CMD_PUSH_PREV_MASK;
		}
		first = job->ncmds;
		r = emit_layer(e);
		if (r)
			return r;
		for (i = first; n && i < job->ncmds; i++)
			if ((job->cmds[i].w[0] & QNPU_CMD_OPCODE_MASK) ==
			    QNPU_OP_LOAD) {
				job->cmds[i].w[0] |= QNPU_CMD_POP_NEXT_MASK;
				break;
			}
	}
	return 0;
}

static int emit_add(struct emit *e)
{
	const struct layer *l = e->l;
	struct qnpu_npu_job *job = e->job;
	const uint32_t C = e->C, R = e->R;
	const uint32_t half_a = e->t->abuf_bytes / 2;
	const uint32_t half_o = (e->t->obuf_bytes / C) / 2;
	const struct qnpu_add_params *a = l->add;
	uint32_t words = div_up(l->count, C), w0;
	int n = job->nunits, u = 0;

	for (w0 = 0; w0 < words; w0 += job->unit_pix, u++) {
		uint32_t nw = words - w0 < job->unit_pix ? words - w0 :
			      job->unit_pix;
		uint64_t off = (uint64_t)w0 * C;
		uint32_t bytes = (uint32_t)(l->count - off < (uint64_t)nw * C ?
				 l->count - off : (uint64_t)nw * C);
		int h = u % 2;
		uint32_t abase = h * half_a, bbase = abase + nw * C;
		uint32_t obase = h * half_o, p;
		struct unit_tok tk;
		size_t first = job->ncmds;

		if (u == 0)
			dma_block(e->t, job, QNPU_OP_LOAD, QNPU_BUF_PBUF,
				  job->consts_va, (uint64_t)PSET_WORDS * C, 0);
		dma(job, QNPU_OP_LOAD, QNPU_BUF_ABUF, e->in_va + off, bytes,
		    bytes, 1, abase / C, 1);
		dma(job, QNPU_OP_LOAD, QNPU_BUF_ABUF, e->in2_va + off, bytes,
		    bytes, 1, bbase / C, 1);
		tk = (struct unit_tok){ .pop_next = u >= 2, .push_next = true };
		tokens(job, first, job->ncmds - 1, &tk);

		first = job->ncmds;
		for (p = 0; p < nw; p += R) {
			struct qnpu_cmd *c = cmd_new(job, QNPU_OP_ADD);
			uint32_t npix = nw - p < R ? nw - p : R;

			F(job, c, ACC_CLEAR, 1);
			F(job, c, DRAIN, 1);
			F(job, c, A_ADDR, abase + p * C);
			F(job, c, B_ADDR, bbase + p * C);
			F(job, c, PIX_STRIDE, C);
			F(job, c, ROW_STRIDE, R * C);
			F(job, c, IN_H, 1);
			F(job, c, IN_W, R);
			F(job, c, OUT_W, R);
			F(job, c, PIX0, 0);
			F(job, c, NPIX, npix);
			F(job, c, NCOLS, C);
			F(job, c, P_ADDR, 0);
			F(job, c, O_ADDR, obase + p);
			F(job, c, O_STRIDE, 1);
			F(job, c, IN_OFF, a->in1_offset);
			F(job, c, IN_OFF_B, a->in2_offset);
			F(job, c, OUT_ZP, a->out_offset);
			F(job, c, ACT_MIN, a->act_min);
			F(job, c, ACT_MAX, a->act_max);
			F(job, c, ADD_LSHIFT, a->left_shift);
			F(job, c, ADD_MULT_A, (uint32_t)a->in1_mult);
			F(job, c, ADD_MULT_B, (uint32_t)a->in2_mult);
			F(job, c, ADD_SHIFT_A, a->in1_shift);
			F(job, c, ADD_SHIFT_B, a->in2_shift);
		}
		tk = (struct unit_tok){
			.pop_prev = true,
			.pop_next = u >= 2,
			.push_prev = u + 2 < n,
			.push_next = true,
		};
		tokens(job, first, job->ncmds - 1, &tk);

		first = job->ncmds;
		dma(job, QNPU_OP_STORE, 0, e->out_va + off, bytes, bytes, 1,
		    obase, 1);
		tk = (struct unit_tok){ .pop_prev = true,
					.push_prev = u + 2 < n };
		tokens(job, first, job->ncmds - 1, &tk);
	}
	return job->err;
}

int qnpu_npu_emit(const struct qnpu_npu_target *t,
		  const struct qnpu_ir_graph *g, const struct qnpu_ir_op *op,
		  struct qnpu_npu_job *job, qnpu_tensor_va_fn tensor_va,
		  void *ctx)
{
	struct layer l;
	struct qnpu_npu_target tr;
	struct emit e = { .l = &l, .job = job, .C = t->cols, .R = t->rows };
	int r;

	r = describe(g, op, &l, job);
	if (r) {
		layer_free(&l);
		return r;
	}
	tr = res_target(t, &l);
	e.t = &tr;
	e.res_base = t->abuf_bytes - t->obuf_bytes;
	if (l.res)
		e.res_va = tensor_va(ctx, l.tres);
	e.G = div_up((uint64_t)l.oc, t->cols);
	e.dense = vec_dense(&tr, &l);
	e.S = vec_groups(&tr, &l);
	e.in_va = tensor_va(ctx, l.tin);
	e.out_va = tensor_va(ctx, l.tout);
	if (l.kind == JOB_ADD)
		e.in2_va = tensor_va(ctx, l.tin2);
	if (l.sib)
		e.sib_va = tensor_va(ctx, l.sib->tout);
	job->ncmds = 0;
	r = l.kind == JOB_ADD ? emit_add(&e) : emit_images(&e);
	layer_free(&l);
	if (r && !job->why[0])
		snprintf(job->why, sizeof(job->why), "emit failed: %d", r);
	return r;
}

/* ---- ONNX operators ---- */

static bool int8_t4(const struct qnpu_ir_tensor *t)
{
	return t->dtype == QNPU_DTYPE_INT8 && t->nq == 1;
}

/* The float32 multipliers as the PPU_FP mode takes them, and no shifts. */
static int fp_params(struct layer *l, const struct qnpu_onnx_params *p,
		     int32_t n, struct qnpu_npu_job *job)
{
	int32_t i;

	l->mult_own = calloc((size_t)n + 1, sizeof(int32_t));
	l->shift_own = calloc((size_t)n + 1, sizeof(int32_t));
	if (!l->mult_own || !l->shift_own) {
		job->err = -ENOMEM;
		return why(job, "out of memory");
	}
	for (i = 0; i < n; i++)
		memcpy(&l->mult_own[i], &p->mult[p->nmult > 1 ? i : 0], 4);
	l->mult = l->mult_own;
	l->shift = l->shift_own;
	l->per_channel = true;
	l->fp = true;
	return 0;
}

static int describe_onnx(const struct qnpu_ir_graph *g,
			 const struct qnpu_ir_op *op, struct layer *l,
			 struct qnpu_npu_job *job)
{
	const struct qnpu_onnx_params *p = &op->params->p.onnx;
	const struct qnpu_ir_tensor *x = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *y = qnpu_ir_out(g, op, 0);
	int32_t i, k, o, taps;
	size_t n;

	if (!int8_t4(x) || !int8_t4(y))
		return why(job, "%s %s activations: the NPU takes per-tensor INT8 (UINT8 only inside the graph)",
			   qnpu_dtype_name(x->dtype), x->nq > 1 ? "per-axis" : "");
	if (x->rank == 4 && !op->opt.onnx.nhwc &&
	    !(x->shape[1] == 1 || (x->shape[2] == 1 && x->shape[3] == 1)))
		return why(job, "NCHW activations a CPU operator shares: the NPU reads NHWC");
	l->in_off = -p->x.zp;
	l->out_zp = p->y.zp;
	l->act_min = p->qmin;
	l->act_max = p->qmax;
	switch (op->builtin) {
	case QNPU_ONNX_QLINEAR_CONV:
		if (p->n != 1)
			return why(job, "batch %d > 1", p->n);
		if (w->const_data && w->dtype == QNPU_DTYPE_UINT8)
			return why(job, "UINT8 weights with zero point %d: w - zp does not fit the INT8 MACs (zero point 0 or 128 would)",
				   w->nq ? w->zero_point[0] : 0);
		if (!w->const_data || w->dtype != QNPU_DTYPE_INT8)
			return why(job, "weights are not constant INT8");
		for (i = 0; i < w->nq; i++)
			if (w->zero_point[i])
				return why(job, "weights have zero point %d",
					   w->zero_point[i]);
		l->ih = p->h; l->iw = p->w; l->ic = p->c;
		l->oh = p->oh; l->ow = p->ow; l->oc = p->m;
		l->kh = p->kh; l->kw = p->kw;
		l->sh = p->stride_h; l->sw = p->stride_w;
		l->dh = p->dil_h; l->dw = p->dil_w;
		l->pad_t = p->pad_t; l->pad_l = p->pad_l;
		taps = p->kh * p->kw;
		n = (size_t)p->m * (size_t)taps * (size_t)(p->c / p->group);
		l->w_own = malloc(n + 1);
		if (!l->w_own) {
			job->err = -ENOMEM;
			return why(job, "out of memory");
		}
		if (p->group == 1) {
			/* OIHW -> [oc][kh][kw][ic] */
			l->kind = JOB_CONV;
			for (o = 0; o < p->m; o++)
				for (k = 0; k < taps; k++)
					for (i = 0; i < p->c; i++)
						l->w_own[((size_t)o * taps + k) * p->c + i] =
							(int8_t)w->const_data[((size_t)o * p->c + i) *
									      taps + k];
		} else if (p->group == p->c && p->m == p->c) {
			/* [oc][1][kh][kw] -> [kh][kw][oc] */
			l->kind = JOB_DW;
			for (o = 0; o < p->m; o++)
				for (k = 0; k < taps; k++)
					l->w_own[(size_t)k * p->m + o] =
						(int8_t)w->const_data[(size_t)o * taps + k];
		} else {
			return why(job, "grouped convolution (group %d of %d channels)",
				   p->group, p->c);
		}
		l->w = l->w_own;
		return fp_params(l, p, p->m, job);
	case QNPU_ONNX_QLINEAR_MATMUL:
		if (p->batch != 1 || p->trans_a || x->rank != 2)
			return why(job, "batched MatMul (%d-D A): the NPU takes 2-D A x constant B",
				   x->rank);
		if (w->const_data && w->dtype == QNPU_DTYPE_UINT8)
			return why(job, "UINT8 B with zero point %d: b - zp does not fit the INT8 MACs (zero point 0 or 128 would)",
				   w->nq ? w->zero_point[0] : 0);
		if (!w->const_data || w->dtype != QNPU_DTYPE_INT8)
			return why(job, "B is not a constant INT8 matrix");
		for (i = 0; i < w->nq; i++)
			if (w->zero_point[i])
				return why(job, "B has zero point %d", w->zero_point[i]);
		l->kind = JOB_CONV;
		l->ih = 1; l->iw = p->mm; l->ic = p->kk;
		l->oh = 1; l->ow = p->mm; l->oc = p->nn;
		l->w_own = malloc((size_t)p->nn * p->kk + 1);
		if (!l->w_own) {
			job->err = -ENOMEM;
			return why(job, "out of memory");
		}
		for (o = 0; o < p->nn; o++)	/* [N][K] */
			for (k = 0; k < p->kk; k++)
				l->w_own[(size_t)o * p->kk + k] = (int8_t)w->const_data[
					p->trans_b ? (size_t)o * p->kk + k :
					(size_t)k * p->nn + o];
		l->w = l->w_own;
		return fp_params(l, p, p->nn, job);
	case QNPU_ONNX_QLINEAR_AVG_POOL:
		/* global only: a depthwise convolution by ones, whose sum of
		 * (x - zp) is QLinearGlobalAveragePool's accumulator */
		if (p->kh != p->h || p->kw != p->w || p->oh != 1 || p->ow != 1 ||
		    p->pad_t || p->pad_l)
			return why(job, "AveragePool: ONNX Runtime averages dequantized floats; only the global pool is integer");
		if (p->n != 1)
			return why(job, "batch %d > 1", p->n);
		l->kind = JOB_DW;
		l->ih = p->h; l->iw = p->w; l->ic = l->oc = p->c;
		l->oh = l->ow = 1;
		l->kh = p->h; l->kw = p->w;
		n = (size_t)p->h * p->w * p->c;
		l->w_own = malloc(n + 1);
		if (!l->w_own) {
			job->err = -ENOMEM;
			return why(job, "out of memory");
		}
		memset(l->w_own, 1, n);
		l->w = l->w_own;
		return fp_params(l, p, p->c, job);
	case QNPU_ONNX_MAX_POOL:
		if (p->n != 1)
			return why(job, "batch %d > 1", p->n);
		if (p->dil_h != 1 || p->dil_w != 1)
			return why(job, "dilated max pool");
		l->kind = JOB_MAXPOOL;
		l->ih = p->h; l->iw = p->w; l->ic = l->oc = p->c;
		l->oh = p->oh; l->ow = p->ow;
		l->kh = p->kh; l->kw = p->kw;
		l->sh = p->stride_h; l->sw = p->stride_w;
		l->pad_t = p->pad_t; l->pad_l = p->pad_l;
		l->in_off = 0;
		l->act_min = -128;
		l->act_max = 127;
		return 0;
	}
	return why(job, "no NPU lowering for %s", qnpu_ir_op_name(op->builtin));
}
