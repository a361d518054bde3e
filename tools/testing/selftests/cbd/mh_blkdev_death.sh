#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Death of the blkdev's host (two guests, vm.sh --guests).  B uses a disk
# of A through /dev/cbdX with I/O in flight when the runner SIGKILLs B's
# QEMU.  A's handlers poll B's channels (no doorbell across hosts) and keep
# the channel segments' heartbeat going; once B's blkdev heartbeat is
# stale (30 s), A destroys them, and the segments' heartbeat stops too
# (alive=false at most 30 s later).  A then sees B's host and blkdev not
# alive, dev-clear detaches the
# dead blkdev from A's backend, backend-stop succeeds, host-clear and
# segment-clear reclaim the rest.  B is booted again for the tests after
# this one.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

# B's blkdev is dead 30 s after its last heartbeat, A's state work
# notices within 1 s, the segment heartbeat A kept going stops and is
# stale 30 s later: 61 s, plus slack for TCG.
HANDLER_STOP_MAX=${MH_HANDLER_STOP_MAX:-80}
now() { date +%s; }

a_handlers_alive() { ! a_handlers_gone; }

# No channel of B is kept alive any more: A's handlers are gone.
a_handlers_gone() {
	local seg
	for seg in $SEGS; do
		[ "$(cat "$(cbd_tdir)/cbd_segments/segment$seg/alive")" = false ] ||
			return 1
	done
}

a_run() {
	local bid devid bhost t0 seg idle
	mh_step "A: backend-start on $CBD_DISK" cbd_backend_start "$CBD_DISK" || return
	bid=$CBD_LAST_BACKEND
	mh_put backend "$bid"
	mh_wait dev-started 120 || return
	read -r devid bhost nch <<< "$(mh_get dev-started)"
	SEGS=$(cbd_channels_of "$devid" "$bid")
	cbd_check "A: B's blkdev has $nch channels (2 queues, one per CPU of B at most)" \
		test "$(echo "$SEGS" | wc -w)" -eq "$nch"
	cbd_check "B was killed" cbd_wait_for 300 mh_killed 1 || { mh_abort "no kill"; return; }
	t0=$(now)
	cbd_check "A: B's channels are alive while A's handlers serve them" \
		a_handlers_alive
	cbd_check "A: handlers for B's channels stop within ${HANDLER_STOP_MAX}s (channel heartbeat)" \
		cbd_wait_for "$HANDLER_STOP_MAX" a_handlers_gone
	ktap_print_msg "A: B's channels dead $(( $(now) - t0 ))s after the kill"
	# polling backs off when idle: A must not burn a CPU now
	idle=$(mh_cpu_idle_pct 3)
	ktap_print_msg "A: CPU ${idle}% idle"
	cbd_check "A: host$bhost (B) reads alive=false" \
		cbd_wait_dead "$(cbd_tdir)/cbd_hosts/host$bhost/alive"
	cbd_check "A: blkdev$devid (B) reads alive=false" \
		cbd_wait_dead "$(cbd_tdir)/cbd_blkdevs/blkdev$devid/alive"
	# the dead blkdev's claim does not keep the backend: no dev-clear needed
	cbd_check "A: backend-stop succeeds with dead blkdev$devid attached" \
		cbd_backend_stop "$bid"
	cbd_check "A: backend-stop released dead blkdev$devid's slot" \
		cbd_file_is "$(cbd_tdir)/cbd_blkdevs/blkdev$devid/backend_id" ""
	cbd_expect "$(cbd_adm_file)" "op=dev-clear,dev_id=$devid" OK \
		"A: dev-clear of the released slot is a no-op"
	cbd_expect "$(cbd_adm_file)" "op=host-clear,host_id=$bhost" OK "A: host-clear of dead host$bhost (B)"
	for seg in $SEGS; do
		cbd_check "A: channel segment$seg reads alive=false" cbd_wait_file_is 60 \
			"$(cbd_tdir)/cbd_segments/segment$seg/alive" false
		cbd_expect "$(cbd_adm_file)" "op=segment-clear,segment_id=$seg" OK \
			"A: segment-clear of dead segment$seg"
	done
	cbd_check "A: no hung task, no warning" cbd_klog_clean
}

b_run() {
	local bid
	mh_wait backend 120 || return
	bid=$(mh_get backend)
	mh_step "B: dev-start on A's backend$bid (2 queues)" cbd_dev_start "$bid" 2 || return
	dd if=/dev/zero of="/dev/$CBD_LAST_CBD" bs=64k count=100000 oflag=direct \
		> /dev/null 2>&1 &
	sleep 1
	mh_put dev-started "$CBD_LAST_DEV_ID $(cbd_my_host_id) $(cbd_expected_hw_queues 2)"
	sleep 4
	mh_kill_me
}

mh_require
mh_done_if_restarted
cbd_core_begin
cbd_require_disk
mh_register || cbd_finish
if mh_is_a; then a_run; else b_run; fi
cbd_finish
