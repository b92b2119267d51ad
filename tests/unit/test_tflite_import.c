// SPDX-License-Identifier: MIT
/*
 * The importer against malformed models: each corruption of a real model
 * gives -EINVAL and a message naming what is wrong, never a crash. The
 * corruptions are placed with the flatbuffer reader itself, so they hit
 * exactly the field under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qnpu.h"
#include "import/qnpu_fb.h"
#include "util/qnpu_util.h"

struct fixture {
	struct qnpu_device *dev;
	uint8_t *buf;
	size_t len;
};

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

static int setup(void **state, const char *name)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", models_dir(), name);
	fx->buf = slurp(path, &fx->len);
	if (!fx->buf) {
		fprintf(stderr, "cannot read %s\n", path);
		free(fx);
		return -1;
	}
	if (qnpu_device_open("cpu", &fx->dev)) {
		free(fx->buf);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int setup_resnet(void **state)
{
	return setup(state, "tflite/mlperf_tiny_ic_resnet8.tflite");
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	qnpu_device_close(fx->dev);
	free(fx->buf);
	free(fx);
	return 0;
}

/* Load @buf and expect failure @err with @needle in the message. */
static void expect_error(struct fixture *fx, const uint8_t *buf, size_t len,
			 int err, const char *needle)
{
	struct qnpu_model *m = (struct qnpu_model *)0x1;
	int r = qnpu_model_load_memory(fx->dev, buf, len, &m);

	if (r != err || !strstr(qnpu_last_error(), needle))
		fail_msg("got %d \"%s\", expected %d with \"%s\"", r,
			 qnpu_last_error(), err, needle);
	assert_null(m);
	assert_null(strchr(qnpu_last_error(), '\n'));
}

/* Navigation helpers over the (valid) original. */
static void root(struct qnpu_fb *fb, struct fixture *fx,
		 struct qnpu_fb_table *sg)
{
	struct qnpu_fb_table r;
	struct qnpu_fb_vec v;

	qnpu_fb_init(fb, fx->buf, fx->len);
	assert_int_equal(qnpu_fb_root(fb, "TFL3", &r), 0);
	assert_int_equal(qnpu_fb_vector(fb, &r, 2, 4, &v), 0);
	assert_int_equal(qnpu_fb_vec_table(fb, &v, 0, sg), 0);
}

static void tensor(struct fixture *fx, int i, struct qnpu_fb_table *t)
{
	struct qnpu_fb fb;
	struct qnpu_fb_table sg;
	struct qnpu_fb_vec v;

	root(&fb, fx, &sg);
	assert_int_equal(qnpu_fb_vector(&fb, &sg, 0, 4, &v), 0);
	assert_int_equal(qnpu_fb_vec_table(&fb, &v, (uint32_t)i, t), 0);
}

static void op(struct fixture *fx, int i, struct qnpu_fb_table *t)
{
	struct qnpu_fb fb;
	struct qnpu_fb_table sg;
	struct qnpu_fb_vec v;

	root(&fb, fx, &sg);
	assert_int_equal(qnpu_fb_vector(&fb, &sg, 3, 4, &v), 0);
	assert_int_equal(qnpu_fb_vec_table(&fb, &v, (uint32_t)i, t), 0);
}

/* Position of vector field @f of table @t, and a copy to corrupt. */
static uint8_t *copy_with_vec(struct fixture *fx,
			      const struct qnpu_fb_table *t, int f,
			      struct qnpu_fb_vec *v)
{
	struct qnpu_fb fb;
	uint8_t *c = malloc(fx->len);

	qnpu_fb_init(&fb, fx->buf, fx->len);
	assert_int_equal(qnpu_fb_vector(&fb, t, f, 4, v), 0);
	assert_true(v->len > 0);
	memcpy(c, fx->buf, fx->len);
	return c;
}

static void put32(uint8_t *b, uint32_t pos, int32_t v)
{
	memcpy(b + pos, &v, 4);
}

/* Index of the first tensor of @rank that is (not) constant. */
static int find_tensor(struct fixture *fx, int rank, int constant,
		       struct qnpu_tensor_info *info)
{
	struct qnpu_model *m;
	int i, found = -1;

	assert_int_equal(qnpu_model_load_memory(fx->dev, fx->buf, fx->len, &m),
			 0);
	for (i = 0; i < qnpu_model_num_tensors(m) && found < 0; i++) {
		qnpu_model_tensor_info(m, i, info);
		if (info->rank == rank && info->is_constant == constant)
			found = i;
	}
	qnpu_model_free(m);
	assert_true(found >= 0);
	return found;
}

static void test_valid_model_loads(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_model *m;

	assert_int_equal(qnpu_model_load_memory(fx->dev, fx->buf, fx->len, &m),
			 0);
	assert_int_equal(qnpu_model_num_inputs(m), 1);
	qnpu_model_free(m);
}

static void test_empty_and_tiny(void **state)
{
	struct fixture *fx = *state;

	expect_error(fx, fx->buf, 0, -EINVAL, "too short");
	expect_error(fx, fx->buf, 7, -EINVAL, "too short");
}

static void test_wrong_identifier(void **state)
{
	struct fixture *fx = *state;
	uint8_t *c = malloc(fx->len);

	memcpy(c, fx->buf, fx->len);
	memcpy(c + 4, "ABCD", 4);
	expect_error(fx, c, fx->len, -EINVAL, "file identifier");
	free(c);
}

static void test_truncated_everywhere(void **state)
{
	struct fixture *fx = *state;
	size_t cut;

	/* Every prefix must fail cleanly; step through the whole file. */
	for (cut = 0; cut < fx->len; cut += 1 + cut / 64) {
		struct qnpu_model *m;
		int r = qnpu_model_load_memory(fx->dev, fx->buf, cut, &m);

		if (r != -EINVAL)
			fail_msg("prefix of %zu bytes: %d %s", cut, r,
				 qnpu_last_error());
	}
}

static void test_random_bytes(void **state)
{
	struct fixture *fx = *state;
	uint8_t *c = malloc(4096);
	uint32_t x = 12345;
	int round, i;

	for (round = 0; round < 200; round++) {
		struct qnpu_model *m;
		int r;

		for (i = 0; i < 4096; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			c[i] = (uint8_t)x;
		}
		if (round % 2)
			memcpy(c + 4, "TFL3", 4);	/* get past the ident */
		r = qnpu_model_load_memory(fx->dev, c, 4096, &m);
		assert_true(r < 0);
	}
	free(c);
}

static void test_root_offset_out_of_range(void **state)
{
	struct fixture *fx = *state;
	uint8_t *c = malloc(fx->len);

	memcpy(c, fx->buf, fx->len);
	put32(c, 0, 0x7ffffff0);
	expect_error(fx, c, fx->len, -EINVAL, "outside the");
	free(c);
}

static void test_vector_longer_than_file(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_fb_table t;
	struct qnpu_fb_vec v;
	uint8_t *c;

	tensor(fx, 3, &t);
	c = copy_with_vec(fx, &t, 0, &v);	/* shape */
	put32(c, v.pos - 4, 0x10000000);
	expect_error(fx, c, fx->len, -EINVAL, "longer than the file");
	free(c);
}

static void test_negative_dimension(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_fb_table t;
	struct qnpu_fb_vec v;
	uint8_t *c;

	tensor(fx, 3, &t);
	c = copy_with_vec(fx, &t, 0, &v);
	put32(c, v.pos, -7);
	expect_error(fx, c, fx->len, -EINVAL, "negative dimension -7");
	free(c);
}

static void test_element_count_overflow(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_fb_table t;
	struct qnpu_fb_vec v;
	struct qnpu_tensor_info info;
	uint32_t i;
	uint8_t *c;

	tensor(fx, find_tensor(fx, 4, 0, &info), &t);
	c = copy_with_vec(fx, &t, 0, &v);
	for (i = 0; i < v.len; i++)
		put32(c, v.pos + 4 * i, 0x7fffffff);
	expect_error(fx, c, fx->len, -EINVAL, "more than 2147483648 elements");
	free(c);
}

static void test_constant_size_mismatch(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_fb_table t;
	struct qnpu_fb_vec v;
	struct qnpu_tensor_info info;
	uint8_t *c;

	/* A weight's kernel height grows: its data no longer fits. */
	tensor(fx, find_tensor(fx, 4, 1, &info), &t);
	c = copy_with_vec(fx, &t, 0, &v);
	put32(c, v.pos + 4, (int32_t)info.shape[1] + 1);
	expect_error(fx, c, fx->len, -EINVAL, "constant data");
	free(c);
}

static void test_op_missing_tensor(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_fb_table t;
	struct qnpu_fb_vec v;
	uint8_t *c;

	op(fx, 2, &t);
	c = copy_with_vec(fx, &t, 1, &v);	/* inputs */
	put32(c, v.pos, 9999);
	expect_error(fx, c, fx->len, -EINVAL,
		     "operator 2 input 0 references tensor 9999");
	free(c);
}

static void test_op_bad_opcode_index(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_fb_table t;
	uint8_t *c = malloc(fx->len);
	uint16_t off;
	int i;

	/* The first operator whose opcode index is not elided as 0. */
	for (i = 0;; i++) {
		op(fx, i, &t);
		memcpy(&off, fx->buf + t.vt + 4, 2);	/* field 0 */
		if (t.vtlen > 4 && off)
			break;
	}
	memcpy(c, fx->buf, fx->len);
	put32(c, t.pos + off, 500);
	expect_error(fx, c, fx->len, -EINVAL, "opcode 500");
	free(c);
}

static void test_buffer_index_out_of_range(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_fb_table t;
	uint8_t *c = malloc(fx->len);
	uint16_t off;
	int i;

	/* The first tensor with an explicit buffer field. */
	for (i = 0;; i++) {
		tensor(fx, i, &t);
		memcpy(&off, fx->buf + t.vt + 4 + 2 * 2, 2);
		if (t.vtlen > 8 && off)
			break;
	}
	memcpy(c, fx->buf, fx->len);
	put32(c, t.pos + off, 100000);
	expect_error(fx, c, fx->len, -EINVAL, "references buffer 100000");
	free(c);
}

static void test_input_wrong_size(void **state)
{
	struct fixture *fx = *state;
	struct qnpu_model *m;
	uint8_t in[3072 + 1] = { 0 };

	assert_int_equal(qnpu_model_load_memory(fx->dev, fx->buf, fx->len, &m),
			 0);
	assert_int_equal(qnpu_model_set_input(m, 0, in, 3071), -EINVAL);
	assert_non_null(strstr(qnpu_last_error(), "takes 3072 bytes"));
	assert_int_equal(qnpu_model_set_input(m, 1, in, 3072), -EINVAL);
	assert_int_equal(qnpu_model_set_input(m, 0, in, 3072), 0);
	assert_int_equal(qnpu_model_get_output(m, 0, in, 9), -EINVAL);
	qnpu_model_free(m);
}

static void load_unsupported(const char *name, int err, const char *needle)
{
	void *state;
	struct fixture *fx;
	char path[128];

	snprintf(path, sizeof(path), "unsupported/%s", name);
	assert_int_equal(setup(&state, path), 0);
	fx = state;
	expect_error(fx, fx->buf, fx->len, err, needle);
	teardown(&state);
}

/* A float32 model loads and runs on the CPU (tests/unit/test_float_*.c). */
static void test_float_model(void **state)
{
	struct qnpu_tensor_info in;
	struct fixture *fx;
	struct qnpu_model *m;
	static float x[32 * 32 * 3];

	(void)state;
	assert_int_equal(setup(state, "unsupported/mlperf_tiny_ic_resnet8_float32.tflite"), 0);
	fx = *state;
	assert_int_equal(qnpu_model_load_memory(fx->dev, fx->buf, fx->len, &m),
			 0);
	qnpu_model_input_info(m, 0, &in);
	assert_int_equal(in.dtype, QNPU_DTYPE_FLOAT32);
	assert_int_equal(in.bytes, sizeof(x));
	assert_int_equal(qnpu_model_set_input(m, 0, x, sizeof(x)), 0);
	assert_int_equal(qnpu_model_run(m), 0);
	qnpu_model_free(m);
	teardown(state);
}

static void test_lstm_model(void **state)
{
	(void)state;
	load_unsupported("tflm_mnist_lstm_int8.tflite", -ENOTSUP,
			 "unsupported operator 0: UNIDIRECTIONAL_SEQUENCE_LSTM (inputs INT8");
}

static void test_svdf_model(void **state)
{
	(void)state;
	load_unsupported("tflm_keyword_scrambled_8bit_svdf.tflite", -ENOTSUP,
			 "unsupported operator 1: SVDF (inputs INT8, INT8, INT8, INT32, INT8 -> outputs INT8)");
}

static void test_custom_op_model(void **state)
{
	(void)state;
	load_unsupported("tflm_audio_preprocessor_int8_signal_custom_ops.tflite",
			 -ENOTSUP,
			 "unsupported operator 0: CUSTOM \"SignalWindow\" (inputs INT16");
}

/* Float QUANTIZE -> int8 layers -> DEQUANTIZE runs end to end. */
static void test_float_io_model_runs(void **state)
{
	struct qnpu_tensor_info in, out;
	struct fixture *fx;
	struct qnpu_model *m;
	float x[640], y[640];
	int i, distinct = 0;

	(void)state;
	assert_int_equal(setup(state, "unsupported/mlperf_tiny_ad_toycar_float_io.tflite"), 0);
	fx = *state;
	assert_int_equal(qnpu_model_load_memory(fx->dev, fx->buf, fx->len, &m),
			 0);
	qnpu_model_input_info(m, 0, &in);
	qnpu_model_output_info(m, 0, &out);
	assert_int_equal(in.dtype, QNPU_DTYPE_FLOAT32);
	assert_int_equal(out.dtype, QNPU_DTYPE_FLOAT32);
	assert_int_equal(in.bytes, sizeof(x));
	for (i = 0; i < 640; i++)
		x[i] = (float)((i * 37) % 101) * 0.25f - 5.0f;
	assert_int_equal(qnpu_model_set_input(m, 0, x, sizeof(x)), 0);
	assert_int_equal(qnpu_model_run(m), 0);
	assert_int_equal(qnpu_model_get_output(m, 0, y, sizeof(y)), 0);
	for (i = 0; i < 640; i++) {
		struct qnpu_op_info last;
		struct qnpu_tensor_info q;
		double k;

		/* Every output is scale * (q - zp) of the int8 it came from. */
		qnpu_model_op_info(m, qnpu_model_num_ops(m) - 1, &last);
		qnpu_model_tensor_info(m, last.inputs[0], &q);
		k = (double)y[i] / (double)q.scale + q.zero_point;
		assert_true(k > -128.5 && k < 127.5);
		assert_float_equal(k, (double)(long)(k + (k < 0 ? -0.5 : 0.5)),
				   1e-3);
		distinct += i && y[i] != y[i - 1];
	}
	assert_true(distinct > 10);
	qnpu_model_free(m);
	teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_model_loads,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_tiny,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_identifier,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_everywhere,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_random_bytes,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_root_offset_out_of_range,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_vector_longer_than_file,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_negative_dimension,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_element_count_overflow,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_constant_size_mismatch,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_op_missing_tensor,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_op_bad_opcode_index,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_index_out_of_range,
						setup_resnet, teardown),
		cmocka_unit_test_setup_teardown(test_input_wrong_size,
						setup_resnet, teardown),
		cmocka_unit_test(test_float_model),
		cmocka_unit_test(test_lstm_model),
		cmocka_unit_test(test_svdf_model),
		cmocka_unit_test(test_custom_op_model),
		cmocka_unit_test(test_float_io_model_runs),
	};

	return cmocka_run_group_tests_name("tflite_import", tests, NULL, NULL);
}
