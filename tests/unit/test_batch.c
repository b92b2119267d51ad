// SPDX-License-Identifier: MIT
/*
 * Batching (qnpu_model_batch(), ir/qnpu_ir_batch.c): a batched model's
 * every sample equals a run of that sample alone, on random inputs, on
 * cpu and sim; the refusals (batch out of range, batched twice, a leading
 * dimension that is not 1, an operator that may mix samples, an ONNX
 * model, saving a batched model) leave the graph unchanged and say why.
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

#define QNPU_UNIT_SEED 0x5eed0b47u
#include "qnpu_unit.h"

#include "import/qnpu_import.h"
#include "ir/qnpu_ir.h"
#include "ir/qnpu_ir_batch.h"
#include "qnpu.h"
#include "util/qnpu_util.h"

static void model_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/tflite/%s.tflite", models_dir(), name);
}

/* Every sample of a batch-@batch run equals its own batch-1 run. */
static void same_as_one_by_one(const char *device, const char *name,
			       int batch)
{
	struct qnpu_device *dev;
	struct qnpu_model *one, *many;
	struct qnpu_tensor_info in, out, in1, out1;
	uint8_t *x, *y, *y1;
	char path[512];
	size_t i;
	int s;

	model_path(path, sizeof(path), name);
	if (qnpu_device_open(device, &dev))
		skip();
	if (qnpu_model_load_file(dev, path, &one)) {
		qnpu_device_close(dev);
		skip();
	}
	assert_int_equal(qnpu_model_batch(one, batch, &many), 0);
	assert_int_equal(qnpu_model_batch_size(many), batch);
	assert_int_equal(qnpu_model_batch_size(one), 1);
	qnpu_model_input_info(one, 0, &in1);
	qnpu_model_output_info(one, 0, &out1);
	qnpu_model_input_info(many, 0, &in);
	qnpu_model_output_info(many, 0, &out);
	assert_int_equal(in.shape[0], batch);
	assert_int_equal(in.bytes, batch * in1.bytes);
	assert_int_equal(out.bytes, batch * out1.bytes);
	x = malloc(in.bytes);
	y = malloc(out.bytes);
	y1 = malloc(out1.bytes);
	for (i = 0; i < in.bytes; i++)
		x[i] = (uint8_t)xorshift();
	assert_int_equal(qnpu_model_set_input(many, 0, x, in.bytes), 0);
	/* one sample's bytes are not a batch's */
	assert_int_equal(qnpu_model_set_input(many, 0, x, in1.bytes), -EINVAL);
	assert_int_equal(qnpu_model_run(many), 0);
	assert_int_equal(qnpu_model_get_output(many, 0, y, out.bytes), 0);
	for (s = 0; s < batch; s++) {
		assert_int_equal(qnpu_model_set_input(one, 0, x + s * in1.bytes,
						      in1.bytes), 0);
		assert_int_equal(qnpu_model_run(one), 0);
		assert_int_equal(qnpu_model_get_output(one, 0, y1, out1.bytes),
				 0);
		assert_memory_equal(y + s * out1.bytes, y1, out1.bytes);
	}
	free(x);
	free(y);
	free(y1);
	/* the batched model lives on after the one it came from */
	qnpu_model_free(one);
	assert_int_equal(qnpu_model_run(many), 0);
	qnpu_model_free(many);
	qnpu_device_close(dev);
}

static void test_fc_autoencoder_cpu(void **state)
{
	(void)state;
	same_as_one_by_one("cpu", "mlperf_tiny_ad_fc_autoencoder", 5);
}

static void test_fc_autoencoder_sim(void **state)
{
	(void)state;
	same_as_one_by_one("sim", "mlperf_tiny_ad_fc_autoencoder", 16);
}

static void test_micro_speech_sim(void **state)
{
	(void)state;
	same_as_one_by_one("sim", "tflm_micro_speech", 3);
}

static void test_kws_dscnn_sim(void **state)
{
	(void)state;
	same_as_one_by_one("sim", "mlperf_tiny_kws_dscnn", 2);
}

static void test_api_refusals(void **state)
{
	struct qnpu_device *dev;
	struct qnpu_model *one, *many, *twice = (void *)1;
	char path[512];

	(void)state;
	model_path(path, sizeof(path), "mlperf_tiny_ad_fc_autoencoder");
	assert_int_equal(qnpu_device_open("sim", &dev), 0);
	if (qnpu_model_load_file(dev, path, &one)) {
		qnpu_device_close(dev);
		skip();
	}
	assert_int_equal(qnpu_model_batch(one, 0, &many), -EINVAL);
	assert_null(many);
	assert_non_null(strstr(qnpu_last_error(), "batch 0 out of range (1 to 256)"));
	assert_int_equal(qnpu_model_batch(one, 257, &many), -EINVAL);
	assert_int_equal(qnpu_model_batch(one, 2, &many), 0);
	assert_int_equal(qnpu_model_batch(many, 2, &twice), -EINVAL);
	assert_null(twice);
	assert_non_null(strstr(qnpu_last_error(), "batched already (batch 2)"));
	assert_int_equal(qnpu_model_save(many, "/nonexistent/x.qnpu"), -EINVAL);
	assert_non_null(strstr(qnpu_last_error(), "cannot be saved"));
	qnpu_model_free(many);
	qnpu_model_free(one);
	qnpu_device_close(dev);
}

static void test_onnx_refused(void **state)
{
	struct qnpu_device *dev;
	struct qnpu_model *one, *many;
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/onnx/models/fmnist_cnn_int8_perchannel_qdq.onnx",
		 models_dir());
	assert_int_equal(qnpu_device_open("cpu", &dev), 0);
	if (qnpu_model_load_file(dev, path, &one)) {
		qnpu_device_close(dev);
		skip();
	}
	assert_int_equal(qnpu_model_batch(one, 2, &many), -ENOTSUP);
	assert_non_null(strstr(qnpu_last_error(), "ONNX"));
	qnpu_model_free(one);
	qnpu_device_close(dev);
}

static struct qnpu_ir_graph *import(const char *name, uint8_t **buf)
{
	struct qnpu_ir_graph *g;
	char path[512];
	size_t len;

	model_path(path, sizeof(path), name);
	if (qnpu_read_file(path, buf, &len))
		return NULL;
	assert_int_equal(qnpu_tflite_import(*buf, len, &g), 0);
	return g;
}

/* The graph pass: what it changes, and that a refusal changes nothing. */
static void test_graph_pass(void **state)
{
	struct qnpu_ir_graph *g;
	uint8_t *buf;
	int i, in;
	size_t bytes;

	(void)state;
	g = import("tflm_micro_speech", &buf);
	if (!g)
		skip();
	in = g->inputs[0];
	bytes = g->tensors[in].bytes;
	/* a leading dimension of 2 cannot become a batch */
	g->tensors[in].shape[0] = 2;
	assert_int_equal(qnpu_ir_batch(g, 4), -EINVAL);
	assert_non_null(strstr(qnpu_last_error(), "not a leading batch dimension of 1"));
	assert_int_equal(g->tensors[in].bytes, bytes);
	assert_int_equal(g->batch, 0);
	g->tensors[in].shape[0] = 1;
	/* an operator not known to keep samples apart */
	i = g->ops[0].builtin;
	g->ops[0].builtin = QNPU_TFL_CUSTOM;
	assert_int_equal(qnpu_ir_batch(g, 4), -ENOTSUP);
	assert_non_null(strstr(qnpu_last_error(), "operator 0"));
	assert_int_equal(g->tensors[in].bytes, bytes);
	g->ops[0].builtin = i;
	assert_int_equal(qnpu_ir_batch(g, 257), -EINVAL);
	assert_int_equal(qnpu_ir_batch(g, 4), 0);
	assert_int_equal(g->tensors[in].bytes, 4 * bytes);
	assert_int_equal(g->tensors[in].shape[0], 4);
	for (i = 0; i < g->ntensors; i++)
		if (g->tensors[i].const_data)
			assert_true(g->tensors[i].rank < 1 ||
				    g->tensors[i].shape[0] != 4 ||
				    g->tensors[i].count % 4 == 0);
	assert_int_equal(qnpu_ir_batch(g, 2), -EINVAL);
	qnpu_ir_graph_free(g);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fc_autoencoder_cpu),
		cmocka_unit_test(test_fc_autoencoder_sim),
		cmocka_unit_test(test_micro_speech_sim),
		cmocka_unit_test(test_kws_dscnn_sim),
		cmocka_unit_test(test_api_refusals),
		cmocka_unit_test(test_onnx_refused),
		cmocka_unit_test(test_graph_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
