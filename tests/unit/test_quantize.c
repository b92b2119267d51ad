// SPDX-License-Identifier: MIT
/*
 * Post-training quantization: the converter's weight and bias rules bit for
 * bit on the shared float models, the converter's activation parameters,
 * every calibration method giving a runnable model, the debugger, and
 * each refusal with its one-line message.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend/qnpu_backend.h"
#include "import/qnpu_import.h"
#include "qnpu.h"
#include "quant/qnpu_quant.h"
#include "util/qnpu_util.h"

#define QNPU_UNIT_SEED 0x9a17u
#include "qnpu_unit.h"

static const char *const ic = "mlperf_tiny_ic_resnet8";
static const char *const kws = "mlperf_tiny_kws_dscnn";
static const char *const ad = "mlperf_tiny_ad_fc_autoencoder";

static char *path_of(const char *fmt, const char *model)
{
	static char buf[4][512];
	static int k;
	char *p = buf[k++ & 3];

	snprintf(p, 512, "%s/", models_dir());
	snprintf(p + strlen(p), 512 - strlen(p), fmt, model, model);
	return p;
}

static float *read_all(const char *path, size_t *bytes)
{
	uint8_t *buf;

	if (qnpu_read_file(path, &buf, bytes))
		return NULL;
	return (float *)buf;
}

/* A calibrator on @model's first @n calibration samples (all if 0). */
static struct qnpu_calib *calib(const char *model, size_t n)
{
	struct qnpu_calib *c;
	size_t bytes, one;
	float *s;

	if (qnpu_calib_create(path_of("float/tflite/%s_float.tflite", model), &c))
		return NULL;
	s = read_all(path_of("float/inputs/%s_float/calib.f32.bin", model), &bytes);
	assert_non_null(s);
	one = qnpu_calib_sample_floats(c) * 4;
	if (n && n * one < bytes)
		bytes = n * one;
	assert_int_equal(qnpu_calib_add_samples(c, s, bytes), (int)(bytes / one));
	free(s);
	return c;
}

static void need_models(void)
{
	char *p = path_of("float/tflite/%s_float.tflite", ic);
	FILE *f = fopen(p, "rb");

	if (!f) {
		print_message("no %s: skipped\n", p);
		skip();
	}
	fclose(f);
}

/* GetAsymmetricQuantizationParams, and no scale 0 for a constant 0. */
static void test_asym_params(void **state)
{
	float s;
	int32_t zp;

	(void)state;
	qnpu_asym_params(0, 255, &s, &zp);
	assert_true(s == 1.0f && zp == -128);
	qnpu_asym_params(-1, 1, &s, &zp);	/* -0.5 rounds away: -1 */
	assert_true(s == 2.0f / 255 && zp == -1);
	qnpu_asym_params(2, 5, &s, &zp);	/* widened to hold 0 */
	assert_true(s == 5.0f / 255 && zp == -128);
	qnpu_asym_params(-5, -2, &s, &zp);
	assert_true(s == 5.0f / 255 && zp == 127);
	qnpu_asym_params(0, 0, &s, &zp);	/* a tensor that is always 0 */
	assert_true(s == 1.0f && isfinite(s));
}

/*
 * Histograms of a long-tailed distribution (exponential, mean 1, 20000
 * values): percentile, MSE and entropy all clip the tail, min/max keeps it.
 */
static void test_ranges(void **state)
{
	struct qnpu_tstats *s = calloc(1, sizeof(*s));
	float *x = malloc(20000 * sizeof(float)), lo, hi;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++)
		x[i] = -logf(((float)(xorshift() % 1000000) + 0.5f) / 1e6f);
	s->used = true;
	qnpu_tstats_minmax(s, x, 20000);
	qnpu_tstats_hist_init(s);
	qnpu_tstats_hist(s, x, 20000);
	qnpu_tstats_range(s, QNPU_QM_MINMAX, 0, &lo, &hi);
	assert_true(hi == s->max && hi > 9);
	qnpu_tstats_range(s, QNPU_QM_PERCENTILE, 99.9, &lo, &hi);
	assert_true(hi > 6 && hi < 7.5);	/* ln(1000) = 6.9 */
	qnpu_tstats_range(s, QNPU_QM_MSE, 0, &lo, &hi);
	assert_true(hi > 3 && hi < s->max);
	qnpu_tstats_range(s, QNPU_QM_ENTROPY, 0, &lo, &hi);
	assert_true(hi > 3 && hi < s->max);
	free(x);
	free(s);
}

struct pair {
	struct qnpu_ir_graph *ours, *conv;
	uint8_t *file;
	struct qnpu_model *cm;
	struct qnpu_device *dev;
};

/*
 * Our quantizer on @model's float graph with the converter's activation
 * parameters (matched op by op): then only the weight and bias rules are
 * left to differ.
 */
static void quantize_like_converter(const char *model, struct pair *p)
{
	struct qnpu_quant_ranges rg = { 0 };
	struct qnpu_quantize_opts qo = { 0 };
	struct qnpu_ir_graph *g, *cg;
	float *scale;
	int32_t *zp;
	size_t len;
	int i;

	assert_int_equal(qnpu_device_open("cpu", &p->dev), 0);
	assert_int_equal(qnpu_model_load_file(p->dev, path_of("tflite/%s.tflite", model),
					      &p->cm), 0);
	cg = p->cm->g;
	assert_int_equal(qnpu_read_file(path_of("float/tflite/%s_float.tflite", model),
					&p->file, &len), 0);
	assert_int_equal(qnpu_tflite_import(p->file, len, &g), 0);
	assert_int_equal(g->nops, cg->nops);
	scale = calloc((size_t)g->ntensors, sizeof(float));
	zp = calloc((size_t)g->ntensors, sizeof(int32_t));
	for (i = 0; i < g->ninputs; i++) {
		scale[g->inputs[i]] = cg->tensors[cg->inputs[i]].scale[0];
		zp[g->inputs[i]] = cg->tensors[cg->inputs[i]].zero_point[0];
	}
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_tensor *t = qnpu_ir_out(cg, &cg->ops[i], 0);

		assert_int_equal(g->ops[i].builtin, cg->ops[i].builtin);
		scale[g->ops[i].out[0]] = t->scale[0];
		zp[g->ops[i].out[0]] = t->zero_point[0];
	}
	rg.have = calloc((size_t)g->ntensors, sizeof(bool));
	rg.lo = calloc((size_t)g->ntensors, sizeof(float));
	rg.hi = calloc((size_t)g->ntensors, sizeof(float));
	rg.scale = scale;
	rg.zp = zp;
	assert_int_equal(qnpu_quantize_graph(g, &rg, &qo, NULL, 0), 0);
	free(rg.have);
	free(rg.lo);
	free(rg.hi);
	free(scale);
	free(zp);
	p->ours = g;
	p->conv = cg;
}

static void pair_free(struct pair *p)
{
	qnpu_ir_graph_free(p->ours);
	free(p->file);
	qnpu_model_free(p->cm);
	qnpu_device_close(p->dev);
}

/* Equal constants (weights, biases): count of tensors, else fail. */
static int same_constants(const struct pair *p, bool values_only)
{
	int i, j, n = 0;

	for (i = 0; i < p->ours->nops; i++)
		for (j = 1; j < p->ours->ops[i].nin && j < 3; j++) {
			const struct qnpu_ir_tensor *a = qnpu_ir_in(p->ours, &p->ours->ops[i], j);
			const struct qnpu_ir_tensor *b = qnpu_ir_in(p->conv, &p->conv->ops[i], j);

			if (!a || !a->const_data || p->ours->ops[i].builtin == QNPU_TFL_RESHAPE)
				continue;
			assert_int_equal(a->dtype, b->dtype);
			assert_int_equal(a->bytes, b->bytes);
			if (!values_only || a->dtype == QNPU_DTYPE_INT32) {
				assert_int_equal(a->nq, b->nq);
				assert_memory_equal(a->scale, b->scale,
						    (size_t)a->nq * sizeof(float));
			}
			assert_memory_equal(a->const_data, b->const_data, a->bytes);
			n++;
		}
	return n;
}

/*
 * ResNet-8 and the autoencoder: every int8 weight, weight scale and int32
 * bias equals the converter's, and the whole model then runs to the
 * converter's model's outputs byte for byte.
 */
static void test_converter_bit_exact(void **state)
{
	const char *const models[] = { ic, ad };
	size_t k;

	(void)state;
	need_models();
	for (k = 0; k < 2; k++) {
		struct pair p = { 0 };
		struct qnpu_model *m;
		uint8_t *buf;
		size_t len, in_bytes, out_bytes;
		struct qnpu_tensor_info ii, oi;
		uint8_t in[4096], o1[4096], o2[4096];
		int i, n;

		quantize_like_converter(models[k], &p);
		n = same_constants(&p, false);
		assert_int_equal(n, k ? 20 : 20);
		/* The same graph written and loaded runs as the converter's. */
		assert_int_equal(qnpu_tflite_write(p.ours, &buf, &len), 0);
		assert_int_equal(qnpu_model_load_memory(p.dev, buf, len, &m), 0);
		free(buf);
		qnpu_model_input_info(m, 0, &ii);
		qnpu_model_output_info(m, 0, &oi);
		in_bytes = ii.bytes;
		out_bytes = oi.bytes;
		for (i = 0; i < 4; i++) {
			size_t e;

			for (e = 0; e < in_bytes; e++)
				in[e] = (uint8_t)xorshift();
			assert_int_equal(qnpu_model_set_input(m, 0, in, in_bytes), 0);
			assert_int_equal(qnpu_model_set_input(p.cm, 0, in, in_bytes), 0);
			assert_int_equal(qnpu_model_run(m), 0);
			assert_int_equal(qnpu_model_run(p.cm), 0);
			qnpu_model_get_output(m, 0, o1, out_bytes);
			qnpu_model_get_output(p.cm, 0, o2, out_bytes);
			assert_memory_equal(o1, o2, out_bytes);
		}
		qnpu_model_free(m);
		pair_free(&p);
	}
}

/* KWS: FC weights exact, depthwise int8 values exact (scales differ by ulps
 * from the converter's batch-norm folding, README). */
static void test_converter_kws(void **state)
{
	struct pair p = { 0 };
	int i;

	(void)state;
	need_models();
	quantize_like_converter(kws, &p);
	for (i = 0; i < p.ours->nops; i++) {
		const struct qnpu_ir_op *op = &p.ours->ops[i];
		const struct qnpu_ir_tensor *a = qnpu_ir_in(p.ours, op, 1);
		const struct qnpu_ir_tensor *b = qnpu_ir_in(p.conv, &p.conv->ops[i], 1);

		if (op->builtin == QNPU_TFL_FULLY_CONNECTED) {
			assert_true(a->scale[0] == b->scale[0]);
			assert_memory_equal(a->const_data, b->const_data, a->bytes);
		} else if (op->builtin == QNPU_TFL_DEPTHWISE_CONV_2D) {
			assert_memory_equal(a->const_data, b->const_data, a->bytes);
		}
	}
	pair_free(&p);
}

/* With our own min/max calibration the weights are still the converter's. */
static void test_minmax_weights(void **state)
{
	struct qnpu_calib *c;
	struct qnpu_device *dev;
	struct qnpu_model *m, *cm;
	int i, j, n = 0;

	(void)state;
	need_models();
	c = calib(ic, 16);
	assert_non_null(c);
	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	assert_int_equal(qnpu_quantize_model(c, NULL, dev, &m), 0);
	assert_int_equal(qnpu_model_load_file(dev, path_of("tflite/%s.tflite", ic), &cm), 0);
	for (i = 0; i < m->g->nops; i++)
		for (j = 1; j < 2 && j < m->g->ops[i].nin; j++) {
			const struct qnpu_ir_tensor *a = qnpu_ir_in(m->g, &m->g->ops[i], j);
			const struct qnpu_ir_tensor *b = qnpu_ir_in(cm->g, &cm->g->ops[i], j);

			if (!a || !a->const_data || a->dtype != QNPU_DTYPE_INT8)
				continue;
			assert_int_equal(a->nq, b->nq);
			assert_memory_equal(a->scale, b->scale, (size_t)a->nq * 4);
			assert_memory_equal(a->const_data, b->const_data, a->bytes);
			n++;
		}
	assert_int_equal(n, 10);
	/* Names kept; the input range of [0, 255] pixels is the converter's. */
	assert_string_equal(m->g->tensors[m->g->ops[0].out[0]].name,
			    cm->g->tensors[cm->g->ops[0].out[0]].name);
	assert_true(m->g->tensors[m->g->inputs[0]].scale[0] == 1.0f);
	assert_int_equal(m->g->tensors[m->g->inputs[0]].zero_point[0], -128);
	qnpu_model_free(cm);
	qnpu_model_free(m);
	qnpu_device_close(dev);
	qnpu_calib_free(c);
}

/* Every method, per-tensor weights and float I/O give a model that runs;
 * TFLite's constraints hold (pool/reshape share scales, softmax 1/256). */
static void test_methods(void **state)
{
	static const struct qnpu_quant_options opts[] = {
		{ QNPU_CALIB_MINMAX, 0, 0, 0, 0 },
		{ QNPU_CALIB_PERCENTILE, 99.9, 0, 0, 0 },
		{ QNPU_CALIB_MSE, 0, 1, 0, 1 },
		{ QNPU_CALIB_ENTROPY, 0, 0, 1, 0 },
	};
	struct qnpu_device *dev;
	struct qnpu_calib *c;
	size_t k;

	(void)state;
	need_models();
	c = calib(kws, 24);
	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		struct qnpu_model *m;
		struct qnpu_tensor_info ii;
		uint8_t in[2048] = { 0 };
		int i;

		assert_int_equal(qnpu_quantize_model(c, &opts[k], dev, &m), 0);
		qnpu_model_input_info(m, 0, &ii);
		assert_int_equal(ii.dtype, opts[k].float_io ? QNPU_DTYPE_FLOAT32 :
					   QNPU_DTYPE_INT8);
		assert_int_equal(qnpu_model_set_input(m, 0, in, ii.bytes), 0);
		assert_int_equal(qnpu_model_run(m), 0);
		for (i = 0; i < m->g->nops; i++) {
			const struct qnpu_ir_op *op = &m->g->ops[i];
			const struct qnpu_ir_tensor *a = qnpu_ir_in(m->g, op, 0);
			const struct qnpu_ir_tensor *o = qnpu_ir_out(m->g, op, 0);

			if (op->builtin == QNPU_TFL_AVERAGE_POOL_2D ||
			    op->builtin == QNPU_TFL_RESHAPE)
				assert_true(a->scale[0] == o->scale[0] &&
					    a->zero_point[0] == o->zero_point[0]);
			if (op->builtin == QNPU_TFL_SOFTMAX)
				assert_true(o->scale[0] == 1.0f / 256 &&
					    o->zero_point[0] == -128);
			if (op->builtin == QNPU_TFL_CONV_2D)
				assert_int_equal(qnpu_ir_in(m->g, op, 1)->nq,
						 opts[k].per_tensor ? 1 : o->shape[3]);
		}
		qnpu_model_free(m);
	}
	qnpu_device_close(dev);
	qnpu_calib_free(c);
}

/* The debugger on our model: every layer matched by name, outputs agree. */
static void test_compare(void **state)
{
	struct qnpu_compare_report *r;
	struct qnpu_device *dev;
	struct qnpu_calib *c;
	struct qnpu_model *m;
	size_t bytes;
	float *ev;
	int i;

	(void)state;
	need_models();
	c = calib(ad, 0);
	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	assert_int_equal(qnpu_quantize_model(c, NULL, dev, &m), 0);
	ev = read_all(path_of("float/inputs/%s_float/eval.f32.bin", ad), &bytes);
	assert_non_null(ev);
	assert_int_equal(qnpu_compare(path_of("float/tflite/%s_float.tflite", ad), m,
				      ev, bytes / 8, &r), 0);
	assert_int_equal(r->num_inputs, 96 / 8);
	assert_int_equal(r->num_layers, 10);
	assert_false(r->is_classifier);
	for (i = 0; i < r->num_layers; i++) {
		assert_true(r->layers[i].by_name);
		assert_true(r->layers[i].sqnr_db > 10);
		assert_true(r->layers[i].cosine > 0.95);
	}
	assert_true(r->output_sqnr_db > 25);
	qnpu_compare_free(r);
	/* Sizes: not a whole sample. */
	assert_int_equal(qnpu_compare(path_of("float/tflite/%s_float.tflite", ad), m,
				      ev, 100, &r), -EINVAL);
	assert_non_null(strstr(qnpu_last_error(), "whole number"));
	free(ev);
	qnpu_model_free(m);
	qnpu_device_close(dev);
	qnpu_calib_free(c);
}

/*
 * Bias correction on the autoencoder (per-tensor FC weights): the mean
 * error of the rounded weights folded into the biases gains several dB.
 */
static void test_bias_correction(void **state)
{
	struct qnpu_quant_options o = { QNPU_CALIB_MSE, 0, 0, 0, 0 };
	struct qnpu_compare_report *r;
	struct qnpu_device *dev;
	struct qnpu_calib *c;
	struct qnpu_model *m;
	double sqnr[2];
	size_t bytes;
	float *ev;
	int k;

	(void)state;
	need_models();
	c = calib(ad, 0);
	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	ev = read_all(path_of("float/inputs/%s_float/eval.f32.bin", ad), &bytes);
	assert_non_null(ev);
	for (k = 0; k < 2; k++) {
		o.bias_correction = k;
		assert_int_equal(qnpu_quantize_model(c, &o, dev, &m), 0);
		assert_int_equal(qnpu_compare(path_of("float/tflite/%s_float.tflite", ad),
					      m, ev, bytes / 4, &r), 0);
		sqnr[k] = r->output_sqnr_db;
		qnpu_compare_free(r);
		qnpu_model_free(m);
	}
	print_message("AD output SQNR %.2f dB, with bias correction %.2f dB\n",
		      sqnr[0], sqnr[1]);
	assert_true(sqnr[1] > sqnr[0] + 5);
	free(ev);
	qnpu_device_close(dev);
	qnpu_calib_free(c);
}

/* Each refusal: one line naming what is wrong. */
static void test_errors(void **state)
{
	struct qnpu_calib *c;
	struct qnpu_device *dev;
	struct qnpu_model *m;
	struct qnpu_ir_graph *g;
	uint8_t *file, *buf;
	size_t len, n;
	float *x;

	(void)state;
	need_models();
	/* An int8 model. */
	assert_int_equal(qnpu_calib_create(path_of("tflite/%s.tflite", ic), &c), -EINVAL);
	assert_non_null(strstr(qnpu_last_error(), "already quantized"));
	assert_null(strchr(qnpu_last_error(), '\n'));
	/* No samples. */
	assert_int_equal(qnpu_calib_create(path_of("float/tflite/%s_float.tflite", ad), &c), 0);
	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	assert_int_equal(qnpu_quantize_model(c, NULL, dev, &m), -EINVAL);
	assert_string_equal(qnpu_last_error(), "no calibration samples");
	/* A sample file of the wrong size. */
	n = qnpu_calib_sample_floats(c);
	assert_int_equal(n, 640);
	x = calloc(n * 2 + 1, sizeof(float));
	assert_int_equal(qnpu_calib_add_samples(c, x, (n + 1) * 4), -EINVAL);
	assert_non_null(strstr(qnpu_last_error(), "not a whole number of 2560-byte samples"));
	/* NaN and Inf. */
	x[n + 7] = NAN;
	assert_int_equal(qnpu_calib_add_samples(c, x, n * 8), -EINVAL);
	assert_string_equal(qnpu_last_error(),
			    "sample 1 has NaN at element 7: samples must be finite");
	x[n + 7] = -INFINITY;
	assert_int_equal(qnpu_calib_add_samples(c, x, n * 8), -EINVAL);
	assert_non_null(strstr(qnpu_last_error(), "Inf at element 7"));
	/*
	 * All-zero samples: every activation is a constant 0 or bias-only;
	 * the zero ranges get a usable scale and the model runs.
	 */
	memset(x, 0, n * 8);
	assert_int_equal(qnpu_calib_add_samples(c, x, n * 8), 2);
	assert_int_equal(qnpu_quantize_model(c, NULL, dev, &m), 0);
	assert_true(m->g->tensors[m->g->inputs[0]].scale[0] == 1.0f);
	assert_int_equal(qnpu_model_run(m), 0);
	qnpu_model_free(m);
	qnpu_calib_free(c);
	free(x);
	/* An operator we cannot quantize, named with its index. */
	assert_int_equal(qnpu_read_file(path_of("float/tflite/%s_float.tflite", ad),
					&file, &len), 0);
	assert_int_equal(qnpu_tflite_import(file, len, &g), 0);
	g->ops[3].builtin = 28;	/* TANH */
	assert_int_equal(qnpu_tflite_write(g, &buf, &n), 0);
	assert_int_equal(qnpu_calib_create_memory(buf, n, &c), -ENOTSUP);
	assert_non_null(strstr(qnpu_last_error(), "operator 3 (TANH) cannot be quantized"));
	free(buf);
	qnpu_ir_graph_free(g);
	free(file);
	qnpu_device_close(dev);
}

/*
 * A dead channel (all weights 1e-16) stores zeros at a finite scale and
 * its bias still fits: no division by a near-zero scale.
 */
static void test_dead_channel(void **state)
{
	struct qnpu_quant_ranges rg = { 0 };
	struct qnpu_quantize_opts qo = { 0 };
	struct qnpu_ir_graph *g;
	struct qnpu_ir_tensor *w, *b;
	uint8_t *file;
	float *wf, *bf;
	size_t len, k;
	int i;

	(void)state;
	need_models();
	assert_int_equal(qnpu_read_file(path_of("float/tflite/%s_float.tflite", ic),
					&file, &len), 0);
	assert_int_equal(qnpu_tflite_import(file, len, &g), 0);
	w = qnpu_ir_in(g, &g->ops[0], 1);
	b = qnpu_ir_in(g, &g->ops[0], 2);
	wf = malloc(w->bytes);
	bf = malloc(b->bytes);
	memcpy(wf, w->const_data, w->bytes);
	memcpy(bf, b->const_data, b->bytes);
	for (k = 0; k < w->count / 16; k++)	/* channel 5 of 16 dies */
		wf[5 * (w->count / 16) + k] = 1e-16f;
	bf[5] = 3.5f;
	w->const_data = (uint8_t *)wf;
	w->owns_data = true;
	b->const_data = (uint8_t *)bf;
	b->owns_data = true;
	rg.lo = calloc((size_t)g->ntensors, sizeof(float));
	rg.hi = calloc((size_t)g->ntensors, sizeof(float));
	rg.have = calloc((size_t)g->ntensors, sizeof(bool));
	for (i = 0; i < g->ntensors; i++) {
		rg.have[i] = true;
		rg.hi[i] = 8;
	}
	assert_int_equal(qnpu_quantize_graph(g, &rg, &qo, NULL, 0), 0);
	assert_true(w->scale[5] > 0 && isfinite(w->scale[5]));
	for (k = 0; k < w->count / 16; k++)
		assert_int_equal(((const int8_t *)w->const_data)[5 * (w->count / 16) + k], 0);
	assert_true(w->scale[5] == 1.0f / 127);
	assert_int_equal(((const int32_t *)b->const_data)[5],
			 (int32_t)roundf(3.5f / b->scale[5]));
	free(rg.lo);
	free(rg.hi);
	free(rg.have);
	qnpu_ir_graph_free(g);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asym_params),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_converter_bit_exact),
		cmocka_unit_test(test_converter_kws),
		cmocka_unit_test(test_minmax_weights),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_bias_correction),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dead_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
