// SPDX-License-Identifier: MIT
// make bench-rtl: simulated cycles per wall-clock second of the Verilated
// NPU (median of 5 runs) for each built array size, with the model's build
// time, on a ResNet-8-shaped stack of convolutions lowered by rtl_lower.c
// (simple schedule: no double buffering). Usage:
//   bench_rtl ROWSxCOLS:BUILD_SECONDS_FILE ...
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtl_harness.h"
#include "rtl_lower.h"

struct layer {
	int h, w, ic, oc, k, s;
};

/* The convolutions of MLPerf Tiny ResNet-8 (SAME padding). */
static const struct layer resnet8[] = {
	{32, 32, 3, 16, 3, 1},  {32, 32, 16, 16, 3, 1}, {32, 32, 16, 16, 3, 1},
	{32, 32, 16, 32, 3, 2}, {16, 16, 32, 32, 3, 1}, {32, 32, 16, 32, 1, 2},
	{16, 16, 32, 64, 3, 2}, {8, 8, 64, 64, 3, 1},   {16, 16, 32, 64, 1, 2},
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	printf("| array | sim cycles/s (median of 5) | ResNet-8 convs: cycles | MACs | utilization | wall s | model build s |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (int a = 1; a < argc; a++) {
		unsigned rows, cols;
		if (sscanf(argv[a], "%ux%u", &rows, &cols) != 2) {
			fprintf(stderr, "bench: %s: expected ROWSxCOLS[:FILE]\n", argv[a]);
			return 2;
		}
		const char *bs = strchr(argv[a], ':');
		double build = -1;
		if (bs) {
			FILE *f = fopen(bs + 1, "r");
			if (f) {
				if (fscanf(f, "%lf", &build) != 1)
					build = -1;
				fclose(f);
			}
		}
		struct qnpu_hw_params p;
		int found = 0;
		for (int i = 0; i < qnpu_hw_num_configs(); i++)
			if (qnpu_hw_config(i)->rows == rows && qnpu_hw_config(i)->cols == cols) {
				p = *qnpu_hw_config(i);
				found = 1;
			}
		if (!found) {
			fprintf(stderr, "bench: no %ux%u model is built\n", rows, cols);
			return 1;
		}
		struct rh h;
		if (rh_init(&h, &p, 64))
			return 1;
		/* build the command streams once */
		struct emit e;
		emit_init(&e);
		uint64_t macs = 0;
		for (size_t l = 0; l < sizeof(resnet8) / sizeof(resnet8[0]); l++) {
			const struct layer *L = &resnet8[l];
			struct ref_conv c = {0};
			static int32_t mult[64], shift[64], bias[64];
			for (int i = 0; i < 64; i++) {
				mult[i] = 1 << 30;
				shift[i] = -8;
				bias[i] = i;
			}
			c.ih = L->h;
			c.iw = L->w;
			c.ic = L->ic;
			c.oc = L->oc;
			c.kh = c.kw = L->k;
			c.sh = c.sw = L->s;
			c.dh = c.dw = 1;
			c.oh = (L->h + L->s - 1) / L->s;
			c.ow = (L->w + L->s - 1) / L->s;
			int pt = (c.oh - 1) * L->s + L->k - L->h;
			c.pad_t = c.pad_l = pt > 0 ? pt / 2 : 0;
			c.act_min = -128;
			c.act_max = 127;
			c.mult = mult;
			c.shift = shift;
			c.bias = bias;
			void *hin, *hf;
			uint64_t in = rh_alloc(&h, (size_t)L->h * L->w * L->ic, 0, &hin);
			uint64_t f = rh_alloc(&h, (size_t)L->oc * L->k * L->k * L->ic, 0, &hf);
			uint64_t out = rh_alloc(&h, (size_t)c.oh * c.ow * c.oc, 1, NULL);
			memset(hin, 3, (size_t)L->h * L->w * L->ic);
			memset(hf, 1, (size_t)L->oc * L->k * L->k * L->ic);
			if (lower_layer(&h, &e, QNPU_OP_CONV, &c, in, f, out, 0, 1))
				return 1;
			macs += (uint64_t)c.oh * c.ow * c.oc * L->k * L->k * L->ic;
		}
		uint64_t cva = rh_put_cmds(&h, e.c, e.n);
		double rate[5], wall[5];
		uint64_t cycles = 0;
		for (int r = 0; r < 5; r++) {
			double t0 = now();
			rh_submit(&h, cva, e.n, 0);
			if (qnpu_hw_run_until_idle(h.hw, 100000000ull))
				return 1;
			double t1 = now();
			struct rh_cqe cqe;
			rh_reap(&h, &cqe);
			if (cqe.status) {
				fprintf(stderr, "bench: job failed with status %u\n", cqe.status);
				return 1;
			}
			cycles = cqe.cycles;
			wall[r] = t1 - t0;
			rate[r] = cqe.cycles / (t1 - t0);
		}
		qsort(rate, 5, sizeof(double), cmp_d);
		qsort(wall, 5, sizeof(double), cmp_d);
		printf("| %ux%u | %.0f | %llu | %llu | %.1f %% | %.3f | %.0f |\n", rows, cols, rate[2],
		       (unsigned long long)cycles, (unsigned long long)macs,
		       100.0 * macs / ((double)p.rows * p.cols * cycles), wall[2], build);
		emit_free(&e);
		rh_fini(&h);
	}
	return 0;
}
