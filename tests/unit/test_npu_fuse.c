// SPDX-License-Identifier: MIT
/*
 * Where the NPU compiler puts ResNet-8's residual ADDs and 1x1 shortcuts
 * (compiler/qnpu_lower.c, by the cost model): each stride-2 shortcut is
 * computed by the job of the 3x3 stride-2 convolution reading the same
 * input (a sibling), and its ADD goes into the epilogue of the
 * compute-bound 3x3 convolution, which then runs deferred to the ADD's
 * place. The outputs of one inference are identical to the CPU's on every
 * path that order touches: one job per segment, one job per operator
 * (QNPU_NPU_SEGMENT=0), the layer callback (each layer's output too), and
 * without fusion (QNPU_NPU_FUSE=0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qnpu.h"

#define QNPU_UNIT_SEED 0x5eed12u
#include "qnpu_unit.h"

#define MAX_OPS 64

struct run {
	uint8_t out[64];
	size_t out_bytes;
	uint8_t *layer[MAX_OPS];	/* each operator's output, if kept */
	size_t layer_bytes[MAX_OPS];
};

static int keep_layer(const struct qnpu_op_info *op, const void *data,
		      void *user)
{
	struct run *r = user;

	if (op->index < MAX_OPS && op->output.index >= 0) {
		r->layer[op->index] = malloc(op->output.bytes);
		memcpy(r->layer[op->index], data, op->output.bytes);
		r->layer_bytes[op->index] = op->output.bytes;
	}
	return 0;
}

static struct qnpu_model *load(struct qnpu_device **dev, const char *device)
{
	struct qnpu_model *m;
	char path[512];

	snprintf(path, sizeof(path), "%s/tflite/mlperf_tiny_ic_resnet8.tflite",
		 models_dir());
	assert_int_equal(qnpu_device_open(device, dev), 0);
	if (qnpu_model_load_file(*dev, path, &m)) {
		qnpu_device_close(*dev);
		skip();
	}
	return m;
}

/* Set (@on) or unset the "NAME=VALUE NAME=VALUE" of @env. */
static void environment(const char *env, bool on)
{
	char buf[256], *save = NULL, *a, *eq;

	snprintf(buf, sizeof(buf), "%s", env ? env : "");
	for (a = strtok_r(buf, " ", &save); a; a = strtok_r(NULL, " ", &save)) {
		eq = strchr(a, '=');
		assert_non_null(eq);
		*eq = 0;
		if (on)
			setenv(a, eq + 1, 1);
		else
			unsetenv(a);
	}
}

/* One inference of @x on @device (environment @env set while loading). */
static void run(const char *device, const char *env, bool layers,
		const uint8_t *x, size_t n, struct run *r)
{
	struct qnpu_device *dev;
	struct qnpu_model *m;
	struct qnpu_tensor_info out;

	memset(r, 0, sizeof(*r));
	environment(env, true);
	m = load(&dev, device);
	environment(env, false);
	if (layers)
		qnpu_model_set_layer_callback(m, keep_layer, r);
	assert_int_equal(qnpu_model_set_input(m, 0, x, n), 0);
	assert_int_equal(qnpu_model_run(m), 0);
	qnpu_model_output_info(m, 0, &out);
	assert_true(out.bytes <= sizeof(r->out));
	r->out_bytes = out.bytes;
	assert_int_equal(qnpu_model_get_output(m, 0, r->out, out.bytes), 0);
	qnpu_model_free(m);
	qnpu_device_close(dev);
}

static void run_free(struct run *r)
{
	int i;

	for (i = 0; i < MAX_OPS; i++)
		free(r->layer[i]);
}

/* The marks: shortcuts 6 and 10 in the jobs of 4 and 8, ADDs 7 and 11 in
 * the 3x3 convolutions 5 and 9, ADD 3 in convolution 2. */
static void test_resnet8_placement(void **state)
{
	static const int fused_into[16] = {
		[3] = 3, [6] = 5, [7] = 6, [10] = 9, [11] = 10,
	};
	struct qnpu_device *dev;
	struct qnpu_model *m;
	struct qnpu_op_info op;
	int i;

	(void)state;
	m = load(&dev, "sim");
	assert_int_equal(qnpu_model_num_ops(m), 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(qnpu_model_op_info(m, i, &op), 0);
		assert_int_equal(op.fused_into, fused_into[i]);
	}
	qnpu_model_free(m);
	qnpu_device_close(dev);
	/* without siblings: ADD 7 in convolution 5 all the same */
	setenv("QNPU_NPU_SIBLINGS", "0", 1);
	m = load(&dev, "sim");
	unsetenv("QNPU_NPU_SIBLINGS");
	assert_int_equal(qnpu_model_op_info(m, 6, &op), 0);
	assert_int_equal(op.fused_into, 0);
	assert_int_equal(qnpu_model_op_info(m, 7, &op), 0);
	assert_int_equal(op.fused_into, 6);
	qnpu_model_free(m);
	qnpu_device_close(dev);
	/* and none of it without fusion */
	setenv("QNPU_NPU_FUSE", "0", 1);
	m = load(&dev, "sim");
	unsetenv("QNPU_NPU_FUSE");
	for (i = 0; i < 16; i++) {
		assert_int_equal(qnpu_model_op_info(m, i, &op), 0);
		assert_int_equal(op.fused_into, 0);
	}
	qnpu_model_free(m);
	qnpu_device_close(dev);
}

/* Every path the deferred convolution and the siblings take, on inputs
 * of random bytes: the CPU's bytes, layer by layer where kept. */
static void test_resnet8_paths(void **state)
{
	/* without siblings ADD 7 goes to convolution 5, deferred */
	static const char *const env[] = {
		NULL, "QNPU_NPU_SEGMENT=0", "QNPU_NPU_FUSE=0",
		"QNPU_NPU_SIBLINGS=0",
		"QNPU_NPU_SIBLINGS=0 QNPU_NPU_SEGMENT=0",
	};
	struct run ref, r;
	uint8_t x[32 * 32 * 3];
	size_t i, e;

	(void)state;
	for (i = 0; i < sizeof(x); i++)
		x[i] = (uint8_t)xorshift();
	run("cpu", NULL, true, x, sizeof(x), &ref);
	for (e = 0; e < sizeof(env) / sizeof(env[0]); e++) {
		run("sim", env[e], false, x, sizeof(x), &r);
		assert_int_equal(r.out_bytes, ref.out_bytes);
		assert_memory_equal(r.out, ref.out, r.out_bytes);
		run_free(&r);
	}
	/* the layer callback: one job per operator, each output seen */
	for (e = 0; e < 2; e++) {
		run("sim", e ? "QNPU_NPU_SIBLINGS=0" : NULL, true, x, sizeof(x),
		    &r);
		assert_memory_equal(r.out, ref.out, r.out_bytes);
		for (i = 0; i < MAX_OPS; i++) {
			assert_int_equal(r.layer_bytes[i], ref.layer_bytes[i]);
			if (r.layer[i])
				assert_memory_equal(r.layer[i], ref.layer[i],
						    r.layer_bytes[i]);
		}
		run_free(&r);
	}
	run_free(&ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resnet8_placement),
		cmocka_unit_test(test_resnet8_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
