// SPDX-License-Identifier: MIT
/*
 * make bench-cpu: the CPU kernels against oneDNN and XNNPACK, one table.
 *
 * Rows: each engine at 1 and 2 threads (qnpu: each ISA this CPU runs).
 * Columns: ResNet-8's nine convolutions, each and in total (median over
 * repetitions of the sum of one pass), the total's ratio to oneDNN at one
 * thread, the largest difference from the reference kernel's bytes (LSB),
 * then whole models through libqnpu (qnpu rows only).
 *
 * The libraries get the same layer shapes and quantization, taken from
 * the model: int8 NHWC activations, per-channel int8 weights packed once,
 * int32 bias, per-channel output scale, output zero point, fused ReLU.
 * oneDNN's source is u8 (x + 128; every one of the nine inputs has zero
 * point -128, so this is the same arithmetic without a zero-point pass),
 * its destination s8 with a zero point; XNNPACK runs its QC8 operator.
 * Each convolution's input is what it gets in a real inference (the
 * model's first golden input); one more row runs qnpu's AVX2 kernels on
 * uniformly random inputs, which take its slower int16 path (see
 * qnpu_cpu_layer.h: the time depends on the data, the bytes never do).
 *
 * Usage: bench_cpu MODELS_DIR [REPS]
 */
#include <dnnl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xnnpack.h>

#include "backend/qnpu_backend.h"
#include "cpu/qnpu_cpu.h"
#include "qnpu.h"
#include "quant/qnpu_op_params.h"

void omp_set_num_threads(int n);	/* libgomp: oneDNN's runtime */

#define NCONV 9
#define MAXROWS 16

struct conv {
	const struct qnpu_op_params *c;
	const int8_t *w;
	const int32_t *bias;
	float in_scale, out_scale;
	const float *w_scale;
	int32_t in_zp, out_zp;
	int8_t *in, *ref, *out;
	int8_t *real, *rnd;		/* the two inputs @in may point at */
	size_t in_bytes, out_bytes;
	int pad_b, pad_r;		/* bottom / right padding */
};

static struct conv convs[NCONV];
static int reps = 200;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

static void die(const char *what)
{
	fprintf(stderr, "bench_cpu: %s\n", what);
	exit(1);
}

/* One engine: per conv a run function; times in us. */
struct engine {
	char name[48];
	int threads;
	void (*run)(void *ctx, int i);
	void *ctx;
	double conv_us[NCONV], total_us;
	int max_lsb;
	double model_us[3];		/* whole models, qnpu only (else < 0) */
};

static void time_engine(struct engine *e, int n)
{
	double *t = malloc(sizeof(double) * (size_t)n * (NCONV + 1));
	int r, i;

	if (!t)
		die("out of memory");
	/* Warm up: caches, lazily built kernels, threads. */
	for (r = 0; r < 3; r++)
		for (i = 0; i < NCONV; i++)
			e->run(e->ctx, i);
	for (r = 0; r < n; r++) {
		double sum = 0;

		for (i = 0; i < NCONV; i++) {
			double t0 = now_us();

			e->run(e->ctx, i);
			t[i * n + r] = now_us() - t0;
			sum += t[i * n + r];
		}
		t[NCONV * n + r] = sum;
	}
	for (i = 0; i < NCONV; i++)
		e->conv_us[i] = median(t + i * n, n);
	e->total_us = median(t + NCONV * n, n);
	e->max_lsb = 0;
	for (i = 0; i < NCONV; i++) {
		size_t k;

		memset(convs[i].out, 0, convs[i].out_bytes);
		e->run(e->ctx, i);
		for (k = 0; k < convs[i].out_bytes; k++) {
			int d = abs(convs[i].out[k] - convs[i].ref[k]);

			if (d > e->max_lsb)
				e->max_lsb = d;
		}
	}
	free(t);
}

/* --- qnpu --- */

struct qnpu_ctx {
	int isa;
	struct qnpu_cpu_pool *pool;
	struct qnpu_cpu_layer *l[NCONV];
	void *scratch;
};

static void run_ref(void *ctx, int i)
{
	const struct conv *v = &convs[i];

	(void)ctx;
	qnpu_cpu_conv2d(&v->c->p.conv, &v->c->is, v->in, &v->c->fs, v->w,
			v->bias, &v->c->os, v->out);
}

static void run_qnpu(void *ctx, int i)
{
	struct qnpu_ctx *q = ctx;

	qnpu_cpu_layer_run(q->l[i], q->pool, convs[i].in, convs[i].out,
			   q->scratch);
}

static struct qnpu_ctx *qnpu_setup(int isa, int threads)
{
	struct qnpu_ctx *q = calloc(1, sizeof(*q));
	size_t scratch = 0;
	int i;

	if (!q)
		die("out of memory");
	q->isa = isa;
	if (threads > 1 && qnpu_cpu_pool_create(threads, &q->pool))
		die("cannot start threads");
	for (i = 0; i < NCONV; i++) {
		const struct conv *v = &convs[i];

		if (qnpu_cpu_conv_create(isa, &v->c->p.conv, &v->c->is,
					 &v->c->fs, v->w, v->bias, &v->c->os,
					 &q->l[i]))
			die("qnpu_cpu_conv_create failed");
		if (qnpu_cpu_layer_scratch(q->l[i]) > scratch)
			scratch = qnpu_cpu_layer_scratch(q->l[i]);
	}
	q->scratch = aligned_alloc(64, scratch);
	if (!q->scratch)
		die("out of memory");
	return q;
}

static void qnpu_teardown(struct qnpu_ctx *q)
{
	int i;

	for (i = 0; i < NCONV; i++)
		qnpu_cpu_layer_destroy(q->l[i]);
	qnpu_cpu_pool_destroy(q->pool);
	free(q->scratch);
	free(q);
}

/* --- oneDNN --- */

struct dnnl_ctx {
	dnnl_engine_t eng;
	dnnl_stream_t stream;
	dnnl_primitive_t prim[NCONV];
	dnnl_memory_t src[NCONV], wei[NCONV], bia[NCONV], dst[NCONV];
	uint8_t *src_u8[NCONV];
	char impl[NCONV][64];
};

#define DNNL_OK(x) do { if ((x) != dnnl_success) die("oneDNN: " #x); } while (0)

static void run_dnnl(void *ctx, int i)
{
	struct dnnl_ctx *d = ctx;
	dnnl_exec_arg_t args[] = {
		{ DNNL_ARG_SRC, d->src[i] }, { DNNL_ARG_WEIGHTS, d->wei[i] },
		{ DNNL_ARG_BIAS, d->bia[i] }, { DNNL_ARG_DST, d->dst[i] },
	};

	DNNL_OK(dnnl_primitive_execute(d->prim[i], d->stream, 4, args));
	DNNL_OK(dnnl_stream_wait(d->stream));
}

static struct dnnl_ctx *dnnl_setup(int threads)
{
	struct dnnl_ctx *d = calloc(1, sizeof(*d));
	int i;

	if (!d)
		die("out of memory");
	omp_set_num_threads(threads);
	DNNL_OK(dnnl_engine_create(&d->eng, dnnl_cpu, 0));
	DNNL_OK(dnnl_stream_create(&d->stream, d->eng,
				   dnnl_stream_default_flags));
	for (i = 0; i < NCONV; i++) {
		const struct conv *v = &convs[i];
		const struct qnpu_op_params *c = v->c;
		const int oc = c->os.c;
		dnnl_dims_t sd = { c->is.n, c->is.c, c->is.h, c->is.w };
		dnnl_dims_t wd = { oc, c->fs.c, c->fs.h, c->fs.w };
		dnnl_dims_t bd = { oc };
		dnnl_dims_t dd = { c->os.n, oc, c->os.h, c->os.w };
		dnnl_dims_t st = { c->p.conv.stride_h, c->p.conv.stride_w };
		dnnl_dims_t pl = { c->p.conv.pad_h, c->p.conv.pad_w };
		dnnl_dims_t pr = { v->pad_b, v->pad_r };
		dnnl_memory_desc_t smd, wmd_any, wmd_user, bmd, dmd;
		const dnnl_memory_desc_t *wmd;
		dnnl_convolution_desc_t cd;
		dnnl_primitive_attr_t attr;
		dnnl_post_ops_t po;
		dnnl_primitive_desc_t pd, rpd;
		dnnl_primitive_t reorder;
		dnnl_memory_t wuser;
		const char *impl;
		float *scales = malloc(sizeof(float) * (size_t)oc);
		size_t k;
		int o;

		if (!scales || v->in_zp != -128)
			die("oneDNN setup: needs input zero point -128");
		DNNL_OK(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_u8,
						     dnnl_nhwc));
		DNNL_OK(dnnl_memory_desc_init_by_tag(&wmd_any, 4, wd, dnnl_s8,
						     dnnl_format_tag_any));
		DNNL_OK(dnnl_memory_desc_init_by_tag(&wmd_user, 4, wd, dnnl_s8,
						     dnnl_ohwi));
		DNNL_OK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_s32,
						     dnnl_a));
		DNNL_OK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_s8,
						     dnnl_nhwc));
		DNNL_OK(dnnl_convolution_forward_desc_init(&cd,
			dnnl_forward_inference, dnnl_convolution_direct, &smd,
			&wmd_any, &bmd, &dmd, st, pl, pr));
		DNNL_OK(dnnl_primitive_attr_create(&attr));
		for (o = 0; o < oc; o++)
			scales[o] = v->in_scale * v->w_scale[o] / v->out_scale;
		DNNL_OK(dnnl_primitive_attr_set_output_scales(attr, oc, 1 << 1,
							      scales));
		DNNL_OK(dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_DST,
							    1, 0, &v->out_zp));
		if (c->p.conv.act_min > -128) {
			DNNL_OK(dnnl_post_ops_create(&po));
			DNNL_OK(dnnl_post_ops_append_eltwise(po, 1.f,
					dnnl_eltwise_relu, 0.f, 0.f));
			DNNL_OK(dnnl_primitive_attr_set_post_ops(attr, po));
			dnnl_post_ops_destroy(po);
		}
		DNNL_OK(dnnl_primitive_desc_create(&pd, &cd, attr, d->eng,
						   NULL));
		DNNL_OK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str,
						  0, &impl));
		snprintf(d->impl[i], sizeof(d->impl[i]), "%s", impl);
		DNNL_OK(dnnl_primitive_create(&d->prim[i], pd));
		wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
		/* Weights reordered once, as we pack ours at load. */
		DNNL_OK(dnnl_memory_create(&wuser, &wmd_user, d->eng,
					   (void *)v->w));
		DNNL_OK(dnnl_memory_create(&d->wei[i], wmd, d->eng,
					   DNNL_MEMORY_ALLOCATE));
		DNNL_OK(dnnl_reorder_primitive_desc_create(&rpd, &wmd_user,
			d->eng, wmd, d->eng, NULL));
		DNNL_OK(dnnl_primitive_create(&reorder, rpd));
		{
			dnnl_exec_arg_t ra[] = { { DNNL_ARG_FROM, wuser },
						 { DNNL_ARG_TO, d->wei[i] } };

			DNNL_OK(dnnl_primitive_execute(reorder, d->stream, 2,
						       ra));
			DNNL_OK(dnnl_stream_wait(d->stream));
		}
		dnnl_primitive_destroy(reorder);
		dnnl_primitive_desc_destroy(rpd);
		dnnl_memory_destroy(wuser);
		d->src_u8[i] = malloc(v->in_bytes);
		if (!d->src_u8[i])
			die("out of memory");
		for (k = 0; k < v->in_bytes; k++)
			d->src_u8[i][k] = (uint8_t)(v->in[k] + 128);
		DNNL_OK(dnnl_memory_create(&d->src[i], &smd, d->eng,
					   d->src_u8[i]));
		DNNL_OK(dnnl_memory_create(&d->bia[i], &bmd, d->eng,
					   (void *)v->bias));
		DNNL_OK(dnnl_memory_create(&d->dst[i], &dmd, d->eng, v->out));
		dnnl_primitive_desc_destroy(pd);
		dnnl_primitive_attr_destroy(attr);
		free(scales);
	}
	return d;
}

static void dnnl_teardown(struct dnnl_ctx *d)
{
	int i;

	for (i = 0; i < NCONV; i++) {
		dnnl_primitive_destroy(d->prim[i]);
		dnnl_memory_destroy(d->src[i]);
		dnnl_memory_destroy(d->wei[i]);
		dnnl_memory_destroy(d->bia[i]);
		dnnl_memory_destroy(d->dst[i]);
		free(d->src_u8[i]);
	}
	dnnl_stream_destroy(d->stream);
	dnnl_engine_destroy(d->eng);
	free(d);
}

/* --- XNNPACK --- */

struct xnn_ctx {
	pthreadpool_t tp;
	xnn_operator_t op[NCONV];
};

static void run_xnn(void *ctx, int i)
{
	struct xnn_ctx *x = ctx;

	if (xnn_run_operator(x->op[i], x->tp) != xnn_status_success)
		die("XNNPACK: run");
}

static struct xnn_ctx *xnn_setup(int threads)
{
	struct xnn_ctx *x = calloc(1, sizeof(*x));
	int i;

	if (!x)
		die("out of memory");
	x->tp = threads > 1 ? pthreadpool_create((size_t)threads) : NULL;
	for (i = 0; i < NCONV; i++) {
		const struct conv *v = &convs[i];
		const struct qnpu_op_params *c = v->c;

		if (xnn_create_convolution2d_nhwc_qc8(
			    (uint32_t)c->p.conv.pad_h, (uint32_t)v->pad_r,
			    (uint32_t)v->pad_b, (uint32_t)c->p.conv.pad_w,
			    (uint32_t)c->fs.h, (uint32_t)c->fs.w,
			    (uint32_t)c->p.conv.stride_h,
			    (uint32_t)c->p.conv.stride_w,
			    (uint32_t)c->p.conv.dilation_h,
			    (uint32_t)c->p.conv.dilation_w, 1,
			    (size_t)c->is.c, (size_t)c->os.c, (size_t)c->is.c,
			    (size_t)c->os.c, (int8_t)v->in_zp, v->in_scale,
			    v->w_scale, v->w, v->bias, (int8_t)v->out_zp,
			    v->out_scale, (int8_t)c->p.conv.act_min,
			    (int8_t)c->p.conv.act_max, 0, &x->op[i]) !=
		    xnn_status_success)
			die("XNNPACK: create");
		if (xnn_setup_convolution2d_nhwc_qc8(x->op[i], (size_t)c->is.n,
						     (size_t)c->is.h,
						     (size_t)c->is.w, v->in,
						     v->out, x->tp) !=
		    xnn_status_success)
			die("XNNPACK: setup");
	}
	return x;
}

static void xnn_teardown(struct xnn_ctx *x)
{
	int i;

	for (i = 0; i < NCONV; i++)
		xnn_delete_operator(x->op[i]);
	if (x->tp)
		pthreadpool_destroy(x->tp);
	free(x);
}

/* --- whole models through the public API --- */

static const char *const model_names[3] = {
	"mlperf_tiny_ic_resnet8", "mlperf_tiny_kws_dscnn",
	"tflm_person_detect",
};

/* ResNet-8 per operator on the best path, one thread (where time goes). */
#define MAXOPS 64
static double op_us[MAXOPS];
static char op_name[MAXOPS][24];
static int nops_kept;

static void keep_op_times(struct qnpu_model *model, double *per_op, int n)
{
	int i, k;

	nops_kept = qnpu_model_num_ops(model);
	if (nops_kept > MAXOPS)
		nops_kept = MAXOPS;
	for (i = 0; i < nops_kept; i++) {
		struct qnpu_op_info oi;

		qnpu_model_op_info(model, i, &oi);
		snprintf(op_name[i], sizeof(op_name[i]), "%s", oi.name);
		for (k = 0; k < n; k++)
			per_op[k] = per_op[(size_t)(i + 1) * n + k];
		op_us[i] = median(per_op, n);
	}
}

static double model_us(const char *dir, int m, int isa, int threads, int n,
		       int keep)
{
	double *per_op = NULL;
	char path[1024];
	struct qnpu_device *dev;
	struct qnpu_model *model;
	double *t = malloc(sizeof(double) * (size_t)n), r;
	int i, k;

	if (!t)
		die("out of memory");
	setenv("QNPU_CPU_ISA", qnpu_cpu_isa_name(isa), 1);
	snprintf(path, sizeof(path), "%s/tflite/%s.tflite", dir,
		 model_names[m]);
	if (qnpu_device_open("cpu", &dev) ||
	    qnpu_device_set_threads(dev, threads) ||
	    qnpu_model_load_file(dev, path, &model))
		die(qnpu_last_error());
	/* Inputs: zeros are as good as any for the time (no data paths). */
	for (i = 0; i < qnpu_model_num_inputs(model); i++) {
		struct qnpu_tensor_info ti;
		void *z;

		qnpu_model_input_info(model, i, &ti);
		z = calloc(1, ti.bytes);
		if (!z || qnpu_model_set_input(model, i, z, ti.bytes))
			die("input");
		free(z);
	}
	for (k = 0; k < 3; k++)
		qnpu_model_run(model);
	if (keep) {
		per_op = malloc(sizeof(double) * (size_t)n * (MAXOPS + 1));
		if (!per_op)
			die("out of memory");
	}
	for (k = 0; k < n; k++) {
		double t0 = now_us();

		if (qnpu_model_run(model))
			die(qnpu_last_error());
		t[k] = now_us() - t0;
		for (i = 0; per_op && i < qnpu_model_num_ops(model) &&
			    i < MAXOPS; i++) {
			struct qnpu_op_stats st;

			qnpu_model_op_stats(model, i, &st);
			per_op[(size_t)(i + 1) * n + k] = st.host_ns / 1e3;
		}
	}
	r = median(t, n);
	if (per_op) {
		keep_op_times(model, per_op, n);
		free(per_op);
	}
	qnpu_model_free(model);
	qnpu_device_close(dev);
	unsetenv("QNPU_CPU_ISA");
	free(t);
	return r;
}

/* --- the nine convolutions of ResNet-8, from the model --- */

/* Every operator output of one inference, by tensor index. */
static uint8_t **seen;

static int keep_layer(const struct qnpu_op_info *op, const void *data,
		      void *user)
{
	(void)user;
	seen[op->output.index] = malloc(op->output.bytes);
	if (!seen[op->output.index])
		return -ENOMEM;
	memcpy(seen[op->output.index], data, op->output.bytes);
	return 0;
}

static void real_inputs(const char *dir, struct qnpu_model *m)
{
	char path[1024];
	struct qnpu_tensor_info ti;
	FILE *f;
	void *in;

	seen = calloc((size_t)m->g->ntensors, sizeof(*seen));
	snprintf(path, sizeof(path), "%s/inputs/%s/ic_sample0.int8.bin", dir,
		 model_names[0]);
	qnpu_model_input_info(m, 0, &ti);
	in = malloc(ti.bytes);
	f = fopen(path, "rb");
	if (!seen || !in || !f || fread(in, 1, ti.bytes, f) != ti.bytes)
		die("cannot read ResNet-8's first golden input");
	fclose(f);
	seen[ti.index] = in;
	if (qnpu_model_set_input(m, 0, in, ti.bytes) ||
	    qnpu_model_set_layer_callback(m, keep_layer, NULL) ||
	    qnpu_model_run(m) || qnpu_model_set_layer_callback(m, NULL, NULL))
		die(qnpu_last_error());
}

static void load_convs(const char *dir, struct qnpu_device **devp,
		       struct qnpu_model **mp)
{
	char path[1024];
	struct qnpu_model *m;
	unsigned int seed = 1;
	int i, n = 0;

	snprintf(path, sizeof(path), "%s/tflite/%s.tflite", dir,
		 model_names[0]);
	if (qnpu_device_open("cpu", devp) ||
	    qnpu_model_load_file(*devp, path, mp))
		die(qnpu_last_error());
	m = *mp;
	real_inputs(dir, m);
	for (i = 0; i < m->g->nops && n < NCONV; i++) {
		const struct qnpu_ir_op *op = &m->g->ops[i];
		const struct qnpu_ir_tensor *it, *wt, *ot;
		struct conv *v = &convs[n];
		size_t k;

		if (op->builtin != QNPU_TFL_CONV_2D)
			continue;
		it = qnpu_ir_in(m->g, op, 0);
		wt = qnpu_ir_in(m->g, op, 1);
		ot = qnpu_ir_out(m->g, op, 0);
		v->c = op->params;
		v->w = (const int8_t *)wt->const_data;
		v->bias = (const int32_t *)m->data[op->in[2]];
		v->in_scale = it->scale[0];
		v->in_zp = it->zero_point[0];
		v->w_scale = wt->scale;
		v->out_scale = ot->scale[0];
		v->out_zp = ot->zero_point[0];
		v->in_bytes = it->bytes;
		v->out_bytes = ot->bytes;
		v->real = (int8_t *)seen[op->in[0]];
		v->rnd = malloc(v->in_bytes);
		v->ref = malloc(v->out_bytes);
		v->out = malloc(v->out_bytes);
		if (!v->real || !v->rnd || !v->ref || !v->out)
			die("out of memory");
		for (k = 0; k < v->in_bytes; k++)
			v->rnd[k] = (int8_t)(rand_r(&seed) & 0xff);
		v->in = v->real;
		v->pad_b = (v->c->os.h - 1) * v->c->p.conv.stride_h +
			   v->c->fs.h - v->c->is.h - v->c->p.conv.pad_h;
		v->pad_r = (v->c->os.w - 1) * v->c->p.conv.stride_w +
			   v->c->fs.w - v->c->is.w - v->c->p.conv.pad_w;
		if (v->pad_b < 0)
			v->pad_b = 0;
		if (v->pad_r < 0)
			v->pad_r = 0;
		run_ref(NULL, n);
		memcpy(v->ref, v->out, v->out_bytes);
		n++;
	}
	if (n != NCONV)
		die("ResNet-8 has not nine convolutions");
}

static void print_table(struct engine *e, int ne, double dnnl1)
{
	int i, k;

	printf("| engine | thr |");
	for (i = 0; i < NCONV; i++)
		printf(" c%d |", i);
	printf(" **9 convs** | / oneDNN 1T | max LSB vs ref | ResNet-8 | DS-CNN | person det. |\n|---|---|");
	for (i = 0; i < NCONV + 6; i++)
		printf("---|");
	printf("\n");
	for (k = 0; k < ne; k++) {
		printf("| %s | %d |", e[k].name, e[k].threads);
		for (i = 0; i < NCONV; i++)
			printf(" %.1f |", e[k].conv_us[i]);
		printf(" **%.1f** | %.2fx | %d |", e[k].total_us,
		       e[k].total_us / dnnl1, e[k].max_lsb);
		for (i = 0; i < 3; i++) {
			if (e[k].model_us[i] < 0)
				printf(" - |");
			else
				printf(" %.1f |", e[k].model_us[i]);
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	struct engine e[MAXROWS];
	struct qnpu_device *dev;
	struct qnpu_model *rn8;
	struct dnnl_ctx *d;
	struct xnn_ctx *x;
	double dnnl1 = 0;
	int ne = 0, isa, t, i, m, best = QNPU_CPU_SCALAR;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_cpu MODELS_DIR [REPS]\n");
		return 2;
	}
	if (argc == 3)
		reps = atoi(argv[2]) > 0 ? atoi(argv[2]) : reps;
	for (isa = 0; isa < QNPU_CPU_NISA; isa++)
		if (qnpu_cpu_isa_supported(isa))
			best = isa;
	if (xnn_initialize(NULL) != xnn_status_success)
		die("XNNPACK: initialize");
	load_convs(argv[1], &dev, &rn8);
	printf("ResNet-8's nine convolutions (us, median of %d passes) and whole models (us per inference)\n",
	       reps);
	printf("qnpu ISAs on this CPU:");
	for (isa = 0; isa < QNPU_CPU_NISA; isa++)
		printf(" %s%s", qnpu_cpu_isa_name(isa),
		       qnpu_cpu_isa_supported(isa) ? "" : " (not on this CPU: skipped)");
	printf("\n");

	for (t = 1; t <= 2; t++) {
		struct engine *r = &e[ne++];

		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "oneDNN %s", dnnl_version()->cpu_runtime == DNNL_RUNTIME_OMP ? "(OpenMP)" : "");
		r->threads = t;
		d = dnnl_setup(t);
		r->run = run_dnnl;
		r->ctx = d;
		time_engine(r, reps);
		if (t == 1) {
			dnnl1 = r->total_us;
			printf("oneDNN %d.%d.%d implementations:", dnnl_version()->major,
			       dnnl_version()->minor, dnnl_version()->patch);
			for (i = 0; i < NCONV; i++)
				printf(" %s", d->impl[i]);
			printf("\n");
		}
		for (i = 0; i < 3; i++)
			r->model_us[i] = -1;
		dnnl_teardown(d);
	}
	omp_set_num_threads(1);
	for (t = 1; t <= 2; t++) {
		struct engine *r = &e[ne++];

		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "XNNPACK (QC8)");
		r->threads = t;
		x = xnn_setup(t);
		r->run = run_xnn;
		r->ctx = x;
		time_engine(r, reps);
		for (i = 0; i < 3; i++)
			r->model_us[i] = -1;
		xnn_teardown(x);
	}
	for (isa = 0; isa < QNPU_CPU_NISA; isa++) {
		if (!qnpu_cpu_isa_supported(isa))
			continue;
		for (t = 1; t <= 2; t++) {
			struct engine *r = &e[ne++];
			struct qnpu_ctx *q = NULL;
			/* The reference kernels are slow: fewer passes. */
			const int n = isa == QNPU_CPU_SCALAR ?
				      (reps / 20 > 5 ? reps / 20 : 5) : reps;

			memset(r, 0, sizeof(*r));
			snprintf(r->name, sizeof(r->name), "qnpu %s",
				 qnpu_cpu_isa_name(isa));
			r->threads = t;
			if (isa == QNPU_CPU_SCALAR) {
				if (t > 1) {	/* single-threaded by design */
					ne--;
					continue;
				}
				r->run = run_ref;
			} else {
				q = qnpu_setup(isa, t);
				r->run = run_qnpu;
				r->ctx = q;
			}
			time_engine(r, n);
			if (q)
				qnpu_teardown(q);
			for (m = 0; m < 3; m++)
				r->model_us[m] = model_us(argv[1], m, isa, t, n,
					m == 0 && t == 1 && isa == best);
		}
	}
	/* The same kernels on data that takes the exact int16 fallback. */
	if (qnpu_cpu_isa_supported(QNPU_CPU_AVX2)) {
		struct engine *r = &e[ne++];
		struct qnpu_ctx *q = qnpu_setup(QNPU_CPU_AVX2, 1);

		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name),
			 "qnpu avx2, random inputs (int16 path)");
		r->threads = 1;
		r->run = run_qnpu;
		r->ctx = q;
		for (i = 0; i < NCONV; i++) {
			convs[i].in = convs[i].rnd;
			run_ref(NULL, i);
			memcpy(convs[i].ref, convs[i].out, convs[i].out_bytes);
		}
		time_engine(r, reps);
		for (i = 0; i < 3; i++)
			r->model_us[i] = -1;
		qnpu_teardown(q);
	}
	printf("\n");
	print_table(e, ne, dnnl1);
	printf("\nResNet-8 on qnpu %s, 1 thread, per operator (us, median):",
	       qnpu_cpu_isa_name(best));
	for (i = 0; i < nops_kept; i++)
		printf("%s %d %s %.1f", i ? "," : "", i, op_name[i], op_us[i]);
	printf("\n");
	qnpu_model_free(rn8);
	qnpu_device_close(dev);
	xnn_deinitialize();
	return 0;
}
