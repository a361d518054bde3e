#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Death of the backend's host (two guests, vm.sh --guests).  B uses a disk
# of A through /dev/cbdX, writes and fsyncs 8 MiB, and while a large write
# is in flight the runner SIGKILLs A's QEMU (mh_kill_me).  Then on B:
#  - the write in flight fails with EIO within the heartbeat timeout
#    (30 s) plus the re-attach window (15 s), no task hangs (the hung task
#    timeout is lowered to 20 s for this), new I/O fails at once;
#  - A's host and backend read alive=false; dev-stop force=1 returns;
#  - host-clear and backend-clear reclaim A's slots, segment-clear the
#    channel segments once their heartbeat expired.
# The runner boots A again on the same memory and disk: A registers
# without format, re-attaches its backend (backend_id=), B dev-starts on
# it again and finds the 8 MiB it fsync'd before the kill; so does A on
# its disk after B's dev-stop and its own backend-stop.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

# heartbeat timeout 30 s + re-attach window 15 s + polling slack
GIVE_UP_MAX=${CBD_GIVE_UP_MAX:-60}
TMP=/tmp/cbd-mh-death
now() { date +%s; }

# expect_fails_within PID SECONDS T0: the process must end, with an error,
# at most SECONDS after T0.
expect_fails_within() {
	local pid=$1 secs=$2 t0=$3 rc=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $(( $(now) - t0 )) -gt "$secs" ]; then
			ktap_print_msg "I/O still running $(( $(now) - t0 ))s after the kill"
			return 1
		fi
		sleep 1
	done
	wait "$pid" || rc=$?
	ktap_print_msg "I/O ended $(( $(now) - t0 ))s after the kill with status $rc: $(tail -1 "$TMP/dd.log")"
	[ "$rc" -ne 0 ] && grep -q 'Input/output error' "$TMP/dd.log"
}

# ---- host A, first life: backend, then die with I/O in flight
a_first() {
	mh_step "A: backend-start on $CBD_DISK" cbd_backend_start "$CBD_DISK" || return
	mh_put backend "$CBD_LAST_BACKEND"
	mh_wait in-flight 300 || return
	mh_kill_me again
}

# ---- host A, after the restart on the same memory and disk
a_second() {
	local bid got
	bid=$(mh_get backend)
	ktap_print_msg "A restarted after SIGKILL; backend$bid"
	mh_wait objects-cleared 300 || return
	mh_step "A (restarted): register without format" \
		cbd_register "path=$CBD_PMEM,hostname=$(hostname)" || return
	mh_step "A: re-attach backend$bid on $CBD_DISK" \
		cbd_backend_start "$CBD_DISK" ",backend_id=$bid" || return
	cbd_check "A: re-attached backend has id $bid" test "$CBD_LAST_BACKEND" = "$bid"
	mh_put reattached
	mh_wait dev-stopped-again 300 || return
	mh_step "A: backend-stop" cbd_backend_stop "$bid"
	got=$(dd if="$CBD_DISK" bs=1M count=8 iflag=direct status=none | md5sum | cut -d' ' -f1)
	cbd_check "A: the 8 MiB B fsync'd before the kill are on A's disk" \
		test "$got" = "$(mh_get synced)"
}

# ---- host B
b_run() {
	local bid disk pid t0 seg segs ahost devid got
	mh_wait backend 120 || return
	bid=$(mh_get backend) ahost=$(mh_get registered)
	mh_step "B: dev-start on A's backend$bid" cbd_dev_start "$bid" 1 || return
	disk=$CBD_LAST_CBD devid=$CBD_LAST_DEV_ID
	dd if=/dev/urandom of="$TMP/a" bs=1M count=8 2>/dev/null
	mh_step "B: write 8 MiB at 0 and fsync" \
		dd if="$TMP/a" of="/dev/$disk" bs=1M oflag=direct conv=fsync status=none || return
	mh_put synced "$(md5sum < "$TMP/a" | cut -d' ' -f1)"
	segs=$(cbd_channels_of "$devid" "$bid")

	echo 20 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
	dd if=/dev/zero of="/dev/$disk" bs=64k seek=256 count=100000 oflag=direct \
		> "$TMP/dd.log" 2>&1 &
	pid=$!
	sleep 1
	mh_step "B: write in flight" kill -0 "$pid" || return
	mh_put in-flight
	mh_step "A was killed" cbd_wait_for 120 mh_killed 0 || return
	t0=$(now)
	cbd_check "B: the write in flight fails with EIO within ${GIVE_UP_MAX}s" \
		expect_fails_within "$pid" "$GIVE_UP_MAX" "$t0"
	cbd_check "B: new I/O fails at once" \
		sh -c "! timeout 10 dd if=/dev/$disk of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null"
	cbd_check "B: host$ahost (A) reads alive=false" \
		cbd_wait_dead "$(cbd_tdir)/cbd_hosts/host$ahost/alive"
	cbd_check "B: backend$bid (A) reads alive=false" \
		cbd_wait_dead "$(cbd_tdir)/cbd_backends/backend$bid/alive"
	t0=$(now)
	cbd_check "B: dev-stop force=1 returns" cbd_dev_stop "$devid" force
	ktap_print_msg "dev-stop force=1 took $(( $(now) - t0 ))s"
	cbd_check "B: no hung task, no warning so far" cbd_klog_clean
	echo 120 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
	cbd_expect "$(cbd_adm_file)" "op=host-clear,host_id=$ahost" OK "B: host-clear of dead host$ahost (A)"
	cbd_check "B: host$ahost slot is free" cbd_file_is "$(cbd_tdir)/cbd_hosts/host$ahost/hostname" ""
	cbd_expect "$(cbd_adm_file)" "op=backend-clear,backend_id=$bid" OK "B: backend-clear of dead backend$bid"
	cbd_check "B: backend$bid slot is free" cbd_file_is "$(cbd_tdir)/cbd_backends/backend$bid/path" ""
	cbd_expect "$(cbd_adm_file)" "op=dev-clear,dev_id=$devid" OK "B: dev-clear of its stopped blkdev$devid (no-op)"
	mh_put objects-cleared
	for seg in $segs; do
		cbd_check "B: channel segment$seg reads alive=false" cbd_wait_file_is 60 \
			"$(cbd_tdir)/cbd_segments/segment$seg/alive" false
		cbd_expect "$(cbd_adm_file)" "op=segment-clear,segment_id=$seg" OK \
			"B: segment-clear of dead segment$seg"
	done

	mh_wait reattached 400 || return
	mh_step "B: dev-start on the re-attached backend$bid" cbd_dev_start "$bid" 1 || return
	got=$(dd if="/dev/$CBD_LAST_CBD" bs=1M count=8 iflag=direct status=none | md5sum | cut -d' ' -f1)
	cbd_check "B: the 8 MiB fsync'd before the kill are there" test "$got" = "$(mh_get synced)"
	cbd_check "B: fio verify through the re-attached backend" \
		cbd_fio_verify "/dev/$CBD_LAST_CBD" 8M --offset=64M
	mh_step "B: dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	mh_put dev-stopped-again
}

mh_require
cbd_core_begin
cbd_require_disk
mkdir -p "$TMP"
if mh_is_a && mh_restarted; then
	a_second
	mh_put a-done
else
	mh_register || cbd_finish
	if mh_is_a; then a_first; else b_run; mh_wait a-done 300; fi
fi
rm -rf "$TMP"
cbd_finish
