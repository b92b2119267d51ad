// SPDX-License-Identifier: MIT
/*
 * The QEMU stand-in of qnpu_fake_qemu.h: shared by the host tests of the
 * ivshmem server and of qnpu-sim's device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "qnpu_fake_qemu.h"

static void *qnpu_fake_server_thread(void *arg)
{
	struct qnpu_fake_server *s = arg;

	s->run_ret = qnpu_ivshmem_run(s->ivs);
	return NULL;
}

void qnpu_fake_server_start(struct qnpu_fake_server *s,
			    const struct qnpu_ivshmem_config *cfg,
			    const struct qnpu_ivshmem_ops *ops, void *priv)
{
	struct qnpu_ivshmem_config c = *cfg;

	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/qnpu-ivshmem-test.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->sock, sizeof(s->sock), "%s/sock", s->dir);
	snprintf(s->ram, sizeof(s->ram), "%s/ram", s->dir);
	c.socket_path = s->sock;
	c.ram_path = s->ram;
	assert_int_equal(qnpu_ivshmem_create(&c, ops, priv, &s->ivs), 0);
	assert_int_equal(pthread_create(&s->thread, NULL,
					qnpu_fake_server_thread, s), 0);
	s->running = 1;
}

void qnpu_fake_server_stop(struct qnpu_fake_server *s)
{
	if (!s->running)
		return;
	qnpu_ivshmem_stop(s->ivs);
	assert_int_equal(pthread_join(s->thread, NULL), 0);
	s->running = 0;
	assert_int_equal(s->run_ret, 0);
}

void qnpu_fake_server_destroy(struct qnpu_fake_server *s)
{
	if (!s->ivs)
		return;
	qnpu_fake_server_stop(s);
	qnpu_ivshmem_destroy(s->ivs);
	s->ivs = NULL;
	/* destroy removes what create made. */
	assert_int_equal(access(s->sock, F_OK), -1);
	assert_int_equal(access(s->ram, F_OK), -1);
	rmdir(s->dir);
}

int qnpu_fake_qemu_dial(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(addr.sun_path));
	strcpy(addr.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	return fd;
}

int64_t qnpu_fake_qemu_recv(int sock, int *fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int64_t val = 0;
	struct iovec iov = { .iov_base = &val, .iov_len = sizeof(val) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;

	assert_int_equal(recvmsg(sock, &msg, 0), sizeof(val));
	*fd = -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return val;
}

void qnpu_fake_qemu_connect(struct qnpu_fake_qemu *q, const char *path,
			    uint64_t shm_size, unsigned int vectors)
{
	struct stat st;
	unsigned int v;
	int fd;

	assert_true(vectors <= QNPU_IVSHMEM_MAX_VECTORS);
	q->vectors = vectors;
	q->sock = qnpu_fake_qemu_dial(path);
	assert_int_equal(qnpu_fake_qemu_recv(q->sock, &fd), 0);	/* version */
	assert_int_equal(fd, -1);
	assert_int_equal(qnpu_fake_qemu_recv(q->sock, &fd),
			 QNPU_IVSHMEM_GUEST_PEER);
	assert_int_equal(fd, -1);
	/* the shared memory */
	assert_int_equal(qnpu_fake_qemu_recv(q->sock, &q->shm_fd), -1);
	assert_true(q->shm_fd >= 0);
	assert_int_equal(fstat(q->shm_fd, &st), 0);
	assert_int_equal(st.st_size, shm_size);
	for (v = 0; v < vectors; v++) {
		assert_int_equal(qnpu_fake_qemu_recv(q->sock, &q->host_efd[v]),
				 QNPU_IVSHMEM_HOST_PEER);
		assert_true(q->host_efd[v] >= 0);
	}
	for (v = 0; v < vectors; v++) {
		assert_int_equal(qnpu_fake_qemu_recv(q->sock, &q->guest_efd[v]),
				 QNPU_IVSHMEM_GUEST_PEER);
		assert_true(q->guest_efd[v] >= 0);
	}
}

void qnpu_fake_qemu_ring(struct qnpu_fake_qemu *q, unsigned int vector)
{
	uint64_t one = 1;

	assert_true(vector < q->vectors);
	assert_int_equal(write(q->host_efd[vector], &one, 8), 8);
}

uint64_t qnpu_fake_qemu_irqs(struct qnpu_fake_qemu *q, unsigned int vector)
{
	struct pollfd p = { .fd = q->guest_efd[vector], .events = POLLIN };
	uint64_t cnt = 0;

	assert_true(vector < q->vectors);
	/* An eventfd at 0 is not readable; read() resets it to 0. */
	if (poll(&p, 1, 0) == 0)
		return 0;
	assert_int_equal(read(q->guest_efd[vector], &cnt, 8), 8);
	return cnt;
}

void qnpu_fake_qemu_close(struct qnpu_fake_qemu *q)
{
	unsigned int v;

	for (v = 0; v < q->vectors; v++) {
		close(q->host_efd[v]);
		close(q->guest_efd[v]);
	}
	close(q->shm_fd);
	close(q->sock);
}
