// SPDX-License-Identifier: MIT
/* qnpu quantize: a float32 .tflite into an int8 .tflite, or a float ONNX
 * model into a QDQ ONNX one (post-training). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_cli.h"

static const char usage[] =
	"usage: qnpu quantize -o OUT.tflite|OUT.onnx [--calibration=minmax|percentile[:P]|mse|entropy]\n"
	"                     [--per-tensor] [--float-io] [--bias-correction]\n"
	"                     --samples=FILE... FLOAT.tflite|FLOAT.onnx\n"
	"\n"
	"Post-training full-integer quantization to TFLite's int8 scheme: the float\n"
	"model runs over the samples (float32, every model input of a sample in\n"
	"order, samples back to back; several files add up), each activation's\n"
	"range is picked by the calibration method (default minmax; percentile\n"
	"defaults to 99.99), weights are symmetric int8 per output channel\n"
	"(--per-tensor: one scale per tensor), biases int32; inputs and outputs\n"
	"are int8 unless --float-io. --bias-correction folds the mean error of\n"
	"the rounded weights into the biases (then they differ from TFLite's\n"
	"converter). docs/quantization.md has the details.\n";

int cli_read_floats(const char *path, size_t floats_per_sample, float **buf,
		    size_t *bytes)
{
	size_t len, one = floats_per_sample * sizeof(float);
	FILE *f = fopen(path, "rb");
	long sz;

	*buf = NULL;
	if (!f)
		return cli_err("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return cli_err("%s: cannot tell its size", path);
	}
	len = (size_t)sz;
	if (!len || len % one) {
		fclose(f);
		return cli_err("%s: %zu bytes is not a whole number of %zu-byte samples (the model's inputs, float32)",
			       path, len, one);
	}
	*buf = malloc(len);
	if (!*buf || fread(*buf, 1, len, f) != len) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		return cli_err("%s: read failed", path);
	}
	fclose(f);
	*bytes = len;
	return 0;
}

int cli_calibration(const char *s, struct qnpu_quant_options *o)
{
	static const char *const names[] = { "minmax", "percentile", "mse",
					     "entropy" };
	size_t i, n = strcspn(s, ":");
	char *end;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !strncmp(s, names[i], n))
			break;
	if (i == sizeof(names) / sizeof(names[0]) ||
	    (s[n] && i != QNPU_CALIB_PERCENTILE))
		return cli_err("unknown calibration \"%s\" (minmax, percentile[:P], mse, entropy)",
			       s);
	o->method = (enum qnpu_calibration)i;
	if (s[n]) {
		o->percentile = strtod(s + n + 1, &end);
		if (*end || !(o->percentile > 50 && o->percentile <= 100))
			return cli_err("percentile \"%s\" is not a number in (50, 100]",
				       s + n + 1);
	}
	return 0;
}

static void progress(int pass, int done, int total, void *user)
{
	(void)user;
	if (done == total || done % 16 == 0)
		fprintf(stderr, "\rcalibrating: pass %d/2, sample %d/%d", pass,
			done, total);
	if (done == total)
		fputc('\n', stderr);
}

/* A .onnx file, by its first byte (a ModelProto field tag, not TFLite's). */
static bool cli_is_onnx(const char *path)
{
	unsigned char b[8] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(b, 1, sizeof(b), f) : 0;

	if (f)
		fclose(f);
	return n == sizeof(b) && memcmp(b + 4, "TFL3", 4) &&
	       (b[0] == 0x08 || (b[0] & 7) == 2);
}

static int quantize(struct cli *c)
{
	struct qnpu_quant_options o = { .method = QNPU_CALIB_MINMAX };
	struct qnpu_calib *cal;
	uint64_t t0 = cli_now_ns();
	int i, r = 1, n = 0;
	bool onnx;
	size_t len;
	void *out;

	if (c->num_models != 1) {
		fputs(usage, stderr);
		return cli_err("quantize: takes one FLOAT.tflite");
	}
	if (!c->num_samples)
		return cli_err("no calibration samples: give --samples=FILE (float32 inputs, back to back)");
	if (c->calibration && cli_calibration(c->calibration, &o))
		return 1;
	o.per_tensor = c->per_tensor != NULL;
	o.float_io = c->float_io != NULL;
	o.bias_correction = c->bias_corr != NULL;
	if (qnpu_calib_create(c->models[0], &cal))
		return cli_err("%s", qnpu_last_error());
	onnx = cli_is_onnx(c->models[0]);
	/* Progress only where someone watches it. */
	if (isatty(STDERR_FILENO))
		qnpu_calib_set_progress(cal, progress, NULL);
	for (i = 0; i < c->num_samples; i++) {
		float *buf;
		int k;

		if (cli_read_floats(c->samples[i], qnpu_calib_sample_floats(cal),
				    &buf, &len))
			goto out;
		k = qnpu_calib_add_samples(cal, buf, len);
		free(buf);
		if (k < 0) {
			cli_err("%s: %s", c->samples[i], qnpu_last_error());
			goto out;
		}
		n += k;
	}
	/* ONNX in, QDQ ONNX out; TFLite in, TFLite out */
	if ((onnx ? qnpu_quantize_onnx(cal, &o, &out, &len) :
	     qnpu_quantize_tflite(cal, &o, &out, &len))) {
		cli_err("%s", qnpu_last_error());
		goto out;
	}
	r = cli_write_file(c->output, out, len);
	free(out);
	if (!r)
		printf("%s: %s, %s calibration%s on %d samples, %zu bytes, %.2f s\n",
		       c->output, onnx ? "QDQ ONNX (uint8/int8)" : "int8", c->calibration ? c->calibration : "minmax",
		       o.bias_correction ? ", bias correction" : "", n, len,
		       (double)(cli_now_ns() - t0) / 1e9);
out:
	qnpu_calib_free(cal);
	return r;
}

const struct cli_cmd cli_cmd_quantize = {
	.name = "quantize",
	.summary = "quantize a float32 model to int8 (calibrated on samples)",
	.usage = usage,
	.missing = "needs -o OUT.tflite and one FLOAT.tflite",
	.shortopts = "o:",
	.opts = CLI_OUTPUT | CLI_CALIBRATION | CLI_PER_TENSOR | CLI_FLOAT_IO |
		CLI_SAMPLES | CLI_BIAS_CORRECTION,
	.need = CLI_OUTPUT,
	.flags = CLI_MANY_MODELS,
	.run = quantize,
};
