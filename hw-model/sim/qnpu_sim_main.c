// SPDX-License-Identifier: MIT
/*
 * qnpu-sim: serves QEMU's ivshmem-doorbell device on a Unix socket and
 * runs what sits behind it. Start it before QEMU; it prints
 * "qnpu-sim: ready" (and writes --ready-file) once the socket listens and
 * the guest-RAM file exists. SIGTERM/SIGINT: clean shutdown, socket and
 * RAM file removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qnpu_ivshmem.h"
#include "qnpu_sim.h"

static struct qnpu_ivshmem *qnpu_sim_ivs;

static const struct qnpu_ivshmem_ops *qnpu_sim_dev_ops;

static void qnpu_sim_doorbell(void *priv, struct qnpu_ivshmem *ivs,
			      unsigned int vector)
{
	static unsigned long count;

	if (qnpu_sim_dev_ops->doorbell)
		qnpu_sim_dev_ops->doorbell(priv, ivs, vector);
	/* Die like a crash: no cleanup, the kernel closes the socket. */
	if (qnpu_sim_fault_take(QNPU_SIM_FAULT_EXIT, ++count)) {
		fprintf(stderr, "qnpu-sim: exiting after %lu doorbells\n",
			count);
		_exit(3);
	}
}

static void qnpu_sim_connect(void *priv, struct qnpu_ivshmem *ivs)
{
	if (qnpu_sim_dev_ops->connect)
		qnpu_sim_dev_ops->connect(priv, ivs);
}

static void qnpu_sim_disconnect(void *priv, struct qnpu_ivshmem *ivs)
{
	if (qnpu_sim_dev_ops->disconnect)
		qnpu_sim_dev_ops->disconnect(priv, ivs);
}

static const struct qnpu_ivshmem_ops qnpu_sim_ops = {
	.connect = qnpu_sim_connect,
	.doorbell = qnpu_sim_doorbell,
	.disconnect = qnpu_sim_disconnect,
};

static void qnpu_sim_on_signal(int sig)
{
	(void)sig;
	if (qnpu_sim_ivs)
		qnpu_ivshmem_stop(qnpu_sim_ivs);
}

static int qnpu_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'G':
	case 'g':
		v <<= 10;
		/* fall through */
	case 'M':
	case 'm':
		v <<= 10;
		/* fall through */
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int qnpu_write_ready(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

static void qnpu_usage(FILE *f)
{
	fputs("usage: qnpu-sim --socket PATH --ram PATH [options]\n"
	      "  --socket PATH      ivshmem server socket (QEMU chardev)\n"
	      "  --ram PATH         guest RAM file (QEMU memory-backend-file)\n"
	      "  --ram-size SIZE    guest RAM size, = QEMU -m (default 512M)\n"
	      "  --shm-size SIZE    BAR2 size, power of two (default 1M)\n"
	      "  --vectors N        = ivshmem-doorbell vectors= (default 2)\n"
	      "  --ready-file PATH  written (our pid) once QEMU may start\n"
	      "  --dtb PATH         the NPU's device tree (default: 16x16)\n"
	      "  --transport-test   tests/vm transport test hook, no device\n"
	      "  --fault KIND@N     inject a fault (repeatable; docs/vm.md):\n"
	      "                     dma, irq, stuck, cqe, cqe-id, cq-tail, die\n"
	      "                     at the Nth job; exit after the Nth doorbell\n"
	      "  --exit-after-doorbells N  = --fault exit@N\n"
	      "  --irq-hold CYCLES  a completion's interrupt message waits\n"
	      "                     while the device runs on, at most CYCLES\n"
	      "                     (default 256; 0: one message each)\n"
	      "  -v, --verbose\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "ram", required_argument, NULL, 'r' },
		{ "ram-size", required_argument, NULL, 'R' },
		{ "shm-size", required_argument, NULL, 'S' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "ready-file", required_argument, NULL, 'f' },
		{ "transport-test", no_argument, NULL, 't' },
		{ "dtb", required_argument, NULL, 'd' },
		{ "exit-after-doorbells", required_argument, NULL, 'x' },
		{ "fault", required_argument, NULL, 'F' },
		{ "irq-hold", required_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct qnpu_ivshmem_config cfg = {
		.ram_size = 512ULL << 20,
		.shm_size = 1ULL << 20,
		.vectors = 2,
	};
	const struct qnpu_ivshmem_ops *ops = NULL;
	const char *ready_file = NULL, *dtb = NULL;
	struct sigaction sa;
	int transport_test = 0;
	void *priv = NULL;
	uint64_t irq_hold = QNPU_SIM_IRQ_HOLD_DEFAULT;
	char spec[64];
	uint64_t n;
	int c, ret;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cfg.socket_path = optarg;
			break;
		case 'r':
			cfg.ram_path = optarg;
			break;
		case 'R':
			if (qnpu_parse_size(optarg, &cfg.ram_size))
				goto err_usage;
			break;
		case 'S':
			if (qnpu_parse_size(optarg, &cfg.shm_size))
				goto err_usage;
			break;
		case 'n':
			if (qnpu_parse_size(optarg, &n) || !n ||
			    n > QNPU_IVSHMEM_MAX_VECTORS)
				goto err_usage;
			cfg.vectors = (unsigned int)n;
			break;
		case 'f':
			ready_file = optarg;
			break;
		case 't':
			transport_test = 1;
			break;
		case 'd':
			dtb = optarg;
			break;
		case 'x':
			if (snprintf(spec, sizeof(spec), "exit@%s", optarg) >=
			    (int)sizeof(spec) || qnpu_sim_fault_add(spec))
				goto err_usage;
			break;
		case 'F':
			if (qnpu_sim_fault_add(optarg)) {
				fprintf(stderr, "qnpu-sim: bad --fault %s\n",
					optarg);
				goto err_usage;
			}
			break;
		case 'I':
			if (qnpu_parse_size(optarg, &irq_hold))
				goto err_usage;
			break;
		case 'v':
			cfg.verbose = 1;
			break;
		case 'h':
			qnpu_usage(stdout);
			return 0;
		default:
			goto err_usage;
		}
	}
	if (optind != argc || !cfg.socket_path || !cfg.ram_path)
		goto err_usage;

	if (transport_test)
		ret = qnpu_transport_test_attach(&ops, &priv);
	else
		ret = qnpu_sim_device_attach(dtb, &ops, &priv);
	if (ret)
		goto err_ret;
	if (!transport_test)
		qnpu_sim_device_set_irq_hold(priv, irq_hold);
	qnpu_sim_dev_ops = ops;

	ret = qnpu_ivshmem_create(&cfg, &qnpu_sim_ops, priv, &qnpu_sim_ivs);
	if (ret)
		goto err_detach;
	/* Only now: until here the default action (exit) is what we want. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = qnpu_sim_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (ready_file) {
		ret = qnpu_write_ready(ready_file);
		if (ret)
			goto err_destroy;
	}
	printf("qnpu-sim: ready: socket %s, ram %s (%llu MiB), shm %llu KiB, "
	       "%u vectors%s\n", cfg.socket_path, cfg.ram_path,
	       (unsigned long long)(cfg.ram_size >> 20),
	       (unsigned long long)(cfg.shm_size >> 10), cfg.vectors,
	       transport_test ? ", transport test hook" : "");
	qnpu_sim_fault_print(stdout);
	fflush(stdout);

	ret = qnpu_ivshmem_run(qnpu_sim_ivs);
	printf("qnpu-sim: shutting down\n");

err_destroy:
	qnpu_ivshmem_destroy(qnpu_sim_ivs);
	qnpu_sim_ivs = NULL;
	if (ready_file)
		unlink(ready_file);
err_detach:
	if (transport_test)
		qnpu_transport_test_detach(priv);
	else
		qnpu_sim_device_detach(priv);
err_ret:
	if (ret) {
		fprintf(stderr, "qnpu-sim: %s\n", strerror(-ret));
		return 1;
	}
	return 0;

err_usage:
	qnpu_usage(stderr);
	return 2;
}
