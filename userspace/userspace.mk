# libqnpu, the qnpu CLI and their tests (included by the top-level Makefile).

US_VERSION := 0.1.0
US_SOVER   := 0
US_OBJDIR  := $(BUILD)/userspace
US_CFLAGS  := $(CFLAGS_COMMON) -fvisibility=hidden -Iuserspace/include \
	      -Iuserspace/lib $(US_EXTRA_CFLAGS)
US_LDLIBS  := -lm -lpthread

US_LIB_SRCS := $(wildcard userspace/lib/*.c userspace/lib/cpu/*.c)
US_LIB_OBJS := $(patsubst userspace/%.c,$(US_OBJDIR)/%.o,$(US_LIB_SRCS))
US_SO       := $(BUILD)/lib/libqnpu.so.$(US_VERSION)
US_A        := $(BUILD)/lib/libqnpu.a
QNPU_BIN    := $(BUILD)/bin/qnpu

US_UNIT_SRCS := $(wildcard tests/unit/test_*.c)
US_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(US_UNIT_SRCS))

$(US_OBJDIR)/%.o: userspace/%.c $(wildcard userspace/include/*.h userspace/lib/*.h userspace/lib/*.inc userspace/lib/cpu/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -c $< -o $@

$(US_A): $(US_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(US_SO): $(US_LIB_OBJS) userspace/lib/libqnpu.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libqnpu.so.$(US_SOVER) \
		-Wl,--version-script=userspace/lib/libqnpu.map \
		-o $@ $(US_LIB_OBJS) $(US_LDLIBS)
	ln -sf libqnpu.so.$(US_VERSION) $(BUILD)/lib/libqnpu.so.$(US_SOVER)
	ln -sf libqnpu.so.$(US_SOVER) $(BUILD)/lib/libqnpu.so

$(QNPU_BIN): userspace/tools/qnpu.c $(US_SO)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $< -L$(BUILD)/lib -lqnpu \
		-Wl,-rpath,'$$ORIGIN/../lib'

$(BUILD)/tests/unit/%: tests/unit/%.c $(US_A)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Iuserspace/lib/cpu -o $@ $< $(US_A) -lcmocka $(US_LDLIBS)

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
CHECK_TESTS += "tests/cli/test_cli.sh $(QNPU_BIN)"
CHECK_TESTS += examples/test_example.sh
