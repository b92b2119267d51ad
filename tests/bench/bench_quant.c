// SPDX-License-Identifier: MIT
/*
 * make bench-quant: each float model of MODELS/float quantized by every
 * calibration method on its calibration inputs, measured on its disjoint
 * evaluation inputs against TensorFlow Lite's own float outputs, beside
 * the TFLite converter's int8 model of the same network. Metrics as
 * MODELS/float/README.md defines them: inputs quantized with a float32
 * division, round half away and clamp; outputs dequantized; SQNR over all
 * outputs; top-1 agreement with the first index winning ties.
 *
 *   bench_quant MODELS_DIR [DEVICE]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qnpu.h"

static const char *const models[] = {
	"mlperf_tiny_ic_resnet8",
	"mlperf_tiny_kws_dscnn",
	"mlperf_tiny_ad_fc_autoencoder",
};

static float *read_floats(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	float *buf;
	long sz;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)sz + 4);
	if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*n = (size_t)sz / sizeof(float);
	return buf;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int argmax(const float *x, size_t n)
{
	size_t i, b = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return (int)b;
}

struct metrics {
	double top1, sqnr, maxerr;
};

/* The README's metrics of @m on @n inputs against the golden outputs. */
static int evaluate(struct qnpu_model *m, const float *in, size_t in_elems,
		    const float *gold, size_t out_elems, size_t n,
		    struct metrics *r)
{
	struct qnpu_tensor_info ii, oi;
	int8_t *q = malloc(in_elems * 4);
	float *o = malloc(out_elems * 4), *deq = malloc(out_elems * 4);
	double sf = 0, se = 0;
	size_t k, e;
	int agree = 0;

	qnpu_model_input_info(m, 0, &ii);
	qnpu_model_output_info(m, 0, &oi);
	r->maxerr = 0;
	for (k = 0; k < n; k++) {
		const float *x = in + k * in_elems, *f = gold + k * out_elems;

		if (ii.dtype == QNPU_DTYPE_INT8) {
			for (e = 0; e < in_elems; e++) {
				float v = roundf(x[e] / ii.scale) + (float)ii.zero_point;

				q[e] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
			}
			qnpu_model_set_input(m, 0, q, in_elems);
		} else {
			qnpu_model_set_input(m, 0, x, in_elems * 4);
		}
		if (qnpu_model_run(m))
			return -1;
		if (oi.dtype == QNPU_DTYPE_INT8) {
			qnpu_model_get_output(m, 0, o, out_elems);
			for (e = 0; e < out_elems; e++)
				deq[e] = (float)(((int8_t *)o)[e] - oi.zero_point) * oi.scale;
		} else {
			qnpu_model_get_output(m, 0, deq, out_elems * 4);
		}
		for (e = 0; e < out_elems; e++) {
			double d = (double)f[e] - deq[e];

			sf += (double)f[e] * f[e];
			se += d * d;
			if (fabs(d) > r->maxerr)
				r->maxerr = fabs(d);
		}
		agree += argmax(f, out_elems) == argmax(deq, out_elems);
	}
	r->top1 = 100.0 * agree / (double)n;
	r->sqnr = 10 * log10(sf / se);
	free(q);
	free(o);
	free(deq);
	return 0;
}

static void row(const char *model, const char *method, const struct metrics *r,
		int classifier, double secs)
{
	char t1[16];

	if (classifier)
		snprintf(t1, sizeof(t1), "%6.1f", r->top1);
	else
		snprintf(t1, sizeof(t1), "%6s", "-");
	printf("| %-29s | %-16s | %s | %7.2f | %8.4f |", model, method, t1,
	       r->sqnr, r->maxerr);
	if (secs >= 0)
		printf(" %6.3f |\n", secs);
	else
		printf(" %6s |\n", "-");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		struct qnpu_quant_options o;
	} methods[] = {
		{ "minmax", { QNPU_CALIB_MINMAX, 0, 0, 0, 0 } },
		{ "percentile:99.99", { QNPU_CALIB_PERCENTILE, 99.99, 0, 0, 0 } },
		{ "percentile:99.9", { QNPU_CALIB_PERCENTILE, 99.9, 0, 0, 0 } },
		{ "mse", { QNPU_CALIB_MSE, 0, 0, 0, 0 } },
		{ "entropy", { QNPU_CALIB_ENTROPY, 0, 0, 0, 0 } },
		{ "minmax +bc", { QNPU_CALIB_MINMAX, 0, 0, 0, 1 } },
		{ "mse +bc", { QNPU_CALIB_MSE, 0, 0, 0, 1 } },
		{ "entropy +bc", { QNPU_CALIB_ENTROPY, 0, 0, 0, 1 } },
	};
	const char *dir = argc > 1 ? argv[1] : "../shared/models";
	const char *devname = argc > 2 ? argv[2] : "cpu";
	struct qnpu_device *dev;
	size_t mi, k;

	if (qnpu_device_open(devname, &dev)) {
		fprintf(stderr, "bench-quant: %s\n", qnpu_last_error());
		return 1;
	}
	printf("Post-training quantization on the evaluation inputs, against TFLite's float outputs (device %s)\n\n",
	       devname);
	printf("| %-29s | %-16s | %6s | %7s | %8s | %6s |\n", "model", "calibration",
	       "top-1%", "SQNR dB", "max|err|", "time s");
	printf("|-------------------------------|------------------|--------|---------|----------|--------|\n");
	for (mi = 0; mi < sizeof(models) / sizeof(models[0]); mi++) {
		char path[1024];
		size_t nc, ne, ng, in_elems, out_elems, ncal, nev;
		float *cal, *ev, *gold;
		struct qnpu_calib *c;
		struct qnpu_model *m;
		struct metrics r;
		int classifier = mi < 2;
		double t0;

		snprintf(path, sizeof(path), "%s/float/inputs/%s_float/calib.f32.bin", dir, models[mi]);
		cal = read_floats(path, &nc);
		snprintf(path, sizeof(path), "%s/float/inputs/%s_float/eval.f32.bin", dir, models[mi]);
		ev = read_floats(path, &ne);
		snprintf(path, sizeof(path), "%s/float/golden/%s_float/eval.out.f32.bin", dir, models[mi]);
		gold = read_floats(path, &ng);
		if (!cal || !ev || !gold) {
			fprintf(stderr, "bench-quant: %s: cannot read\n", path);
			return 77;
		}
		snprintf(path, sizeof(path), "%s/float/tflite/%s_float.tflite", dir, models[mi]);
		t0 = now();
		if (qnpu_calib_create(path, &c) ||
		    qnpu_calib_add_samples(c, cal, nc * 4) < 0 ||
		    qnpu_calib_run(c)) {
			fprintf(stderr, "bench-quant: %s\n", qnpu_last_error());
			return 1;
		}
		in_elems = qnpu_calib_sample_floats(c);
		ncal = nc / in_elems;
		nev = ne / in_elems;
		out_elems = ng / nev;
		for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++) {
			char name[64];
			double t1;

			if (k)
				t0 = now();
			if (qnpu_quantize_model(c, &methods[k].o, dev, &m)) {
				fprintf(stderr, "bench-quant: %s\n", qnpu_last_error());
				return 1;
			}
			t1 = now() - t0;
			if (evaluate(m, ev, in_elems, gold, out_elems, nev, &r)) {
				fprintf(stderr, "bench-quant: %s\n", qnpu_last_error());
				return 1;
			}
			snprintf(name, sizeof(name), "%s", methods[k].name);
			row(models[mi], name, &r, classifier, t1);
			qnpu_model_free(m);
		}
		snprintf(path, sizeof(path), "%s/tflite/%s.tflite", dir, models[mi]);
		if (qnpu_model_load_file(dev, path, &m) ||
		    evaluate(m, ev, in_elems, gold, out_elems, nev, &r)) {
			fprintf(stderr, "bench-quant: %s\n", qnpu_last_error());
			return 1;
		}
		row(models[mi], "TFLite converter", &r, classifier, -1);
		qnpu_model_free(m);
		qnpu_calib_free(c);
		(void)ncal;
		free(cal);
		free(ev);
		free(gold);
	}
	printf("\n+bc: --bias-correction. time s: CPU seconds of this row's calibration\n"
	       "passes and quantization (the first row runs the float model over the\n"
	       "samples for min/max, the first histogram method once more; later rows\n"
	       "reuse them). TFLite converter: ../tflite/<model>.tflite.\n");
	qnpu_device_close(dev);
	return 0;
}
