# qnpu VM harness (docs/vm.md): qnpu-sim, the test VM image, and the VM
# tests. Included by the top-level Makefile; paths are from the repo root.
#
#   make vm-image   build $(VM_DIR)/vmlinux, initramfs.cpio and qnpu-sim
#   make vm-check   boot the VM, run the guest tests, exit with their result
#   make vm-shell   boot the same VM with a shell on this terminal
#
# The driver issue extends it from its own fragment or the command line:
#   VM_EXTRA_KO     out-of-tree modules loaded after Debian's (qnpu.ko)
#   VM_GUEST_TESTS  programs run by /init in name order (besides the
#                   transport test, which is always there)
#   VM_GUEST_FILES  SRC:DST pairs copied into the image
#   VM_SIM_ARGS     qnpu-sim arguments (now: the transport test hook)

VM_DIR         ?= $(BUILD)/vm
VM_SIM_DIR     ?= $(BUILD)/sim
VM_SIM         ?= $(VM_SIM_DIR)/qnpu-sim
VM_QEMU        ?= qemu-system-x86_64
ifndef VM_KVER
VM_KVER        := $(shell scripts/vm/kver.sh)
endif
VM_BZIMAGE     ?= /boot/vmlinuz-$(VM_KVER)
VM_MODULES     ?= drm drm_shmem_helper gpu-sched
VM_EXTRA_KO    ?=
VM_GUEST_FILES ?=
VM_TIMEOUT     ?= 120
VM_TEST_TIMEOUT ?= 60
VM_MEM         ?= 512M
VM_SMP         ?= 1
# Second transport run with RAM above 4 GiB (q35 split); empty: skip it.
VM_HIGHMEM     ?= 3G
VM_SIM_ARGS    ?= --transport-test
# Extra kernel command line; <module>.<param>=<value> reaches insmod.
VM_APPEND      ?=
VM_GUEST_TESTS ?=
# Always in the image; it skips itself unless VM_SIM_ARGS has the hook.
VM_TT          := $(VM_DIR)/guest/qnpu-transport-test
VM_TESTS_ALL   := $(VM_TT) $(VM_GUEST_TESTS)

VM_SIM_HDRS := $(wildcard hw-model/sim/*.h)
VM_SIM_OBJS := $(VM_SIM_DIR)/qnpu_transport_test.o \
	       $(VM_SIM_DIR)/qnpu_sim_main.o $(VM_SIM_DIR)/qnpu_sim_device.o \
	       $(VM_SIM_DIR)/qnpu_sim_fault.o
VM_SIM_LIB  := $(VM_SIM_DIR)/libqnpu_ivshmem.a
VM_GUEST_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -static \
		   -Ihw-model/sim

VM_IMAGE := $(VM_DIR)/vmlinux $(VM_DIR)/initramfs.cpio
VM_RUN_ARGS := --timeout $(VM_TIMEOUT) --test-timeout $(VM_TEST_TIMEOUT) \
	       --smp $(VM_SMP) \
	       $(foreach a,$(VM_SIM_ARGS),--sim-arg $(a)) \
	       $(if $(VM_APPEND),--append '$(VM_APPEND)')

# Build the image only where it can be built; the test then runs, or
# prints SKIP with the reason.
VM_HAVE := $(and $(VM_KVER),$(shell test -r $(VM_BZIMAGE) && echo y), \
	$(wildcard /lib/modules/$(VM_KVER)/modules.dep), \
	$(shell command -v $(VM_QEMU)))

CHECK_DEPS += $(VM_SIM) $(VM_SIM_DIR)/test_qnpu_ivshmem \
	      $(VM_SIM_DIR)/test_qnpu_sim_irq
CHECK_TESTS += $(VM_SIM_DIR)/test_qnpu_ivshmem $(VM_SIM_DIR)/test_qnpu_sim_irq
ifneq ($(VM_HAVE),)
CHECK_DEPS += $(VM_IMAGE)
endif
# The transport runs serve no qnpu device: only the module's load and
# refusal tests, its unload and the transport test mean anything there.
VM_TT_ONLY := --append qnpuvm_tests=qnpu-00-load,qnpu-99-unload,qnpu-transport-test
CHECK_TESTS += "tests/vm/vm-check.sh $(VM_DIR) $(VM_SIM) '$(VM_KVER)' \
	$(VM_QEMU) $(VM_RUN_ARGS) $(VM_TT_ONLY) --mem $(VM_MEM)"
ifneq ($(VM_HIGHMEM),)
CHECK_TESTS += "tests/vm/vm-check.sh $(VM_DIR) $(VM_SIM) '$(VM_KVER)' \
	$(VM_QEMU) $(VM_RUN_ARGS) $(VM_TT_ONLY) --mem $(VM_HIGHMEM) --log-tag highmem"
endif

.PHONY: vm-image vm-check vm-shell vm-force

vm-image: $(VM_IMAGE) $(VM_SIM)

vm-check: vm-image
	@tests/vm/vm-check.sh $(VM_DIR) $(VM_SIM) '$(VM_KVER)' $(VM_QEMU) \
		$(VM_RUN_ARGS) --mem $(VM_MEM)

vm-shell: vm-image
	@scripts/vm/run-vm.sh shell --dir $(VM_DIR) --sim $(VM_SIM) \
		--qemu $(VM_QEMU) --mem $(VM_MEM) --smp $(VM_SMP) \
		$(foreach a,$(VM_SIM_ARGS),--sim-arg $(a)) \
		$(if $(VM_APPEND),--append '$(VM_APPEND)')

# qnpu-sim: the ivshmem transport as a library, and the program.
$(VM_SIM_DIR)/qnpu_ivshmem.o $(VM_SIM_OBJS): $(VM_SIM_DIR)/%.o: \
		hw-model/sim/%.c $(VM_SIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_COMMON) -Ihw-model/include -Ihw-model/gen -c -o $@ $<

$(VM_SIM_LIB): $(VM_SIM_DIR)/qnpu_ivshmem.o
	$(AR) rcs $@ $^

# The NPU itself: the Verilated device of hw-model/hw-model.mk.
$(VM_SIM): $(VM_SIM_OBJS) $(VM_SIM_LIB) $(BUILD)/hw-model/libqnpu_hw.a
	$(CC) $(CFLAGS_COMMON) -o $@ $(VM_SIM_OBJS) $(VM_SIM_LIB) \
		$(BUILD)/hw-model/libqnpu_hw.a -lfdt -lstdc++ -lpthread -lm

# Host-side unit test of the server: protocol order, doorbells, irqs,
# reconnect, guest-physical address rules. Both host tests play QEMU with
# tests/vm/qnpu_fake_qemu.c.
VM_FAKE_QEMU := tests/vm/qnpu_fake_qemu.c tests/vm/qnpu_fake_qemu.h
$(VM_SIM_DIR)/test_qnpu_ivshmem: tests/vm/test_qnpu_ivshmem.c $(VM_FAKE_QEMU) \
		$(VM_SIM_LIB) $(VM_SIM_HDRS)
	$(CC) $(CFLAGS_COMMON) -Ihw-model/sim -o $@ $< \
		tests/vm/qnpu_fake_qemu.c $(VM_SIM_LIB) -lcmocka -lpthread

# Host-side test of the device's interrupt message aggregation: the real
# device model behind the real server, the test as QEMU and guest.
$(VM_SIM_DIR)/test_qnpu_sim_irq: tests/vm/test_qnpu_sim_irq.c $(VM_FAKE_QEMU) \
		$(VM_SIM_DIR)/qnpu_sim_device.o $(VM_SIM_DIR)/qnpu_sim_fault.o \
		$(VM_SIM_LIB) $(BUILD)/hw-model/libqnpu_hw.a $(VM_SIM_HDRS)
	$(CC) $(CFLAGS_COMMON) -Ihw-model/sim -Ihw-model/gen -o $@ $< \
		tests/vm/qnpu_fake_qemu.c $(VM_SIM_DIR)/qnpu_sim_device.o \
		$(VM_SIM_DIR)/qnpu_sim_fault.o $(VM_SIM_LIB) \
		$(BUILD)/hw-model/libqnpu_hw.a -lfdt -lcmocka -lstdc++ \
		-lpthread -lm

# The image.
$(VM_DIR)/vmlinux: $(VM_BZIMAGE) scripts/vm/extract-vmlinux.sh
	@mkdir -p $(@D)
	scripts/vm/extract-vmlinux.sh $< $@

$(VM_TT): tests/vm/qnpu_transport_test.c $(VM_SIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(VM_GUEST_CFLAGS) -o $@ $<

# Rebuild the initramfs when its inputs change, not only their contents.
# Recursive, so fragments included after this one are seen in the recipe.
VM_IMAGE_TESTS = $(sort $(VM_TESTS_ALL) $(VM_GUEST_TESTS))
VM_IMAGE_CFG = $(VM_KVER) $(VM_MODULES) | $(VM_EXTRA_KO) | \
	$(VM_IMAGE_TESTS) | $(VM_GUEST_FILES)
$(VM_DIR)/image.cfg: vm-force
	@mkdir -p $(@D)
	@echo '$(VM_IMAGE_CFG)' | cmp -s - $@ || \
		echo '$(VM_IMAGE_CFG)' >$@

$(VM_DIR)/initramfs.cpio: scripts/vm/mkinitramfs.sh scripts/vm/init \
		$(VM_DIR)/image.cfg $(VM_TESTS_ALL) $(VM_EXTRA_KO) \
		$(foreach f,$(VM_GUEST_FILES),$(firstword $(subst :, ,$(f))))
	scripts/vm/mkinitramfs.sh -k $(VM_KVER) -o $@ -m '$(VM_MODULES)' \
		$(foreach k,$(VM_EXTRA_KO),-x $(k)) \
		$(foreach t,$(VM_IMAGE_TESTS),-t $(t)) \
		$(foreach f,$(VM_GUEST_FILES),-f $(f))
