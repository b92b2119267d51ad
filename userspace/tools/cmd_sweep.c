// SPDX-License-Identifier: MIT
/*
 * qnpu sweep: models over a grid of NPU configurations. Each point is one
 * `qnpu profile` of a model on a configuration's RTL (or its cost-model
 * estimate); the points are the targets of a generated Makefile that
 * `make -j` runs, so fan-out, failures and the order of model builds are
 * make's, not ours. We only count finished points for the progress bar,
 * then gather the results (CSV, JSON) and draw the plots (cli_codesign.c).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qnpu_cli.h"

static const char usage[] =
	"usage: qnpu sweep -o DIR [--models=M,...] [--rows=R,...] [--cols=C,...]\n"
	"                  [--sram=KIB,...] [--mem-bw=B,...] [--mem-lat=L,...]\n"
	"                  [-j N] [--estimate]\n"
	"\n"
	"Run every model on every configuration of the cross product and write\n"
	"DIR/results.csv, DIR/results.json and SVG plots (utilization per array\n"
	"shape, cycles vs estimated area with the Pareto front, a roofline per\n"
	"model). Each point is compiled and run on its configuration's RTL\n"
	"(Verilated on first use, cached), or with --estimate only predicted by\n"
	"the compiler's cost model. Points run in parallel through make -j N\n"
	"(default: the number of CPUs).\n"
	"  --models   .tflite files, directories of them, or names of shared\n"
	"             models (default: every model in $QNPU_MODELS/tflite,\n"
	"             $QNPU_MODELS defaulting to ../shared/models)\n"
	"  --rows, --cols  MAC array sizes (default 8,16,32 each)\n"
	"  --sram     ABUF KiB; WBUF and OBUF get half, PBUF a sixteenth\n"
	"             (default \"auto\": 4 KiB per column, as the shipped targets)\n"
	"  --mem-bw   memory bytes per cycle and direction, or \"ideal\"\n"
	"             (default 16)\n"
	"  --mem-lat  memory latency in cycles (default 100)\n";

#define MAX_LIST 16
#define MAX_MODELS 64

struct list {
	uint32_t v[MAX_LIST];
	int n;
};

struct sweep {
	struct cli *c;
	struct list rows, cols, sram, bw, lat;
	char *models[MAX_MODELS];
	int nmodels;
	struct cli_point *pts;
	size_t npts;
	char **cfg;	/* per point: its configuration's name */
	char **key;	/* per point: the RTL it needs (shape and SRAMs) */
};

/* "8,16,32" into @l; the word @zero (if any: "ideal", "auto") is 0. */
static int parse_list(const char *opt, const char *s, const char *def,
		      const char *zero, struct list *l)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s ? s : def);
	l->n = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v;

		if (l->n == MAX_LIST)
			return cli_err("sweep: --%s: at most %d values", opt,
				       MAX_LIST);
		if (zero && !strcmp(tok, zero)) {
			l->v[l->n++] = 0;
			continue;
		}
		errno = 0;
		v = strtoul(tok, &end, 10);
		if (errno || end == tok || *end || v > 1u << 24 ||
		    (!v && strcmp(opt, "mem-lat")))
			return cli_err("sweep: --%s: \"%s\" is not a positive count%s%s%s",
				       opt, tok, zero ? " or \"" : "",
				       zero ? zero : "", zero ? "\"" : "");
		l->v[l->n++] = (uint32_t)v;
	}
	if (!l->n)
		return cli_err("sweep: --%s: no values", opt);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_model(struct sweep *s, const char *path)
{
	if (s->nmodels == MAX_MODELS)
		return cli_err("sweep: at most %d models", MAX_MODELS);
	s->models[s->nmodels] = realpath(path, NULL);
	if (!s->models[s->nmodels])
		return cli_err("sweep: %s: %s", path, strerror(errno));
	s->nmodels++;
	return 0;
}

static int add_dir(struct sweep *s, const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int first = s->nmodels, r = 0;

	if (!d)
		return cli_err("sweep: %s: %s", dir, strerror(errno));
	while (!r && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[PATH_MAX];

		if (n < 8 || strcmp(e->d_name + n - 7, ".tflite"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		r = add_model(s, path);
	}
	closedir(d);
	if (!r && s->nmodels == first)
		return cli_err("sweep: no .tflite model in %s", dir);
	qsort(s->models + first, (size_t)(s->nmodels - first),
	      sizeof(s->models[0]), by_name);
	return r;
}

static int parse_models(struct sweep *s)
{
	const char *shared = getenv("QNPU_MODELS");
	char buf[4096], *tok, *save = NULL, dir[PATH_MAX / 2];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/tflite",
		 shared ? shared : "../shared/models");
	if (!s->c->g_models)
		return add_dir(s, dir);
	snprintf(buf, sizeof(buf), "%s", s->c->g_models);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char path[PATH_MAX];
		int r;

		if (!stat(tok, &st)) {
			r = S_ISDIR(st.st_mode) ? add_dir(s, tok) :
			    add_model(s, tok);
		} else {
			snprintf(path, sizeof(path), "%s/%s.tflite", dir, tok);
			if (stat(path, &st))
				return cli_err("sweep: model \"%s\" not found (a file, a directory or a model of %s)",
					       tok, dir);
			r = add_model(s, path);
		}
		if (r)
			return r;
	}
	return 0;
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* The configuration of a point; its device tree source and DTB in DIR.
 * An unchanged source keeps its DTB (and its mtime), so make reuses the
 * points a previous run into DIR finished. */
static int write_config(const char *dir, const struct cli_point *p,
			const char *name)
{
	char path[PATH_MAX], cmd[3 * PATH_MAX], text[1024], old[1024];
	char lim[160] = "";
	size_t n = 0;
	FILE *f;
	int w;

	if (p->mem_bw)	/* the memory's limits, when it has any */
		snprintf(lim, sizeof(lim),
			 "\t\tqnpu,mem-bytes-per-cycle = <%u>;\n"
			 "\t\tqnpu,mem-outstanding = <%u>;\n", p->mem_bw,
			 p->mem_out);
	snprintf(text, sizeof(text),
		 "/dts-v1/;\n/* qnpu sweep point %s */\n/ {\n\tnpu {\n"
		 "\t\tcompatible = \"qnpu,npu-1.0\";\n"
		 "\t\tqnpu,mac-rows = <%u>;\n\t\tqnpu,mac-cols = <%u>;\n"
		 "\t\tqnpu,abuf-bytes = <%u>;\n\t\tqnpu,wbuf-bytes = <%u>;\n"
		 "\t\tqnpu,pbuf-bytes = <%u>;\n\t\tqnpu,obuf-bytes = <%u>;\n"
		 "\t\tqnpu,dma-bytes-per-cycle = <%u>;\n"
		 "\t\tqnpu,mem-latency-cycles = <%u>;\n%s\t};\n};\n",
		 name, p->rows, p->cols, p->abuf, p->wbuf, p->pbuf, p->obuf,
		 p->dma, p->mem_lat, lim);
	snprintf(path, sizeof(path), "%s/cfg/%s.dts", dir, name);
	f = fopen(path, "r");
	if (f) {
		n = fread(old, 1, sizeof(old) - 1, f);
		fclose(f);
		old[n] = 0;
		snprintf(cmd, sizeof(cmd), "%s/cfg/%s.dtb", dir, name);
		if (!strcmp(old, text) && !access(cmd, R_OK))
			return 0;
	}
	f = fopen(path, "w");
	if (!f)
		return cli_err("sweep: %s: %s", path, strerror(errno));
	w = fputs(text, f);
	if (fclose(f) || w < 0)
		return cli_err("sweep: %s: cannot write", path);
	snprintf(cmd, sizeof(cmd),
		 "dtc -q -I dts -O dtb -o '%s/cfg/%s.dtb' '%s'", dir, name,
		 path);
	if (system(cmd))
		return cli_err("sweep: dtc failed on %s (make deps installs device-tree-compiler)",
			       path);
	return 0;
}

/* Every configuration must be one the C API takes: ask the offline target,
 * which checks the DTB exactly as a device would. */
static int check_config(const char *dir, const char *name)
{
	char dev[PATH_MAX + 16];
	struct qnpu_device *d;

	snprintf(dev, sizeof(dev), "target:%s/cfg/%s.dtb", dir, name);
	if (qnpu_device_open(dev, &d))
		return cli_err("sweep: configuration %s: %s", name,
			       qnpu_last_error());
	qnpu_device_close(d);
	return 0;
}

static const char *model_name(const char *path, char *buf, size_t n)
{
	const char *b = strrchr(path, '/');
	size_t len;

	b = b ? b + 1 : path;
	len = strlen(b);
	if (len > 7 && !strcmp(b + len - 7, ".tflite"))
		len -= 7;
	snprintf(buf, n, "%.*s", (int)len, b);
	return buf;
}

static int build_grid(struct sweep *s, const char *dir)
{
	size_t ncfg = (size_t)s->rows.n * s->cols.n * s->sram.n * s->bw.n *
		      s->lat.n, cap = ncfg * (size_t)s->nmodels, idx;
	int m;

	s->pts = calloc(cap, sizeof(*s->pts));
	s->cfg = calloc(cap, sizeof(char *));
	s->key = calloc(cap, sizeof(char *));
	if (!s->pts || !s->cfg || !s->key)
		return cli_err("sweep: out of memory");
	/* the cross product, rows outermost, latency innermost */
	for (idx = 0; idx < ncfg; idx++) {
		struct cli_point p = { 0 };
		char name[160], key[64], bw[16];
		size_t r = idx;
		int l = (int)(r % (size_t)s->lat.n), w, k, b, a;
		uint32_t abuf;

		r /= (size_t)s->lat.n;
		w = (int)(r % (size_t)s->bw.n);
		r /= (size_t)s->bw.n;
		k = (int)(r % (size_t)s->sram.n);
		r /= (size_t)s->sram.n;
		b = (int)(r % (size_t)s->cols.n);
		a = (int)(r / (size_t)s->cols.n);
		p.rows = s->rows.v[a];
		p.cols = s->cols.v[b];
		abuf = s->sram.v[k] ? s->sram.v[k] * 1024 : 4096 * p.cols;
		p.abuf = abuf;
		p.wbuf = p.obuf = abuf / 2;
		p.pbuf = abuf / 16;
		if (p.pbuf < 24 * p.cols)	/* two parameter sets */
			p.pbuf = pow2_at_least(24 * p.cols);
		p.dma = p.cols;
		p.mem_bw = s->bw.v[w];
		p.mem_lat = s->lat.v[l];
		p.mem_out = p.mem_bw ? 16 : 0;
		snprintf(bw, sizeof(bw), p.mem_bw ? "%u" : "ideal", p.mem_bw);
		snprintf(key, sizeof(key), "r%uc%u-a%u", p.rows, p.cols,
			 p.abuf);
		snprintf(name, sizeof(name), "%s-bw%s-lat%u", key, bw,
			 p.mem_lat);
		if (write_config(dir, &p, name) || check_config(dir, name))
			return 1;
		for (m = 0; m < s->nmodels; m++) {
			struct cli_point *q = &s->pts[s->npts];

			*q = p;
			model_name(s->models[m], q->model, sizeof(q->model));
			s->cfg[s->npts] = strdup(name);
			s->key[s->npts] = strdup(key);
			if (!s->cfg[s->npts] || !s->key[s->npts])
				return cli_err("sweep: out of memory");
			s->npts++;
		}
	}
	return 0;
}

/*
 * DIR/Makefile: one target per point. On the RTL, the points that need a
 * model not built yet wait for the first point of their configuration,
 * which builds it into the cache, so a model is Verilated once.
 */
static int write_makefile(struct sweep *s, const char *dir)
{
	/* estimated and measured points of one DIR never mix */
	const char *mode = s->c->estimate ? "est" : "rtl";
	char path[PATH_MAX], self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t i, j;
	FILE *f;

	if (n <= 0)
		return cli_err("sweep: cannot find the qnpu binary");
	self[n] = 0;
	snprintf(path, sizeof(path), "%s/Makefile", dir);
	f = fopen(path, "w");
	if (!f)
		return cli_err("sweep: %s: %s", path, strerror(errno));
	/* make -j runs model builds side by side: one compiler each */
	fprintf(f, "# generated by qnpu sweep: one target per point\n"
		"QNPU := %s\nexport QNPU_HW_BUILD_JOBS := 1\n\n.PHONY: all\nall:",
		self);
	for (i = 0; i < s->npts; i++)
		fprintf(f, " \\\n\tpoints/%s--%s.%s.json", s->cfg[i],
			s->pts[i].model, mode);
	fprintf(f, "\n");
	for (i = 0; i < s->npts; i++) {
		const char *first = NULL;

		for (j = 0; j < i && !s->c->estimate; j++)
			if (!strcmp(s->key[j], s->key[i])) {
				first = s->cfg[j];
				break;
			}
		fprintf(f, "\npoints/%s--%s.%s.json: cfg/%s.dtb $(QNPU)",
			s->cfg[i], s->pts[i].model, mode, s->cfg[i]);
		if (first)
			fprintf(f, " | points/%s--%s.%s.json", first,
				s->pts[j].model, mode);
		fprintf(f, "\n\t@$(QNPU) profile --target=cfg/%s.dtb --format=json%s %s >$@.tmp && mv $@.tmp $@ && echo \"sweep-done $@\"\n",
			s->cfg[i], s->c->estimate ? " --estimate" : "",
			s->models[i % (size_t)s->nmodels]);
	}
	if (fclose(f))
		return cli_err("sweep: %s: %s", path, strerror(errno));
	return 0;
}

static void progress(size_t done, size_t total, uint64_t t0, bool final)
{
	double el = (double)(cli_now_ns() - t0) / 1e9;
	double eta = done ? el / (double)done * (double)(total - done) : 0;
	int width = 30, fill = total ? (int)(width * done / total) : width;

	fprintf(stderr, "\r[%.*s%*s] %zu/%zu points  %d:%02d elapsed  ETA %s",
		fill, "##############################", width - fill, "",
		done, total, (int)el / 60, (int)el % 60,
		done ? "" : "-");
	if (done)
		fprintf(stderr, "%d:%02d", (int)eta / 60, (int)eta % 60);
	fprintf(stderr, final ? "\n" : "   ");
	fflush(stderr);
}

/* make -j over the points; counts them as they finish. */
static int run_make(struct sweep *s, const char *dir)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int jobs = s->c->jobs ? atoi(s->c->jobs) : (int)(cpus > 0 ? cpus : 1);
	bool tty = isatty(2);
	char cmd[PATH_MAX + 64], line[4096];
	uint64_t t0 = cli_now_ns();
	size_t done = 0;
	FILE *p;
	int st;

	if (jobs < 1 || jobs > 256)
		return cli_err("sweep: -j %s: not a count of 1 to 256",
			       s->c->jobs);
	snprintf(cmd, sizeof(cmd), "make -s -k -j%d -C '%s' 2>&1", jobs, dir);
	p = popen(cmd, "r");
	if (!p)
		return cli_err("sweep: cannot run make: %s", strerror(errno));
	if (tty)
		progress(0, s->npts, t0, false);
	while (fgets(line, sizeof(line), p)) {
		if (!strncmp(line, "sweep-done ", 11)) {
			done++;
		} else {
			if (tty)
				fputs("\r\033[K", stderr);
			fputs(line, stderr);
		}
		if (tty)
			progress(done, s->npts, t0, false);
	}
	st = pclose(p);
	if (tty)
		progress(done, s->npts, t0, true);
	if (st)
		cli_err("sweep: %zu of %zu points failed (see above)",
			s->npts - done, s->npts);
	return st ? 1 : 0;
}

static uint64_t json_u64(const char *from, const char *key)
{
	char pat[64];
	const char *q;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	q = strstr(from, pat);
	return q ? strtoull(q + strlen(pat), NULL, 10) : 0;
}

static void read_point(struct sweep *s, const char *dir, size_t i)
{
	struct cli_point *p = &s->pts[i];
	char path[PATH_MAX], buf[1 << 16];
	const char *t;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/points/%s--%s.%s.json", dir, s->cfg[i],
		 p->model, s->c->estimate ? "est" : "rtl");
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	t = strstr(buf, "\"total\":");
	if (!t)
		return;
	p->cycles = json_u64(t, "cycles");
	p->est_cycles = json_u64(t, "est_cycles");
	p->macs = json_u64(t, "macs");
	p->npu_macs = json_u64(t, "npu_macs");
	p->dma_in = json_u64(t, "dma_in");
	p->dma_out = json_u64(t, "dma_out");
	p->ok = true;
}

static double util(const struct cli_point *p)
{
	return p->cycles ? (double)p->npu_macs /
			   ((double)p->rows * p->cols * (double)p->cycles) : 0;
}

static double est_err(const struct cli_point *p)
{
	return p->cycles ? ((double)p->est_cycles - (double)p->cycles) /
			   (double)p->cycles : 0;
}

static int write_results(struct sweep *s, const char *dir)
{
	char path[PATH_MAX];
	FILE *csv, *js;
	size_t i;

	snprintf(path, sizeof(path), "%s/results.csv", dir);
	csv = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/results.json", dir);
	js = fopen(path, "w");
	if (!csv || !js) {
		if (csv)
			fclose(csv);
		if (js)
			fclose(js);
		return cli_err("sweep: cannot write the results in %s", dir);
	}
	fprintf(csv, "model,rows,cols,abuf_bytes,wbuf_bytes,pbuf_bytes,obuf_bytes,dma_bytes_per_cycle,mem_bytes_per_cycle,mem_latency_cycles,mem_outstanding,mode,ok,cycles,est_cycles,est_error_pct,npu_macs,utilization,dma_in,dma_out,area_mm2_estimate,energy_uj_estimate\n");
	fprintf(js, "[\n");
	for (i = 0; i < s->npts; i++) {
		const struct cli_point *p = &s->pts[i];
		const char *mode = s->c->estimate ? "estimate" : "rtl";

		fprintf(csv, "%s,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%s,%d,%llu,%llu,%.3f,%llu,%.4f,%llu,%llu,%.4f,%.3f\n",
			p->model, p->rows, p->cols, p->abuf, p->wbuf, p->pbuf,
			p->obuf, p->dma, p->mem_bw, p->mem_lat, p->mem_out,
			mode, p->ok, (ull)p->cycles, (ull)p->est_cycles,
			100 * est_err(p), (ull)p->npu_macs, util(p),
			(ull)p->dma_in, (ull)p->dma_out, p->area_mm2,
			p->energy_uj);
		fprintf(js, "  {\"model\": \"%s\", \"rows\": %u, \"cols\": %u, \"abuf_bytes\": %u, \"wbuf_bytes\": %u, \"pbuf_bytes\": %u, \"obuf_bytes\": %u, \"dma_bytes_per_cycle\": %u, \"mem_bytes_per_cycle\": %u, \"mem_latency_cycles\": %u, \"mem_outstanding\": %u, \"mode\": \"%s\", \"ok\": %s, \"cycles\": %llu, \"est_cycles\": %llu, \"est_error_pct\": %.3f, \"npu_macs\": %llu, \"utilization\": %.4f, \"dma_in\": %llu, \"dma_out\": %llu, \"area_mm2_estimate\": %.4f, \"energy_uj_estimate\": %.3f}%s\n",
			p->model, p->rows, p->cols, p->abuf, p->wbuf, p->pbuf,
			p->obuf, p->dma, p->mem_bw, p->mem_lat, p->mem_out,
			mode, p->ok ? "true" : "false", (ull)p->cycles,
			(ull)p->est_cycles, 100 * est_err(p),
			(ull)p->npu_macs, util(p), (ull)p->dma_in,
			(ull)p->dma_out, p->area_mm2, p->energy_uj,
			i + 1 < s->npts ? "," : "");
	}
	fprintf(js, "]\n");
	if (fclose(csv) | fclose(js))
		return cli_err("sweep: cannot write the results in %s", dir);
	return 0;
}

/* The table on stdout: every point, then the estimate's worst error. */
static void print_table(const struct sweep *s)
{
	double worst = 0;
	size_t i;

	printf("%-30s %7s %9s %7s %10s %6s %8s %9s %9s\n", "model", "array",
	       "SRAM KiB", "mem", "cycles", "util", "est err", "area mm2",
	       "energy uJ");
	for (i = 0; i < s->npts; i++) {
		const struct cli_point *p = &s->pts[i];
		char arr[16], mem[24];

		snprintf(arr, sizeof(arr), "%ux%u", p->rows, p->cols);
		if (p->mem_bw)
			snprintf(mem, sizeof(mem), "%u/%u", p->mem_bw,
				 p->mem_lat);
		else
			snprintf(mem, sizeof(mem), "ideal/%u", p->mem_lat);
		if (!p->ok) {
			printf("%-30s %7s %9u %7s %10s\n", p->model, arr,
			       p->abuf / 1024, mem, "failed");
			continue;
		}
		printf("%-30s %7s %9u %7s %10llu %5.1f%% %+7.2f%% %9.3f %9.2f\n",
		       p->model, arr, p->abuf / 1024, mem, (ull)p->cycles,
		       100 * util(p), 100 * est_err(p), p->area_mm2,
		       p->energy_uj);
		if (fabs(est_err(p)) > worst)
			worst = fabs(est_err(p));
	}
	if (!s->c->estimate)
		printf("\n%zu points; cost-model estimate vs RTL cycles: worst error %.2f %%\n",
		       s->npts, 100 * worst);
	else
		printf("\n%zu points, estimated by the cost model (no RTL run)\n",
		       s->npts);
}

static int sweep(struct cli *c)
{
	struct sweep s = { .c = c };
	const char *dir = c->output;
	char path[PATH_MAX];
	size_t i;
	int r;

	if (parse_list("rows", c->g_rows, "8,16,32", NULL, &s.rows) ||
	    parse_list("cols", c->g_cols, "8,16,32", NULL, &s.cols) ||
	    parse_list("sram", c->g_sram, "auto", "auto", &s.sram) ||
	    parse_list("mem-bw", c->g_bw, "16", "ideal", &s.bw) ||
	    parse_list("mem-lat", c->g_lat, "100", NULL, &s.lat) ||
	    parse_models(&s))
		return 1;
	snprintf(path, sizeof(path), "%s/cfg", dir);
	if ((mkdir(dir, 0777) && errno != EEXIST) ||
	    (mkdir(path, 0777) && errno != EEXIST))
		return cli_err("sweep: cannot create %s: %s", path,
			       strerror(errno));
	snprintf(path, sizeof(path), "%s/points", dir);
	if (mkdir(path, 0777) && errno != EEXIST)
		return cli_err("sweep: cannot create %s: %s", path,
			       strerror(errno));
	r = build_grid(&s, dir) || write_makefile(&s, dir);
	if (!r) {
		int failed = run_make(&s, dir);

		for (i = 0; i < s.npts; i++) {
			read_point(&s, dir, i);
			if (c->estimate)
				s.pts[i].cycles = s.pts[i].est_cycles;
			s.pts[i].area_mm2 = cli_area_mm2(&s.pts[i]);
			s.pts[i].energy_uj = cli_energy_uj(&s.pts[i]);
		}
		r = write_results(&s, dir) ||
		    cli_sweep_plots(dir, s.pts, s.npts) || failed;
		print_table(&s);
	}
	for (i = 0; i < s.npts; i++) {
		free(s.cfg[i]);
		free(s.key[i]);
	}
	for (i = 0; i < (size_t)s.nmodels; i++)
		free(s.models[i]);
	free(s.cfg);
	free(s.key);
	free(s.pts);
	return r;
}

const struct cli_cmd cli_cmd_sweep = {
	.name = "sweep",
	.summary = "run models over a grid of NPU configurations, with plots",
	.usage = usage,
	.missing = "need -o DIR",
	.shortopts = "o:j:",
	.opts = CLI_OUTPUT | CLI_GRID | CLI_ESTIMATE,
	.need = CLI_OUTPUT,
	.flags = CLI_NO_MODEL,
	.run = sweep,
};
