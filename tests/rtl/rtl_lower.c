// SPDX-License-Identifier: MIT
#include "rtl_lower.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void emit_init(struct emit *e) { memset(e, 0, sizeof(*e)); }

void emit_free(struct emit *e)
{
	free(e->c);
	memset(e, 0, sizeof(*e));
}

struct rh_cmd *emit_new(struct emit *e)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 256;
		e->c = realloc(e->c, (size_t)e->cap * sizeof(*e->c));
		if (!e->c)
			abort();
	}
	memset(&e->c[e->n], 0, sizeof(e->c[0]));
	return &e->c[e->n++];
}

/* Tokens for one group: [l0,l1) loads, [c0,c1) computes, [s0,s1) stores. */
static void sync_group(struct emit *e, int l0, int l1, int c0, int c1, int s0, int s1,
		       int first)
{
	if (!first)
		RH_SET(&e->c[l0], POP_NEXT, 1);
	RH_SET(&e->c[l1 - 1], PUSH_NEXT, 1);
	RH_SET(&e->c[c0], POP_PREV, 1);
	if (!first)
		RH_SET(&e->c[c0], POP_NEXT, 1);
	RH_SET(&e->c[c1 - 1], PUSH_PREV, 1);
	RH_SET(&e->c[c1 - 1], PUSH_NEXT, 1);
	RH_SET(&e->c[s0], POP_PREV, 1);
	RH_SET(&e->c[s1 - 1], PUSH_PREV, 1);
}

/* LOAD of rows x row_bytes, split so that each command has < 65536 rows. */
static void load_rows(struct emit *e, int buf, uint64_t va, uint32_t dstride,
		      uint32_t row_bytes, uint32_t rows, uint32_t sram, uint32_t sstride)
{
	while (rows) {
		uint32_t n = rows > 65535 ? 65535 : rows;
		rh_load(emit_new(e), buf, va, dstride, row_bytes, n, sram, sstride);
		va += (uint64_t)dstride * n;
		sram += sstride * n;
		rows -= n;
	}
}

/* A contiguous blob of bytes into consecutive SRAM words. */
static void load_blob(struct emit *e, int buf, uint64_t va, uint32_t bytes, uint32_t sram,
		      uint32_t cols)
{
	const uint32_t chunk = 65536 - cols; /* multiple of cols */
	while (bytes) {
		uint32_t n = bytes > chunk ? chunk : bytes;
		rh_load(emit_new(e), buf, va, 0, n, 1, sram, 0);
		va += n;
		sram += n / cols;
		bytes -= n;
	}
}

static void set_quant(struct rh_cmd *c, const struct ref_conv *p)
{
	RH_SET(c, IN_OFF, p->in_off);
	RH_SET(c, OUT_ZP, p->out_zp);
	RH_SET(c, ACT_MIN, p->act_min);
	RH_SET(c, ACT_MAX, p->act_max);
}

/* Packs bias/mult/shift of output channels [oc0, oc0 + n) as a parameter set. */
static uint64_t put_params(struct rh *h, const struct ref_conv *p, int oc0, int n, int32_t bias_override)
{
	const int C = h->p.cols;
	int32_t *ps;
	uint64_t va = rh_alloc(h, 12u * C, 0, (void **)&ps);
	for (int c = 0; c < n; c++) {
		ps[c] = bias_override ? 0 : (p->bias ? p->bias[oc0 + c] : 0);
		ps[C + c] = p->mult[oc0 + c];
		ps[2 * C + c] = p->shift[oc0 + c];
	}
	return va;
}

/* The residual parameter set (RES): mult_a, mult_b, mult_o in every entry. */
static uint64_t put_res_params(struct rh *h, const struct ref_add *r)
{
	const int C = h->p.cols;
	int32_t *ps;
	uint64_t va = rh_alloc(h, 12u * C, 0, (void **)&ps);
	for (int c = 0; c < C; c++) {
		ps[c] = r->mult_a;
		ps[C + c] = r->mult_b;
		ps[2 * C + c] = r->mult_o;
	}
	return va;
}

int lower_layer(struct rh *h, struct emit *e, int op, const struct ref_conv *p,
		uint64_t in, uint64_t filt, uint64_t out, int max_band, int ic_chunks)
{
	return lower_layer_res(h, e, op, p, in, filt, out, max_band, ic_chunks, NULL, 0);
}

int lower_layer_res(struct rh *h, struct emit *e, int op, const struct ref_conv *p,
		    uint64_t in, uint64_t filt, uint64_t out, int max_band, int ic_chunks,
		    const struct ref_add *res, uint64_t res_va)
{
	const int R = h->p.rows, C = h->p.cols;
	const int vector = op != QNPU_OP_CONV;
	const int dh = op == QNPU_OP_CONV || op == QNPU_OP_DWCONV ? p->dh : 1;
	const int dw = op == QNPU_OP_CONV || op == QNPU_OP_DWCONV ? p->dw : 1;
	const int oc = vector && op != QNPU_OP_DWCONV ? p->ic : p->oc;
	const int dm = op == QNPU_OP_DWCONV ? p->dm : 1;
	const int abuf_words = h->p.abuf_bytes / C, wbuf_words = h->p.wbuf_bytes / C;
	const int obuf_words = h->p.obuf_bytes / C;
	const int8_t *fhost = filt ? rh_host(h, filt) : NULL;
	int first = 1;

	if (ic_chunks < 1 || vector)
		ic_chunks = 1;
	if (ic_chunks > p->ic)
		ic_chunks = p->ic;

	/* words per input row in ABUF */
	int row_words = vector ? p->iw : (p->iw * p->ic + C - 1) / C;
	int band = p->oh;
	if (max_band > 0 && band > max_band)
		band = max_band;
	for (;; band--) {
		if (band < 1)
			return -E2BIG;
		int in_rows = (band - 1) * p->sh + (p->kh - 1) * dh + 1;
		if (in_rows * row_words + (res ? band * p->ow : 0) <= abuf_words &&
		    band * p->ow <= obuf_words &&
		    band * p->ow <= 65535)
			break;
	}
	if (!vector && (p->iw * p->ic > 65535))
		return -E2BIG;

	/* the residual words of a band, one per output pixel, at the top of ABUF */
	const int rbase = abuf_words - band * p->ow;
	const uint64_t rset = res ? put_res_params(h, res) : 0;
	for (int oy0 = 0; oy0 < p->oh; oy0 += band) {
		int bh = p->oh - oy0 < band ? p->oh - oy0 : band;
		int y_lo = oy0 * p->sh - p->pad_t;
		int y_hi = (oy0 + bh - 1) * p->sh - p->pad_t + (p->kh - 1) * dh + 1;
		if (y_lo < 0)
			y_lo = 0;
		if (y_hi > p->ih)
			y_hi = p->ih;
		int in_rows = y_hi > y_lo ? y_hi - y_lo : 0;
		int pad_t = p->pad_t + y_lo - oy0 * p->sh;
		int npx = bh * p->ow;

		for (int oc0 = 0; oc0 < oc; oc0 += C) {
			int nc = oc - oc0 < C ? oc - oc0 : C;
			int ic0 = oc0 / dm;
			int nic = (oc0 + nc - 1) / dm - ic0 + 1;
			int l0 = e->n;

			/* input band */
			if (in_rows == 0) {
				/* all padding: still load something for the token chain */
				rh_load(emit_new(e), QNPU_BUF_ABUF, in, 0, 1, 1, 0, 0);
			} else if (vector) {
				load_rows(e, QNPU_BUF_ABUF,
					  in + ((uint64_t)y_lo * p->iw) * p->ic + ic0, p->ic, nic,
					  in_rows * p->iw, 0, 1);
			} else {
				load_rows(e, QNPU_BUF_ABUF, in + (uint64_t)y_lo * p->iw * p->ic,
					  p->iw * p->ic, p->iw * p->ic, in_rows, 0, row_words);
			}
			/* weights and parameters */
			int ksteps = 0;
			if (op == QNPU_OP_CONV || op == QNPU_OP_DWCONV) {
				int kk = p->kh * p->kw;
				ksteps = op == QNPU_OP_CONV ? kk * p->ic : kk;
				if (ksteps > wbuf_words)
					return -E2BIG;
				int8_t *w;
				uint64_t wva = rh_alloc(h, (size_t)ksteps * C, 0, (void **)&w);
				int k = 0;
				int icb = 0;
				for (int ch = 0; ch < ic_chunks; ch++) {
					int ice = p->ic * (ch + 1) / ic_chunks;
					if (op == QNPU_OP_DWCONV)
						ice = 1;
					for (int t = 0; t < kk; t++)
						for (int i = icb; i < ice; i++, k++)
							for (int c = 0; c < nc; c++)
								w[k * C + c] = op == QNPU_OP_CONV ?
									fhost[((size_t)(oc0 + c) * kk + t) * p->ic + i] :
									fhost[(size_t)t * p->oc + oc0 + c];
					icb = ice;
				}
				load_blob(e, QNPU_BUF_WBUF, wva, (uint32_t)ksteps * C, 0, C);
				load_blob(e, QNPU_BUF_PBUF, put_params(h, p, oc0, nc, 0), 12u * C, 0, C);
			}
			if (res) {
				load_rows(e, QNPU_BUF_ABUF, res_va + ((uint64_t)oy0 * p->ow) * oc + oc0,
					  oc, nc, npx, rbase, 1);
				load_blob(e, QNPU_BUF_PBUF, rset, 12u * C, 12, C);
			}
			int l1 = e->n, c0 = e->n;

			for (int p0 = 0; p0 < npx; p0 += R) {
				int np = npx - p0 < R ? npx - p0 : R;
				int wbase = 0, icb = 0;
				for (int ch = 0; ch < ic_chunks; ch++) {
					int ice = p->ic * (ch + 1) / ic_chunks;
					struct rh_cmd *c = emit_new(e);
					RH_SET(c, OPCODE, op);
					RH_SET(c, ACC_CLEAR, ch == 0);
					RH_SET(c, DRAIN, ch == ic_chunks - 1);
					RH_SET(c, A_ADDR, vector ? 0 : icb);
					RH_SET(c, PIX_STRIDE, vector ? C : p->ic);
					RH_SET(c, ROW_STRIDE, row_words * C);
					RH_SET(c, IN_H, in_rows);
					RH_SET(c, IN_W, p->iw);
					RH_SET(c, OUT_W, p->ow);
					RH_SET(c, PIX0, p0);
					RH_SET(c, NPIX, np);
					RH_SET(c, NCOLS, nc);
					RH_SET(c, KH, p->kh);
					RH_SET(c, KW, p->kw);
					RH_SET(c, STRIDE_H, p->sh);
					RH_SET(c, STRIDE_W, p->sw);
					RH_SET(c, PAD_T, pad_t);
					RH_SET(c, PAD_L, p->pad_l);
					RH_SET(c, DIL_H, dh);
					RH_SET(c, DIL_W, dw);
					RH_SET(c, IC, op == QNPU_OP_CONV ? ice - icb : dm);
					RH_SET(c, W_ADDR, wbase);
					RH_SET(c, P_ADDR, 0);
					RH_SET(c, DM_PHASE, oc0 % dm);
					RH_SET(c, O_ADDR, p0);
					RH_SET(c, O_STRIDE, 1);
					set_quant(c, p);
					if (res && ch == ic_chunks - 1) {
						RH_SET(c, RES, 1);
						RH_SET(c, B_ADDR, (rbase + p0) * C);
						RH_SET(c, RES_STRIDE, C);
						RH_SET(c, IN_OFF_B, res->off_b);
						RH_SET(c, ADD_LSHIFT, res->lshift);
						RH_SET(c, ADD_SHIFT_A, res->shift_a);
						RH_SET(c, ADD_SHIFT_B, res->shift_b);
						RH_SET(c, RES_OUT_SHIFT, res->shift_o);
						RH_SET(c, RES_ZP, res->out_zp);
						RH_SET(c, RES_MIN, res->act_min);
						RH_SET(c, RES_MAX, res->act_max);
					}
					wbase += p->kh * p->kw * (ice - icb);
					icb = ice;
				}
			}
			int c1 = e->n, s0 = e->n;
			rh_store(emit_new(e), out + ((uint64_t)oy0 * p->ow) * oc + oc0, oc, nc, npx,
				 0, 1);
			sync_group(e, l0, l1, c0, c1, s0, e->n, first);
			first = 0;
		}
	}
	return 0;
}

int lower_add(struct rh *h, struct emit *e, const struct ref_add *p, int n, uint64_t a,
	      uint64_t b, uint64_t out)
{
	const int R = h->p.rows, C = h->p.cols;
	int chunk = h->p.abuf_bytes / 2;
	if (chunk > (int)h->p.obuf_bytes)
		chunk = h->p.obuf_bytes;
	if (chunk > 32768)
		chunk = 32768;
	int32_t *ps;
	uint64_t pva = rh_alloc(h, 12u * C, 0, (void **)&ps);
	for (int c = 0; c < C; c++) {
		ps[C + c] = p->mult_o;
		ps[2 * C + c] = p->shift_o;
	}
	int first = 1;
	for (int off = 0; off < n; off += chunk) {
		int len = n - off < chunk ? n - off : chunk;
		int words = (len + C - 1) / C;
		int l0 = e->n;
		rh_load(emit_new(e), QNPU_BUF_ABUF, a + off, 0, len, 1, 0, 0);
		rh_load(emit_new(e), QNPU_BUF_ABUF, b + off, 0, len, 1, words, 0);
		rh_load(emit_new(e), QNPU_BUF_PBUF, pva, 0, 12 * C, 1, 0, 0);
		int l1 = e->n, c0 = e->n;
		for (int p0 = 0; p0 < words; p0 += R) {
			struct rh_cmd *c = emit_new(e);
			RH_SET(c, OPCODE, QNPU_OP_ADD);
			RH_SET(c, ACC_CLEAR, 1);
			RH_SET(c, DRAIN, 1);
			RH_SET(c, A_ADDR, 0);
			RH_SET(c, B_ADDR, words * C);
			RH_SET(c, PIX_STRIDE, C);
			RH_SET(c, ROW_STRIDE, 0);
			RH_SET(c, OUT_W, 65535);
			RH_SET(c, PIX0, p0);
			RH_SET(c, NPIX, words - p0 < R ? words - p0 : R);
			RH_SET(c, NCOLS, C);
			RH_SET(c, ADD_MULT_A, p->mult_a);
			RH_SET(c, ADD_MULT_B, p->mult_b);
			RH_SET(c, ADD_SHIFT_A, p->shift_a);
			RH_SET(c, ADD_SHIFT_B, p->shift_b);
			RH_SET(c, ADD_LSHIFT, p->lshift);
			RH_SET(c, IN_OFF, p->off_a);
			RH_SET(c, IN_OFF_B, p->off_b);
			RH_SET(c, OUT_ZP, p->out_zp);
			RH_SET(c, ACT_MIN, p->act_min);
			RH_SET(c, ACT_MAX, p->act_max);
			RH_SET(c, P_ADDR, 0);
			RH_SET(c, O_ADDR, p0);
			RH_SET(c, O_STRIDE, 1);
		}
		int c1 = e->n, s0 = e->n;
		rh_store(emit_new(e), out + off, 0, len, 1, 0, 0);
		sync_group(e, l0, l1, c0, c1, s0, e->n, first);
		first = 0;
	}
	return 0;
}

/*
 * The packed vector mode (PACKED, COL_GROUPS = groups): the input stays
 * dense in ABUF as image rows of iw * ic bytes (C a multiple of ic), each
 * tap addressing its pixel's byte; groups > 1 puts groups pixels in one
 * array row, groups of C / groups columns computing one each. The OBUF
 * words go out raw: band after band, channel tile (C / groups channels)
 * after tile, ceil(pixels / groups) words of C bytes each, pixel j of the
 * tile at word j / groups, byte (j % groups) * C / groups + channel.
 */
int lower_layer_packed(struct rh *h, struct emit *e, int op, const struct ref_conv *p,
		       uint64_t in, uint64_t filt, uint64_t out, int max_band, int groups,
		       int *band_out)
{
	const int R = h->p.rows, C = h->p.cols, S = groups, CW = C / S;
	const int oc = op == QNPU_OP_DWCONV ? p->oc : p->ic;
	const int dm = op == QNPU_OP_DWCONV ? p->dm : 1;
	const int dh = op == QNPU_OP_DWCONV ? p->dh : 1;
	const int dw = op == QNPU_OP_DWCONV ? p->dw : 1;
	const int abuf_words = h->p.abuf_bytes / C, obuf_words = h->p.obuf_bytes / C;
	const int row_words = (p->iw * p->ic + C - 1) / C;
	const int8_t *fhost = filt ? rh_host(h, filt) : NULL;
	int first = 1, band = p->oh;
	uint64_t o = out;

	if (C % p->ic || p->iw * p->ic > 65535)
		return -E2BIG;
	if (max_band > 0 && band > max_band)
		band = max_band;
	for (;; band--) {
		if (band < 1)
			return -E2BIG;
		int in_rows = (band - 1) * p->sh + (p->kh - 1) * dh + 1;
		if (in_rows * row_words <= abuf_words &&
		    (band * p->ow + S - 1) / S <= obuf_words)
			break;
	}
	*band_out = band;
	for (int oy0 = 0; oy0 < p->oh; oy0 += band) {
		int bh = p->oh - oy0 < band ? p->oh - oy0 : band;
		int y_lo = oy0 * p->sh - p->pad_t;
		int y_hi = (oy0 + bh - 1) * p->sh - p->pad_t + (p->kh - 1) * dh + 1;
		if (y_lo < 0)
			y_lo = 0;
		if (y_hi > p->ih)
			y_hi = p->ih;
		int in_rows = y_hi > y_lo ? y_hi - y_lo : 0;
		int npx = bh * p->ow, words = (npx + S - 1) / S;

		for (int oc0 = 0; oc0 < oc; oc0 += CW) {
			int nc = oc - oc0 < CW ? oc - oc0 : CW;
			int l0 = e->n;

			if (in_rows == 0)
				rh_load(emit_new(e), QNPU_BUF_ABUF, in, 0, 1, 1, 0, 0);
			else
				load_rows(e, QNPU_BUF_ABUF, in + (uint64_t)y_lo * p->iw * p->ic,
					  p->iw * p->ic, p->iw * p->ic, in_rows, 0, row_words);
			if (op == QNPU_OP_DWCONV) {
				int kk = p->kh * p->kw;
				int8_t *w;
				int32_t *ps;
				uint64_t wva = rh_alloc(h, (size_t)kk * C, 0, (void **)&w);
				uint64_t pva = rh_alloc(h, 12u * C, 0, (void **)&ps);
				/* every group has the tile's channels */
				for (int c = 0; c < C; c++) {
					int ch = oc0 + c % CW;
					if (c % CW >= nc)
						continue;
					for (int t = 0; t < kk; t++)
						w[t * C + c] = fhost[(size_t)t * p->oc + ch];
					ps[c] = p->bias ? p->bias[ch] : 0;
					ps[C + c] = p->mult[ch];
					ps[2 * C + c] = p->shift[ch];
				}
				load_blob(e, QNPU_BUF_WBUF, wva, (uint32_t)kk * C, 0, C);
				load_blob(e, QNPU_BUF_PBUF, pva, 12u * C, 0, C);
			}
			int l1 = e->n, c0 = e->n;
			for (int p0 = 0; p0 < npx; p0 += R * S) {
				struct rh_cmd *c = emit_new(e);
				RH_SET(c, OPCODE, op);
				RH_SET(c, ACC_CLEAR, 1);
				RH_SET(c, DRAIN, 1);
				RH_SET(c, PACKED, 1);
				RH_SET(c, COL_GROUPS, S);
				RH_SET(c, A_ADDR, oc0 / dm);
				RH_SET(c, PIX_STRIDE, p->ic);
				RH_SET(c, ROW_STRIDE, row_words * C);
				RH_SET(c, IN_H, in_rows);
				RH_SET(c, IN_W, p->iw);
				RH_SET(c, OUT_W, p->ow);
				RH_SET(c, PIX0, p0);
				RH_SET(c, NPIX, npx - p0 < R * S ? npx - p0 : R * S);
				RH_SET(c, NCOLS, nc);
				RH_SET(c, KH, p->kh);
				RH_SET(c, KW, p->kw);
				RH_SET(c, STRIDE_H, p->sh);
				RH_SET(c, STRIDE_W, p->sw);
				RH_SET(c, PAD_T, p->pad_t + y_lo - oy0 * p->sh);
				RH_SET(c, PAD_L, p->pad_l);
				RH_SET(c, DIL_H, dh);
				RH_SET(c, DIL_W, dw);
				RH_SET(c, IC, dm);
				RH_SET(c, DM_PHASE, oc0 % dm);
				RH_SET(c, O_ADDR, p0 / S);
				RH_SET(c, O_STRIDE, 1);
				set_quant(c, p);
			}
			int c1 = e->n, s0 = e->n;
			rh_store(emit_new(e), o, C, C, words, 0, 1);
			o += (uint64_t)words * C;
			sync_group(e, l0, l1, c0, c1, s0, e->n, first);
			first = 0;
		}
	}
	return 0;
}
