// SPDX-License-Identifier: MIT
/*
 * Guest side of the co-simulation transport test, run inside the VM against
 * `qnpu-sim --transport-test`. Proves, through the real ivshmem-doorbell
 * device: BAR0 (IVPosition, doorbell), BAR2 shared memory both ways, host
 * DMA reads from and writes into guest RAM at the physical address the
 * guest gave (found via /proc/self/pagemap), the host's bounds checks, and
 * that QEMU takes the host's interrupt eventfd. Whether that interrupt
 * becomes an MSI-X needs a kernel driver (pci_set_master + MSI-X enable):
 * that is the driver's test, not this one.
 *
 * Exit 0 pass, 1 fail, 77 skip (not root, or qnpu-sim serves the device
 * rather than the transport test hook).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qnpu_ivshmem.h"
#include "qnpu_transport_test.h"

#define QNPU_PAGE		4096u
#define QNPU_REPLY_TIMEOUT_NS	(10ULL * 1000000000ULL)
#define QNPU_ROUND_TRIPS	200

static int qnpu_failures;

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("FAIL: %s:%d: ", __func__, __LINE__);	\
			printf(__VA_ARGS__);				\
			printf("\n");					\
			qnpu_failures++;				\
		}							\
	} while (0)

struct qnpu_dev {
	char path[300];
	volatile uint32_t *regs;	/* BAR0 */
	struct qnpu_tt_page *shm;	/* BAR2 */
	size_t shm_size;
	uint32_t ivpos;
	uint32_t seq;
	int lost;		/* a reply timed out: stop asking */
	uint64_t ram_size;	/* QEMU -m, from qnpuvm_mem= */
	uint64_t low_end;	/* end of RAM below 4 GiB */
	uint64_t high_end;	/* end of RAM at 4 GiB and up, 0 if none */
};

static uint64_t qnpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int qnpu_read_hex(const char *dir, const char *name, unsigned int *v)
{
	char path[600];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%x", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int qnpu_find_ivshmem(char *out, size_t len)
{
	const char *base = "/sys/bus/pci/devices";
	unsigned int vendor, device;
	struct dirent *de;
	char dir[300];
	DIR *d;
	int found = 0;

	d = opendir(base);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", base, de->d_name);
		if (qnpu_read_hex(dir, "vendor", &vendor) ||
		    qnpu_read_hex(dir, "device", &device))
			continue;
		if (vendor == 0x1af4 && device == 0x1110) {
			snprintf(out, len, "%s", dir);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

static void *qnpu_map_bar(const char *dir, int bar, size_t *size)
{
	char path[400];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/resource%d", dir, bar);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st)) {
		printf("open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	/* BAR0 is 256 bytes; sysfs rounds mappings up to a page. */
	*size = st.st_size < QNPU_PAGE ? QNPU_PAGE : (size_t)st.st_size;
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		printf("mmap %s: %s\n", path, strerror(errno));
		return NULL;
	}
	*size = (size_t)st.st_size;
	return p;
}

/* Physical address of a locked, touched page of ours. */
static uint64_t qnpu_virt_to_phys(void *va)
{
	uint64_t entry, vpn = (uintptr_t)va / QNPU_PAGE;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, &entry, sizeof(entry), (off_t)(vpn * sizeof(entry)));
	close(fd);
	if (n != sizeof(entry) || !(entry & (1ULL << 63)))
		return 0;
	/* Bits 0-54: PFN (zero without CAP_SYS_ADMIN). */
	return (entry & ((1ULL << 55) - 1)) * QNPU_PAGE;
}

static void *qnpu_alloc_locked_page(uint64_t *phys)
{
	void *p = NULL;

	if (posix_memalign(&p, QNPU_PAGE, QNPU_PAGE))
		return NULL;
	memset(p, 0x5a, QNPU_PAGE);
	if (mlock(p, QNPU_PAGE)) {
		printf("mlock: %s\n", strerror(errno));
		free(p);
		return NULL;
	}
	*phys = qnpu_virt_to_phys(p);
	return p;
}

/* Ring the host on @vector and wait for the reply. 0 or -ETIMEDOUT. */
static int qnpu_call(struct qnpu_dev *dev, struct qnpu_tt_request *req,
		     unsigned int vector, struct qnpu_tt_reply *rep)
{
	volatile struct qnpu_tt_page *pg = dev->shm;
	uint64_t t0;

	if (dev->lost)
		return -ENODEV;
	req->magic = QNPU_TT_MAGIC;
	req->seq = ++dev->seq;
	memcpy((void *)&pg->req, req, sizeof(*req));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	dev->regs[QNPU_IVSHMEM_REG_DOORBELL / 4] =
		(QNPU_IVSHMEM_HOST_PEER << 16) | vector;

	t0 = qnpu_now_ns();
	while (__atomic_load_n(&dev->shm->rep.seq, __ATOMIC_ACQUIRE) !=
	       req->seq) {
		if (qnpu_now_ns() - t0 > QNPU_REPLY_TIMEOUT_NS) {
			printf("no reply from qnpu-sim within 10 s: device "
			       "lost, skipping further calls\n");
			dev->lost = 1;
			return -ETIMEDOUT;
		}
		sched_yield();
	}
	memcpy(rep, (const void *)&pg->rep, sizeof(*rep));
	return 0;
}

static void qnpu_test_echo_and_dma(struct qnpu_dev *dev)
{
	struct qnpu_tt_request req;
	struct qnpu_tt_reply rep;
	uint64_t src_pa, dst_pa;
	uint8_t *src, *dst;
	uint32_t i, bad = 0;
	int ret;

	src = qnpu_alloc_locked_page(&src_pa);
	dst = qnpu_alloc_locked_page(&dst_pa);
	CHECK(src && dst && src_pa && dst_pa,
	      "no locked pages with physical addresses (pagemap)");
	if (!src || !dst || !src_pa || !dst_pa)
		return;
	for (i = 0; i < QNPU_PAGE; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	memset(dst, 0xee, QNPU_PAGE);

	memset(&req, 0, sizeof(req));
	req.src_gpa = src_pa;
	req.src_len = QNPU_PAGE;
	req.dst_gpa = dst_pa;
	req.dst_len = QNPU_PAGE;
	req.seed = 0xc0ffee ^ dev->ivpos;
	snprintf(req.text, sizeof(req.text), "hello from peer %u", dev->ivpos);

	ret = qnpu_call(dev, &req, 0, &rep);
	CHECK(!ret, "no reply from qnpu-sim");
	if (ret)
		return;
	CHECK(rep.status == 0, "host DMA failed: %d", rep.status);
	CHECK(rep.vector == 0, "host saw vector %u, rang 0", rep.vector);
	CHECK(!strncmp(rep.text, "echo: hello from peer ", 22),
	      "reply text '%.64s'", rep.text);
	CHECK(rep.src_sum == qnpu_tt_sum(src, QNPU_PAGE),
	      "host read %08x from guest page, guest has %08x", rep.src_sum,
	      qnpu_tt_sum(src, QNPU_PAGE));
	for (i = 0; i < QNPU_PAGE; i++)
		bad += dst[i] != qnpu_tt_pattern(req.seed, i);
	CHECK(!bad, "%u of %u bytes DMA-written by the host are wrong", bad,
	      QNPU_PAGE);
	printf("echo+dma: reply '%s', src pa 0x%llx sum ok, dst pa 0x%llx "
	       "%u bytes ok\n", rep.text, (unsigned long long)src_pa,
	       (unsigned long long)dst_pa, QNPU_PAGE - bad);

	/* Vector 1 reaches the host as vector 1. */
	memset(dst, 0, QNPU_PAGE);
	req.src_len = 0;
	req.dst_len = 256;
	req.seed = 7;
	ret = qnpu_call(dev, &req, 1, &rep);
	CHECK(!ret && rep.vector == 1 && rep.status == 0,
	      "vector 1: ret %d vector %u status %d", ret, rep.vector,
	      rep.status);
	for (i = 0, bad = 0; i < 256; i++)
		bad += dst[i] != qnpu_tt_pattern(7, i);
	bad += dst[256] != 0;	/* dst_len respected */
	CHECK(!bad, "vector 1 DMA: %u bad bytes", bad);
	munlock(src, QNPU_PAGE);
	munlock(dst, QNPU_PAGE);
	free(src);
	free(dst);
}

/*
 * With RAM at 4 GiB and up (q35, -m >= 2.75G), DMA into a page there: the
 * host must find it at file offset gpa - 2 GiB, as QEMU does.
 */
static void qnpu_test_dma_high(struct qnpu_dev *dev)
{
	static void *pages[4096];
	struct qnpu_tt_request req;
	struct qnpu_tt_reply rep;
	uint64_t pa = 0;
	unsigned int i, n, bad = 0;
	uint8_t *p = NULL;
	int ret;

	if (!dev->high_end) {
		printf("dma-high: no RAM above 4 GiB with %llu MiB: not "
		       "tested\n", (unsigned long long)(dev->ram_size >> 20));
		return;
	}
	/* User pages come from ZONE_NORMAL (above 4 GiB) first. */
	for (n = 0; n < sizeof(pages) / sizeof(pages[0]); n++) {
		pages[n] = qnpu_alloc_locked_page(&pa);
		if (!pages[n] || pa >= QNPU_IVSHMEM_HIGHMEM_BASE)
			break;
	}
	CHECK(n < sizeof(pages) / sizeof(pages[0]) && pages[n] &&
	      pa >= QNPU_IVSHMEM_HIGHMEM_BASE,
	      "no page above 4 GiB among %u", n);
	if (n < sizeof(pages) / sizeof(pages[0]) && pages[n] &&
	    pa >= QNPU_IVSHMEM_HIGHMEM_BASE) {
		p = pages[n];
		memset(p, 0, QNPU_PAGE);
		memset(&req, 0, sizeof(req));
		req.dst_gpa = pa;
		req.dst_len = QNPU_PAGE;
		req.seed = 0x4194;
		ret = qnpu_call(dev, &req, 0, &rep);
		CHECK(!ret && rep.status == 0, "high DMA: ret %d status %d",
		      ret, rep.status);
		for (i = 0; i < QNPU_PAGE; i++)
			bad += p[i] != qnpu_tt_pattern(req.seed, i);
		CHECK(!bad, "high DMA: %u bad bytes at pa 0x%llx", bad,
		      (unsigned long long)pa);
		printf("dma-high: pa 0x%llx (above 4 GiB) %u bytes ok\n",
		       (unsigned long long)pa, QNPU_PAGE - bad);
		n++;
	}
	for (i = 0; i < n && i < sizeof(pages) / sizeof(pages[0]); i++) {
		if (pages[i]) {
			munlock(pages[i], QNPU_PAGE);
			free(pages[i]);
		}
	}
}

/* The host must refuse DMA outside guest RAM and touch nothing. */
static void qnpu_test_dma_bounds(struct qnpu_dev *dev)
{
	uint64_t bad_gpa[] = {
		1ULL << 40,		/* far beyond RAM */
		dev->high_end ? dev->high_end : dev->low_end, /* past RAM */
		0xa0000,		/* legacy VGA window */
		~0ULL - 100,		/* wraps */
		dev->low_end,		/* PCI hole, if RAM goes on at 4G */
	};
	unsigned int i, nbad = sizeof(bad_gpa) / sizeof(bad_gpa[0]);
	struct qnpu_tt_request req;
	struct qnpu_tt_reply rep;
	int ret;

	if (!dev->high_end)
		nbad--;
	for (i = 0; i < nbad; i++) {
		if (dev->lost)
			return;
		memset(&req, 0, sizeof(req));
		req.dst_gpa = bad_gpa[i];
		req.dst_len = QNPU_PAGE;
		ret = qnpu_call(dev, &req, 0, &rep);
		CHECK(!ret && rep.status == -EFAULT,
		      "DMA to 0x%llx: ret %d status %d, want -EFAULT",
		      (unsigned long long)bad_gpa[i], ret, rep.status);
	}
	printf("dma-bounds: %u out-of-RAM addresses tried, past RAM at "
	       "0x%llx\n", i, (unsigned long long)bad_gpa[1]);
}

static int qnpu_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void qnpu_test_round_trip(struct qnpu_dev *dev)
{
	static uint64_t t[QNPU_ROUND_TRIPS];
	struct qnpu_tt_request req;
	struct qnpu_tt_reply rep;
	unsigned int i, tries;
	uint64_t t0;
	int ret = 0;

	for (i = 0; i < QNPU_ROUND_TRIPS && !ret; i++) {
		memset(&req, 0, sizeof(req));
		t0 = qnpu_now_ns();
		ret = qnpu_call(dev, &req, i & 1, &rep);
		t[i] = qnpu_now_ns() - t0;
	}
	CHECK(!ret, "round trip %u: no reply", i - 1);
	if (ret)
		return;
	qsort(t, QNPU_ROUND_TRIPS, sizeof(t[0]), qnpu_cmp_u64);
	printf("round-trip: doorbell -> host -> shm reply, %d runs: min %llu "
	       "us, median %llu us, max %llu us\n", QNPU_ROUND_TRIPS,
	       (unsigned long long)t[0] / 1000,
	       (unsigned long long)t[QNPU_ROUND_TRIPS / 2] / 1000,
	       (unsigned long long)t[QNPU_ROUND_TRIPS - 1] / 1000);

	/*
	 * Each reply came with an interrupt on its vector. QEMU's main loop
	 * reads that eventfd even while MSI-X is off (and then drops it);
	 * after a pause the last one must be gone, i.e. QEMU really holds
	 * the guest's eventfds. Each call reports on the interrupt of the
	 * call before; a few tries ride out a loaded host.
	 */
	for (tries = 1; tries <= 10; tries++) {
		usleep(200 * 1000);
		memset(&req, 0, sizeof(req));
		ret = qnpu_call(dev, &req, 0, &rep);
		if (ret || !rep.irq_pending)
			break;
	}
	CHECK(!ret && !rep.irq_pending,
	      "QEMU did not consume the host's interrupt eventfd in 2 s");
	if (!ret && !rep.irq_pending)
		printf("irq-eventfd: consumed by QEMU within %u x 200 ms "
		       "(MSI-X delivery itself needs the driver)\n", tries);
}

/* RAM layout of q35 for QEMU's -m, which the launcher passes on. */
static int qnpu_ram_layout(struct qnpu_dev *dev)
{
	char buf[4096], *p;
	size_t n;
	FILE *f;

	f = fopen("/proc/cmdline", "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, "qnpuvm_mem=");
	if (!p)
		return -1;
	dev->ram_size = strtoull(p + 11, NULL, 0);
	if (!dev->ram_size)
		return -1;
	dev->low_end = dev->ram_size;
	dev->high_end = 0;
	if (dev->ram_size >= QNPU_IVSHMEM_Q35_LOWMEM_LIMIT) {
		dev->low_end = QNPU_IVSHMEM_Q35_LOWMEM_SPLIT;
		dev->high_end = QNPU_IVSHMEM_HIGHMEM_BASE + dev->ram_size -
				QNPU_IVSHMEM_Q35_LOWMEM_SPLIT;
	}
	return 0;
}

int main(void)
{
	struct qnpu_dev dev = { 0 };
	size_t bar0_size;
	char path[400];
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: needs root (pagemap PFNs, PCI resources)\n");
		return 77;
	}
	if (!qnpu_find_ivshmem(dev.path, sizeof(dev.path))) {
		/* Our VM always has it: without it the harness is broken. */
		printf("FAIL: no ivshmem-doorbell device (1af4:1110)\n");
		return 1;
	}
	printf("device: %s\n", dev.path);
	if (qnpu_ram_layout(&dev)) {
		printf("FAIL: no qnpuvm_mem= on the kernel command line\n");
		return 1;
	}

	/* What pci_enable_device() does: make sure BARs decode. */
	snprintf(path, sizeof(path), "%s/enable", dev.path);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			printf("note: enable: %s\n", strerror(errno));
		close(fd);
	}
	/* Keep our pages where pagemap said they are. */
	fd = open("/proc/sys/vm/compact_unevictable_allowed", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "0", 1) != 1)
			printf("note: compact_unevictable_allowed\n");
		close(fd);
	}

	dev.regs = qnpu_map_bar(dev.path, 0, &bar0_size);
	dev.shm = qnpu_map_bar(dev.path, 2, &dev.shm_size);
	if (!dev.regs || !dev.shm) {
		printf("FAIL: cannot map BAR0/BAR2\n");
		return 1;
	}
	dev.ivpos = dev.regs[QNPU_IVSHMEM_REG_IVPOSITION / 4];
	printf("bar0 %zu bytes, bar2 %zu KiB, IVPosition %u\n", bar0_size,
	       dev.shm_size >> 10, dev.ivpos);
	CHECK(dev.ivpos == QNPU_IVSHMEM_GUEST_PEER,
	      "IVPosition %u, qnpu-sim assigns %u", dev.ivpos,
	      QNPU_IVSHMEM_GUEST_PEER);
	if (dev.shm_size < sizeof(struct qnpu_tt_page) ||
	    dev.shm->host_magic != QNPU_TT_HOST_MAGIC) {
		/* BAR2 holds the device's register page, not our hook. */
		printf("SKIP: qnpu-sim does not run --transport-test\n");
		return 77;
	}
	/* qnpu-sim zeroes the page on connect: a reply seq of 0 is fresh. */
	dev.seq = dev.shm->rep.seq;

	qnpu_test_echo_and_dma(&dev);
	qnpu_test_dma_high(&dev);
	qnpu_test_dma_bounds(&dev);
	qnpu_test_round_trip(&dev);

	if (qnpu_failures) {
		printf("qnpu-transport-test: FAIL (%d checks)\n",
		       qnpu_failures);
		return 1;
	}
	printf("qnpu-transport-test: PASS\n");
	return 0;
}
