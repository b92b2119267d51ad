// SPDX-License-Identifier: MIT
/*
 * Activation memory planning: tensors whose lifetimes do not overlap
 * share memory. Greedy by size (largest first), each at the lowest offset
 * that clashes with no placed tensor alive at the same time. Model inputs
 * and outputs live for the whole run, so a second run and the caller's
 * reads never see them overwritten.
 */
#include <errno.h>
#include <stdlib.h>

#include "compiler/qnpu_compiler.h"
#include "util/qnpu_util.h"

#define PLAN_ALIGN 64

struct live {
	int t;
	int first, last;	/* operator indices, inclusive */
	size_t size, off;
};

static int by_size(const void *a, const void *b)
{
	const struct live *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->t - y->t;
}

int qnpu_plan_memory(const struct qnpu_ir_graph *g, size_t *offsets,
		     size_t *total)
{
	struct live *lv, **placed;
	int i, j, k, n = 0, np = 0;
	size_t end = 0;

	lv = calloc((size_t)g->ntensors + 1, sizeof(*lv));
	placed = calloc((size_t)g->ntensors + 1, sizeof(*placed));
	if (!lv || !placed) {
		free(lv);
		free(placed);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	for (i = 0; i < g->ntensors; i++) {
		const struct qnpu_ir_tensor *t = &g->tensors[i];
		int first = g->nops, last = -1;

		offsets[i] = 0;
		if (t->const_data || !t->bytes)
			continue;
		for (j = 0; j < g->nops; j++) {
			const struct qnpu_ir_op *op = &g->ops[j];

			for (k = 0; k < op->nout; k++)
				/* a fused ADD's output is written by its convolution */
				if (op->out[k] == i &&
				    (op->res_conv ? op->res_conv - 1 : j) < first)
					first = op->res_conv ? op->res_conv - 1 : j;
			for (k = 0; k < op->nin; k++)
				if (op->in[k] == i)
					last = j;
		}
		if (t->is_input || t->is_output) {
			first = -1;
			last = g->nops;
		}
		if (last < first)
			last = first;	/* written, never read */
		lv[n++] = (struct live){ i, first, last,
			(t->bytes + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1),
			0 };
	}
	qsort(lv, (size_t)n, sizeof(*lv), by_size);
	for (i = 0; i < n; i++) {
		size_t off = 0;
		bool moved = true;

		/* Slide past every clash until none remains. */
		while (moved) {
			moved = false;
			for (j = 0; j < np; j++) {
				struct live *p = placed[j];

				if (p->last < lv[i].first || lv[i].last < p->first)
					continue;
				if (off < p->off + p->size &&
				    p->off < off + lv[i].size) {
					off = p->off + p->size;
					moved = true;
				}
			}
		}
		lv[i].off = off;
		placed[np++] = &lv[i];
		offsets[lv[i].t] = off;
		if (off + lv[i].size > end)
			end = off + lv[i].size;
	}
	*total = end;
	free(lv);
	free(placed);
	return 0;
}
