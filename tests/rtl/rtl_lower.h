/* SPDX-License-Identifier: MIT */
/* A small lowering of layers to qnpu command streams, for the RTL tests and
 * the benchmark: band tiling over output rows, output-channel tiles of C
 * columns, pixel tiles of R rows, IC chunks chained through the accumulators,
 * VTA-style tokens per group (loads -> computes -> store). It is a worked
 * example of docs/hw-spec.md, not the compiler. */
#ifndef RTL_LOWER_H
#define RTL_LOWER_H

#include "rtl_harness.h"
#include "rtl_ref.h"

struct emit {
	struct rh_cmd *c;
	int n, cap;
};

void emit_init(struct emit *e);
void emit_free(struct emit *e);
struct rh_cmd *emit_new(struct emit *e);

/* op: QNPU_OP_CONV, DWCONV, MAXPOOL, AVGPOOL. Buffers are device VAs
 * (NHWC input, filter in TFLite layout, output NHWC). max_band limits the
 * output rows per band (0: as many as fit), ic_chunks splits CONV's input
 * channels into that many accumulating commands. Returns 0 or -E2BIG if
 * the layer does not fit this simple tiling. */
int lower_layer(struct rh *h, struct emit *e, int op, const struct ref_conv *p,
		uint64_t in, uint64_t filt, uint64_t out, int max_band, int ic_chunks);
/* ADD of n bytes; p holds the TFLite add parameters. */
/* lower_layer with a fused residual ADD (RES): out = ADD(layer, residual),
 * the layer's output being operand A (res->off_a must be -p->out_zp). */
int lower_layer_res(struct rh *h, struct emit *e, int op, const struct ref_conv *p,
		    uint64_t in, uint64_t filt, uint64_t out, int max_band, int ic_chunks,
		    const struct ref_add *res, uint64_t res_va);
/* The packed vector mode with @groups column groups (DWCONV, MAXPOOL; AVGPOOL
 * with 1): dense input rows; the output words raw at out (rtl_lower.c), in
 * bands of *band_out output rows. */
int lower_layer_packed(struct rh *h, struct emit *e, int op, const struct ref_conv *p,
		       uint64_t in, uint64_t filt, uint64_t out, int max_band, int groups,
		       int *band_out);
int lower_add(struct rh *h, struct emit *e, const struct ref_add *p, int n, uint64_t a,
	      uint64_t b, uint64_t out);

#endif
