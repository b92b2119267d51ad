/* SPDX-License-Identifier: MIT */
/*
 * Importers: model files in, IR graphs out. Each reader checks every
 * offset and size against the buffer before use (qnpu_fb.h for
 * FlatBuffers). May include: ir/, util/.
 */
#ifndef QNPU_IMPORT_H
#define QNPU_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ir/qnpu_ir.h"

/* Import a TFLite flatbuffer; @buf must outlive the graph. */
int qnpu_tflite_import(const uint8_t *buf, size_t len,
		       struct qnpu_ir_graph **out);

#endif /* QNPU_IMPORT_H */
