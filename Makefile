# SPDX-License-Identifier: GPL-2.0
#
# In a kernel tree, Kbuild (next to this file) is what kbuild reads.
# This Makefile is the out-of-tree wrapper and the developer entry point:
#
#   make                 build cbd.ko against $(KDIR)
#   make W=1 / C=1       extra warnings / sparse (passed through to kbuild)
#   make CRC=1 DEBUG=1   enable CONFIG_CBD_CRC / CONFIG_CBD_DEBUG (index checks)
#   make MULTIHOST=0     build without CONFIG_CBD_MULTIHOST (default: on)
#   make FAULT=0         build without CONFIG_CBD_FAULT_INJECTION (default:
#                        on out of tree, as the selftests need it)
#   make checkpatch      checkpatch.pl --strict over the sources
#   make setup           install build/test dependencies (idempotent)
#   make demo            set up, build, boot the demo VM
#   make test            set up, build, run the kselftests in QEMU
#   make test-multihost  the full multi-host suite (two guests, host kills
#                        included, then three guests; make test runs it
#                        without the kills, three guests on nvdimm only)
#   make bench           run the benchmark VM
#   make bench-cache     the cache benchmark VM (cbd cache, dm-writecache,
#                        bcache, raw pmem over dm-delay), then its
#                        sustained jobs (make bench-cache-sustain alone)
#   make intree-check    build as drivers/block/cbd in a linux-source tree
#   make debug-kernel    build a lockdep/KASAN guest kernel into
#                        $(CBD_DEBUG_CACHE) (~1 h; not part of make test)
#   make test-debug      run DEBUG_TESTS in QEMU on that kernel

ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

CBD_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cbd
CBD_DEBUG_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cbd-debug
KDIR ?= $(CBD_CACHE)/kdir
SELFTESTS := tools/testing/selftests/cbd

CRC ?= 0
DEBUG ?= 0
MULTIHOST ?= 1
# the selftests need the fault points (debugfs cbd/): on out of tree
FAULT ?= 1

CBD_KCFLAGS := $(if $(filter 1,$(MULTIHOST)),-DCONFIG_CBD_MULTIHOST=1) \
	       $(if $(filter 1,$(CRC)),-DCONFIG_CBD_CRC=1) \
	       $(if $(filter 1,$(DEBUG)),-DCONFIG_CBD_DEBUG=1) \
	       $(if $(filter 1,$(FAULT)),-DCONFIG_CBD_FAULT_INJECTION=1)
CBD_KCONFIG := CONFIG_BLK_DEV_CBD=m \
	       $(if $(filter 1,$(FAULT)),CONFIG_CBD_FAULT_INJECTION=y)

CBD_SRCS := $(filter-out %.mod.c,$(wildcard *.c *.h)) Kconfig Kbuild

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(CBD_KCONFIG) \
		KCFLAGS="$(strip $(KCFLAGS) $(CBD_KCFLAGS))" modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# --strict CHECKs are printed for review; any ERROR or WARNING fails.
checkpatch:
	@perl $(CBD_CACHE)/checkpatch/scripts/checkpatch.pl --strict --no-tree \
		--terse --show-types -f $(CBD_SRCS) > .checkpatch.log || true
	@grep -v '^total:' .checkpatch.log || true
	@! grep -qE ': (ERROR|WARNING):' .checkpatch.log
	@echo "checkpatch: 0 errors, 0 warnings, \
		$$(grep -c ': CHECK:' .checkpatch.log) checks"

setup:
	$(SELFTESTS)/setup.sh

demo: setup
	$(MAKE) modules
	$(SELFTESTS)/demo.sh

test: setup
	$(SELFTESTS)/run_vm_tests.sh

test-full: setup
	FULL=1 $(SELFTESTS)/run_vm_tests.sh

test-multihost: setup
	MULTI_ONLY=1 MULTI_QUICK=0 $(SELFTESTS)/run_vm_tests.sh

bench: setup
	$(MAKE) modules
	$(SELFTESTS)/bench.sh

bench-cache: setup
	$(MAKE) modules
	BENCH=cache $(SELFTESTS)/bench.sh
	BENCH=cache-sustain $(SELFTESTS)/bench.sh

bench-cache-sustain: setup
	$(MAKE) modules
	BENCH=cache-sustain $(SELFTESTS)/bench.sh

intree-check: setup
	$(SELFTESTS)/intree_check.sh

# The debug kernel (lockdep, KASAN, ...) is laid out like the setup cache:
# the same runner with CBD_CACHE pointing at it builds cbd.ko against it
# and boots it.  KASAN under TCG is slow: nvdimm only, longer timeouts.
DEBUG_TESTS ?= module_load.sh data_fio.sh data_fs.sh peer_failure.sh \
	       cycles.sh cache_overlap.sh cache_fio.sh poison.sh io_timeout.sh

debug-kernel: setup
	DEBUG_CACHE=$(CBD_DEBUG_CACHE) $(SELFTESTS)/debug_kernel.sh

test-debug: setup
	@test -f $(CBD_DEBUG_CACHE)/KVER || \
		{ echo "no kernel in $(CBD_DEBUG_CACHE): run 'make debug-kernel'"; exit 1; }
	CBD_CACHE=$(CBD_DEBUG_CACHE) PMEM=$${PMEM:-nvdimm} \
		TEST_TIMEOUT=$${TEST_TIMEOUT:-900} \
		MULTI_TEST_TIMEOUT=$${MULTI_TEST_TIMEOUT:-1800} \
		$(SELFTESTS)/run_vm_tests.sh $(DEBUG_TESTS)

.PHONY: all modules clean checkpatch setup demo test test-full test-multihost bench bench-cache \
	bench-cache-sustain \
	intree-check debug-kernel test-debug
endif
