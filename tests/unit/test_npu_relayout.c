// SPDX-License-Identifier: MIT
/*
 * The handoff's ABUF relayout (compiler/qnpu_relayout.c): on hand-made
 * streams, a consumer's ring of input bands renamed into words of their
 * own (a reloaded band to the words of its first load), the computes
 * moved with the LOAD they read, a producer's load slots packed; every
 * stream a renaming could change refused unchanged. And on the simulated
 * NPU, person_detect's 48x48 / 24x24 chain (depthwise 3x3, 1x1, depthwise
 * 3x3 stride 2, 1x1, depthwise 3x3, 1x1) as a synthetic model: byte-exact
 * against the CPU with and without the relayout (QNPU_NPU_RELAYOUT=0), and
 * with it fewer cycles and DMA bytes (the outputs stay on chip).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qnpu.h"
#include "compiler/qnpu_compiler.h"
#include "ir/qnpu_ir.h"
#include "qnpu_regs.h"
#include "qnpu_runtime.h"

#define SET(c, name, v) ((c)->w[QNPU_CMD_##name##_WORD] = \
	((c)->w[QNPU_CMD_##name##_WORD] & ~QNPU_CMD_##name##_MASK) | \
	(((uint32_t)(v) << QNPU_CMD_##name##_SHIFT) & QNPU_CMD_##name##_MASK))
#define GET(c, name) (((c)->w[QNPU_CMD_##name##_WORD] & \
	QNPU_CMD_##name##_MASK) >> QNPU_CMD_##name##_SHIFT)

static const struct qnpu_npu_target tgt = {
	.rows = 16, .cols = 16, .abuf_bytes = 65536, .wbuf_bytes = 32768,
	.pbuf_bytes = 4096, .obuf_bytes = 32768,
	.version_minor = QNPU_VERSION_MINOR,
};

#define T_VA 0x100000000ull	/* the handed tensor: 8 rows of 8x16 bytes */
#define ROW 128			/* bytes of one of its image rows */

static struct qnpu_cmd ld(uint64_t va, uint32_t rows, uint32_t sram)
{
	struct qnpu_cmd c = { { 0 } };

	SET(&c, OPCODE, QNPU_OP_LOAD);
	SET(&c, BUF, QNPU_BUF_ABUF);
	SET(&c, DRAM_LO, (uint32_t)va);
	SET(&c, DRAM_HI, (uint32_t)(va >> 32));
	SET(&c, DRAM_STRIDE, ROW);
	SET(&c, ROW_BYTES, ROW);
	SET(&c, ROWS, rows);
	SET(&c, SRAM_ADDR, sram);
	SET(&c, SRAM_STRIDE, ROW / 16);
	return c;
}

/* A 1x1 CONV over @rows image rows of 8 pixels x 16 channels at ABUF
 * byte @a, pixels @pix0.. */
static struct qnpu_cmd conv(uint32_t a, uint32_t rows, uint32_t pix0)
{
	struct qnpu_cmd c = { { 0 } };

	SET(&c, OPCODE, QNPU_OP_CONV);
	SET(&c, ACC_CLEAR, 1);
	SET(&c, DRAIN, 1);
	SET(&c, A_ADDR, a);
	SET(&c, PIX_STRIDE, 16);
	SET(&c, ROW_STRIDE, ROW);
	SET(&c, IN_H, rows);
	SET(&c, IN_W, 8);
	SET(&c, OUT_W, 8);
	SET(&c, PIX0, pix0);
	SET(&c, NPIX, 16);
	SET(&c, NCOLS, 16);
	SET(&c, KH, 1);
	SET(&c, KW, 1);
	SET(&c, STRIDE_H, 1);
	SET(&c, STRIDE_W, 1);
	SET(&c, DIL_H, 1);
	SET(&c, DIL_W, 1);
	SET(&c, IC, 16);
	SET(&c, O_STRIDE, 1);
	return c;
}

/* A consumer streaming the tensor two rows at a time through two slots
 * (words 0 and 2048), its last band loaded again for a last tile of its
 * own; returns the count. */
static size_t ring(struct qnpu_cmd *b)
{
	size_t n = 0;
	uint32_t band;

	for (band = 0; band < 4; band++) {
		uint32_t slot = band % 2 ? 2048 : 0;

		b[n++] = ld(T_VA + band * 2 * ROW, 2, slot);
		b[n++] = conv(slot * 16, 2, 0);
	}
	b[n++] = ld(T_VA + 3 * 2 * ROW, 2, 0);	/* band 3 again */
	b[n++] = conv(0, 2, 0);
	return n;
}

static void test_consumer_ring(void **state)
{
	struct qnpu_cmd b[16];
	size_t n = ring(b);
	uint32_t i;

	(void)state;
	assert_int_equal(qnpu_npu_relayout_consumer(&tgt, b, n, T_VA,
						    T_VA + 8 * ROW), 0);
	/* band k at words 16k, its compute with it; the reload where band
	 * 3 went */
	for (i = 0; i < 4; i++) {
		assert_int_equal(GET(&b[2 * i], SRAM_ADDR), 16 * i);
		assert_int_equal(GET(&b[2 * i + 1], A_ADDR), 16 * i * 16);
	}
	assert_int_equal(GET(&b[8], SRAM_ADDR), 48);
	assert_int_equal(GET(&b[9], A_ADDR), 48 * 16);
}

/* Renamings that would change what a compute reads are refused, the
 * stream unchanged. */
static void refused_consumer(struct qnpu_cmd *b, size_t n)
{
	struct qnpu_cmd b0[16];

	memcpy(b0, b, n * sizeof(*b));
	assert_int_equal(qnpu_npu_relayout_consumer(&tgt, b, n, T_VA,
						    T_VA + 8 * ROW), 1);
	assert_memory_equal(b, b0, n * sizeof(*b));
}

static void test_consumer_refused(void **state)
{
	struct qnpu_cmd b[16];
	size_t n;

	(void)state;
	/* a halo: band 2's compute reads band 1's rows too, which stay
	 * where they are while band 2 moves */
	n = ring(b);
	b[2] = ld(T_VA + 2 * ROW, 2, 16);
	b[3] = conv(16 * 16, 2, 0);
	b[5] = conv(8 * 16, 3, 0);
	refused_consumer(b, n);
	/* a compute reading words no LOAD wrote */
	n = ring(b);
	SET(&b[3], A_ADDR, 1024 * 16);
	refused_consumer(b, n);
	/* nothing to rename: the bands already in words of their own */
	n = 0;
	b[n++] = ld(T_VA, 4, 0);
	b[n++] = conv(0, 4, 0);
	b[n++] = ld(T_VA + 4 * ROW, 4, 32);
	b[n++] = conv(32 * 16, 4, 0);
	refused_consumer(b, n);
	/* another tensor's LOAD where the bands would go */
	n = ring(b);
	b[n++] = ld(0x900000000ull, 1, 40);
	refused_consumer(b, n);
}

static void test_producer_pack(void **state)
{
	struct qnpu_cmd a[16], a0[16];
	size_t n = ring(a) - 2;		/* no reload */
	uint32_t i;

	(void)state;
	assert_int_equal(qnpu_npu_relayout_producer(&tgt, a, n), 0);
	/* slot 0 stays, slot 2048 right after it */
	for (i = 0; i < 4; i++) {
		assert_int_equal(GET(&a[2 * i], SRAM_ADDR), i % 2 ? 16 : 0);
		assert_int_equal(GET(&a[2 * i + 1], A_ADDR), i % 2 ? 256 : 0);
	}
	/* packed already: nothing to do */
	memcpy(a0, a, n * sizeof(*a));
	assert_int_equal(qnpu_npu_relayout_producer(&tgt, a, n), 1);
	assert_memory_equal(a, a0, n * sizeof(*a));
	/* a compute reading what no LOAD of its own put there (a handoff
	 * into it): refused unchanged */
	n = ring(a) - 2;
	SET(&a[3], A_ADDR, 3000 * 16);
	memcpy(a0, a, n * sizeof(*a));
	assert_int_equal(qnpu_npu_relayout_producer(&tgt, a, n), 1);
	assert_memory_equal(a, a0, n * sizeof(*a));
	/* a compute across two slots */
	n = ring(a) - 2;
	SET(&a[3], A_ADDR, 8 * 16);
	memcpy(a0, a, n * sizeof(*a));
	assert_int_equal(qnpu_npu_relayout_producer(&tgt, a, n), 1);
	assert_memory_equal(a, a0, n * sizeof(*a));
}

/* ---- person_detect's 48x48 chain on the simulated NPU ---- */

struct rng {
	uint32_t s;
};

static uint32_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 17;
	r->s ^= r->s << 5;
	return r->s;
}

struct chain {
	struct qnpu_ir_graph *g;
	uint8_t *blob;
	size_t used;
	struct rng r;
};

static int tensor(struct chain *c, enum qnpu_dtype dt, int rank,
		  const int32_t *shape, int nq, float scale, int zp)
{
	struct qnpu_ir_tensor *t = &c->g->tensors[c->g->ntensors];
	int i;

	memset(t, 0, sizeof(*t));
	t->name = "t";
	t->dtype = dt;
	t->rank = rank;
	t->count = 1;
	for (i = 0; i < rank; i++) {
		t->shape[i] = shape[i];
		t->count *= (size_t)shape[i];
	}
	t->bytes = t->count * qnpu_dtype_size(dt);
	if (nq) {
		t->nq = nq;
		t->scale = calloc((size_t)nq, sizeof(float));
		t->zero_point = calloc((size_t)nq, sizeof(int32_t));
		for (i = 0; i < nq; i++) {
			t->scale[i] = scale * (0.8f + 0.4f * (float)(rnd(&c->r) % 1000) / 1000.0f);
			t->zero_point[i] = zp;
		}
		t->qdim = nq > 1 ? (shape[0] != nq ? 3 : 0) : 0;
	}
	return c->g->ntensors++;
}

static void fill(struct chain *c, int t, int lo, int hi)
{
	struct qnpu_ir_tensor *x = &c->g->tensors[t];
	uint8_t *p = c->blob + c->used;
	size_t i;

	for (i = 0; i < x->count; i++) {
		int v = lo + (int)(rnd(&c->r) % (uint32_t)(hi - lo + 1));

		if (x->dtype == QNPU_DTYPE_INT32)
			memcpy(p + 4 * i, &v, 4);
		else
			p[i] = (uint8_t)(int8_t)v;
	}
	x->const_data = p;
	c->used += (x->bytes + 15) & ~(size_t)15;
}

/* Append a depthwise 3x3 (@stride) or a 1x1 CONV to @oc channels reading
 * tensor @in (h x w x ic); returns its output. Output scales keep the
 * values spread over int8 (about the spread of the inputs). */
static int layer(struct chain *c, int in, bool dw, int stride, int oc)
{
	struct qnpu_ir_graph *g = c->g;
	struct qnpu_ir_op *op = &g->ops[g->nops++];
	const struct qnpu_ir_tensor *x = &g->tensors[in];
	int h = x->shape[1], w = x->shape[2], ic = x->shape[3], k = dw ? 3 : 1;
	int32_t s[4];
	float ws = 0.01f, os;
	int wt, b, out;

	op->index = g->nops - 1;
	if (dw)
		oc = ic;
	s[0] = dw ? 1 : oc; s[1] = k; s[2] = k; s[3] = dw ? oc : ic;
	wt = tensor(c, QNPU_DTYPE_INT8, 4, s, oc, ws, 0);
	fill(c, wt, -127, 127);
	s[0] = oc;
	b = tensor(c, QNPU_DTYPE_INT32, 1, s, 0, 0, 0);
	fill(c, b, -3000, 3000);
	/* sum of k*k*(dw ? 1 : ic) products of spread ~74 x ~73 */
	os = g->tensors[in].scale[0] * ws * 74.0f * 73.0f *
	     sqrtf((float)(k * k * (dw ? 1 : ic))) / 60.0f;
	s[0] = 1; s[1] = (h + stride - 1) / stride;
	s[2] = (w + stride - 1) / stride; s[3] = oc;
	out = tensor(c, QNPU_DTYPE_INT8, 4, s, 1, os, -5);
	op->builtin = dw ? QNPU_TFL_DEPTHWISE_CONV_2D : QNPU_TFL_CONV_2D;
	op->in = calloc(3, sizeof(int32_t));
	op->out = calloc(1, sizeof(int32_t));
	op->nin = 3;
	op->nout = 1;
	op->in[0] = in;
	op->in[1] = wt;
	op->in[2] = b;
	op->out[0] = out;
	op->opt.conv.padding = QNPU_PAD_SAME;
	op->opt.conv.stride_h = stride;
	op->opt.conv.stride_w = stride;
	op->opt.conv.dilation_h = 1;
	op->opt.conv.dilation_w = 1;
	op->opt.conv.depth_multiplier = 1;
	return out;
}

#define NOPS 6

static struct qnpu_ir_graph *build(uint8_t **blob)
{
	struct chain c = { 0 };
	int32_t s[4] = { 1, 48, 48, 8 };
	int in, t;

	c.g = calloc(1, sizeof(*c.g));
	c.blob = calloc(1, 1 << 20);
	c.r.s = 12345;
	c.g->tensors = calloc(4 * NOPS + 2, sizeof(*c.g->tensors));
	c.g->ops = calloc(NOPS, sizeof(*c.g->ops));
	in = tensor(&c, QNPU_DTYPE_INT8, 4, s, 1, 0.02f, 3);
	t = layer(&c, in, true, 1, 0);		/* person_detect's layer 1 */
	t = layer(&c, t, false, 1, 16);		/* 2 */
	t = layer(&c, t, true, 2, 0);		/* 3 */
	t = layer(&c, t, false, 1, 32);		/* 4 */
	t = layer(&c, t, true, 1, 0);		/* 5 */
	t = layer(&c, t, false, 1, 32);		/* 6 */
	c.g->ninputs = 1;
	c.g->inputs = calloc(1, sizeof(int32_t));
	c.g->inputs[0] = in;
	c.g->noutputs = 1;
	c.g->outputs = calloc(1, sizeof(int32_t));
	c.g->outputs[0] = t;
	c.g->tensors[in].is_input = true;
	c.g->tensors[t].is_output = true;
	*blob = c.blob;
	return c.g;
}

struct result {
	uint8_t out[24 * 24 * 32];
	uint64_t cycles, dma;
	int on_npu;
};

static void run_on(const char *device, struct result *res)
{
	struct qnpu_device *dev;
	struct qnpu_model *m;
	struct qnpu_ir_graph *g;
	struct qnpu_tensor_info ti;
	struct qnpu_op_info oi;
	struct qnpu_op_stats st;
	struct rng r = { 777 };
	uint8_t *blob, *x;
	size_t k;
	int i;

	memset(res, 0, sizeof(*res));
	assert_int_equal(qnpu_device_open(device, &dev), 0);
	g = build(&blob);
	if (qnpu_model_from_graph(dev, g, blob, 0, &m))
		fail_msg("%s: %s", device, qnpu_last_error());
	qnpu_model_input_info(m, 0, &ti);
	x = malloc(ti.bytes);
	for (k = 0; k < ti.bytes; k++)
		x[k] = (uint8_t)rnd(&r);
	assert_int_equal(qnpu_model_set_input(m, 0, x, ti.bytes), 0);
	free(x);
	if (qnpu_model_run(m))
		fail_msg("%s: %s", device, qnpu_last_error());
	qnpu_model_output_info(m, 0, &ti);
	assert_int_equal(ti.bytes, sizeof(res->out));
	assert_int_equal(qnpu_model_get_output(m, 0, res->out, ti.bytes), 0);
	for (i = 0; i < NOPS; i++) {
		qnpu_model_op_info(m, i, &oi);
		qnpu_model_op_stats(m, i, &st);
		res->on_npu += oi.target == QNPU_TARGET_NPU;
		res->cycles += st.cycles;
		res->dma += st.dma_in + st.dma_out;
	}
	qnpu_model_free(m);
	qnpu_device_close(dev);
}

static const char *device(void)
{
	const char *d = getenv("QNPU_TEST_DEVICE");

	return d ? d : "sim";
}

static void same_bytes(const struct result *ref, const struct result *got,
		       const char *what)
{
	size_t i;

	for (i = 0; i < sizeof(ref->out); i++)
		if (ref->out[i] != got->out[i])
			fail_msg("%s: byte %zu (pixel %zu, channel %zu): npu %d, cpu %d",
				 what, i, i / 32, i % 32, (int8_t)got->out[i],
				 (int8_t)ref->out[i]);
}

static void chain_on(const char *dev)
{
	static struct result ref, on, off;
	bool seen[256] = { false };
	size_t i, distinct = 0;

	run_on("cpu", &ref);
	/* a test that can fail: the output is not a few saturated values */
	for (i = 0; i < sizeof(ref.out); i++)
		seen[ref.out[i]] = true;
	for (i = 0; i < 256; i++)
		distinct += seen[i];
	assert_true(distinct >= 64);
	run_on(dev, &on);
	setenv("QNPU_NPU_RELAYOUT", "0", 1);
	run_on(dev, &off);
	unsetenv("QNPU_NPU_RELAYOUT");
	assert_int_equal(on.on_npu, NOPS);
	assert_int_equal(off.on_npu, NOPS);
	same_bytes(&ref, &off, "without relayout");
	same_bytes(&ref, &on, "with relayout");
	/* the relayout makes handoffs the streams as emitted do not allow */
	if (on.cycles >= off.cycles || on.dma >= off.dma)
		fail_msg("%s: with relayout %llu cycles, %llu DMA bytes; without %llu, %llu",
			 dev, (unsigned long long)on.cycles,
			 (unsigned long long)on.dma,
			 (unsigned long long)off.cycles,
			 (unsigned long long)off.dma);
	print_message("%s: %llu cycles, %llu DMA bytes (without relayout %llu, %llu)\n",
		      dev, (unsigned long long)on.cycles,
		      (unsigned long long)on.dma,
		      (unsigned long long)off.cycles,
		      (unsigned long long)off.dma);
}

/* 16x16: the consumers' input bands renamed (layers 2, 4 and 6) */
static void test_chain_on_npu(void **state)
{
	(void)state;
	chain_on(device());
}

/* 8x8: there the producer's load slots are packed too (layer 2's halves
 * at 0 and ABUF / 2 leave no room for layer 3's input otherwise) */
static void test_chain_8x8(void **state)
{
	const char *dir = getenv("QNPU_TEST_DTS");
	char dev[512];

	(void)state;
	if (getenv("QNPU_TEST_DEVICE"))
		skip();		/* a device of the caller's */
	snprintf(dev, sizeof(dev), "%s/qnpu-8x8.dtb",
		 dir ? dir : "build/hw-model/dts");
	if (access(dev, R_OK)) {
		print_message("%s: not found (QNPU_TEST_DTS: the DTB directory)\n",
			      dev);
		skip();
	}
	memmove(dev + 4, dev, strlen(dev) + 1);
	memcpy(dev, "sim:", 4);
	chain_on(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consumer_ring),
		cmocka_unit_test(test_consumer_refused),
		cmocka_unit_test(test_producer_pack),
		cmocka_unit_test(test_chain_on_npu),
		cmocka_unit_test(test_chain_8x8),
	};

	return cmocka_run_group_tests_name("npu_relayout", tests, NULL, NULL);
}
