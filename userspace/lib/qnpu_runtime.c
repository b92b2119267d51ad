// SPDX-License-Identifier: MIT
/*
 * The runtime: devices, model loading, tensors and the run loop. The one
 * place that ties the stages together: import -> quant (parameters) ->
 * compiler (partition, memory plan; compiled files) -> backend. May
 * include every folder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/qnpu_backend.h"
#include "compiler/qnpu_compiler.h"
#include "import/qnpu_import.h"
#include "ir/qnpu_ir_batch.h"
#include "qnpu_runtime.h"
#include "quant/qnpu_op_params.h"

static const struct qnpu_backend *const backends[] = {
	&qnpu_cpu_backend,
	&qnpu_sim_backend,
	&qnpu_target_backend,
	&qnpu_drm_backend,
};

QNPU_EXPORT int qnpu_device_open(const char *name, struct qnpu_device **out)
{
	const struct qnpu_backend *be = NULL;
	struct qnpu_device *dev;
	const char *arg = NULL;
	size_t i, len;
	int r;

	*out = NULL;
	/* The kernel's NPU if there is one, else the simulated one. */
	if (!name || !strcmp(name, "auto"))
		name = qnpu_drm_present() ? "drm" : "sim";
	len = strcspn(name, ":");
	if (name[len] == ':')
		arg = name + len + 1;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strlen(backends[i]->name) == len &&
		    !strncmp(backends[i]->name, name, len))
			be = backends[i];
	if (!be)
		return qnpu_err(-ENODEV,
				"unknown device \"%s\" (this libqnpu has: cpu, sim, drm, target:FILE.dtb)",
				name);
	if (arg && !be->open)
		return qnpu_err(-EINVAL, "device \"%s\" takes no argument",
				be->name);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return qnpu_err(-ENOMEM, "out of memory");
	dev->backend = be;
	dev->info.name = be->name;
	if (be->open) {
		r = be->open(dev, arg);
		if (r) {
			free(dev);
			return r;
		}
	}
	*out = dev;
	return 0;
}

QNPU_EXPORT void qnpu_device_close(struct qnpu_device *dev)
{
	if (dev && dev->backend->close)
		dev->backend->close(dev);
	if (dev)
		qnpu_cpu_device_fini(dev);
	free(dev);
}

QNPU_EXPORT const char *qnpu_device_name(const struct qnpu_device *dev)
{
	return dev->backend->name;
}

QNPU_EXPORT int qnpu_device_set_threads(struct qnpu_device *dev, int threads)
{
	return qnpu_cpu_set_threads(dev, threads);
}

QNPU_EXPORT int qnpu_device_query(const struct qnpu_device *dev,
				  struct qnpu_device_info *info)
{
	*info = dev->info;
	return 0;
}

QNPU_EXPORT void qnpu_model_free(struct qnpu_model *m)
{
	if (!m)
		return;
	if (m->dev->backend->model_fini)
		m->dev->backend->model_fini(m);
	else
		free(m->arena);
	qnpu_npu_segs_free(m);
	if (m->g)
		qnpu_npu_jobs_free(m->jobs, m->g->nops);
	qnpu_cpu_model_fini(m);
	qnpu_ir_graph_free(m->g);
	free(m->data);
	free(m->offsets);
	free(m->runs);
	free(m->file);
	free(m);
}

/* Every tensor an operator reads must exist by the time it runs. */
static int check_dataflow(struct qnpu_ir_graph *g, bool *ready)
{
	int i, j;

	for (i = 0; i < g->ntensors; i++)
		ready[i] = g->tensors[i].const_data || g->tensors[i].is_input;
	for (i = 0; i < g->nops; i++) {
		const struct qnpu_ir_op *op = &g->ops[i];

		for (j = 0; j < op->nin; j++)
			if (op->in[j] >= 0 && !ready[op->in[j]])
				return qnpu_err(-EINVAL,
						"malformed model: operator %d (%s) reads tensor %d (%s), which no earlier operator writes",
						i, qnpu_ir_op_name(op->builtin),
						op->in[j],
						g->tensors[op->in[j]].name);
		for (j = 0; j < op->nout; j++) {
			if (op->out[j] < 0)
				continue;
			if (g->tensors[op->out[j]].const_data)
				return qnpu_err(-EINVAL,
						"malformed model: operator %d (%s) writes constant tensor %d",
						i, qnpu_ir_op_name(op->builtin),
						op->out[j]);
			ready[op->out[j]] = true;
		}
	}
	for (i = 0; i < g->noutputs; i++)
		if (!ready[g->outputs[i]])
			return qnpu_err(-EINVAL,
					"malformed model: output %d (tensor %d) is never written",
					i, g->outputs[i]);
	return 0;
}

/*
 * Backing store: constants in place, everything else in one planned
 * arena, which an NPU backend places in device memory.
 */
static int alloc_tensors(struct qnpu_model *m)
{
	struct qnpu_ir_graph *g = m->g;
	int i, r;

	m->data = calloc((size_t)g->ntensors + 1, sizeof(*m->data));
	m->offsets = calloc((size_t)g->ntensors + 1, sizeof(*m->offsets));
	if (!m->data || !m->offsets)
		return qnpu_err(-ENOMEM, "out of memory");
	r = qnpu_plan_memory(g, m->offsets, &m->arena_size);
	if (r)
		return r;
	if (m->dev->backend->model_init) {
		r = m->dev->backend->model_init(m);
		if (r)
			return r;
	} else {
		m->arena = calloc(1, m->arena_size ? m->arena_size : 1);
		if (!m->arena)
			return qnpu_err(-ENOMEM, "out of memory for %zu bytes of tensors",
					m->arena_size);
	}
	for (i = 0; i < g->ntensors; i++)
		m->data[i] = g->tensors[i].const_data ?
			     (uint8_t *)g->tensors[i].const_data :
			     m->arena + m->offsets[i];
	return 0;
}

static int check_io(struct qnpu_ir_graph *g)
{
	int i;

	for (i = 0; i < g->ninputs + g->noutputs; i++) {
		bool is_in = i < g->ninputs;
		int ti = is_in ? g->inputs[i] : g->outputs[i - g->ninputs];
		const struct qnpu_ir_tensor *t = &g->tensors[ti];

		if (!t->bytes || !qnpu_ir_dtype_known((int)t->dtype))
			return qnpu_err(-ENOTSUP,
					"model %s %d (%s) has type %s and %zu elements, which qnpu cannot feed",
					is_in ? "input" : "output",
					is_in ? i : i - g->ninputs, t->name,
					qnpu_ir_tflite_type_name((int)t->dtype),
					t->count);
	}
	return 0;
}

static bool npu_supported(void *ctx, const struct qnpu_ir_op *op)
{
	struct qnpu_model *m = ctx;

	return m->dev->backend->supported(m, op);
}

static bool cpu_supported(void *ctx, const struct qnpu_ir_op *op)
{
	return qnpu_cpu_backend.supported(ctx, op);
}

static int partition(struct qnpu_model *m)
{
	const struct qnpu_backend *be = m->dev->backend;
	struct qnpu_partition_req req = {
		.device = be->name,
		.npu = be != &qnpu_cpu_backend && be->supported ?
		       npu_supported : NULL,
		.cpu = cpu_supported,
		.ctx = m,
		.precompiled = m->jobs != NULL,
	};

	return qnpu_partition(m->g, &req);
}

int qnpu_model_from_graph(struct qnpu_device *dev, struct qnpu_ir_graph *g,
			  uint8_t *file, size_t len, struct qnpu_model **out)
{
	return qnpu_model_from_graph_jobs(dev, g, file, len, NULL, out);
}

int qnpu_model_from_graph_jobs(struct qnpu_device *dev,
			       struct qnpu_ir_graph *g, uint8_t *file,
			       size_t len, struct qnpu_npu_job *jobs,
			       struct qnpu_model **out)
{
	struct qnpu_model *m;
	bool *ready;
	int r;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		qnpu_npu_jobs_free(jobs, g->nops);
		qnpu_ir_graph_free(g);
		free(file);
		return qnpu_err(-ENOMEM, "out of memory");
	}
	m->dev = dev;
	m->file = file;
	m->file_len = len;
	m->g = g;
	m->jobs = jobs;
	/* ONNX graphs get the NPU's data layout on an NPU device. */
	if (dev->info.is_npu) {
		r = qnpu_onnx_npu_layout(m->g);
		if (r)
			goto err_free;
	}
	/* Unsupported operators are named before any deeper check. */
	r = partition(m);
	if (r)
		goto err_free;
	ready = calloc((size_t)m->g->ntensors + 1, sizeof(*ready));
	if (!ready) {
		r = qnpu_err(-ENOMEM, "out of memory");
		goto err_free;
	}
	r = check_dataflow(m->g, ready);
	free(ready);
	if (r || (r = check_io(m->g)))
		goto err_free;
	m->runs = calloc((size_t)m->g->nops + 1, sizeof(*m->runs));
	if (!m->runs) {
		r = qnpu_err(-ENOMEM, "out of memory");
		goto err_free;
	}
	/* Every operator is validated and its parameters computed, once. */
	r = qnpu_op_params_prepare_all(m->g);
	if (r)
		goto err_free;
	/* Residual ADDs into their convolutions' epilogues, 1x1 siblings
	 * into their neighbours' jobs, before the memory plan
	 * (QNPU_NPU_FUSE=0: neither, QNPU_NPU_SIBLINGS=0: no siblings, e.g.
	 * to compare). */
	if (dev->info.is_npu) {
		const char *f = getenv("QNPU_NPU_FUSE");
		const char *sb = getenv("QNPU_NPU_SIBLINGS");

		qnpu_npu_fuse(dev->npu, m->g, m->jobs || !f || strcmp(f, "0"),
			      m->jobs || !sb || strcmp(sb, "0"));
		if (m->jobs)
			qnpu_npu_fuse_match(m->g, m->jobs);
	}
	r = alloc_tensors(m);
	if (r)
		goto err_free;
	/* Targets are final now: pack the CPU operators' weights. */
	r = qnpu_cpu_model_init(m);
	if (r)
		goto err_free;
	*out = m;
	return 0;

err_free:
	qnpu_model_free(m);
	return r;
}

/* A compiled file: its graph with the targets and jobs it stored. */
static int load_compiled(struct qnpu_device *dev, const uint8_t *data,
			 size_t size, struct qnpu_model **out)
{
	struct qnpu_npu_target t;
	struct qnpu_compiled c;
	uint64_t arena;
	int r;

	qnpu_npu_device_target(dev, &t);
	r = qnpu_compiled_read(data, size, dev->info.is_npu ? &t : NULL,
			       dev->info.name, &c);
	if (r)
		return r;
	arena = c.arena_size;
	r = qnpu_model_from_graph_jobs(dev, c.g, c.model, c.model_len, c.jobs,
				       out);
	if (r)
		return r;
	if ((*out)->arena_size != arena) {
		r = qnpu_err(-EINVAL, "compiled model: its memory plan (%llu bytes) differs from this libqnpu's (%zu): compile it again",
			     (unsigned long long)arena, (*out)->arena_size);
		qnpu_model_free(*out);
		*out = NULL;
	}
	return r;
}

QNPU_EXPORT int qnpu_model_save(const struct qnpu_model *m, const char *path)
{
	struct qnpu_compiled c = {
		.arena_size = m->arena_size,
		.model = m->file,
		.model_len = m->file_len,
		.g = m->g,
		.jobs = m->jobs,
	};

	if (!m->dev->info.is_npu || !m->jobs)
		return qnpu_err(-EINVAL,
				"model was loaded on \"%s\", which compiles nothing: load it on an NPU device or target",
				m->dev->info.name);
	/* The file holds the one-sample model the jobs would not match. */
	if (m->g->batch > 1)
		return qnpu_err(-EINVAL,
				"a batched model (batch %d) cannot be saved: save the model and batch it after loading",
				m->g->batch);
	qnpu_npu_device_target(m->dev, &c.target);
	return qnpu_compiled_write(path, &c);
}

static int model_load(struct qnpu_device *dev, uint8_t *file, size_t len,
		      struct qnpu_model **out)
{
	struct qnpu_ir_graph *g;
	int r;

	if (qnpu_compiled_is(file, len)) {
		r = load_compiled(dev, file, len, out);
		free(file);
		return r;
	}
	r = qnpu_onnx_is(file, len) ? qnpu_onnx_import(file, len, &g) :
	    qnpu_tflite_import(file, len, &g);
	if (r) {
		free(file);
		return r;
	}
	return qnpu_model_from_graph(dev, g, file, len, out);
}

QNPU_EXPORT int qnpu_model_load_memory(struct qnpu_device *dev,
				       const void *data, size_t size,
				       struct qnpu_model **out)
{
	uint8_t *copy;

	*out = NULL;
	if (!dev || (!data && size))
		return qnpu_err(-EINVAL, "no device or no data");
	copy = malloc(size ? size : 1);
	if (!copy)
		return qnpu_err(-ENOMEM, "out of memory for a %zu-byte model",
				size);
	memcpy(copy, data, size);
	return model_load(dev, copy, size, out);
}

QNPU_EXPORT int qnpu_model_load_file(struct qnpu_device *dev,
				     const char *path, struct qnpu_model **out)
{
	uint8_t *buf;
	size_t len;
	int r;

	*out = NULL;
	if (!dev || !path)
		return qnpu_err(-EINVAL, "no device or no path");
	r = qnpu_read_file(path, &buf, &len);
	if (r)
		return r;
	r = model_load(dev, buf, len, out);
	return r ? qnpu_err_prefix(r, path) : 0;
}

QNPU_EXPORT int qnpu_model_batch(const struct qnpu_model *m, int batch,
				 struct qnpu_model **out)
{
	struct qnpu_ir_graph *g;
	uint8_t *copy;
	int r;

	*out = NULL;
	if (!m)
		return qnpu_err(-EINVAL, "no model");
	if (batch < 1 || batch > QNPU_IR_MAX_BATCH)
		return qnpu_err(-EINVAL, "batch %d out of range (1 to %d)",
				batch, QNPU_IR_MAX_BATCH);
	if (m->g->batch > 1)
		return qnpu_err(-EINVAL,
				"model is batched already (batch %d): batch the model it came from",
				m->g->batch);
	/* A model made in memory (qnpu_quantize_model()) has no file. */
	if (!m->file)
		return qnpu_err(-EINVAL,
				"model was not loaded from a file, which batching imports again: save it and load that");
	if (qnpu_onnx_is(m->file, m->file_len))
		return qnpu_err(-ENOTSUP,
				"batching takes TFLite models; this one is ONNX");
	copy = malloc(m->file_len);
	if (!copy)
		return qnpu_err(-ENOMEM, "out of memory for a %zu-byte model",
				m->file_len);
	memcpy(copy, m->file, m->file_len);
	/* Imported again and compiled once for the batch. */
	r = qnpu_tflite_import(copy, m->file_len, &g);
	if (r) {
		free(copy);
		return r;
	}
	r = qnpu_ir_batch(g, batch);
	if (r) {
		qnpu_ir_graph_free(g);
		free(copy);
		return r;
	}
	return qnpu_model_from_graph(m->dev, g, copy, m->file_len, out);
}

QNPU_EXPORT int qnpu_model_batch_size(const struct qnpu_model *m)
{
	return m->g->batch > 1 ? m->g->batch : 1;
}

QNPU_EXPORT int qnpu_model_num_inputs(const struct qnpu_model *m)
{
	return m->g->ninputs;
}

QNPU_EXPORT int qnpu_model_num_outputs(const struct qnpu_model *m)
{
	return m->g->noutputs;
}

static void tensor_info(const struct qnpu_model *m, int ti,
			struct qnpu_tensor_info *info)
{
	const struct qnpu_ir_tensor *t = &m->g->tensors[ti];

	memset(info, 0, sizeof(*info));
	info->name = t->name;
	info->index = ti;
	info->dtype = t->dtype;
	info->rank = t->rank;
	memcpy(info->shape, t->shape, sizeof(info->shape));
	info->bytes = t->bytes;
	if (t->nq) {
		info->scale = t->scale[0];
		info->zero_point = t->zero_point[0];
	}
	info->num_scales = t->nq;
	info->quant_axis = t->qdim;
	info->is_constant = t->const_data != NULL;
}

QNPU_EXPORT int qnpu_model_num_tensors(const struct qnpu_model *m)
{
	return m->g->ntensors;
}

QNPU_EXPORT int qnpu_model_tensor_info(const struct qnpu_model *m, int i,
				       struct qnpu_tensor_info *info)
{
	if (i < 0 || i >= m->g->ntensors)
		return qnpu_err(-EINVAL, "tensor %d out of range (model has %d)",
				i, m->g->ntensors);
	tensor_info(m, i, info);
	return 0;
}

QNPU_EXPORT int qnpu_model_input_info(const struct qnpu_model *m, int i,
				      struct qnpu_tensor_info *info)
{
	if (i < 0 || i >= m->g->ninputs)
		return qnpu_err(-EINVAL, "input %d out of range (model has %d)",
				i, m->g->ninputs);
	tensor_info(m, m->g->inputs[i], info);
	return 0;
}

QNPU_EXPORT int qnpu_model_output_info(const struct qnpu_model *m, int i,
				       struct qnpu_tensor_info *info)
{
	if (i < 0 || i >= m->g->noutputs)
		return qnpu_err(-EINVAL, "output %d out of range (model has %d)",
				i, m->g->noutputs);
	tensor_info(m, m->g->outputs[i], info);
	return 0;
}

QNPU_EXPORT int qnpu_model_set_input(struct qnpu_model *m, int i,
				     const void *data, size_t size)
{
	const struct qnpu_ir_tensor *t;

	if (i < 0 || i >= m->g->ninputs)
		return qnpu_err(-EINVAL, "input %d out of range (model has %d)",
				i, m->g->ninputs);
	t = &m->g->tensors[m->g->inputs[i]];
	if (size != t->bytes) {
		char shape[64];

		qnpu_ir_shape_str(t, shape, sizeof(shape));
		return qnpu_err(-EINVAL,
				"input %d (%s) takes %zu bytes (%s %s), got %zu",
				i, t->name, t->bytes,
				qnpu_ir_tflite_type_name((int)t->dtype), shape,
				size);
	}
	memcpy(m->data[m->g->inputs[i]], data, size);
	return 0;
}

QNPU_EXPORT int qnpu_model_get_output(const struct qnpu_model *m, int i,
				      void *data, size_t size)
{
	const struct qnpu_ir_tensor *t;

	if (i < 0 || i >= m->g->noutputs)
		return qnpu_err(-EINVAL, "output %d out of range (model has %d)",
				i, m->g->noutputs);
	t = &m->g->tensors[m->g->outputs[i]];
	if (size != t->bytes)
		return qnpu_err(-EINVAL, "output %d (%s) is %zu bytes, got a %zu-byte buffer",
				i, t->name, t->bytes, size);
	memcpy(data, m->data[m->g->outputs[i]], size);
	return 0;
}

QNPU_EXPORT int qnpu_model_num_ops(const struct qnpu_model *m)
{
	return m->g->nops;
}

QNPU_EXPORT int qnpu_model_op_info(const struct qnpu_model *m, int i,
				   struct qnpu_op_info *info)
{
	const struct qnpu_ir_op *op;
	int j;

	if (i < 0 || i >= m->g->nops)
		return qnpu_err(-EINVAL, "operator %d out of range (model has %d)",
				i, m->g->nops);
	op = &m->g->ops[i];
	memset(info, 0, sizeof(*info));
	info->index = i;
	info->name = qnpu_ir_op_name(op->builtin);
	info->target = op->target;
	info->macs = op->macs;
	info->fused_into = op->res_conv;
	if (op->nout > 0 && op->out[0] >= 0)
		tensor_info(m, op->out[0], &info->output);
	else
		info->output.index = -1;
	info->num_inputs = op->nin;
	info->num_outputs = op->nout;
	for (j = 0; j < op->nin && j < QNPU_MAX_OP_IO; j++)
		info->inputs[j] = op->in[j];
	for (j = 0; j < op->nout && j < QNPU_MAX_OP_IO; j++)
		info->outputs[j] = op->out[j];
	return 0;
}

QNPU_EXPORT int qnpu_model_set_layer_callback(struct qnpu_model *m,
					      qnpu_layer_cb cb, void *user)
{
	m->layer_cb = cb;
	m->layer_user = user;
	return 0;
}

QNPU_EXPORT int qnpu_model_op_stats(const struct qnpu_model *m, int i,
				    struct qnpu_op_stats *stats)
{
	if (i < 0 || i >= m->g->nops)
		return qnpu_err(-EINVAL, "operator %d out of range (model has %d)",
				i, m->g->nops);
	*stats = m->runs[i].stats;
	stats->note = m->runs[i].note;
	stats->est_cycles = stats->est_dma_in = stats->est_dma_out = 0;
	if (m->jobs && m->g->ops[i].target == QNPU_TARGET_NPU) {
		stats->est_cycles = m->jobs[i].est_cycles;
		stats->est_dma_in = m->jobs[i].est_dma_in;
		stats->est_dma_out = m->jobs[i].est_dma_out;
	}
	return 0;
}

QNPU_EXPORT int qnpu_model_run(struct qnpu_model *m)
{
	int i, r;

	for (i = 0; i < m->g->nops; i++) {
		struct qnpu_ir_op *op = &m->g->ops[i];
		struct qnpu_op_stats *st = &m->runs[i].stats;
		uint64_t t0 = qnpu_now_ns();

		memset(st, 0, sizeof(*st));
		/* its convolution's epilogue computed it, or (deferred until
		 * both operands exist) computes it now */
		if (op->res_conv)
			r = m->g->ops[op->res_conv - 1].res_defer ?
			    m->dev->backend->run_op(m,
				&m->g->ops[op->res_conv - 1]) : 0;
		else if (op->res_defer)
			r = 0;	/* runs in its ADD's place */
		else if (op->target == QNPU_TARGET_NPU)
			r = m->dev->backend->run_op(m, op);
		else
			r = qnpu_cpu_backend.run_op(m, op);
		/* A fused convolution's own output exists only for the layer
		 * callback: the CPU kernels (the same bytes) compute it. */
		if (!r && op->res_add && m->layer_cb)
			r = qnpu_cpu_backend.run_op(m, op);
		st->host_ns = qnpu_now_ns() - t0;
		if (r)
			return r;
		if (m->layer_cb) {
			struct qnpu_op_info info;

			qnpu_model_op_info(m, i, &info);
			r = m->layer_cb(&info, m->data[op->out[0]],
					m->layer_user);
			if (r)
				return qnpu_err(r, "run stopped by the layer callback at operator %d",
						i);
		}
	}
	return 0;
}
