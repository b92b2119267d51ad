/* SPDX-License-Identifier: MIT */
/*
 * Host tests of qnpu-sim without QEMU: the server (qnpu_ivshmem) serving
 * in a thread, and a stand-in for QEMU that does the ivshmem handshake on
 * the real socket and keeps the shm fd and the eventfds it receives.
 * Failures are cmocka assertions.
 */
#ifndef QNPU_FAKE_QEMU_H
#define QNPU_FAKE_QEMU_H

#include <pthread.h>
#include <stdint.h>

#include "qnpu_ivshmem.h"

struct qnpu_fake_server {
	char dir[64];
	char sock[128];
	char ram[128];
	struct qnpu_ivshmem *ivs;
	pthread_t thread;
	int running;
	int run_ret;
};

/* Create a server in a fresh temporary directory and run it in a thread. */
void qnpu_fake_server_start(struct qnpu_fake_server *s,
			    const struct qnpu_ivshmem_config *cfg,
			    const struct qnpu_ivshmem_ops *ops, void *priv);
/*
 * qnpu_ivshmem_stop() and join: once this returns, no callback runs or
 * will run (e.g. a doorbell callback has sent its last interrupt).
 */
void qnpu_fake_server_stop(struct qnpu_fake_server *s);
/* Stop if running, destroy, check it removed its files. */
void qnpu_fake_server_destroy(struct qnpu_fake_server *s);

struct qnpu_fake_qemu {
	int sock;
	int shm_fd;
	unsigned int vectors;
	int host_efd[QNPU_IVSHMEM_MAX_VECTORS];	/* we write: doorbell */
	int guest_efd[QNPU_IVSHMEM_MAX_VECTORS];	/* server writes: irq */
};

/* A connected socket to @path (nothing read yet). */
int qnpu_fake_qemu_dial(const char *path);
/* One 8-byte message as QEMU reads it; *fd = attached fd or -1. */
int64_t qnpu_fake_qemu_recv(int sock, int *fd);
/*
 * The whole handshake in the exact order of DESIGN.md section 2 / QEMU's
 * ivshmem_recv_setup(), checking every message.
 */
void qnpu_fake_qemu_connect(struct qnpu_fake_qemu *q, const char *path,
			    uint64_t shm_size, unsigned int vectors);
/* What QEMU does for a guest doorbell write on @vector. */
void qnpu_fake_qemu_ring(struct qnpu_fake_qemu *q, unsigned int vector);
/* Messages (irqs) on @vector since the last call; never blocks. */
uint64_t qnpu_fake_qemu_irqs(struct qnpu_fake_qemu *q, unsigned int vector);
void qnpu_fake_qemu_close(struct qnpu_fake_qemu *q);

#endif /* QNPU_FAKE_QEMU_H */
