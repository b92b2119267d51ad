// SPDX-License-Identifier: MIT
/*
 * Activation memory planning: tensors whose lifetimes do not overlap
 * share memory. Greedy by size (largest first), each at the lowest offset
 * that clashes with no placed tensor alive at the same time. Model inputs
 * and outputs live for the whole run, so a second run and the caller's
 * reads never see them overwritten. At a batch, tensors of a run of NPU
 * operators live through the whole run, which may then go image by image.
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

/* The tensor whose memory @t is: itself, or a RESHAPE's input's root. */
static void views(const struct qnpu_ir_graph *g, int *root)
{
	int i;

	for (i = 0; i < g->ntensors; i++)
		root[i] = i;
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];
		const struct qnpu_ir_tensor *in, *out;

		if ((op->builtin != QNPU_TFL_RESHAPE &&
		     op->builtin != QNPU_ONNX_RESHAPE) || op->nin < 1 ||
		    op->nout < 1 || op->in[0] < 0 || op->out[0] < 0 ||
		    op->in[0] == op->out[0])
			continue;
		in = &g->tensors[op->in[0]];
		out = &g->tensors[op->out[0]];
		/* written once, by this op: it can be nothing but a name */
		if (in->const_data || out->const_data || !in->bytes ||
		    in->bytes != out->bytes || root[op->out[0]] != op->out[0])
			continue;
		root[op->out[0]] = root[op->in[0]];
	}
}

/* Whether operator @i can be in an NPU segment (a view included). */
static bool batch_run(const struct qnpu_ir_graph *g, int i)
{
	const struct qnpu_ir_op *op = &g->ops[i];

	return op->target == QNPU_TARGET_NPU ||
	       op->builtin == QNPU_TFL_RESHAPE ||
	       op->builtin == QNPU_ONNX_RESHAPE;
}

int qnpu_plan_memory(const struct qnpu_ir_graph *g, size_t *offsets,
		     size_t *total)
{
	struct live *lv, **placed, **of;
	int i, j, k, n = 0, np = 0, *root;
	size_t end = 0;

	lv = calloc((size_t)g->ntensors + 1, sizeof(*lv));
	placed = calloc((size_t)g->ntensors + 1, sizeof(*placed));
	of = calloc((size_t)g->ntensors + 1, sizeof(*of));
	root = calloc((size_t)g->ntensors + 1, sizeof(*root));
	if (!lv || !placed || !of || !root) {
		free(lv);
		free(placed);
		free(of);
		free(root);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	views(g, root);
	for (i = 0; i < g->ntensors; i++) {
		const struct qnpu_ir_tensor *t = &g->tensors[i];
		int first = g->nops, last = -1;

		offsets[i] = 0;
		if (t->const_data || !t->bytes)
			continue;
		for (j = 0; j < g->nops; j++) {
			const struct qnpu_ir_op *op = &g->ops[j];
			int at = op->res_defer ? op->res_add - 1 : j;

			for (k = 0; k < op->nout; k++)
				/* a fused ADD's output is written by its convolution */
				if (op->out[k] == i &&
				    (op->res_conv ? op->res_conv - 1 : j) < first)
					first = op->res_conv ? op->res_conv - 1 : j;
			/* a deferred convolution reads in its ADD's place */
			for (k = 0; k < op->nin; k++)
				if (op->in[k] == i && at > last)
					last = at;
		}
		if (t->is_input || t->is_output) {
			first = -1;
			last = g->nops;
		}
		if (g->batch > 1) {
			/* a run of NPU operators may run image by image
			 * (qnpu_seg_images.c): its tensors live through it */
			while (first > 0 && first < g->nops &&
			       batch_run(g, first - 1) && batch_run(g, first))
				first--;
			while (last >= 0 && last + 1 < g->nops &&
			       batch_run(g, last) && batch_run(g, last + 1))
				last++;
		}
		if (last < first)
			last = first;	/* written, never read */
		of[i] = &lv[n];
		lv[n++] = (struct live){ i, first, last,
			(t->bytes + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1),
			0 };
	}
	/* a view's lifetime is its root's; only roots are placed */
	for (i = 0; i < g->ntensors; i++) {
		struct live *v = of[i], *r = of[root[i]];

		if (root[i] == i || !v || !r)
			continue;
		if (r->first > v->first)
			r->first = v->first;
		if (r->last < v->last)
			r->last = v->last;
		v->size = 0;
	}
	for (i = 0, j = 0; i < n; i++)
		if (lv[i].size)
			lv[j++] = lv[i];
	n = j;
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
	for (i = 0; i < g->ntensors; i++)
		if (root[i] != i)
			offsets[i] = offsets[root[i]];
	*total = end;
	free(lv);
	free(placed);
	free(of);
	free(root);
	return 0;
}
