// SPDX-License-Identifier: MIT
/* FlatBuffers builder, front to back (see qnpu_fb_builder.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "import/qnpu_fb_builder.h"

/* FlatBuffers offsets are 32-bit; stay well inside them. */
#define FBB_MAX_LEN (1ull << 31)

void qnpu_fbb_init(struct qnpu_fbb *b)
{
	memset(b, 0, sizeof(*b));
}

void qnpu_fbb_free(struct qnpu_fbb *b)
{
	free(b->buf);
	qnpu_fbb_init(b);
}

/* Appends @n zero bytes at a position aligned so that pos + @skew is a
 * multiple of @align; returns that position (0 after an error). */
static size_t fbb_alloc(struct qnpu_fbb *b, size_t n, size_t align,
			size_t skew)
{
	size_t pos, end;

	if (b->err)
		return 0;
	pos = b->len;
	while ((pos + skew) % align)
		pos++;
	if ((uint64_t)pos + n >= FBB_MAX_LEN) {
		b->err = -EFBIG;
		return 0;
	}
	end = pos + n;
	if (end > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *nb;

		while (cap < end)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb) {
			b->err = -ENOMEM;
			return 0;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memset(b->buf + b->len, 0, end - b->len);
	b->len = end;
	return pos;
}

static void put(struct qnpu_fbb *b, size_t pos, uint64_t v, int size)
{
	int i;

	if (b->err)
		return;
	for (i = 0; i < size; i++)
		b->buf[pos + i] = (uint8_t)(v >> (8 * i));
}

size_t qnpu_fbb_header(struct qnpu_fbb *b, const char ident[4])
{
	size_t pos = fbb_alloc(b, 8, 16, 0);

	if (!b->err)
		memcpy(b->buf + pos + 4, ident, 4);
	return pos;
}

void qnpu_fbb_table_begin(struct qnpu_fbb_table *t)
{
	memset(t, 0, sizeof(*t));
}

static void add(struct qnpu_fbb_table *t, int id, int size, int is_offset,
		uint64_t v)
{
	/* A programming error, caught by the writer's tests. */
	if (t->n >= QNPU_FBB_MAX_FIELDS)
		abort();
	t->f[t->n].id = (uint16_t)id;
	t->f[t->n].size = (uint8_t)size;
	t->f[t->n].is_offset = (uint8_t)is_offset;
	t->f[t->n].val = v;
	t->n++;
}

void qnpu_fbb_add_u8(struct qnpu_fbb_table *t, int id, uint8_t v)
{
	add(t, id, 1, 0, v);
}

void qnpu_fbb_add_u32(struct qnpu_fbb_table *t, int id, uint32_t v)
{
	add(t, id, 4, 0, v);
}

void qnpu_fbb_add_u64(struct qnpu_fbb_table *t, int id, uint64_t v)
{
	add(t, id, 8, 0, v);
}

void qnpu_fbb_add_f32(struct qnpu_fbb_table *t, int id, float v)
{
	uint32_t u;

	memcpy(&u, &v, 4);
	add(t, id, 4, 0, u);
}

void qnpu_fbb_add_offset(struct qnpu_fbb_table *t, int id)
{
	add(t, id, 4, 1, 0);
}

size_t qnpu_fbb_table_end(struct qnpu_fbb *b, struct qnpu_fbb_table *t)
{
	size_t vt, tab, vtlen, tlen = 4, off;
	int maxid = -1, i, size;
	bool has8 = false;

	for (i = 0; i < t->n; i++) {
		if (t->f[i].id > maxid)
			maxid = t->f[i].id;
		has8 |= t->f[i].size == 8;
		tlen += t->f[i].size;
	}
	vtlen = 4 + 2 * (size_t)(maxid + 1);
	vt = fbb_alloc(b, vtlen, 2, 0);
	/* Fields go largest first, so the soffset is the only padding. */
	tab = fbb_alloc(b, tlen, has8 ? 8 : 4, has8 ? 4 : 0);
	if (b->err)
		return 0;
	put(b, vt, vtlen, 2);
	put(b, vt + 2, tlen, 2);
	put(b, tab, (uint32_t)(tab - vt), 4);
	off = 4;
	for (size = 8; size >= 1; size /= 2) {
		for (i = 0; i < t->n; i++) {
			if (t->f[i].size != size)
				continue;
			t->f[i].pos = tab + off;
			put(b, tab + off, t->f[i].val, size);
			put(b, vt + 4 + 2 * (size_t)t->f[i].id, off, 2);
			off += (size_t)size;
		}
	}
	return tab;
}

size_t qnpu_fbb_field(const struct qnpu_fbb_table *t, int id)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->f[i].id == id)
			return t->f[i].pos;
	abort();	/* asking for a field not added is a bug */
}

void qnpu_fbb_patch(struct qnpu_fbb *b, size_t at, size_t target)
{
	if (b->err)
		return;
	/* Offsets point forward; the build order guarantees it. */
	if (target <= at)
		abort();
	put(b, at, (uint32_t)(target - at), 4);
}

/* The length word of a vector of @n @esize-byte elements. */
static size_t vec_begin(struct qnpu_fbb *b, size_t n, size_t esize,
			size_t align)
{
	size_t pos;

	if (align < 4)
		align = 4;
	if (n > (FBB_MAX_LEN - 16) / esize) {
		if (!b->err)
			b->err = -EFBIG;
		return 0;
	}
	pos = fbb_alloc(b, 4 + n * esize, align, 4);
	put(b, pos, n, 4);
	return pos;
}

size_t qnpu_fbb_vec_u8(struct qnpu_fbb *b, const uint8_t *v, size_t n,
		       size_t align)
{
	size_t pos = vec_begin(b, n, 1, align);

	if (!b->err && n)
		memcpy(b->buf + pos + 4, v, n);
	return pos;
}

size_t qnpu_fbb_vec_i32(struct qnpu_fbb *b, const int32_t *v, size_t n)
{
	size_t pos = vec_begin(b, n, 4, 4), i;

	for (i = 0; i < n && !b->err; i++)
		put(b, pos + 4 + 4 * i, (uint32_t)v[i], 4);
	return pos;
}

size_t qnpu_fbb_vec_f32(struct qnpu_fbb *b, const float *v, size_t n)
{
	size_t pos = vec_begin(b, n, 4, 4), i;

	for (i = 0; i < n && !b->err; i++) {
		uint32_t u;

		memcpy(&u, &v[i], 4);
		put(b, pos + 4 + 4 * i, u, 4);
	}
	return pos;
}

size_t qnpu_fbb_vec_i64(struct qnpu_fbb *b, const int32_t *v, size_t n)
{
	size_t pos = vec_begin(b, n, 8, 8), i;

	for (i = 0; i < n && !b->err; i++)
		put(b, pos + 4 + 8 * i, (uint64_t)(int64_t)v[i], 8);
	return pos;
}

size_t qnpu_fbb_vec_offsets(struct qnpu_fbb *b, size_t n)
{
	return vec_begin(b, n, 4, 4);
}

size_t qnpu_fbb_string(struct qnpu_fbb *b, const char *s)
{
	size_t n = strlen(s);
	size_t pos = vec_begin(b, n + 1, 1, 4);

	if (!b->err)
		memcpy(b->buf + pos + 4, s, n);	/* NUL already there */
	put(b, pos, n, 4);	/* the length excludes the NUL */
	return pos;
}

int qnpu_fbb_finish(struct qnpu_fbb *b, uint8_t **buf, size_t *len)
{
	int err;

	fbb_alloc(b, 0, 16, 0);
	err = b->err;
	if (err) {
		qnpu_fbb_free(b);
		return err;
	}
	*buf = b->buf;
	*len = b->len;
	qnpu_fbb_init(b);
	return 0;
}
