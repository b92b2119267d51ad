// SPDX-License-Identifier: MIT
/*
 * Host-side test of qnpu-sim's MSI-X message aggregation: the real
 * Verilated device (qnpu_sim_device.c) behind the real ivshmem server,
 * with this test as QEMU (qnpu_fake_qemu.c) and as the guest driver:
 * page tables and commands in the guest-RAM file, the rings in BAR2, a
 * doorbell through the host eventfd. The guest eventfd of vector 0 counts
 * the interrupt messages exactly.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "qnpu_fake_qemu.h"
#include "qnpu_regs.h"
#include "qnpu_sim.h"

#define RAM_SIZE	(64ULL << 20)
#define SHM_SIZE	(64ULL << 10)
#define VECTORS		1
/* Guest-physical layout: above the legacy hole, below RAM_SIZE. */
#define PT_L0		0x200000ULL
#define PT_L1		0x201000ULL
#define PT_L2		0x202000ULL
#define CMD_PA		0x300000ULL
#define CMD_VA		0x40000000ULL	/* L0 index 1: not an identity map */
#define JOB_ID0		0x5100u
#define BATCH		QNPU_SQ_ENTRIES	/* one full ring, no IRQ_ACK needed */

struct sim {
	void *dev;
	struct qnpu_fake_server srv;
	struct qnpu_fake_qemu q;
	uint8_t *bar2;
	uint8_t *ram;
	uint64_t cycles[BATCH];	/* CQE_CYCLES of each job */
};

static uint32_t reg_read(struct sim *s, uint32_t off)
{
	return __atomic_load_n((uint32_t *)(s->bar2 + off), __ATOMIC_ACQUIRE);
}

/* Release: what the guest wrote before is seen by the device first. */
static void reg_write(struct sim *s, uint32_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(s->bar2 + off), v, __ATOMIC_RELEASE);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A device with @hold, its server, QEMU connected, the guest's view. */
static void sim_start(struct sim *s, uint64_t hold)
{
	struct qnpu_ivshmem_config cfg = {
		.ram_size = RAM_SIZE,
		.shm_size = SHM_SIZE,
		.vectors = VECTORS,
	};
	const struct qnpu_ivshmem_ops *ops;
	int fd;

	memset(s, 0, sizeof(*s));
	assert_int_equal(qnpu_sim_device_attach(NULL, &ops, &s->dev), 0);
	/* Before the server thread exists: no race with the doorbell. */
	qnpu_sim_device_set_irq_hold(s->dev, hold);
	qnpu_fake_server_start(&s->srv, &cfg, ops, s->dev);
	qnpu_fake_qemu_connect(&s->q, s->srv.sock, SHM_SIZE, VECTORS);
	s->bar2 = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       s->q.shm_fd, 0);
	assert_true(s->bar2 != MAP_FAILED);
	/* QEMU maps the guest-RAM file the server created. */
	fd = open(s->srv.ram, O_RDWR);
	assert_true(fd >= 0);
	s->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      0);
	close(fd);
	assert_true(s->ram != MAP_FAILED);
	assert_int_equal(reg_read(s, QNPU_REG_MAGIC), QNPU_MAGIC);
	assert_int_equal(reg_read(s, QNPU_REG_SQ_HEAD), 0);
	assert_int_equal(reg_read(s, QNPU_REG_CQ_TAIL), 0);
}

static void sim_stop(struct sim *s)
{
	if (!s->dev)
		return;
	qnpu_fake_server_stop(&s->srv);
	if (s->q.vectors)
		qnpu_fake_qemu_close(&s->q);
	if (s->ram)
		munmap(s->ram, RAM_SIZE);
	if (s->bar2)
		munmap(s->bar2, SHM_SIZE);
	qnpu_fake_server_destroy(&s->srv);
	qnpu_sim_device_detach(s->dev);
	s->dev = NULL;
}

/*
 * One context (docs/hw-spec.md section 3): a three-level table mapping
 * CMD_VA to CMD_PA read-only, and there one SYNC command, no tokens.
 */
static void guest_write_job(struct sim *s)
{
	uint32_t cmd[QNPU_CMD_BYTES / 4] = { QNPU_OP_SYNC };
	uint64_t va = CMD_VA;

	memset(s->ram + PT_L0, 0, 3 * QNPU_PAGE_BYTES);
	put64(s->ram + PT_L0 + ((va >> 30) & 511) * 8,
	      PT_L1 | QNPU_PTE_V_MASK);
	put64(s->ram + PT_L1 + ((va >> 21) & 511) * 8,
	      PT_L2 | QNPU_PTE_V_MASK);
	put64(s->ram + PT_L2 + ((va >> 12) & 511) * 8,
	      CMD_PA | QNPU_PTE_V_MASK);
	memcpy(s->ram + CMD_PA, cmd, sizeof(cmd));
}

/*
 * As the driver's qnpu_job_write_sqe(): @n entries, SQ_TAIL last; CTRL
 * enables the interrupt; then the doorbell, once for all of them.
 */
static void guest_submit(struct sim *s, unsigned int n)
{
	unsigned int i;

	assert_true(n <= BATCH);
	guest_write_job(s);
	for (i = 0; i < n; i++) {
		uint8_t *e = s->bar2 + QNPU_SQ_OFFSET +
			     (i % QNPU_SQ_ENTRIES) * QNPU_SQE_BYTES;

		put64(e + QNPU_SQE_PT_ROOT, PT_L0);
		put64(e + QNPU_SQE_CMD_VA, CMD_VA);
		put32(e + QNPU_SQE_CMD_COUNT, 1);
		put32(e + QNPU_SQE_JOB_ID, JOB_ID0 + i);
		put32(e + QNPU_SQE_MAX_CYCLES, 0);
		put32(e + QNPU_SQE_FLAGS, 0);
	}
	reg_write(s, QNPU_REG_CTRL, QNPU_CTRL_IRQ_EN_MASK);
	reg_write(s, QNPU_REG_SQ_TAIL, n);
	qnpu_fake_qemu_ring(&s->q, 0);
}

/*
 * Wait for @n completions, then stop the server: the completions are
 * posted from inside the doorbell callback and its last message goes
 * after them, before the callback returns; the server thread returns
 * from qnpu_ivshmem_run() only between callbacks, so after the join
 * every message the run sent is in the eventfd and none can follow.
 * With @on_irq the guest waits as the driver does, sleeping until a
 * message and then looking at CQ_TAIL: a completion no message follows
 * leaves it asleep (5 s: fail). Without, it polls CQ_TAIL (lost
 * messages). Returns the number of messages; checks every CQE.
 */
static uint64_t guest_reap(struct sim *s, unsigned int n, int on_irq)
{
	struct pollfd p = { .fd = s->q.guest_efd[0], .events = POLLIN };
	struct timespec ts = { 0, 200000 };
	unsigned int i, tries;
	uint64_t msgs = 0;

	if (on_irq) {
		do {
			assert_int_equal(poll(&p, 1, 5000), 1);
			msgs += qnpu_fake_qemu_irqs(&s->q, 0);
		} while (reg_read(s, QNPU_REG_CQ_TAIL) != n);
	}
	for (tries = 0; reg_read(s, QNPU_REG_CQ_TAIL) != n; tries++) {
		assert_true(tries < 50000);	/* 10 s */
		nanosleep(&ts, NULL);
	}
	qnpu_fake_server_stop(&s->srv);
	msgs += qnpu_fake_qemu_irqs(&s->q, 0);
	assert_int_equal(reg_read(s, QNPU_REG_SQ_HEAD), n);
	assert_int_equal(reg_read(s, QNPU_REG_CQ_TAIL), n);
	/* The device raised once per job, whatever it sent. */
	assert_int_equal(reg_read(s, QNPU_REG_IRQ_COUNT), n);
	for (i = 0; i < n; i++) {
		uint8_t *e = s->bar2 + QNPU_CQ_OFFSET +
			     (i % QNPU_CQ_ENTRIES) * QNPU_CQE_BYTES;
		uint32_t id, st;

		memcpy(&id, e + QNPU_CQE_JOB_ID, 4);
		memcpy(&st, e + QNPU_CQE_STATUS, 4);
		memcpy(&s->cycles[i], e + QNPU_CQE_CYCLES, 8);
		assert_int_equal(id, JOB_ID0 + i);
		assert_int_equal(st, QNPU_STATUS_OK);
		assert_true(s->cycles[i] > 0);
	}
	return msgs;
}

/*
 * The messages the aggregation rule gives for @n completions: job i's
 * raise comes cycles[i] after job i-1's (each job starts in the cycle its
 * predecessor ended, so its CQE_CYCLES is the distance between the two
 * raises); a message goes when the oldest raise it carries has waited
 * @hold cycles, or when the device idles after the last job.
 */
static uint64_t expected_messages(const uint64_t *cycles, unsigned int n,
				  uint64_t hold)
{
	uint64_t at = 0, t = 0, msgs = 0;
	unsigned int i;

	if (!hold)
		return n;
	for (i = 0; i < n; i++) {
		if (i)
			t += cycles[i];
		if (!msgs || t - at >= hold) {
			msgs++;
			at = t;
		}
	}
	return msgs;
}

static int teardown(void **state)
{
	struct sim *s = *state;

	sim_stop(s);
	free(s);
	return 0;
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct sim));
	return *state ? 0 : -1;
}

/* The cycles an empty job takes between two raises, on a fresh device. */
static uint64_t empty_job_cycles(void)
{
	struct sim s;
	uint64_t c;

	sim_start(&s, 0);
	guest_submit(&s, 2);
	assert_int_equal(guest_reap(&s, 2, 1), 2);
	c = s.cycles[1];
	sim_stop(&s);
	return c;
}

/* A batch that fits the default hold: the guest is interrupted once. */
static void test_default_hold_one_message(void **state)
{
	struct sim *s = *state;
	uint64_t msgs;

	sim_start(s, QNPU_SIM_IRQ_HOLD_DEFAULT);
	guest_submit(s, BATCH);
	msgs = guest_reap(s, BATCH, 1);
	/* The premise: 16 empty jobs end within one hold. */
	assert_true(expected_messages(s->cycles, BATCH,
				      QNPU_SIM_IRQ_HOLD_DEFAULT) == 1);
	assert_int_equal(msgs, 1);
}

static void test_hold_zero_one_message_per_job(void **state)
{
	struct sim *s = *state;

	sim_start(s, 0);
	guest_submit(s, BATCH);
	assert_int_equal(guest_reap(s, BATCH, 1), BATCH);
}

/*
 * A hold of a few jobs: messages go while the device still runs. 3P
 * carries exactly 3 raises (the 4th comes when the first has waited 3P:
 * due), 3P + 1 carries 4; the count follows from the CQE cycles.
 */
static void small_hold(struct sim *s, uint64_t hold)
{
	uint64_t msgs, want;

	sim_start(s, hold);
	guest_submit(s, BATCH);
	msgs = guest_reap(s, BATCH, 1);
	want = expected_messages(s->cycles, BATCH, hold);
	printf("hold %llu cycles: %llu messages (expected %llu)\n",
	       (unsigned long long)hold, (unsigned long long)msgs,
	       (unsigned long long)want);
	assert_true(msgs > 1 && msgs < BATCH);
	assert_int_equal(msgs, want);
	sim_stop(s);
}

static void test_small_hold(void **state)
{
	uint64_t p = empty_job_cycles();

	printf("empty job: %llu cycles\n", (unsigned long long)p);
	assert_true(p > 1);
	small_hold(*state, 3 * p);
	small_hold(*state, 3 * p + 1);
}

/* Aggregation never delays a job that ends the run. */
static void test_single_job_one_message(void **state)
{
	struct sim *s = *state;

	sim_start(s, QNPU_SIM_IRQ_HOLD_DEFAULT);
	guest_submit(s, 1);
	assert_int_equal(guest_reap(s, 1, 1), 1);
}

/*
 * Faults are process-global and fire once, counting jobs from 1 at each
 * QEMU connect: every fault test uses its own N, fires it, and the tests
 * before it run no fault at all.
 */
static void test_fault_irq_drops_the_pending_message(void **state)
{
	struct sim *s = *state;

	assert_int_equal(qnpu_sim_fault_add("irq@16"), 0);
	sim_start(s, QNPU_SIM_IRQ_HOLD_DEFAULT);
	guest_submit(s, BATCH);
	/* All 16 posted, but the message that would carry them is lost. */
	assert_int_equal(guest_reap(s, BATCH, 0), 0);
	assert_int_equal(expected_messages(s->cycles, BATCH,
					   QNPU_SIM_IRQ_HOLD_DEFAULT), 1);
}

static void test_fault_irq_middle_job_hold_zero(void **state)
{
	struct sim *s = *state;

	assert_int_equal(qnpu_sim_fault_add("irq@7"), 0);
	sim_start(s, 0);
	guest_submit(s, BATCH);
	assert_int_equal(guest_reap(s, BATCH, 0), BATCH - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_hold_one_message,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_hold_zero_one_message_per_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_hold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_single_job_one_message,
						setup, teardown),
		/* Last: they leave fired faults behind. */
		cmocka_unit_test_setup_teardown(
			test_fault_irq_drops_the_pending_message, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_fault_irq_middle_job_hold_zero, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
