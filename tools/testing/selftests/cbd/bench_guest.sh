#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark inside the VM (or as root on a real machine with CBD_PMEM= and
# CBD_DISK= set): fio 4K random read and random write at iodepth 1 and 16
# (O_DIRECT, libaio, time based) on four block devices over the same disk:
#
#   cbd    /dev/cbdN: backend (no cache) on $CBD_DISK, transport on $CBD_PMEM
#   disk   $CBD_DISK itself
#   loop   a loop device over $CBD_DISK, losetup --direct-io=on
#   nbd    /dev/nbd0 from nbd-server over loopback (127.0.0.1) exporting
#          $CBD_DISK, connected with nbd-client
#
# The devices are interleaved: each round runs every workload on every
# device, the device order rotating from round to round, so that drift and
# noise (other guests on the host, page cache, TCG) hit all of them alike.
# Before each job the page cache is written back and dropped (nbd-server
# does buffered I/O on $CBD_DISK).  The table gives the median of the
# rounds and the ratios to the disk and to nbd.  On QEMU-emulated CXL the
# backend sits on a buffered loop device over the disk (cbd_setup_disks),
# so use PMEM=nvdimm for meaningful cbd numbers.
#
# BENCH_RUNTIME=10 (seconds per job), BENCH_RAMP=2 (seconds not counted),
# BENCH_ROUNDS=3, BENCH_SIZE= (bytes of each device used; default all),
# BENCH_QUEUES=2 (cbd queues), BENCH_DEVS="cbd disk loop nbd" (or with
# commas, as on the kernel command line of the VM).
# Exit status 0 when every job ran; missed targets are reported, not failed.

. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/bench_lib.sh"

RUNTIME=${BENCH_RUNTIME:-10}
RAMP=${BENCH_RAMP:-2}
ROUNDS=${BENCH_ROUNDS:-3}
SIZE=${BENCH_SIZE:-}
QUEUES=${BENCH_QUEUES:-2}
DEVS=${BENCH_DEVS:-cbd disk loop nbd}
DEVS=${DEVS//,/ }
WORKLOADS="randread-qd1 randwrite-qd1 randread-qd16 randwrite-qd16"
RES=/tmp/bench.res	# dev workload round iops lat_mean_us p99_us cpu%
NBD_CONF=/etc/nbd-server/config
NBD_PID=/run/nbd-server.pid
NBD_PORT=10809
CBD_TID=0
declare -A DEV	# name -> block device
LOOP="" NBD="" CBD_UP=0

say() { echo "# $*"; }

# ---------------------------------------------------------------- setup

setup_cbd() {
	cbd_module_load || return 1
	cbd_have_bus || { say "cbd: no bus"; return 1; }
	cbd_cleanup_all >/dev/null 2>&1
	cbd_setup_disks || return 1
	cbd_register || return 1
	CBD_UP=1
	cbd_start_pair "$QUEUES" || return 1
	DEV[cbd]=/dev/$CBD_LAST_CBD
	say "cbd:  ${DEV[cbd]}, backend $CBD_LAST_BACKEND on $CBD_DISK (no cache), transport on $CBD_PMEM, $QUEUES queues"
}

setup_loop() {
	modprobe -q loop 2>/dev/null
	LOOP=$(losetup --direct-io=on -f --show "$CBD_DISK_LOWER") || return 1
	DEV[loop]=$LOOP
	say "loop: $LOOP over $CBD_DISK_LOWER, losetup --direct-io=on (dio=$(cat "/sys/block/${LOOP#/dev/}/loop/dio" 2>/dev/null))"
}

nbd_connected() {
	[ "$(cat /sys/block/nbd0/size 2>/dev/null || echo 0)" -gt 0 ]
}

# nbd-server (default options: buffered pread/pwrite on the disk, 4 worker
# threads; flush requests become fdatasync) and nbd-client over loopback.
setup_nbd() {
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up || return 1
	mkdir -p "$(dirname "$NBD_CONF")" /run
	cat > "$NBD_CONF" <<-EOF
	[generic]
	listenaddr = 127.0.0.1
	port = $NBD_PORT
	[bench]
	exportname = $CBD_DISK_LOWER
	flush = true
	EOF
	nbd-server -C "$NBD_CONF" -p "$NBD_PID" 2>&1 | sed 's/^/# nbd-server: /'
	cbd_wait_for 5 test -s "$NBD_PID" || { say "nbd-server did not start"; return 1; }
	modprobe -q nbd 2>/dev/null
	nbd-client -N bench 127.0.0.1 "$NBD_PORT" /dev/nbd0 -b 4096 2>&1 | sed 's/^/# nbd-client: /'
	cbd_wait_for 10 nbd_connected || { say "nbd-client: /dev/nbd0 not connected"; return 1; }
	NBD=/dev/nbd0
	DEV[nbd]=$NBD
	say "nbd:  $NBD from nbd-server $(nbd-server -V 2>&1 | grep -o '[0-9][0-9.]*' | head -1) on 127.0.0.1:$NBD_PORT exporting $CBD_DISK_LOWER (-C $NBD_CONF, flush=true, default buffered I/O)"
	# It is the same disk: 1 MiB written through nbd (with a flush) reads
	# back identically from the disk with O_DIRECT.
	dd if=/dev/urandom of=/tmp/nbd.pat bs=1M count=1 2>/dev/null
	dd if=/tmp/nbd.pat of=$NBD bs=1M count=1 oflag=direct conv=fsync 2>/dev/null &&
		dd if="$CBD_DISK_LOWER" of=/tmp/nbd.chk bs=1M count=1 iflag=direct 2>/dev/null &&
		cmp -s /tmp/nbd.pat /tmp/nbd.chk ||
		{ say "nbd: data written to $NBD does not read back from $CBD_DISK_LOWER"; return 1; }
	say "nbd:  checked: 1 MiB written to $NBD reads back from $CBD_DISK_LOWER"
}

teardown() {
	local rc=0
	if [ -n "$NBD" ]; then
		nbd-client -d "$NBD" >/dev/null 2>&1 || rc=1
	fi
	[ -s "$NBD_PID" ] && kill "$(cat "$NBD_PID")" 2>/dev/null
	[ -z "$LOOP" ] || losetup -d "$LOOP" || rc=1
	if [ "$CBD_UP" = 1 ]; then
		cbd_cleanup_all || rc=1
		cbd_release_disks || rc=1
	fi
	cbd_module_unload || rc=1
	return $rc
}

# ---------------------------------------------------------------- jobs

# job NAME WORKLOAD ROUND: one fio run, one line in $RES.
job() {
	local name=$1 wl=$2 round=$3 dev=${DEV[$1]} rw qd out nums b0 t0 b1 t1 iops mean p99
	rw=${wl%-qd*} qd=${wl#*-qd}
	sync
	echo 3 > /proc/sys/vm/drop_caches
	read -r b0 t0 <<<"$(cpu_ticks)"
	out=$(fio --minimal --name="$name-$wl" --filename="$dev" --direct=1 \
		--ioengine=libaio --iodepth="$qd" --rw="$rw" --bs=4k \
		--runtime="$RUNTIME" --ramp_time="$RAMP" --time_based \
		--randrepeat=0 --norandommap ${SIZE:+--size=$SIZE} 2>&1) ||
		{ say "fio $name $wl failed: $(tail -1 <<<"$out")"; return 1; }
	read -r b1 t1 <<<"$(cpu_ticks)"
	nums=$(bench_terse "$rw" <<<"$out") ||
		{ say "fio $name $wl: no terse output: $(tail -1 <<<"$out")"; return 1; }
	# IOPS, mean latency, p99 of the completion latency, CPU busy
	read -r iops mean _ p99 _ <<<"$nums"
	echo "$name $wl $round $iops $mean $p99 $(( t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0 ))" >> "$RES"
	tail -1 "$RES" | awk '{printf "#   round %s %-5s %-14s %7d IOPS  mean %8.1f us  p99 %6s us  cpu %3d%%\n", $3, $1, $2, $4, $5, $6, $7}'
}

# ---------------------------------------------------------------- report

# col() fields in $RES: 4 iops, 5 mean, 6 p99, 7 cpu

report() {
	local wl d iops mean p99 cpu lo hi
	declare -A MED
	echo "#"
	echo "# 4 KiB random I/O, fio libaio O_DIRECT, ${RUNTIME}s (+${RAMP}s ramp) per job, $ROUNDS rounds;"
	echo "# median of the rounds (IOPS min-max in brackets), mean = fio total latency, p99 = completion latency"
	printf '# %-14s %-5s %8s %15s %10s %9s %6s %7s %7s\n' \
		workload dev IOPS '(min-max)' 'mean(us)' 'p99(us)' cpu% 'x disk' 'cbd/x'
	for wl in $WORKLOADS; do
		for d in $DEVS; do
			MED[$d]=$(col "$d" "$wl" 4 | median)
		done
		for d in $DEVS; do
			iops=${MED[$d]}
			mean=$(col "$d" "$wl" 5 | median)
			p99=$(col "$d" "$wl" 6 | median)
			cpu=$(col "$d" "$wl" 7 | median)
			lo=$(col "$d" "$wl" 4 | sort -g | head -1)
			hi=$(col "$d" "$wl" 4 | sort -g | tail -1)
			printf '# %-14s %-5s %8.0f %15s %10.1f %9s %6.0f %7s %7s\n' "$wl" "$d" "$iops" \
				"($lo-$hi)" "$mean" "$p99" "$cpu" "$(ratio "$iops" "${MED[disk]:-0}")" \
				"$(ratio "${MED[cbd]:-nan}" "$iops")"
		done
	done
	echo "#"
	echo "# targets (iodepth 1, median IOPS):"
	for wl in randread-qd1 randwrite-qd1; do
		local cd dd nd r1 r2
		cd=$(col cbd "$wl" 4 | median) dd=$(col disk "$wl" 4 | median) nd=$(col nbd "$wl" 4 | median)
		r1=$(ratio "$cd" "$dd") r2=$(ratio "$cd" "$nd")
		printf '#   %-14s cbd/disk %5s (>= 0.5: %s)   cbd/nbd %5s (>= 2: %s)\n' "$wl" \
			"$r1" "$(awk -v r="$r1" 'BEGIN {print (r != "-" && r >= 0.5) ? "met" : "MISSED"}')" \
			"$r2" "$(awk -v r="$r2" 'BEGIN {print (r != "-" && r >= 2) ? "met" : "MISSED"}')"
	done
}

# ---------------------------------------------------------------- main

cbd_require_root
cbd_require_pmem
cbd_require_disk
say "CBD benchmark: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo) RAM, kernel $(uname -r)"
say "disk: $CBD_DISK ($(cbd_dev_mib "$CBD_DISK") MiB), transport memory: $CBD_PMEM ($(cbd_dev_mib "$CBD_PMEM") MiB)"
rc=0
for d in $DEVS; do
	[ "$d" = disk ] && continue
	"setup_$d" || { say "setting up $d failed"; rc=1; break; }
done
DEV[disk]=$CBD_DISK_LOWER
say "disk: $CBD_DISK_LOWER directly"
if [ "$rc" = 0 ]; then
	: > "$RES"
	read -r b0 t0 <<<"$(cpu_ticks)"
	sleep 3
	read -r b1 t1 <<<"$(cpu_ticks)"
	say "guest CPU busy with all devices set up and idle: $(( 100 * (b1 - b0) / (t1 - t0) ))%"
	# shellcheck disable=SC2086
	bench_rounds "$ROUNDS" "$WORKLOADS" $DEVS || rc=1
	report
fi
teardown || { say "teardown failed"; rc=1; }
exit $rc
