// SPDX-License-Identifier: MIT
/* Per-thread last error message. */
#include <stdarg.h>
#include <stdio.h>

#include "util/qnpu_util.h"

static __thread char last_error[512] = "no error";

int qnpu_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

int qnpu_err_prefix(int err, const char *what)
{
	char msg[sizeof(last_error)];

	snprintf(msg, sizeof(msg), "%s", last_error);
	return qnpu_err(err, "%s: %s", what, msg);
}

QNPU_EXPORT const char *qnpu_last_error(void)
{
	return last_error;
}
