// SPDX-License-Identifier: MIT
/*
 * ONNX importer, first half: the ModelProto decoded by protobuf-c (whose
 * unpacker checks every length against the buffer), then the graph's
 * values: initializers, inputs with static shapes, constants, and the
 * IR tensors made of them. Nodes become operators in qnpu_onnx_ops.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/qnpu_import.h"
#include "import/qnpu_onnx.h"
#include "util/qnpu_util.h"

int onnx_node_fail(int err, const Onnx__NodeProto *n, int idx,
		   const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return qnpu_err(err, "ONNX node %d (%s%s%s): %s", idx,
			n->op_type ? n->op_type : "?",
			n->name && n->name[0] ? " " : "",
			n->name ? n->name : "", msg);
}

void *onnx_alloc(struct onnx_ctx *c, size_t bytes)
{
	void *p;

	if (c->nbufs == c->bufcap) {
		int cap = c->bufcap ? 2 * c->bufcap : 64;
		void **b = realloc(c->bufs, (size_t)cap * sizeof(*b));

		if (!b)
			return NULL;
		c->bufs = b;
		c->bufcap = cap;
	}
	p = calloc(1, bytes ? bytes : 1);
	if (p)
		c->bufs[c->nbufs++] = p;
	return p;
}

/* What the graph keeps: the decoded model and the importer's buffers. */
struct onnx_owner {
	Onnx__ModelProto *m;
	void **bufs;
	int nbufs;
};

static void owner_free(void *p)
{
	struct onnx_owner *o = p;
	int i;

	if (!o)
		return;
	for (i = 0; i < o->nbufs; i++)
		free(o->bufs[i]);
	free(o->bufs);
	if (o->m)
		onnx__model_proto__free_unpacked(o->m, NULL);
	free(o);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

int onnx_find(struct onnx_ctx *c, const char *name)
{
	size_t i = hash_str(name) & (c->hcap - 1);

	while (c->hash[i] >= 0) {
		if (!strcmp(c->v[c->hash[i]].name, name))
			return c->hash[i];
		i = (i + 1) & (c->hcap - 1);
	}
	return -1;
}

/* The value named @name, made if new. */
static int val_get(struct onnx_ctx *c, const char *name)
{
	int vi = onnx_find(c, name);
	size_t i;

	if (vi >= 0)
		return vi;
	if (c->nv == c->vcap)
		return qnpu_err(-EINVAL, "ONNX: more values than the graph names");
	vi = c->nv++;
	memset(&c->v[vi], 0, sizeof(c->v[vi]));
	c->v[vi].name = name;
	c->v[vi].tensor = -1;
	c->v[vi].dq_src = -1;
	c->v[vi].last_consumer = -1;
	i = hash_str(name) & (c->hcap - 1);
	while (c->hash[i] >= 0)
		i = (i + 1) & (c->hcap - 1);
	c->hash[i] = vi;
	return vi;
}

size_t onnx_esize(int dtype)
{
	return qnpu_dtype_size((enum qnpu_dtype)dtype);
}

/* ONNX TensorProto.DataType -> qnpu dtype, or -1. */
static int dtype_of(int32_t t)
{
	switch (t) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		return QNPU_DTYPE_FLOAT32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
		return QNPU_DTYPE_UINT8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
		return QNPU_DTYPE_INT8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
		return QNPU_DTYPE_INT32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		return QNPU_DTYPE_INT64;
	}
	return -1;
}

int onnx_set_shape(struct onnx_val *v, int rank, const int64_t *dims)
{
	size_t count = 1;
	int i;

	if (rank < 0 || rank > QNPU_MAX_RANK)
		return qnpu_err(-ENOTSUP, "ONNX value '%s': rank %d (qnpu takes up to %d)",
				v->name, rank, QNPU_MAX_RANK);
	for (i = 0; i < rank; i++) {
		if (dims[i] < 0 || dims[i] > (int64_t)ONNX_MAX_ELEMS)
			return qnpu_err(-EINVAL, "ONNX value '%s': dimension %d is %lld",
					v->name, i, (long long)dims[i]);
		count *= (size_t)dims[i];
		if (count > ONNX_MAX_ELEMS)
			return qnpu_err(-EINVAL, "ONNX value '%s': more than %u elements",
					v->name, ONNX_MAX_ELEMS);
		v->shape[i] = (int32_t)dims[i];
	}
	v->rank = rank;
	v->count = count;
	return 0;
}

int onnx_const_from_proto(struct onnx_ctx *c, int vi,
			  const Onnx__TensorProto *t)
{
	struct onnx_val *v = &c->v[vi];
	int dt = t->has_data_type ? dtype_of(t->data_type) : -1;
	size_t es, n, i;
	uint8_t *d;
	int r;

	if (t->n_external_data || (t->has_data_location &&
	    t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))
		return qnpu_err(-ENOTSUP,
				"ONNX tensor '%s': external data (%s) is not supported: save the model with its weights inside",
				v->name,
				t->n_external_data && t->external_data[0]->value ?
				t->external_data[0]->value : "another file");
	if (t->segment)
		return qnpu_err(-ENOTSUP, "ONNX tensor '%s': segmented tensors are not supported",
				v->name);
	if (dt < 0)
		return qnpu_err(-ENOTSUP, "ONNX tensor '%s': data type %d is not supported (FLOAT, UINT8, INT8, INT32, INT64)",
				v->name, t->has_data_type ? t->data_type : 0);
	if (t->n_dims > QNPU_MAX_RANK)
		return qnpu_err(-ENOTSUP, "ONNX tensor '%s': rank %zu (qnpu takes up to %d)",
				v->name, t->n_dims, QNPU_MAX_RANK);
	r = onnx_set_shape(v, (int)t->n_dims, t->dims);
	if (r)
		return r;
	v->dtype = dt;
	es = onnx_esize(dt);
	n = v->count;
	if (t->has_raw_data) {
		if (t->raw_data.len != n * es)
			return qnpu_err(-EINVAL, "malformed ONNX: tensor '%s' has %zu bytes of data for %zu elements of %zu bytes",
					v->name, t->raw_data.len, n, es);
		d = onnx_alloc(c, n * es);
		if (!d)
			return qnpu_err(-ENOMEM, "out of memory");
		if (n)
			memcpy(d, t->raw_data.data, n * es);
		v->data = d;
		v->defined = true;
		return 0;
	}
	d = onnx_alloc(c, n * es);
	if (!d)
		return qnpu_err(-ENOMEM, "out of memory");
	switch (dt) {
	case QNPU_DTYPE_FLOAT32:
		if (t->n_float_data != n)
			goto bad_count;
		memcpy(d, t->float_data, n * es);
		break;
	case QNPU_DTYPE_INT64:
		if (t->n_int64_data != n)
			goto bad_count;
		memcpy(d, t->int64_data, n * es);
		break;
	case QNPU_DTYPE_INT32:
		if (t->n_int32_data != n)
			goto bad_count;
		memcpy(d, t->int32_data, n * es);
		break;
	default:	/* UINT8, INT8: one int32_data entry each */
		if (t->n_int32_data != n)
			goto bad_count;
		for (i = 0; i < n; i++)
			d[i] = (uint8_t)t->int32_data[i];
		break;
	}
	v->data = d;
	v->defined = true;
	return 0;

bad_count:
	return qnpu_err(-EINVAL, "malformed ONNX: tensor '%s' holds the wrong number of values for its %zu elements",
			v->name, n);
}

int onnx_new_tensor(struct onnx_ctx *c, int vi)
{
	struct qnpu_ir_graph *g = c->g;
	struct onnx_val *v = &c->v[vi];
	struct qnpu_ir_tensor *t;

	if (g->ntensors == c->tcap) {
		int cap = c->tcap ? 2 * c->tcap : 64;
		struct qnpu_ir_tensor *n = realloc(g->tensors,
						   (size_t)cap * sizeof(*n));

		if (!n)
			return qnpu_err(-ENOMEM, "out of memory");
		g->tensors = n;
		c->tcap = cap;
	}
	t = &g->tensors[g->ntensors];
	memset(t, 0, sizeof(*t));
	t->name = v->name;
	t->dtype = (enum qnpu_dtype)v->dtype;
	t->rank = v->rank;
	memcpy(t->shape, v->shape, sizeof(t->shape));
	t->count = v->count;
	t->bytes = v->count * onnx_esize(v->dtype);
	t->const_data = v->data;
	v->tensor = g->ntensors;
	return g->ntensors++;
}

struct qnpu_ir_op *onnx_new_op(struct onnx_ctx *c, int builtin, int nin,
			       int nout)
{
	struct qnpu_ir_graph *g = c->g;
	struct qnpu_ir_op *op;
	int i;

	if (g->nops == c->ocap) {
		int cap = c->ocap ? 2 * c->ocap : 32;
		struct qnpu_ir_op *n = realloc(g->ops, (size_t)cap * sizeof(*n));

		if (!n)
			return NULL;
		g->ops = n;
		c->ocap = cap;
	}
	op = &g->ops[g->nops];
	memset(op, 0, sizeof(*op));
	op->in = malloc((size_t)nin * sizeof(int32_t) + 1);
	op->out = malloc((size_t)nout * sizeof(int32_t) + 1);
	if (!op->in || !op->out) {
		free(op->in);
		free(op->out);
		return NULL;
	}
	for (i = 0; i < nin; i++)
		op->in[i] = -1;
	for (i = 0; i < nout; i++)
		op->out[i] = -1;
	op->index = g->nops++;
	op->builtin = builtin;
	op->version = c->opset;
	op->nin = nin;
	op->nout = nout;
	op->rounding = QNPU_ROUND_ONNX;
	op->opt.onnx.lo = -__builtin_inff();
	op->opt.onnx.hi = __builtin_inff();
	return op;
}

int onnx_tensor(struct onnx_ctx *c, int vi)
{
	struct onnx_val *v = &c->v[vi];
	int src, t, ts, tz = -1, r;

	if (v->tensor >= 0)
		return v->tensor;
	if (v->dq_src < 0 || v->data)
		return onnx_new_tensor(c, vi);
	/* A DequantizeLinear output someone needs in float. */
	src = onnx_tensor(c, v->dq_src);
	if (src < 0)
		return src;
	ts = onnx_tensor(c, v->dq_scale);
	if (ts < 0)
		return ts;
	if (v->dq_zp >= 0) {
		tz = onnx_tensor(c, v->dq_zp);
		if (tz < 0)
			return tz;
	}
	t = onnx_new_tensor(c, vi);
	if (t < 0)
		return t;
	r = onnx_qdq_op(c, QNPU_ONNX_DEQUANTIZE, src, ts, tz, t, v->dq_axis);
	return r ? r : t;
}

int onnx_qdq_op(struct onnx_ctx *c, int kind, int tx, int ts, int tz, int t,
		int axis)
{
	struct qnpu_ir_op *op = onnx_new_op(c, kind, 3, 1);

	if (!op)
		return qnpu_err(-ENOMEM, "out of memory");
	op->in[0] = tx;
	op->in[1] = ts;
	op->in[2] = tz;
	op->out[0] = t;
	op->opt.onnx.axis = axis;
	return 0;
}

const Onnx__AttributeProto *onnx_attr(const Onnx__NodeProto *n,
				      const char *name)
{
	size_t i;

	for (i = 0; i < n->n_attribute; i++)
		if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
			return n->attribute[i];
	return NULL;
}

int64_t onnx_attr_i(const Onnx__NodeProto *n, const char *name, int64_t def)
{
	const Onnx__AttributeProto *a = onnx_attr(n, name);

	return a && a->has_i ? a->i : def;
}

float onnx_attr_f(const Onnx__NodeProto *n, const char *name, float def)
{
	const Onnx__AttributeProto *a = onnx_attr(n, name);

	return a && a->has_f ? a->f : def;
}

/* A graph input: its type and a static shape. */
static int import_input(struct onnx_ctx *c, const Onnx__ValueInfoProto *vi,
			int idx)
{
	const Onnx__TypeProto__Tensor *tt;
	int64_t dims[QNPU_MAX_RANK];
	struct onnx_val *v;
	size_t i;
	int k, r;

	if (!vi->name || !vi->name[0])
		return qnpu_err(-EINVAL, "malformed ONNX: graph input %d has no name",
				idx);
	k = onnx_find(c, vi->name);
	v = &c->v[k];
	if (v->defined)		/* an initializer listed as input too */
		return 0;
	if (!vi->type || vi->type->value_case !=
	    ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type)
		return qnpu_err(-ENOTSUP, "ONNX graph input '%s' is not a tensor",
				vi->name);
	tt = vi->type->tensor_type;
	v->dtype = tt->has_elem_type ? dtype_of(tt->elem_type) : -1;
	if (v->dtype < 0)
		return qnpu_err(-ENOTSUP, "ONNX graph input '%s': element type %d is not supported",
				vi->name, tt->has_elem_type ? tt->elem_type : 0);
	if (!tt->shape)
		return qnpu_err(-ENOTSUP, "ONNX graph input '%s' has no shape: qnpu needs static shapes",
				vi->name);
	if (tt->shape->n_dim > QNPU_MAX_RANK)
		return qnpu_err(-ENOTSUP, "ONNX graph input '%s': rank %zu (qnpu takes up to %d)",
				vi->name, tt->shape->n_dim, QNPU_MAX_RANK);
	for (i = 0; i < tt->shape->n_dim; i++) {
		const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];

		if (d->value_case !=
		    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
		    d->dim_value <= 0)
			return qnpu_err(-ENOTSUP,
					"ONNX graph input '%s': dimension %zu is dynamic (%s): qnpu needs static shapes",
					vi->name, i,
					d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
					d->dim_param ? d->dim_param : "unknown");
		dims[i] = d->dim_value;
	}
	r = onnx_set_shape(v, (int)tt->shape->n_dim, dims);
	if (r)
		return r;
	v->defined = true;
	r = onnx_new_tensor(c, k);
	if (r < 0)
		return r;
	c->g->tensors[r].is_input = true;
	c->g->inputs[c->g->ninputs++] = r;
	return 0;
}

/* Names of every value; consumers counted; producers unique. */
static int collect_names(struct onnx_ctx *c)
{
	Onnx__GraphProto *gp = c->gp;
	size_t i, j;
	int r;

	for (i = 0; i < gp->n_initializer; i++) {
		if (!gp->initializer[i]->name)
			return qnpu_err(-EINVAL, "malformed ONNX: initializer %zu has no name",
					i);
		r = val_get(c, gp->initializer[i]->name);
		if (r < 0)
			return r;
	}
	for (i = 0; i < gp->n_input; i++)
		if (gp->input[i]->name && (r = val_get(c, gp->input[i]->name)) < 0)
			return r;
	for (i = 0; i < gp->n_node; i++) {
		Onnx__NodeProto *n = gp->node[i];

		if (!n->op_type)
			return qnpu_err(-EINVAL, "malformed ONNX: node %zu has no op_type",
					i);
		for (j = 0; j < n->n_input + n->n_output; j++) {
			bool in = j < n->n_input;
			const char *name = in ? n->input[j] :
					   n->output[j - n->n_input];

			if (!name[0])
				continue;	/* an optional input left out */
			r = val_get(c, name);
			if (r < 0)
				return r;
			if (in) {
				c->v[r].consumers++;
				c->v[r].last_consumer = (int)i;
			}
		}
	}
	for (i = 0; i < gp->n_output; i++) {
		if (!gp->output[i]->name || onnx_find(c, gp->output[i]->name) < 0)
			return qnpu_err(-EINVAL, "malformed ONNX: graph output %zu names no value",
					i);
		c->v[onnx_find(c, gp->output[i]->name)].consumers++;
	}
	return 0;
}

static int opset_of(struct onnx_ctx *c)
{
	size_t i;

	c->opset = -1;
	for (i = 0; i < c->m->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = c->m->opset_import[i];

		if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx"))
			c->opset = o->has_version ? (int)o->version : -1;
	}
	if (c->opset < 10 || c->opset > 17)
		return qnpu_err(-ENOTSUP, "ONNX opset %d: qnpu imports opsets 10 to 17",
				c->opset);
	return 0;
}

bool qnpu_onnx_is(const uint8_t *buf, size_t len)
{
	/* TFLite has its identifier at 4; a ModelProto opens with a field
	 * tag (ir_version = 0x08, opset/graph/strings 0x12..0x72). */
	if (len >= 8 && !memcmp(buf + 4, "TFL3", 4))
		return false;
	return len >= 2 && (buf[0] == 0x08 || (buf[0] & 7) == 2);
}

static int import_graph(struct onnx_ctx *c)
{
	Onnx__GraphProto *gp = c->gp;
	struct qnpu_ir_graph *g = c->g;
	size_t names = gp->n_initializer + gp->n_input + gp->n_output;
	size_t i;
	int r;

	for (i = 0; i < gp->n_node; i++)
		names += gp->node[i]->n_input + gp->node[i]->n_output;
	if (names > ONNX_MAX_ELEMS)
		return qnpu_err(-EINVAL, "malformed ONNX: too many names");
	c->vcap = (int)names + 1;
	c->v = calloc((size_t)c->vcap, sizeof(*c->v));
	for (c->hcap = 16; c->hcap < 2 * names; c->hcap *= 2)
		;
	c->hash = malloc(c->hcap * sizeof(*c->hash));
	c->node_done = calloc(gp->n_node + 1, sizeof(*c->node_done));
	g->inputs = calloc(gp->n_input + 1, sizeof(*g->inputs));
	g->outputs = calloc(gp->n_output + 1, sizeof(*g->outputs));
	if (!c->v || !c->hash || !c->node_done || !g->inputs || !g->outputs)
		return qnpu_err(-ENOMEM, "out of memory");
	memset(c->hash, 0xff, c->hcap * sizeof(*c->hash));
	r = collect_names(c);
	if (r)
		return r;
	if (gp->n_sparse_initializer)
		return qnpu_err(-ENOTSUP, "ONNX: sparse initializers are not supported");
	for (i = 0; i < gp->n_initializer; i++) {
		r = onnx_const_from_proto(c, onnx_find(c, gp->initializer[i]->name),
					  gp->initializer[i]);
		if (r)
			return r;
	}
	for (i = 0; i < gp->n_input; i++) {
		r = import_input(c, gp->input[i], (int)i);
		if (r)
			return r;
	}
	r = onnx_import_nodes(c);
	if (r)
		return r;
	for (i = 0; i < gp->n_output; i++) {
		int vi = onnx_find(c, gp->output[i]->name), t;

		if (!c->v[vi].defined)
			return qnpu_err(-EINVAL, "malformed ONNX: graph output '%s' is never computed",
					c->v[vi].name);
		if (c->v[vi].data)
			return qnpu_err(-ENOTSUP, "ONNX graph output '%s' is a constant",
					c->v[vi].name);
		t = onnx_tensor(c, vi);
		if (t < 0)
			return t;
		if (g->tensors[t].is_input || g->tensors[t].is_output)
			return qnpu_err(-ENOTSUP, "ONNX graph output '%s' is a graph input or another output",
					c->v[vi].name);
		g->tensors[t].is_output = true;
		g->outputs[g->noutputs++] = t;
	}
	if (!g->ninputs || !g->noutputs || !g->nops)
		return qnpu_err(-ENOTSUP, "ONNX: the graph has no inputs, outputs or operators to run");
	return 0;
}

int qnpu_onnx_import(const uint8_t *buf, size_t len,
		     struct qnpu_ir_graph **out)
{
	struct onnx_ctx c = { 0 };
	struct onnx_owner *o;
	int r;

	*out = NULL;
	c.g = calloc(1, sizeof(*c.g));
	o = calloc(1, sizeof(*o));
	if (!c.g || !o) {
		free(c.g);
		free(o);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	c.g->owner = o;
	c.g->owner_free = owner_free;
	c.m = onnx__model_proto__unpack(NULL, len, buf);
	o->m = c.m;
	if (!c.m) {
		r = qnpu_err(-EINVAL, "malformed ONNX: the protobuf does not decode as a ModelProto");
		goto out;
	}
	c.gp = c.m->graph;
	if (!c.gp) {
		r = qnpu_err(-EINVAL, "malformed ONNX: the model has no graph");
		goto out;
	}
	r = opset_of(&c);
	if (!r)
		r = import_graph(&c);
	if (!r && c.gp->doc_string)
		c.g->description = c.gp->doc_string;
out:
	o->bufs = c.bufs;
	o->nbufs = c.nbufs;
	free(c.v);
	free(c.hash);
	free(c.node_done);
	if (r) {
		qnpu_ir_graph_free(c.g);
		return r;
	}
	*out = c.g;
	return 0;
}
