/* SPDX-License-Identifier: MIT */
/*
 * What every stage of libqnpu uses: the last-error message, time, whole
 * files. The bottom layer: includes only the public header.
 */
#ifndef QNPU_UTIL_H
#define QNPU_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "qnpu.h"

#define QNPU_EXPORT __attribute__((visibility("default")))

/* Set this thread's last error; returns @err for `return qnpu_err(...)`. */
int qnpu_err(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Put "@what: " before this thread's last error; returns @err. */
int qnpu_err_prefix(int err, const char *what);

uint64_t qnpu_now_ns(void);
/* A whole file into a malloc()ed buffer; the error names the path. */
int qnpu_read_file(const char *path, uint8_t **buf, size_t *len);

#endif /* QNPU_UTIL_H */
