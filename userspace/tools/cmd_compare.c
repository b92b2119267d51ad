// SPDX-License-Identifier: MIT
/* qnpu compare: the quantization debugger, a float model against int8. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_cli.h"

static const char usage[] =
	"usage: qnpu compare [--backend=NAME] [--format=table|json] [--plot=FILE.svg]\n"
	"                    --input=FILE... FLOAT.tflite INT8.tflite\n"
	"\n"
	"Run a float32 model and an int8 model of it (ours or the TFLite\n"
	"converter's) on the same float32 inputs (every model input of a sample\n"
	"in order, samples back to back; several files add up). Tensors are\n"
	"matched by name, else by position in the operator sequence. Per layer:\n"
	"SQNR (dB), cosine similarity, max |error|, the float range against what\n"
	"the int8 tensor represents, and the fraction clipped; the table lists\n"
	"the layers that lose the most first. For the outputs: top-1 agreement\n"
	"(classifiers) and SQNR. --plot draws SQNR per layer as an SVG. The int8\n"
	"model runs on --backend (default cpu).\n";

static int by_sqnr(const void *a, const void *b)
{
	const struct qnpu_compare_layer *x = a, *y = b;

	if (x->sqnr_db != y->sqnr_db)
		return x->sqnr_db < y->sqnr_db ? -1 : 1;
	return x->op_index - y->op_index;
}

/* JSON has no infinity: an exact layer is null. */
static void json_num(const char *key, double v, const char *sep)
{
	if (isfinite(v))
		printf("\"%s\": %.6g%s", key, v, sep);
	else
		printf("\"%s\": null%s", key, sep);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct qnpu_compare_report *r)
{
	int i;

	printf("{\"inputs\": %d, \"classifier\": %s, ", r->num_inputs,
	       r->is_classifier ? "true" : "false");
	if (r->is_classifier)
		json_num("top1_agreement", r->top1_agreement, ", ");
	json_num("output_sqnr_db", r->output_sqnr_db, ", ");
	json_num("output_max_abs_err", r->output_max_abs_err, ", ");
	printf("\"layers\": [");
	for (i = 0; i < r->num_layers; i++) {
		const struct qnpu_compare_layer *l = &r->layers[i];

		printf("%s\n  {\"op\": %d, \"type\": \"%s\", \"name\": ",
		       i ? "," : "", l->op_index, l->op_name);
		json_str(l->name ? l->name : "");
		printf(", \"matched_by\": \"%s\", \"float_tensor\": %d, ",
		       l->by_name ? "name" : "position", l->float_index);
		json_num("sqnr_db", l->sqnr_db, ", ");
		json_num("cosine", l->cosine, ", ");
		json_num("max_abs_err", l->max_abs_err, ", ");
		json_num("min", l->min, ", ");
		json_num("max", l->max, ", ");
		json_num("qmin", l->qmin, ", ");
		json_num("qmax", l->qmax, ", ");
		json_num("clipped", l->clipped, "}");
	}
	printf("\n]}\n");
}

static void print_table(const struct qnpu_compare_report *r)
{
	struct qnpu_compare_layer *s = malloc(((size_t)r->num_layers + 1) *
					      sizeof(*s));
	int i;

	printf("%d inputs; outputs: ", r->num_inputs);
	if (r->is_classifier)
		printf("top-1 agreement %.1f%%, ", 100 * r->top1_agreement);
	printf("SQNR %.2f dB, max |err| %.4g\n\n", r->output_sqnr_db,
	       r->output_max_abs_err);
	printf("layers, the most lossy first:\n");
	printf("%4s  %-18s %8s %8s %10s  %-22s %-22s %8s  %s\n", "op", "type",
	       "SQNR dB", "cosine", "max|err|", "float range",
	       "int8 range", "clipped", "tensor");
	if (!s)
		return;
	memcpy(s, r->layers, (size_t)r->num_layers * sizeof(*s));
	qsort(s, (size_t)r->num_layers, sizeof(*s), by_sqnr);
	for (i = 0; i < r->num_layers; i++) {
		const struct qnpu_compare_layer *l = &s[i];
		char fr[40], qr[40];

		snprintf(fr, sizeof(fr), "[%.4g, %.4g]", l->min, l->max);
		if (isfinite(l->qmin))
			snprintf(qr, sizeof(qr), "[%.4g, %.4g]", l->qmin, l->qmax);
		else
			snprintf(qr, sizeof(qr), "float");
		printf("%4d  %-18s %8.2f %8.5f %10.4g  %-22s %-22s %7.3f%%  %s%s\n",
		       l->op_index, l->op_name, l->sqnr_db, l->cosine,
		       l->max_abs_err, fr, qr, 100 * l->clipped,
		       l->name ? l->name : "", l->by_name ? "" : " (by position)");
	}
	free(s);
}

/* SQNR per layer, in operator order, as bars. */
static int plot(const char *path, const struct qnpu_compare_report *r)
{
	const int w = 60 + 28 * (r->num_layers ? r->num_layers : 1), h = 320;
	double top = 10;
	char *svg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&svg, &len);
	int i, ret;

	if (!f)
		return cli_err("out of memory");
	for (i = 0; i < r->num_layers; i++)
		if (isfinite(r->layers[i].sqnr_db) && r->layers[i].sqnr_db > top)
			top = r->layers[i].sqnr_db;
	top = ceil(top / 10) * 10;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"10\">\n",
		w, h + 90);
	fprintf(f, "<text x=\"4\" y=\"14\" font-size=\"12\">SQNR per layer (dB), float vs int8; output %.2f dB</text>\n",
		r->output_sqnr_db);
	for (i = 0; i <= (int)top; i += 10) {
		double y = 30 + h - 30 - (h - 30) * i / top;

		fprintf(f, "<line x1=\"40\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"4\" y=\"%.1f\">%d</text>\n",
			w - 10, y, y, y + 3, i);
	}
	for (i = 0; i < r->num_layers; i++) {
		const struct qnpu_compare_layer *l = &r->layers[i];
		double v = isfinite(l->sqnr_db) ? l->sqnr_db : top;
		double bh = (h - 30) * (v < 0 ? 0 : v) / top;
		int x = 50 + 28 * i;

		fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"20\" height=\"%.1f\" fill=\"%s\"><title>op %d %s: %.2f dB</title></rect>\n",
			x, 30 + h - 30 - bh, bh,
			v < 20 ? "#d62728" : v < 30 ? "#ff7f0e" : "#1f77b4",
			l->op_index, l->name ? l->name : "", l->sqnr_db);
		fprintf(f, "<text transform=\"translate(%d,%d) rotate(60)\">%d %s</text>\n",
			x + 6, h + 4, l->op_index, l->op_name);
	}
	fprintf(f, "</svg>\n");
	fclose(f);
	ret = cli_write_file(path, svg, len);
	free(svg);
	return ret;
}

static int compare(struct cli *c)
{
	struct qnpu_compare_report *r = NULL;
	struct qnpu_calib *cal;
	struct qnpu_device *dev;
	struct qnpu_model *m;
	float *all = NULL;
	size_t total = 0, per;
	int i, ret = 1;

	if (c->num_models != 2) {
		fputs(usage, stderr);
		return cli_err("compare: takes FLOAT.tflite and INT8.tflite");
	}
	if (!c->num_inputs)
		return cli_err("compare: no inputs: give --input=FILE (float32 inputs, back to back)");
	/* The float model's inputs decide the sample size. */
	if (qnpu_calib_create(c->models[0], &cal))
		return cli_err("%s", qnpu_last_error());
	per = qnpu_calib_sample_floats(cal);
	qnpu_calib_free(cal);
	for (i = 0; i < c->num_inputs; i++) {
		float *buf, *grown;
		size_t len;

		if (cli_read_floats(c->inputs[i], per, &buf, &len))
			goto out;
		grown = realloc(all, total + len);
		if (!grown) {
			free(buf);
			cli_err("out of memory");
			goto out;
		}
		all = grown;
		memcpy((char *)all + total, buf, len);
		total += len;
		free(buf);
	}
	if (qnpu_device_open(c->backend ? c->backend : "cpu", &dev)) {
		cli_err("%s", qnpu_last_error());
		goto out;
	}
	if (qnpu_model_load_file(dev, c->models[1], &m)) {
		cli_err("%s", qnpu_last_error());
		goto out_dev;
	}
	if (qnpu_compare(c->models[0], m, all, total, &r)) {
		cli_err("%s", qnpu_last_error());
		goto out_model;
	}
	if (c->json)
		print_json(r);
	else
		print_table(r);
	ret = c->plot ? plot(c->plot, r) : 0;
	qnpu_compare_free(r);
out_model:
	qnpu_model_free(m);
out_dev:
	qnpu_device_close(dev);
out:
	free(all);
	return ret;
}

const struct cli_cmd cli_cmd_compare = {
	.name = "compare",
	.summary = "compare a float model and an int8 model of it, layer by layer",
	.usage = usage,
	.missing = "needs FLOAT.tflite and INT8.tflite",
	.opts = CLI_BACKEND | CLI_INPUT | CLI_FORMAT | CLI_PLOT,
	.flags = CLI_MANY_MODELS,
	.run = compare,
};
