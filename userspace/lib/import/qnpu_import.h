/* SPDX-License-Identifier: MIT */
/*
 * Importers: model files in, IR graphs out (and TFLite's writer: an IR
 * graph out as a .tflite). Each reader checks every
 * offset and size against the buffer before use (qnpu_fb.h for
 * FlatBuffers). May include: ir/, util/.
 */
#ifndef QNPU_IMPORT_H
#define QNPU_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/qnpu_ir.h"

/* Import a TFLite flatbuffer; @buf must outlive the graph. */
int qnpu_tflite_import(const uint8_t *buf, size_t len,
		       struct qnpu_ir_graph **out);

/*
 * Import an ONNX model (protobuf, opsets 10-17): QDQ groups folded into
 * quantized operators, QOperator ops mapped directly, ONNX Runtime's
 * rounding (QNPU_ROUND_ONNX). The graph keeps no pointer into @buf.
 * -EINVAL with a one-line qnpu_last_error() for a malformed file,
 * -ENOTSUP for what qnpu does not run (operator, dynamic shape, external
 * data).
 */
int qnpu_onnx_import(const uint8_t *buf, size_t len,
		     struct qnpu_ir_graph **out);
/* The calibrated float range of IR tensor @tensor; 0 or -errno. */
typedef int (*qnpu_onnx_range_fn)(void *ctx, int tensor, float *min,
				  float *max);
/*
 * The float ONNX model @buf (imported as @ir) as a QDQ model: UINT8
 * activations from @range, INT8 weights per output channel (or
 * @per_tensor), INT32 biases (qnpu_onnx_qdq.c). *@out is malloc()ed.
 */
int qnpu_onnx_write_qdq(const uint8_t *buf, size_t len,
			const struct qnpu_ir_graph *ir, qnpu_onnx_range_fn range,
			void *ctx, bool per_tensor, uint8_t **out,
			size_t *out_len);

/* Whether @buf looks like an ONNX ModelProto rather than TFLite. */
bool qnpu_onnx_is(const uint8_t *buf, size_t len);

/*
 * Write @g as a TFLite flatbuffer (schema version 3, "TFL3") that the
 * TFLite runtime loads: *@buf is malloc()ed, the caller frees it; @g
 * stays the caller's. The same graph always gives the same bytes.
 * -ENOTSUP (and qnpu_last_error()) for an operator the writer has no
 * encoding for, -EINVAL for an inconsistent graph.
 */
int qnpu_tflite_write(const struct qnpu_ir_graph *g, uint8_t **buf,
		      size_t *len);

#endif /* QNPU_IMPORT_H */
