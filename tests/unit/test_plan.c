// SPDX-License-Identifier: MIT
/*
 * Activation memory planning on the shared models: no two tensors alive
 * at the same time overlap, every tensor lies inside the arena, and the
 * arena is smaller than giving each tensor its own memory. A RESHAPE's
 * output is a view: exactly its input's memory, the two alive as one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* Each tensor's root: a RESHAPE of a non-constant tensor views it. */
static void roots(const struct qnpu_ir_graph *g, int *root)
{
	int i;

	for (i = 0; i < g->ntensors; i++)
		root[i] = i;
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];

		if (op->builtin == QNPU_TFL_RESHAPE &&
		    !g->tensors[op->in[0]].const_data &&
		    g->tensors[op->in[0]].bytes == g->tensors[op->out[0]].bytes)
			root[op->out[0]] = root[op->in[0]];
	}
}

/* The lifetime of @t's root and every view of it together. */
static void group_lifetime(const struct qnpu_ir_graph *g, const int *root,
			   int t, int *first, int *last)
{
	int i, f, l;

	*first = g->nops;
	*last = -1;
	for (i = 0; i < g->ntensors; i++) {
		if (root[i] != root[t])
			continue;
		lifetime(g, i, &f, &l);
		*first = f < *first ? f : *first;
		*last = l > *last ? l : *last;
	}
}

static void check_model(const char *name)
{
	const char *dir = getenv("QNPU_MODELS");
	struct qnpu_ir_graph *g;
	size_t *off, total, naive = 0;
	int *root, views = 0;
	bool can_share = false;
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
	root = calloc((size_t)g->ntensors, sizeof(*root));
	assert_int_equal(qnpu_plan_memory(g, off, &total), 0);
	roots(g, root);
	for (a = 0; a < g->ntensors; a++) {
		const struct qnpu_ir_tensor *ta = &g->tensors[a];
		int fa, la;

		if (ta->const_data || !ta->bytes)
			continue;
		if (root[a] != a) {	/* a view: its root's memory */
			if (off[a] != off[root[a]])
				fail_msg("%s: RESHAPE output %d is not a view of %d",
					 name, a, root[a]);
			views++;
			continue;
		}
		naive += (ta->bytes + 63) & ~(size_t)63;	/* as aligned */
		assert_true(off[a] % 64 == 0);
		assert_true(off[a] + ta->bytes <= total);
		group_lifetime(g, root, a, &fa, &la);
		for (b = a + 1; b < g->ntensors; b++) {
			const struct qnpu_ir_tensor *tb = &g->tensors[b];
			int fb, lb;

			if (tb->const_data || !tb->bytes || root[b] != b)
				continue;
			group_lifetime(g, root, b, &fb, &lb);
			if (la < fb || lb < fa) {
				can_share = true;
				continue;	/* never alive together */
			}
			if (off[a] < off[b] + tb->bytes &&
			    off[b] < off[a] + ta->bytes)
				fail_msg("%s: tensors %d and %d are alive together and overlap",
					 name, a, b);
		}
	}
	printf("%s: arena %zu bytes, %zu without sharing (64-byte aligned), %d views\n",
	       name, total, naive, views);
	/* ResNet-8's AVERAGE_POOL -> RESHAPE -> FC: no copy between */
	if (!strcmp(name, "mlperf_tiny_ic_resnet8"))
		assert_int_equal(views, 1);
	/*
	 * From four operators on, some intermediate usually dies before a
	 * later one is born: its memory must be reused. (micro_speech's
	 * RESHAPE makes its input, alive for the whole run, the view's
	 * memory: nothing dies early there.)
	 */
	assert_true(total <= naive);
	if (g->nops >= 4 && can_share)
		assert_true(total < naive);
	if (!strcmp(name, "mlperf_tiny_ic_resnet8"))
		assert_true(can_share);
	free(off);
	free(root);
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
