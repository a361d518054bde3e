#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the CBD selftests: KTAP output (same names as the
# kernel's tools/testing/selftests/kselftest/ktap_helpers.sh) and CBD
# helpers (module, pmem, transport).  Works in the QEMU guest and on a real
# machine with a pmem/CXL device (run the tests as root).
#
# Environment understood by the helpers:
#   CBD_PMEM   pmem device for the transport (default /dev/pmem0)
#   CBD_DISK   backing disk for backends (default /dev/vda)
#   CBD_DISK2  a second disk, optional (default /dev/vdb)
#   CBD_CXL_LOOP  auto (default): on QEMU-emulated CXL, back the backends
#              with loop devices over CBD_DISK/CBD_DISK2 (cbd_setup_disks);
#              0: never; 1: always (also on nvdimm, to test the helper)
#   CBD_KO     module file to insmod (default: cbd.ko at the top of the
#              source tree if it exists, else "modprobe cbd")

KSFT_PASS=0
KSFT_FAIL=1
KSFT_XFAIL=2
KSFT_XPASS=3
KSFT_SKIP=4

# Kernel log lines that mean something went wrong.  On the debug kernel
# (debug_kernel.sh) lockdep, KASAN, might_sleep, workqueue and hung-task
# reports start with "WARNING:", "BUG:" or "INFO: task ... blocked for more
# than"; debugobjects and lockdep self-disabling are named explicitly.
CBD_BAD_KLOG='WARNING:|\bBUG\b|Oops|possible circular locking|possible recursive locking|KASAN|UBSAN|general protection|Call Trace|Kernel panic|kernel BUG|blocked for more than|soft lockup|hard LOCKUP|self-detected stall|detected stalls|kmemleak|list_add corruption|list_del corruption|ODEBUG:|non-static key|turning off the locking correctness validator'
# Taint bits a test run may leave: O (out-of-tree module) + E (unsigned).
CBD_TAINT_ALLOWED=12288

CBD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CBD_PMEM=${CBD_PMEM:-/dev/pmem0}
CBD_DISK=${CBD_DISK:-/dev/vda}
CBD_DISK2=${CBD_DISK2:-/dev/vdb}
CBD_BUS=/sys/bus/cbd

KTAP_TESTNO=1
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0

# ---------------------------------------------------------------- KTAP

ktap_print_header() {
	echo "TAP version 13"
	cbd_dmesg_mark
}

ktap_set_plan() {
	echo "1..$1"
}

ktap_print_msg() {
	echo "# $*"
}

ktap_skip_all() {
	echo "1..0 # SKIP $*"
}

ktap_test_pass() {
	echo "ok $KTAP_TESTNO $*"
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
}

ktap_test_skip() {
	echo "ok $KTAP_TESTNO $* # SKIP"
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
}

ktap_test_fail() {
	echo "not ok $KTAP_TESTNO $*"
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
}

# ktap_test_result DESC CMD...: run CMD, pass if it succeeds.
ktap_test_result() {
	local desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_test_fail "$desc"
	fi
}

ktap_print_totals() {
	echo "# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
}

# Check the kernel log and taint once more, print totals and exit with the
# kselftest code: fail if anything failed, skip if everything was skipped.
ktap_finished() {
	cbd_kernel_healthy_since_mark
	ktap_print_totals
	ktap_exit
}

# Exit with the kselftest code for the results so far.
ktap_exit() {
	if [ "$KTAP_CNT_FAIL" -gt 0 ]; then
		exit "$KSFT_FAIL"
	elif [ "$KTAP_CNT_PASS" -eq 0 ] && [ "$KTAP_CNT_SKIP" -gt 0 ]; then
		exit "$KSFT_SKIP"
	fi
	exit "$KSFT_PASS"
}

# Skip the whole test (no plan printed yet).
ktap_exit_skip() {
	ktap_skip_all "$*"
	exit "$KSFT_SKIP"
}

# Fail the whole test early.
ktap_exit_fail_msg() {
	ktap_print_msg "$*"
	ktap_test_fail "$*"
	ktap_print_totals
	exit "$KSFT_FAIL"
}

# ---------------------------------------------------------------- generic

cbd_require_root() {
	[ "$(id -u)" -eq 0 ] || ktap_exit_skip "must run as root"
}

# cbd_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
cbd_wait_for() {
	local limit=$(( $1 * 10 )) i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || return 1
		sleep 0.1
	done
}

# cbd_write FILE STRING: write STRING (one write(2)) to a sysfs file.
# Returns non-zero and prints the error if the write fails.
cbd_write() {
	local f=$1 s=$2 err
	if ! err=$( { printf '%s' "$s" > "$f"; } 2>&1 ); then
		ktap_print_msg "write '$s' > $f: ${err##*: }"
		return 1
	fi
}

# cbd_write_fails FILE STRING: true if FILE exists and writing STRING to it
# fails (an expected rejection).
cbd_write_fails() {
	[ -e "$1" ] || { ktap_print_msg "$1 does not exist"; return 1; }
	if { printf '%s' "$2" > "$1"; } 2>/dev/null; then
		ktap_print_msg "write '$2' > $1 unexpectedly succeeded"
		return 1
	fi
}

# ---------------------------------------------------------------- kernel

cbd_taint() {
	cat /proc/sys/kernel/tainted
}

# True if the kernel taint has no bits beyond O+E.
cbd_taint_ok() {
	local t
	t=$(cbd_taint)
	(( (t & ~CBD_TAINT_ALLOWED) == 0 )) && return 0
	ktap_print_msg "kernel taint $t has bits beyond O+E ($CBD_TAINT_ALLOWED)"
	return 1
}

# Mark the kernel log so that cbd_dmesg_since_mark sees only what follows.
CBD_DMESG_MARK=
cbd_dmesg_mark() {
	CBD_DMESG_MARK="cbd-selftest: start $(basename "$0") $$ $RANDOM"
	echo "$CBD_DMESG_MARK" > /dev/kmsg 2>/dev/null || CBD_DMESG_MARK=
}

cbd_dmesg_since_mark() {
	if [ -n "$CBD_DMESG_MARK" ]; then
		dmesg | awk -v m="$CBD_DMESG_MARK" 'index($0, m) {p = 1; next} p'
	else
		dmesg
	fi
}

# Report (as a KTAP result) whether the kernel log since the mark is free
# of warnings/oopses and the taint is acceptable.
cbd_kernel_healthy_since_mark() {
	local bad
	bad=$(cbd_dmesg_since_mark | grep -E "$CBD_BAD_KLOG")
	if [ -n "$bad" ]; then
		ktap_print_msg "kernel log:"
		printf '%s\n' "$bad" | head -20 | sed 's/^/#   /'
		ktap_test_fail "kernel log clean"
	else
		ktap_test_pass "kernel log clean"
	fi
	ktap_test_result "kernel taint only O+E" cbd_taint_ok
}

# ---------------------------------------------------------------- module

cbd_ko() {
	if [ -n "${CBD_KO:-}" ]; then
		echo "$CBD_KO"
	elif [ -f "$CBD_LIB_DIR/../../../../cbd.ko" ]; then
		readlink -f "$CBD_LIB_DIR/../../../../cbd.ko"
	fi
}

cbd_module_loaded() {
	[ -d /sys/module/cbd ]
}

# Load the module (insmod $CBD_KO with its dependencies, or modprobe cbd).
cbd_module_load() {
	local ko dep err
	cbd_module_loaded && return 0
	ko=$(cbd_ko)
	if [ -n "$ko" ]; then
		for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
			modprobe "$dep" || return 1
		done
		err=$(insmod "$ko" 2>&1) || { ktap_print_msg "insmod $ko: $err"; return 1; }
	else
		err=$(modprobe cbd 2>&1) || { ktap_print_msg "modprobe cbd: $err"; return 1; }
	fi
	cbd_module_loaded
}

cbd_module_unload() {
	local err
	cbd_module_loaded || return 0
	err=$(rmmod cbd 2>&1) || { ktap_print_msg "rmmod cbd: $err"; return 1; }
	! cbd_module_loaded
}

# ---------------------------------------------------------------- pmem

# True if the block device $1 (default $CBD_PMEM) supports DAX.
cbd_pmem_is_dax() {
	local dev=${1:-$CBD_PMEM} name
	name=$(basename "$dev")
	[ -b "$dev" ] && [ "$(cat "/sys/block/$name/queue/dax" 2>/dev/null)" = 1 ]
}

# Size of block device $1 in MiB.
cbd_dev_mib() {
	echo $(( $(blockdev --getsize64 "$1") / 1024 / 1024 ))
}

# Skip the test unless a DAX-capable pmem device is there.
cbd_require_pmem() {
	cbd_pmem_is_dax "$CBD_PMEM" ||
		ktap_exit_skip "no DAX-capable pmem at $CBD_PMEM (set CBD_PMEM=)"
}

cbd_require_disk() {
	[ -b "$CBD_DISK" ] || ktap_exit_skip "no backing disk $CBD_DISK (set CBD_DISK=)"
}

# ---------------------------------------------------------------- disks

# QEMU (7.2, and 10 with x-max-bounce-buffer-size) cannot DMA between a
# virtio disk and emulated CXL type-3 memory: that memory is MMIO to QEMU,
# every request touching it needs the bounce buffer, and the backend's
# zero-copy bios on the channel pages never complete ("virtio: bogus
# descriptor or out of resources" in QEMU's log).  Real CXL memory and
# emulated NVDIMMs are plain RAM to DMA.  So on emulated CXL the backends
# run on a loop device with buffered I/O over each virtio disk: loop copies
# with the CPU into the page cache of /dev/vdX, which then does ordinary DMA
# from RAM.  Data still lands on /dev/vdX, and a flush on the loop device
# becomes an fsync of /dev/vdX, i.e. a flush request on the virtio disk.
#
# cbd_setup_disks sets CBD_DISK/CBD_DISK2 to the loop devices (once per
# test) and CBD_DISK_LOWER/CBD_DISK2_LOWER to the disks under them (equal
# to CBD_DISK/CBD_DISK2 when no loop is used); cbd_release_disks detaches
# the loops again.
CBD_DISK_LOWER=$CBD_DISK
CBD_DISK2_LOWER=$CBD_DISK2
CBD_LOOPS=
CBD_DISKS_DECIDED=0

# True if CBD_PMEM is CXL memory emulated by QEMU.
cbd_pmem_on_emulated_cxl() {
	[ "$(cat /sys/class/dmi/id/sys_vendor 2>/dev/null)" = QEMU ] || return 1
	case "$(readlink -f "/sys/block/$(basename "$CBD_PMEM")")" in
	*/cxl*|*ACPI0017*) return 0 ;;
	esac
	return 1
}

# Loop devices attached to block device $1.
cbd_loops_over() {
	losetup -n -O NAME -j "$1" 2>/dev/null
}

# cbd_setup_disks: decide CBD_DISK/CBD_DISK2 (see above).  Returns
# non-zero, with a message, if a loop device cannot be set up.
cbd_setup_disks() {
	local var dev loop l
	[ "$CBD_DISKS_DECIDED" = 1 ] && return 0
	CBD_DISKS_DECIDED=1
	case "${CBD_CXL_LOOP:-auto}" in
	0) return 0 ;;
	1) ;;
	*) cbd_pmem_on_emulated_cxl || return 0 ;;
	esac
	modprobe -q loop 2>/dev/null
	for var in CBD_DISK CBD_DISK2; do
		dev=${!var}
		[ -b "$dev" ] || continue
		# loops left over by a test that was killed
		for l in $(cbd_loops_over "$dev"); do
			losetup -d "$l" 2>/dev/null
		done
		if ! loop=$(losetup --direct-io=off -f --show "$dev" 2>&1); then
			ktap_print_msg "losetup --direct-io=off -f --show $dev: $loop"
			return 1
		fi
		CBD_LOOPS="$CBD_LOOPS $loop"
		printf -v "${var}_LOWER" '%s' "$dev"
		printf -v "$var" '%s' "$loop"
		ktap_print_msg "emulated CXL: backend on $loop over $dev (QEMU cannot DMA into emulated CXL memory)"
	done
}

# cbd_release_disks: detach the loop devices of cbd_setup_disks (call it
# after the backends are stopped).  Returns non-zero if one is still bound.
cbd_release_disks() {
	local l rc=0
	for l in $CBD_LOOPS; do
		losetup -d "$l" 2>/dev/null
		cbd_wait_for 5 test ! -e "/sys/block/${l#/dev/}/loop/backing_file" || {
			ktap_print_msg "$l is still bound to $(cat "/sys/block/${l#/dev/}/loop/backing_file" 2>/dev/null)"
			rc=1
		}
	done
	[ "$rc" = 0 ] || return 1
	CBD_LOOPS=
	CBD_DISK=$CBD_DISK_LOWER CBD_DISK2=$CBD_DISK2_LOWER CBD_DISKS_DECIDED=0
}

# ---------------------------------------------------------------- transport

cbd_have_bus() {
	[ -d "$CBD_BUS" ] && [ -e "$CBD_BUS/transport_register" ]
}

cbd_transport_dir() {
	echo "$CBD_BUS/devices/transport${1:-0}"
}

# cbd_transport_register [OPTIONS]: default options register $CBD_PMEM,
# formatting it, as host "node-1".
cbd_transport_register() {
	cbd_write "$CBD_BUS/transport_register" \
		"${1:-path=$CBD_PMEM,hostname=node-1,format=1,force=1}"
}

cbd_transport_unregister() {
	cbd_write "$CBD_BUS/transport_unregister" "transport_id=${1:-0}"
}

# cbd_adm TRANSPORT_ID COMMAND: write an adm command.
cbd_adm() {
	cbd_write "$(cbd_transport_dir "$1")/adm" "$2"
}
