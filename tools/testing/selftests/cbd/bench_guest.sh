#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark inside the VM (or on a real machine, as root): fio on the raw
# pmem ($CBD_PMEM), on the backing disk ($CBD_DISK) and, when the driver
# has the data path, on /dev/cbd0 (backend on $CBD_DISK with a 512 MiB pmem
# cache, or without one while the driver has no cache).  On QEMU-emulated
# CXL the backend sits on a buffered loop device over the disk
# (cbd_setup_disks), which is benchmarked too.  Under QEMU/TCG the numbers
# only compare the paths with each other; they say nothing about real
# hardware.
#
# BENCH_RUNTIME=5 (seconds per job).

. "$(dirname "$0")/cbd_lib.sh"

RUNTIME=${BENCH_RUNTIME:-5}
STARTED=0

# job TARGET NAME FIO-ARGS...: print one result row.
job() {
	local dev=$1 name=$2 out r
	shift 2
	out=$(fio --minimal --name="$name" --filename="$dev" --direct=1 \
		--ioengine=psync --runtime="$RUNTIME" --time_based --size=256M "$@" 2>&1) ||
		{ printf '%-12s %-14s fio failed: %s\n' "$dev" "$name" "$(tail -1 <<<"$out")"; return 1; }
	# terse v3: 8 = read IOPS, 7 = read KiB/s, 49 = write IOPS, 48 = write KiB/s
	r=$(tail -1 <<<"$out" | awk -F';' '{printf "%10d %10.1f %10d %10.1f", $8, $7/1024, $49, $48/1024}')
	printf '%-12s %-14s %s\n' "$dev" "$name" "$r"
}

bench_dev() {
	job "$1" 4k-randread --rw=randread --bs=4k
	job "$1" 4k-randwrite --rw=randwrite --bs=4k
	job "$1" 1m-seqwrite --rw=write --bs=1M
}

cleanup() {
	[ "$STARTED" -lt 3 ] || cbd_adm 0 "op=dev-stop,dev_id=0"
	[ "$STARTED" -lt 2 ] || cbd_adm 0 "op=backend-stop,backend_id=0"
	[ "$STARTED" -lt 1 ] || cbd_transport_unregister 0
	cbd_module_unload
	cbd_release_disks
}

# Set up /dev/cbd0; says why not if the driver cannot do it yet.
setup_cbd0() {
	cbd_module_load || return 1
	cbd_have_bus || { echo "# /dev/cbd0: no bus yet"; return 1; }
	cbd_transport_register || return 1
	STARTED=1
	[ -e "$(cbd_transport_dir 0)/adm" ] || { echo "# /dev/cbd0: no adm yet"; return 1; }
	if ! cbd_adm 0 "op=backend-start,path=$CBD_DISK,cache_size=512"; then
		echo "# /dev/cbd0: no 512 MiB cache (not there yet?), backend without cache"
		cbd_adm 0 "op=backend-start,path=$CBD_DISK" || return 1
	fi
	STARTED=2
	cbd_adm 0 "op=dev-start,backend_id=0,queues=2" || return 1
	STARTED=3
	cbd_wait_for 10 test -b /dev/cbd0
}

cbd_require_root
cbd_require_pmem
cbd_require_disk
echo "# fio, psync, O_DIRECT, ${RUNTIME}s per job, $(nproc) CPUs"
printf '%-12s %-14s %10s %10s %10s %10s\n' target job rd-IOPS rd-MiB/s wr-IOPS wr-MiB/s
rc=0
bench_dev "$CBD_PMEM" || rc=1
bench_dev "$CBD_DISK" || rc=1
cbd_setup_disks || rc=1
[ -z "$CBD_LOOPS" ] || bench_dev "$CBD_DISK" || rc=1
if setup_cbd0; then
	bench_dev /dev/cbd0 || rc=1
else
	echo "# /dev/cbd0 not benchmarked: the data path is not there yet"
fi
cleanup
exit $rc
