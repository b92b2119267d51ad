// SPDX-License-Identifier: MIT
/*
 * Fault injection in qnpu-sim (--fault=KIND@N, docs/vm.md): the device
 * misbehaves once, at a point the guest test can predict, so that the
 * driver's recovery can be tested against the real transport and RTL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_sim.h"

#define QNPU_SIM_MAX_FAULTS 32

static const char *const qnpu_sim_fault_names[] = {
	[QNPU_SIM_FAULT_DMA] = "dma",
	[QNPU_SIM_FAULT_IRQ] = "irq",
	[QNPU_SIM_FAULT_STUCK] = "stuck",
	[QNPU_SIM_FAULT_CQE] = "cqe",
	[QNPU_SIM_FAULT_CQE_ID] = "cqe-id",
	[QNPU_SIM_FAULT_CQ_TAIL] = "cq-tail",
	[QNPU_SIM_FAULT_DIE] = "die",
	[QNPU_SIM_FAULT_EXIT] = "exit",
};

static struct {
	enum qnpu_sim_fault_kind kind;
	unsigned long n;
	int fired;
} qnpu_sim_faults[QNPU_SIM_MAX_FAULTS];
static int qnpu_sim_nfaults;

const char *qnpu_sim_fault_name(enum qnpu_sim_fault_kind kind)
{
	return qnpu_sim_fault_names[kind];
}

int qnpu_sim_fault_add(const char *spec)
{
	const char *at = strchr(spec, '@');
	unsigned long n;
	char *end;
	size_t k;

	if (!at || qnpu_sim_nfaults == QNPU_SIM_MAX_FAULTS)
		return -EINVAL;
	errno = 0;
	n = strtoul(at + 1, &end, 0);
	if (errno || end == at + 1 || *end || !n)
		return -EINVAL;
	for (k = 0; k < QNPU_SIM_FAULT_KINDS; k++) {
		if (strlen(qnpu_sim_fault_names[k]) == (size_t)(at - spec) &&
		    !strncmp(spec, qnpu_sim_fault_names[k], at - spec)) {
			qnpu_sim_faults[qnpu_sim_nfaults].kind = k;
			qnpu_sim_faults[qnpu_sim_nfaults++].n = n;
			return 0;
		}
	}
	return -EINVAL;
}

int qnpu_sim_fault_take(enum qnpu_sim_fault_kind kind, unsigned long n)
{
	int i;

	for (i = 0; i < qnpu_sim_nfaults; i++) {
		if (qnpu_sim_faults[i].kind != kind ||
		    qnpu_sim_faults[i].n != n || qnpu_sim_faults[i].fired)
			continue;
		qnpu_sim_faults[i].fired = 1;
		fprintf(stderr, "qnpu-sim: injecting fault %s@%lu\n",
			qnpu_sim_fault_names[kind], n);
		return 1;
	}
	return 0;
}

void qnpu_sim_fault_print(FILE *f)
{
	int i;

	for (i = 0; i < qnpu_sim_nfaults; i++)
		fprintf(f, "%s%s@%lu", i ? ", " : "qnpu-sim: faults: ",
			qnpu_sim_fault_names[qnpu_sim_faults[i].kind],
			qnpu_sim_faults[i].n);
	if (qnpu_sim_nfaults)
		fputc('\n', f);
}
