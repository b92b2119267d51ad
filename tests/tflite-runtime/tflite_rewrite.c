// SPDX-License-Identifier: MIT
/*
 * tflite_rewrite IN.tflite OUT.tflite: import a model into the IR and
 * write it back with qnpu's TFLite writer, for the TFLite runtime test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "qnpu.h"
#include "import/qnpu_import.h"
#include "util/qnpu_util.h"

int main(int argc, char **argv)
{
	struct qnpu_ir_graph *g;
	uint8_t *in, *out;
	size_t in_len, out_len;
	FILE *f;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IN.tflite OUT.tflite\n", argv[0]);
		return 2;
	}
	r = qnpu_read_file(argv[1], &in, &in_len);
	if (!r)
		r = qnpu_tflite_import(in, in_len, &g);
	if (r) {
		fprintf(stderr, "%s: %s\n", argv[1], qnpu_last_error());
		return 1;
	}
	r = qnpu_tflite_write(g, &out, &out_len);
	qnpu_ir_graph_free(g);
	free(in);
	if (r) {
		fprintf(stderr, "%s: %s\n", argv[1], qnpu_last_error());
		return 1;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f)) {
		perror(argv[2]);
		return 1;
	}
	free(out);
	return 0;
}
