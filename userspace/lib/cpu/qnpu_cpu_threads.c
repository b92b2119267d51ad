// SPDX-License-Identifier: MIT
/*
 * The CPU kernels' persistent thread pool. A layer of these models takes
 * 2-30 us, less than starting a thread, so workers live as long as the
 * pool, spin briefly between jobs (the next layer follows within
 * microseconds) and only then sleep on a futex on the job counter (no
 * mutex: a waker never blocks behind a descheduled sleeper).
 *
 * Tasks are claimed in chunks from one counter by whichever thread comes
 * first, the caller included: on a loaded machine a descheduled worker
 * then costs at most the chunk it holds, not its whole share (a static
 * split made every layer wait for a time slice). Every output is
 * computed by exactly one thread, the same way, so results do not depend
 * on the thread count or on who ran what.
 */
#define _GNU_SOURCE	/* sched_getcpu() */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "qnpu_cpu.h"

/* How long an idle worker spins before it sleeps. */
#define QNPU_POOL_SPIN_NS 200000

struct qnpu_cpu_pool {
	int threads;
	pthread_t *tid;
	pthread_mutex_t run_lock;	/* one job at a time */
	atomic_uint gen;		/* bumped once per job; the futex */
	_Atomic unsigned long long next;	/* qnpu_pool_state() */
	atomic_int done;		/* tasks finished */
	atomic_int sleepers;
	atomic_int stop;
	atomic_int caller_cpu;		/* where the last job was posted */
	cpu_set_t cpus;			/* the creator's CPUs */
	/* The job, written before gen is bumped. */
	qnpu_cpu_task_fn fn;
	void *ctx;
	int ntasks;
	atomic_int chunk;		/* read before a claim succeeds */
};

static inline void qnpu_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t qnpu_pool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The claim state packs the job's generation (low 16 bits), its task
 * count and the next unclaimed task, so that a claim never relies on a
 * field the caller may be rewriting: a successful compare-exchange from a
 * state with tasks left claims tasks of the running job, whose fn and ctx
 * are read after it (chunk, read before, only sizes the claim). Even a
 * generation that wrapped to an equal state makes a valid claim.
 */
#define QNPU_POOL_TASK_BITS 24
#define QNPU_POOL_MAX_TASKS ((1 << QNPU_POOL_TASK_BITS) - 1)

static inline unsigned long long qnpu_pool_state(unsigned int gen, int ntasks,
						 int next)
{
	return (unsigned long long)(gen & 0xffff) << 48 |
	       (unsigned long long)ntasks << QNPU_POOL_TASK_BITS |
	       (unsigned long long)next;
}

/* Claim and run chunks of job @gen until none is left. */
static void qnpu_pool_work(struct qnpu_cpu_pool *p, unsigned int gen)
{
	unsigned long long v = atomic_load(&p->next);

	for (;;) {
		const int b = (int)(v & QNPU_POOL_MAX_TASKS);
		const int n = (int)(v >> QNPU_POOL_TASK_BITS &
				    QNPU_POOL_MAX_TASKS);
		int chunk, e;

		if ((unsigned int)(v >> 48) != (gen & 0xffff) || b >= n)
			return;		/* not our job, or all claimed */
		chunk = atomic_load_explicit(&p->chunk, memory_order_relaxed);
		e = b + chunk < n ? b + chunk : n;
		if (!atomic_compare_exchange_weak(&p->next, &v,
				qnpu_pool_state(gen, n, e)))
			continue;
		/* The claim holds the job (and fn, ctx) until done counts it. */
		p->fn(p->ctx, b, e);
		atomic_fetch_add_explicit(&p->done, e - b,
					  memory_order_release);
		v = atomic_load(&p->next);
	}
}

/* Run anywhere the pool may but on the CPU the caller last used. */
static void qnpu_pool_move_off(struct qnpu_cpu_pool *p)
{
	const int cpu = atomic_load_explicit(&p->caller_cpu,
					     memory_order_relaxed);
	cpu_set_t set = p->cpus;

	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set))
		return;
	CPU_CLR(cpu, &set);
	if (CPU_COUNT(&set))
		sched_setaffinity(0, sizeof(set), &set);
	else
		sched_yield();
}

/* Wait for a generation other than @seen; 0, or -1 when stopping. */
static int qnpu_pool_wait(struct qnpu_cpu_pool *p, unsigned int seen)
{
	uint64_t t0 = 0;
	unsigned int i;

	for (i = 0;; i++) {
		if (atomic_load_explicit(&p->gen, memory_order_acquire) != seen)
			return 0;
		if (atomic_load_explicit(&p->stop, memory_order_relaxed))
			return -1;
		qnpu_cpu_relax();
		if (i % 256)
			continue;
		/*
		 * A woken thread lands on its waker's CPU, and on a loaded
		 * machine it stays there: both then share one core. Move
		 * off the caller's CPU (the spinning libraries' threads never
		 * sleep, so never get moved).
		 */
		if (sched_getcpu() == atomic_load_explicit(&p->caller_cpu,
							   memory_order_relaxed))
			qnpu_pool_move_off(p);
		if (!t0)
			t0 = qnpu_pool_now();
		else if (qnpu_pool_now() - t0 > QNPU_POOL_SPIN_NS)
			break;
	}
	/*
	 * Sleep. sleepers is raised before gen is read again and the caller
	 * bumps gen before it reads sleepers, so one of the two sees the
	 * other; FUTEX_WAIT itself returns at once if gen moved.
	 */
	atomic_fetch_add(&p->sleepers, 1);
	while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
		syscall(SYS_futex, &p->gen, FUTEX_WAIT_PRIVATE, seen, NULL,
			NULL, 0);
	atomic_fetch_sub(&p->sleepers, 1);
	return atomic_load(&p->gen) != seen ? 0 : -1;
}

static void qnpu_pool_wake(struct qnpu_cpu_pool *p)
{
	syscall(SYS_futex, &p->gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL,
		0);
}

static void *qnpu_pool_main(void *arg)
{
	struct qnpu_cpu_pool *p = arg;
	/* gen is 0 until the first job, which may come before we run. */
	unsigned int seen = 0;

	while (!qnpu_pool_wait(p, seen)) {
		seen = atomic_load_explicit(&p->gen, memory_order_acquire);
		qnpu_pool_work(p, seen);
	}
	return NULL;
}

static void qnpu_pool_stop(struct qnpu_cpu_pool *p, int started)
{
	int i;

	atomic_store(&p->stop, 1);
	/* Sleepers wake on a gen change: make one, then wake them. */
	atomic_fetch_add(&p->gen, 1);
	qnpu_pool_wake(p);
	for (i = 0; i < started; i++)
		pthread_join(p->tid[i], NULL);
}

int qnpu_cpu_pool_create(int threads, struct qnpu_cpu_pool **out)
{
	struct qnpu_cpu_pool *p;
	int i, r;

	*out = NULL;
	if (threads < 1)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->threads = threads;
	p->tid = calloc((size_t)threads, sizeof(*p->tid));
	if (!p->tid) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->run_lock, NULL);
	/* The creator is likely the caller: start the workers elsewhere. */
	atomic_store(&p->caller_cpu, sched_getcpu());
	if (sched_getaffinity(0, sizeof(p->cpus), &p->cpus))
		CPU_ZERO(&p->cpus);
	for (i = 0; i < threads - 1; i++) {
		r = -pthread_create(&p->tid[i], NULL, qnpu_pool_main, p);
		if (r)
			goto err_stop;
	}
	*out = p;
	return 0;

err_stop:
	qnpu_pool_stop(p, i);
	pthread_mutex_destroy(&p->run_lock);
	free(p->tid);
	free(p);
	return r;
}

void qnpu_cpu_pool_destroy(struct qnpu_cpu_pool *p)
{
	if (!p)
		return;
	qnpu_pool_stop(p, p->threads - 1);
	pthread_mutex_destroy(&p->run_lock);
	free(p->tid);
	free(p);
}

int qnpu_cpu_pool_threads(const struct qnpu_cpu_pool *p)
{
	return p ? p->threads : 1;
}

void qnpu_cpu_pool_run(struct qnpu_cpu_pool *p, int ntasks,
		       qnpu_cpu_task_fn fn, void *ctx)
{
	unsigned int spins = 0, gen;

	if (ntasks <= 0)
		return;
	/* One task, one thread, or a pool another caller is using: here. */
	if (!p || p->threads == 1 || ntasks == 1 ||
	    ntasks > QNPU_POOL_MAX_TASKS ||
	    pthread_mutex_trylock(&p->run_lock)) {
		fn(ctx, 0, ntasks);
		return;
	}
	atomic_store_explicit(&p->caller_cpu, sched_getcpu(),
			      memory_order_relaxed);
	p->fn = fn;
	p->ctx = ctx;
	p->ntasks = ntasks;
	/* About 8 chunks per thread: balance against claiming costs. */
	atomic_store_explicit(&p->chunk, ntasks / (p->threads * 8) > 1 ?
			      ntasks / (p->threads * 8) : 1,
			      memory_order_relaxed);
	atomic_store(&p->done, 0);
	gen = atomic_load(&p->gen) + 1;
	atomic_store(&p->next, qnpu_pool_state(gen, ntasks, 0));
	atomic_store(&p->gen, gen);	/* publishes the job (seq_cst) */
	if (atomic_load(&p->sleepers))
		qnpu_pool_wake(p);
	qnpu_pool_work(p, gen);
	/* A descheduled worker should not cost a whole time slice of spin. */
	while (atomic_load_explicit(&p->done, memory_order_acquire) <
	       ntasks) {
		if (++spins % 4096)
			qnpu_cpu_relax();
		else
			sched_yield();
	}
	pthread_mutex_unlock(&p->run_lock);
}

int qnpu_cpu_online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (n > 256 ? 256 : (int)n);
}
