/* SPDX-License-Identifier: MIT */
/*
 * TRANSPORT TEST HOOK, NOT A DEVICE. The message layout shared by
 * tests/vm/qnpu_transport_test.c (guest) and the echo handler of
 * `qnpu-sim --transport-test` (host). It only proves that doorbells, the
 * shared memory and DMA into guest RAM work between a real QEMU guest and
 * qnpu-sim; in that mode BAR2 holds this message instead of the qnpu
 * register page (docs/hw-spec.md).
 */
#ifndef QNPU_TRANSPORT_TEST_H
#define QNPU_TRANSPORT_TEST_H

#include <stdint.h>

#define QNPU_TT_MAGIC		0x31545451u	/* "QTT1" */
/* In host_magic while qnpu-sim runs --transport-test. */
#define QNPU_TT_HOST_MAGIC	0x48545451u	/* "QTTH" */
#define QNPU_TT_TEXT_LEN	64

/* Guest fills, host never writes. */
struct qnpu_tt_request {
	uint32_t magic;
	uint32_t seq;		/* written last by the guest */
	uint64_t src_gpa;	/* host DMA-reads src_len bytes here */
	uint64_t dst_gpa;	/* host DMA-writes dst_len bytes here */
	uint32_t src_len;
	uint32_t dst_len;
	uint32_t seed;		/* of the pattern written to dst */
	uint32_t pad;
	char text[QNPU_TT_TEXT_LEN];
};

/* Host fills, guest never writes (except to clear it). */
struct qnpu_tt_reply {
	uint32_t seq;		/* = request seq, written last by the host */
	int32_t status;		/* 0 or negative errno of the DMA */
	uint32_t vector;	/* the doorbell vector that ran it */
	uint32_t src_sum;	/* qnpu_tt_sum() of the bytes DMA-read */
	uint32_t irq_pending;	/* last interrupt not yet taken by QEMU */
	uint32_t doorbells;	/* doorbell callbacks so far */
	char text[QNPU_TT_TEXT_LEN];
};

struct qnpu_tt_page {
	struct qnpu_tt_request req;
	uint8_t pad0[128 - sizeof(struct qnpu_tt_request)];
	struct qnpu_tt_reply rep;
	uint8_t pad1[120 - sizeof(struct qnpu_tt_reply)];
	uint32_t host_magic;	/* set by the host on connect */
	uint32_t pad2;
};

_Static_assert(sizeof(struct qnpu_tt_page) == 256, "qnpu_tt_page layout");

/* FNV-1a: any corruption of the DMA'd bytes changes it. */
static inline uint32_t qnpu_tt_sum(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Byte @i of the pattern the host writes for @seed. */
static inline uint8_t qnpu_tt_pattern(uint32_t seed, uint32_t i)
{
	uint32_t x = seed ^ (i * 2654435761u);

	x ^= x >> 15;
	x *= 2246822519u;
	x ^= x >> 13;
	return (uint8_t)x;
}

#endif /* QNPU_TRANSPORT_TEST_H */
