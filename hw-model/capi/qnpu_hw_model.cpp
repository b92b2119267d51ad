// SPDX-License-Identifier: MIT
// The one translation unit of a model built on demand (qnpu_hw_build.sh):
// Dev<V> for the Verilated class QNPU_HW_MODEL_CLASS behind an extern "C"
// factory, the only symbol the shared object exports.
#include "qnpu_hw_dev.h"

extern "C" __attribute__((visibility("default"))) qnpu_hw_impl::DevBase *
qnpu_hw_model_new(const qnpu_hw_params &p,
		  const qnpu_hw_mem_ops &m)
{
	return qnpu_hw_impl::new_dev<QNPU_HW_MODEL_CLASS>(p, m);
}
