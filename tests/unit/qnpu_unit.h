/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the CPU kernel tests: a seeded xorshift32 generator
 * (each test file defines QNPU_UNIT_SEED before including this, so its
 * sequence is its own and repeatable) and golden per-layer dumps.
 */
#ifndef QNPU_UNIT_H
#define QNPU_UNIT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = QNPU_UNIT_SEED;

static inline uint32_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static inline int rnd(int lo, int hi)
{
	return lo + (int)(xorshift() % (uint32_t)(hi - lo + 1));
}

static inline const char *models_dir(void)
{
	const char *d = getenv("QNPU_MODELS");

	return d ? d : "../shared/models";
}

/*
 * Loads op `op`'s output tensor of a golden dump (index.tsv columns: op,
 * opcode, tensor, name, dtype, shape, scale, zero point, file). Returns
 * its size, 0 if the dump is absent; fails the test if it is malformed.
 */
static inline size_t golden_layer(const char *dir, int op, int8_t *buf,
				  size_t cap, float *scale, int32_t *zp)
{
	char path[512], line[4096];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/golden/%s/index.tsv", models_dir(),
		 dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *fields[9], *s = line, *end;
		FILE *d;
		int k = 0;

		while (k < 9 && (fields[k] = strsep(&s, "\t\n")))
			k++;
		if (k != 9 || strtol(fields[0], &end, 10) != op || *end)
			continue;
		*scale = strtof(fields[6], NULL);
		*zp = (int32_t)strtol(fields[7], NULL, 10);
		snprintf(path, sizeof(path), "%s/golden/%s/%s", models_dir(),
			 dir, fields[8]);
		d = fopen(path, "rb");
		assert_non_null(d);
		n = fread(buf, 1, cap, d);
		fclose(d);
	}
	fclose(f);
	assert_true(n > 0);
	return n;
}

#endif /* QNPU_UNIT_H */
