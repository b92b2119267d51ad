// SPDX-License-Identifier: MIT
/*
 * TRANSPORT TEST HOOK, NOT A DEVICE. Answers the guest's
 * tests/vm/qnpu_transport_test: on a doorbell, DMA-reads the guest's source
 * buffer, DMA-writes a pattern into its destination buffer, writes a reply
 * into the shared memory and raises the interrupt of the same vector.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qnpu_ivshmem.h"
#include "qnpu_sim.h"
#include "qnpu_transport_test.h"

#define QNPU_TT_MAX_LEN	(1u << 20)

struct qnpu_tt_state {
	uint32_t doorbells;
	uint8_t buf[QNPU_TT_MAX_LEN];
};

static int qnpu_tt_dma(struct qnpu_ivshmem *ivs, struct qnpu_tt_state *st,
		       const struct qnpu_tt_request *req, uint32_t *sum)
{
	uint32_t i;
	int ret;

	if (req->src_len > QNPU_TT_MAX_LEN || req->dst_len > QNPU_TT_MAX_LEN)
		return -EINVAL;
	if (req->src_len) {
		ret = qnpu_ivshmem_dma_read(ivs, req->src_gpa, st->buf,
					    req->src_len);
		if (ret)
			return ret;
		*sum = qnpu_tt_sum(st->buf, req->src_len);
	}
	if (req->dst_len) {
		for (i = 0; i < req->dst_len; i++)
			st->buf[i] = qnpu_tt_pattern(req->seed, i);
		ret = qnpu_ivshmem_dma_write(ivs, req->dst_gpa, st->buf,
					     req->dst_len);
		if (ret)
			return ret;
	}
	return 0;
}

static void qnpu_tt_doorbell(void *priv, struct qnpu_ivshmem *ivs,
			     unsigned int vector)
{
	struct qnpu_tt_state *st = priv;
	struct qnpu_tt_page *pg = qnpu_ivshmem_shm(ivs, NULL);
	struct qnpu_tt_request req;
	struct qnpu_tt_reply rep;
	int ret;

	st->doorbells++;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	memcpy(&req, (const void *)&pg->req, sizeof(req));
	if (req.magic != QNPU_TT_MAGIC || req.seq == pg->rep.seq) {
		fprintf(stderr, "qnpu-sim: transport test: stray doorbell "
			"(vector %u, seq %u)\n", vector, req.seq);
		return;
	}
	req.text[QNPU_TT_TEXT_LEN - 1] = '\0';

	memset(&rep, 0, sizeof(rep));
	rep.vector = vector;
	rep.doorbells = st->doorbells;
	ret = qnpu_tt_dma(ivs, st, &req, &rep.src_sum);
	rep.status = ret;
	ret = qnpu_ivshmem_irq_pending(ivs, vector);
	rep.irq_pending = ret > 0;
	snprintf(rep.text, sizeof(rep.text), "echo: %.56s", req.text);

	/* Everything else before seq: the guest polls seq. */
	memcpy(&pg->rep.status, &rep.status,
	       sizeof(rep) - offsetof(struct qnpu_tt_reply, status));
	__atomic_store_n(&pg->rep.seq, req.seq, __ATOMIC_RELEASE);

	ret = qnpu_ivshmem_irq(ivs, vector);
	if (ret)
		fprintf(stderr, "qnpu-sim: transport test: irq: %s\n",
			strerror(-ret));
}

static void qnpu_tt_connect(void *priv, struct qnpu_ivshmem *ivs)
{
	struct qnpu_tt_page *pg = qnpu_ivshmem_shm(ivs, NULL);

	(void)priv;
	memset(pg, 0, sizeof(*pg));
	/* Lets the guest test tell this mode from a real device. */
	pg->host_magic = QNPU_TT_HOST_MAGIC;
}

static const struct qnpu_ivshmem_ops qnpu_tt_ops = {
	.connect = qnpu_tt_connect,
	.doorbell = qnpu_tt_doorbell,
};

int qnpu_transport_test_attach(const struct qnpu_ivshmem_ops **ops,
			       void **priv)
{
	struct qnpu_tt_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	*ops = &qnpu_tt_ops;
	*priv = st;
	return 0;
}

void qnpu_transport_test_detach(void *priv)
{
	free(priv);
}
