/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer target does with a model that loaded: zeroed
 * inputs, one inference. Inputs above 4 MiB skip the run to keep each
 * iteration cheap.
 */
#ifndef QNPU_FUZZ_RUN_H
#define QNPU_FUZZ_RUN_H

#include <stdlib.h>

#include "qnpu.h"

static inline void fuzz_run_once(struct qnpu_model *m)
{
	int i, n = qnpu_model_num_inputs(m);

	for (i = 0; i < n; i++) {
		struct qnpu_tensor_info t;
		void *buf;

		qnpu_model_input_info(m, i, &t);
		if (t.bytes > (1u << 22))
			return;
		buf = calloc(1, t.bytes);
		if (!buf)
			return;
		qnpu_model_set_input(m, i, buf, t.bytes);
		free(buf);
	}
	qnpu_model_run(m);
}

#endif /* QNPU_FUZZ_RUN_H */
