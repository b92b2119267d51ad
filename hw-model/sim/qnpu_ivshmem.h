/* SPDX-License-Identifier: MIT */
/*
 * qnpu_ivshmem: the host side of QEMU's ivshmem-doorbell device, as used by
 * qnpu-sim. It serves the ivshmem server protocol on a Unix socket, owns the
 * shared memory behind BAR2 (where the device's register page lives), owns
 * the guest-RAM file that QEMU maps (so the device can DMA for real), turns
 * the guest's doorbell writes into callbacks and raises guest interrupts
 * (MSI-X vectors) on request.
 *
 * One guest at a time. The server outlives QEMU: when the guest goes away
 * it waits for the next one. Everything runs on the thread that calls
 * qnpu_ivshmem_run(); callbacks run on that thread too.
 */
#ifndef QNPU_IVSHMEM_H
#define QNPU_IVSHMEM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Peer ids. The guest rings us with (QNPU_IVSHMEM_HOST_PEER << 16) | vector
 * at BAR0 offset 12 and reads its own id at BAR0 offset 8.
 */
#define QNPU_IVSHMEM_HOST_PEER	0
#define QNPU_IVSHMEM_GUEST_PEER	1

/* BAR0 register offsets of QEMU's ivshmem device. */
#define QNPU_IVSHMEM_REG_INTRMASK	0
#define QNPU_IVSHMEM_REG_INTRSTATUS	4
#define QNPU_IVSHMEM_REG_IVPOSITION	8
#define QNPU_IVSHMEM_REG_DOORBELL	12

#define QNPU_IVSHMEM_MAX_VECTORS	16

/* q35 puts RAM past 2 GiB at 4 GiB once the guest has >= 2.75 GiB. */
#define QNPU_IVSHMEM_Q35_LOWMEM_LIMIT	0xb0000000ULL
#define QNPU_IVSHMEM_Q35_LOWMEM_SPLIT	0x80000000ULL
#define QNPU_IVSHMEM_HIGHMEM_BASE	0x100000000ULL
/* Legacy VGA/BIOS window: not RAM for DMA even though the file has it. */
#define QNPU_IVSHMEM_LEGACY_HOLE_START	0xa0000ULL
#define QNPU_IVSHMEM_LEGACY_HOLE_END	0x100000ULL

struct qnpu_ivshmem;

struct qnpu_ivshmem_config {
	const char *socket_path;	/* created; must not exist */
	const char *ram_path;		/* guest RAM file, created/zeroed */
	uint64_t ram_size;		/* = QEMU's -m and backend size */
	uint64_t shm_size;		/* BAR2 size, power of two >= 4096 */
	unsigned int vectors;		/* = the device's vectors= */
	int verbose;
};

/*
 * The device plugs in here. All callbacks are optional. priv is passed
 * back unchanged.
 */
struct qnpu_ivshmem_ops {
	/*
	 * A QEMU connected; called before the handshake, so the register
	 * page is reset before the guest can see it.
	 */
	void (*connect)(void *priv, struct qnpu_ivshmem *ivs);
	/*
	 * The guest rang @vector (at least once since the last call: eventfd
	 * counts coalesce, so treat it as "look at the register page").
	 */
	void (*doorbell)(void *priv, struct qnpu_ivshmem *ivs,
			 unsigned int vector);
	/* QEMU went away: drop in-flight work, reset the device. */
	void (*disconnect)(void *priv, struct qnpu_ivshmem *ivs);
};

int qnpu_ivshmem_create(const struct qnpu_ivshmem_config *cfg,
			const struct qnpu_ivshmem_ops *ops, void *priv,
			struct qnpu_ivshmem **out);
/* Closes the socket, unlinks socket and RAM file, unmaps everything. */
void qnpu_ivshmem_destroy(struct qnpu_ivshmem *ivs);

/* Serve until qnpu_ivshmem_stop(). Returns 0 or a negative errno. */
int qnpu_ivshmem_run(struct qnpu_ivshmem *ivs);
/* Async-signal-safe: makes qnpu_ivshmem_run() return. */
void qnpu_ivshmem_stop(struct qnpu_ivshmem *ivs);

int qnpu_ivshmem_connected(const struct qnpu_ivshmem *ivs);
void *qnpu_ivshmem_shm(struct qnpu_ivshmem *ivs, size_t *size);

/*
 * Consume the doorbells the guest rang since they were last seen, without
 * waiting and without calling ops->doorbell: 1 if there was any, else 0.
 * For a device busy in a long job that must still see, e.g., a reset.
 */
int qnpu_ivshmem_take_doorbell(struct qnpu_ivshmem *ivs);

/*
 * Raise guest interrupt @vector (the guest's eventfd; QEMU turns it into
 * MSI-X if the guest driver enabled MSI-X and bus mastering, else drops
 * it). -ENOTCONN without a guest, -EINVAL for a bad vector.
 */
int qnpu_ivshmem_irq(struct qnpu_ivshmem *ivs, unsigned int vector);
/*
 * 1 if the guest eventfd of @vector still holds an undelivered count, i.e.
 * QEMU has not consumed the last qnpu_ivshmem_irq(); 0 if consumed;
 * negative errno on error. Diagnostics only.
 */
int qnpu_ivshmem_irq_pending(struct qnpu_ivshmem *ivs, unsigned int vector);

/*
 * Guest physical address -> offset in the guest-RAM file for a q35 guest
 * with @ram_size bytes of RAM. The whole range [gpa, gpa + len) must be RAM
 * in one piece. Returns 0 or -EFAULT.
 */
int qnpu_ivshmem_gpa_to_offset(uint64_t ram_size, uint64_t gpa,
			       uint64_t len, uint64_t *offset);
/* Host pointer for [gpa, gpa + len) of guest RAM, or NULL if not RAM. */
void *qnpu_ivshmem_gpa(struct qnpu_ivshmem *ivs, uint64_t gpa, uint64_t len);
/* Device DMA into/out of guest RAM. 0 or -EFAULT; nothing done on error. */
int qnpu_ivshmem_dma_read(struct qnpu_ivshmem *ivs, uint64_t gpa, void *buf,
			  size_t len);
int qnpu_ivshmem_dma_write(struct qnpu_ivshmem *ivs, uint64_t gpa,
			   const void *buf, size_t len);

#endif /* QNPU_IVSHMEM_H */
