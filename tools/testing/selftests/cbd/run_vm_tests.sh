#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build cbd.ko and run the CBD selftests in QEMU; this is "make test".
#
#   run_vm_tests.sh            default list (TEST_PROGS in the Makefile)
#   run_vm_tests.sh TEST...    the given tests
#
# Environment (besides everything vm.sh understands, e.g. PMEM=, PMEM_SIZE=,
# DISKS=, VERBOSE=1, KEEP=1):
#   PMEM_MODES="cxl nvdimm"   run the list once per memory type (default:
#                             "cxl nvdimm", or just $PMEM when PMEM= is set)
#   FULL=1                    the whole list and the multi-guest lists in
#                             every mode (make test-full); by default, with
#                             no tests named, cxl runs only CXL_TESTS and
#                             the multi-guest lists run on nvdimm only
#   FULL_EXTRA_TESTS="..."    added to the list with FULL=1 (default:
#                             clock_step.sh, which steps the guest's wall
#                             clock and so is not in the kselftest list)
#   CXL_TESTS="..."           the cxl list of the default run: the tests
#                             that cover what differs on cxl (region setup,
#                             the loop devices in front of the disks, the
#                             data path and the cache on CXL memory)
#   VM_PER_TEST=1             boot one VM per test instead of one per list
#   MULTI=0                   skip the multi-guest tests (MULTI_TESTS, run
#                             in two guests on the same memory; default on
#                             when no tests are named, for cxl and nvdimm)
#   MULTI_TESTS="..."         the multi-guest list (default: shared_mem.sh
#                             and the mh_*.sh multi-host tests; empty: no
#                             two-guest run); the guests get MULTI_SMP (1)
#                             CPUs and MULTI_MEM (1G), MULTI_TEST_TIMEOUT
#                             (600) per test
#   MULTI_MODES="..."         modes of the multi-guest runs (default:
#                             nvdimm, every mode with FULL=1 or
#                             MULTI_QUICK=0)
#   MULTI3_TESTS="..."        tests run in three guests on the same memory
#                             (default: mh_three.sh, unless MULTI_TESTS is
#                             given; empty: no three-guest run), in
#                             MULTI3_MODES (default: every mode; only
#                             nvdimm for the default quick list)
#   MULTI_QUICK=1             (default) the reduced multi-guest list, without
#                             the host-kill tests; 0: the full list
#   MULTI_ONLY=1              only the multi-guest tests (make test-multihost:
#                             MULTI_ONLY=1 MULTI_QUICK=0)
#   SKIP_BUILD=1              do not run "make modules" first
#   CRC_PASS=0                skip the CRC pass (default on when no tests
#                             are named, unless MULTI_ONLY=1): the module
#                             is also built with CONFIG_CBD_CRC and
#                             CONFIG_CBD_DEBUG (CRC=1 DEBUG=1, in a
#                             scratch copy; DEBUG checks the cache index
#                             at every insert) and
#                             CRC_TESTS run with it in CRC_MODES (nvdimm)
#
# Prints one KTAP result per test and ends with the line
# "N passed, N failed, N skipped"; a kernel problem (panic, hang, warning,
# bad taint) counts as one more failure.  Exit status 0 only if nothing
# failed.

set -euo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=vm.sh
. "$DIR/vm.sh"

# Defaults of the suite (vm.sh alone defaults to one 1G disk, no pmem1):
# two disks of different sizes (backend_lifecycle.sh's size-mismatch case,
# adm_bad_input.sh's mounted disk) and a small second pmem.  nvdimm runs
# the whole list, cxl the tests of what differs there: the whole list in
# both modes, with the multi-guest lists, is make test-full.
DISKS=${DISKS:-1G 512M}
PMEM2_SIZE=${PMEM2_SIZE-256M}
PMEM_MODES=${PMEM_MODES:-${PMEM:-cxl nvdimm}}

# The CRC build (with CONFIG_CBD_DEBUG's index checks too) goes to a
# scratch copy of the sources, so that cbd.ko in the tree stays the
# default build.
CRC_DIR=${OUT_DIR:-$DIR/out}/crc-build
build_crc() {
	rm -rf "$CRC_DIR"
	mkdir -p "$CRC_DIR"
	cp "$VM_REPO"/Kbuild "$VM_REPO"/Kconfig "$VM_REPO"/Makefile \
	   "$VM_REPO"/*.[ch] "$CRC_DIR"/
	make -s -C "$CRC_DIR" CRC=1 DEBUG=1 modules
}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
	vm_log "building cbd.ko, and with CRC=1 in $CRC_DIR"
	if ! make -s -C "$VM_REPO" modules || ! build_crc; then
		vm_log "error: the module does not build"
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
fi
# crc_mismatch.sh loads the other build as cbd_alt.ko
export CBD_ALT_KO=${CBD_ALT_KO:-$CRC_DIR/cbd.ko}

# Tests that run in two guests sharing the memory (vm.sh --guests); the
# whole list runs in both, guest 0 is host A and guest 1 host B.  Then the
# three-guest list, in guests 0, 1 and 2 (A, B, C).
MULTI_TESTS_FULL="shared_mem.sh mh_hosts.sh mh_io.sh mh_cache.sh mh_alloc_race.sh mh_blkdev_death.sh mh_host_death.sh mh_cache_death.sh mh_takeover.sh mh_clock_step.sh mh_limits.sh cache_powerloss.sh cache_wb_crash.sh"
MULTI_TESTS_QUICK="shared_mem.sh mh_hosts.sh mh_io.sh mh_cache.sh mh_alloc_race.sh mh_limits.sh"
MULTI3_TESTS_DEFAULT="mh_three.sh"
if [ -n "${MULTI3_TESTS+set}" ]; then
	:	# given: in every mode unless MULTI3_MODES says otherwise
elif [ -n "${MULTI_TESTS+set}" ]; then
	MULTI3_TESTS=	# a two-guest list given alone
else
	MULTI3_TESTS=$MULTI3_TESTS_DEFAULT
	# three guests take 2.5 min on nvdimm, more on cxl: nvdimm only
	# in make test
	[ "${MULTI_QUICK:-1}" != 1 ] || MULTI3_MODES=${MULTI3_MODES:-nvdimm}
fi
[ "${FULL:-0}" != 1 ] || MULTI_QUICK=${MULTI_QUICK:-0}
if [ "${MULTI_QUICK:-1}" = 1 ]; then
	MULTI_MODES=${MULTI_MODES:-nvdimm}
	MULTI_TESTS=${MULTI_TESTS-$MULTI_TESTS_QUICK}
else
	MULTI_TESTS=${MULTI_TESTS-$MULTI_TESTS_FULL}
fi

# mh_limits.sh needs the module built without CONFIG_CBD_MULTIHOST: build
# it from a copy of the sources (the tree's cbd.ko stays as it is).
build_nomh_ko() {
	local d=$OUT_DIR/.build-nomultihost
	mkdir -p "$d"
	rm -f "$d"/*.c "$d"/*.h
	cp "$VM_REPO"/cbd_*.c "$VM_REPO"/cbd_*.h "$VM_REPO"/Kbuild "$VM_REPO"/Kconfig "$VM_REPO"/Makefile "$d/"
	make -s -C "$d" MULTIHOST=0 modules >&2 && echo "$d/cbd.ko"
}
# CRC changes the entry layout: the tests run with CRC both off and on.
CRC_TESTS_FULL="crc_mismatch.sh data_fio.sh data_fs.sh flush.sh peer_failure.sh cache_overlap.sh cache_persist.sh cache_fio.sh"
CRC_TESTS_QUICK="crc_mismatch.sh data_fio.sh flush.sh cache_persist.sh"
if [ "${FULL:-0}" = 1 ]; then
	CRC_TESTS=${CRC_TESTS:-$CRC_TESTS_FULL}
else
	CRC_TESTS=${CRC_TESTS:-$CRC_TESTS_QUICK}
fi
CRC_MODES=${CRC_MODES:-nvdimm}
CXL_TESTS=${CXL_TESTS:-module_load.sh pmem_dax.sh transport_register.sh data_fio.sh flush.sh cache_persist.sh pmem_remove.sh}
if [ $# -gt 0 ]; then
	TESTS=("$@")
	CXL_TESTS=("$@")
	MULTI=${MULTI:-0}
	CRC_PASS=${CRC_PASS:-0}
else
	read -r -a TESTS <<<"$("$DIR/run_tests.sh" --list)"
	if [ "${FULL:-0}" = 1 ]; then
		read -r -a extra <<<"${FULL_EXTRA_TESTS-clock_step.sh}"
		TESTS+=("${extra[@]}")
		CXL_TESTS=("${TESTS[@]}")
	else
		read -r -a CXL_TESTS <<<"$CXL_TESTS"
	fi
	MULTI=${MULTI:-1}
	# MULTI_ONLY (make test-multihost) runs the multi-guest tests only
	if [ "${MULTI_ONLY:-0}" = 1 ]; then
		CRC_PASS=${CRC_PASS:-0}
	fi
	CRC_PASS=${CRC_PASS:-1}
fi
[ ${#TESTS[@]} -gt 0 ] || vm_die "no tests"
[ "${MULTI_ONLY:-0}" != 1 ] || MULTI=1

total_pass=0 total_fail=0 total_skip=0
failed_runs=()
t_start=$(date +%s)

# run_group NAME TEST...: one VM, add up the results.
# run_group --guests N NAME TEST...: each test in N guests on shared memory.
run_group() {
	local guests=0 rc=0 lists=() g
	[ "$1" != --guests ] || { guests=$2; shift 2; }
	local name=$1
	shift
	if [ "$guests" -gt 0 ]; then
		for ((g = 0; g < guests; g++)); do
			lists+=("$*")
		done
		SMP=${MULTI_SMP:-1} MEM=${MULTI_MEM:-1G} MEM_MB=$(vm_mib "${MULTI_MEM:-1G}") \
		TEST_TIMEOUT=${MULTI_TEST_TIMEOUT:-600} vm_run_guests "${lists[@]}" || rc=1
	else
		VM_NAME=$name vm_run "$@" || rc=1
	fi
	total_pass=$((total_pass + VM_PASS))
	total_fail=$((total_fail + VM_FAIL))
	total_skip=$((total_skip + VM_SKIP))
	if [ -n "$VM_HEALTH" ]; then
		total_fail=$((total_fail + 1))
		echo "not ok - $PMEM kernel health ($name): $VM_HEALTH"
	fi
	[ "$rc" = 0 ] || failed_runs+=("$PMEM/$name: $VM_RUN_DIR")
}

vm_quiet_lock -s
PMEM2_WANTED=$PMEM2_SIZE
if [ "$MULTI" = 1 ] && [[ " $MULTI_TESTS " == *" mh_limits.sh "* ]] && [ -z "${CBD_KO_NOMH:-}" ]; then
	vm_defaults
	vm_log "building cbd.ko without CONFIG_CBD_MULTIHOST (for mh_limits.sh)"
	CBD_KO_NOMH=$(build_nomh_ko) || { vm_log "warning: MULTIHOST=0 build failed, mh_limits.sh will skip"; CBD_KO_NOMH=; }
fi
export CBD_KO_NOMH
for mode in $PMEM_MODES; do
	PMEM=$mode
	PMEM2_SIZE=$PMEM2_WANTED
	[ "$mode" != memmap ] || PMEM2_SIZE=	# memmap has no second device
	vm_defaults
	if [ "${MULTI_ONLY:-0}" = 1 ]; then
		:
	elif [ "${VM_PER_TEST:-0}" = 1 ]; then
		for t in "${TESTS[@]}"; do
			run_group "$(basename "$t" .sh)" "$t"
		done
	elif [ "$mode" = cxl ]; then
		run_group suite "${CXL_TESTS[@]}"
	else
		run_group suite "${TESTS[@]}"
	fi
	if [ "$MULTI" = 1 ] && [ "$mode" != memmap ] &&
	   [[ " ${MULTI_MODES:-$mode} " == *" $mode "* ]]; then
		[ -z "$MULTI_TESTS" ] || run_group --guests 2 multi $MULTI_TESTS
		[ -z "$MULTI3_TESTS" ] || [[ " ${MULTI3_MODES:-$mode} " != *" $mode "* ]] ||
			run_group --guests 3 multi3 $MULTI3_TESTS
	fi
done

if [ "$CRC_PASS" = 1 ] && [ -f "$CRC_DIR/cbd.ko" ]; then
	for mode in $CRC_MODES; do
		PMEM=$mode
		PMEM2_SIZE=$PMEM2_WANTED
		vm_defaults
		# shellcheck disable=SC2086
		CBD_KO=$CRC_DIR/cbd.ko CBD_ALT_KO=$VM_REPO/cbd.ko \
			run_group crc $CRC_TESTS
	done
fi

echo
vm_log "suite time: $(( $(date +%s) - t_start ))s"
if [ ${#failed_runs[@]} -gt 0 ]; then
	vm_log "failed runs (serial logs kept):"
	for r in "${failed_runs[@]}"; do
		vm_log "  $r/console.log"
	done
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
