# The VM runs of issue 10 (docs/testing.md, docs/vm.md): device faults
# injected by qnpu-sim, and the uAPI fuzzer. Included by the top-level
# Makefile after driver/driver.mk, whose program rule and one-program
# image rule it reuses.
#
#   make vm-check-faults   every fault kind, one VM run each
#   make fuzz-uapi         the fuzzer, FUZZ_TIME seconds (default 60),
#                          FUZZ_SEED (default: from the clock, printed)

$(eval $(call DRV_UAPI_RULE,65-fault,fault))
$(eval $(call DRV_UAPI_RULE,66-fuzz,fuzz))
$(eval $(call DRV_VM_ONE_RULE,fault,65-fault))
$(eval $(call DRV_VM_ONE_RULE,fuzz,66-fuzz))

# Job-counted faults (qnpu-sim --fault=KIND@N): the Nth job the device
# starts is hit, after FAULT_N - 1 good ones. "die" kills qnpu-sim in the
# middle of a job; it runs the device-lost program (image vm-lost).
FAULT_N       ?= 3
FAULT_KINDS   := dma irq stuck cqe cqe-id cq-tail
FAULT_LOST_N  ?= 10
# In make check: every kind; each must recover as docs/uapi.md says.
FAULT_CHECK_KINDS ?= $(FAULT_KINDS)

.PHONY: vm-check-faults fuzz-uapi
vm-check-faults: $(VM_SIM) $(BUILD)/vm-fault/initramfs.cpio \
		$(BUILD)/vm-lost/initramfs.cpio
	@rc=0; for k in $(FAULT_KINDS); do \
		echo "=== fault $$k@$(FAULT_N)"; \
		$(call DRV_VM_ONE,fault) --fault $$k@$(FAULT_N) || rc=1; \
	done; \
	echo "=== fault die@$(FAULT_LOST_N)"; \
	$(call DRV_VM_ONE,lost) --fault die@$(FAULT_LOST_N) || rc=1; \
	exit $$rc

# FUZZ_TIME's global default (300) is the libFuzzer target's.
FUZZ_UAPI_TIME = $(if $(filter command line environment,$(origin \
	FUZZ_TIME)),$(FUZZ_TIME),60)
fuzz-uapi: $(VM_SIM) $(BUILD)/vm-fuzz/initramfs.cpio
	@$(call DRV_VM_ONE,fuzz) --fuzz $(FUZZ_UAPI_TIME) \
		$(or $(FUZZ_SEED),$$(date +%s))

# make check: a 60 s fuzz run with a fixed seed, and the fault runs.
FUZZ_CHECK_SEED ?= 1
ifneq ($(and $(VM_HAVE),$(DRV_HAVE)),)
CHECK_DEPS += $(BUILD)/vm-fault/initramfs.cpio $(BUILD)/vm-fuzz/initramfs.cpio
CHECK_TESTS += $(foreach k,$(FAULT_CHECK_KINDS),\
	"$(call DRV_VM_ONE,fault) --fault $(k)@$(FAULT_N)") \
	"$(call DRV_VM_ONE,lost) --fault die@$(FAULT_LOST_N)" \
	"$(call DRV_VM_ONE,fuzz) --fuzz 60 $(FUZZ_CHECK_SEED)"
endif
