// SPDX-License-Identifier: MIT
/*
 * The float path through the public API and hand-built IR graphs:
 * - the layer callback sees every operator's float32 output (what the
 *   calibration uses), on the cpu and, falling back with a note, on sim;
 * - the hybrid KWS model's dequantized filters are bit for bit those of
 *   the pure float copy;
 * - DEQUANTIZE of an int8 per-channel constant and of a float16 constant
 *   feeding a float CONV_2D / FULLY_CONNECTED runs as an operator and
 *   gives what the same layer with float constants gives;
 * - a FLOAT16 activation and a float op without a kernel are refused with
 *   one line naming the operator and its types.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qnpu.h"
#include "qnpu_cpu.h"
#include "import/qnpu_import.h"
#include "qnpu_runtime.h"
#include "util/qnpu_util.h"

#define QNPU_UNIT_SEED 0xF6A9u
#include "qnpu_unit.h"

#define KWS "float/tflite/mlperf_tiny_kws_dscnn_float.tflite"
#define KWS_HYBRID "float/hybrid/mlperf_tiny_kws_dscnn_float32_hybrid.tflite"

/* A shared model by its path below the models folder; NULL if unreadable. */
static uint8_t *slurp(const char *name, size_t *len)
{
	char path[512];
	uint8_t *b;

	snprintf(path, sizeof(path), "%s/%s", models_dir(), name);
	return qnpu_read_file(path, &b, len) ? NULL : b;
}

struct seen {
	int calls, floats;
	float last[12];
};

static int on_layer(const struct qnpu_op_info *op, const void *data,
		    void *user)
{
	struct seen *s = user;

	s->calls++;
	s->floats += op->output.dtype == QNPU_DTYPE_FLOAT32;
	if (op->output.bytes == sizeof(s->last))
		memcpy(s->last, data, sizeof(s->last));
	return 0;
}

/* KWS float on @device: every layer seen as float32, output = golden's. */
static void run_kws(const char *device)
{
	struct qnpu_device *dev;
	struct qnpu_model *m;
	struct qnpu_op_stats st;
	struct qnpu_op_info info;
	struct seen s = { 0 };
	float in[490], out[12], gold[12];
	size_t len;
	uint8_t *file = slurp(KWS, &len);
	char path[512];
	FILE *f;
	int i;

	if (!file)
		skip();
	snprintf(path, sizeof(path), "%s/float/inputs/mlperf_tiny_kws_dscnn_float/eval.f32.bin",
		 models_dir());
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(in, sizeof(in), 1, f), 1);
	fclose(f);
	snprintf(path, sizeof(path), "%s/float/golden/mlperf_tiny_kws_dscnn_float/eval.out.f32.bin",
		 models_dir());
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(gold, sizeof(gold), 1, f), 1);
	fclose(f);

	assert_int_equal(qnpu_device_open(device, &dev), 0);
	assert_int_equal(qnpu_model_load_memory(dev, file, len, &m), 0);
	assert_int_equal(qnpu_model_set_layer_callback(m, on_layer, &s), 0);
	assert_int_equal(qnpu_model_set_input(m, 0, in, sizeof(in)), 0);
	assert_int_equal(qnpu_model_run(m), 0);
	assert_int_equal(qnpu_model_get_output(m, 0, out, sizeof(out)), 0);
	assert_int_equal(s.calls, qnpu_model_num_ops(m));
	assert_int_equal(s.floats, qnpu_model_num_ops(m));
	assert_memory_equal(s.last, out, sizeof(out));
	for (i = 0; i < 12; i++)
		assert_true(fabsf(out[i] - gold[i]) <= 1e-5f);
	for (i = 0; i < qnpu_model_num_ops(m); i++) {
		qnpu_model_op_info(m, i, &info);
		assert_int_equal(info.target, QNPU_TARGET_CPU);
		qnpu_model_op_stats(m, i, &st);
		/* Kinds the NPU takes in int8 say why they did not go there. */
		if (strcmp(device, "cpu") && (strstr(info.name, "CONV") ||
					      strstr(info.name, "POOL") ||
					      strstr(info.name, "FULLY")))
			assert_non_null(strstr(st.note, "float32"));
	}
	qnpu_model_free(m);
	qnpu_device_close(dev);
	free(file);
}

static void test_kws_cpu_layers(void **state)
{
	(void)state;
	run_kws("cpu");
}

static void test_kws_sim_falls_back(void **state)
{
	(void)state;
	run_kws("sim");
}

static void test_hybrid_filters_bit_exact(void **state)
{
	struct qnpu_ir_graph *gh, *gf;
	size_t lh, lf;
	uint8_t *fh = slurp(KWS_HYBRID, &lh), *ff = slurp(KWS, &lf);
	int i, dequantized = 0;

	(void)state;
	if (!fh || !ff)
		skip();
	assert_int_equal(qnpu_tflite_import(fh, lh, &gh), 0);
	assert_int_equal(qnpu_tflite_import(ff, lf, &gf), 0);
	assert_int_equal(gh->ntensors, gf->ntensors);
	for (i = 0; i < gh->ntensors; i++) {
		const struct qnpu_ir_tensor *h = &gh->tensors[i];
		const struct qnpu_ir_tensor *f = &gf->tensors[i];

		assert_int_equal(h->dtype, f->dtype);
		assert_int_equal(h->bytes, f->bytes);
		assert_int_equal(h->nq, f->nq);
		if (!f->const_data)
			continue;
		assert_memory_equal(h->const_data, f->const_data, f->bytes);
		dequantized += h->owns_data;
	}
	assert_int_equal(dequantized, 5);	/* the five CONV_2D filters */
	qnpu_ir_graph_free(gh);
	qnpu_ir_graph_free(gf);
	free(fh);
	free(ff);
}

/* --- hand-built graphs --- */

static int add_tensor(struct qnpu_ir_graph *g, int dtype, int rank,
		      const int32_t *shape, const void *data)
{
	struct qnpu_ir_tensor *t = &g->tensors[g->ntensors];
	int i;

	memset(t, 0, sizeof(*t));
	t->name = "t";
	t->dtype = (enum qnpu_dtype)dtype;
	t->rank = rank;
	t->count = 1;
	for (i = 0; i < rank; i++) {
		t->shape[i] = shape[i];
		t->count *= (size_t)shape[i];
	}
	t->bytes = t->count * qnpu_dtype_size(t->dtype);
	if (data) {
		void *c = malloc(t->bytes);

		memcpy(c, data, t->bytes);
		t->const_data = c;
		t->owns_data = true;
	}
	return g->ntensors++;
}

static void quantize(struct qnpu_ir_tensor *t, int n, const float *scale,
		     int qdim)
{
	t->nq = n;
	t->qdim = qdim;
	t->scale = calloc((size_t)n, sizeof(float));
	t->zero_point = calloc((size_t)n, sizeof(int32_t));
	memcpy(t->scale, scale, (size_t)n * sizeof(float));
}

static struct qnpu_ir_op *add_op(struct qnpu_ir_graph *g, int builtin,
				 int nin, const int32_t *in, int out)
{
	struct qnpu_ir_op *op = &g->ops[g->nops];

	memset(op, 0, sizeof(*op));
	op->index = g->nops++;
	op->builtin = builtin;
	op->nin = nin;
	op->nout = 1;
	op->in = calloc((size_t)nin, sizeof(int32_t));
	op->out = calloc(1, sizeof(int32_t));
	memcpy(op->in, in, (size_t)nin * sizeof(int32_t));
	op->out[0] = out;
	return op;
}

static struct qnpu_ir_graph *new_graph(int in, int out)
{
	struct qnpu_ir_graph *g = calloc(1, sizeof(*g));

	g->tensors = calloc(16, sizeof(*g->tensors));
	g->ops = calloc(4, sizeof(*g->ops));
	g->ninputs = g->noutputs = 1;
	g->inputs = calloc(1, sizeof(int32_t));
	g->outputs = calloc(1, sizeof(int32_t));
	g->inputs[0] = in;
	g->outputs[0] = out;
	return g;
}

static void mark_io(struct qnpu_ir_graph *g)
{
	g->tensors[g->inputs[0]].is_input = true;
	g->tensors[g->outputs[0]].is_output = true;
}

static void conv_opts(struct qnpu_ir_op *op)
{
	op->opt.conv.padding = QNPU_PAD_SAME;
	op->opt.conv.stride_w = op->opt.conv.stride_h = 1;
	op->opt.conv.dilation_w = op->opt.conv.dilation_h = 1;
	op->opt.conv.depth_multiplier = 1;
	op->opt.conv.act = 1;
}

static void run_graph(struct qnpu_ir_graph *g, const float *in, size_t in_n,
		      float *out, size_t out_n)
{
	struct qnpu_device *dev;
	struct qnpu_model *m;

	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	if (qnpu_model_from_graph(dev, g, NULL, 0, &m))
		fail_msg("%s", qnpu_last_error());
	assert_int_equal(qnpu_model_set_input(m, 0, in, in_n * sizeof(float)),
			 0);
	assert_int_equal(qnpu_model_run(m), 0);
	assert_int_equal(qnpu_model_get_output(m, 0, out,
					       out_n * sizeof(float)), 0);
	qnpu_model_free(m);
	qnpu_device_close(dev);
}

/* float -> half, round to nearest even (test values are normal halves). */
static uint16_t to_half(float f)
{
	uint32_t b;

	memcpy(&b, &f, 4);
	if (f == 0.0f)
		return (uint16_t)((b >> 16) & 0x8000);
	return (uint16_t)(((b >> 16) & 0x8000) |
			  ((((b >> 23) & 0xff) - 112) << 10) | ((b >> 13) & 0x3ff));
}

/*
 * input 1x5x5x3 -> CONV_2D 3x3 (filter = DEQUANTIZE of an int8 [4,3,3,3]
 * with a scale per output channel, one of them a dead channel's floor)
 * -> 1x5x5x4, against the same conv with the dequantized float filter
 * as a constant. Then FC with float16 weights through DEQUANTIZE.
 */
static void test_dequantize_constants_as_ops(void **state)
{
	const int32_t s_in[] = { 1, 5, 5, 3 }, s_w[] = { 4, 3, 3, 3 };
	const int32_t s_b[] = { 4 }, s_out[] = { 1, 5, 5, 4 };
	const int32_t s_fw[] = { 6, 100 }, s_fin[] = { 1, 100 };
	const int32_t s_fb[] = { 6 }, s_fout[] = { 1, 6 };
	float scales[4] = { 0.01f, 0.002f, 7.874016e-9f, 0.05f };
	float in[75], wf[108], bias[4], y1[100], y2[100];
	float fin[100], fwf[600], fb[6], z1[6], z2[6];
	uint16_t fwh[600];
	int8_t wq[108];
	struct qnpu_ir_graph *g;
	struct qnpu_ir_op *op;
	int i, x, w, b, o, d;

	(void)state;
	for (i = 0; i < 75; i++)
		in[i] = (float)rnd(-1000, 1000) / 100.0f;
	for (i = 0; i < 108; i++) {
		/* Channel 2 is dead: all-zero int8 under a floor scale. */
		wq[i] = i / 27 == 2 ? 0 : (int8_t)rnd(-127, 127);
		wf[i] = scales[i / 27] * (float)wq[i];
	}
	for (i = 0; i < 4; i++)
		bias[i] = (float)rnd(-100, 100) / 50.0f;

	/* DEQUANTIZE(int8 const) -> CONV_2D */
	g = new_graph(0, 4);
	x = add_tensor(g, QNPU_DTYPE_FLOAT32, 4, s_in, NULL);
	i = add_tensor(g, QNPU_DTYPE_INT8, 4, s_w, wq);
	quantize(&g->tensors[i], 4, scales, 0);
	w = add_tensor(g, QNPU_DTYPE_FLOAT32, 4, s_w, NULL);
	b = add_tensor(g, QNPU_DTYPE_FLOAT32, 1, s_b, bias);
	o = add_tensor(g, QNPU_DTYPE_FLOAT32, 4, s_out, NULL);
	add_op(g, QNPU_TFL_DEQUANTIZE, 1, (int32_t[]){ i }, w);
	op = add_op(g, QNPU_TFL_CONV_2D, 3, (int32_t[]){ x, w, b }, o);
	conv_opts(op);
	mark_io(g);
	run_graph(g, in, 75, y1, 100);

	/* The same conv with the float filter as a constant. */
	g = new_graph(0, 3);
	x = add_tensor(g, QNPU_DTYPE_FLOAT32, 4, s_in, NULL);
	w = add_tensor(g, QNPU_DTYPE_FLOAT32, 4, s_w, wf);
	b = add_tensor(g, QNPU_DTYPE_FLOAT32, 1, s_b, bias);
	o = add_tensor(g, QNPU_DTYPE_FLOAT32, 4, s_out, NULL);
	op = add_op(g, QNPU_TFL_CONV_2D, 3, (int32_t[]){ x, w, b }, o);
	conv_opts(op);
	mark_io(g);
	run_graph(g, in, 75, y2, 100);
	assert_memory_equal(y1, y2, sizeof(y1));
	for (i = 2; i < 100; i += 4)	/* the dead channel: its bias, relu */
		assert_true(y1[i] == fmaxf(bias[2], 0.0f));

	/* DEQUANTIZE(float16 const) -> FULLY_CONNECTED */
	for (i = 0; i < 100; i++)
		fin[i] = (float)rnd(-100, 100) / 10.0f;
	for (i = 0; i < 600; i++) {
		fwh[i] = to_half((float)rnd(-1024, 1024) / 1024.0f);
		fwf[i] = qnpu_f16_to_f32(fwh[i]);
	}
	for (i = 0; i < 6; i++)
		fb[i] = (float)i - 2.5f;
	g = new_graph(0, 4);
	x = add_tensor(g, QNPU_DTYPE_FLOAT32, 2, s_fin, NULL);
	i = add_tensor(g, QNPU_IR_DTYPE_FLOAT16, 2, s_fw, fwh);
	w = add_tensor(g, QNPU_DTYPE_FLOAT32, 2, s_fw, NULL);
	b = add_tensor(g, QNPU_DTYPE_FLOAT32, 1, s_fb, fb);
	o = add_tensor(g, QNPU_DTYPE_FLOAT32, 2, s_fout, NULL);
	add_op(g, QNPU_TFL_DEQUANTIZE, 1, (int32_t[]){ i }, w);
	add_op(g, QNPU_TFL_FULLY_CONNECTED, 3, (int32_t[]){ x, w, b }, o);
	mark_io(g);
	run_graph(g, fin, 100, z1, 6);
	for (o = 0; o < 6; o++) {
		float t = 0.0f;

		for (d = 0; d < 100; d++)
			t += fin[d] * fwf[o * 100 + d];
		z2[o] = t + fb[o];
	}
	assert_memory_equal(z1, z2, sizeof(z1));
}

static void expect_refused(struct qnpu_ir_graph *g, const char *needle)
{
	struct qnpu_device *dev;
	struct qnpu_model *m = (struct qnpu_model *)0x1;
	int r;

	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	r = qnpu_model_from_graph(dev, g, NULL, 0, &m);
	if (r != -ENOTSUP || !strstr(qnpu_last_error(), needle))
		fail_msg("got %d \"%s\", expected -ENOTSUP with \"%s\"", r,
			 qnpu_last_error(), needle);
	assert_null(m);
	assert_null(strchr(qnpu_last_error(), '\n'));
	qnpu_device_close(dev);
}

static void test_float16_activation_refused(void **state)
{
	const int32_t s[] = { 1, 8 };
	struct qnpu_ir_graph *g = new_graph(0, 1);

	(void)state;
	add_tensor(g, QNPU_IR_DTYPE_FLOAT16, 2, s, NULL);
	add_tensor(g, QNPU_DTYPE_FLOAT32, 2, s, NULL);
	add_op(g, QNPU_TFL_DEQUANTIZE, 1, (int32_t[]){ 0 }, 1);
	mark_io(g);
	expect_refused(g, "unsupported operator 0: DEQUANTIZE (inputs FLOAT16 -> outputs FLOAT32): tensor 0 (t) is a FLOAT16 activation");
}

static void test_float_op_without_kernel_refused(void **state)
{
	const int32_t s[] = { 1, 8 };
	struct qnpu_ir_graph *g = new_graph(0, 1);

	(void)state;
	add_tensor(g, QNPU_DTYPE_FLOAT32, 2, s, NULL);
	add_tensor(g, QNPU_DTYPE_FLOAT32, 2, s, NULL);
	add_op(g, 28 /* TANH */, 1, (int32_t[]){ 0 }, 1);
	mark_io(g);
	expect_refused(g, "unsupported operator 0: TANH (inputs FLOAT32 -> outputs FLOAT32)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kws_cpu_layers),
		cmocka_unit_test(test_kws_sim_falls_back),
		cmocka_unit_test(test_hybrid_filters_bit_exact),
		cmocka_unit_test(test_dequantize_constants_as_ops),
		cmocka_unit_test(test_float16_activation_refused),
		cmocka_unit_test(test_float_op_without_kernel_refused),
	};

	return cmocka_run_group_tests_name("float_graph", tests, NULL, NULL);
}
