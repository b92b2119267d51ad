// SPDX-License-Identifier: MIT
/*
 * --dump-layers=DIR: every operator's first output of one run as
 * DIR/opNNN_<OP>_t<tensor>.bin, listed in DIR/index.tsv; the layout of the
 * shared models' golden layers, so `diff -r` compares the two.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "qnpu_cli.h"

static int dump_layer(const struct qnpu_op_info *op, const void *data,
		      void *user)
{
	struct cli *c = user;
	char path[4096], file[256], shape[96];
	FILE *f;

	snprintf(file, sizeof(file), "op%03d_%s_t%d.bin", op->index, op->name,
		 op->output.index);
	snprintf(path, sizeof(path), "%s/%s", c->dump_dir, file);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, op->output.bytes, f) != op->output.bytes) {
		if (f)
			fclose(f);
		cli_err("cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	if (fclose(f))
		return -EIO;
	cli_shape(&op->output, shape, sizeof(shape));
	fprintf(c->dump_index, "%d\t%s\t%d\t%s\t%s\t%s\t%.9g\t%d\t%s\n",
		op->index, op->name, op->output.index, op->output.name,
		qnpu_dtype_name(op->output.dtype), shape,
		(double)op->output.scale, op->output.zero_point, file);
	return 0;
}

static void index_path(const struct cli *c, char *path, size_t n)
{
	snprintf(path, n, "%s/index.tsv", c->dump_dir);
}

int cli_dump_start(struct cli *c)
{
	char path[4096];

	if (mkdir(c->dump_dir, 0777) && errno != EEXIST)
		return cli_err("cannot create %s: %s", c->dump_dir,
			       strerror(errno));
	index_path(c, path, sizeof(path));
	c->dump_index = fopen(path, "w");
	if (!c->dump_index)
		return cli_err("cannot write %s: %s", path, strerror(errno));
	fputs("op_index\topcode\ttensor_index\ttensor_name\tdtype\tshape\tscale\tzero_point\tfile\n",
	      c->dump_index);
	qnpu_model_set_layer_callback(c->model, dump_layer, c);
	return 0;
}

int cli_dump_stop(struct cli *c)
{
	char path[4096];
	int r;

	if (!c->dump_index)
		return 0;
	qnpu_model_set_layer_callback(c->model, NULL, NULL);
	r = fclose(c->dump_index);
	c->dump_index = NULL;
	if (!r)
		return 0;
	index_path(c, path, sizeof(path));
	return cli_err("cannot write %s: %s", path, strerror(errno));
}
