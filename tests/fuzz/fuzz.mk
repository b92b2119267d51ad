# libFuzzer target for the TFLite importer (clang, ASan + UBSan).
FUZZ_BIN    := $(BUILD)/fuzz/fuzz_tflite
FUZZ_CORPUS := $(BUILD)/fuzz/corpus
FUZZ_TIME   ?= 300
FUZZ_DTB    := $(BUILD)/hw-model/dts/qnpu-16x16.dtb
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=undefined -Iuserspace/include -Iuserspace/lib \
	       -Ihw-model/include -Ihw-model/gen -Iinclude/uapi/drm \
	       -I/usr/include/libdrm

$(FUZZ_BIN): tests/fuzz/fuzz_tflite.c tests/fuzz/fuzz_run.h $(US_LIB_SRCS) $(US_LIB_HDRS) $(US_HW_LIB) \
		$(US_ONNX_PB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -I$(US_GEN) -o $@ tests/fuzz/fuzz_tflite.c $(US_LIB_SRCS) \
		$(US_ONNX_PB) $(US_HW_LIB) $(US_LDLIBS)

# Seeds: the shared models, truncated copies of them, and every input
# that once crashed the importer (tests/fuzz/regress/).
$(FUZZ_CORPUS)/.stamp: $(wildcard $(MODELS)/tflite/*.tflite tests/fuzz/regress/*) $(QNPU_BIN) $(FUZZ_DTB)
	@mkdir -p $(dir $@)
	cp tests/fuzz/regress/* $(FUZZ_CORPUS)/
	$(QNPU_BIN) compile --target=$(FUZZ_DTB) -o $(FUZZ_CORPUS)/hello.qnpc \
		$(MODELS)/tflite/tflm_hello_world_int8.tflite >/dev/null
	for f in $(MODELS)/tflite/*.tflite; do \
		n=$$(basename $$f .tflite); cp $$f $(FUZZ_CORPUS)/$$n; \
		head -c 700 $$f > $(FUZZ_CORPUS)/$$n.head; \
	done
	touch $@

.PHONY: fuzz
fuzz: $(FUZZ_BIN) $(FUZZ_CORPUS)/.stamp
	QNPU_FUZZ_TARGET=$(FUZZ_DTB) $(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) \
		-rss_limit_mb=2048 -max_len=400000 $(FUZZ_CORPUS)

CHECK_DEPS  += $(FUZZ_BIN) $(FUZZ_CORPUS)/.stamp
CHECK_TESTS += "tests/fuzz/smoke.sh $(FUZZ_BIN) $(FUZZ_CORPUS) $(FUZZ_DTB)"
