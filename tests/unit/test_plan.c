// SPDX-License-Identifier: MIT
/*
 * Activation memory planning on the shared models: no two tensors alive
 * at the same time overlap, every tensor lies inside the arena, and the
 * arena is smaller than giving each tensor its own memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/qnpu_compiler.h"
#include "import/qnpu_import.h"
#include "ir/qnpu_ir.h"
#include "util/qnpu_util.h"

static const char *const models[] = {
	"mlperf_tiny_ad_fc_autoencoder", "mlperf_tiny_ic_resnet8",
	"mlperf_tiny_kws_dscnn", "tflm_hello_world_int8",
	"tflm_micro_speech", "tflm_person_detect", "tflm_simple_add",
};

/* First operator writing @t (-1 for inputs), last reading it. */
static void lifetime(const struct qnpu_ir_graph *g, int t, int *first,
		     int *last)
{
	int i, k;

	*first = g->nops;
	*last = -1;
	for (i = 0; i < g->nops; i++) {
		for (k = 0; k < g->ops[i].nout; k++)
			if (g->ops[i].out[k] == t && i < *first)
				*first = i;
		for (k = 0; k < g->ops[i].nin; k++)
			if (g->ops[i].in[k] == t)
				*last = i;
	}
	if (g->tensors[t].is_input || g->tensors[t].is_output) {
		*first = -1;
		*last = g->nops;
	}
	if (*last < *first)
		*last = *first;
}

static void check_model(const char *name)
{
	const char *dir = getenv("QNPU_MODELS");
	struct qnpu_ir_graph *g;
	size_t *off, total, naive = 0;
	uint8_t *buf;
	size_t len;
	char path[512];
	int a, b;

	snprintf(path, sizeof(path), "%s/tflite/%s.tflite",
		 dir ? dir : "../shared/models", name);
	if (qnpu_read_file(path, &buf, &len))
		skip();
	assert_int_equal(qnpu_tflite_import(buf, len, &g), 0);
	off = calloc((size_t)g->ntensors, sizeof(*off));
	assert_int_equal(qnpu_plan_memory(g, off, &total), 0);
	for (a = 0; a < g->ntensors; a++) {
		const struct qnpu_ir_tensor *ta = &g->tensors[a];
		int fa, la;

		if (ta->const_data || !ta->bytes)
			continue;
		naive += (ta->bytes + 63) & ~(size_t)63;	/* as aligned */
		assert_true(off[a] % 64 == 0);
		assert_true(off[a] + ta->bytes <= total);
		lifetime(g, a, &fa, &la);
		for (b = a + 1; b < g->ntensors; b++) {
			const struct qnpu_ir_tensor *tb = &g->tensors[b];
			int fb, lb;

			if (tb->const_data || !tb->bytes)
				continue;
			lifetime(g, b, &fb, &lb);
			if (la < fb || lb < fa)
				continue;	/* never alive together */
			if (off[a] < off[b] + tb->bytes &&
			    off[b] < off[a] + ta->bytes)
				fail_msg("%s: tensors %d and %d are alive together and overlap",
					 name, a, b);
		}
	}
	printf("%s: arena %zu bytes, %zu without sharing (64-byte aligned)\n", name, total,
	       naive);
	/*
	 * From four operators on, some intermediate dies before a later one
	 * is born: its memory must be reused.
	 */
	assert_true(total <= naive);
	if (g->nops >= 4)
		assert_true(total < naive);
	free(off);
	qnpu_ir_graph_free(g);
	free(buf);
}

static void test_plans(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		check_model(models[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plans),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
