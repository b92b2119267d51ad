# ONNX: ONNX's node tests, the shared ONNX models against ONNX Runtime's
# outputs, the importer's refusals, and a libFuzzer target for it.

ONNX_BIN     := $(BUILD)/tests/onnx
ONNX_GOLDEN  := $(ONNX_BIN)/onnx_golden
ONNX_NODES   := $(ONNX_BIN)/onnx_node_test
ONNX_MUTATE  := $(ONNX_BIN)/onnx_mutate
ONNX_PB_OBJ  := $(US_OBJDIR)/gen/onnx.pb-c.o

$(ONNX_GOLDEN): tests/onnx/onnx_golden.c $(US_SO)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $< -L$(BUILD)/lib -lqnpu -lm \
		-Wl,-rpath,'$$ORIGIN/../../lib'

$(ONNX_BIN)/%: tests/onnx/%.c $(US_SO) $(ONNX_PB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $< $(ONNX_PB_OBJ) -L$(BUILD)/lib -lqnpu \
		-lprotobuf-c -lm -Wl,-rpath,'$$ORIGIN/../../lib'

CHECK_DEPS  += $(ONNX_GOLDEN) $(ONNX_NODES) $(ONNX_MUTATE)
CHECK_TESTS += "tests/onnx/test_onnx_nodes.sh $(ONNX_NODES) cpu" \
	       "tests/onnx/test_onnx_nodes.sh $(ONNX_NODES) cpu float" \
	       "tests/onnx/test_onnx_golden.sh $(ONNX_GOLDEN) cpu" \
	       "tests/onnx/test_onnx_errors.sh $(QNPU_BIN) $(ONNX_MUTATE)" \
	       "tests/onnx/test_onnx_nodes.sh $(ONNX_NODES) sim" \
	       "tests/onnx/test_onnx_golden.sh $(ONNX_GOLDEN) sim npu" \
	       "tests/onnx/test_onnx_cli.sh $(QNPU_BIN) $(BUILD)/hw-model/dts" \
	       "QNPU_ONNX_RUNTIME=$(abspath $(BUILD))/onnx-runtime tests/onnx/test_onnx_quantize.sh $(QNPU_BIN) $(ONNX_GOLDEN)" \
	       "QNPU_ONNX_RUNTIME=$(abspath $(BUILD))/onnx-runtime tests/onnx/test_onnx_ort.sh $(ONNX_GOLDEN)"

# The importer under libFuzzer (ASan + UBSan), seeded with the shared
# ONNX models, the quantized node tests' models, cut copies of them, and
# every input that once troubled the importer (tests/fuzz/regress-onnx/).
FUZZ_ONNX_BIN    := $(BUILD)/fuzz/fuzz_onnx
FUZZ_ONNX_CORPUS := $(BUILD)/fuzz/corpus-onnx
ONNX_TESTDATA    ?= /usr/share/libonnx-testdata/data/node

$(FUZZ_ONNX_BIN): tests/fuzz/fuzz_onnx.c tests/fuzz/fuzz_run.h $(US_LIB_SRCS) $(US_LIB_HDRS) $(US_HW_LIB) \
		$(US_ONNX_PB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -I$(US_GEN) -o $@ tests/fuzz/fuzz_onnx.c \
		$(US_LIB_SRCS) $(US_ONNX_PB) $(US_HW_LIB) $(US_LDLIBS)

$(FUZZ_ONNX_CORPUS)/.stamp: $(wildcard $(MODELS)/onnx/models/*.onnx $(MODELS)/onnx/ops/models/*.onnx \
		tests/fuzz/regress-onnx/*)
	@mkdir -p $(dir $@)
	cp tests/fuzz/regress-onnx/* $(FUZZ_ONNX_CORPUS)/
	for f in $(MODELS)/onnx/models/*.onnx $(MODELS)/onnx/ops/models/*.onnx; do \
		n=$$(basename $$f .onnx); cp $$f $(FUZZ_ONNX_CORPUS)/$$n; \
		head -c 900 $$f > $(FUZZ_ONNX_CORPUS)/$$n.head; \
	done
	for t in qlinearconv qlinearmatmul_3D matmulinteger convinteger_with_padding \
		dequantizelinear_axis dynamicquantizelinear_expanded; do \
		[ -f $(ONNX_TESTDATA)/test_$$t/model.onnx ] && \
		cp $(ONNX_TESTDATA)/test_$$t/model.onnx $(FUZZ_ONNX_CORPUS)/node_$$t; \
	done; true
	touch $@

.PHONY: fuzz-onnx
fuzz-onnx: $(FUZZ_ONNX_BIN) $(FUZZ_ONNX_CORPUS)/.stamp
	$(FUZZ_ONNX_BIN) -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 \
		-max_len=100000 $(FUZZ_ONNX_CORPUS)

CHECK_DEPS  += $(FUZZ_ONNX_BIN) $(FUZZ_ONNX_CORPUS)/.stamp
CHECK_TESTS += "tests/fuzz/smoke.sh $(FUZZ_ONNX_BIN) $(FUZZ_ONNX_CORPUS)"

# In the VM: the shared ONNX models through qnpu.ko (tests/vm/vm.mk puts
# the guest test and these files in the image).
VM_GUEST_TESTS += tests/onnx/qnpu-83-drm-onnx
VM_GUEST_FILES += $(ONNX_GOLDEN):/qnpu/tests/onnx/onnx_golden \
	$(MODELS)/onnx:/qnpu/models/onnx
