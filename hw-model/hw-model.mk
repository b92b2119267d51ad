# qnpu hardware model: RTL (Verilator), C API library, device trees, lint,
# RTL tests and benchmark. Included by the top-level Makefile.

HW_DIR     := hw-model
HW_BUILD   := $(BUILD)/hw-model
# the RTL in compile order (packages first), for the build and lint
HW_RTL     := $(addprefix $(HW_DIR)/rtl/,qnpu_pkg.sv qnpu_math_pkg.sv qnpu_fifo.sv \
	qnpu_sram.sv qnpu_perf.sv qnpu_cmd_proc.sv qnpu_burst.sv qnpu_load.sv qnpu_store.sv \
	qnpu_ppu.sv qnpu_compute.sv qnpu_top.sv)
HW_WAIVERS := $(HW_DIR)/lint/qnpu.vlt
HW_REGS_H  := $(HW_DIR)/gen/qnpu_regs.h
HW_GEN     := $(HW_REGS_H) $(HW_DIR)/rtl/qnpu_pkg.sv docs/hw-regs.md
HW_VERILATOR ?= verilator

# The built configurations are the device trees dts/qnpu-<name>.dts; their
# parameters are read from there (scripts/hw_configs.py) into a make fragment
# (HW_CONFIGS, HW_VPARAMS_<name>) and the C API's table of models.
HW_TARGET_DTS := $(sort $(wildcard dts/qnpu-*.dts))
HW_DEFAULT_CONFIG := 16x16
HW_CFG_MK  := $(HW_BUILD)/gen/configs.mk
HW_CFG_H   := $(HW_BUILD)/gen/qnpu_hw_configs.h

$(HW_CFG_MK) $(HW_CFG_H) &: $(HW_TARGET_DTS) dts/qnpu.dtsi scripts/hw_configs.py
	@python3 scripts/hw_configs.py --default $(HW_DEFAULT_CONFIG) \
		--mk $(HW_CFG_MK) --header $(HW_CFG_H) $(HW_TARGET_DTS)

# (make remakes the fragment first; "-include" lets `make deps` run before dtc exists)
-include $(HW_CFG_MK)

HW_VFLAGS  := --cc --build -j 2 --top-module qnpu_top -O3 --x-assign fast --x-initial fast --unroll-count 4 \
	-CFLAGS "-fPIC -std=gnu++17" \
	-MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O1 VM_PARALLEL_BUILDS=1"

# Two builds of the library. HW_LIB, which every test, the sim backend and
# qnpu-sim link, checks the RTL's assertions (SVA and unique case) on every
# cycle; HW_BENCH_LIB, built only for `make bench-rtl`, is --noassert: it
# measures simulation speed, which the checks cost 4-14 % (docs/hw-rtl.md).
HW_LIB     := $(HW_BUILD)/libqnpu_hw.a
HW_BENCH_BUILD := $(HW_BUILD)/bench
HW_BENCH_LIB := $(HW_BENCH_BUILD)/libqnpu_hw.a
HW_LDLIBS  := -lfdt -lstdc++ -lpthread -ldl -lm
HW_CFLAGS  := -I$(HW_DIR)/include -I$(HW_DIR)/gen
# the models of a build directory
hw_model_libs = $(foreach c,$(HW_CONFIGS),$(1)/models/$(c)/Vqnpu_$(c)__ALL.a)

.PHONY: hw-model hw-gen hw-gen-check hw-dtbs bench-rtl

hw-model: $(HW_LIB) hw-dtbs

# ---- generated programming model ----
hw-gen:
	@python3 scripts/gen_regs.py

hw-gen-check:
	@python3 scripts/gen_regs.py --check

# (touch: the outputs are newer than the description even when it changed
# only in comments)
$(HW_GEN) &: $(HW_DIR)/qnpu_regs.toml scripts/gen_regs.py
	python3 scripts/gen_regs.py
	@touch $(HW_GEN)

# ---- Verilated models: $(1) configuration, $(2) build directory, $(3) --assert
# or --noassert ----
define HW_MODEL_RULE
$(2)/models/$(1)/Vqnpu_$(1)__ALL.a: $(HW_RTL) $(HW_WAIVERS) dts/qnpu-$(1).dts
	@mkdir -p $(2)/models/$(1)
	@echo "  VERILATE $(1) $(3)"
	@start=$$$$(date +%s.%N); \
	$(HW_VERILATOR) $(HW_VFLAGS) $(3) --prefix Vqnpu_$(1) --Mdir $(2)/models/$(1) \
		$(HW_VPARAMS_$(1)) $(HW_WAIVERS) $(HW_RTL) >$(2)/models/$(1)/build.log 2>&1 || \
		{ cat $(2)/models/$(1)/build.log; exit 1; }; \
	end=$$$$(date +%s.%N); \
	echo "$$$$end - $$$$start" | bc -l 2>/dev/null >$(2)/models/$(1)/build-seconds || \
	python3 -c "print($$$$end - $$$$start)" >$(2)/models/$(1)/build-seconds
endef

# ---- the C API over the models of build directory $(1) ----
# A configuration that is not linked in is built on demand into the model
# cache (capi/qnpu_hw_cache.cpp, capi/qnpu_hw_build.sh); its key's hash covers
# everything such a model is built from, so the cache never serves a stale one.
HW_CAPI_SRCS := $(HW_DIR)/capi/qnpu_hw.cpp $(HW_DIR)/capi/qnpu_hw_cache.cpp
HW_CAPI_HDRS := $(HW_DIR)/capi/qnpu_hw_dev.h $(HW_DIR)/capi/qnpu_hw_cache.h $(HW_DIR)/include/qnpu_hw.h
HW_DYN_SRCS := $(HW_RTL) $(HW_WAIVERS) $(HW_CAPI_HDRS) $(HW_REGS_H) $(HW_DIR)/capi/qnpu_hw_model.cpp \
	$(HW_DIR)/capi/qnpu_hw_build.sh
HW_BUILD_HASH = $(shell cat $(HW_DYN_SRCS) | sha256sum | cut -c1-12)
HW_CACHE_DIR ?= $(abspath $(HW_BUILD))/cache
define HW_CAPI_RULE
$(1)/capi/%.o: $(HW_DIR)/capi/%.cpp $(HW_CAPI_HDRS) $(HW_DYN_SRCS) \
		$(HW_REGS_H) $(HW_CFG_H) $(call hw_model_libs,$(1))
	@mkdir -p $$(dir $$@)
	$$(CXX) -O2 -g -Wall -Wextra -Werror -fPIC -std=gnu++17 $(HW_CFLAGS) -I$(dir $(HW_CFG_H)) \
		-DQNPU_HW_SRC_DIR='"$(CURDIR)"' -DQNPU_HW_CACHE_DIR='"$(HW_CACHE_DIR)"' \
		-DQNPU_HW_RTL_FILES='"$(HW_RTL)"' -DQNPU_HW_VLT_OBJS='"$(abspath $(HW_VLT_OBJS))"' \
		-DQNPU_HW_BUILD_HASH='"$$(HW_BUILD_HASH)"' \
		$(foreach c,$(HW_CONFIGS),-isystem $(1)/models/$(c)) \
		-isystem /usr/share/verilator/include -isystem /usr/share/verilator/include/vltstd \
		-c $$< -o $$@

$(1)/libqnpu_hw.a: $(1)/capi/qnpu_hw.o $(1)/capi/qnpu_hw_cache.o $(HW_VLT_OBJS) \
		$(call hw_model_libs,$(1))
	@rm -f $$@
	@{ echo "create $$@"; \
	   for a in $(call hw_model_libs,$(1)); do echo "addlib $$$$a"; done; \
	   for o in $(1)/capi/qnpu_hw.o $(1)/capi/qnpu_hw_cache.o $(HW_VLT_OBJS); do echo "addmod $$$$o"; done; \
	   echo save; echo end; } | ar -M
	@echo "  AR      $$@"
endef

# the Verilator runtime, once for all models
HW_VLT_INC := /usr/share/verilator/include
HW_VLT_OBJS := $(HW_BUILD)/capi/vlt_verilated.o $(HW_BUILD)/capi/vlt_verilated_threads.o
$(HW_BUILD)/capi/vlt_%.o: $(HW_VLT_INC)/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) -O2 -fPIC -std=gnu++17 -DVM_COVERAGE=0 -DVM_SC=0 -DVM_TRACE=0 \
		-faligned-new -isystem $(HW_VLT_INC) -isystem $(HW_VLT_INC)/vltstd -c $< -o $@

$(foreach c,$(HW_CONFIGS),$(eval $(call HW_MODEL_RULE,$(c),$(HW_BUILD),--assert)) \
	$(eval $(call HW_MODEL_RULE,$(c),$(HW_BENCH_BUILD),--noassert)))
$(eval $(call HW_CAPI_RULE,$(HW_BUILD)))
$(eval $(call HW_CAPI_RULE,$(HW_BENCH_BUILD)))

# ---- device trees ----
HW_DTBS := $(foreach c,$(HW_CONFIGS),$(HW_BUILD)/dts/qnpu-$(c).dtb)

hw-dtbs: $(HW_DTBS)

$(HW_BUILD)/dts/%.dtb: dts/%.dts dts/qnpu.dtsi
	@mkdir -p $(dir $@)
	dtc -q -I dts -O dtb -i dts -o $@ $<

# ---- lint ----
lint: hw-lint
.PHONY: hw-lint
hw-lint:
	@$(HW_DIR)/lint/run-lint.sh $(HW_RTL)

# ---- RTL tests ----
HW_TEST_CPU_SRCS := $(wildcard userspace/lib/cpu/qnpu_cpu_*.c userspace/lib/quant/qnpu_fixedpoint.c \
	userspace/lib/quant/qnpu_qparams.c)
HW_TEST_SRCS := tests/rtl/test_rtl.c tests/rtl/rtl_ref.c tests/rtl/rtl_harness.c tests/rtl/rtl_lower.c
# the compiler's cost model, held to the RTL on the streams the tests build
HW_TEST_SRCS += userspace/lib/compiler/qnpu_cost.c
HW_TEST_BIN := $(HW_BUILD)/tests/test_rtl

$(HW_TEST_BIN): $(HW_TEST_SRCS) tests/rtl/rtl_ref.h tests/rtl/rtl_harness.h tests/rtl/rtl_lower.h $(HW_LIB) $(HW_REGS_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(HW_CFLAGS) -Iuserspace/include -Iuserspace/lib -Iuserspace/lib/cpu \
		$(if $(HW_TEST_CPU_SRCS),-DQNPU_HAVE_CPU_KERNELS) \
		-o $@ $(HW_TEST_SRCS) $(HW_TEST_CPU_SRCS) $(HW_LIB) -lcmocka $(HW_LDLIBS) -lm

CHECK_DEPS  += $(HW_LIB) $(HW_DTBS) $(HW_TEST_BIN)
CHECK_TESTS += "python3 scripts/gen_regs.py --check" "$(HW_DIR)/lint/run-lint.sh $(HW_RTL)" \
	$(foreach c,$(HW_CONFIGS),"$(HW_TEST_BIN) --dtb $(HW_BUILD)/dts/qnpu-$(c).dtb")

# ---- benchmark (the --noassert build) ----
HW_BENCH_BIN := $(HW_BENCH_BUILD)/bench_rtl

$(HW_BENCH_BIN): tests/rtl/bench_rtl.c tests/rtl/rtl_harness.c tests/rtl/rtl_harness.h tests/rtl/rtl_lower.c tests/rtl/rtl_lower.h $(HW_BENCH_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(HW_CFLAGS) -o $@ tests/rtl/bench_rtl.c tests/rtl/rtl_harness.c tests/rtl/rtl_lower.c tests/rtl/rtl_ref.c \
		$(HW_BENCH_LIB) $(HW_LDLIBS) -lm

bench: bench-rtl
bench-rtl: $(HW_BENCH_BIN)
	@$(HW_BENCH_BIN) $(foreach c,$(HW_CONFIGS),$(c):$(HW_BENCH_BUILD)/models/$(c)/build-seconds)

# ---- co-design (docs/codesign.md) ----
# Configurations that are not shipped, built on demand into the model cache
# by the tests that use them: a non-square array and the smallest SRAMs that
# keep every shared model on the NPU (the heaviest tiling).
HW_TEST_DTBS := $(patsubst tests/codesign/%.dts,$(HW_BUILD)/dts/test/%.dtb,$(wildcard tests/codesign/qnpu-*.dts))

$(HW_BUILD)/dts/test/%.dtb: tests/codesign/%.dts dts/qnpu.dtsi
	@mkdir -p $(dir $@)
	dtc -q -I dts -O dtb -i dts -o $@ $<

CHECK_DEPS  += $(HW_TEST_DTBS)
CHECK_TESTS += tests/codesign/test_cache_prune.sh
CHECK_TESTS += "tests/codesign/test_dt.sh $(QNPU_BIN)" "tests/codesign/test_sweep.sh $(QNPU_BIN)" \
	"tests/codesign/test_cost_model.sh $(QNPU_BIN) $(HW_DTBS) $(HW_TEST_DTBS)" \
	$(foreach d,$(HW_TEST_DTBS),"tests/golden/golden.sh $(QNPU_BIN) ALL sim:$(d) first") \
	$(foreach d,$(HW_TEST_DTBS),"$(HW_TEST_BIN) --dtb $(d)")

# `make bench-sweep`: every shared model on 9 array shapes x 4 memory
# settings on the RTL, from an empty model cache (so the time includes
# Verilating the six shapes that are not shipped, once each), with the
# table, CSV/JSON and plots in $(BUILD)/bench-sweep (docs/codesign.md).
BENCH_SWEEP_DIR := $(BUILD)/bench-sweep
.PHONY: bench-sweep
bench-sweep: $(QNPU_BIN)
	@rm -rf $(BENCH_SWEEP_DIR)
	@start=$$(date +%s); \
	QNPU_HW_CACHE=$(abspath $(BENCH_SWEEP_DIR))/cache QNPU_MODELS=$${QNPU_MODELS:-../shared/models} \
	$(QNPU_BIN) sweep -o $(BENCH_SWEEP_DIR) --rows=8,16,32 --cols=8,16,32 \
		--mem-bw=ideal,16 --mem-lat=0,100 -j 2 && \
	echo "bench-sweep: $$(( $$(date +%s) - start )) s wall, plots in $(BENCH_SWEEP_DIR)"
