// SPDX-License-Identifier: MIT
/*
 * Makes the broken ONNX models the error tests feed to qnpu, from a good
 * one, with protobuf-c (so each is valid protobuf but one thing wrong):
 *   unknown-op  the first non-Constant node becomes "FancyOp"
 *   dynamic     the first graph input's first dimension becomes "N"
 *   external    the first initializer's data moves to "weights.bin"
 *   opset       the default domain's opset becomes 9
 *   truncate    the file cut in half (not valid protobuf)
 *
 *   onnx_mutate MODE IN.onnx OUT.onnx
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/onnx.pb-c.h"

int main(int argc, char **argv)
{
	static Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
	static Onnx__StringStringEntryProto *locs[1] = { &loc };
	Onnx__ModelProto *m;
	FILE *f;
	uint8_t *b;
	long n;
	size_t i, len;

	if (argc != 4)
		return 2;
	f = fopen(argv[2], "rb");
	if (!f)
		return 1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		return 1;
	fclose(f);
	if (!strcmp(argv[1], "truncate")) {
		len = (size_t)n / 2;
		goto write;
	}
	m = onnx__model_proto__unpack(NULL, (size_t)n, b);
	if (!m)
		return 1;
	if (!strcmp(argv[1], "unknown-op")) {
		for (i = 0; i < m->graph->n_node; i++)
			if (strcmp(m->graph->node[i]->op_type, "Constant"))
				break;
		m->graph->node[i]->op_type = "FancyOp";
	} else if (!strcmp(argv[1], "dynamic")) {
		Onnx__TensorShapeProto__Dimension *d =
			m->graph->input[0]->type->tensor_type->shape->dim[0];

		d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
		d->dim_param = "N";
	} else if (!strcmp(argv[1], "external")) {
		Onnx__TensorProto *t = m->graph->initializer[0];

		t->has_raw_data = 0;
		t->n_float_data = 0;
		t->n_int32_data = 0;
		t->has_data_location = 1;
		t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
		loc.key = "location";
		loc.value = "weights.bin";
		t->n_external_data = 1;
		t->external_data = locs;
	} else if (!strcmp(argv[1], "opset")) {
		for (i = 0; i < m->n_opset_import; i++)
			if (!m->opset_import[i]->domain ||
			    !m->opset_import[i]->domain[0])
				m->opset_import[i]->version = 9;
	} else {
		return 2;
	}
	len = onnx__model_proto__get_packed_size(m);
	b = realloc(b, len);
	onnx__model_proto__pack(m, b);
write:
	f = fopen(argv[3], "wb");
	if (!f || fwrite(b, 1, len, f) != len)
		return 1;
	fclose(f);
	return 0;
}
