// SPDX-License-Identifier: MIT
/*
 * ONNX importer, second half: nodes in order to IR operators. A
 * DequantizeLinear output stays virtual until a consumer needs it: a QDQ
 * group DQ -> Conv/Gemm/MatMul/Add/pool/Reshape [-> Relu/Clip] -> Q folds
 * into one quantized operator as ONNX Runtime's QDQ fusion makes it; any
 * other consumer gets a DEQUANTIZE and the float operator. QOperator
 * nodes map directly. Constants (Constant, ConstantOfShape, Cast, Shape
 * of constants) are computed here, not at run time.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "import/qnpu_onnx.h"
#include "util/qnpu_util.h"

struct node {
	struct onnx_ctx *c;
	const Onnx__NodeProto *n;
	int idx;
};

#define NFAIL(nd, err, ...) onnx_node_fail(err, (nd)->n, (nd)->idx, __VA_ARGS__)

/* Value index of input @i, -1 when left out; < -1 is an error code. */
static int in_v(struct node *nd, size_t i)
{
	int vi;

	if (i >= nd->n->n_input || !nd->n->input[i][0])
		return -1;
	vi = onnx_find(nd->c, nd->n->input[i]);
	if (vi < 0 || !nd->c->v[vi].defined)
		return NFAIL(nd, -EINVAL,
			     "input '%s' is not computed before the node (the graph must be sorted)",
			     nd->n->input[i]);
	return vi;
}

static int out_v(struct node *nd, size_t i)
{
	int vi;

	if (i >= nd->n->n_output || !nd->n->output[i][0])
		return NFAIL(nd, -EINVAL, "output %zu is missing", i);
	vi = onnx_find(nd->c, nd->n->output[i]);
	if (nd->c->v[vi].defined)
		return NFAIL(nd, -EINVAL, "value '%s' is computed twice",
			     nd->n->output[i]);
	return vi;
}

static double cval(const struct onnx_val *v, size_t i)
{
	switch (v->dtype) {
	case QNPU_DTYPE_FLOAT32:
		return ((const float *)v->data)[i];
	case QNPU_DTYPE_UINT8:
		return v->data[i];
	case QNPU_DTYPE_INT8:
		return (int8_t)v->data[i];
	case QNPU_DTYPE_INT32:
		return ((const int32_t *)v->data)[i];
	case QNPU_DTYPE_INT64:
		return (double)((const int64_t *)v->data)[i];
	}
	return 0;
}

/* double -> int without UB: saturated, NaN as 0. */
static int64_t d2i(double x, double lo, double hi)
{
	if (!(x == x))
		return 0;
	return (int64_t)(x < lo ? lo : x > hi ? hi : x);
}

static void cset(int dtype, void *d, size_t i, double x)
{
	switch (dtype) {
	case QNPU_DTYPE_FLOAT32:
		((float *)d)[i] = (float)x;
		break;
	case QNPU_DTYPE_UINT8:
		((uint8_t *)d)[i] = (uint8_t)d2i(x, -2147483648.0, 2147483647.0);
		break;
	case QNPU_DTYPE_INT8:
		((int8_t *)d)[i] = (int8_t)d2i(x, -2147483648.0, 2147483647.0);
		break;
	case QNPU_DTYPE_INT32:
		((int32_t *)d)[i] = (int32_t)d2i(x, -2147483648.0, 2147483647.0);
		break;
	case QNPU_DTYPE_INT64:
		((int64_t *)d)[i] = d2i(x, -9.2e18, 9.2e18);
		break;
	}
}

static bool is_q8(int dt)
{
	return dt == QNPU_DTYPE_UINT8 || dt == QNPU_DTYPE_INT8;
}

/* Define @o with @src's type and shape. */
static void like(struct onnx_val *o, const struct onnx_val *src)
{
	o->dtype = src->dtype;
	o->rank = src->rank;
	memcpy(o->shape, src->shape, sizeof(o->shape));
	o->count = src->count;
	o->defined = true;
}

static int set_shape32(struct onnx_val *o, int rank, const int32_t *s)
{
	int64_t d[QNPU_MAX_RANK];
	int i;

	for (i = 0; i < rank && i < QNPU_MAX_RANK; i++)
		d[i] = s[i];
	return onnx_set_shape(o, rank, d);
}

/* Quantization from constant scale and zero-point values onto tensor @t. */
static int set_quant(struct node *nd, int t, int sv, int zv, int axis)
{
	struct onnx_ctx *c = nd->c;
	struct qnpu_ir_tensor *tt = &c->g->tensors[t];
	const struct onnx_val *s = &c->v[sv];
	const struct onnx_val *z = zv >= 0 ? &c->v[zv] : NULL;
	size_t n = s->count, i;
	float *sc;
	int32_t *zp;

	if (!s->data || s->dtype != QNPU_DTYPE_FLOAT32 || !n ||
	    (z && (!z->data || z->count != n ||
		   (!is_q8(z->dtype) && z->dtype != QNPU_DTYPE_INT32))))
		return NFAIL(nd, -ENOTSUP,
			     "scale and zero point of '%s' must be constants of one size",
			     tt->name);
	if (n > 1 && (axis < 0 || axis >= tt->rank || tt->shape[axis] != (int32_t)n))
		return NFAIL(nd, -EINVAL, "%zu scales do not fit axis %d of '%s'",
			     n, axis, tt->name);
	if (tt->nq) {
		bool same = tt->nq == (int)n && (n == 1 || tt->qdim == axis);

		for (i = 0; same && i < n; i++)
			same = tt->scale[i] == ((const float *)s->data)[i] &&
			       tt->zero_point[i] == (z ? (int32_t)cval(z, i) : 0);
		if (!same)
			return NFAIL(nd, -ENOTSUP,
				     "tensor '%s' is quantized two ways", tt->name);
		return 0;
	}
	sc = malloc(n * sizeof(*sc));
	zp = malloc(n * sizeof(*zp));
	if (!sc || !zp) {
		free(sc);
		free(zp);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		sc[i] = ((const float *)s->data)[i];
		zp[i] = z ? (int32_t)cval(z, i) : 0;
		if (!(sc[i] > 0) || !isfinite(sc[i])) {
			free(sc);
			free(zp);
			return NFAIL(nd, -EINVAL, "scale %g of '%s' is not positive",
				     (double)((const float *)s->data)[i], tt->name);
		}
	}
	tt->scale = sc;
	tt->zero_point = zp;
	tt->nq = (int)n;
	tt->qdim = n > 1 ? axis : 0;
	return 0;
}

static int norm_axis(int64_t a, int rank)
{
	if (a < 0)
		a += rank;
	return a < 0 || a >= (rank ? rank : 1) ? -1 : (int)a;
}

/* ---- constants ---- */

/*
 * Room for a constant the importer computes (ConstantOfShape, Cast, DQ of
 * a constant): a file's own constants are bounded by its size, these are
 * not, so they share a budget.
 */
static int const_budget(struct node *nd, size_t bytes)
{
	nd->c->computed += bytes;
	if (nd->c->computed > ONNX_MAX_COMPUTED)
		return NFAIL(nd, -ENOTSUP, "constants computed at import exceed %u MiB",
			     ONNX_MAX_COMPUTED >> 20);
	return 0;
}

static int new_const(struct node *nd, int o, int dtype)
{
	struct onnx_val *v = &nd->c->v[o];
	void *d;
	int r = const_budget(nd, v->count * onnx_esize(dtype));

	if (r)
		return r;
	d = onnx_alloc(nd->c, v->count * onnx_esize(dtype));
	if (!d)
		return qnpu_err(-ENOMEM, "out of memory");
	v->dtype = dtype;
	v->data = d;
	v->defined = true;
	return 0;
}

static int do_constant(struct node *nd)
{
	const Onnx__AttributeProto *a;
	int o = out_v(nd, 0), r;
	struct onnx_val *v;
	size_t i;

	if (o < 0)
		return o;
	v = &nd->c->v[o];
	if ((a = onnx_attr(nd->n, "value")) && a->t)
		return onnx_const_from_proto(nd->c, o, a->t);
	if ((a = onnx_attr(nd->n, "value_float")) && a->has_f) {
		onnx_set_shape(v, 0, NULL);
		if ((r = new_const(nd, o, QNPU_DTYPE_FLOAT32)))
			return r;
		((float *)v->data)[0] = a->f;
		return 0;
	}
	if ((a = onnx_attr(nd->n, "value_int")) && a->has_i) {
		onnx_set_shape(v, 0, NULL);
		if ((r = new_const(nd, o, QNPU_DTYPE_INT64)))
			return r;
		((int64_t *)v->data)[0] = a->i;
		return 0;
	}
	if ((a = onnx_attr(nd->n, "value_floats")) ||
	    (a = onnx_attr(nd->n, "value_ints"))) {
		bool f = !strcmp(a->name, "value_floats");
		int64_t n = (int64_t)(f ? a->n_floats : a->n_ints);

		if ((r = onnx_set_shape(v, 1, &n)))
			return r;
		if ((r = new_const(nd, o, f ? QNPU_DTYPE_FLOAT32 :
				   QNPU_DTYPE_INT64)))
			return r;
		for (i = 0; i < (size_t)n; i++)
			cset(v->dtype, (void *)v->data, i,
			     f ? a->floats[i] : (double)a->ints[i]);
		return 0;
	}
	return NFAIL(nd, -ENOTSUP, "only tensor, float and int values are supported");
}

static int do_constant_of_shape(struct node *nd)
{
	int x = in_v(nd, 0), o = out_v(nd, 0), r;
	const Onnx__AttributeProto *a = onnx_attr(nd->n, "value");
	struct onnx_val *s, *v;
	double fill = 0;
	int dtype = QNPU_DTYPE_FLOAT32;
	int64_t dims[QNPU_MAX_RANK];
	size_t i;

	if (x < -1 || o < 0)
		return x < -1 ? x : o;
	if (x < 0 || !nd->c->v[x].data ||
	    nd->c->v[x].dtype != QNPU_DTYPE_INT64 ||
	    nd->c->v[x].count > QNPU_MAX_RANK)
		return NFAIL(nd, -ENOTSUP, "the shape must be a constant INT64 vector");
	s = &nd->c->v[x];
	v = &nd->c->v[o];
	if (a && a->t) {	/* parsed into v, then reshaped */
		if ((r = onnx_const_from_proto(nd->c, o, a->t)))
			return r;
		if (v->count != 1)
			return NFAIL(nd, -EINVAL, "value must have one element");
		fill = cval(v, 0);
		dtype = v->dtype;
	}
	for (i = 0; i < s->count; i++)
		dims[i] = ((const int64_t *)s->data)[i];
	if ((r = onnx_set_shape(v, (int)s->count, dims)))
		return r;
	if ((r = new_const(nd, o, dtype)))
		return r;
	for (i = 0; i < v->count; i++)
		cset(dtype, (void *)v->data, i, fill);
	return 0;
}

static int dtype_of_onnx(int64_t t)
{
	switch (t) {
	case 1: return QNPU_DTYPE_FLOAT32;
	case 2: return QNPU_DTYPE_UINT8;
	case 3: return QNPU_DTYPE_INT8;
	case 6: return QNPU_DTYPE_INT32;
	case 7: return QNPU_DTYPE_INT64;
	}
	return -1;
}

static void alias(struct onnx_val *o, const struct onnx_val *x)
{
	const char *name = o->name;
	int cons = o->consumers, last = o->last_consumer;

	*o = *x;
	o->name = name;
	o->consumers = cons;
	o->last_consumer = last;
}

static int do_cast(struct node *nd)
{
	int x = in_v(nd, 0), o = out_v(nd, 0), r, t;
	int to = dtype_of_onnx(onnx_attr_i(nd->n, "to", 0));
	struct onnx_val *xv, *ov;
	struct qnpu_ir_op *op;
	size_t i;

	if (x < 0 || o < 0)
		return x < 0 ? (x == -1 ? NFAIL(nd, -EINVAL, "no input") : x) : o;
	if (to < 0)
		return NFAIL(nd, -ENOTSUP, "cast to type %lld is not supported",
			     (long long)onnx_attr_i(nd->n, "to", 0));
	xv = &nd->c->v[x];
	ov = &nd->c->v[o];
	if (xv->dq_src < 0 && xv->dtype == to) {	/* PyTorch's no-op Casts */
		alias(ov, xv);
		return 0;
	}
	if (xv->data) {
		like(ov, xv);
		if ((r = new_const(nd, o, to)))
			return r;
		for (i = 0; i < xv->count; i++)
			cset(to, (void *)ov->data, i, cval(xv, i));
		return 0;
	}
	like(ov, xv);
	ov->dtype = to;
	if ((t = onnx_tensor(nd->c, x)) < 0)
		return t;
	if ((r = onnx_new_tensor(nd->c, o)) < 0)
		return r;
	op = onnx_new_op(nd->c, QNPU_ONNX_CAST, 1, 1);
	if (!op)
		return qnpu_err(-ENOMEM, "out of memory");
	op->in[0] = t;
	op->out[0] = r;
	op->opt.onnx.to = to;
	return 0;
}

static int do_identity(struct node *nd)
{
	int x = in_v(nd, 0), o = out_v(nd, 0);

	if (x < 0 || o < 0)
		return x < 0 ? (x == -1 ? NFAIL(nd, -EINVAL, "no input") : x) : o;
	alias(&nd->c->v[o], &nd->c->v[x]);
	return 0;
}

static int do_shape(struct node *nd)
{
	int x = in_v(nd, 0), o = out_v(nd, 0), r, i;
	struct onnx_val *v;
	int64_t n;

	if (x < 0 || o < 0)
		return x < 0 ? (x == -1 ? NFAIL(nd, -EINVAL, "no input") : x) : o;
	v = &nd->c->v[o];
	n = nd->c->v[x].rank;
	if ((r = onnx_set_shape(v, 1, &n)) || (r = new_const(nd, o, QNPU_DTYPE_INT64)))
		return r;
	for (i = 0; i < nd->c->v[x].rank; i++)
		((int64_t *)v->data)[i] = nd->c->v[x].shape[i];
	return 0;
}

/* ---- (de)quantization ---- */

static int do_dequantize(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int x = in_v(nd, 0), s = in_v(nd, 1), z = in_v(nd, 2), o = out_v(nd, 0);
	struct onnx_val *xv, *sv, *ov;
	int axis, t, tx, ts, tz;
	size_t i, inner = 1, nsc;

	if (x < 0 || s < 0 || z < -1 || o < 0)
		return x < -1 ? x : s < -1 ? s : z < -1 ? z : o < 0 ? o :
		       NFAIL(nd, -EINVAL, "needs x and x_scale");
	xv = &c->v[x];
	sv = &c->v[s];
	ov = &c->v[o];
	if (!is_q8(xv->dtype) && xv->dtype != QNPU_DTYPE_INT32)
		return NFAIL(nd, -ENOTSUP, "input type %s is not UINT8, INT8 or INT32",
			     qnpu_dtype_name((enum qnpu_dtype)xv->dtype));
	if (sv->dtype != QNPU_DTYPE_FLOAT32 ||
	    (z >= 0 && c->v[z].dtype != xv->dtype) ||
	    (z >= 0 && c->v[z].count != sv->count))
		return NFAIL(nd, -EINVAL, "scale must be FLOAT, zero point of x's type and scale's size");
	nsc = sv->count;
	axis = norm_axis(onnx_attr_i(nd->n, "axis", 1), xv->rank);
	/* A 1-element scale is per tensor whatever the axis (as ORT). */
	if (nsc > 1 && (axis < 0 || xv->shape[axis] != (int32_t)nsc))
		return NFAIL(nd, -EINVAL, "%zu scales do not fit axis %lld of the input",
			     nsc, (long long)onnx_attr_i(nd->n, "axis", 1));
	if (nsc == 1)
		axis = 0;
	like(ov, xv);
	ov->dtype = QNPU_DTYPE_FLOAT32;
	if (sv->data && (z < 0 || c->v[z].data)) {
		ov->dq_src = x;
		ov->dq_scale = s;
		ov->dq_zp = z;
		ov->dq_axis = axis;
	}
	if (xv->data && ov->dq_src >= 0) {
		/* A constant: its float values too, for float consumers. */
		float *d;

		if ((t = const_budget(nd, ov->count * sizeof(float))))
			return t;
		d = onnx_alloc(c, ov->count * sizeof(float));

		if (!d)
			return qnpu_err(-ENOMEM, "out of memory");
		for (i = axis + 1; nsc > 1 && i < (size_t)xv->rank; i++)
			inner *= (size_t)xv->shape[i];
		for (i = 0; i < ov->count; i++) {
			size_t a = nsc > 1 ? (i / inner) % nsc : 0;
			int32_t zp = z >= 0 ? (int32_t)cval(&c->v[z], a) : 0;

			d[i] = (float)((int32_t)cval(xv, i) - zp) *
			       ((const float *)sv->data)[a];
		}
		ov->data = (const uint8_t *)d;
		return 0;
	}
	if (ov->dq_src >= 0)
		return 0;	/* virtual until a consumer needs it */
	/* Scale computed by the graph: a DEQUANTIZE now. */
	tx = onnx_tensor(c, x);
	ts = onnx_tensor(c, s);
	tz = z >= 0 ? onnx_tensor(c, z) : -1;
	if (tx < 0 || ts < 0 || (z >= 0 && tz < 0))
		return tx < 0 ? tx : ts < 0 ? ts : tz;
	if ((t = onnx_new_tensor(c, o)) < 0)
		return t;
	return onnx_qdq_op(c, QNPU_ONNX_DEQUANTIZE, tx, ts, tz, t, axis);
}

static int do_quantize(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int x = in_v(nd, 0), s = in_v(nd, 1), z = in_v(nd, 2), o = out_v(nd, 0);
	struct onnx_val *xv, *sv, *ov;
	int axis, tx, ts, tz = -1, t, r;

	if (x < 0 || s < 0 || z < -1 || o < 0)
		return x < -1 ? x : s < -1 ? s : z < -1 ? z : o < 0 ? o :
		       NFAIL(nd, -EINVAL, "needs x and y_scale");
	xv = &c->v[x];
	sv = &c->v[s];
	ov = &c->v[o];
	if (xv->dtype != QNPU_DTYPE_FLOAT32 || sv->dtype != QNPU_DTYPE_FLOAT32)
		return NFAIL(nd, -ENOTSUP, "x and y_scale must be FLOAT");
	if (z >= 0 && (!is_q8(c->v[z].dtype) || c->v[z].count != sv->count))
		return NFAIL(nd, -ENOTSUP, "the zero point must be UINT8 or INT8, one per scale");
	axis = norm_axis(onnx_attr_i(nd->n, "axis", 1), xv->rank);
	if (sv->count > 1 && (axis < 0 || xv->shape[axis] != (int32_t)sv->count))
		return NFAIL(nd, -EINVAL, "%zu scales do not fit the axis", sv->count);
	if (sv->count == 1)
		axis = 0;
	like(ov, xv);
	ov->dtype = z >= 0 ? c->v[z].dtype : QNPU_DTYPE_UINT8;
	if ((tx = onnx_tensor(c, x)) < 0 || (ts = onnx_tensor(c, s)) < 0 ||
	    (z >= 0 && (tz = onnx_tensor(c, z)) < 0))
		return tx < 0 ? tx : ts < 0 ? ts : tz;
	if ((t = onnx_new_tensor(c, o)) < 0)
		return t;
	if (sv->data && (z < 0 || c->v[z].data) &&
	    (r = set_quant(nd, t, s, z, axis)))
		return r;
	return onnx_qdq_op(c, QNPU_ONNX_QUANTIZE, tx, ts, tz, t, axis);
}

static int do_dynamic_quantize(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int x = in_v(nd, 0), o[3], t[3], tx, i;
	struct qnpu_ir_op *op;

	if (x < 0)
		return x == -1 ? NFAIL(nd, -EINVAL, "no input") : x;
	if (c->v[x].dtype != QNPU_DTYPE_FLOAT32 || !c->v[x].count)
		return NFAIL(nd, -ENOTSUP, "x must be a FLOAT tensor");
	if ((tx = onnx_tensor(c, x)) < 0)
		return tx;
	for (i = 0; i < 3; i++) {
		if ((o[i] = out_v(nd, (size_t)i)) < 0)
			return o[i];
		if (i == 0) {
			like(&c->v[o[0]], &c->v[x]);
		} else {
			onnx_set_shape(&c->v[o[i]], 0, NULL);
			c->v[o[i]].defined = true;
		}
		c->v[o[i]].dtype = i == 1 ? QNPU_DTYPE_FLOAT32 : QNPU_DTYPE_UINT8;
		if ((t[i] = onnx_new_tensor(c, o[i])) < 0)
			return t[i];
	}
	op = onnx_new_op(c, QNPU_ONNX_DYNAMIC_QUANTIZE, 1, 3);
	if (!op)
		return qnpu_err(-ENOMEM, "out of memory");
	op->in[0] = tx;
	for (i = 0; i < 3; i++)
		op->out[i] = t[i];
	return 0;
}

/* ---- geometry ---- */

static int ints_attr(const Onnx__NodeProto *n, const char *name, size_t want,
		     int32_t *dst, int32_t def)
{
	const Onnx__AttributeProto *a = onnx_attr(n, name);
	size_t i;

	for (i = 0; i < want; i++)
		dst[i] = def;
	if (!a || !a->n_ints)
		return 0;
	if (a->n_ints != want)
		return -1;
	for (i = 0; i < want; i++) {
		if (a->ints[i] < 0 || a->ints[i] > 65536)
			return -1;
		dst[i] = (int32_t)a->ints[i];
	}
	return 0;
}

/*
 * Conv / pool attributes for a 4-D NCHW input and a kh x kw kernel: the
 * output's height and width; pads resolved from auto_pad.
 */
static int window(struct node *nd, struct qnpu_ir_op *op, const int32_t *xs,
		  int32_t kh, int32_t kw, bool dilations, int32_t *oh,
		  int32_t *ow)
{
	const Onnx__AttributeProto *ap = onnx_attr(nd->n, "auto_pad");
	const char *pad = ap && ap->has_s ? (const char *)ap->s.data : NULL;
	size_t plen = ap && ap->has_s ? ap->s.len : 0;
	int32_t *st = op->opt.onnx.stride, *dl = op->opt.onnx.dilation;
	int32_t *p = op->opt.onnx.pad;
	int i;

	op->opt.onnx.kernel[0] = kh;
	op->opt.onnx.kernel[1] = kw;
	if (ints_attr(nd->n, "strides", 2, st, 1) ||
	    ints_attr(nd->n, "dilations", 2, dl, 1) ||
	    ints_attr(nd->n, "pads", 4, p, 0) || !st[0] || !st[1] ||
	    !dl[0] || !dl[1] || (!dilations && (dl[0] != 1 || dl[1] != 1)))
		return NFAIL(nd, -ENOTSUP, "strides, dilations or pads are not 2-D and positive");
	if (onnx_attr_i(nd->n, "ceil_mode", 0))
		return NFAIL(nd, -ENOTSUP, "ceil_mode is not supported");
	for (i = 0; i < 2; i++) {
		int32_t in = xs[2 + i], k = (i ? kw : kh) - 1;
		int64_t ek = (int64_t)k * dl[i] + 1, o;

		if (plen && !(plen == 6 && !memcmp(pad, "NOTSET", 6))) {
			if (plen == 5 && !memcmp(pad, "VALID", 5)) {
				p[i] = p[i + 2] = 0;
			} else if (plen >= 10 && !memcmp(pad, "SAME_", 5)) {
				int64_t out = (in + st[i] - 1) / st[i];
				int64_t tot = (out - 1) * st[i] + ek - in;

				if (tot < 0)
					tot = 0;
				p[i] = (int32_t)(pad[5] == 'U' ? tot / 2 : tot - tot / 2);
				p[i + 2] = (int32_t)(tot - p[i]);
			} else {
				return NFAIL(nd, -ENOTSUP, "auto_pad %.*s is not supported",
					     (int)plen, pad);
			}
		}
		o = ((int64_t)in + p[i] + p[i + 2] - ek) / st[i] + 1;
		if (ek > (int64_t)in + p[i] + p[i + 2] || o < 1 || o > 65536 ||
		    p[i] >= ek || p[i + 2] >= ek)
			return NFAIL(nd, -EINVAL, "the window does not fit the %dx%d input",
				     xs[2], xs[3]);
		*(i ? ow : oh) = (int32_t)o;
	}
	return 0;
}

/* ---- folding of QDQ groups ---- */

struct qdq_tail {
	int q;			/* QuantizeLinear node */
	int y;			/* its output value */
	int scale, zp;		/* its constants */
	float lo, hi;		/* Relu / Clip on the way */
	int skipped[2];		/* Relu / Clip nodes */
	int nskipped;
};

/* The one node reading value @vi, or -1. */
static int sole_consumer(struct onnx_ctx *c, int vi)
{
	return c->v[vi].consumers == 1 ? c->v[vi].last_consumer : -1;
}

static bool const_scalar(struct onnx_ctx *c, const Onnx__NodeProto *n,
			 size_t i, float *f)
{
	int vi;

	if (i >= n->n_input || !n->input[i][0])
		return true;
	vi = onnx_find(c, n->input[i]);
	if (vi < 0 || !c->v[vi].data || c->v[vi].count != 1 ||
	    c->v[vi].dtype != QNPU_DTYPE_FLOAT32)
		return false;
	*f = ((const float *)c->v[vi].data)[0];
	return true;
}

/* @vi [-> Relu/Clip] -> QuantizeLinear with constant per-tensor params. */
static bool find_tail(struct onnx_ctx *c, int vi, struct qdq_tail *t)
{
	int k, ni;

	t->lo = -INFINITY;
	t->hi = INFINITY;
	t->nskipped = 0;
	for (k = 0; k < 3; k++) {
		const Onnx__NodeProto *n;

		ni = sole_consumer(c, vi);
		if (ni < 0)
			return false;
		n = c->gp->node[ni];
		if (n->n_input < 1 || strcmp(n->input[0], c->v[vi].name) ||
		    n->n_output < 1 || (n->domain && n->domain[0] &&
					strcmp(n->domain, "ai.onnx")))
			return false;
		if (!strcmp(n->op_type, "QuantizeLinear")) {
			int s = n->n_input > 1 ? onnx_find(c, n->input[1]) : -1;
			int z = n->n_input > 2 && n->input[2][0] ?
				onnx_find(c, n->input[2]) : -1;

			if (s < 0 || !c->v[s].defined || !c->v[s].data ||
			    c->v[s].count != 1 ||
			    c->v[s].dtype != QNPU_DTYPE_FLOAT32 ||
			    (z >= 0 && (!c->v[z].defined || !c->v[z].data ||
					c->v[z].count != 1 ||
					!is_q8(c->v[z].dtype))) ||
			    (n->n_input > 2 && n->input[2][0] && z < 0))
				return false;
			t->q = ni;
			t->y = onnx_find(c, n->output[0]);
			t->scale = s;
			t->zp = z;
			return t->y >= 0 && !c->v[t->y].defined;
		}
		if (k == 2 || n->n_output != 1)
			return false;
		if (!strcmp(n->op_type, "Relu")) {
			t->lo = fmaxf(t->lo, 0);
		} else if (!strcmp(n->op_type, "Clip")) {
			float lo = -INFINITY, hi = INFINITY;

			if (c->opset < 11) {
				lo = onnx_attr_f(n, "min", lo);
				hi = onnx_attr_f(n, "max", hi);
			} else if (!const_scalar(c, n, 1, &lo) ||
				   !const_scalar(c, n, 2, &hi)) {
				return false;
			}
			t->lo = fmaxf(t->lo, lo);
			t->hi = fminf(t->hi, hi);
		} else {
			return false;
		}
		t->skipped[t->nskipped++] = ni;
		vi = onnx_find(c, n->output[0]);
		if (vi < 0)
			return false;
	}
	return false;
}

/* A DQ value whose source is an activation (or constant) of UINT8/INT8. */
static bool dq8(struct onnx_ctx *c, int vi, bool per_tensor, bool constant)
{
	const struct onnx_val *v;

	if (vi < 0)
		return false;
	v = &c->v[vi];
	if (v->dq_src < 0 || !is_q8(c->v[v->dq_src].dtype))
		return false;
	if (per_tensor && c->v[v->dq_scale].count != 1)
		return false;
	return constant == (c->v[v->dq_src].data != NULL);
}

/* The IR tensor of DQ value @vi's source, quantized as the DQ says. */
static int dq_tensor(struct node *nd, int vi)
{
	const struct onnx_val *v = &nd->c->v[vi];
	int t = onnx_tensor(nd->c, v->dq_src), r;

	if (t < 0)
		return t;
	r = set_quant(nd, t, v->dq_scale, v->dq_zp, v->dq_axis);
	return r ? r : t;
}

/* The folded operator's output: the QuantizeLinear's value. */
static int tail_tensor(struct node *nd, const struct qdq_tail *tl, int rank,
		       const int32_t *shape, struct qnpu_ir_op *op)
{
	struct onnx_ctx *c = nd->c;
	struct onnx_val *y = &c->v[tl->y];
	int t, r, i;

	if ((r = set_shape32(y, rank, shape)))
		return r;
	y->dtype = tl->zp >= 0 ? c->v[tl->zp].dtype : QNPU_DTYPE_UINT8;
	y->defined = true;
	if ((t = onnx_new_tensor(c, tl->y)) < 0)
		return t;
	if ((r = set_quant(nd, t, tl->scale, tl->zp, 0)))
		return r;
	op->out[0] = t;
	op->opt.onnx.lo = tl->lo;
	op->opt.onnx.hi = tl->hi;
	c->node_done[tl->q] = true;
	for (i = 0; i < tl->nskipped; i++)
		c->node_done[tl->skipped[i]] = true;
	return t;
}

/* An int32 bias DQ of zero zero point, one value per output channel. */
static bool bias_ok(struct onnx_ctx *c, int b, int32_t channels)
{
	const struct onnx_val *v, *src;
	size_t i;

	if (b < 0)
		return true;
	v = &c->v[b];
	if (v->dq_src < 0)
		return false;
	src = &c->v[v->dq_src];
	if (!src->data || src->dtype != QNPU_DTYPE_INT32 ||
	    src->count != (size_t)channels)
		return false;
	for (i = 0; v->dq_zp >= 0 && i < c->v[v->dq_zp].count; i++)
		if (cval(&c->v[v->dq_zp], i) != 0)
			return false;
	return true;
}

/* ---- convolution ---- */

/* Common Conv checks; fills op geometry and the output shape. */
static int conv_geom(struct node *nd, struct qnpu_ir_op *op,
		     const struct onnx_val *x, const struct onnx_val *w,
		     int32_t *ys)
{
	int64_t group = onnx_attr_i(nd->n, "group", 1);
	int32_t ks[2];

	if (x->rank != 4 || w->rank != 4)
		return NFAIL(nd, -ENOTSUP, "only 2-D convolutions (4-D input and weight) are supported");
	if (group < 1 || x->shape[1] % group || w->shape[0] % group ||
	    w->shape[1] * group != x->shape[1])
		return NFAIL(nd, -EINVAL, "group %lld does not fit %d input and %d output channels",
			     (long long)group, x->shape[1], w->shape[0]);
	if (ints_attr(nd->n, "kernel_shape", 2, ks, 0) ||
	    (ks[0] && (ks[0] != w->shape[2] || ks[1] != w->shape[3])))
		return NFAIL(nd, -EINVAL, "kernel_shape differs from the weight's");
	op->opt.onnx.group = (int32_t)group;
	ys[0] = x->shape[0];
	ys[1] = w->shape[0];
	return window(nd, op, x->shape, w->shape[2], w->shape[3], true, &ys[2],
		      &ys[3]);
}

static int emit_qconv(struct node *nd, int builtin, int x, int w, int b,
		      const struct qdq_tail *tl)
{
	struct onnx_ctx *c = nd->c;
	struct qnpu_ir_op *op;
	int32_t ys[4];
	int r, tx, tw, tb = -1;

	op = onnx_new_op(c, builtin, 3, 1);
	if (!op)
		return qnpu_err(-ENOMEM, "out of memory");
	r = conv_geom(nd, op, &c->v[c->v[x].dq_src], &c->v[c->v[w].dq_src], ys);
	if (r)
		return r;
	if ((tx = dq_tensor(nd, x)) < 0 || (tw = dq_tensor(nd, w)) < 0)
		return tx < 0 ? tx : tw;
	if (b >= 0 && (tb = onnx_tensor(c, c->v[b].dq_src)) < 0)
		return tb;
	op = &c->g->ops[c->g->nops - 1];
	op->in[0] = tx;
	op->in[1] = tw;
	op->in[2] = tb;
	r = tail_tensor(nd, tl, 4, ys, op);
	return r < 0 ? r : 0;
}

/* ---- float operators ---- */

/* Inputs @ins as IR tensors (DEQUANTIZE where a DQ is read in float). */
static struct qnpu_ir_op *float_op(struct node *nd, int builtin, const int *ins,
				   int nin, int *err)
{
	int t[8], i;
	struct qnpu_ir_op *op;

	for (i = 0; i < nin; i++) {
		t[i] = ins[i] >= 0 ? onnx_tensor(nd->c, ins[i]) : -1;
		if (ins[i] >= 0 && t[i] < 0) {
			*err = t[i];
			return NULL;
		}
	}
	op = onnx_new_op(nd->c, builtin, nin, 1);
	if (!op) {
		*err = qnpu_err(-ENOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < nin; i++)
		op->in[i] = t[i];
	return op;
}

static int float_out(struct node *nd, struct qnpu_ir_op *op, int dtype,
		     int rank, const int32_t *shape)
{
	int o = out_v(nd, 0), r, t;

	if (o < 0)
		return o;
	if ((r = set_shape32(&nd->c->v[o], rank, shape)))
		return r;
	nd->c->v[o].dtype = dtype;
	nd->c->v[o].defined = true;
	if ((t = onnx_new_tensor(nd->c, o)) < 0)
		return t;
	op = &nd->c->g->ops[op->index];
	op->out[0] = t;
	return 0;
}

static bool all_float(struct onnx_ctx *c, const int *ins, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ins[i] >= 0 && c->v[ins[i]].dtype != QNPU_DTYPE_FLOAT32)
			return false;
	return true;
}

static int do_conv(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int in[3] = { in_v(nd, 0), in_v(nd, 1), in_v(nd, 2) }, o, r;
	struct qdq_tail tl;
	struct qnpu_ir_op *op;
	int32_t ys[4];

	if (in[0] < 0 || in[1] < 0 || in[2] < -1)
		return in[0] < -1 ? in[0] : in[1] < -1 ? in[1] : in[2] < -1 ?
		       in[2] : NFAIL(nd, -EINVAL, "needs X and W");
	o = out_v(nd, 0);
	if (o < 0)
		return o;
	if (dq8(c, in[0], true, false) && dq8(c, in[1], false, true) &&
	    (c->v[c->v[in[1]].dq_scale].count == 1 ||
	     c->v[in[1]].dq_axis == 0) &&
	    bias_ok(c, in[2], c->v[in[1]].shape[0]) && find_tail(c, o, &tl))
		return emit_qconv(nd, QNPU_ONNX_QLINEAR_CONV, in[0], in[1],
				  in[2], &tl);
	if (!all_float(c, in, 3))
		return NFAIL(nd, -ENOTSUP, "inputs must be FLOAT (or a foldable QDQ group)");
	op = float_op(nd, QNPU_ONNX_CONV, in, 3, &r);
	if (!op)
		return r;
	if ((r = conv_geom(nd, op, &c->v[in[0]], &c->v[in[1]], ys)))
		return r;
	if (in[2] >= 0 && c->v[in[2]].count != (size_t)ys[1])
		return NFAIL(nd, -EINVAL, "bias has %zu values for %d channels",
			     c->v[in[2]].count, ys[1]);
	return float_out(nd, op, QNPU_DTYPE_FLOAT32, 4, ys);
}

/* QLinearConv: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B. */
static int do_qlinear_conv(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int v[9], i, o, r, tx, tw, tb = -1, t;
	struct qnpu_ir_op *op;
	int32_t ys[4];

	for (i = 0; i < 9; i++)
		if ((v[i] = in_v(nd, (size_t)i)) < -1)
			return v[i];
	if (v[0] < 0 || v[1] < 0 || v[3] < 0 || v[4] < 0 || v[6] < 0)
		return NFAIL(nd, -EINVAL, "needs x, x_scale, w, w_scale, y_scale");
	if ((o = out_v(nd, 0)) < 0)
		return o;
	if (!is_q8(c->v[v[0]].dtype) || !is_q8(c->v[v[3]].dtype) ||
	    (v[8] >= 0 && (c->v[v[8]].dtype != QNPU_DTYPE_INT32 ||
			   !c->v[v[8]].data)))
		return NFAIL(nd, -ENOTSUP, "x and w must be UINT8/INT8, B a constant INT32");
	if (!c->v[v[3]].data)
		return NFAIL(nd, -ENOTSUP, "the weights must be a constant");
	op = onnx_new_op(c, QNPU_ONNX_QLINEAR_CONV, 3, 1);
	if (!op)
		return qnpu_err(-ENOMEM, "out of memory");
	if ((r = conv_geom(nd, op, &c->v[v[0]], &c->v[v[3]], ys)))
		return r;
	if (v[8] >= 0 && c->v[v[8]].count != (size_t)ys[1])
		return NFAIL(nd, -EINVAL, "B has %zu values for %d channels",
			     c->v[v[8]].count, ys[1]);
	if ((tx = onnx_tensor(c, v[0])) < 0 || (tw = onnx_tensor(c, v[3])) < 0 ||
	    (v[8] >= 0 && (tb = onnx_tensor(c, v[8])) < 0))
		return tx < 0 ? tx : tw < 0 ? tw : tb;
	if ((r = set_quant(nd, tx, v[1], v[2], 0)) ||
	    (r = set_quant(nd, tw, v[4], v[5], 0)))
		return r;
	c->v[o].dtype = v[7] >= 0 ? c->v[v[7]].dtype : QNPU_DTYPE_UINT8;
	if ((r = set_shape32(&c->v[o], 4, ys)))
		return r;
	c->v[o].defined = true;
	if ((t = onnx_new_tensor(c, o)) < 0)
		return t;
	if ((r = set_quant(nd, t, v[6], v[7], 0)))
		return r;
	op = &c->g->ops[c->g->nops - 1];
	op->in[0] = tx;
	op->in[1] = tw;
	op->in[2] = tb;
	op->out[0] = t;
	return 0;
}

/* ConvInteger / MatMulInteger: x, w, x_zp, w_zp -> INT32. */
static int do_integer(struct node *nd, bool conv)
{
	struct onnx_ctx *c = nd->c;
	int v[4], i, o, t[4], r;
	struct qnpu_ir_op *op;
	int32_t ys[QNPU_MAX_RANK];
	int rank = 4;

	for (i = 0; i < 4; i++)
		if ((v[i] = in_v(nd, (size_t)i)) < -1)
			return v[i];
	if (v[0] < 0 || v[1] < 0)
		return NFAIL(nd, -EINVAL, "needs two inputs");
	if ((o = out_v(nd, 0)) < 0)
		return o;
	for (i = 0; i < 4; i++)
		if (v[i] >= 0 && (!is_q8(c->v[v[i]].dtype) ||
				  (i >= 2 && !c->v[v[i]].data)))
			return NFAIL(nd, -ENOTSUP, "inputs must be UINT8/INT8, zero points constant");
	op = onnx_new_op(c, conv ? QNPU_ONNX_CONV_INTEGER :
			 QNPU_ONNX_MATMUL_INTEGER, 4, 1);
	if (!op)
		return qnpu_err(-ENOMEM, "out of memory");
	if (conv) {
		if ((r = conv_geom(nd, op, &c->v[v[0]], &c->v[v[1]], ys)))
			return r;
	} else {
		const struct onnx_val *a = &c->v[v[0]], *b = &c->v[v[1]];

		if (a->rank < 2 || b->rank < 2 || b->rank > a->rank ||
		    a->shape[a->rank - 1] != b->shape[b->rank - 2] ||
		    (b->rank > 2 && (b->rank != a->rank ||
				     memcmp(a->shape, b->shape,
					    (size_t)(a->rank - 2) * 4))))
			return NFAIL(nd, -ENOTSUP, "shapes do not multiply (or need broadcasting)");
		rank = a->rank;
		memcpy(ys, a->shape, sizeof(ys));
		ys[rank - 1] = b->shape[b->rank - 1];
	}
	for (i = 0; i < 4; i++)
		if (v[i] >= 0 && (t[i] = onnx_tensor(c, v[i])) < 0)
			return t[i];
	op = &c->g->ops[c->g->nops - 1];
	for (i = 0; i < 4; i++)
		op->in[i] = v[i] >= 0 ? t[i] : -1;
	return float_out(nd, op, QNPU_DTYPE_INT32, rank, ys);
}

/* ---- matrix products ---- */

/* MatMul's output shape for a [.., M, K] x [K, N] or same-batch [.., K, N]. */
static int mm_shape(struct node *nd, const struct onnx_val *a,
		    const struct onnx_val *b, int32_t *ys)
{
	if (a->rank < 2 || b->rank < 2 || b->rank > a->rank ||
	    a->shape[a->rank - 1] != b->shape[b->rank - 2] ||
	    (b->rank > 2 && (b->rank != a->rank ||
			     memcmp(a->shape, b->shape,
				    (size_t)(a->rank - 2) * 4))))
		return NFAIL(nd, -ENOTSUP, "shapes do not multiply (or need broadcasting)");
	memcpy(ys, a->shape, sizeof(int32_t) * QNPU_MAX_RANK);
	ys[a->rank - 1] = b->shape[b->rank - 1];
	return 0;
}

static int do_gemm(struct node *nd, bool gemm)
{
	struct onnx_ctx *c = nd->c;
	int in[3] = { in_v(nd, 0), in_v(nd, 1), gemm ? in_v(nd, 2) : -1 };
	int ta = (int)onnx_attr_i(nd->n, "transA", 0);
	int tb = (int)onnx_attr_i(nd->n, "transB", 0), o, r;
	float alpha = onnx_attr_f(nd->n, "alpha", 1), beta = onnx_attr_f(nd->n, "beta", 1);
	struct qdq_tail tl;
	struct qnpu_ir_op *op;
	int32_t ys[QNPU_MAX_RANK];
	int rank = 2;

	if (in[0] < 0 || in[1] < 0 || in[2] < -1)
		return in[0] < -1 ? in[0] : in[1] < -1 ? in[1] : in[2] < -1 ?
		       in[2] : NFAIL(nd, -EINVAL, "needs A and B");
	if ((o = out_v(nd, 0)) < 0)
		return o;
	if (gemm) {
		const struct onnx_val *a = &c->v[in[0]], *b = &c->v[in[1]];

		if (a->rank != 2 || b->rank != 2 ||
		    a->shape[ta ? 0 : 1] != b->shape[tb ? 1 : 0])
			return NFAIL(nd, -EINVAL, "A and B are not 2-D matrices that multiply");
		ys[0] = a->shape[ta ? 1 : 0];
		ys[1] = b->shape[tb ? 0 : 1];
	} else if ((r = mm_shape(nd, &c->v[in[0]], &c->v[in[1]], ys))) {
		return r;
	} else {
		rank = c->v[in[0]].rank;
	}
	if (in[2] >= 0) {
		const struct onnx_val *cv = &c->v[in[2]];
		size_t n = cv->count;

		if (!(n == 1 || (n == (size_t)ys[1] && cv->shape[cv->rank - 1] == ys[1]) ||
		      (n == (size_t)ys[0] * ys[1] && cv->rank == 2)))
			return NFAIL(nd, -ENOTSUP, "C of %zu values does not broadcast to %dx%d",
				     n, ys[0], ys[1]);
	}
	/* QDQ: activation A, constant B per tensor or per column, int32 C. */
	if (dq8(c, in[0], true, false) && dq8(c, in[1], false, true) &&
	    c->v[in[1]].rank == 2 && !ta && alpha == 1 && (!gemm || beta == 1 || in[2] < 0) &&
	    (c->v[c->v[in[1]].dq_scale].count == 1 ||
	     c->v[in[1]].dq_axis == (tb ? 0 : 1)) &&
	    bias_ok(c, in[2], ys[rank - 1]) && find_tail(c, o, &tl)) {
		int t0, t1, t2 = -1;

		op = onnx_new_op(c, QNPU_ONNX_QLINEAR_MATMUL, 3, 1);
		if (!op)
			return qnpu_err(-ENOMEM, "out of memory");
		op->opt.onnx.trans_b = tb;
		if ((t0 = dq_tensor(nd, in[0])) < 0 || (t1 = dq_tensor(nd, in[1])) < 0 ||
		    (in[2] >= 0 && (t2 = onnx_tensor(c, c->v[in[2]].dq_src)) < 0))
			return t0 < 0 ? t0 : t1 < 0 ? t1 : t2;
		op = &c->g->ops[c->g->nops - 1];
		op->in[0] = t0;
		op->in[1] = t1;
		op->in[2] = t2;
		r = tail_tensor(nd, &tl, rank, ys, op);
		return r < 0 ? r : 0;
	}
	if (!all_float(c, in, 3))
		return NFAIL(nd, -ENOTSUP, "inputs must be FLOAT (or a foldable QDQ group)");
	op = float_op(nd, QNPU_ONNX_GEMM, in, 3, &r);
	if (!op)
		return r;
	op->opt.onnx.trans_a = ta;
	op->opt.onnx.trans_b = tb;
	op->opt.onnx.alpha = alpha;
	op->opt.onnx.beta = beta;
	return float_out(nd, op, QNPU_DTYPE_FLOAT32, rank, ys);
}

/* QLinearMatMul: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp. */
static int do_qlinear_matmul(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int v[8], i, o, r, ta, tb, t;
	struct qnpu_ir_op *op;
	int32_t ys[QNPU_MAX_RANK];

	for (i = 0; i < 8; i++)
		if ((v[i] = in_v(nd, (size_t)i)) < 0)
			return v[i] == -1 ? NFAIL(nd, -EINVAL, "needs 8 inputs") : v[i];
	if ((o = out_v(nd, 0)) < 0)
		return o;
	if (!is_q8(c->v[v[0]].dtype) || !is_q8(c->v[v[3]].dtype) ||
	    !is_q8(c->v[v[7]].dtype))
		return NFAIL(nd, -ENOTSUP, "a, b and y must be UINT8/INT8");
	if ((r = mm_shape(nd, &c->v[v[0]], &c->v[v[3]], ys)))
		return r;
	op = onnx_new_op(c, QNPU_ONNX_QLINEAR_MATMUL, 3, 1);
	if (!op)
		return qnpu_err(-ENOMEM, "out of memory");
	if ((ta = onnx_tensor(c, v[0])) < 0 || (tb = onnx_tensor(c, v[3])) < 0)
		return ta < 0 ? ta : tb;
	if ((r = set_quant(nd, ta, v[1], v[2], 0)) ||
	    (r = set_quant(nd, tb, v[4], v[5], c->v[v[3]].rank - 1)))
		return r;
	c->v[o].dtype = c->v[v[7]].dtype;
	if ((r = set_shape32(&c->v[o], c->v[v[0]].rank, ys)))
		return r;
	c->v[o].defined = true;
	if ((t = onnx_new_tensor(c, o)) < 0)
		return t;
	if ((r = set_quant(nd, t, v[6], v[7], 0)))
		return r;
	op = &c->g->ops[c->g->nops - 1];
	op->in[0] = ta;
	op->in[1] = tb;
	op->out[0] = t;
	return 0;
}

/* ---- elementwise ---- */

static int bcast_shape(struct node *nd, const struct onnx_val *a,
		       const struct onnx_val *b, int32_t *ys, int *rank)
{
	int r = a->rank > b->rank ? a->rank : b->rank, i;

	for (i = 0; i < r; i++) {
		int ia = i - (r - a->rank), ib = i - (r - b->rank);
		int32_t da = ia >= 0 ? a->shape[ia] : 1;
		int32_t db = ib >= 0 ? b->shape[ib] : 1;

		if (da != db && da != 1 && db != 1)
			return NFAIL(nd, -EINVAL, "shapes do not broadcast");
		ys[i] = da == 1 ? db : da;
	}
	*rank = r;
	return 0;
}

static int binary_fn(const char *op)
{
	static const char *const names[] = { "Add", "Sub", "Mul", "Div",
					     "Min", "Max" };
	int i;

	for (i = 0; i < 6; i++)
		if (!strcmp(op, names[i]))
			return i;
	return -1;
}

static int do_binary(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int in[2] = { in_v(nd, 0), in_v(nd, 1) }, o, r, rank = 0;
	int fn = binary_fn(nd->n->op_type);
	struct qdq_tail tl;
	struct qnpu_ir_op *op;
	int32_t ys[QNPU_MAX_RANK];

	if (in[0] < 0 || in[1] < 0 || nd->n->n_input != 2)
		return in[0] < -1 ? in[0] : in[1] < -1 ? in[1] :
		       NFAIL(nd, -ENOTSUP, "takes two inputs here");
	if ((o = out_v(nd, 0)) < 0)
		return o;
	if ((r = bcast_shape(nd, &c->v[in[0]], &c->v[in[1]], ys, &rank)))
		return r;
	if (fn == QNPU_ONNX_FN_ADD && dq8(c, in[0], true, false) &&
	    (dq8(c, in[1], true, false) || dq8(c, in[1], true, true)) &&
	    find_tail(c, o, &tl)) {
		int t0, t1;

		op = onnx_new_op(c, QNPU_ONNX_QLINEAR_ADD, 2, 1);
		if (!op)
			return qnpu_err(-ENOMEM, "out of memory");
		if ((t0 = dq_tensor(nd, in[0])) < 0 || (t1 = dq_tensor(nd, in[1])) < 0)
			return t0 < 0 ? t0 : t1;
		op = &c->g->ops[c->g->nops - 1];
		op->in[0] = t0;
		op->in[1] = t1;
		r = tail_tensor(nd, &tl, rank, ys, op);
		return r < 0 ? r : 0;
	}
	if (!all_float(c, in, 2))
		return NFAIL(nd, -ENOTSUP, "inputs must be FLOAT (or a foldable QDQ group)");
	op = float_op(nd, QNPU_ONNX_BINARY, in, 2, &r);
	if (!op)
		return r;
	op->opt.onnx.fn = fn;
	return float_out(nd, op, QNPU_DTYPE_FLOAT32, rank, ys);
}

static int do_unary(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int x = in_v(nd, 0), r;
	struct qnpu_ir_op *op;
	float lo = -INFINITY, hi = INFINITY;
	const char *t = nd->n->op_type;

	if (x < 0)
		return x == -1 ? NFAIL(nd, -EINVAL, "no input") : x;
	if (!strcmp(t, "Relu")) {
		lo = 0;
	} else if (!strcmp(t, "Clip")) {
		if (c->opset < 11) {
			lo = onnx_attr_f(nd->n, "min", lo);
			hi = onnx_attr_f(nd->n, "max", hi);
		} else if (!const_scalar(c, nd->n, 1, &lo) ||
			   !const_scalar(c, nd->n, 2, &hi)) {
			return NFAIL(nd, -ENOTSUP, "min and max must be constant scalars");
		}
	}
	if (!all_float(c, &x, 1))
		return NFAIL(nd, -ENOTSUP, "the input must be FLOAT (or in a foldable QDQ group)");
	op = float_op(nd, QNPU_ONNX_UNARY, &x, 1, &r);
	if (!op)
		return r;
	op->opt.onnx.fn = !strcmp(t, "Round") ? QNPU_ONNX_FN_ROUND :
			  QNPU_ONNX_FN_CLIP;
	op->opt.onnx.lo = lo;
	op->opt.onnx.hi = hi;
	return float_out(nd, op, QNPU_DTYPE_FLOAT32, c->v[x].rank,
			 c->v[x].shape);
}

static int do_reduce(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int x = in_v(nd, 0), r, i;
	const Onnx__AttributeProto *axes = onnx_attr(nd->n, "axes");
	bool keep = onnx_attr_i(nd->n, "keepdims", 1) != 0;
	struct qnpu_ir_op *op;
	int32_t ys[QNPU_MAX_RANK];

	if (x < 0)
		return x == -1 ? NFAIL(nd, -EINVAL, "no input") : x;
	if ((axes && axes->n_ints != (size_t)c->v[x].rank) ||
	    nd->n->n_input > 1 || !c->v[x].count)
		return NFAIL(nd, -ENOTSUP, "only reductions over all axes are supported");
	if (!all_float(c, &x, 1))
		return NFAIL(nd, -ENOTSUP, "the input must be FLOAT");
	op = float_op(nd, QNPU_ONNX_REDUCE, &x, 1, &r);
	if (!op)
		return r;
	op->opt.onnx.fn = strcmp(nd->n->op_type, "ReduceMin") ?
			  QNPU_ONNX_FN_MAX : QNPU_ONNX_FN_MIN;
	for (i = 0; i < c->v[x].rank; i++)
		ys[i] = 1;
	return float_out(nd, op, QNPU_DTYPE_FLOAT32, keep ? c->v[x].rank : 0, ys);
}

/* ---- pooling, shape ops, softmax ---- */

/* Same scale, zero point and type on both sides: integer op, no requant. */
static bool same_q(struct onnx_ctx *c, int dq, const struct qdq_tail *tl)
{
	const struct onnx_val *v = &c->v[dq];
	int zt = tl->zp >= 0 ? c->v[tl->zp].dtype : QNPU_DTYPE_UINT8;
	double zq = tl->zp >= 0 ? cval(&c->v[tl->zp], 0) : 0;
	double zd = v->dq_zp >= 0 ? cval(&c->v[v->dq_zp], 0) : 0;

	return zt == c->v[v->dq_src].dtype && zq == zd &&
	       ((const float *)c->v[tl->scale].data)[0] ==
	       ((const float *)c->v[v->dq_scale].data)[0] &&
	       tl->lo == -INFINITY && tl->hi == INFINITY;
}

static int do_pool(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	const char *t = nd->n->op_type;
	bool global = !strncmp(t, "Global", 6), avg = strstr(t, "Average") != NULL;
	int x = in_v(nd, 0), o, r;
	const struct onnx_val *xv;
	struct qdq_tail tl;
	struct qnpu_ir_op *op;
	int32_t ys[4], ks[2];
	int builtin;

	if (x < 0)
		return x == -1 ? NFAIL(nd, -EINVAL, "no input") : x;
	if ((o = out_v(nd, 0)) < 0)
		return o;
	if (nd->n->n_output > 1)
		return NFAIL(nd, -ENOTSUP, "the Indices output is not supported");
	xv = c->v[x].dq_src >= 0 ? &c->v[c->v[x].dq_src] : &c->v[x];
	if (xv->rank != 4)
		return NFAIL(nd, -ENOTSUP, "only 2-D pooling of 4-D inputs is supported");
	if (onnx_attr_i(nd->n, "storage_order", 0))
		return NFAIL(nd, -ENOTSUP, "storage_order 1 is not supported");
	if (global) {
		ks[0] = xv->shape[2];
		ks[1] = xv->shape[3];
	} else if (ints_attr(nd->n, "kernel_shape", 2, ks, 0) || !ks[0] || !ks[1]) {
		return NFAIL(nd, -EINVAL, "kernel_shape must be 2 positive values");
	}
	if (dq8(c, x, true, false) && find_tail(c, o, &tl) &&
	    (avg || same_q(c, x, &tl))) {
		builtin = avg ? QNPU_ONNX_QLINEAR_AVG_POOL : QNPU_ONNX_MAX_POOL;
		op = onnx_new_op(c, builtin, 1, 1);
		if (!op)
			return qnpu_err(-ENOMEM, "out of memory");
		op->opt.onnx.count_include_pad = (int32_t)onnx_attr_i(nd->n, "count_include_pad", 0);
		ys[0] = xv->shape[0];
		ys[1] = xv->shape[1];
		if (global) {
			op->opt.onnx.kernel[0] = ks[0];
			op->opt.onnx.kernel[1] = ks[1];
			op->opt.onnx.stride[0] = op->opt.onnx.stride[1] = 1;
			op->opt.onnx.dilation[0] = op->opt.onnx.dilation[1] = 1;
			ys[2] = ys[3] = 1;
		} else if ((r = window(nd, op, xv->shape, ks[0], ks[1], !avg,
				       &ys[2], &ys[3]))) {
			return r;
		}
		if ((r = dq_tensor(nd, x)) < 0)
			return r;
		op = &c->g->ops[c->g->nops - 1];
		op->in[0] = r;
		r = tail_tensor(nd, &tl, 4, ys, op);
		return r < 0 ? r : 0;
	}
	if (c->v[x].dtype != QNPU_DTYPE_FLOAT32 && (avg || !is_q8(c->v[x].dtype)))
		return NFAIL(nd, -ENOTSUP, "the input must be FLOAT (or in a foldable QDQ group)");
	xv = &c->v[x];
	op = float_op(nd, avg ? QNPU_ONNX_AVG_POOL : QNPU_ONNX_MAX_POOL, &x, 1, &r);
	if (!op)
		return r;
	op->opt.onnx.count_include_pad = (int32_t)onnx_attr_i(nd->n, "count_include_pad", 0);
	ys[0] = xv->shape[0];
	ys[1] = xv->shape[1];
	if (global) {
		op->opt.onnx.kernel[0] = ks[0];
		op->opt.onnx.kernel[1] = ks[1];
		op->opt.onnx.stride[0] = op->opt.onnx.stride[1] = 1;
		op->opt.onnx.dilation[0] = op->opt.onnx.dilation[1] = 1;
		ys[2] = ys[3] = 1;
	} else if ((r = window(nd, op, xv->shape, ks[0], ks[1], !avg, &ys[2],
			       &ys[3]))) {
		return r;
	}
	return float_out(nd, op, xv->dtype, 4, ys);
}

/* Reshape / Flatten: the new shape, checked against the element count. */
static int reshape_target(struct node *nd, const struct onnx_val *x,
			  int32_t *ys, int *rank)
{
	struct onnx_ctx *c = nd->c;
	size_t known = 1, i;
	int neg = -1;

	if (!strcmp(nd->n->op_type, "Flatten")) {
		int a = (int)onnx_attr_i(nd->n, "axis", 1), k;

		if (a < 0)
			a += x->rank;
		if (a < 0 || a > x->rank)
			return NFAIL(nd, -EINVAL, "axis out of range");
		ys[0] = ys[1] = 1;
		for (k = 0; k < x->rank; k++)
			ys[k < a ? 0 : 1] *= x->shape[k];
		*rank = 2;
		return 0;
	} else {
		int s = in_v(nd, 1);
		const struct onnx_val *sv;

		if (s < 0 || !c->v[s].data || c->v[s].dtype != QNPU_DTYPE_INT64 ||
		    c->v[s].count > QNPU_MAX_RANK || c->v[s].rank != 1)
			return s < -1 ? s : NFAIL(nd, -ENOTSUP, "the shape must be a constant INT64 vector");
		sv = &c->v[s];
		if (onnx_attr_i(nd->n, "allowzero", 0))
			return NFAIL(nd, -ENOTSUP, "allowzero is not supported");
		for (i = 0; i < sv->count; i++) {
			int64_t d = ((const int64_t *)sv->data)[i];

			if (d == 0 && (int)i < x->rank)
				d = x->shape[i];
			if (d == -1 && neg < 0) {
				neg = (int)i;
				ys[i] = 1;
				continue;
			}
			if (d <= 0 || d > (int64_t)ONNX_MAX_ELEMS)
				return NFAIL(nd, -EINVAL, "bad dimension %lld", (long long)d);
			ys[i] = (int32_t)d;
			known *= (size_t)d;
			if (known > ONNX_MAX_ELEMS)
				return NFAIL(nd, -EINVAL, "shape too large");
		}
		if (neg >= 0) {
			if (!known || x->count % known)
				return NFAIL(nd, -EINVAL, "-1 cannot be inferred");
			ys[neg] = (int32_t)(x->count / known);
			known = x->count;
		}
		if (known != x->count)
			return NFAIL(nd, -EINVAL, "the shape holds %zu elements, the input %zu",
				     known, x->count);
		*rank = (int)sv->count;
	}
	return 0;
}

static int do_reshape(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int x = in_v(nd, 0), o, r, rank;
	const struct onnx_val *xv;
	struct qdq_tail tl;
	struct qnpu_ir_op *op;
	int32_t ys[QNPU_MAX_RANK];

	if (x < 0)
		return x == -1 ? NFAIL(nd, -EINVAL, "no input") : x;
	if ((o = out_v(nd, 0)) < 0)
		return o;
	xv = &c->v[x];
	if ((r = reshape_target(nd, xv, ys, &rank)))
		return r;
	if (xv->data) {		/* a constant reshaped */
		struct onnx_val *ov = &c->v[o];

		alias(ov, xv);
		ov->dq_src = -1;
		return set_shape32(ov, rank, ys);
	}
	if (dq8(c, x, true, false) && find_tail(c, o, &tl) && same_q(c, x, &tl)) {
		op = onnx_new_op(c, QNPU_ONNX_RESHAPE, 1, 1);
		if (!op)
			return qnpu_err(-ENOMEM, "out of memory");
		if ((r = dq_tensor(nd, x)) < 0)
			return r;
		op = &c->g->ops[c->g->nops - 1];
		op->in[0] = r;
		r = tail_tensor(nd, &tl, rank, ys, op);
		return r < 0 ? r : 0;
	}
	op = float_op(nd, QNPU_ONNX_RESHAPE, &x, 1, &r);
	if (!op)
		return r;
	return float_out(nd, op, xv->dtype, rank, ys);
}

static int do_softmax(struct node *nd)
{
	struct onnx_ctx *c = nd->c;
	int x = in_v(nd, 0), r, axis;
	struct qnpu_ir_op *op;

	if (x < 0)
		return x == -1 ? NFAIL(nd, -EINVAL, "no input") : x;
	axis = norm_axis(onnx_attr_i(nd->n, "axis", c->opset < 13 ? 1 : -1),
			 c->v[x].rank);
	/* Before opset 13 the axis flattens the input to 2-D: the same for
	 * the last axis. */
	if (axis != c->v[x].rank - 1 && !(c->opset < 13 && axis >= 0 &&
	     c->v[x].count / (size_t)c->v[x].shape[0] ==
	     (size_t)c->v[x].shape[c->v[x].rank - 1] && axis == 1))
		return NFAIL(nd, -ENOTSUP, "only the innermost axis is supported");
	if (!all_float(c, &x, 1))
		return NFAIL(nd, -ENOTSUP, "the input must be FLOAT");
	op = float_op(nd, QNPU_ONNX_SOFTMAX, &x, 1, &r);
	if (!op)
		return r;
	return float_out(nd, op, QNPU_DTYPE_FLOAT32, c->v[x].rank,
			 c->v[x].shape);
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	int (*fn)(struct node *nd);
} handlers[] = {
	{ "Constant", do_constant },
	{ "ConstantOfShape", do_constant_of_shape },
	{ "Cast", do_cast },
	{ "Identity", do_identity },
	{ "Shape", do_shape },
	{ "DequantizeLinear", do_dequantize },
	{ "QuantizeLinear", do_quantize },
	{ "DynamicQuantizeLinear", do_dynamic_quantize },
	{ "Conv", do_conv },
	{ "QLinearConv", do_qlinear_conv },
	{ "QLinearMatMul", do_qlinear_matmul },
	{ "Add", do_binary },
	{ "Sub", do_binary },
	{ "Mul", do_binary },
	{ "Div", do_binary },
	{ "Min", do_binary },
	{ "Max", do_binary },
	{ "Relu", do_unary },
	{ "Clip", do_unary },
	{ "Round", do_unary },
	{ "ReduceMin", do_reduce },
	{ "ReduceMax", do_reduce },
	{ "AveragePool", do_pool },
	{ "MaxPool", do_pool },
	{ "GlobalAveragePool", do_pool },
	{ "Reshape", do_reshape },
	{ "Flatten", do_reshape },
	{ "Softmax", do_softmax },
};

static int do_node(struct node *nd)
{
	const Onnx__NodeProto *n = nd->n;
	size_t i;

	if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
		return NFAIL(nd, -ENOTSUP, "operator domain '%s' is not supported (ai.onnx only)",
			     n->domain);
	if (!strcmp(n->op_type, "Gemm"))
		return do_gemm(nd, true);
	if (!strcmp(n->op_type, "MatMul"))
		return do_gemm(nd, false);
	if (!strcmp(n->op_type, "ConvInteger"))
		return do_integer(nd, true);
	if (!strcmp(n->op_type, "MatMulInteger"))
		return do_integer(nd, false);
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (!strcmp(n->op_type, handlers[i].name))
			return handlers[i].fn(nd);
	return NFAIL(nd, -ENOTSUP, "unsupported ONNX operator %s (docs/onnx.md lists what qnpu imports)",
		     n->op_type);
}

/* A node computing a constant from constants only. */
static bool const_node(struct onnx_ctx *c, const Onnx__NodeProto *n)
{
	static const char *const pure[] = { "Constant", "ConstantOfShape",
					    "Cast", "Identity",
					    "DequantizeLinear" };
	size_t i, k;
	int vi;

	if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
		return false;
	for (k = 0; k < sizeof(pure) / sizeof(pure[0]); k++)
		if (!strcmp(n->op_type, pure[k]))
			break;
	if (k == sizeof(pure) / sizeof(pure[0]))
		return false;
	for (i = 0; i < n->n_input; i++) {
		if (!n->input[i][0])
			continue;
		vi = onnx_find(c, n->input[i]);
		if (vi < 0 || !c->v[vi].defined || !c->v[vi].data)
			return false;
	}
	return true;
}

static void set_macs(struct qnpu_ir_graph *g, struct qnpu_ir_op *op)
{
	const struct qnpu_ir_tensor *x = qnpu_ir_in(g, op, 0);
	const struct qnpu_ir_tensor *w = qnpu_ir_in(g, op, 1);
	const struct qnpu_ir_tensor *y = qnpu_ir_out(g, op, 0);

	switch (op->builtin) {
	case QNPU_ONNX_QLINEAR_CONV:
	case QNPU_ONNX_CONV_INTEGER:
	case QNPU_ONNX_CONV:
		op->macs = (uint64_t)y->count * (uint64_t)w->shape[1] *
			   (uint64_t)w->shape[2] * (uint64_t)w->shape[3];
		break;
	case QNPU_ONNX_QLINEAR_AVG_POOL:
	case QNPU_ONNX_AVG_POOL:
		/* one accumulation per input element of each window */
		op->macs = (uint64_t)y->count * (uint64_t)op->opt.onnx.kernel[0] *
			   (uint64_t)op->opt.onnx.kernel[1];
		break;
	case QNPU_ONNX_QLINEAR_MATMUL:
	case QNPU_ONNX_MATMUL_INTEGER:
	case QNPU_ONNX_GEMM:
		op->macs = (uint64_t)y->count *
			   (uint64_t)(x->shape[x->rank - 1] == y->shape[y->rank - 2] &&
				      op->opt.onnx.trans_a ? x->shape[x->rank - 2] :
				      x->shape[x->rank - 1]);
		break;
	}
}

int onnx_import_nodes(struct onnx_ctx *c)
{
	size_t i;
	int r;

	/*
	 * Constants first: exporters put a Constant just before the node
	 * reading it, which may come after the Conv whose QDQ group needs
	 * its value to fold.
	 */
	for (i = 0; i < c->gp->n_node; i++) {
		struct node nd = { c, c->gp->node[i], (int)i };

		if (!const_node(c, nd.n))
			continue;
		r = do_node(&nd);
		if (r)
			return r;
		c->node_done[i] = true;
	}
	for (i = 0; i < c->gp->n_node; i++) {
		struct node nd = { c, c->gp->node[i], (int)i };

		if (c->node_done[i])
			continue;
		r = do_node(&nd);
		if (r)
			return r;
	}
	for (i = 0; i < (size_t)c->g->nops; i++)
		set_macs(c->g, &c->g->ops[i]);
	return 0;
}
