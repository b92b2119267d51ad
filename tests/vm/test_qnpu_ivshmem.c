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
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "qnpu_fake_qemu.h"
#include "qnpu_ivshmem.h"

#define RAM_SIZE	(64ULL << 20)
#define SHM_SIZE	(64ULL << 10)
#define VECTORS		2

struct fixture {
	struct qnpu_fake_server srv;
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
	assert_int_equal(pipe(f->events), 0);
	qnpu_fake_server_start(&f->srv, &cfg, &ops, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	qnpu_fake_server_destroy(&f->srv);
	close(f->events[0]);
	close(f->events[1]);
	free(f);
	return 0;
}

/* QEMU connects; the device's connect callback ran before the handshake. */
static void handshake(struct fixture *f, struct qnpu_fake_qemu *g)
{
	qnpu_fake_qemu_connect(g, f->srv.sock, SHM_SIZE, VECTORS);
	assert_int_equal(next_event(f), 'c');
}

static void test_protocol_order(void **state)
{
	struct fixture *f = *state;
	struct qnpu_fake_qemu g;
	char c;

	handshake(f, &g);
	/* Nothing more: the server must not send anything else. */
	assert_int_equal(recv(g.sock, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	qnpu_fake_qemu_close(&g);
	assert_int_equal(next_event(f), 'x');
}

static void test_doorbell_and_irq(void **state)
{
	struct fixture *f = *state;
	struct qnpu_fake_qemu g;
	unsigned int v;

	handshake(f, &g);
	for (v = 0; v < VECTORS; v++) {
		qnpu_fake_qemu_ring(&g, v);
		assert_int_equal(next_event(f), 'd');
		assert_int_equal(f->last_vector, v);
		/* The irq lands on the guest eventfd of the same vector. */
		assert_int_equal(qnpu_fake_qemu_irqs(&g, v), 1);
	}
	qnpu_fake_qemu_close(&g);
	assert_int_equal(next_event(f), 'x');
}

static void test_shm_and_dma_shared(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[16], back[16];
	struct qnpu_fake_qemu g;
	size_t size;
	uint8_t *gshm, *hshm;
	int ram;

	handshake(f, &g);
	gshm = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    g.shm_fd, 0);
	assert_true(gshm != MAP_FAILED);
	hshm = qnpu_ivshmem_shm(f->srv.ivs, &size);
	assert_int_equal(size, SHM_SIZE);
	gshm[4095] = 0xa5;
	assert_int_equal(hshm[4095], 0xa5);
	munmap(gshm, SHM_SIZE);

	/* DMA lands in the very file QEMU maps as guest RAM. */
	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(qnpu_ivshmem_dma_write(f->srv.ivs, 0x123000, buf,
						sizeof(buf)), 0);
	ram = open(f->srv.ram, O_RDONLY);
	assert_true(ram >= 0);
	assert_int_equal(pread(ram, back, sizeof(back), 0x123000),
			 sizeof(back));
	close(ram);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(qnpu_ivshmem_dma_read(f->srv.ivs, 0x123000, back,
					       sizeof(back)), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(qnpu_ivshmem_dma_write(f->srv.ivs, RAM_SIZE - 8, buf,
						sizeof(buf)), -EFAULT);
	qnpu_fake_qemu_close(&g);
	assert_int_equal(next_event(f), 'x');
}

static void test_one_guest_and_reconnect(void **state)
{
	struct fixture *f = *state;
	struct qnpu_fake_qemu g;
	int second;
	char c;

	handshake(f, &g);
	/* A second QEMU on the same server gets EOF, the first stays. */
	second = qnpu_fake_qemu_dial(f->srv.sock);
	assert_int_equal(recv(second, &c, 1, 0), 0);
	close(second);
	assert_true(qnpu_ivshmem_connected(f->srv.ivs));
	qnpu_fake_qemu_close(&g);
	assert_int_equal(next_event(f), 'x');
	assert_int_equal(qnpu_ivshmem_irq(f->srv.ivs, 0), -ENOTCONN);

	/* The server outlives QEMU: the next one gets a full handshake. */
	handshake(f, &g);
	qnpu_fake_qemu_close(&g);
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
