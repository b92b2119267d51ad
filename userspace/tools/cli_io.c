// SPDX-License-Identifier: MIT
/* The qnpu CLI's inputs and outputs: --input files, inferences, --output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_cli.h"

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	*buf = malloc(n ? (size_t)n : 1);
	if (!*buf) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		free(*buf);
		*buf = NULL;
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

/* Input @i from its --input file: a whole number of inferences, the same
 * number as the inputs before it. */
static int read_input(struct cli *c, int i, const struct qnpu_tensor_info *ti)
{
	const char *path = c->inputs[i];
	size_t len = 0, n, one = ti->bytes / (size_t)c->batch;
	struct qnpu_tensor_info t1 = *ti;
	char shape[96];
	int r;

	r = read_file(path, &c->in_buf[i], &len);
	if (r)
		return cli_err("cannot read input %s: %s", path, strerror(-r));
	n = len / one;
	if (!len || len % one) {
		/* one sample's shape, whatever the batch */
		if (t1.rank)
			t1.shape[0] /= c->batch;
		cli_shape(&t1, shape, sizeof(shape));
		return cli_err(
			"input %s is %zu bytes, not a multiple of input %d (%s %s, %zu bytes)",
			path, len, i, qnpu_dtype_name(ti->dtype), shape, one);
	}
	if (i && n != c->num_inferences)
		return cli_err(
			"input %s holds %zu inferences, input %s holds %zu",
			path, n, c->inputs[0], c->num_inferences);
	c->num_inferences = n;
	return 0;
}

int cli_read_inputs(struct cli *c)
{
	int i, n = qnpu_model_num_inputs(c->model);

	if (c->num_inputs && c->num_inputs != n)
		return cli_err("model has %d inputs, %d --input given", n,
			       c->num_inputs);
	c->in_buf = calloc(n ? (size_t)n : 1, sizeof(*c->in_buf));
	if (!c->in_buf)
		return cli_err("out of memory");
	c->num_in_buf = n;
	c->num_inferences = (size_t)c->batch; /* zeros: one run */
	for (i = 0; i < n; i++) {
		struct qnpu_tensor_info ti;

		qnpu_model_input_info(c->model, i, &ti);
		if (c->num_inputs) {
			if (read_input(c, i, &ti))
				return 1;
		} else if (!(c->in_buf[i] = calloc(1, ti.bytes))) {
			return cli_err("out of memory");
		}
	}
	return 0;
}

int cli_set_inputs(struct cli *c, size_t k)
{
	size_t s0 = k * (size_t)c->batch, ns;
	int i, r;

	/* samples of this run present in the files; zeros after them */
	ns = c->num_inferences - s0 < (size_t)c->batch ?
	     c->num_inferences - s0 : (size_t)c->batch;
	for (i = 0; i < c->num_in_buf; i++) {
		struct qnpu_tensor_info ti;
		size_t one;
		unsigned char *buf;

		qnpu_model_input_info(c->model, i, &ti);
		one = ti.bytes / (size_t)c->batch;
		if (ns == (size_t)c->batch) {
			r = qnpu_model_set_input(c->model, i,
						 c->in_buf[i] + s0 * one,
						 ti.bytes);
		} else {
			buf = calloc(1, ti.bytes);
			if (!buf)
				return cli_err("out of memory");
			memcpy(buf, c->in_buf[i] + s0 * one, ns * one);
			r = qnpu_model_set_input(c->model, i, buf, ti.bytes);
			free(buf);
		}
		if (r)
			return cli_err("%s", qnpu_last_error());
	}
	return 0;
}

/* The bytes of one sample's outputs, all of them in model order. */
static size_t sample_out_bytes(struct qnpu_model *model, int batch)
{
	size_t len = 0;
	int i;

	for (i = 0; i < qnpu_model_num_outputs(model); i++) {
		struct qnpu_tensor_info ti;

		qnpu_model_output_info(model, i, &ti);
		len += ti.bytes / (size_t)batch;
	}
	return len;
}

/* The first @ns samples of the last run, each with all its outputs in
 * model order, at @out (@per bytes a sample); 0 or 1. */
static int get_outputs(struct qnpu_model *model, int batch, size_t ns,
		       size_t per, unsigned char *out)
{
	size_t off = 0, s, one;
	int i;

	for (i = 0; i < qnpu_model_num_outputs(model); i++) {
		struct qnpu_tensor_info ti;
		unsigned char *all;

		qnpu_model_output_info(model, i, &ti);
		one = ti.bytes / (size_t)batch;
		all = malloc(ti.bytes);
		if (!all)
			return cli_err("out of memory");
		qnpu_model_get_output(model, i, all, ti.bytes);
		for (s = 0; s < ns; s++)
			memcpy(out + s * per + off, all + s * one, one);
		free(all);
		off += one;
	}
	return 0;
}

int cli_infer(struct cli *c, unsigned char **out, size_t *len)
{
	size_t per = sample_out_bytes(c->model, c->batch), k, s0, ns;
	size_t runs = (c->num_inferences + (size_t)c->batch - 1) /
		      (size_t)c->batch;

	*len = per * c->num_inferences;
	*out = malloc(*len ? *len : 1);
	if (!*out)
		return cli_err("out of memory");
	for (k = 0; k < runs; k++) {
		s0 = k * (size_t)c->batch;
		ns = c->num_inferences - s0 < (size_t)c->batch ?
		     c->num_inferences - s0 : (size_t)c->batch;
		if (cli_set_inputs(c, k))
			goto err;
		if (qnpu_model_run(c->model)) {
			cli_err("run failed: %s", qnpu_last_error());
			goto err;
		}
		if (cli_dump_stop(c) ||
		    get_outputs(c->model, c->batch, ns, per, *out + s0 * per))
			goto err;
	}
	return 0;
err:
	free(*out);
	*out = NULL;
	return 1;
}

int cli_write_file(const char *path, const void *buf, size_t len)
{
	char tmp[4096];
	FILE *f;
	int r = 0;

	/* Write beside and rename, so a failed run never leaves half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		return cli_err("cannot write %s: %s", path, strerror(errno));
	if (fwrite(buf, 1, len, f) != len)
		r = EIO;
	if (fclose(f) && !r)
		r = EIO;
	if (!r && rename(tmp, path))
		r = errno;
	if (r) {
		remove(tmp);
		return cli_err("cannot write %s: %s", path, strerror(r));
	}
	return 0;
}
