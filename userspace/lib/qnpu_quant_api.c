// SPDX-License-Identifier: MIT
/*
 * The public face of post-training quantization (qnpu.h): the calibrator
 * (a float model, its samples and per-tensor statistics), the quantizer
 * that turns it into a runnable int8 model, and the comparison debugger.
 * Ties import (the float model), quant/ (histograms, quantizer,
 * statistics) and the runtime together, so it lives at the library's
 * root. The float model runs as a model on the "cpu" device, through the
 * float32 kernels every float model runs on: the layer callback shows
 * each operator's output as it is computed, and quant/ is told what was
 * observed (qnpu_tstats_observe()).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/qnpu_import.h"
#include "qnpu_runtime.h"
#include "quant/qnpu_quant.h"
#include "util/qnpu_util.h"

/* Spare bytes after the model's copy for names the quantizer makes. */
#define NAME_ROOM 4096

struct qnpu_calib {
	uint8_t *file;			/* the float model's bytes */
	size_t len;
	struct qnpu_ir_graph *g;	/* imported from them; fm's */
	struct qnpu_device *dev;	/* "cpu" */
	struct qnpu_model *fm;		/* the float model on it */
	float *samples;
	size_t nsamples, sample_floats;
	struct qnpu_tstats *st;		/* per tensor */
	bool have_minmax, have_hist;
	qnpu_progress_cb progress;
	void *user;
};

QNPU_EXPORT void qnpu_calib_free(struct qnpu_calib *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; c->st && c->g && i < c->g->ntensors; i++)
		free(c->st[i].chsum);
	qnpu_model_free(c->fm);
	qnpu_device_close(c->dev);
	free(c->st);
	free(c->samples);
	free(c->file);
	free(c);
}

static int calib_create(uint8_t *file, size_t len, struct qnpu_calib **out)
{
	struct qnpu_calib *c = calloc(1, sizeof(*c));
	struct qnpu_ir_graph *g;
	int i, r;

	if (!c) {
		free(file);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	c->file = file;
	c->len = len;
	/* An ONNX float model is calibrated the same way, through the
	 * runtime's float kernels; qnpu_quantize_onnx() writes it. */
	if (qnpu_onnx_is(file, len)) {
		r = qnpu_onnx_import(file, len, &g);
	} else {
		r = qnpu_tflite_import(file, len, &g);
		if (!r && (r = qnpu_quantize_check(g)))
			qnpu_ir_graph_free(g);
	}
	if (r)
		goto err_free;
	r = qnpu_device_open("cpu", &c->dev);
	if (r) {
		qnpu_ir_graph_free(g);
		goto err_free;
	}
	/* The model owns the graph; its constants stay in c->file. */
	r = qnpu_model_from_graph(c->dev, g, NULL, 0, &c->fm);
	if (r)
		goto err_free;
	c->g = c->fm->g;
	c->st = calloc((size_t)c->g->ntensors + 1, sizeof(*c->st));
	if (!c->st) {
		r = qnpu_err(-ENOMEM, "out of memory");
		goto err_free;
	}
	for (i = 0; i < c->g->ninputs; i++) {
		c->st[c->g->inputs[i]].used = true;
		c->sample_floats += c->g->tensors[c->g->inputs[i]].count;
	}
	for (i = 0; i < c->g->nops; i++) {
		const struct qnpu_ir_op *op = &c->g->ops[i];

		if (op->nout >= 1 && op->out[0] >= 0)
			c->st[op->out[0]].used = true;
	}
	for (i = 0; i < c->g->ntensors; i++) {
		const struct qnpu_ir_tensor *t = &c->g->tensors[i];
		struct qnpu_tstats *s = &c->st[i];

		if (!s->used || !t->rank || t->shape[t->rank - 1] < 1)
			continue;
		s->nch = t->shape[t->rank - 1];
		s->chsum = calloc((size_t)s->nch, sizeof(double));
		if (!s->chsum) {
			r = qnpu_err(-ENOMEM, "out of memory");
			goto err_free;
		}
	}
	*out = c;
	return 0;

err_free:
	qnpu_calib_free(c);
	return r;
}

QNPU_EXPORT int qnpu_calib_create_memory(const void *data, size_t size,
					 struct qnpu_calib **out)
{
	uint8_t *copy;

	*out = NULL;
	if (!data && size)
		return qnpu_err(-EINVAL, "no data");
	copy = malloc(size + NAME_ROOM);
	if (!copy)
		return qnpu_err(-ENOMEM, "out of memory for a %zu-byte model",
				size);
	memcpy(copy, data, size);
	return calib_create(copy, size, out);
}

QNPU_EXPORT int qnpu_calib_create(const char *path, struct qnpu_calib **out)
{
	uint8_t *buf;
	size_t len;
	int r;

	*out = NULL;
	if (!path)
		return qnpu_err(-EINVAL, "no path");
	r = qnpu_read_file(path, &buf, &len);
	if (r)
		return r;
	r = qnpu_calib_create_memory(buf, len, out);
	free(buf);
	return r ? qnpu_err_prefix(r, path) : 0;
}

QNPU_EXPORT size_t qnpu_calib_sample_floats(const struct qnpu_calib *c)
{
	return c->sample_floats;
}

QNPU_EXPORT int qnpu_calib_set_progress(struct qnpu_calib *c,
					qnpu_progress_cb cb, void *user)
{
	c->progress = cb;
	c->user = user;
	return 0;
}

/* NaN or Inf: the sample and element, as an error. */
static int check_finite(const float *x, size_t n, size_t per, size_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return qnpu_err(-EINVAL,
					"sample %zu has %s at element %zu: samples must be finite",
					first + i / per,
					isnan(x[i]) ? "NaN" : "Inf", i % per);
	return 0;
}

QNPU_EXPORT int qnpu_calib_add_samples(struct qnpu_calib *c, const float *data,
				       size_t size)
{
	size_t one = c->sample_floats * sizeof(float), n, total;
	float *s;
	int r;

	if (!one || size % one || (!data && size))
		return qnpu_err(-EINVAL,
				"samples of %zu bytes are not a whole number of %zu-byte samples (the model's inputs, float32)",
				size, one);
	n = size / one;
	if ((r = check_finite(data, n * c->sample_floats, c->sample_floats,
			      c->nsamples)))
		return r;
	total = c->nsamples + n;
	s = realloc(c->samples, (total ? total : 1) * one);
	if (!s)
		return qnpu_err(-ENOMEM, "out of memory for %zu samples", total);
	memcpy(s + c->nsamples * c->sample_floats, data, n * one);
	c->samples = s;
	c->nsamples = total;
	c->have_minmax = c->have_hist = false;
	return (int)n;
}

/* Called with each tensor a float run computes. */
typedef void (*observe_fn)(void *user, int tensor, const float *x, size_t n);

struct float_run {
	const struct qnpu_ir_graph *g;
	observe_fn fn;
	void *user;
};

static int float_layer_cb(const struct qnpu_op_info *op, const void *data,
			  void *user)
{
	struct float_run *fr = user;
	int t = op->outputs[0];

	if (op->output.dtype == QNPU_DTYPE_FLOAT32)
		fr->fn(fr->user, t, data, fr->g->tensors[t].count);
	return 0;
}

/* Run the float model on the sample at @x, showing @fn its inputs and
 * every operator's output. */
static int run_float(struct qnpu_calib *c, const float *x, observe_fn fn,
		     void *user)
{
	struct float_run fr = { c->g, fn, user };
	int i, r;

	for (i = 0; i < c->g->ninputs; i++) {
		int t = c->g->inputs[i];
		size_t n = c->g->tensors[t].count;

		if ((r = qnpu_model_set_input(c->fm, i, x, n * sizeof(float))))
			return r;
		fn(user, t, x, n);
		x += n;
	}
	qnpu_model_set_layer_callback(c->fm, float_layer_cb, &fr);
	r = qnpu_model_run(c->fm);
	qnpu_model_set_layer_callback(c->fm, NULL, NULL);
	return r;
}

struct pass_state {
	struct qnpu_tstats *st;
	int pass;
};

static void observe_pass(void *user, int tensor, const float *x, size_t n)
{
	struct pass_state *p = user;

	qnpu_tstats_observe(&p->st[tensor], p->pass, x, n);
}

static int calib_pass(struct qnpu_calib *c, int pass)
{
	struct pass_state ps = { c->st, pass };
	size_t k;
	int i, r;

	if (!c->nsamples)
		return qnpu_err(-EINVAL, "no calibration samples");
	for (i = 0; i < c->g->ntensors; i++) {
		struct qnpu_tstats *s = &c->st[i];

		if (!s->used)
			continue;
		if (pass == 1) {
			s->count = 0;
			s->min = s->max = 0;
			if (s->chsum)
				memset(s->chsum, 0, (size_t)s->nch * sizeof(double));
		} else {
			qnpu_tstats_hist_init(s);
		}
	}
	for (k = 0; k < c->nsamples; k++) {
		r = run_float(c, c->samples + k * c->sample_floats,
			      observe_pass, &ps);
		if (r)
			return r;
		if (c->progress)
			c->progress(pass, (int)k + 1, (int)c->nsamples,
				    c->user);
	}
	return 0;
}

QNPU_EXPORT int qnpu_calib_run(struct qnpu_calib *c)
{
	int r;

	if (c->have_minmax)
		return 0;
	r = calib_pass(c, 1);
	if (r)
		return r;
	c->have_minmax = true;
	c->have_hist = false;
	return 0;
}

static int calib_ready(struct qnpu_calib *c,
		       const struct qnpu_quant_options *o)
{
	int r = qnpu_calib_run(c);

	if (r || o->method == QNPU_CALIB_MINMAX || c->have_hist)
		return r;
	if (o->method > QNPU_CALIB_ENTROPY)
		return qnpu_err(-EINVAL, "unknown calibration method %d",
				(int)o->method);
	if (o->method == QNPU_CALIB_PERCENTILE && o->percentile != 0 &&
	    !(o->percentile > 50 && o->percentile <= 100))
		return qnpu_err(-EINVAL, "percentile %g is not in (50, 100]",
				o->percentile);
	r = calib_pass(c, 2);
	if (!r)
		c->have_hist = true;
	return r;
}

static const struct qnpu_quant_options default_opts = {
	.method = QNPU_CALIB_MINMAX,
};

static void pick_range(const struct qnpu_calib *c, int i,
		       const struct qnpu_quant_options *o, float *lo,
		       float *hi)
{
	qnpu_tstats_range(&c->st[i], (int)o->method,
			  o->percentile ? o->percentile : 99.99, lo, hi);
}

QNPU_EXPORT int qnpu_calib_range(struct qnpu_calib *c, int index,
				 const struct qnpu_quant_options *opt,
				 float *min, float *max)
{
	int r;

	if (!opt)
		opt = &default_opts;
	if (index < 0 || index >= c->g->ntensors || !c->st[index].used)
		return qnpu_err(-ENOENT, "tensor %d is not a calibrated activation",
				index);
	if ((r = calib_ready(c, opt)))
		return r;
	pick_range(c, index, opt, min, max);
	return 0;
}

/* The quantized graph of @c under @opt (and the bytes its names and
 * constants point into). */
static int quantize_graph(struct qnpu_calib *c,
			  const struct qnpu_quant_options *opt,
			  struct qnpu_ir_graph **gout, uint8_t **fout)
{
	struct qnpu_quantize_opts qo;
	struct qnpu_quant_ranges rg = { 0 };
	struct qnpu_ir_graph *g = NULL;
	double **mean = NULL;
	uint8_t *file;
	int i, r;

	if (!opt)
		opt = &default_opts;
	if ((r = calib_ready(c, opt)))
		return r;
	/* The graph is rewritten in place: import a fresh copy. */
	file = malloc(c->len + NAME_ROOM);
	if (!file)
		return qnpu_err(-ENOMEM, "out of memory");
	memcpy(file, c->file, c->len);
	rg.lo = calloc((size_t)c->g->ntensors + 1, sizeof(float));
	rg.hi = calloc((size_t)c->g->ntensors + 1, sizeof(float));
	rg.have = calloc((size_t)c->g->ntensors + 1, sizeof(bool));
	if (!rg.lo || !rg.hi || !rg.have) {
		r = qnpu_err(-ENOMEM, "out of memory");
		goto out;
	}
	if (opt->bias_correction) {
		mean = calloc((size_t)c->g->ntensors + 1, sizeof(*mean));
		if (!mean) {
			r = qnpu_err(-ENOMEM, "out of memory");
			goto out;
		}
		rg.mean = (const double *const *)mean;
	}
	for (i = 0; i < c->g->ntensors; i++) {
		struct qnpu_tstats *s = &c->st[i];
		int k;

		if (!s->used || !s->count)
			continue;
		pick_range(c, i, opt, &rg.lo[i], &rg.hi[i]);
		rg.have[i] = true;
		if (!mean || !s->chsum)
			continue;
		/* Channel sums into means, in place of the next pass's. */
		mean[i] = malloc((size_t)s->nch * sizeof(double));
		if (!mean[i]) {
			r = qnpu_err(-ENOMEM, "out of memory");
			goto out;
		}
		for (k = 0; k < s->nch; k++)
			mean[i][k] = s->chsum[k] / ((double)s->count / s->nch);
	}
	if ((r = qnpu_tflite_import(file, c->len, &g)))
		goto out;
	qo.per_tensor = opt->per_tensor;
	qo.float_io = opt->float_io;
	r = qnpu_quantize_graph(g, &rg, &qo, (char *)file + c->len, NAME_ROOM);
out:
	for (i = 0; mean && i < c->g->ntensors; i++)
		free(mean[i]);
	free(mean);
	free(rg.lo);
	free(rg.hi);
	free(rg.have);
	if (r) {
		qnpu_ir_graph_free(g);
		free(file);
		return r;
	}
	*gout = g;
	*fout = file;
	return 0;
}

QNPU_EXPORT int qnpu_quantize_tflite(struct qnpu_calib *c,
				     const struct qnpu_quant_options *opt,
				     void **buf, size_t *len)
{
	struct qnpu_ir_graph *g = NULL;
	uint8_t *file = NULL, *out;
	int r;

	*buf = NULL;
	*len = 0;
	if (qnpu_onnx_is(c->file, c->len))
		return qnpu_err(-EINVAL, "an ONNX float model quantizes to ONNX (qnpu_quantize_onnx())");
	if ((r = quantize_graph(c, opt, &g, &file)))
		return r;
	r = qnpu_tflite_write(g, &out, len);
	qnpu_ir_graph_free(g);
	free(file);
	if (!r)
		*buf = out;
	return r;
}

struct onnx_range_ctx {
	struct qnpu_calib *c;
	const struct qnpu_quant_options *opt;
};

static int onnx_range(void *ctx, int t, float *lo, float *hi)
{
	struct onnx_range_ctx *r = ctx;

	if (t < 0 || t >= r->c->g->ntensors || !r->c->st[t].used)
		return -ENOENT;
	pick_range(r->c, t, r->opt, lo, hi);
	return 0;
}

QNPU_EXPORT int qnpu_quantize_onnx(struct qnpu_calib *c,
				   const struct qnpu_quant_options *opt,
				   void **buf, size_t *len)
{
	struct onnx_range_ctx rc = { c, opt ? opt : &default_opts };
	uint8_t *out;
	int r;

	*buf = NULL;
	*len = 0;
	if (!qnpu_onnx_is(c->file, c->len))
		return qnpu_err(-EINVAL, "not an ONNX float model: qnpu_quantize_tflite() writes TFLite");
	if (rc.opt->float_io || rc.opt->bias_correction)
		return qnpu_err(-ENOTSUP, "ONNX quantization: --float-io and --bias-correction are TFLite-only (the QDQ model keeps float I/O)");
	for (r = 0; r < c->g->nops; r++) {
		const struct qnpu_ir_op *op = &c->g->ops[r];
		const struct qnpu_ir_tensor *y = qnpu_ir_out(c->g, op, 0);

		if (!y || y->dtype != QNPU_DTYPE_FLOAT32)
			return qnpu_err(-EINVAL, "ONNX quantization: operator %d (%s) is not a float operator: give the float model",
					r, qnpu_ir_op_name(op->builtin));
	}
	if ((r = calib_ready(c, rc.opt)))
		return r;
	r = qnpu_onnx_write_qdq(c->file, c->len, c->g, onnx_range, &rc,
				rc.opt->per_tensor, &out, len);
	if (!r)
		*buf = out;
	return r;
}

QNPU_EXPORT int qnpu_quantize_model(struct qnpu_calib *c,
				    const struct qnpu_quant_options *opt,
				    struct qnpu_device *dev,
				    struct qnpu_model **out)
{
	void *buf;
	size_t len;
	int r;

	*out = NULL;
	/* Through the writer: the model holds the .tflite it came from. */
	if ((r = qnpu_quantize_tflite(c, opt, &buf, &len)))
		return r;
	r = qnpu_model_load_memory(dev, buf, len, out);
	free(buf);
	return r;
}

/* --- the debugger --- */

struct cmp_state {
	float **keep;			/* per float tensor: its last value */
	struct qnpu_cmp_acc *acc;	/* per int8 op */
	int *fidx;			/* per int8 op: float tensor or -1 */
	int *slot;			/* per int8 op: layer index or -1 */
};

static int cmp_cb(const struct qnpu_op_info *op, const void *data, void *user)
{
	struct cmp_state *s = user;
	const float *f;
	int i = op->index;

	if (s->fidx[i] < 0 || !(f = s->keep[s->fidx[i]]))
		return 0;
	if (op->output.dtype == QNPU_DTYPE_INT8)
		qnpu_cmp_acc_i8(&s->acc[i], f, data, op->output.bytes,
				op->output.scale, op->output.zero_point);
	else if (op->output.dtype == QNPU_DTYPE_FLOAT32)
		qnpu_cmp_acc_f32(&s->acc[i], f, data, op->output.bytes / 4);
	return 0;
}

/* A float run's tensor: kept where the comparison reads it. */
static void observe_keep(void *user, int tensor, const float *x, size_t n)
{
	float **keep = user;

	if (keep[tensor])
		memcpy(keep[tensor], x, n * sizeof(float));
}

/* Which float tensor each int8 operator's output is: by name, else the
 * k-th compute operator of one is the k-th of the other. */
static void match_tensors(const struct qnpu_ir_graph *fg,
			  struct qnpu_model *m, int *fidx, int *by_name)
{
	int nops = qnpu_model_num_ops(m), i, j, k = 0;

	for (i = 0; i < nops; i++) {
		struct qnpu_op_info oi;

		fidx[i] = -1;
		by_name[i] = 0;
		qnpu_model_op_info(m, i, &oi);
		if (oi.output.dtype != QNPU_DTYPE_INT8 &&
		    oi.output.dtype != QNPU_DTYPE_FLOAT32)
			continue;
		for (j = 0; j < fg->ntensors; j++) {
			const struct qnpu_ir_tensor *t = &fg->tensors[j];

			if (!t->const_data && t->dtype == QNPU_DTYPE_FLOAT32 &&
			    t->count * qnpu_dtype_size(oi.output.dtype) ==
				    oi.output.bytes &&
			    oi.output.name && !strcmp(t->name, oi.output.name)) {
				fidx[i] = j;
				by_name[i] = 1;
				break;
			}
		}
		if (!strcmp(oi.name, "QUANTIZE") || !strcmp(oi.name, "DEQUANTIZE"))
			continue;
		if (fidx[i] < 0 && k < fg->nops) {
			const struct qnpu_ir_op *fo = &fg->ops[k];
			const struct qnpu_ir_tensor *t = qnpu_ir_out(fg, fo, 0);

			if (t && !strcmp(qnpu_ir_op_name(fo->builtin), oi.name) &&
			    t->count * qnpu_dtype_size(oi.output.dtype) ==
				    oi.output.bytes)
				fidx[i] = fo->out[0];
		}
		k++;
	}
}

QNPU_EXPORT void qnpu_compare_free(struct qnpu_compare_report *r)
{
	if (!r)
		return;
	free(r->layers);
	free(r);
}

/* The int8 model's input @i from floats, as TFLite's metrics do it. */
static int set_input(struct qnpu_model *m, int i, const float *x, void *buf)
{
	struct qnpu_tensor_info ti;
	size_t k, n;

	qnpu_model_input_info(m, i, &ti);
	if (ti.dtype == QNPU_DTYPE_FLOAT32)
		return qnpu_model_set_input(m, i, x, ti.bytes);
	if (ti.dtype != QNPU_DTYPE_INT8)
		return qnpu_err(-ENOTSUP, "input %d is %s: compare feeds INT8 or FLOAT32",
				i, qnpu_dtype_name(ti.dtype));
	n = ti.bytes;
	for (k = 0; k < n; k++) {
		float v = roundf(x[k] / ti.scale) + (float)ti.zero_point;

		((int8_t *)buf)[k] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
	}
	return qnpu_model_set_input(m, i, buf, n);
}

static int argmax(const float *x, size_t n)
{
	size_t i, b = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return (int)b;
}

QNPU_EXPORT int qnpu_compare(const char *float_path, struct qnpu_model *m,
			     const float *inputs, size_t size,
			     struct qnpu_compare_report **out)
{
	struct qnpu_calib *c = NULL;
	struct cmp_state s = { 0 };
	struct qnpu_compare_report *rep = NULL;
	struct qnpu_cmp_acc oacc = { 0 };
	int nops, i, r, agree = 0, *by_name = NULL;
	size_t one, n, k, in_elems = 0, obytes = 0;
	struct qnpu_tensor_info oi;
	void *buf = NULL;
	float *qout = NULL;

	*out = NULL;
	if ((r = qnpu_calib_create(float_path, &c)))
		return r;
	nops = qnpu_model_num_ops(m);
	one = c->sample_floats * sizeof(float);
	if (qnpu_model_num_inputs(m) != c->g->ninputs ||
	    qnpu_model_num_outputs(m) < 1 || c->g->noutputs < 1) {
		r = qnpu_err(-EINVAL, "the models' inputs or outputs differ");
		goto out_free;
	}
	for (i = 0; i < c->g->ninputs; i++) {
		struct qnpu_tensor_info ti;

		qnpu_model_input_info(m, i, &ti);
		if (ti.bytes / qnpu_dtype_size(ti.dtype) !=
		    c->g->tensors[c->g->inputs[i]].count) {
			r = qnpu_err(-EINVAL, "input %d has %zu bytes in the int8 model, %zu elements in the float model",
				     i, ti.bytes,
				     c->g->tensors[c->g->inputs[i]].count);
			goto out_free;
		}
		if (c->g->tensors[c->g->inputs[i]].count > in_elems)
			in_elems = c->g->tensors[c->g->inputs[i]].count;
	}
	if (!size || size % one) {
		r = qnpu_err(-EINVAL,
			     "inputs of %zu bytes are not a whole number of %zu-byte samples (the model's inputs, float32)",
			     size, one);
		goto out_free;
	}
	n = size / one;
	if ((r = check_finite(inputs, n * c->sample_floats, c->sample_floats, 0)))
		goto out_free;
	qnpu_model_output_info(m, 0, &oi);
	obytes = oi.bytes;
	if (oi.bytes / qnpu_dtype_size(oi.dtype) !=
	    c->g->tensors[c->g->outputs[0]].count) {
		r = qnpu_err(-EINVAL, "the models' first outputs differ in size");
		goto out_free;
	}
	s.keep = calloc((size_t)c->g->ntensors + 1, sizeof(*s.keep));
	s.acc = calloc((size_t)nops + 1, sizeof(*s.acc));
	s.fidx = calloc((size_t)nops + 1, sizeof(int));
	by_name = calloc((size_t)nops + 1, sizeof(int));
	buf = malloc(in_elems * 4 + obytes + 16);
	qout = malloc((obytes + 1) * sizeof(float));
	rep = calloc(1, sizeof(*rep));
	if (!s.keep || !s.acc || !s.fidx || !by_name || !buf || !qout ||
	    !rep) {
		r = qnpu_err(-ENOMEM, "out of memory");
		goto out_free;
	}
	match_tensors(c->g, m, s.fidx, by_name);
	/* The float tensors compared: the matched ones and the output. */
	for (i = 0; i <= nops; i++) {
		int t = i < nops ? s.fidx[i] : c->g->outputs[0];

		if (t < 0 || s.keep[t])
			continue;
		s.keep[t] = malloc((c->g->tensors[t].count + 1) * sizeof(float));
		if (!s.keep[t]) {
			r = qnpu_err(-ENOMEM, "out of memory");
			goto out_free;
		}
	}
	qnpu_model_set_layer_callback(m, cmp_cb, &s);
	for (k = 0; k < n; k++) {
		const float *x = inputs + k * c->sample_floats;
		const float *fo;
		size_t no = c->g->tensors[c->g->outputs[0]].count, e;

		if ((r = run_float(c, x, observe_keep, s.keep)))
			goto out_cb;
		for (i = 0; i < c->g->ninputs; i++) {
			if ((r = set_input(m, i, x, buf)))
				goto out_cb;
			x += c->g->tensors[c->g->inputs[i]].count;
		}
		if ((r = qnpu_model_run(m)))
			goto out_cb;
		if ((r = qnpu_model_get_output(m, 0, buf, obytes)))
			goto out_cb;
		for (e = 0; e < no; e++)
			qout[e] = oi.dtype == QNPU_DTYPE_INT8 ?
				oi.scale * (float)(((int8_t *)buf)[e] - oi.zero_point) :
				((float *)buf)[e];
		fo = s.keep[c->g->outputs[0]];
		qnpu_cmp_acc_f32(&oacc, fo, qout, no);
		agree += argmax(fo, no) == argmax(qout, no);
	}
	rep->num_inputs = (int)n;
	rep->is_classifier = c->g->nops > 0 &&
		c->g->ops[c->g->nops - 1].builtin == QNPU_TFL_SOFTMAX;
	rep->top1_agreement = n ? (double)agree / (double)n : 0;
	rep->output_sqnr_db = qnpu_cmp_sqnr(&oacc);
	rep->output_max_abs_err = oacc.max_err;
	rep->layers = calloc((size_t)nops + 1, sizeof(*rep->layers));
	if (!rep->layers) {
		r = qnpu_err(-ENOMEM, "out of memory");
		goto out_cb;
	}
	for (i = 0; i < nops; i++) {
		struct qnpu_compare_layer *l = &rep->layers[rep->num_layers];
		struct qnpu_op_info info;
		const struct qnpu_cmp_acc *a = &s.acc[i];

		if (s.fidx[i] < 0 || !a->n)
			continue;
		qnpu_model_op_info(m, i, &info);
		l->op_index = i;
		l->op_name = info.name;
		l->name = info.output.name;
		l->float_index = s.fidx[i];
		l->by_name = by_name[i];
		l->sqnr_db = qnpu_cmp_sqnr(a);
		l->cosine = qnpu_cmp_cosine(a);
		l->max_abs_err = a->max_err;
		l->min = a->fmin;
		l->max = a->fmax;
		l->qmin = a->qlo;
		l->qmax = a->qhi;
		l->clipped = (double)a->clipped / (double)a->n;
		rep->num_layers++;
	}
	*out = rep;
	rep = NULL;
	r = 0;
out_cb:
	qnpu_model_set_layer_callback(m, NULL, NULL);
out_free:
	for (i = 0; s.keep && i < c->g->ntensors; i++)
		free(s.keep[i]);
	free(s.keep);
	qnpu_compare_free(rep);
	free(s.acc);
	free(s.fidx);
	free(by_name);
	free(buf);
	free(qout);
	qnpu_calib_free(c);
	return r;
}
