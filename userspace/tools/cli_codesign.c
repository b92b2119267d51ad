// SPDX-License-Identifier: MIT
/*
 * The sweep's first-order area and energy model and its SVG plots. Every
 * coefficient is cited in docs/codesign.md; all figures are estimates at
 * 45 nm, for comparing configurations with each other, not silicon.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_cli.h"

/* ---- area (um^2) and energy (pJ) coefficients, 45 nm ---- */
#define A_MUL8 282.0	/* 8-bit multiplier (Horowitz, ISSCC 2014) */
#define A_ADD32 137.0	/* 32-bit adder (Horowitz) */
#define A_MUL32 3495.0	/* 32-bit multiplier (Horowitz) */
#define A_DFF 4.522	/* flip-flop, NanGate 45 nm DFF_X1 */
#define A_SRAM_BIT (0.346 / 0.7) /* 6T cell (Mistry, IEDM 2007) / array
				  * efficiency 70 % (assumption) */
#define E_MAC 0.3	/* 8-bit multiply 0.2 + 32-bit add 0.1 (Horowitz) */
#define E_SRAM_BYTE 1.25	/* 8 KiB SRAM, 10 pJ per 64 bits (Horowitz) */
#define E_DRAM_BYTE 162.5	/* DRAM, 1.3 nJ per 64 bits (Horowitz) */
#define E_PPU_ROW_COL 3.1	/* 32-bit multiply 3.1 pJ (Horowitz) */

double cli_area_mm2(const struct cli_point *p)
{
	double mac = A_MUL8 + A_ADD32 + 32 * A_DFF;
	/*
	 * Per lane and column: the TFLite requantizer (a 32-bit multiplier,
	 * two adders) and the ONNX mode's float32 path (PPU_FP: a 25 x 24-bit
	 * multiplier, scaled from the 32-bit one by its partial products,
	 * plus two adders' worth of leading-one detection and rounding).
	 */
	double ppu = 2.0 * p->cols * (A_MUL32 + 2 * A_ADD32 +
				      A_MUL32 * (25.0 * 24) / (32 * 32) +
				      2 * A_ADD32);
	double sram = 8.0 * ((double)p->abuf + p->wbuf + p->pbuf + p->obuf) *
		      A_SRAM_BIT;
	/* the DMA's datapath: a word register per outstanding burst and
	 * direction (its reorder and write buffers) */
	double dma = 2.0 * (p->mem_out ? p->mem_out : 16) * 8.0 * p->cols *
		     A_DFF;

	return ((double)p->rows * p->cols * mac + ppu + sram + dma) / 1e6;
}

double cli_energy_uj(const struct cli_point *p)
{
	/* each array step reads R ABUF bytes and C WBUF bytes for R x C MACs;
	 * DMA writes (LOAD) and reads (STORE) SRAM once per byte */
	double steps = (double)p->npu_macs / ((double)p->rows * p->cols);
	double sram = steps * (p->rows + p->cols) + (double)p->dma_in +
		      2.0 * (double)p->dma_out;
	double ppu = (double)p->dma_out * E_PPU_ROW_COL;

	return ((double)p->npu_macs * E_MAC + sram * E_SRAM_BYTE +
		((double)p->dma_in + p->dma_out) * E_DRAM_BYTE + ppu) / 1e6;
}

/* ---- SVG ---- */

#define W 720
#define H 440
#define ML 80	/* margins */
#define MR 215
#define MT 40
#define MB 60

static const char *const colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
};
#define NCOLORS (sizeof(colors) / sizeof(colors[0]))

struct axis {
	double lo, hi;
	bool log;
};

static double ax_map(const struct axis *a, double v, double p0, double p1)
{
	double t;

	if (a->log)
		t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
	else
		t = (v - a->lo) / (a->hi - a->lo);
	return p0 + t * (p1 - p0);
}

static double X(const struct axis *a, double v)
{
	return ax_map(a, v, ML, W - MR);
}

static double Y(const struct axis *a, double v)
{
	return ax_map(a, v, H - MB, MT);
}

static void fit(struct axis *a, bool log)
{
	a->log = log;
	if (log) {
		a->lo = pow(10, floor(log10(a->lo > 0 ? a->lo : 1e-3)));
		a->hi = pow(10, ceil(log10(a->hi > a->lo ? a->hi : a->lo * 10)));
		if (a->hi <= a->lo)
			a->hi = a->lo * 10;
	} else {
		if (a->hi <= a->lo)
			a->hi = a->lo + 1;
		a->hi += (a->hi - a->lo) * 0.05;
	}
}

static FILE *svg_open(const char *dir, const char *name, const char *title)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		cli_err("sweep: %s: %s", path, strerror(errno));
		return NULL;
	}
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%d\" y=\"22\" font-size=\"15\">%s</text>\n",
		W, H, ML, title);
	return f;
}

/* Grid and labels; a categorical x axis (xcat) gets no numbers. */
static void svg_axes(FILE *f, const struct axis *x, const struct axis *y,
		     const char *xlabel, const char *ylabel, bool xcat)
{
	const struct axis *ax[2] = { x, y };
	int i, k;

	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n",
		ML, MT, W - ML - MR, H - MT - MB);
	for (i = xcat ? 1 : 0; i < 2; i++) {
		const struct axis *a = ax[i];

		for (k = 0; k <= 5; k++) {
			double v;

			if (a->log) {
				v = a->lo * pow(10, k);
				if (v > a->hi * 1.0001)
					break;
			} else {
				v = a->lo + (a->hi - a->lo) * k / 5;
			}
			if (i == 0)
				fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
					"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
					X(a, v), MT, X(a, v), H - MB, X(a, v),
					H - MB + 16, v);
			else
				fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
					"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
					ML, Y(a, v), W - MR, Y(a, v), ML - 6,
					Y(a, v) + 4, v);
		}
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n"
		"<text transform=\"translate(18,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
		(ML + W - MR) / 2, H - 18, xlabel, (MT + H - MB) / 2, ylabel);
}

static void legend(FILE *f, int i, const char *label, const char *color)
{
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		"<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n",
		W - MR + 10, MT + 4 + 16 * i, color, W - MR + 24,
		MT + 13 + 16 * i, label);
}

static int svg_close(FILE *f)
{
	fprintf(f, "</svg>\n");
	return fclose(f) ? cli_err("sweep: cannot write a plot") : 0;
}

static double util_of(const struct cli_point *p)
{
	return p->cycles ? 100.0 * (double)p->npu_macs /
			   ((double)p->rows * p->cols * (double)p->cycles) : 0;
}

static bool same_mem(const struct cli_point *a, const struct cli_point *b)
{
	return a->mem_bw == b->mem_bw && a->mem_lat == b->mem_lat &&
	       a->abuf == b->abuf;
}

/* Utilization per model against the array shape (the first memory setting
 * of the sweep and each shape's first SRAM size; shapes ordered by MACs). */
static int plot_util(const char *dir, const struct cli_point *pts, size_t n)
{
	uint32_t shape[64][2];
	size_t ns = 0, i, j, k;
	struct axis x = { 0, 0, false }, y = { 0, 100, false };
	const struct cli_point *ref = &pts[0];
	FILE *f;
	int m = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < ns; j++)
			if (shape[j][0] == pts[i].rows &&
			    shape[j][1] == pts[i].cols)
				break;
		if (j == ns && ns < 64) {
			shape[ns][0] = pts[i].rows;
			shape[ns][1] = pts[i].cols;
			ns++;
		}
	}
	for (i = 1; i < ns; i++)	/* insertion sort by MACs, then rows */
		for (j = i; j > 0 &&
		     (shape[j][0] * shape[j][1] < shape[j - 1][0] * shape[j - 1][1] ||
		      (shape[j][0] * shape[j][1] == shape[j - 1][0] * shape[j - 1][1] &&
		       shape[j][0] < shape[j - 1][0])); j--) {
			uint32_t t0 = shape[j][0], t1 = shape[j][1];

			shape[j][0] = shape[j - 1][0];
			shape[j][1] = shape[j - 1][1];
			shape[j - 1][0] = t0;
			shape[j - 1][1] = t1;
		}
	x.lo = -0.5;
	x.hi = (double)ns - 0.5;
	f = svg_open(dir, "utilization.svg",
		     "MAC utilization per model vs array shape");
	if (!f)
		return 1;
	svg_axes(f, &x, &y, "array rows x cols", "MAC utilization (%)", true);
	for (j = 0; j < ns; j++)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%ux%u</text>\n",
			X(&x, (double)j), H - MB + 30, shape[j][0], shape[j][1]);
	for (i = 0; i < n; i++) {
		const char *col;
		bool seen = false;

		for (k = 0; k < i; k++)
			if (!strcmp(pts[k].model, pts[i].model))
				seen = true;
		if (seen)
			continue;
		col = colors[m % NCOLORS];
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			col);
		for (j = 0; j < ns; j++)
			for (k = 0; k < n; k++)
				if (!strcmp(pts[k].model, pts[i].model) &&
				    pts[k].rows == shape[j][0] &&
				    pts[k].cols == shape[j][1] &&
				    pts[k].mem_bw == ref->mem_bw &&
				    pts[k].mem_lat == ref->mem_lat && pts[k].ok) {
					fprintf(f, "%.1f,%.1f ", X(&x, (double)j),
						Y(&y, util_of(&pts[k])));
					break;
				}
		fprintf(f, "\"/>\n");
		legend(f, m, pts[i].model, col);
		m++;
	}
	return svg_close(f);
}

/* Cycles of all models together per configuration against its area, the
 * Pareto front (no other configuration both smaller and faster) marked. */
static int plot_area(const char *dir, const struct cli_point *pts, size_t n)
{
	struct cfg {
		const struct cli_point *p;
		double area, cycles;
		bool front;
	} *c = calloc(n, sizeof(*c));
	struct axis x = { 1e30, 0, false }, y = { 1e30, 0, false };
	size_t nc = 0, i, j;
	double last;
	FILE *f;

	if (!c)
		return cli_err("sweep: out of memory");
	for (i = 0; i < n; i++) {
		for (j = 0; j < nc; j++)
			if (c[j].p->rows == pts[i].rows &&
			    c[j].p->cols == pts[i].cols &&
			    same_mem(c[j].p, &pts[i]))
				break;
		if (j == nc) {
			c[nc].p = &pts[i];
			c[nc].area = pts[i].area_mm2;
			nc++;
		}
		c[j].cycles += (double)pts[i].cycles;
	}
	for (i = 0; i < nc; i++) {
		c[i].front = true;
		for (j = 0; j < nc; j++)	/* of equal ones, the first */
			if (j != i && c[j].area <= c[i].area &&
			    c[j].cycles <= c[i].cycles &&
			    (c[j].area < c[i].area ||
			     c[j].cycles < c[i].cycles || j < i))
				c[i].front = false;
		if (c[i].area < x.lo)
			x.lo = c[i].area;
		if (c[i].area > x.hi)
			x.hi = c[i].area;
		if (c[i].cycles < y.lo)
			y.lo = c[i].cycles;
		if (c[i].cycles > y.hi)
			y.hi = c[i].cycles;
	}
	x.lo /= 1.5;
	x.hi *= 1.5;
	y.lo /= 1.5;
	fit(&x, true);
	fit(&y, true);
	f = svg_open(dir, "area.svg",
		     "Cycles of all models vs estimated area (Pareto front in red)");
	if (!f) {
		free(c);
		return 1;
	}
	svg_axes(f, &x, &y, "estimated area (mm^2, 45 nm)",
		 "total cycles, all models", false);
	/* the front as a staircase, in order of area */
	fprintf(f, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"");
	for (last = 0;;) {
		size_t b = nc;

		for (i = 0; i < nc; i++)
			if (c[i].front && c[i].area > last &&
			    (b == nc || c[i].area < c[b].area))
				b = i;
		if (b == nc)
			break;
		fprintf(f, "%.1f,%.1f ", X(&x, c[b].area), Y(&y, c[b].cycles));
		last = c[b].area;
	}
	fprintf(f, "\"/>\n");
	for (i = 0; i < nc; i++) {
		char bw[16];

		snprintf(bw, sizeof(bw), c[i].p->mem_bw ? "%u" : "ideal",
			 c[i].p->mem_bw);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
			X(&x, c[i].area), Y(&y, c[i].cycles),
			c[i].front ? "#d62728" : "#1f77b4");
		if (c[i].front)	/* only the front is labelled: legible */
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\">%ux%u %uK bw %s lat %u</text>\n",
				X(&x, c[i].area) + 6, Y(&y, c[i].cycles) + 3,
				c[i].p->rows, c[i].p->cols, c[i].p->abuf / 1024,
				bw, c[i].p->mem_lat);
	}
	legend(f, 0, "Pareto front", "#d62728");
	legend(f, 1, "dominated", "#1f77b4");
	free(c);
	return svg_close(f);
}

/* The memory roof's bandwidth: what the DMA port and the memory move. */
static double roof_bw(const struct cli_point *p)
{
	return p->mem_bw && p->mem_bw < p->dma ? p->mem_bw : p->dma;
}

/* Roofline of one model: arithmetic intensity (ops per DRAM byte) against
 * achieved ops per cycle, under each configuration's compute roof
 * (2 R C) and memory roof (bandwidth x intensity). */
static int plot_roofline(const char *dir, const struct cli_point *pts,
			 size_t n, const char *model)
{
	struct axis x = { 1e30, 0, false }, y = { 1e30, 0, false };
	char name[160], title[200];
	uint32_t shape[64][2];
	size_t i, k, nshape = 0;
	int m = 0;
	FILE *f;

	for (i = 0; i < n; i++) {
		const struct cli_point *p = &pts[i];
		double bytes = (double)(p->dma_in + p->dma_out);
		double ops = 2.0 * (double)p->npu_macs;

		if (strcmp(p->model, model) || !p->ok || !p->cycles || !bytes ||
		    !ops)
			continue;
		if (ops / bytes < x.lo)
			x.lo = ops / bytes;
		if (ops / bytes > x.hi)
			x.hi = ops / bytes;
		if (ops / (double)p->cycles < y.lo)
			y.lo = ops / (double)p->cycles;
		if (2.0 * p->rows * p->cols > y.hi)
			y.hi = 2.0 * p->rows * p->cols;
	}
	if (x.hi == 0)
		return 0;	/* no MACs on the NPU: nothing to plot */
	x.lo /= 4;
	x.hi *= 4;
	fit(&x, true);
	fit(&y, true);
	snprintf(name, sizeof(name), "roofline-%s.svg", model);
	snprintf(title, sizeof(title), "Roofline: %s", model);
	f = svg_open(dir, name, title);
	if (!f)
		return 1;
	svg_axes(f, &x, &y, "arithmetic intensity (ops per DRAM byte)",
		 "achieved ops per cycle", false);
	/* the roofs: one per distinct compute peak and memory bandwidth */
	for (i = 0; i < n; i++) {
		const struct cli_point *p = &pts[i];
		double peak = 2.0 * p->rows * p->cols, bw = roof_bw(p), knee;
		bool seen = false;

		if (strcmp(p->model, model) || !p->ok)
			continue;
		for (k = 0; k < i; k++)
			if (!strcmp(pts[k].model, model) && pts[k].ok &&
			    2.0 * pts[k].rows * pts[k].cols == peak &&
			    roof_bw(&pts[k]) == bw)
				seen = true;
		if (seen)
			continue;
		knee = peak / bw;
		fprintf(f, "<polyline fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4,3\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>\n",
			X(&x, x.lo), Y(&y, fmax(y.lo, bw * x.lo)),
			X(&x, fmin(fmax(knee, x.lo), x.hi)),
			Y(&y, fmin(peak, fmax(y.lo, bw * fmin(knee, x.hi)))),
			X(&x, x.hi), Y(&y, fmin(peak, bw * x.hi)));
		if (knee < x.hi)	/* labelled at the knee */
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#777\">%g ops/c, %g B/c</text>\n",
				X(&x, fmax(knee, x.lo)) + 2, Y(&y, peak) - 3,
				peak, bw);
	}
	/* the points, one colour per array shape */
	for (i = 0; i < n; i++) {
		const struct cli_point *p = &pts[i];
		size_t sh;

		if (strcmp(p->model, model) || !p->ok || !p->cycles ||
		    !(p->dma_in + p->dma_out))
			continue;
		for (sh = 0; sh < nshape; sh++)
			if (shape[sh][0] == p->rows && shape[sh][1] == p->cols)
				break;
		if (sh == nshape) {
			if (nshape == 64)
				continue;
			shape[nshape][0] = p->rows;
			shape[nshape][1] = p->cols;
			nshape++;
			snprintf(title, sizeof(title), "%ux%u", p->rows,
				 p->cols);
			legend(f, m++, title, colors[sh % NCOLORS]);
		}
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" fill-opacity=\"0.8\"/>\n",
			X(&x, 2.0 * (double)p->npu_macs /
				     (double)(p->dma_in + p->dma_out)),
			Y(&y, 2.0 * (double)p->npu_macs / (double)p->cycles),
			colors[sh % NCOLORS]);
	}
	legend(f, m + 1, "(one point per memory", "none");
	legend(f, m + 2, " and SRAM setting)", "none");
	return svg_close(f);
}

int cli_sweep_plots(const char *dir, const struct cli_point *pts, size_t n)
{
	size_t i, k;
	int r;

	if (!n)
		return 0;
	r = plot_util(dir, pts, n) || plot_area(dir, pts, n);
	for (i = 0; i < n && !r; i++) {
		bool seen = false;

		for (k = 0; k < i; k++)
			if (!strcmp(pts[k].model, pts[i].model))
				seen = true;
		if (!seen)
			r = plot_roofline(dir, pts, n, pts[i].model);
	}
	return r;
}
