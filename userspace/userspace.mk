# libqnpu, the qnpu CLI and their tests (included by the top-level Makefile).

US_VERSION := 0.1.0
US_SOVER   := 0
US_OBJDIR  := $(BUILD)/userspace
US_CFLAGS  := $(CFLAGS_COMMON) -fvisibility=hidden -Iuserspace/include \
	      -Iuserspace/lib -Ihw-model/include -Ihw-model/gen \
	      -Iinclude/uapi/drm -I/usr/include/libdrm $(US_EXTRA_CFLAGS)
# The sim backend links the Verilated NPU (hw-model/hw-model.mk builds it).
US_HW_LIB  := $(BUILD)/hw-model/libqnpu_hw.a
US_LDLIBS  := -ldrm -lfdt -lprotobuf-c -lstdc++ -lm -lpthread -ldl

# ONNX's protobuf schema, decoded by protobuf-c: the C code is generated
# at build time from the onnx.proto Debian ships (libonnx-dev).
ONNX_PROTO  ?= /usr/include/onnx/onnx.proto
US_GEN      := $(BUILD)/gen
US_ONNX_PB  := $(US_GEN)/import/onnx.pb-c.c
US_CFLAGS   += -I$(US_GEN)

US_LIB_SRCS := $(wildcard userspace/lib/*.c userspace/lib/*/*.c)
US_LIB_HDRS := $(wildcard userspace/include/*.h userspace/lib/*.h userspace/lib/*/*.h \
	       userspace/lib/*/*.inc)
US_LIB_OBJS := $(patsubst userspace/%.c,$(US_OBJDIR)/%.o,$(US_LIB_SRCS)) \
	       $(US_OBJDIR)/gen/onnx.pb-c.o
US_SO       := $(BUILD)/lib/libqnpu.so.$(US_VERSION)
US_A        := $(BUILD)/lib/libqnpu.a
QNPU_BIN    := $(BUILD)/bin/qnpu

US_UNIT_SRCS := $(wildcard tests/unit/test_*.c)
US_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(US_UNIT_SRCS))

$(US_ONNX_PB): $(ONNX_PROTO)
	@mkdir -p $(dir $@)
	cp $< $(dir $@)onnx.proto
	cd $(dir $@) && protoc-c --c_out=. onnx.proto
$(US_ONNX_PB:.c=.h): $(US_ONNX_PB)

# Generated code: protoc-c's own style, so without -Werror.
$(US_OBJDIR)/gen/onnx.pb-c.o: $(US_ONNX_PB)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fPIC -std=gnu11 -I$(US_GEN)/import -c $< -o $@

$(US_OBJDIR)/%.o: userspace/%.c $(US_LIB_HDRS) hw-model/gen/qnpu_regs.h \
		hw-model/include/qnpu_hw.h $(US_ONNX_PB:.c=.h)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -c $< -o $@

$(US_A): $(US_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(US_SO): $(US_LIB_OBJS) userspace/lib/libqnpu.map $(US_HW_LIB)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libqnpu.so.$(US_SOVER) \
		-Wl,--version-script=userspace/lib/libqnpu.map \
		-o $@ $(US_LIB_OBJS) $(US_HW_LIB) $(US_LDLIBS)
	ln -sf libqnpu.so.$(US_VERSION) $(BUILD)/lib/libqnpu.so.$(US_SOVER)
	ln -sf libqnpu.so.$(US_SOVER) $(BUILD)/lib/libqnpu.so

# The CLI: qnpu.c dispatches to one cmd_<name>.c per command (tools/qnpu_cli.h).
QNPU_TOOL_SRCS := $(wildcard userspace/tools/*.c)
$(QNPU_BIN): $(QNPU_TOOL_SRCS) userspace/tools/qnpu_cli.h $(US_SO)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $(QNPU_TOOL_SRCS) -L$(BUILD)/lib -lqnpu -lm \
		-Wl,-rpath,'$$ORIGIN/../lib'

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/qnpu_unit.h tests/unit/qnpu_unit_cmd.h $(US_A) $(US_HW_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Iuserspace/lib/cpu -o $@ $< $(US_A) $(US_HW_LIB) \
		-lcmocka $(US_LDLIBS)

$(BUILD)/qnpu.pc: userspace/qnpu.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(US_VERSION)|' $< > $@

.PHONY: userspace
userspace: $(US_SO) $(US_A) $(QNPU_BIN)
all: userspace

install: $(US_SO) $(QNPU_BIN) $(BUILD)/qnpu.pc
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/bin
	install -m 644 userspace/include/qnpu.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(US_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libqnpu.so.$(US_VERSION) $(DESTDIR)$(PREFIX)/lib/libqnpu.so.$(US_SOVER)
	ln -sf libqnpu.so.$(US_SOVER) $(DESTDIR)$(PREFIX)/lib/libqnpu.so
	install -m 644 $(BUILD)/qnpu.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(QNPU_BIN) $(DESTDIR)$(PREFIX)/bin/

CHECK_DEPS  += $(US_SO) $(US_A) $(QNPU_BIN) $(US_UNIT_BINS)
CHECK_TESTS += $(US_UNIT_BINS)

# The example program, built from the tree for `make demo`.
DEMO_BIN := $(BUILD)/examples/person_detect
$(DEMO_BIN): examples/person_detect.c $(US_SO)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $< -L$(BUILD)/lib -lqnpu \
		-Wl,-rpath,'$$ORIGIN/../lib'

DEMO_DEVICE ?= auto
demo: deps
	@$(MAKE) --no-print-directory $(DEMO_BIN)
	@$(DEMO_BIN) -d $(DEMO_DEVICE) $(MODELS)/tflite/tflm_person_detect.tflite \
		$(MODELS)/inputs/tflm_person_detect/person.int8.bin \
		$(MODELS)/inputs/tflm_person_detect/no_person.int8.bin

US_GOLDEN_MODELS := $(notdir $(basename $(wildcard $(MODELS)/tflite/*.tflite)))
CHECK_TESTS += $(foreach m,$(US_GOLDEN_MODELS),"tests/golden/golden.sh $(QNPU_BIN) $(m) cpu")
CHECK_TESTS += "tests/golden/golden-valgrind.sh $(QNPU_BIN) cpu"
# Each CPU kernel path (QNPU_CPU_ISA) at 1, 2 and 3 threads: the same bytes.
CHECK_TESTS += $(foreach i,scalar avx2 avx512vnni,"tests/golden/golden-cpu-paths.sh $(QNPU_BIN) $(i)")
# Float32 models against TFLite's float outputs, at a stated tolerance.
CHECK_TESTS += "tests/golden/float-golden.sh $(QNPU_BIN)"
CHECK_TESTS += "tests/cli/test_cli.sh $(QNPU_BIN)"
CHECK_TESTS += examples/test_example.sh

# The same models on the simulated NPU: every input on the default 16x16
# device, and the first input of each model on 8x8 and 32x32.
CHECK_TESTS += $(foreach m,$(US_GOLDEN_MODELS),"tests/golden/golden.sh $(QNPU_BIN) $(m) sim")
# fused residual ADDs: the same outputs as unfused, on every input
CHECK_TESTS += "tests/golden/fuse.sh $(QNPU_BIN) sim"
CHECK_TESTS += "tests/golden/batch.sh $(QNPU_BIN) cpu" "tests/golden/batch.sh $(QNPU_BIN) sim"
CHECK_TESTS += "tests/golden/segment.sh $(QNPU_BIN) sim"
CHECK_TESTS += "tests/golden/handoff.sh $(QNPU_BIN) sim"
CHECK_TESTS += $(foreach c,8x8 32x32,"tests/golden/golden.sh $(QNPU_BIN) ALL sim:$(c) first")

.PHONY: bench
bench: $(QNPU_BIN)
	@$(QNPU_BIN) bench --backend=sim $(wildcard $(MODELS)/tflite/*.tflite)
	@echo
	@$(QNPU_BIN) bench --backend=sim --batch=16 \
		$(MODELS)/tflite/mlperf_tiny_ad_fc_autoencoder.tflite \
		$(MODELS)/tflite/tflm_micro_speech.tflite
CHECK_TESTS += "tests/cli/test_npu_cli.sh $(QNPU_BIN) $(BUILD)/hw-model/dts"

# In the VM: every model through qnpu.ko (tests/golden/qnpu-80-drm-golden,
# run by the driver's device VM run; tests/vm/vm.mk puts it in the image).
VM_GUEST_TESTS += tests/golden/qnpu-80-drm-golden tests/golden/qnpu-81-drm-load \
	tests/golden/qnpu-84-drm-batch
VM_GUEST_FILES += $(QNPU_BIN):/qnpu/bin/qnpu \
	$(US_SO):/qnpu/lib/libqnpu.so.$(US_SOVER) \
	$(MODELS)/tflite:/qnpu/models/tflite \
	$(MODELS)/inputs:/qnpu/models/inputs \
	$(MODELS)/golden:/qnpu/models/golden

# The float models quantized by `qnpu quantize` through qnpu.ko, against
# the sim backend's outputs (tests/golden/qnpu-82-drm-quant).
QUANT_VM_DIR := $(BUILD)/quant-vm
$(QUANT_VM_DIR): $(QNPU_BIN) $(US_SO) tests/quant/make-vm-set.sh 		tests/quant/f32_to_int8.py
	tests/quant/make-vm-set.sh $(QNPU_BIN) $(MODELS) $@
VM_GUEST_TESTS += tests/golden/qnpu-82-drm-quant
VM_GUEST_FILES += $(QUANT_VM_DIR):/qnpu/quant

# drm plans for the device's memory system: its profiled cycles equal the
# host's estimate for the DTB qnpu-sim serves (tests/golden/qnpu-85-drm-plan).
DRM_PLAN_DIR := $(BUILD)/vm-expect
$(DRM_PLAN_DIR): $(QNPU_BIN) $(US_SO) $(BUILD)/hw-model/dts/qnpu-16x16.dtb \
		tests/golden/expect-cycles.sh
	@mkdir -p $@
	tests/golden/expect-cycles.sh $(QNPU_BIN) $(BUILD)/hw-model/dts/qnpu-16x16.dtb \
		$(MODELS) >$@/cycles.tmp && mv $@/cycles.tmp $@/cycles
VM_GUEST_TESTS += tests/golden/qnpu-85-drm-plan
VM_GUEST_FILES += $(DRM_PLAN_DIR):/qnpu/expect

# libqnpu's stages include only themselves and the stages below them.
CHECK_TESTS += scripts/check-layers.sh "scripts/check-layers.sh --self-test"

# The real TFLite runtime (WASM, from npm, installed once under
# $(BUILD)/tflite-runtime) as an oracle: our golden and the TFLite writer's
# output against it (tests/tflite-runtime/).
TFLITE_REWRITE := $(BUILD)/tests/tflite-runtime/tflite_rewrite
$(TFLITE_REWRITE): tests/tflite-runtime/tflite_rewrite.c $(US_A) $(US_HW_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $< $(US_A) $(US_HW_LIB) $(US_LDLIBS)
CHECK_DEPS  += $(TFLITE_REWRITE)
CHECK_TESTS += "QNPU_TFLITE_RUNTIME=$(abspath $(BUILD))/tflite-runtime tests/tflite-runtime/test_tflite_runtime.sh $(TFLITE_REWRITE)"

# Post-training quantization: the CLI on the shared float models (8
# evaluation inputs each on cpu and sim, and in the real TFLite runtime),
# and `make bench-quant`, the one table of docs/quantization.md.
CHECK_TESTS += "tests/quant/test_quant_cli.sh $(QNPU_BIN) 8 tflite"
BENCH_QUANT_BIN := $(BUILD)/tests/bench/bench_quant
CHECK_DEPS += $(BENCH_QUANT_BIN)
$(BENCH_QUANT_BIN): tests/bench/bench_quant.c $(US_SO)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $< -L$(BUILD)/lib -lqnpu -lm \
		-Wl,-rpath,'$$ORIGIN/../../lib'

.PHONY: bench-quant
bench-quant: $(BENCH_QUANT_BIN)
	@$(BENCH_QUANT_BIN) $(MODELS)

# `make bench-cpu`: the CPU kernels against oneDNN and XNNPACK (Debian's
# libdnnl-dev, libxnnpack-dev: benchmark-only, scripts/deps.sh), the one
# table of docs/performance.md. Not part of make check.
BENCH_CPU_BIN  := $(BUILD)/tests/bench/bench_cpu
BENCH_CPU_REPS ?= 200
$(BENCH_CPU_BIN): tests/bench/bench_cpu.c $(US_A) $(US_HW_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $< $(US_A) $(US_HW_LIB) -ldnnl -lXNNPACK \
		-lpthreadpool -lgomp $(US_LDLIBS)

.PHONY: bench-cpu
bench-cpu: deps $(BENCH_CPU_BIN)
	@$(BENCH_CPU_BIN) $(MODELS) $(BENCH_CPU_REPS)
