// SPDX-License-Identifier: MIT
/*
 * Runs ONNX backend node tests (libonnx-testdata: DIR/model.onnx with
 * DIR/test_data_set_N/{input,output}_K.pb) through libqnpu. Graph inputs
 * after the first (weights, scales, zero points) are baked into the
 * model as initializers with their data unchanged; the first is fed at
 * run time. Outputs are compared byte for byte, or with --tol=T as
 * float32 within T (float tests).
 *
 *   onnx_node_test [--tol=T] BACKEND TESTDIR...
 * Prints one line per test; exit 1 if any failed.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "import/onnx.pb-c.h"
#include "qnpu.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static Onnx__TensorProto *read_tensor(const char *dir, const char *kind, int k)
{
	char path[1024];
	size_t len;
	uint8_t *b;
	Onnx__TensorProto *t;

	snprintf(path, sizeof(path), "%s/test_data_set_0/%s_%d.pb", dir, kind, k);
	b = slurp(path, &len);
	if (!b)
		return NULL;
	t = onnx__tensor_proto__unpack(NULL, len, b);
	free(b);
	return t;
}

/* The tensor's elements as raw little-endian bytes. */
static uint8_t *raw(const Onnx__TensorProto *t, size_t *len)
{
	size_t n = 1, i, es;
	uint8_t *d;

	for (i = 0; i < t->n_dims; i++)
		n *= (size_t)t->dims[i];
	switch (t->data_type) {
	case 2: case 3: es = 1; break;
	case 7: es = 8; break;
	default: es = 4; break;
	}
	d = malloc(n * es + 1);
	*len = n * es;
	if (t->has_raw_data) {
		if (t->raw_data.len != n * es)
			return NULL;
		memcpy(d, t->raw_data.data, n * es);
	} else if (t->data_type == 1 && t->n_float_data == n) {
		memcpy(d, t->float_data, n * es);
	} else if (t->data_type == 7 && t->n_int64_data == n) {
		memcpy(d, t->int64_data, n * es);
	} else if (t->n_int32_data == n) {
		for (i = 0; i < n; i++) {
			if (es == 1)
				d[i] = (uint8_t)t->int32_data[i];
			else
				memcpy(d + 4 * i, &t->int32_data[i], 4);
		}
	} else {
		free(d);
		return NULL;
	}
	return d;
}

/* 0 pass, 1 fail; prints the line. */
static int run_test(const char *backend, const char *dir, double tol)
{
	char path[1024];
	size_t len, i, k, olen;
	uint8_t *b, *buf, *in = NULL;
	Onnx__ModelProto *m;
	Onnx__GraphProto *g;
	Onnx__TensorProto **inits = NULL;
	struct qnpu_device *dev = NULL;
	struct qnpu_model *qm = NULL;
	const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	int rc = 1, nbaked = 0, on_npu = 0;
	double maxerr = 0;
	char why[600] = "";

	snprintf(path, sizeof(path), "%s/model.onnx", dir);
	b = slurp(path, &len);
	m = b ? onnx__model_proto__unpack(NULL, len, b) : NULL;
	free(b);
	if (!m || !m->graph) {
		printf("FAIL: %s: cannot read %s\n", name, path);
		return 1;
	}
	g = m->graph;
	inits = calloc(g->n_input + g->n_initializer + 1, sizeof(*inits));
	for (i = 0; i < g->n_initializer; i++)
		inits[i] = g->initializer[i];
	/* Bake graph inputs 1.. as initializers (their data as given). */
	for (k = 1; k < g->n_input; k++) {
		Onnx__TensorProto *t = read_tensor(dir, "input", (int)k);

		if (!t) {
			snprintf(why, sizeof(why), "no input_%zu.pb", k);
			goto out;
		}
		t->name = strdup(g->input[k]->name);
		inits[g->n_initializer + nbaked++] = t;
	}
	{
		size_t n0 = g->n_initializer;
		Onnx__TensorProto **old = g->initializer;

		g->initializer = inits;
		g->n_initializer = n0 + (size_t)nbaked;
		len = onnx__model_proto__get_packed_size(m);
		buf = malloc(len);
		onnx__model_proto__pack(m, buf);
		g->initializer = old;
		g->n_initializer = n0;
	}
	if (qnpu_device_open(backend, &dev) ||
	    qnpu_model_load_memory(dev, buf, len, &qm)) {
		snprintf(why, sizeof(why), "%s", qnpu_last_error());
		free(buf);
		goto out;
	}
	free(buf);
	{
		Onnx__TensorProto *t = read_tensor(dir, "input", 0);

		in = t ? raw(t, &len) : NULL;
		if (t)
			onnx__tensor_proto__free_unpacked(t, NULL);
		if (!in || qnpu_model_set_input(qm, 0, in, len) ||
		    qnpu_model_run(qm)) {
			snprintf(why, sizeof(why), "%s", qnpu_last_error());
			goto out;
		}
	}
	for (k = 0; k < (size_t)qnpu_model_num_outputs(qm); k++) {
		Onnx__TensorProto *t = read_tensor(dir, "output", (int)k);
		uint8_t *want = t ? raw(t, &olen) : NULL, *got;
		struct qnpu_tensor_info oi;

		qnpu_model_output_info(qm, (int)k, &oi);
		if (t)
			onnx__tensor_proto__free_unpacked(t, NULL);
		if (!want || oi.bytes != olen) {
			snprintf(why, sizeof(why), "output %zu: %zu bytes, expected %zu",
				 k, oi.bytes, olen);
			free(want);
			goto out;
		}
		got = malloc(olen + 1);
		qnpu_model_get_output(qm, (int)k, got, olen);
		if (tol >= 0 && oi.dtype == QNPU_DTYPE_FLOAT32) {
			for (i = 0; i < olen / 4; i++) {
				float a, e;

				memcpy(&a, got + 4 * i, 4);
				memcpy(&e, want + 4 * i, 4);
				if (fabsf(a - e) > maxerr)
					maxerr = fabsf(a - e);
				if (!(fabsf(a - e) <= tol))
					snprintf(why, sizeof(why), "output %zu element %zu: %g, expected %g",
						 k, i, (double)a, (double)e);
			}
		} else if (memcmp(got, want, olen)) {
			for (i = 0; i < olen && got[i] == want[i]; i++)
				;
			snprintf(why, sizeof(why), "output %zu differs at byte %zu", k, i);
		}
		free(got);
		free(want);
		if (why[0])
			goto out;
	}
	for (k = 0; k < (size_t)qnpu_model_num_ops(qm); k++) {
		struct qnpu_op_info op;
		struct qnpu_op_stats st;

		qnpu_model_op_info(qm, (int)k, &op);
		qnpu_model_op_stats(qm, (int)k, &st);
		on_npu += op.target == QNPU_TARGET_NPU && st.cycles;
		if (st.note && st.note[0])
			printf("  %s: op %zu %s on the CPU: %s\n", name, k,
			       op.name, st.note);
	}
	rc = 0;
out:
	if (rc)
		printf("FAIL: %s: %s\n", name, why);
	else if (tol >= 0)
		printf("ok: %s (max |error| %.3g)\n", name, maxerr);
	else
		printf("ok: %s (outputs byte-identical, %d operators on the NPU)\n",
		       name, on_npu);
	free(in);
	qnpu_model_free(qm);
	qnpu_device_close(dev);
	for (i = 0; i < (size_t)nbaked; i++)
		onnx__tensor_proto__free_unpacked(inits[g->n_initializer + i], NULL);
	free(inits);
	onnx__model_proto__free_unpacked(m, NULL);
	return rc;
}

int main(int argc, char **argv)
{
	double tol = -1;
	int a = 1, fails = 0, n = 0;

	if (a < argc && !strncmp(argv[a], "--tol=", 6))
		tol = atof(argv[a++] + 6);
	if (argc - a < 2) {
		fprintf(stderr, "usage: onnx_node_test [--tol=T] BACKEND TESTDIR...\n");
		return 2;
	}
	for (int i = a + 1; i < argc; i++, n++)
		fails += run_test(argv[a], argv[i], tol);
	printf("%d of %d node tests passed on %s\n", n - fails, n, argv[a]);
	return fails ? 1 : 0;
}
