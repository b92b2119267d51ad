// SPDX-License-Identifier: MIT
/*
 * Host-side tests of qnpu_ivshmem (hw-model/sim): the test plays QEMU's
 * part of the ivshmem protocol on the real socket, so message order and
 * fd passing are checked byte for byte; the VM test (vm-check.sh) then
 * checks the same server against real QEMU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "qnpu_ivshmem.h"

#define RAM_SIZE	(64ULL << 20)
#define SHM_SIZE	(64ULL << 10)
#define VECTORS		2

struct fixture {
	char dir[64];
	char sock[128];
	char ram[128];
	struct qnpu_ivshmem *ivs;
	pthread_t thread;
	int run_ret;
	/* Written by callbacks (server thread), read through events. */
	int events[2];		/* pipe: one byte per callback */
	unsigned int last_vector;
};

static void on_connect(void *priv, struct qnpu_ivshmem *ivs)
{
	struct fixture *f = priv;

	(void)ivs;
	assert_int_equal(write(f->events[1], "c", 1), 1);
}

static void on_doorbell(void *priv, struct qnpu_ivshmem *ivs,
			unsigned int vector)
{
	struct fixture *f = priv;

	f->last_vector = vector;
	/* Like a device: interrupt back on the same vector. */
	assert_int_equal(qnpu_ivshmem_irq(ivs, vector), 0);
	assert_int_equal(write(f->events[1], "d", 1), 1);
}

static void on_disconnect(void *priv, struct qnpu_ivshmem *ivs)
{
	struct fixture *f = priv;

	(void)ivs;
	assert_int_equal(write(f->events[1], "x", 1), 1);
}

static const struct qnpu_ivshmem_ops ops = {
	.connect = on_connect,
	.doorbell = on_doorbell,
	.disconnect = on_disconnect,
};

static void *run_thread(void *arg)
{
	struct fixture *f = arg;

	f->run_ret = qnpu_ivshmem_run(f->ivs);
	return NULL;
}

static char next_event(struct fixture *f)
{
	struct pollfd p = { .fd = f->events[0], .events = POLLIN };
	char c = 0;

	if (poll(&p, 1, 5000) != 1 || read(f->events[0], &c, 1) != 1)
		return 0;
	return c;
}

static int setup(void **state)
{
	struct qnpu_ivshmem_config cfg = {
		.ram_size = RAM_SIZE,
		.shm_size = SHM_SIZE,
		.vectors = VECTORS,
	};
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/qnpu-ivshmem-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/sock", f->dir);
	snprintf(f->ram, sizeof(f->ram), "%s/ram", f->dir);
	cfg.socket_path = f->sock;
	cfg.ram_path = f->ram;
	assert_int_equal(pipe(f->events), 0);
	assert_int_equal(qnpu_ivshmem_create(&cfg, &ops, f, &f->ivs), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, run_thread, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	qnpu_ivshmem_stop(f->ivs);
	pthread_join(f->thread, NULL);
	assert_int_equal(f->run_ret, 0);
	qnpu_ivshmem_destroy(f->ivs);
	/* destroy removes what create made. */
	assert_int_equal(access(f->sock, F_OK), -1);
	assert_int_equal(access(f->ram, F_OK), -1);
	rmdir(f->dir);
	close(f->events[0]);
	close(f->events[1]);
	free(f);
	return 0;
}

static int client_connect(struct fixture *f)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(addr.sun_path, f->sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	return fd;
}

/* One 8-byte message as QEMU reads it; *fd = attached fd or -1. */
static int64_t recv_msg(int sock, int *fd)
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

struct guest {
	int sock;
	int shm_fd;
	int host_efd[VECTORS];
	int guest_efd[VECTORS];
};

/* The exact order of DESIGN.md section 2 / QEMU's ivshmem_recv_setup(). */
static void handshake(struct fixture *f, struct guest *g)
{
	struct stat st;
	int fd, v;

	g->sock = client_connect(f);
	assert_int_equal(recv_msg(g->sock, &fd), 0);		/* version */
	assert_int_equal(fd, -1);
	assert_int_equal(recv_msg(g->sock, &fd), QNPU_IVSHMEM_GUEST_PEER);
	assert_int_equal(fd, -1);
	assert_int_equal(recv_msg(g->sock, &g->shm_fd), -1);	/* shm */
	assert_true(g->shm_fd >= 0);
	assert_int_equal(fstat(g->shm_fd, &st), 0);
	assert_int_equal(st.st_size, SHM_SIZE);
	for (v = 0; v < VECTORS; v++) {
		assert_int_equal(recv_msg(g->sock, &g->host_efd[v]),
				 QNPU_IVSHMEM_HOST_PEER);
		assert_true(g->host_efd[v] >= 0);
	}
	for (v = 0; v < VECTORS; v++) {
		assert_int_equal(recv_msg(g->sock, &g->guest_efd[v]),
				 QNPU_IVSHMEM_GUEST_PEER);
		assert_true(g->guest_efd[v] >= 0);
	}
	assert_int_equal(next_event(f), 'c');
}

static void guest_close(struct guest *g)
{
	int v;

	for (v = 0; v < VECTORS; v++) {
		close(g->host_efd[v]);
		close(g->guest_efd[v]);
	}
	close(g->shm_fd);
	close(g->sock);
}

static void test_protocol_order(void **state)
{
	struct fixture *f = *state;
	struct guest g;
	char c;

	handshake(f, &g);
	/* Nothing more: the server must not send anything else. */
	assert_int_equal(recv(g.sock, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	guest_close(&g);
	assert_int_equal(next_event(f), 'x');
}

static void test_doorbell_and_irq(void **state)
{
	struct fixture *f = *state;
	uint64_t one = 1, cnt = 0;
	struct guest g;
	unsigned int v;

	handshake(f, &g);
	for (v = 0; v < VECTORS; v++) {
		/* What QEMU does for a guest doorbell write on vector v. */
		assert_int_equal(write(g.host_efd[v], &one, 8), 8);
		assert_int_equal(next_event(f), 'd');
		assert_int_equal(f->last_vector, v);
		/* The irq lands on the guest eventfd of the same vector. */
		assert_int_equal(read(g.guest_efd[v], &cnt, 8), 8);
		assert_int_equal(cnt, 1);
	}
	guest_close(&g);
	assert_int_equal(next_event(f), 'x');
}

static void test_shm_and_dma_shared(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[16], back[16];
	struct guest g;
	size_t size;
	uint8_t *gshm, *hshm;
	int ram;

	handshake(f, &g);
	gshm = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    g.shm_fd, 0);
	assert_true(gshm != MAP_FAILED);
	hshm = qnpu_ivshmem_shm(f->ivs, &size);
	assert_int_equal(size, SHM_SIZE);
	gshm[4095] = 0xa5;
	assert_int_equal(hshm[4095], 0xa5);
	munmap(gshm, SHM_SIZE);

	/* DMA lands in the very file QEMU maps as guest RAM. */
	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(qnpu_ivshmem_dma_write(f->ivs, 0x123000, buf,
						sizeof(buf)), 0);
	ram = open(f->ram, O_RDONLY);
	assert_true(ram >= 0);
	assert_int_equal(pread(ram, back, sizeof(back), 0x123000),
			 sizeof(back));
	close(ram);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(qnpu_ivshmem_dma_read(f->ivs, 0x123000, back,
					       sizeof(back)), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(qnpu_ivshmem_dma_write(f->ivs, RAM_SIZE - 8, buf,
						sizeof(buf)), -EFAULT);
	guest_close(&g);
	assert_int_equal(next_event(f), 'x');
}

static void test_one_guest_and_reconnect(void **state)
{
	struct fixture *f = *state;
	struct guest g;
	int second;
	char c;

	handshake(f, &g);
	/* A second QEMU on the same server gets EOF, the first stays. */
	second = client_connect(f);
	assert_int_equal(recv(second, &c, 1, 0), 0);
	close(second);
	assert_true(qnpu_ivshmem_connected(f->ivs));
	guest_close(&g);
	assert_int_equal(next_event(f), 'x');
	assert_int_equal(qnpu_ivshmem_irq(f->ivs, 0), -ENOTCONN);

	/* The server outlives QEMU: the next one gets a full handshake. */
	handshake(f, &g);
	guest_close(&g);
	assert_int_equal(next_event(f), 'x');
}

static void test_gpa_rules(void **state)
{
	uint64_t off = 0;
	const uint64_t G = 1ULL << 30, M = 1ULL << 20;

	(void)state;
	/* 512 MiB: one piece, gpa == file offset. */
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 0, 4096, &off), 0);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 0x9f000, 0x1000,
						    &off), 0);
	assert_int_equal(off, 0x9f000);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 0x9f000, 0x2000,
						    &off), -EFAULT);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 0xc0000, 1,
						    &off), -EFAULT);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 0x100000, 1,
						    &off), 0);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 512 * M - 4096,
						    4096, &off), 0);
	assert_int_equal(off, 512 * M - 4096);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 512 * M - 4096,
						    4097, &off), -EFAULT);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 4 * G, 1, &off),
			 -EFAULT);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, ~0ULL - 10, 100,
						    &off), -EFAULT);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(512 * M, 4096, 0, &off),
			 -EFAULT);

	/* 2.5 GiB: still below the q35 split, one piece. */
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(2 * G + G / 2,
						    2 * G + G / 4, 4096, &off),
			 0);
	assert_int_equal(off, 2 * G + G / 4);

	/* 4 GiB: 2 GiB low, the other 2 GiB at 4 GiB = file offset 2 GiB. */
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(4 * G, 2 * G - 4096, 4096,
						    &off), 0);
	assert_int_equal(off, 2 * G - 4096);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(4 * G, 2 * G, 4096, &off),
			 -EFAULT);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(4 * G, 2 * G - 4096, 8192,
						    &off), -EFAULT);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(4 * G, 4 * G, 4096, &off),
			 0);
	assert_int_equal(off, 2 * G);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(4 * G, 6 * G - 4096, 4096,
						    &off), 0);
	assert_int_equal(off, 4 * G - 4096);
	assert_int_equal(qnpu_ivshmem_gpa_to_offset(4 * G, 6 * G - 4096, 4097,
						    &off), -EFAULT);
}

static void test_create_invalid(void **state)
{
	struct qnpu_ivshmem_config cfg = {
		.socket_path = "/tmp/unused.sock",
		.ram_path = "/tmp/unused.ram",
		.ram_size = RAM_SIZE,
		.shm_size = 3 * 4096,	/* BAR2 must be a power of two */
		.vectors = VECTORS,
	};
	struct qnpu_ivshmem *ivs = NULL;

	(void)state;
	assert_int_equal(qnpu_ivshmem_create(&cfg, NULL, NULL, &ivs), -EINVAL);
	cfg.shm_size = SHM_SIZE;
	cfg.vectors = 0;
	assert_int_equal(qnpu_ivshmem_create(&cfg, NULL, NULL, &ivs), -EINVAL);
	assert_null(ivs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_protocol_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_and_irq, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shm_and_dma_shared, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_one_guest_and_reconnect,
						setup, teardown),
		cmocka_unit_test(test_gpa_rules),
		cmocka_unit_test(test_create_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
