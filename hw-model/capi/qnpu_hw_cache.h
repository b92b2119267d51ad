// SPDX-License-Identifier: MIT
// The model cache: Verilated models of configurations that are not linked
// into the library, built on first use and loaded with dlopen.
#ifndef QNPU_HW_CACHE_H
#define QNPU_HW_CACHE_H

#include "qnpu_hw_dev.h"

// The constructor of the model for p's RTL parameters (p checked), building
// it into the cache first if needed. 0, or -EIO with a message in err.
int qnpu_hw_cache_model(const qnpu_hw_params *p, qnpu_hw_impl::NewDevFn *fn, char *err,
			size_t errlen);

#endif
