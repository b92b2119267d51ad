// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: any byte string through the importer and, when it
 * loads, one inference on the CPU; and through the NPU compiler (or the
 * compiled-model reader, for "QNPC" files) of an offline target device
 * when QNPU_FUZZ_TARGET names a DTB. Must never crash, hang or trip
 * ASan/UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_run.h"
#include "qnpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qnpu_device *cpu, *target;
	static int init;
	struct qnpu_model *m;

	if (!init) {
		const char *dtb = getenv("QNPU_FUZZ_TARGET");
		char name[4096];

		init = 1;
		if (qnpu_device_open("cpu", &cpu))
			abort();
		if (dtb) {
			snprintf(name, sizeof(name), "target:%s", dtb);
			if (qnpu_device_open(name, &target)) {
				fprintf(stderr, "%s\n", qnpu_last_error());
				abort();
			}
		}
	}
	if (!qnpu_model_load_memory(cpu, data, size, &m)) {
		fuzz_run_once(m);
		qnpu_model_free(m);
	}
	if (target && !qnpu_model_load_memory(target, data, size, &m))
		qnpu_model_free(m);
	return 0;
}
