#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Peer failure on one host: liveness, not hope.  A backend is made to die as its
# host would, through the fault-injection file
# /sys/kernel/debug/cbd/transportN/inject_backend_crash: nothing is
# written to the transport, so its heartbeat goes stale and its channels
# keep the entries in flight.
#
# 1. Nobody re-attaches: I/O in flight and new I/O fail with EIO once the
#    heartbeat timeout (30 s) plus the re-attach window (15 s) passed,
#    never a hang; dev-stop force=1 returns; the dead backend's slot and,
#    once their heartbeat expired, its channel segments can be cleared.
# 2. A backend is re-attached (backend_id=) as soon as the dead one reads
#    alive=false: the writes in flight (the crash hits while the disk
#    shows writes in flight) complete and every byte is where it belongs,
#    through /dev/cbdX and on the backing disk.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

# heartbeat timeout 30 s + re-attach window 15 s + polling slack
GIVE_UP_MAX=${CBD_GIVE_UP_MAX:-60}
TMP=/tmp/cbd-peer
INJECT=

# The write in flight of part 2, in MiB: long enough that it is still
# running when the crash hits, even on fast pmem.
BIG=${CBD_PEER_WRITE_MIB:-256}

now() { date +%s; }

# writes_in_flight DISK PID: the writer runs and the disk has writes in
# flight (/sys/block/DISK/inflight: reads writes).
writes_in_flight() {
	kill -0 "$2" 2>/dev/null &&
		[ "$(awk '{print $2}' "/sys/block/$1/inflight")" -gt 0 ]
}

inject_crash() {
	echo "$1" > "$INJECT"
}

# expect_dd_fails_within PID SECONDS: the dd must end, with an error.
expect_dd_fails_within() {
	local pid=$1 secs=$2 start rc=0
	start=$(now)
	while kill -0 "$pid" 2>/dev/null; do
		if [ $(( $(now) - start )) -gt "$secs" ]; then
			ktap_print_msg "dd still running after ${secs}s"
			return 1
		fi
		sleep 1
	done
	wait "$pid" || rc=$?
	ktap_print_msg "dd ended after $(( $(now) - start ))s with status $rc"
	[ "$rc" -ne 0 ]
}

part_dead_backend() {
	local bid disk t0 pid seg segs

	cbd_check "start backend and /dev/cbdX (2 queues)" cbd_start_pair 2 || return
	bid=$CBD_LAST_BACKEND disk=$CBD_LAST_CBD

	dd if=/dev/urandom of="/dev/$disk" bs=64k count=100000 oflag=direct \
		> "$TMP/dd1.log" 2>&1 &
	pid=$!
	sleep 1

	t0=$(now)
	cbd_check "inject a crash of backend$bid" inject_crash "$bid"
	cbd_check "backend$bid reads alive=false within ${CBD_DEAD_WAIT}s" \
		cbd_wait_dead "$(cbd_tdir)/cbd_backends/backend$bid/alive"
	cbd_check "I/O in flight fails within ${GIVE_UP_MAX}s of the crash" \
		expect_dd_fails_within "$pid" $(( GIVE_UP_MAX - ($(now) - t0) ))
	ktap_print_msg "gave up $(( $(now) - t0 ))s after the crash"
	cbd_check "kernel log says the blkdev failed I/O" \
		sh -c "dmesg | grep -q 'backend$bid is dead'"
	cbd_check "new I/O fails at once" \
		sh -c "! timeout 10 dd if=/dev/$disk of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null"

	t0=$(now)
	cbd_check "dev-stop force=1 returns" cbd_dev_stop "$CBD_LAST_DEV_ID" force
	ktap_print_msg "dev-stop force=1 took $(( $(now) - t0 ))s"
	cbd_expect "$(cbd_adm_file)" "op=backend-stop,backend_id=$bid" ENOENT \
		"backend-stop of the dead backend: not local"
	cbd_expect "$(cbd_adm_file)" "op=backend-clear,backend_id=$bid" OK \
		"backend-clear of the dead backend"
	cbd_check "backend$bid slot is free (empty path)" \
		cbd_file_is "$(cbd_tdir)/cbd_backends/backend$bid/path" ""
	DEAD_SEGS=$(cbd_channels_of "$CBD_LAST_DEV_ID" "$bid")
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND='' CBD_LAST_CBD=''
	segs=$(echo "$DEAD_SEGS" | wc -w)
	cbd_check "the dead backend left its $segs channel segments in use" \
		test "$segs" -eq 2
	for seg in $DEAD_SEGS; do
		cbd_expect "$(cbd_adm_file)" "op=segment-clear,segment_id=$seg" \
			EBUSY "segment-clear of segment$seg while its heartbeat is fresh"
	done
}

# Clear the dead channels of part 1 once their heartbeat expired.
clear_dead_segments() {
	local seg

	for seg in $DEAD_SEGS; do
		cbd_check "segment$seg reads alive=false" \
			cbd_wait_dead "$(cbd_tdir)/cbd_segments/segment$seg/alive"
		cbd_expect "$(cbd_adm_file)" "op=segment-clear,segment_id=$seg" \
			OK "segment-clear of dead segment$seg"
		cbd_check "segment$seg is free" cbd_file_is \
			"$(cbd_tdir)/cbd_segments/segment$seg/type" ""
	done
}

part_reattach() {
	local bid disk t0 pid rc=0

	cbd_check "start backend and /dev/cbdX (2 queues)" cbd_start_pair 2 || return
	bid=$CBD_LAST_BACKEND disk=$CBD_LAST_CBD

	dd if=/dev/urandom of="$TMP/a" bs=1M count=8 2>/dev/null
	dd if=/dev/urandom of="$TMP/b" bs=1M count="$BIG" 2>/dev/null
	cbd_check "write 8 MiB at 0" \
		dd if="$TMP/a" of="/dev/$disk" bs=1M oflag=direct conv=fsync status=none

	dd if="$TMP/b" of="/dev/$disk" bs=1M seek=16 oflag=direct conv=fsync \
		> "$TMP/dd2.log" 2>&1 &
	pid=$!
	cbd_check "the ${BIG} MiB write has requests in flight" \
		cbd_wait_for 10 writes_in_flight "$disk" "$pid"

	t0=$(now)
	cbd_check "inject a crash of backend$bid during the write" \
		inject_crash "$bid"
	cbd_check "backend$bid reads alive=false within ${CBD_DEAD_WAIT}s" \
		cbd_wait_dead "$(cbd_tdir)/cbd_backends/backend$bid/alive"
	ktap_print_msg "alive=false $(( $(now) - t0 ))s after the crash"
	cbd_check "the write is still waiting, not failed" kill -0 "$pid"
	cbd_check "re-attach backend$bid" \
		cbd_backend_start "$CBD_DISK" ",backend_id=$bid"
	cbd_check "re-attached backend has the same id" test "$CBD_LAST_BACKEND" = "$bid"

	t0=$(now)
	while kill -0 "$pid" 2>/dev/null && [ $(( $(now) - t0 )) -lt 60 ]; do
		sleep 1
	done
	wait "$pid" || rc=$?
	cbd_check "the write in flight completes after re-attach (status $rc)" \
		test "$rc" -eq 0

	cbd_check "/dev/$disk: 0..8 MiB intact" \
		cmp -n $((8 << 20)) "$TMP/a" "/dev/$disk"
	cbd_check "/dev/$disk: the write in flight is all there" \
		sh -c "dd if=/dev/$disk bs=1M skip=16 count=$BIG iflag=direct status=none | cmp - $TMP/b"
	cbd_check "dev-stop and backend-stop" cbd_stop_pair
	cbd_check "backing disk: 0..8 MiB intact" \
		cmp -n $((8 << 20)) "$TMP/a" "$CBD_DISK"
	cbd_check "backing disk: the write in flight is all there" \
		sh -c "dd if=$CBD_DISK bs=1M skip=16 count=$BIG iflag=direct status=none | cmp - $TMP/b"
}

cbd_core_begin
cbd_require_disk
mkdir -p "$TMP"
cbd_setup_transport
INJECT=$(cbd_inject_crash_file) || ktap_exit_fail_msg "no $INJECT"

cbd_expect "$INJECT" 99999 EINVAL "crash injection: backend id out of range"
cbd_expect "$INJECT" 0 ENOENT "crash injection: backend not running here"

DEAD_SEGS=
part_dead_backend
part_reattach
clear_dead_segments
rm -rf "$TMP"
cbd_finish
