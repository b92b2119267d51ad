/* SPDX-License-Identifier: MIT */
/*
 * A small FlatBuffers builder, the writing twin of qnpu_fb.h (Debian has
 * no flatcc). It builds front to back: a parent is written first with its
 * offset fields left zero, each child is appended later and the parent's
 * field patched to point at it. FlatBuffers offsets are unsigned and point
 * forward, which this order gives for free; vtables sit just before their
 * table (their offset is signed). Everything is aligned from the start of
 * the buffer, which is what FlatBuffers verifiers check.
 *
 * Errors are sticky, as in the reader: after an allocation failure every
 * call does nothing and qnpu_fbb_finish() returns -ENOMEM. Scalars are
 * written little-endian whatever the host.
 */
#ifndef QNPU_FB_BUILDER_H
#define QNPU_FB_BUILDER_H

#include <stddef.h>
#include <stdint.h>

struct qnpu_fbb {
	uint8_t *buf;
	size_t len, cap;
	int err;		/* 0, -ENOMEM or -EFBIG (past 2 GiB) */
};

#define QNPU_FBB_MAX_FIELDS 12

/* A table being described; qnpu_fbb_table_end() writes it. */
struct qnpu_fbb_table {
	int n;
	struct {
		uint16_t id;	/* field number in the schema */
		uint8_t size;	/* 1, 4 or 8 bytes */
		uint8_t is_offset;
		uint64_t val;
		size_t pos;	/* where it was written */
	} f[QNPU_FBB_MAX_FIELDS];
};

void qnpu_fbb_init(struct qnpu_fbb *b);
void qnpu_fbb_free(struct qnpu_fbb *b);

/* Root offset + 4-byte identifier; returns the root field's position. */
size_t qnpu_fbb_header(struct qnpu_fbb *b, const char ident[4]);

void qnpu_fbb_table_begin(struct qnpu_fbb_table *t);
void qnpu_fbb_add_u8(struct qnpu_fbb_table *t, int id, uint8_t v);
void qnpu_fbb_add_u32(struct qnpu_fbb_table *t, int id, uint32_t v);
void qnpu_fbb_add_u64(struct qnpu_fbb_table *t, int id, uint64_t v);
void qnpu_fbb_add_f32(struct qnpu_fbb_table *t, int id, float v);
/* An offset field, to be patched with qnpu_fbb_patch() once written. */
void qnpu_fbb_add_offset(struct qnpu_fbb_table *t, int id);
/* Writes vtable and table; returns the table's position. */
size_t qnpu_fbb_table_end(struct qnpu_fbb *b, struct qnpu_fbb_table *t);
/* Position of field @id of a table just written. */
size_t qnpu_fbb_field(const struct qnpu_fbb_table *t, int id);

/* Point the offset at @at (a field or vector element) to @target. */
void qnpu_fbb_patch(struct qnpu_fbb *b, size_t at, size_t target);

/*
 * Vectors; each returns the position of its length word. @align is the
 * alignment of the elements (at least their size), e.g. 16 for TFLite's
 * buffer data.
 */
size_t qnpu_fbb_vec_u8(struct qnpu_fbb *b, const uint8_t *v, size_t n,
		       size_t align);
size_t qnpu_fbb_vec_i32(struct qnpu_fbb *b, const int32_t *v, size_t n);
size_t qnpu_fbb_vec_f32(struct qnpu_fbb *b, const float *v, size_t n);
size_t qnpu_fbb_vec_i64(struct qnpu_fbb *b, const int32_t *v, size_t n);
/* A vector of @n offsets, all to be patched; element i is at pos+4+4i. */
size_t qnpu_fbb_vec_offsets(struct qnpu_fbb *b, size_t n);
size_t qnpu_fbb_string(struct qnpu_fbb *b, const char *s);

/*
 * Pads the buffer to a multiple of 16 and hands it over (malloc()ed, the
 * caller frees it); 0 or the sticky error, the builder then empty.
 */
int qnpu_fbb_finish(struct qnpu_fbb *b, uint8_t **buf, size_t *len);

#endif /* QNPU_FB_BUILDER_H */
