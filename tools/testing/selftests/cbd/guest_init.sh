#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /init of the CBD test VM (built into the initramfs by vm.sh).  Mounts the
# usual file systems, loads drivers, turns the emulated memory into a
# DAX-capable /dev/pmem0 (and /dev/pmem1 for PMEM2_SIZE), runs the tests
# listed in /cbd/run.conf and reports KTAP on ttyS1, then powers off.
#
# ttyS0 (the console) gets everything; ttyS1 gets only the KTAP report and
# the final "CBD-VM: done ..." line that vm.sh reads.

export PATH=/usr/sbin:/usr/bin HOME=/root TERM=linux
cd /

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t configfs configfs /sys/kernel/config 2>/dev/null
# shellcheck source=/dev/null
. /cbd/run.conf
hostname "cbd-vm$VM_GUEST_ID"
# Which guest this is when several share the memory (vm.sh --guests),
# how many there are, this guest's test list, and the directory shared by
# all guests over 9p for markers (cbd_mh_lib.sh).
export CBD_GUEST_ID=$VM_GUEST_ID CBD_GUESTS=${VM_GUESTS:-1} CBD_VM_TESTS=$VM_TESTS
if [ "${VM_SHARED:-0}" = 1 ]; then
	mkdir -p /cbd-shared
	if modprobe -a 9pnet_virtio 9p &&
	   mount -t 9p -o trans=virtio,version=9p2000.L,cache=none cbdshare /cbd-shared; then
		export CBD_SHARED=/cbd-shared
	else
		echo "cbd-vm: cannot mount the shared 9p directory"
	fi
fi
. /cbd/cbd_lib.sh

stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3>/dev/ttyS1

# report LINE: KTAP to both the results channel and the console
report() {
	echo "$*" >&3
	echo "$*"
}

vm_poweroff() {
	sync
	poweroff -f
	sleep 5
	echo o > /proc/sysrq-trigger
	sleep 60
}

# cbd_wait_for is from cbd_lib.sh; log what we wait for.
wait_or_say() {
	local secs=$1 what=$2
	shift 2
	cbd_wait_for "$secs" "$@" && return 0
	echo "cbd-vm: timed out after ${secs}s waiting for $what"
	return 1
}

# The DAX-capable pmem block device ("pmemN") of nd region $1: an fsdax
# namespace (pfn device), or a raw namespace that already has struct pages
# (legacy e820 memory from memmap=).
region_dax_blockdev() {
	local d b n=${1#region}
	for d in /sys/bus/nd/devices/pfn"$n".* /sys/bus/nd/devices/namespace"$n".*; do
		[ -d "$d/block" ] || continue
		b=$(ls "$d/block")
		[ "$(cat "/sys/block/$b/queue/dax" 2>/dev/null)" = 1 ] || continue
		echo "$b"
		return 0
	done
	return 1
}

# Make nd region $1 DAX-capable: one fsdax namespace with its memmap in RAM
# (-M mem).  A namespace that is already fsdax (restart on the same memory
# with labels or an info block) is kept.
region_to_fsdax() {
	local r=$1 dev
	dev=$(region_dax_blockdev "$r") && { echo "cbd-vm: $r: using existing $dev"; return 0; }
	local ns=namespace${r#region}.0
	if [ -e "/sys/bus/nd/devices/$ns" ] &&
	   [ "$(cat "/sys/bus/nd/devices/$ns/size" 2>/dev/null)" != 0 ]; then
		# label-less region (nvdimm without labels): reconfigure
		ndctl create-namespace -f -e "$ns" -m fsdax -M mem >/dev/null || return 1
	else
		ndctl create-namespace -r "$r" -m fsdax -M mem >/dev/null || return 1
	fi
	wait_or_say 30 "DAX block device in $r" region_dax_blockdev "$r" >/dev/null
}

nd_regions() {
	local r
	for r in /sys/bus/nd/devices/region*; do
		[ -e "$r" ] && basename "$r"
	done | sort -V
}

# wait until there are at least $1 nd regions
have_regions() {
	[ "$(nd_regions | wc -l)" -ge "$1" ]
}

# CXL memdev with serial $1
cxl_memdev_by_serial() {
	local m
	for m in /sys/bus/cxl/devices/mem*; do
		[ "$(cat "$m/serial" 2>/dev/null)" = "$(printf '0x%x' "$1")" ] ||
			[ "$(cat "$m/serial" 2>/dev/null)" = "$1" ] || continue
		[ -e "$m/driver" ] || continue
		basename "$m"
		return 0
	done
	return 1
}

# The cxl region under root decoder $1, if any.
cxl_region_of() {
	cxl list -R -d "$1" 2>/dev/null | grep -o '"region":"region[0-9]*"' | head -1 | cut -d'"' -f4
}

setup_cxl() {
	local i n=1 mem before r ep
	[ "$VM_PMEM2" = 1 ] && n=2
	modprobe -a cxl_acpi cxl_pci cxl_mem cxl_pmem nd_pmem dax_pmem || return 1
	for i in $(seq 1 "$n"); do
		wait_or_say 60 "cxl memdev with serial $i" cxl_memdev_by_serial "$i" >/dev/null || return 1
		mem=$(cxl_memdev_by_serial "$i")
		before=$(nd_regions | wc -l)
		# Each memdev sits behind its own host bridge and CFMWS window.
		if [ -z "$(cxl_region_of "decoder0.$((i - 1))")" ]; then
			cxl create-region -m -d "decoder0.$((i - 1))" -w 1 -t pmem "$mem" >/dev/null 2>&1 || return 1
		fi
		wait_or_say 60 "nd region for $mem" have_regions $((before + 1)) || return 1
		r=$(nd_regions | tail -1)
		region_to_fsdax "$r" || return 1
	done
}

setup_nvdimm() {
	local n=1 r
	[ "$VM_PMEM2" = 1 ] && n=2
	modprobe -a nfit nd_pmem dax_pmem || return 1
	wait_or_say 60 "$n nvdimm region(s)" have_regions "$n" || return 1
	for r in $(nd_regions); do
		region_to_fsdax "$r" || return 1
	done
}

setup_memmap() {
	modprobe -a nd_e820 nd_pmem dax_pmem || return 1
	wait_or_say 60 "e820 pmem region" have_regions 1 || return 1
	region_to_fsdax "$(nd_regions | head -1)"
}

setup_pmem() {
	local t0=$SECONDS rc=0
	"setup_$VM_PMEM" || rc=1
	if [ "$rc" = 0 ] && wait_or_say 30 /dev/pmem0 test -b /dev/pmem0; then
		echo "cbd-vm: pmem ($VM_PMEM) ready in $((SECONDS - t0))s:"
		grep -H . /sys/block/pmem*/size /sys/block/pmem*/queue/dax 2>/dev/null | sed 's/^/cbd-vm:   /'
	else
		echo "cbd-vm: pmem ($VM_PMEM) setup FAILED"
		ndctl list -RNu 2>&1 | head -40
		cxl list -RMDu 2>&1 | head -40
		return 1
	fi
}

# -------------------------------------------------------------------- main

echo "cbd-vm: init: $(uname -r), pmem=$VM_PMEM, tests: ${VM_TESTS:-none}"
modprobe -a virtio_blk
cbd_wait_for 10 test -b /dev/vda || echo "cbd-vm: no /dev/vda"
setup_pmem
PMEM_OK=$?

if [ "$VM_SHELL" = 1 ]; then
	echo "cbd-vm: tests are in /cbd; 'poweroff -f' to quit"
	cd /cbd
	setsid cttyhack bash -l
	vm_poweroff
fi

# The KTAP report goes to the console and to ttyS1 for vm.sh.
# shellcheck disable=SC2086
TEST_TIMEOUT=$VM_TEST_TIMEOUT /cbd/run_tests.sh $VM_TESTS |
	while IFS= read -r line; do report "$line"; done
nfail=$((PIPESTATUS[0] != 0))

# Whole-boot kernel log and taint check (the host checks the console too).
klog=clean
if dmesg | grep -E "$CBD_BAD_KLOG" > /tmp/badklog; then
	klog=bad
	report "# kernel log has warnings/oopses:"
	head -20 /tmp/badklog | while IFS= read -r line; do report "#   $line"; done
fi
report "CBD-VM: done failed=$nfail taint=$(cat /proc/sys/kernel/tainted) klog=$klog pmem=$([ "$PMEM_OK" = 0 ] && echo ok || echo failed)"
vm_poweroff
