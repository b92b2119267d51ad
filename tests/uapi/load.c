// SPDX-License-Identifier: MIT
/*
 * Module load, bind and unload in the VM: qnpu.ko loads on the stock
 * Debian kernel, binds to the ivshmem device only when the register page
 * reads as a qnpu (MAGIC), refuses it otherwise, unloads and reloads.
 * Runs first (qnpu-00-load) and leaves the module loaded.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qnpu_test.h"
#include "qnpu_regs.h"

static char pcidev[300];

static int find_ivshmem(void)
{
	const char *base = "/sys/bus/pci/devices";
	char path[600], buf[32];
	struct dirent *de;
	int found = 0;
	DIR *d;
	FILE *f;

	d = opendir(base);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		unsigned int v = 0, dv = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/vendor", base, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f))
			v = strtoul(buf, NULL, 16);
		fclose(f);
		snprintf(path, sizeof(path), "%s/%s/device", base, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f))
			dv = strtoul(buf, NULL, 16);
		fclose(f);
		if (v == 0x1af4 && dv == 0x1110) {
			snprintf(pcidev, sizeof(pcidev), "%s/%s", base,
				 de->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

/* BAR2 (the register page) through sysfs. */
static volatile uint32_t *map_regs(void)
{
	char path[400];
	void *p;
	int fd;

	/* A refused probe leaves the device disabled: make BARs decode. */
	snprintf(path, sizeof(path), "%s/enable", pcidev);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			printf("note: %s: %s\n", path, strerror(errno));
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/resource2", pcidev);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int bound_to_qnpu(void)
{
	char path[400], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/driver", pcidev);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return !strcmp(strrchr(target, '/') + 1, "qnpu");
}

static int test_load_unload(void)
{
	int i;

	qt_assert_eq(qt_module_unload(), 0);
	for (i = 0; i < 3; i++) {
		qt_assert_eq(qt_module_load(NULL), 0);
		qt_assert(!access("/sys/module/qnpu", F_OK));
		qt_assert_eq(qt_module_unload(), 0);
		qt_assert(access("/sys/module/qnpu", F_OK));
	}
	return QT_PASS;
}

static int test_refuse_wrong_magic(void)
{
	volatile uint32_t *regs;
	uint32_t magic, seen;
	int bound;

	qt_assert_eq(qt_module_unload(), 0);
	regs = map_regs();
	if (!regs)
		qt_fail("cannot map %s/resource2", pcidev);
	magic = regs[QNPU_REG_MAGIC / 4];
	/* The page is shared memory: pretend to be someone else's. */
	if (magic == QNPU_MAGIC)
		regs[QNPU_REG_MAGIC / 4] = 0x6e6f7421;
	seen = regs[QNPU_REG_MAGIC / 4];
	munmap((void *)regs, 4096);

	qt_assert_eq(qt_module_load(NULL), 0);
	bound = bound_to_qnpu();
	qt_assert_eq(qt_module_unload(), 0);
	if (magic == QNPU_MAGIC) {
		/* A refused probe disables the device: map again. */
		regs = map_regs();
		if (!regs)
			qt_fail("cannot map %s/resource2", pcidev);
		regs[QNPU_REG_MAGIC / 4] = magic;
		munmap((void *)regs, 4096);
	}
	if (bound)
		qt_fail("qnpu bound to a page with magic 0x%08x", seen);
	printf("magic 0x%08x: not bound, as it must\n", seen);
	return QT_PASS;
}

/* The register page as debugfs shows it: the ID registers read right. */
static int check_debugfs(void)
{
	char path[256], line[256];
	int magic = 0, files = 0;
	const char *names[] = { "regs", "rings", "contexts", "bos" };
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", qt_debugfs, names[i]);
		f = fopen(path, "r");
		if (!f)
			qt_fail("no %s", path);
		files++;
		while (fgets(line, sizeof(line), f)) {
			if (i == 0 && strstr(line, " MAGIC ") &&
			    strtoul(strrchr(line, ' ') + 1, NULL, 16) ==
			    QNPU_MAGIC)
				magic = 1;
			if (i == 0 && (strstr(line, " MAGIC ") ||
				       strstr(line, " VERSION ") ||
				       strstr(line, " HW_")))
				printf("  %s", line);
		}
		fclose(f);
	}
	qt_assert_eq(files, 4);
	qt_assert(magic);
	return QT_PASS;
}

static int test_bind(void)
{
	volatile uint32_t *regs;
	uint32_t magic;

	qt_assert_eq(qt_module_unload(), 0);
	regs = map_regs();
	if (!regs)
		qt_fail("cannot map %s/resource2", pcidev);
	magic = regs[QNPU_REG_MAGIC / 4];
	munmap((void *)regs, 4096);
	qt_assert_eq(qt_module_load(NULL), 0);
	if (magic != QNPU_MAGIC)
		qt_skip("BAR2 magic 0x%08x: qnpu-sim serves no qnpu device "
			"(transport test mode)", magic);
	qt_assert(bound_to_qnpu());
	qt_assert_eq(qt_find_render_node(), 0);
	printf("bound: %s\n", qt_node);
	return check_debugfs();
}

/*
 * Module parameters out of range refuse the load: a job timeout of 0 or
 * one whose milliseconds overflow, a zero reset wait, zero limits.
 */
static int test_invalid_params(void)
{
	const char *bad[] = {
		"job_timeout_s=0", "job_timeout_s=4294968",
		"job_timeout_s=-1", "reset_timeout_ms=0",
		"max_bos_per_file=0", "max_mib_per_file=0",
		"max_jobs_per_file=0", "heartbeat_ms=60001",
	};
	unsigned int i;

	qt_assert_eq(qt_module_unload(), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		printf("insmod qnpu.ko %s (must fail):\n", bad[i]);
		fflush(stdout);
		if (!qt_module_load(bad[i])) {
			qt_module_unload();
			qt_fail("the module loaded with %s", bad[i]);
		}
		qt_assert(access("/sys/module/qnpu", F_OK));
	}
	qt_assert_eq(qt_module_load("job_timeout_s=3600 heartbeat_ms=0"), 0);
	qt_assert_eq(qt_module_unload(), 0);
	return QT_PASS;
}

static const struct qt_subtest tests[] = {
	{ "module-load-unload", test_load_unload },
	{ "module-invalid-params", test_invalid_params },
	{ "module-refuse-wrong-magic", test_refuse_wrong_magic },
	/* last: leaves the module loaded (and bound if it can be) */
	{ "module-bind", test_bind },
};

int main(int argc, char **argv)
{
	if (!find_ivshmem()) {
		printf("SKIP: no ivshmem device (1af4:1110): not in the qnpu "
		       "VM\n");
		return QT_SKIP;
	}
	return qt_main_nodev(argc, argv, tests,
			     sizeof(tests) / sizeof(tests[0]));
}
