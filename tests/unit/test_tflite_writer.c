// SPDX-License-Identifier: MIT
/*
 * The TFLite writer against every shared model (INT8 and float): import
 * -> write -> import gives the same graph, field by field; writing is
 * deterministic; the written bytes pass the importer's bounds checks
 * (also when truncated, without a crash) and run on the cpu backend to
 * the same bytes as the original (the golden outputs for the INT8
 * models); a graph the writer cannot encode fails with one line.
 * Whether TFLite itself loads and runs the output is
 * tests/tflite-runtime/test_tflite_runtime.sh.
 */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qnpu.h"
#include "import/qnpu_fb.h"
#include "import/qnpu_import.h"
#include "util/qnpu_util.h"

#define MAX_MODELS 32

static const char *models_dir(void)
{
	const char *m = getenv("QNPU_MODELS");

	return m ? m : "../shared/models";
}

/* The library's whole-file reader; NULL when the file cannot be read. */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *b;

	return qnpu_read_file(path, &b, len) ? NULL : b;
}

struct fixture {
	char path[512];
	char name[128];		/* file name without .tflite */
	bool is_float;		/* no golden: compare with the original */
	uint8_t *orig;		/* the shared model */
	size_t orig_len;
	struct qnpu_ir_graph *g1;	/* imported from orig */
	uint8_t *w1;		/* g1 written */
	size_t w1_len;
	struct qnpu_ir_graph *g2;	/* imported from w1 */
};

static int setup(void **state)
{
	struct fixture *fx = *state;

	fx->orig = slurp(fx->path, &fx->orig_len);
	if (!fx->orig) {
		fprintf(stderr, "cannot read %s\n", fx->path);
		return -1;
	}
	if (qnpu_tflite_import(fx->orig, fx->orig_len, &fx->g1)) {
		fprintf(stderr, "%s: %s\n", fx->path, qnpu_last_error());
		return -1;
	}
	if (qnpu_tflite_write(fx->g1, &fx->w1, &fx->w1_len)) {
		fprintf(stderr, "%s: write: %s\n", fx->path, qnpu_last_error());
		return -1;
	}
	if (qnpu_tflite_import(fx->w1, fx->w1_len, &fx->g2)) {
		fprintf(stderr, "%s: import of the written model: %s\n",
			fx->path, qnpu_last_error());
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->g2)
		qnpu_ir_graph_free(fx->g2);
	if (fx->g1)
		qnpu_ir_graph_free(fx->g1);
	free(fx->w1);
	free(fx->orig);
	fx->g1 = fx->g2 = NULL;
	fx->w1 = fx->orig = NULL;
	return 0;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* Every field the importer fills, compared; the message names it. */
static void expect_same_graph(const char *model, const struct qnpu_ir_graph *a,
			      const struct qnpu_ir_graph *b)
{
	int i;

	assert_int_equal(a->ntensors, b->ntensors);
	assert_int_equal(a->nops, b->nops);
	for (i = 0; i < a->ntensors; i++) {
		const struct qnpu_ir_tensor *x = &a->tensors[i];
		const struct qnpu_ir_tensor *y = &b->tensors[i];
		const char *what = NULL;

		if (strcmp(nz(x->name), nz(y->name)))
			what = "name";
		else if (x->dtype != y->dtype)
			what = "dtype";
		else if (x->rank != y->rank || memcmp(x->shape, y->shape,
				sizeof(x->shape[0]) * (size_t)x->rank))
			what = "shape";
		else if (x->count != y->count || x->bytes != y->bytes)
			what = "size";
		else if (x->nq != y->nq || x->qdim != y->qdim ||
			 (x->nq && (memcmp(x->scale, y->scale,
					   sizeof(float) * (size_t)x->nq) ||
				    memcmp(x->zero_point, y->zero_point,
					   sizeof(int32_t) * (size_t)x->nq))))
			what = "quantization";
		else if (!x->const_data != !y->const_data ||
			 (x->const_data &&
			  memcmp(x->const_data, y->const_data, x->bytes)))
			what = "constant data";
		else if (x->is_input != y->is_input ||
			 x->is_output != y->is_output)
			what = "input/output flag";
		if (what)
			fail_msg("%s: tensor %d (%s): %s differs after write + import",
				 model, i, nz(x->name), what);
	}
	for (i = 0; i < a->nops; i++) {
		const struct qnpu_ir_op *x = &a->ops[i];
		const struct qnpu_ir_op *y = &b->ops[i];
		const char *what = NULL;

		if (x->builtin != y->builtin)
			what = "builtin code";
		else if (x->version != y->version)
			what = "version";
		else if (x->nin != y->nin || x->nout != y->nout ||
			 memcmp(x->in, y->in,
				sizeof(int32_t) * (size_t)x->nin) ||
			 memcmp(x->out, y->out,
				sizeof(int32_t) * (size_t)x->nout))
			what = "inputs/outputs";
		else if (memcmp(&x->opt, &y->opt, sizeof(x->opt)))
			what = "options";
		else if (x->macs != y->macs)
			what = "MACs";
		else if (strcmp(nz(x->custom_code), nz(y->custom_code)))
			what = "custom code";
		if (what)
			fail_msg("%s: operator %d (%s): %s differs after write + import",
				 model, i, qnpu_ir_op_name(x->builtin), what);
	}
	assert_int_equal(a->ninputs, b->ninputs);
	assert_int_equal(a->noutputs, b->noutputs);
	assert_memory_equal(a->inputs, b->inputs,
			    sizeof(int32_t) * (size_t)a->ninputs);
	assert_memory_equal(a->outputs, b->outputs,
			    sizeof(int32_t) * (size_t)a->noutputs);
	assert_string_equal(nz(a->description), nz(b->description));
}

static void test_roundtrip(void **state)
{
	struct fixture *fx = *state;

	expect_same_graph(fx->name, fx->g1, fx->g2);
}

/* Twice from g1, once from g2: the same bytes each time. */
static void test_deterministic(void **state)
{
	struct fixture *fx = *state;
	uint8_t *a, *b;
	size_t alen, blen;

	assert_int_equal(qnpu_tflite_write(fx->g1, &a, &alen), 0);
	assert_int_equal(qnpu_tflite_write(fx->g2, &b, &blen), 0);
	assert_int_equal(alen, fx->w1_len);
	assert_int_equal(blen, fx->w1_len);
	assert_memory_equal(a, fx->w1, alen);
	assert_memory_equal(b, fx->w1, blen);
	free(a);
	free(b);
}

/*
 * The written file through the importer's checks: whole it loads; cut
 * short anywhere it fails with a one-line error and never crashes. The
 * cuts step through the header and tables and sample the data.
 */
static void test_bounds_checked(void **state)
{
	struct fixture *fx = *state;
	size_t cut, step;

	assert_int_equal(fx->w1_len % 16, 0);
	assert_memory_equal(fx->w1 + 4, "TFL3", 4);
	for (cut = 0; cut < fx->w1_len; cut += step) {
		struct qnpu_ir_graph *g;
		uint8_t *c = malloc(cut + 1);
		int r;

		step = cut < 4096 ? 1 : 997;

		memcpy(c, fx->w1, cut);
		r = qnpu_tflite_import(c, cut, &g);
		free(c);
		if (!r) {
			/* Only trailing padding may be cut off. */
			assert_true(cut + 16 > fx->w1_len);
			qnpu_ir_graph_free(g);
			continue;
		}
		assert_int_equal(r, -EINVAL);
		assert_null(strchr(qnpu_last_error(), '\n'));
	}
}

/* Vector field @f of @t: present or not, its elements @align-aligned. */
static void expect_aligned(struct qnpu_fb *fb, const struct qnpu_fb_table *t,
			   int f, size_t esize, size_t align, const char *what)
{
	struct qnpu_fb_vec v;

	assert_int_equal(qnpu_fb_vector(fb, t, f, esize, &v), 0);
	if (v.len && v.pos % align)
		fail_msg("%s: elements at %u, not %zu-byte aligned", what,
			 v.pos, align);
}

/*
 * FlatBuffers alignment, which TFLite's WASM build does not check: every
 * int32/float vector on 4 bytes, zero points (int64) on 8, buffer data on
 * 16 (schema force_align), tables on 4 (the reader checks those).
 */
static void test_aligned(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_fb fb;
	struct qnpu_fb_table root, sg, t, q;
	struct qnpu_fb_vec sgs, tensors, ops, bufs;
	uint32_t i;

	qnpu_fb_init(&fb, fx->w1, fx->w1_len);
	assert_int_equal(qnpu_fb_root(&fb, "TFL3", &root), 0);
	assert_int_equal(qnpu_fb_vector(&fb, &root, 2, 4, &sgs), 0);
	assert_int_equal(sgs.pos % 4, 0);
	assert_int_equal(qnpu_fb_vec_table(&fb, &sgs, 0, &sg), 0);
	assert_int_equal(qnpu_fb_vector(&fb, &sg, 0, 4, &tensors), 0);
	assert_int_equal(qnpu_fb_vector(&fb, &sg, 3, 4, &ops), 0);
	expect_aligned(&fb, &sg, 1, 4, 4, "subgraph inputs");
	expect_aligned(&fb, &sg, 2, 4, 4, "subgraph outputs");
	for (i = 0; i < tensors.len; i++) {
		assert_int_equal(qnpu_fb_vec_table(&fb, &tensors, i, &t), 0);
		expect_aligned(&fb, &t, 0, 4, 4, "tensor shape");
		if (qnpu_fb_table(&fb, &t, 4, &q) == 1) {
			expect_aligned(&fb, &q, 2, 4, 4, "scales");
			expect_aligned(&fb, &q, 3, 8, 8, "zero points");
		}
	}
	for (i = 0; i < ops.len; i++) {
		assert_int_equal(qnpu_fb_vec_table(&fb, &ops, i, &t), 0);
		expect_aligned(&fb, &t, 1, 4, 4, "operator inputs");
		expect_aligned(&fb, &t, 2, 4, 4, "operator outputs");
	}
	assert_int_equal(qnpu_fb_vector(&fb, &root, 4, 4, &bufs), 0);
	for (i = 0; i < bufs.len; i++) {
		assert_int_equal(qnpu_fb_vec_table(&fb, &bufs, i, &t), 0);
		expect_aligned(&fb, &t, 0, 1, 16, "buffer data");
	}
	assert_int_equal(fb.err, 0);
}

/* The input files that go with golden output @out (1 or 2 inputs). */
static int golden_inputs(const char *model, const char *out, char in[2][640])
{
	char id[256];
	size_t n = strlen(out);
	FILE *f;

	snprintf(id, sizeof(id), "%.*s", (int)(n - strlen(".out.int8.bin")),
		 out);
	snprintf(in[0], 640, "%s/inputs/%s/%s.int8.bin", models_dir(), model,
		 id);
	f = fopen(in[0], "rb");
	if (f) {
		fclose(f);
		return 1;
	}
	snprintf(in[0], 640, "%s/inputs/%s/%s.in0.int8.bin", models_dir(),
		 model, id);
	snprintf(in[1], 640, "%s/inputs/%s/%s.in1.int8.bin", models_dir(),
		 model, id);
	return 2;
}

/* Runs @m on stacked inputs @in; returns the stacked outputs. */
static uint8_t *run_stacked(struct qnpu_model *m, uint8_t *in[2],
			    size_t in_len[2], int nin, size_t *out_len)
{
	struct qnpu_tensor_info ii, oi;
	size_t k, n;
	uint8_t *out;
	int i;

	assert_int_equal(qnpu_model_num_inputs(m), nin);
	assert_int_equal(qnpu_model_output_info(m, 0, &oi), 0);
	assert_int_equal(qnpu_model_input_info(m, 0, &ii), 0);
	assert_true(ii.bytes && in_len[0] % ii.bytes == 0);
	n = in_len[0] / ii.bytes;
	out = malloc(n * oi.bytes + 1);
	for (k = 0; k < n; k++) {
		for (i = 0; i < nin; i++) {
			assert_int_equal(qnpu_model_input_info(m, i, &ii), 0);
			assert_int_equal(in_len[i], n * ii.bytes);
			assert_int_equal(qnpu_model_set_input(m, i,
					 in[i] + k * ii.bytes, ii.bytes), 0);
		}
		if (qnpu_model_run(m))
			fail_msg("run: %s", qnpu_last_error());
		assert_int_equal(qnpu_model_get_output(m, 0,
				 out + k * oi.bytes, oi.bytes), 0);
	}
	*out_len = n * oi.bytes;
	return out;
}

/* INT8 models: the written model gives the golden bytes on the cpu. */
static void test_runs_golden(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_device *dev;
	struct qnpu_model *m;
	char pattern[640];
	glob_t gl;
	size_t i;
	int checked = 0;

	if (fx->is_float) {
		/* No golden: the original and the written model agree, if
		 * the cpu backend runs the model at all. */
		struct qnpu_model *mo;
		struct qnpu_tensor_info ii;
		uint8_t *in[2], *a, *b;
		size_t in_len[2], alen, blen;
		int r;

		assert_int_equal(qnpu_device_open("cpu", &dev), 0);
		r = qnpu_model_load_memory(dev, fx->orig, fx->orig_len, &mo);
		if (r) {
			print_message("skip: cpu does not run %s: %s\n",
				      fx->name, qnpu_last_error());
			/* The same refusal for the written model. */
			assert_int_equal(qnpu_model_load_memory(dev, fx->w1,
					 fx->w1_len, &m), r);
			qnpu_device_close(dev);
			skip();
		}
		assert_int_equal(qnpu_model_load_memory(dev, fx->w1,
				 fx->w1_len, &m), 0);
		assert_int_equal(qnpu_model_input_info(mo, 0, &ii), 0);
		in[0] = malloc(ii.bytes);
		for (i = 0; i < ii.bytes; i++)
			in[0][i] = (uint8_t)(i * 37 % 61);
		if (ii.dtype == QNPU_DTYPE_FLOAT32) {
			float *f = (float *)in[0];

			for (i = 0; i < ii.bytes / 4; i++)
				f[i] = (float)(i * 37 % 101) * 0.9f - 80.0f;
		}
		in_len[0] = ii.bytes;
		a = run_stacked(mo, in, in_len, 1, &alen);
		b = run_stacked(m, in, in_len, 1, &blen);
		assert_int_equal(alen, blen);
		assert_memory_equal(a, b, alen);
		free(a);
		free(b);
		free(in[0]);
		qnpu_model_free(m);
		qnpu_model_free(mo);
		qnpu_device_close(dev);
		return;
	}

	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	if (qnpu_model_load_memory(dev, fx->w1, fx->w1_len, &m))
		fail_msg("%s: written model: %s", fx->name, qnpu_last_error());
	snprintf(pattern, sizeof(pattern), "%s/golden/%s/*.out.int8.bin",
		 models_dir(), fx->name);
	assert_int_equal(glob(pattern, 0, NULL, &gl), 0);
	for (i = 0; i < gl.gl_pathc; i++) {
		char in_path[2][640];
		const char *base = strrchr(gl.gl_pathv[i], '/') + 1;
		int nin = golden_inputs(fx->name, base, in_path), k;
		uint8_t *in[2] = { NULL, NULL }, *golden, *out;
		size_t in_len[2] = { 0, 0 }, glen, olen;

		for (k = 0; k < nin; k++) {
			in[k] = slurp(in_path[k], &in_len[k]);
			if (!in[k])
				fail_msg("cannot read %s", in_path[k]);
		}
		golden = slurp(gl.gl_pathv[i], &glen);
		assert_non_null(golden);
		out = run_stacked(m, in, in_len, nin, &olen);
		assert_int_equal(olen, glen);
		if (memcmp(out, golden, glen))
			fail_msg("%s: %s: the written model's output differs from golden",
				 fx->name, base);
		checked++;
		free(out);
		free(golden);
		free(in[0]);
		free(in[1]);
	}
	globfree(&gl);
	assert_true(checked > 0);
	qnpu_model_free(m);
	qnpu_device_close(dev);
}

/* An op the writer has no encoding for: -ENOTSUP, one line, no output. */
static void test_unencodable_op(void **state)
{
	struct fixture *fx = *state;
	uint8_t *buf = (uint8_t *)0x1;
	size_t len = 1;
	int saved = fx->g1->ops[0].builtin;

	fx->g1->ops[0].builtin = 2;	/* CONCATENATION: no options in IR */
	assert_int_equal(qnpu_tflite_write(fx->g1, &buf, &len), -ENOTSUP);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_non_null(strstr(qnpu_last_error(),
			       "operator 0 (CONCATENATION)"));
	assert_null(strchr(qnpu_last_error(), '\n'));
	fx->g1->ops[0].builtin = QNPU_TFL_CUSTOM;
	assert_int_equal(qnpu_tflite_write(fx->g1, &buf, &len), -ENOTSUP);
	fx->g1->ops[0].builtin = saved;

	/* A dangling tensor index is refused, not written. */
	saved = fx->g1->ops[0].in[0];
	fx->g1->ops[0].in[0] = fx->g1->ntensors;
	assert_int_equal(qnpu_tflite_write(fx->g1, &buf, &len), -EINVAL);
	assert_non_null(strstr(qnpu_last_error(), "references tensor"));
	fx->g1->ops[0].in[0] = saved;
}

/*
 * Versions: a graph whose ops do not say (as a stage builds it) gets
 * TFLite's minimum for the types, e.g. CONV_2D int8 3, FC int8 4; a
 * stated version is kept.
 */
static void test_default_versions(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_ir_graph *g;
	uint8_t *buf;
	size_t len;
	int i;

	for (i = 0; i < fx->g1->nops; i++)
		fx->g1->ops[i].version = 0;
	assert_int_equal(qnpu_tflite_write(fx->g1, &buf, &len), 0);
	assert_int_equal(qnpu_tflite_import(buf, len, &g), 0);
	for (i = 0; i < g->nops; i++) {
		int want = 1;

		switch (g->ops[i].builtin) {
		case QNPU_TFL_CONV_2D:
		case QNPU_TFL_DEPTHWISE_CONV_2D: want = 3; break;
		case QNPU_TFL_FULLY_CONNECTED:
			want = g->ops[i].opt.fc.keep_num_dims ? 5 : 4;
			break;
		case QNPU_TFL_ADD:
		case QNPU_TFL_AVERAGE_POOL_2D:
		case QNPU_TFL_MAX_POOL_2D:
		case QNPU_TFL_DEQUANTIZE:
		case QNPU_TFL_QUANTIZE:
		case QNPU_TFL_SOFTMAX: want = 2; break;
		}
		assert_int_equal(g->ops[i].version, want);
	}
	qnpu_ir_graph_free(g);
	free(buf);
	for (i = 0; i < fx->g1->nops; i++)
		fx->g1->ops[i].version = fx->g2->ops[i].version;
}

/*
 * Real models with operators the writer has no encoding for (CUSTOM,
 * SVDF, LSTM): -ENOTSUP naming the operator, on one line.
 */
static void test_refuses_real_models(void **state)
{
	static const char *const files[] = {
		"tflm_audio_preprocessor_int8_signal_custom_ops.tflite",
		"tflm_keyword_scrambled_8bit_svdf.tflite",
		"tflm_mnist_lstm_int8.tflite",
	};
	size_t i;
	int refused = 0;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct qnpu_ir_graph *g;
		char path[512];
		uint8_t *in, *out = NULL;
		size_t len, olen;

		snprintf(path, sizeof(path), "%s/unsupported/%s", models_dir(),
			 files[i]);
		in = slurp(path, &len);
		if (!in)
			continue;
		if (qnpu_tflite_import(in, len, &g)) {
			free(in);
			continue;
		}
		assert_int_equal(qnpu_tflite_write(g, &out, &olen), -ENOTSUP);
		assert_null(out);
		assert_non_null(strstr(qnpu_last_error(),
				       "cannot write operator"));
		assert_null(strchr(qnpu_last_error(), '\n'));
		print_message("%s: %s\n", files[i], qnpu_last_error());
		refused++;
		qnpu_ir_graph_free(g);
		free(in);
	}
	if (!refused)
		skip();
}

static struct fixture fixtures[MAX_MODELS];

int main(void)
{
	struct CMUnitTest tests[MAX_MODELS * 8 + 1];
	static char names[MAX_MODELS * 8][192];
	const char *dirs[] = { "tflite", "float/tflite" };
	int nfx = 0, nt = 0, d;
	size_t i;

	for (d = 0; d < 2; d++) {
		char pattern[512];
		glob_t gl;

		snprintf(pattern, sizeof(pattern), "%s/%s/*.tflite",
			 models_dir(), dirs[d]);
		if (glob(pattern, 0, NULL, &gl))
			continue;
		for (i = 0; i < gl.gl_pathc && nfx < MAX_MODELS; i++) {
			struct fixture *fx = &fixtures[nfx++];
			const char *base = strrchr(gl.gl_pathv[i], '/') + 1;

			snprintf(fx->path, sizeof(fx->path), "%s",
				 gl.gl_pathv[i]);
			snprintf(fx->name, sizeof(fx->name), "%.*s",
				 (int)(strlen(base) - strlen(".tflite")), base);
			fx->is_float = d == 1;
		}
		globfree(&gl);
	}
	/* INT8 inside, float outside: QUANTIZE and DEQUANTIZE written. */
	if (nfx < MAX_MODELS) {
		struct fixture *fx = &fixtures[nfx];

		snprintf(fx->path, sizeof(fx->path),
			 "%s/unsupported/mlperf_tiny_ad_toycar_float_io.tflite",
			 models_dir());
		snprintf(fx->name, sizeof(fx->name),
			 "mlperf_tiny_ad_toycar_float_io");
		fx->is_float = true;
		if (access(fx->path, R_OK) == 0)
			nfx++;
	}
	if (!nfx) {
		printf("SKIP: no shared models under %s\n", models_dir());
		return 77;
	}
	for (i = 0; i < (size_t)nfx; i++) {
		static const struct {
			const char *name;
			CMUnitTestFunction fn;
			bool int8_only;
		} kinds[] = {
			{ "roundtrip", test_roundtrip, false },
			{ "deterministic", test_deterministic, false },
			{ "bounds_checked", test_bounds_checked, false },
			{ "aligned", test_aligned, false },
			{ "runs", test_runs_golden, false },
			{ "unencodable_op", test_unencodable_op, false },
			{ "default_versions", test_default_versions, true },
		};
		size_t k;

		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			if (kinds[k].int8_only && fixtures[i].is_float)
				continue;
			snprintf(names[nt], sizeof(names[nt]), "%s/%s",
				 fixtures[i].name, kinds[k].name);
			tests[nt] = (struct CMUnitTest){
				.name = names[nt],
				.test_func = kinds[k].fn,
				.setup_func = setup,
				.teardown_func = teardown,
				.initial_state = &fixtures[i],
			};
			nt++;
		}
	}
	tests[nt++] = (struct CMUnitTest)
		cmocka_unit_test(test_refuses_real_models);
	return _cmocka_run_group_tests("tflite_writer", tests, (size_t)nt,
				       NULL, NULL);
}
