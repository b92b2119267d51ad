// SPDX-License-Identifier: MIT
/*
 * A float ONNX model written back as a QDQ model (the format ONNX
 * Runtime's quantizer and PyTorch write), from calibrated ranges:
 * QuantizeLinear -> DequantizeLinear (UINT8, asymmetric) after the graph
 * input and after every operator's float output (a Conv/Gemm/MatMul/Add
 * followed by its only reader Relu/Clip gets it after the activation, so
 * the pair folds into one quantized operator; Flatten, Reshape and MaxPool
 * reuse their input's parameters, as ORT requires to drop them); weights
 * of Conv/Gemm/MatMul INT8 symmetric per output channel (or per tensor),
 * biases INT32 of scale x_scale * w_scale[c], each behind a
 * DequantizeLinear. The original protobuf is decoded, extended and packed
 * again with protobuf-c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/onnx.pb-c.h"
#include "import/qnpu_import.h"
#include "util/qnpu_util.h"

/* What an activation became: its DQ output and its parameters. */
struct qact {
	const char *name, *dq, *scale, *zp;
	float s;
};

struct qw {
	Onnx__GraphProto *g;
	const struct qnpu_ir_graph *ir;
	qnpu_onnx_range_fn range;
	void *ctx;
	bool per_tensor;
	Onnx__NodeProto **nodes;
	size_t nn, ncap;
	Onnx__TensorProto **inits;
	size_t ni, icap;
	void **mem;
	size_t nmem, memcap;
	struct qact *act;
	size_t na, acap;
	int err;
};

static void *qalloc(struct qw *w, size_t n)
{
	void *p;

	if (w->nmem == w->memcap) {
		size_t cap = w->memcap ? 2 * w->memcap : 256;
		void **m = realloc(w->mem, cap * sizeof(*m));

		if (!m) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->mem = m;
		w->memcap = cap;
	}
	p = calloc(1, n ? n : 1);
	if (!p) {
		w->err = -ENOMEM;
		return NULL;
	}
	w->mem[w->nmem++] = p;
	return p;
}

static char *qname(struct qw *w, const char *a, const char *b)
{
	char *s = qalloc(w, strlen(a) + strlen(b) + 1);

	if (s)
		sprintf(s, "%s%s", a, b);
	return s;
}

static bool grow(struct qw *w, void ***arr, size_t n, size_t *cap)
{
	void **a;

	if (n < *cap)
		return true;
	a = realloc(*arr, (*cap ? 2 * *cap : 64) * sizeof(void *));
	if (!a) {
		w->err = -ENOMEM;
		return false;
	}
	*arr = a;
	*cap = *cap ? 2 * *cap : 64;
	return true;
}

/* An initializer of raw little-endian data. */
static const char *init(struct qw *w, const char *name, int32_t type,
			int ndims, const int64_t *dims, const void *data,
			size_t bytes)
{
	Onnx__TensorProto *t = qalloc(w, sizeof(*t));
	int64_t *d = qalloc(w, (size_t)(ndims + 1) * sizeof(int64_t));
	void *copy = qalloc(w, bytes);

	if (!t || !d || !copy ||
	    !grow(w, (void ***)&w->inits, w->ni, &w->icap))
		return NULL;
	onnx__tensor_proto__init(t);
	memcpy(d, dims, (size_t)ndims * sizeof(int64_t));
	memcpy(copy, data, bytes);
	t->name = (char *)name;
	t->n_dims = (size_t)ndims;
	t->dims = d;
	t->has_data_type = 1;
	t->data_type = type;
	t->has_raw_data = 1;
	t->raw_data.data = copy;
	t->raw_data.len = bytes;
	w->inits[w->ni++] = t;
	return name;
}

static void add_node(struct qw *w, const char *op, const char *a,
		     const char *b, const char *c, const char *out, int axis)
{
	Onnx__NodeProto *n = qalloc(w, sizeof(*n));
	char **in = qalloc(w, 3 * sizeof(char *));
	char **o = qalloc(w, sizeof(char *));

	if (!n || !in || !o || !grow(w, (void ***)&w->nodes, w->nn, &w->ncap))
		return;
	onnx__node_proto__init(n);
	n->op_type = (char *)op;
	n->name = (char *)out;
	in[0] = (char *)a;
	in[1] = (char *)b;
	in[2] = (char *)c;
	n->n_input = 3;
	n->input = in;
	o[0] = (char *)out;
	n->n_output = 1;
	n->output = o;
	if (axis >= 0) {
		Onnx__AttributeProto *at = qalloc(w, sizeof(*at));
		Onnx__AttributeProto **ats = qalloc(w, sizeof(*ats));

		if (!at || !ats)
			return;
		onnx__attribute_proto__init(at);
		at->name = "axis";
		at->has_type = 1;
		at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
		at->has_i = 1;
		at->i = axis;
		ats[0] = at;
		n->n_attribute = 1;
		n->attribute = ats;
	}
	w->nodes[w->nn++] = n;
}

static struct qact *find_act(struct qw *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->na; i++)
		if (!strcmp(w->act[i].name, name))
			return &w->act[i];
	return NULL;
}

/*
 * Q -> DQ after float value @v (named @src in the graph now), with the
 * parameters of @like or calibrated ones; the DQ output is @dq_name.
 */
static int qdq(struct qw *w, const char *v, const char *src,
	       const char *dq_name, const struct qact *like)
{
	struct qact a = { .name = v, .dq = dq_name };
	int i;

	if (like) {
		a.scale = like->scale;
		a.zp = like->zp;
		a.s = like->s;
	} else {
		float lo = 0, hi = 0, s;
		int64_t none = 0;
		uint8_t z;
		int t = -1;

		for (i = 0; i < w->ir->ntensors; i++)
			if (w->ir->tensors[i].name &&
			    !strcmp(w->ir->tensors[i].name, v))
				t = i;
		if (t < 0 || w->range(w->ctx, t, &lo, &hi))
			return qnpu_err(-ENOTSUP, "ONNX quantization: no calibrated range for '%s'",
					v);
		/* the range holds 0, as ORT's and PyTorch's observers */
		lo = fminf(lo, 0);
		hi = fmaxf(hi, 0);
		s = (hi - lo) / 255.0f;
		if (!(s > 0))
			s = 1.0f / 255.0f;
		z = (uint8_t)fminf(255, fmaxf(0, rintf(-lo / s)));
		a.s = s;
		a.scale = init(w, qname(w, v, "_scale"),
			       ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, &none,
			       &s, 4);
		a.zp = init(w, qname(w, v, "_zero_point"),
			    ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 0, &none,
			    &z, 1);
	}
	add_node(w, "QuantizeLinear", src, a.scale, a.zp, qname(w, v, "_q"), -1);
	add_node(w, "DequantizeLinear", qname(w, v, "_q"), a.scale, a.zp,
		 dq_name, -1);
	if (w->na == w->acap) {
		struct qact *n = realloc(w->act, (w->acap ? 2 * w->acap : 64) *
					 sizeof(*n));

		if (!n)
			return qnpu_err(-ENOMEM, "out of memory");
		w->act = n;
		w->acap = w->acap ? 2 * w->acap : 64;
	}
	w->act[w->na++] = a;
	return w->err ? qnpu_err(w->err, "out of memory") : 0;
}

static const Onnx__TensorProto *initializer(const Onnx__GraphProto *g,
					    const char *name)
{
	size_t i;

	for (i = 0; i < g->n_initializer; i++)
		if (!strcmp(g->initializer[i]->name, name))
			return g->initializer[i];
	return NULL;
}

static int64_t attr_i(const Onnx__NodeProto *n, const char *name, int64_t def)
{
	size_t i;

	for (i = 0; i < n->n_attribute; i++)
		if (!strcmp(n->attribute[i]->name, name) && n->attribute[i]->has_i)
			return n->attribute[i]->i;
	return def;
}

/* Float data of an initializer (raw or float_data), or NULL. */
static const float *fdata(const Onnx__TensorProto *t, size_t *n)
{
	size_t i, c = 1;

	for (i = 0; i < t->n_dims; i++)
		c *= (size_t)t->dims[i];
	*n = c;
	if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
		return NULL;
	if (t->has_raw_data && t->raw_data.len == 4 * c)
		return (const float *)(const void *)t->raw_data.data;
	if (t->n_float_data == c)
		return t->float_data;
	return NULL;
}

/* INT8 weights (axis @axis or per tensor) and INT32 bias for node @n. */
static int weights(struct qw *w, Onnx__NodeProto *n, int axis, float xs,
		   char **new_in)
{
	const Onnx__TensorProto *wt = initializer(w->g, n->input[1]);
	const Onnx__TensorProto *bt = n->n_input > 2 && n->input[2][0] ?
				      initializer(w->g, n->input[2]) : NULL;
	size_t count, bcount = 0, i, ch, inner = 1, outer = 1;
	const float *wf, *bf = NULL;
	float *sc;
	int8_t *q;
	void *zp;
	int64_t nch;
	int k;

	if (!wt || !(wf = fdata(wt, &count)) || wt->n_dims < 2 ||
	    (bt && (!(bf = fdata(bt, &bcount)))))
		return qnpu_err(-ENOTSUP, "ONNX quantization: %s '%s' needs constant FLOAT weights and bias",
				n->op_type, n->name ? n->name : "");
	nch = w->per_tensor ? 1 : wt->dims[axis];
	for (k = 0; k < (int)wt->n_dims; k++) {
		if (k < axis)
			outer *= (size_t)wt->dims[k];
		if (k > axis)
			inner *= (size_t)wt->dims[k];
	}
	if (bt && bcount != (size_t)wt->dims[axis])
		return qnpu_err(-ENOTSUP, "ONNX quantization: %s bias of %zu values", n->op_type,
				bcount);
	sc = qalloc(w, (size_t)nch * sizeof(float));
	q = qalloc(w, count);
	zp = qalloc(w, (size_t)nch * 4);
	if (!sc || !q || !zp)
		return qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; i < count; i++) {
		ch = w->per_tensor ? 0 : (i / inner) % (size_t)nch;
		sc[ch] = fmaxf(sc[ch], fabsf(wf[i]));
	}
	for (ch = 0; ch < (size_t)nch; ch++)
		sc[ch] = sc[ch] > 0 ? sc[ch] / 127.0f : 1e-8f;
	for (i = 0; i < count; i++) {
		ch = w->per_tensor ? 0 : (i / inner) % (size_t)nch;
		q[i] = (int8_t)fminf(127, fmaxf(-127, rintf(wf[i] / sc[ch])));
	}
	(void)outer;
	new_in[1] = qname(w, n->input[1], "_dq");
	add_node(w, "DequantizeLinear",
		 init(w, qname(w, n->input[1], "_q"),
		      ONNX__TENSOR_PROTO__DATA_TYPE__INT8, (int)wt->n_dims,
		      wt->dims, q, count),
		 init(w, qname(w, n->input[1], "_scale"),
		      ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &nch, sc,
		      (size_t)nch * 4),
		 init(w, qname(w, n->input[1], "_zero_point"),
		      ONNX__TENSOR_PROTO__DATA_TYPE__INT8, 1, &nch, zp,
		      (size_t)nch),
		 new_in[1], w->per_tensor ? -1 : axis);
	if (bt) {
		int64_t nb = (int64_t)bcount;
		float *bs = qalloc(w, bcount * sizeof(float));
		int32_t *bq = qalloc(w, bcount * 4);
		void *bz = qalloc(w, bcount * 4);

		if (!bs || !bq || !bz)
			return qnpu_err(-ENOMEM, "out of memory");
		for (i = 0; i < bcount; i++) {
			bs[i] = xs * sc[w->per_tensor ? 0 : i];
			bq[i] = (int32_t)fmaxf(-2147483520.0f,
					       fminf(2147483520.0f,
						     rintf(bf[i] / bs[i])));
		}
		new_in[2] = qname(w, n->input[2], "_dq");
		add_node(w, "DequantizeLinear",
			 init(w, qname(w, n->input[2], "_q"),
			      ONNX__TENSOR_PROTO__DATA_TYPE__INT32, 1, &nb, bq,
			      bcount * 4),
			 init(w, qname(w, n->input[2], "_scale"),
			      ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &nb, bs,
			      bcount * 4),
			 init(w, qname(w, n->input[2], "_zero_point"),
			      ONNX__TENSOR_PROTO__DATA_TYPE__INT32, 1, &nb, bz,
			      bcount * 4),
			 new_in[2], 0);
	}
	return w->err ? qnpu_err(w->err, "out of memory") : 0;
}

/* The nodes reading @name, and the only one of them, or NULL. */
static const Onnx__NodeProto *sole_reader(const Onnx__GraphProto *g,
					  const char *name, int *count)
{
	const Onnx__NodeProto *r = NULL;
	size_t i, j;

	*count = 0;
	for (i = 0; i < g->n_node; i++)
		for (j = 0; j < g->node[i]->n_input; j++)
			if (!strcmp(g->node[i]->input[j], name)) {
				r = g->node[i];
				++*count;
			}
	for (i = 0; i < g->n_output; i++)
		if (!strcmp(g->output[i]->name, name))
			++*count;
	return *count == 1 ? r : NULL;
}

static bool is_output(const Onnx__GraphProto *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->n_output; i++)
		if (!strcmp(g->output[i]->name, name))
			return true;
	return false;
}

static int rewrite(struct qw *w)
{
	Onnx__GraphProto *g = w->g;
	size_t i, j;
	int r, cnt;

	for (i = 0; i < g->n_input; i++) {
		const char *v = g->input[i]->name;

		if (initializer(g, v))
			continue;
		if ((r = qdq(w, v, v, qname(w, v, "_dq"), NULL)))
			return r;
	}
	for (i = 0; i < g->n_node; i++) {
		Onnx__NodeProto *n = g->node[i];
		char **in = qalloc(w, (n->n_input + 1) * sizeof(char *));
		const struct qact *first = NULL;
		const Onnx__NodeProto *rd;
		const char *o = n->n_output ? n->output[0] : NULL;
		const char *t = n->op_type;
		bool fused, same;

		if (!in)
			return qnpu_err(-ENOMEM, "out of memory");
		for (j = 0; j < n->n_input; j++) {
			const struct qact *a = find_act(w, n->input[j]);

			in[j] = a ? (char *)a->dq : n->input[j];
			if (j == 0)
				first = a;
		}
		if ((!strcmp(t, "Conv") || !strcmp(t, "Gemm") ||
		     !strcmp(t, "MatMul")) && n->n_input >= 2 &&
		    initializer(g, n->input[1])) {
			int axis = 0;

			if (!first)
				return qnpu_err(-ENOTSUP, "ONNX quantization: %s '%s' reads an unquantized activation",
						t, n->name ? n->name : "");
			if (!strcmp(t, "Gemm"))
				axis = attr_i(n, "transB", 0) ? 0 : 1;
			else if (!strcmp(t, "MatMul"))
				axis = 1;
			if ((r = weights(w, n, axis, first->s, in)))
				return r;
		}
		n->input = in;	/* the original array is kept by the caller */
		if (!grow(w, (void ***)&w->nodes, w->nn, &w->ncap))
			return qnpu_err(-ENOMEM, "out of memory");
		w->nodes[w->nn++] = n;
		if (!o || n->n_output != 1)
			continue;
		/* an activation after a linear op quantizes after it */
		rd = sole_reader(g, o, &cnt);
		fused = (!strcmp(t, "Conv") || !strcmp(t, "Gemm") ||
			 !strcmp(t, "MatMul") || !strcmp(t, "Add")) && rd &&
			(!strcmp(rd->op_type, "Relu") || !strcmp(rd->op_type, "Clip")) &&
			!is_output(g, o);
		if (fused)
			continue;
		same = first && (!strcmp(t, "Flatten") || !strcmp(t, "Reshape") ||
				 !strcmp(t, "MaxPool"));
		if (is_output(g, o)) {
			n->output[0] = qname(w, o, "_float");
			r = qdq(w, o, n->output[0], o, same ? first : NULL);
		} else {
			r = qdq(w, o, o, qname(w, o, "_dq"), same ? first : NULL);
		}
		if (r)
			return r;
	}
	return w->err ? qnpu_err(w->err, "out of memory") : 0;
}

int qnpu_onnx_write_qdq(const uint8_t *buf, size_t len,
			const struct qnpu_ir_graph *ir, qnpu_onnx_range_fn range,
			void *ctx, bool per_tensor, uint8_t **out,
			size_t *out_len)
{
	Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
	struct qw w = { .ir = ir, .range = range, .ctx = ctx,
			.per_tensor = per_tensor };
	Onnx__NodeProto **old_nodes;
	Onnx__TensorProto **old_inits;
	char ***old_in = NULL, **old_out = NULL;
	size_t old_nn, old_ni, i;
	int r = 0, opset = 0;

	*out = NULL;
	*out_len = 0;
	if (!m || !m->graph)
		return qnpu_err(-EINVAL, "malformed ONNX: the float model does not decode");
	for (i = 0; i < m->n_opset_import; i++)
		if (!m->opset_import[i]->domain || !m->opset_import[i]->domain[0])
			opset = (int)m->opset_import[i]->version;
	if (opset < 13 && !per_tensor) {
		onnx__model_proto__free_unpacked(m, NULL);
		return qnpu_err(-ENOTSUP, "ONNX opset %d: per-channel DequantizeLinear needs opset 13 (use --per-tensor)",
				opset);
	}
	w.g = m->graph;
	old_nodes = w.g->node;
	old_nn = w.g->n_node;
	old_inits = w.g->initializer;
	old_ni = w.g->n_initializer;
	old_in = calloc(old_nn + 1, sizeof(*old_in));
	old_out = calloc(old_nn + 1, sizeof(*old_out));
	if (!old_in || !old_out)
		r = qnpu_err(-ENOMEM, "out of memory");
	for (i = 0; !r && i < old_nn; i++) {
		old_in[i] = old_nodes[i]->input;
		old_out[i] = old_nodes[i]->n_output ? old_nodes[i]->output[0] : NULL;
	}
	/* the float weights the quantized ones replace are left out */
	for (i = 0; !r && i < old_ni; i++) {
		bool used = false;
		size_t k, j;

		for (k = 0; k < old_nn; k++)
			for (j = 0; j < old_nodes[k]->n_input; j++)
				used |= !strcmp(old_nodes[k]->input[j],
						old_inits[i]->name) &&
					!((!strcmp(old_nodes[k]->op_type, "Conv") ||
					   !strcmp(old_nodes[k]->op_type, "Gemm") ||
					   !strcmp(old_nodes[k]->op_type, "MatMul")) &&
					  j >= 1);
		if (used && grow(&w, (void ***)&w.inits, w.ni, &w.icap))
			w.inits[w.ni++] = old_inits[i];
	}
	if (!r)
		r = rewrite(&w);
	if (!r) {
		w.g->node = w.nodes;
		w.g->n_node = w.nn;
		w.g->initializer = w.inits;
		w.g->n_initializer = w.ni;
		*out_len = onnx__model_proto__get_packed_size(m);
		*out = malloc(*out_len + 1);
		if (*out)
			onnx__model_proto__pack(m, *out);
		else
			r = qnpu_err(-ENOMEM, "out of memory");
	}
	/* the decoded model gets its own arrays back before it is freed */
	w.g->node = old_nodes;
	w.g->n_node = old_nn;
	w.g->initializer = old_inits;
	w.g->n_initializer = old_ni;
	for (i = 0; old_in && old_out && i < old_nn; i++) {
		old_nodes[i]->input = old_in[i];
		if (old_nodes[i]->n_output)
			old_nodes[i]->output[0] = old_out[i];
	}
	free(old_in);
	free(old_out);
	onnx__model_proto__free_unpacked(m, NULL);
	for (i = 0; i < w.nmem; i++)
		free(w.mem[i]);
	free(w.mem);
	free(w.nodes);
	free(w.inits);
	free(w.act);
	return r;
}
