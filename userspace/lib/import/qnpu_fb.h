/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked FlatBuffers reader. Every offset, length and vector is
 * checked against the buffer before it is used. Errors are sticky: after
 * the first one every accessor returns zero values, so a caller can read a
 * run of fields and check fb->err once.
 */
#ifndef QNPU_FB_H
#define QNPU_FB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qnpu_fb {
	const uint8_t *buf;
	size_t len;
	int err;		/* 0 or -EINVAL */
	char msg[160];		/* what went wrong, once err is set */
};

struct qnpu_fb_table {
	uint32_t pos;		/* table start */
	uint32_t vt;		/* vtable start */
	uint16_t vtlen;		/* vtable size in bytes */
};

struct qnpu_fb_vec {
	uint32_t pos;		/* first element */
	uint32_t len;		/* element count */
};

void qnpu_fb_init(struct qnpu_fb *fb, const void *buf, size_t len);
/* Root table; checks the 4-byte file identifier when @ident is not NULL. */
int qnpu_fb_root(struct qnpu_fb *fb, const char *ident,
		 struct qnpu_fb_table *t);

bool qnpu_fb_has(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f);
uint8_t qnpu_fb_u8(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		   uint8_t def);
int32_t qnpu_fb_i32(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		    int32_t def);
uint32_t qnpu_fb_u32(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		     uint32_t def);
uint64_t qnpu_fb_u64(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		     uint64_t def);
float qnpu_fb_f32(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		  float def);

/* Sub-table: 1 if present, 0 if absent, negative on error. */
int qnpu_fb_table(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		  struct qnpu_fb_table *out);
/* Vector of @esize-byte elements; an absent vector has length 0. */
int qnpu_fb_vector(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		   size_t esize, struct qnpu_fb_vec *v);
/* NUL-terminated string inside the buffer, or NULL if absent. */
const char *qnpu_fb_string(struct qnpu_fb *fb, const struct qnpu_fb_table *t,
			   int f);

/* Elements of a vector already checked by qnpu_fb_vector(). */
int32_t qnpu_fb_vec_i32(const struct qnpu_fb *fb,
			const struct qnpu_fb_vec *v, uint32_t i);
int64_t qnpu_fb_vec_i64(const struct qnpu_fb *fb,
			const struct qnpu_fb_vec *v, uint32_t i);
float qnpu_fb_vec_f32(const struct qnpu_fb *fb, const struct qnpu_fb_vec *v,
		      uint32_t i);
int qnpu_fb_vec_table(struct qnpu_fb *fb, const struct qnpu_fb_vec *v,
		      uint32_t i, struct qnpu_fb_table *out);

#endif /* QNPU_FB_H */
