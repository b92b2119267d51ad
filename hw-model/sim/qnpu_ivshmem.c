// SPDX-License-Identifier: MIT
/*
 * ivshmem server protocol, as QEMU 7.2's ivshmem-doorbell client expects it
 * (hw/misc/ivshmem.c). Every message is one little-endian int64, with at
 * most one file descriptor attached by SCM_RIGHTS:
 *
 *   1. protocol version 0, no fd
 *   2. the guest's own peer id, no fd
 *   3. -1 with the shared-memory fd      (QEMU reads 1-3 synchronously
 *                                         while realizing the device)
 *   4. our peer id, once per vector, each with one of our eventfds
 *      (the guest's doorbell to us on that vector writes it)
 *   5. the guest's id, once per vector, each with one of its eventfds
 *      (we write it, QEMU raises that MSI-X vector)
 *
 * QEMU counts the N-th fd of a peer as vector N-1. The guest's own
 * eventfds sent before the shm fd make QEMU 7.2 set up its interrupt
 * vectors before they exist: it segfaults (tried; another peer's eventfds
 * there are accepted). We keep the order of QEMU's own ivshmem-server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "qnpu_ivshmem.h"

#define QNPU_IVSHMEM_PROTOCOL_VERSION	0

struct qnpu_ivshmem {
	struct qnpu_ivshmem_config cfg;
	const struct qnpu_ivshmem_ops *ops;
	void *priv;

	int listen_fd;
	int client_fd;		/* -1 while no guest */
	int stop_fd;		/* eventfd, written by qnpu_ivshmem_stop() */

	int shm_fd;
	void *shm;

	int ram_fd;
	uint8_t *ram;

	int host_efd[QNPU_IVSHMEM_MAX_VECTORS];	 /* guest -> us */
	int guest_efd[QNPU_IVSHMEM_MAX_VECTORS]; /* us -> guest */
};

static void qnpu_log(const struct qnpu_ivshmem *ivs, const char *fmt, ...)
{
	va_list ap;

	if (!ivs->cfg.verbose)
		return;
	va_start(ap, fmt);
	fputs("qnpu-ivshmem: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void qnpu_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int qnpu_send_msg(int sock, int64_t val, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	/* x86 only, like the rest of the co-simulation: already LE. */
	int64_t le = val;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(le) ? 0 : -EIO;
}

static void qnpu_drop_client(struct qnpu_ivshmem *ivs, int notify)
{
	unsigned int v;

	if (ivs->client_fd < 0)
		return;
	qnpu_close(&ivs->client_fd);
	for (v = 0; v < ivs->cfg.vectors; v++) {
		qnpu_close(&ivs->host_efd[v]);
		qnpu_close(&ivs->guest_efd[v]);
	}
	qnpu_log(ivs, "guest disconnected");
	if (notify && ivs->ops && ivs->ops->disconnect)
		ivs->ops->disconnect(ivs->priv, ivs);
}

static int qnpu_accept_client(struct qnpu_ivshmem *ivs)
{
	unsigned int v;
	int fd, ret;

	fd = accept4(ivs->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (ivs->client_fd >= 0) {
		/* One guest per server: QEMU fails cleanly on EOF. */
		fprintf(stderr, "qnpu-ivshmem: second guest refused\n");
		close(fd);
		return 0;
	}
	ivs->client_fd = fd;

	for (v = 0; v < ivs->cfg.vectors; v++) {
		ivs->host_efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ivs->guest_efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ivs->host_efd[v] < 0 || ivs->guest_efd[v] < 0) {
			ret = -errno;
			goto err_drop;
		}
	}

	/* Reset the device before QEMU can map the register page. */
	if (ivs->ops && ivs->ops->connect)
		ivs->ops->connect(ivs->priv, ivs);

	ret = qnpu_send_msg(fd, QNPU_IVSHMEM_PROTOCOL_VERSION, -1);
	if (!ret)
		ret = qnpu_send_msg(fd, QNPU_IVSHMEM_GUEST_PEER, -1);
	if (!ret)
		ret = qnpu_send_msg(fd, -1, ivs->shm_fd);
	for (v = 0; !ret && v < ivs->cfg.vectors; v++)
		ret = qnpu_send_msg(fd, QNPU_IVSHMEM_HOST_PEER,
				    ivs->host_efd[v]);
	for (v = 0; !ret && v < ivs->cfg.vectors; v++)
		ret = qnpu_send_msg(fd, QNPU_IVSHMEM_GUEST_PEER,
				    ivs->guest_efd[v]);
	if (ret)
		goto err_disconnect;

	qnpu_log(ivs, "guest connected as peer %d, %u vectors",
		 QNPU_IVSHMEM_GUEST_PEER, ivs->cfg.vectors);
	return 0;

err_disconnect:
	/* A guest that hangs up mid-handshake is not a server error. */
	fprintf(stderr, "qnpu-ivshmem: handshake failed: %s\n",
		strerror(-ret));
	qnpu_drop_client(ivs, 1);
	return 0;

err_drop:
	fprintf(stderr, "qnpu-ivshmem: eventfd: %s\n", strerror(-ret));
	qnpu_drop_client(ivs, 0);
	return 0;
}

static int qnpu_map_file(int fd, uint64_t size, void **out)
{
	void *p;

	if (ftruncate(fd, 0) || ftruncate(fd, (off_t)size))
		return -errno;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

int qnpu_ivshmem_create(const struct qnpu_ivshmem_config *cfg,
			const struct qnpu_ivshmem_ops *ops, void *priv,
			struct qnpu_ivshmem **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct qnpu_ivshmem *ivs;
	unsigned int v;
	void *p;
	int ret;

	if (!cfg->socket_path || !cfg->ram_path || !cfg->ram_size ||
	    cfg->ram_size % 4096 || cfg->vectors < 1 ||
	    cfg->vectors > QNPU_IVSHMEM_MAX_VECTORS ||
	    cfg->shm_size < 4096 || (cfg->shm_size & (cfg->shm_size - 1)))
		return -EINVAL;
	if (strlen(cfg->socket_path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;

	ivs = calloc(1, sizeof(*ivs));
	if (!ivs)
		return -ENOMEM;
	ivs->cfg = *cfg;
	ivs->ops = ops;
	ivs->priv = priv;
	ivs->listen_fd = ivs->client_fd = ivs->stop_fd = -1;
	ivs->shm_fd = ivs->ram_fd = -1;
	for (v = 0; v < QNPU_IVSHMEM_MAX_VECTORS; v++)
		ivs->host_efd[v] = ivs->guest_efd[v] = -1;

	ivs->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ivs->stop_fd < 0)
		goto err_errno;

	ivs->shm_fd = memfd_create("qnpu-ivshmem", MFD_CLOEXEC);
	if (ivs->shm_fd < 0)
		goto err_errno;
	ret = qnpu_map_file(ivs->shm_fd, cfg->shm_size, &ivs->shm);
	if (ret)
		goto err_destroy;

	/* Created before QEMU starts: QEMU maps this very file as its RAM. */
	ivs->ram_fd = open(cfg->ram_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ivs->ram_fd < 0)
		goto err_errno;
	ret = qnpu_map_file(ivs->ram_fd, cfg->ram_size, &p);
	if (ret)
		goto err_destroy;
	ivs->ram = p;

	ivs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ivs->listen_fd < 0)
		goto err_errno;
	strcpy(addr.sun_path, cfg->socket_path);
	if (bind(ivs->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(ivs->listen_fd, 4))
		goto err_errno;

	*out = ivs;
	return 0;

err_errno:
	ret = -errno;
err_destroy:
	qnpu_ivshmem_destroy(ivs);
	return ret;
}

void qnpu_ivshmem_destroy(struct qnpu_ivshmem *ivs)
{
	if (!ivs)
		return;
	qnpu_drop_client(ivs, 0);
	if (ivs->listen_fd >= 0) {
		qnpu_close(&ivs->listen_fd);
		unlink(ivs->cfg.socket_path);
	}
	if (ivs->ram)
		munmap(ivs->ram, ivs->cfg.ram_size);
	if (ivs->ram_fd >= 0) {
		qnpu_close(&ivs->ram_fd);
		unlink(ivs->cfg.ram_path);
	}
	if (ivs->shm)
		munmap(ivs->shm, ivs->cfg.shm_size);
	qnpu_close(&ivs->shm_fd);
	qnpu_close(&ivs->stop_fd);
	free(ivs);
}

void qnpu_ivshmem_stop(struct qnpu_ivshmem *ivs)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(ivs->stop_fd, &one, sizeof(one));
	(void)n;
}

int qnpu_ivshmem_run(struct qnpu_ivshmem *ivs)
{
	/* stop, listen, client, then one per host vector. */
	struct pollfd pfd[3 + QNPU_IVSHMEM_MAX_VECTORS];
	unsigned int v, nv = ivs->cfg.vectors;
	uint64_t cnt;
	char buf[64];
	ssize_t n;
	int ret;

	for (;;) {
		/* Negative fds (no guest yet) are ignored by poll(). */
		pfd[0].fd = ivs->stop_fd;
		pfd[1].fd = ivs->listen_fd;
		pfd[2].fd = ivs->client_fd;
		for (v = 0; v < nv; v++)
			pfd[3 + v].fd = ivs->host_efd[v];
		for (v = 0; v < 3 + nv; v++) {
			pfd[v].events = POLLIN;
			pfd[v].revents = 0;
		}
		if (poll(pfd, 3 + nv, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents)
			return 0;

		/* Doorbells first: a guest may ring and then exit. */
		for (v = 0; v < nv; v++) {
			if (!(pfd[3 + v].revents & POLLIN))
				continue;
			n = read(ivs->host_efd[v], &cnt, sizeof(cnt));
			if (n == sizeof(cnt) && cnt && ivs->ops &&
			    ivs->ops->doorbell)
				ivs->ops->doorbell(ivs->priv, ivs, v);
		}

		/* QEMU never sends anything after the handshake: EOF/HUP. */
		if (pfd[2].revents) {
			n = recv(ivs->client_fd, buf, sizeof(buf),
				 MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN &&
				       errno != EINTR) ||
			    (pfd[2].revents & (POLLHUP | POLLERR)))
				qnpu_drop_client(ivs, 1);
		}

		if (pfd[1].revents & POLLIN) {
			ret = qnpu_accept_client(ivs);
			if (ret)
				return ret;
		}
	}
}

int qnpu_ivshmem_connected(const struct qnpu_ivshmem *ivs)
{
	return ivs->client_fd >= 0;
}

void *qnpu_ivshmem_shm(struct qnpu_ivshmem *ivs, size_t *size)
{
	if (size)
		*size = ivs->cfg.shm_size;
	return ivs->shm;
}

int qnpu_ivshmem_irq(struct qnpu_ivshmem *ivs, unsigned int vector)
{
	uint64_t one = 1;

	if (vector >= ivs->cfg.vectors)
		return -EINVAL;
	if (ivs->client_fd < 0)
		return -ENOTCONN;
	/* Release: DMA and register-page writes before the interrupt. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (write(ivs->guest_efd[vector], &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

int qnpu_ivshmem_irq_pending(struct qnpu_ivshmem *ivs, unsigned int vector)
{
	struct pollfd pfd;

	if (vector >= ivs->cfg.vectors)
		return -EINVAL;
	if (ivs->client_fd < 0)
		return -ENOTCONN;
	pfd = (struct pollfd){ .fd = ivs->guest_efd[vector], .events = POLLIN };
	if (poll(&pfd, 1, 0) < 0)
		return -errno;
	return !!(pfd.revents & POLLIN);
}

int qnpu_ivshmem_gpa_to_offset(uint64_t ram_size, uint64_t gpa,
			       uint64_t len, uint64_t *offset)
{
	uint64_t low = ram_size, high = 0;

	if (ram_size >= QNPU_IVSHMEM_Q35_LOWMEM_LIMIT) {
		low = QNPU_IVSHMEM_Q35_LOWMEM_SPLIT;
		high = ram_size - low;
	}
	if (!len || gpa + len < gpa)
		return -EFAULT;
	if (gpa < QNPU_IVSHMEM_LEGACY_HOLE_END &&
	    gpa + len > QNPU_IVSHMEM_LEGACY_HOLE_START)
		return -EFAULT;
	if (gpa + len <= low) {
		*offset = gpa;
		return 0;
	}
	if (gpa >= QNPU_IVSHMEM_HIGHMEM_BASE &&
	    gpa - QNPU_IVSHMEM_HIGHMEM_BASE + len <= high) {
		*offset = gpa - QNPU_IVSHMEM_HIGHMEM_BASE + low;
		return 0;
	}
	return -EFAULT;
}

void *qnpu_ivshmem_gpa(struct qnpu_ivshmem *ivs, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	if (qnpu_ivshmem_gpa_to_offset(ivs->cfg.ram_size, gpa, len, &off))
		return NULL;
	return ivs->ram + off;
}

int qnpu_ivshmem_dma_read(struct qnpu_ivshmem *ivs, uint64_t gpa, void *buf,
			  size_t len)
{
	void *p = qnpu_ivshmem_gpa(ivs, gpa, len);

	if (!p)
		return -EFAULT;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	memcpy(buf, p, len);
	return 0;
}

int qnpu_ivshmem_dma_write(struct qnpu_ivshmem *ivs, uint64_t gpa,
			   const void *buf, size_t len)
{
	void *p = qnpu_ivshmem_gpa(ivs, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return 0;
}

int qnpu_ivshmem_take_doorbell(struct qnpu_ivshmem *ivs)
{
	unsigned int v;
	uint64_t cnt;
	int rang = 0;

	for (v = 0; v < ivs->cfg.vectors; v++)
		if (ivs->host_efd[v] >= 0 &&
		    read(ivs->host_efd[v], &cnt, sizeof(cnt)) == sizeof(cnt))
			rang = 1;
	return rang;
}
