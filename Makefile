# qnpu top-level Makefile. Each part adds its targets and tests through an
# included fragment (<part>/<part>.mk); `make check` runs them all.

BUILD      ?= build
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= gcc
CFLAGS_COMMON := -O2 -g -Wall -Wextra -Werror -std=gnu11 -fPIC
MODELS     ?= $(abspath ../shared/models)

# Fragments append test commands here (run by scripts/run-tests.sh) and the
# files those tests need built.
CHECK_TESTS :=
CHECK_DEPS  :=

.PHONY: all check check-run demo deps install clean lint bench fuzz
all:

include userspace/userspace.mk
-include hw-model/hw-model.mk
include tests/fuzz/fuzz.mk
include tests/onnx/onnx.mk
-include tests/vm/vm.mk
-include driver/driver.mk
-include tests/uapi/uapi.mk

all: $(CHECK_DEPS)

deps:
	@scripts/deps.sh

# deps first (it may install the compilers), then build and run everything.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: $(CHECK_DEPS)
	@QNPU_MODELS=$(MODELS) scripts/run-tests.sh $(CHECK_TESTS)

clean:
	rm -rf $(BUILD)
