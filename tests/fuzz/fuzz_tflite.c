// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: any byte string through the importer and, when it
 * loads, one inference. Must never crash, hang or trip ASan/UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qnpu_device *dev;
	struct qnpu_model *m;
	int i, n;

	if (!dev && qnpu_device_open("cpu", &dev))
		abort();
	if (qnpu_model_load_memory(dev, data, size, &m))
		return 0;
	n = qnpu_model_num_inputs(m);
	for (i = 0; i < n; i++) {
		struct qnpu_tensor_info t;
		void *buf;

		qnpu_model_input_info(m, i, &t);
		if (t.bytes > (1u << 22))
			goto out;	/* keep each run cheap */
		buf = calloc(1, t.bytes);
		if (!buf)
			goto out;
		qnpu_model_set_input(m, i, buf, t.bytes);
		free(buf);
	}
	qnpu_model_run(m);
out:
	qnpu_model_free(m);
	return 0;
}
