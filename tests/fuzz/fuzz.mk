# libFuzzer target for the TFLite importer (clang, ASan + UBSan).
FUZZ_BIN    := $(BUILD)/fuzz/fuzz_tflite
FUZZ_CORPUS := $(BUILD)/fuzz/corpus
FUZZ_TIME   ?= 300
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=undefined -Iuserspace/include -Iuserspace/lib

$(FUZZ_BIN): tests/fuzz/fuzz_tflite.c $(US_LIB_SRCS) $(wildcard userspace/lib/*.h userspace/lib/cpu/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_tflite.c $(US_LIB_SRCS) -lm -lpthread

# Seeds: the shared models, plus truncated copies of the small ones.
$(FUZZ_CORPUS)/.stamp: $(wildcard $(MODELS)/tflite/*.tflite)
	@mkdir -p $(dir $@)
	for f in $(MODELS)/tflite/*.tflite; do \
		n=$$(basename $$f .tflite); cp $$f $(FUZZ_CORPUS)/$$n; \
		head -c 700 $$f > $(FUZZ_CORPUS)/$$n.head; \
	done
	touch $@

.PHONY: fuzz
fuzz: $(FUZZ_BIN) $(FUZZ_CORPUS)/.stamp
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 \
		-max_len=400000 $(FUZZ_CORPUS)

CHECK_DEPS  += $(FUZZ_BIN) $(FUZZ_CORPUS)/.stamp
CHECK_TESTS += "tests/fuzz/smoke.sh $(FUZZ_BIN) $(FUZZ_CORPUS)"
