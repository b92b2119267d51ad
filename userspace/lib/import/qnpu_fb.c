// SPDX-License-Identifier: MIT
/* Bounds-checked FlatBuffers reader (see qnpu_fb.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "import/qnpu_fb.h"

static void fb_fail(struct qnpu_fb *fb, const char *fmt, ...)
{
	va_list ap;

	if (fb->err)
		return;
	fb->err = -EINVAL;
	va_start(ap, fmt);
	vsnprintf(fb->msg, sizeof(fb->msg), fmt, ap);
	va_end(ap);
}

/* [pos, pos + n) lies inside the buffer; no overflow possible. */
static bool fb_in(const struct qnpu_fb *fb, uint64_t pos, uint64_t n)
{
	return pos <= fb->len && n <= fb->len - pos;
}

static uint32_t rd32(const struct qnpu_fb *fb, uint64_t pos)
{
	uint32_t v;

	memcpy(&v, fb->buf + pos, 4);
	return v;
}

static uint16_t rd16(const struct qnpu_fb *fb, uint64_t pos)
{
	uint16_t v;

	memcpy(&v, fb->buf + pos, 2);
	return v;
}

void qnpu_fb_init(struct qnpu_fb *fb, const void *buf, size_t len)
{
	memset(fb, 0, sizeof(*fb));
	fb->buf = buf;
	fb->len = len;
}

static int fb_open_table(struct qnpu_fb *fb, uint64_t pos,
			 struct qnpu_fb_table *t)
{
	int64_t vt;
	uint16_t vtlen, tlen;

	memset(t, 0, sizeof(*t));
	if (fb->err)
		return fb->err;
	if (pos % 4 || !fb_in(fb, pos, 4)) {
		fb_fail(fb, "table offset %llu outside the %zu-byte file",
			(unsigned long long)pos, fb->len);
		return fb->err;
	}
	vt = (int64_t)pos - (int32_t)rd32(fb, pos);
	if (vt < 0 || vt % 2 || !fb_in(fb, (uint64_t)vt, 4)) {
		fb_fail(fb, "vtable of table at %llu points outside the file",
			(unsigned long long)pos);
		return fb->err;
	}
	vtlen = rd16(fb, (uint64_t)vt);
	tlen = rd16(fb, (uint64_t)vt + 2);
	if (vtlen < 4 || vtlen % 2 || !fb_in(fb, (uint64_t)vt, vtlen) ||
	    tlen < 4 || !fb_in(fb, pos, tlen)) {
		fb_fail(fb, "table at %llu has a corrupt vtable",
			(unsigned long long)pos);
		return fb->err;
	}
	t->pos = (uint32_t)pos;
	t->vt = (uint32_t)vt;
	t->vtlen = vtlen;
	return 0;
}

int qnpu_fb_root(struct qnpu_fb *fb, const char *ident,
		 struct qnpu_fb_table *t)
{
	if (fb->len < 8) {
		fb_fail(fb, "file is %zu bytes, too short for a FlatBuffer",
			fb->len);
		memset(t, 0, sizeof(*t));
		return fb->err;
	}
	if (ident && memcmp(fb->buf + 4, ident, 4)) {
		char got[5];
		int i;

		for (i = 0; i < 4; i++) {
			char c = (char)fb->buf[4 + i];

			got[i] = (c >= 32 && c < 127) ? c : '?';
		}
		got[4] = 0;
		fb_fail(fb, "file identifier is \"%s\", expected \"%s\"",
			got, ident);
		memset(t, 0, sizeof(*t));
		return fb->err;
	}
	return fb_open_table(fb, rd32(fb, 0), t);
}

/* Absolute position of field @f, or 0 if absent; checks @size bytes. */
static uint64_t fb_field(struct qnpu_fb *fb, const struct qnpu_fb_table *t,
			 int f, size_t size)
{
	uint32_t slot = 4 + 2 * (uint32_t)f;
	uint16_t off;

	if (fb->err || !t->vtlen || slot + 2 > t->vtlen)
		return 0;
	off = rd16(fb, (uint64_t)t->vt + slot);
	if (!off)
		return 0;
	if (!fb_in(fb, (uint64_t)t->pos + off, size)) {
		fb_fail(fb, "field %d of table at %u lies outside the file",
			f, t->pos);
		return 0;
	}
	return (uint64_t)t->pos + off;
}

bool qnpu_fb_has(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f)
{
	return fb_field(fb, t, f, 1) != 0;
}

uint8_t qnpu_fb_u8(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		   uint8_t def)
{
	uint64_t p = fb_field(fb, t, f, 1);

	return p ? fb->buf[p] : def;
}

uint32_t qnpu_fb_u32(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		     uint32_t def)
{
	uint64_t p = fb_field(fb, t, f, 4);

	return p ? rd32(fb, p) : def;
}

int32_t qnpu_fb_i32(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		    int32_t def)
{
	return (int32_t)qnpu_fb_u32(fb, t, f, (uint32_t)def);
}

uint64_t qnpu_fb_u64(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		     uint64_t def)
{
	uint64_t p = fb_field(fb, t, f, 8), v;

	if (!p)
		return def;
	memcpy(&v, fb->buf + p, 8);
	return v;
}

float qnpu_fb_f32(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		  float def)
{
	uint64_t p = fb_field(fb, t, f, 4);
	float v;

	if (!p)
		return def;
	memcpy(&v, fb->buf + p, 4);
	return v;
}

/* Follow the uoffset stored in field @f; 0 if absent. */
static uint64_t fb_deref(struct qnpu_fb *fb, const struct qnpu_fb_table *t,
			 int f)
{
	uint64_t p = fb_field(fb, t, f, 4);

	return p ? p + rd32(fb, p) : 0;
}

int qnpu_fb_table(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		  struct qnpu_fb_table *out)
{
	uint64_t p = fb_deref(fb, t, f);

	memset(out, 0, sizeof(*out));
	if (fb->err)
		return fb->err;
	if (!p)
		return 0;
	return fb_open_table(fb, p, out) ? fb->err : 1;
}

int qnpu_fb_vector(struct qnpu_fb *fb, const struct qnpu_fb_table *t, int f,
		   size_t esize, struct qnpu_fb_vec *v)
{
	uint64_t p = fb_deref(fb, t, f);
	uint32_t n;

	memset(v, 0, sizeof(*v));
	if (fb->err || !p)
		return fb->err;
	if (!fb_in(fb, p, 4)) {
		fb_fail(fb, "vector (field %d of table at %u) starts outside the file",
			f, t->pos);
		return fb->err;
	}
	n = rd32(fb, p);
	if (!fb_in(fb, p + 4, (uint64_t)n * esize)) {
		fb_fail(fb, "vector of %u elements (field %d of table at %u) is longer than the file",
			n, f, t->pos);
		return fb->err;
	}
	v->pos = (uint32_t)(p + 4);
	v->len = n;
	return 0;
}

const char *qnpu_fb_string(struct qnpu_fb *fb, const struct qnpu_fb_table *t,
			   int f)
{
	struct qnpu_fb_vec v;

	if (qnpu_fb_vector(fb, t, f, 1, &v) || !v.pos)
		return NULL;
	if (!fb_in(fb, (uint64_t)v.pos + v.len, 1) ||
	    fb->buf[v.pos + v.len] != 0) {
		fb_fail(fb, "string (field %d of table at %u) is not terminated",
			f, t->pos);
		return NULL;
	}
	return (const char *)fb->buf + v.pos;
}

int32_t qnpu_fb_vec_i32(const struct qnpu_fb *fb,
			const struct qnpu_fb_vec *v, uint32_t i)
{
	return i < v->len ? (int32_t)rd32(fb, v->pos + 4ull * i) : 0;
}

int64_t qnpu_fb_vec_i64(const struct qnpu_fb *fb,
			const struct qnpu_fb_vec *v, uint32_t i)
{
	int64_t x = 0;

	if (i < v->len)
		memcpy(&x, fb->buf + v->pos + 8ull * i, 8);
	return x;
}

float qnpu_fb_vec_f32(const struct qnpu_fb *fb, const struct qnpu_fb_vec *v,
		      uint32_t i)
{
	float x = 0;

	if (i < v->len)
		memcpy(&x, fb->buf + v->pos + 4ull * i, 4);
	return x;
}

int qnpu_fb_vec_table(struct qnpu_fb *fb, const struct qnpu_fb_vec *v,
		      uint32_t i, struct qnpu_fb_table *out)
{
	uint64_t p;

	memset(out, 0, sizeof(*out));
	if (fb->err)
		return fb->err;
	if (i >= v->len) {
		fb_fail(fb, "vector index %u out of range (%u elements)", i,
			v->len);
		return fb->err;
	}
	p = (uint64_t)v->pos + 4ull * i;
	return fb_open_table(fb, p + rd32(fb, p), out);
}
