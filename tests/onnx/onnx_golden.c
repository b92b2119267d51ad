// SPDX-License-Identifier: MIT
/*
 * Runs one ONNX model through libqnpu on every input of a file of
 * back-to-back inputs and compares each output with the golden file of
 * back-to-back outputs: byte for byte, or with --tol=T as float32 within
 * T (float models). With --npu, every operator the NPU implements
 * (convolution, matrix product, global average and max pool) must have
 * run on it with device cycles: the bytes alone would match as well after
 * a fall back to the CPU. (De)quantization, reshapes and the layout copies
 * at the graph's edges are CPU work by design (docs/onnx.md).
 *
 * With --out=FILE the outputs are also written there, back to back; a
 * GOLDEN of "-" compares nothing.
 *
 *   onnx_golden [--tol=T] [--npu] [--out=FILE] BACKEND MODEL.onnx INPUTS GOLDEN
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
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

int main(int argc, char **argv)
{
	struct qnpu_tensor_info ii, oi;
	struct qnpu_device *dev;
	struct qnpu_model *m;
	unsigned char *in, *gold, *out;
	size_t inlen, glen, n, k;
	double tol = -1, maxerr = 0;
	int npu = 0, a = 1, bad = 0, i;
	const char *outpath = NULL;
	FILE *of = NULL;

	for (; a < argc && !strncmp(argv[a], "--", 2); a++) {
		if (!strncmp(argv[a], "--tol=", 6))
			tol = atof(argv[a] + 6);
		else if (!strcmp(argv[a], "--npu"))
			npu = 1;
		else if (!strncmp(argv[a], "--out=", 6))
			outpath = argv[a] + 6;
	}
	if (argc - a != 4) {
		fprintf(stderr, "usage: onnx_golden [--tol=T] [--npu] BACKEND MODEL INPUTS GOLDEN\n");
		return 2;
	}
	in = slurp(argv[a + 2], &inlen);
	gold = strcmp(argv[a + 3], "-") ? slurp(argv[a + 3], &glen) : NULL;
	if (!gold)
		glen = 0;
	if (!in || (!gold && strcmp(argv[a + 3], "-"))) {
		fprintf(stderr, "FAIL: cannot read %s or %s\n", argv[a + 2], argv[a + 3]);
		return 1;
	}
	if (qnpu_device_open(argv[a], &dev) ||
	    qnpu_model_load_file(dev, argv[a + 1], &m)) {
		fprintf(stderr, "FAIL: %s\n", qnpu_last_error());
		return 1;
	}
	qnpu_model_input_info(m, 0, &ii);
	qnpu_model_output_info(m, 0, &oi);
	n = inlen / ii.bytes;
	if (!n || n * ii.bytes != inlen || (gold && n * oi.bytes != glen)) {
		fprintf(stderr, "FAIL: %zu input bytes, %zu golden bytes do not fit %zu/%zu per inference\n",
			inlen, glen, ii.bytes, oi.bytes);
		return 1;
	}
	out = malloc(oi.bytes);
	if (outpath && !(of = fopen(outpath, "wb"))) {
		fprintf(stderr, "FAIL: cannot write %s\n", outpath);
		return 1;
	}
	for (k = 0; k < n; k++) {
		if (qnpu_model_set_input(m, 0, in + k * ii.bytes, ii.bytes) ||
		    qnpu_model_run(m) ||
		    qnpu_model_get_output(m, 0, out, oi.bytes)) {
			fprintf(stderr, "FAIL: inference %zu: %s\n", k, qnpu_last_error());
			return 1;
		}
		if (of)
			fwrite(out, 1, oi.bytes, of);
		if (!gold)
			continue;
		if (tol >= 0) {
			const float *o = (const float *)out;
			const float *g = (const float *)(gold + k * oi.bytes);

			for (i = 0; i < (int)(oi.bytes / 4); i++) {
				double e = fabs((double)o[i] - g[i]);

				maxerr = e > maxerr ? e : maxerr;
				if (!(e <= tol)) {
					bad++;
					break;
				}
			}
		} else if (memcmp(out, gold + k * oi.bytes, oi.bytes)) {
			if (bad < 3)
				fprintf(stderr, "differs: inference %zu\n", k);
			bad++;
		}
	}
	if (npu) {
		int on_npu = 0;

		for (i = 0; i < qnpu_model_num_ops(m); i++) {
			struct qnpu_op_info op;
			struct qnpu_op_stats st;

			qnpu_model_op_info(m, i, &op);
			qnpu_model_op_stats(m, i, &st);
			if (strcmp(op.name, "QLINEAR_CONV") &&
			    strcmp(op.name, "QLINEAR_MATMUL") &&
			    strcmp(op.name, "QLINEAR_AVERAGE_POOL") &&
			    strcmp(op.name, "ONNX_MAX_POOL"))
				continue;
			if (op.target != QNPU_TARGET_NPU || !st.cycles) {
				fprintf(stderr, "op %d %s ran on the CPU: %s\n", i,
					op.name, st.note ? st.note : "");
				bad++;
			} else {
				on_npu++;
			}
		}
		printf("%d operators on the NPU; ", on_npu);
		if (!on_npu)
			bad++;
	}
	printf("%s %s: %zu inferences, %d bad%s", argv[a], argv[a + 1], n, bad,
	       tol >= 0 ? "" : " (byte-identical)\n");
	if (tol >= 0)
		printf(", max |error| %.3g (tolerance %g)\n", maxerr, tol);
	if (of)
		fclose(of);
	qnpu_model_free(m);
	qnpu_device_close(dev);
	free(in);
	free(gold);
	free(out);
	return bad ? 1 : 0;
}
