#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Wall-clock steps on two hosts that share one transport (two guests,
# vm.sh --guests).  Host A runs a backend on its disk, host B a blkdev on
# it and fio (crc32c verify) through /dev/cbdX.  While fio writes, one
# guest's wall clock is stepped five years forward and then the other's
# ten years back, so that the two hosts disagree by fifteen years:
#
#  round "cache"   (cache_size=64, 1 queue): B +5 years, then A -10 years
#                  (B's clock 15 years ahead of A's);
#  round "nocache" (2 queues): A +5 years, then B -10 years (A's clock
#                  15 years ahead of B's), left so for the crash below.
#
# In each round, on both hosts: every alive file of the two hosts, the
# backend, the blkdev and the channel/cache segments reads true before
# the steps and in every poll (0.2 s) during them, and still after; the
# kernel log has no "dead"; on B fio ends with 0 errors, its verify
# phase read the data back and it verified, and fio was still writing
# when both steps were done.
#
# Then, the clocks still fifteen years apart (A ahead), B asks A to crash
# the backend (inject_backend_crash) with a write in flight.  Measured
# on B's monotonic clock from the request, i.e. at or before the crash:
# the backend reads alive=false on B within CBD_DEAD_WAIT (40 s,
# cbd_core_lib.sh), the write fails with EIO within 60 s (heartbeat
# timeout 30 s + re-attach window 15 s + polling slack, as in
# mh_host_death.sh), new I/O fails at once, host A still reads alive.
# A sees its backend dead within the same bound.  B then stops its
# blkdev (force=1) and clears the dead backend's slot.  Each guest's
# clock is restored at the end of a round and on any exit, from the
# monotonic time elapsed (as in clock_step.sh).
#
# Why this fails against a module that compares wall-clock stamps across
# hosts (a slot is alive if its stamp is newer than the observer's
# now - 30 s): the stamps each host writes are its own wall time, so
# after the steps every stamp of the host that is behind looks fifteen
# years old to the one ahead, and every stamp of the one ahead lies
# fifteen years in the future of the one behind.
#  - round "cache": B, ahead, takes A's host, backend and cache segments
#    for dead right after its step: alive=false in B's polls, a "dead"
#    kernel line, and B's I/O to a backend it takes for gone fails with
#    EIO, so fio fails.
#  - round "nocache": A, ahead, takes B's host, blkdev and channel
#    segments for dead: alive=false in A's polls (and, as the scratch
#    build below showed, B's fio fails with EIO).
#  - the crash: the dead backend's last stamp is fifteen years in B's
#    future, so it reads alive for fifteen years and the write in flight
#    never gets its EIO: both bounds are missed.
# A scratch build whose cbd_heartbeat_within() compared the stamp with
# ktime_get_real_ns() - 30 s failed exactly so: fio ended with EIO in
# both rounds, both hosts' polls read alive=false, and 40 s after the
# crash B still read the backend alive.
#
# About 4 minutes on nvdimm in QEMU (TCG).  CBD_CLOCK_DWELL (default
# 12 s, two heartbeat samples and more): time spent at each setting.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"
. "$(dirname "$0")/cbd_clock_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

CBD_CLOCK_WHO="guest $MH_ID: "

FIO_SIZE=48M
DWELL=${CBD_CLOCK_DWELL:-12}
GIVE_UP_MAX=60		# heartbeat timeout 30 s + re-attach window 15 s + slack
TMP=/tmp/cbd-mh-clock

# alive_files BACKEND_ID DEV_ID: the alive files of both hosts, the
# backend, the blkdev, its channel segments and the cache segments alive
# now (the cache round's are stopped in the next one).
alive_files() {
	local t s
	t=$(cbd_tdir)
	echo "$t/cbd_hosts/host$(mh_host_id_of 0)/alive"
	echo "$t/cbd_hosts/host$(mh_host_id_of 1)/alive"
	echo "$t/cbd_backends/backend$1/alive"
	echo "$t/cbd_blkdevs/blkdev$2/alive"
	for s in $(cbd_channels_of "$2" "$1"); do
		echo "$t/cbd_segments/segment$s/alive"
	done
	for s in "$t"/cbd_segments/segment*; do
		[ "$(cat "$s/type" 2>/dev/null)" = cache ] &&
			[ "$(cat "$s/alive" 2>/dev/null)" = true ] && echo "$s/alive"
	done
}

running() { kill -0 "$1" 2>/dev/null || { ktap_print_msg "pid $1 ended"; return 1; }; }

# step_turn ROUND K GUEST SECONDS: step GUEST's clock, here or by asking
# the peer (B drives the steps, A follows in a_steps).
step_turn() {
	local r=$1 k=$2 g=$3 secs=$4
	if [ "$g" = "$MH_ID" ]; then
		cbd_check "$r: guest $g steps its clock by $secs s" clock_step "$secs"
		mh_put "stepped.$r.$k"
	else
		mh_put "step.$r.$k" "$secs"
		mh_wait "stepped.$r.$k" 60
	fi
}

# fio_ok LOG RC: fio exited 0, reported no error and no verify failure,
# and its verify phase read data back.
fio_ok() {
	local log=$1 rc=$2
	if [ "$rc" -ne 0 ] || grep -qiE 'verify: bad|verify failed|err= *[1-9]|fio: .*error' "$log"; then
		ktap_print_msg "fio (exit $rc):"
		grep -iE 'err|verify|bad' "$log" | head -10 | sed 's/^/#   /'
		return 1
	fi
	if ! grep -qE 'READ: bw=' "$log"; then
		ktap_print_msg "fio: no verify reads in the log"
		tail -5 "$log" | sed 's/^/#   /'
		return 1
	fi
	ktap_print_msg "fio: $(grep -oE '(WRITE|READ): bw=[^,]*' "$log" | tr '\n' ' ')"
}

# b_fio ROUND DEV G1 S1 G2 S2: fio on DEV, the two steps during its
# write phase; B drives the steps.
b_fio() {
	local r=$1 dev=$2 g1=$3 s1=$4 g2=$5 s2=$6 pid rc=0 log=$TMP/fio.$1
	fio --output="$log" --name=clock --filename="$dev" --size="$FIO_SIZE" \
		--direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite \
		--bsrange=4k-64k --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--exitall_on_error=1 --randrepeat=0 --time_based=1 \
		--runtime=$((3 * DWELL + 20)) > /dev/null 2>&1 &
	pid=$!
	sleep "$DWELL"
	step_turn "$r" 1 "$g1" "$s1"
	sleep "$DWELL"
	step_turn "$r" 2 "$g2" "$s2"
	sleep "$DWELL"
	cbd_check "$r: fio still writing $DWELL s after both steps" running "$pid"
	wait "$pid" || rc=$?
	cbd_check "$r: fio across the steps: 0 I/O errors, data verified" fio_ok "$log" "$rc"
}

# a_steps ROUND G1 S1 G2 S2: A steps its clock when B asks.
a_steps() {
	local r=$1 k
	shift
	for k in 1 2; do
		if [ "$1" = 0 ]; then
			mh_wait "step.$r.$k" 300 || return 1
			cbd_check "$r: guest 0 steps its clock by $2 s" clock_step "$2"
			mh_put "stepped.$r.$k"
		fi
		shift 2
	done
}

# round NAME EXTRA QUEUES G1 S1 G2 S2 [keep]: one pass, steps of guest G1
# by S1 then G2 by S2 seconds.  With keep the backend, the blkdev and the
# clocks are left as they are (for crash_phase).
BID='' DEVID='' DEV=''
round() {
	local r=$1 extra=$2 queues=$3 keep=${8:-} files n wpid bad=$TMP/notalive.$1
	if mh_is_a; then
		mh_step "$r: A: backend-start$extra" cbd_backend_start "$CBD_DISK" "$extra" || return 1
		BID=$CBD_LAST_BACKEND
		mh_put "backend.$r" "$BID"
		mh_wait "dev.$r" 120 || return 1
		DEVID=$(mh_get "dev.$r")
	else
		mh_wait "backend.$r" 120 || return 1
		BID=$(mh_get "backend.$r")
		mh_step "$r: B: dev-start queues=$queues on A's backend$BID" \
			cbd_dev_start "$BID" "$queues" || return 1
		DEVID=$CBD_LAST_DEV_ID DEV=/dev/$CBD_LAST_CBD
		mh_put "dev.$r" "$DEVID"
	fi
	files=$(alive_files "$BID" "$DEVID")
	n=$(echo "$files" | wc -l)
	# a host may see a new slot alive only at its next sample
	# shellcheck disable=SC2086
	cbd_wait_for 10 all_true $files > /dev/null
	ktap_print_msg "$r: guest $MH_ID: backend$BID, blkdev$DEVID, watching $n alive files"
	# shellcheck disable=SC2086
	mh_step "$r: guest $MH_ID: all $n alive files read true before the steps" \
		all_true $files || return 1

	: > "$bad"
	# shellcheck disable=SC2086
	watch_alive "$bad" $files &
	wpid=$!
	mh_barrier "watching.$r" || { kill "$wpid"; return 1; }
	if mh_is_a; then
		a_steps "$r" "$4" "$5" "$6" "$7"
		mh_wait "fio-done.$r" 600
	else
		b_fio "$r" "$DEV" "$4" "$5" "$6" "$7"
		mh_put "fio-done.$r"
	fi
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	if [ -s "$bad" ]; then
		ktap_print_msg "$r: $(wc -l < "$bad") polls read not alive, first:"
		head -5 "$bad" | sed 's/^/#   /'
	fi
	cbd_check "$r: guest $MH_ID: no alive file read false during the steps" test ! -s "$bad"
	# shellcheck disable=SC2086
	cbd_check "$r: guest $MH_ID: all $n alive files read true after the steps" all_true $files
	cbd_check "$r: guest $MH_ID: kernel log has no 'dead'" no_dead_in_log

	[ -z "$keep" ] || return 0
	if mh_is_a; then
		mh_wait "dev-stopped.$r" 120 &&
			mh_step "$r: A: backend-stop" cbd_backend_stop "$BID"
	else
		mh_step "$r: B: dev-stop" cbd_dev_stop "$DEVID"
		mh_put "dev-stopped.$r"
	fi
	clock_restore
	mh_barrier "end.$r"
}

# wait_false_since T0 SECONDS FILE: FILE reads false before SECONDS have
# passed since T0 (uptime_cs); says when.
wait_false_since() {
	local t0=$1 lim=$(( $2 * 100 )) f=$3 v now
	while :; do
		v=
		read -r v 2>/dev/null < "$f"
		now=$(uptime_cs)
		if [ "$v" = false ]; then
			ktap_print_msg "$f: false $(( (now - t0) / 100 )).$(( (now - t0) % 100 / 10 )) s after the crash request (bound $2 s)"
			return 0
		fi
		if [ $(( now - t0 )) -gt "$lim" ]; then
			ktap_print_msg "$f still reads '$v' $(( (now - t0) / 100 )) s after the crash request"
			return 1
		fi
		sleep 0.2
	done
}

# fails_eio_since T0 SECONDS PID: the process ends, with EIO, before
# SECONDS have passed since T0.
fails_eio_since() {
	local t0=$1 lim=$(( $2 * 100 )) pid=$3 rc=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $(( $(uptime_cs) - t0 )) -gt "$lim" ]; then
			ktap_print_msg "write still running $(( ($(uptime_cs) - t0) / 100 )) s after the crash request"
			return 1
		fi
		sleep 0.2
	done
	wait "$pid" || rc=$?
	ktap_print_msg "write ended $(( ($(uptime_cs) - t0) / 100 )) s after the crash request, status $rc: $(tail -1 "$TMP/dd.log")"
	[ "$rc" -ne 0 ] && grep -q 'Input/output error' "$TMP/dd.log"
}

# The backend of round "nocache" crashes, the clocks still apart.
crash_phase() {
	local t inject pid t0 ahost bhost
	t=$(cbd_tdir) ahost=$(mh_host_id_of 0) bhost=$(mh_host_id_of 1)
	if mh_is_a; then
		inject=$(cbd_inject_crash_file) ||
			{ mh_abort "no $inject"; ktap_test_fail "crash: $inject is there"; return 1; }
		mh_wait crash-now 300 || return 1
		t0=$(uptime_cs)
		mh_step "crash: A: inject a crash of backend$BID" cbd_write "$inject" "$BID" || return 1
		mh_put crashed
		cbd_check "crash: A: its backend$BID reads alive=false within ${CBD_DEAD_WAIT}s" \
			wait_false_since "$t0" "$CBD_DEAD_WAIT" "$t/cbd_backends/backend$BID/alive"
		cbd_check "crash: A: host$bhost (B) still reads alive" \
			cbd_file_is "$t/cbd_hosts/host$bhost/alive" true
		mh_wait cleared 300
		return
	fi

	# a write in flight when the backend dies
	echo 20 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
	dd if=/dev/zero of="$DEV" bs=64k seek=1024 count=100000 oflag=direct \
		> "$TMP/dd.log" 2>&1 &
	pid=$!
	sleep 1
	# if it failed already (an earlier failure), the crash is still
	# made and its detection judged; only the EIO check cannot be
	cbd_check "crash: B: write in flight" running "$pid" || pid=
	t0=$(uptime_cs)
	mh_put crash-now
	mh_wait crashed 60 || { kill "$pid" 2>/dev/null; return 1; }
	cbd_check "crash: B: backend$BID reads alive=false within ${CBD_DEAD_WAIT}s" \
		wait_false_since "$t0" "$CBD_DEAD_WAIT" "$t/cbd_backends/backend$BID/alive"
	if [ -n "$pid" ]; then
		cbd_check "crash: B: the write in flight fails with EIO within ${GIVE_UP_MAX}s" \
			fails_eio_since "$t0" "$GIVE_UP_MAX" "$pid"
		kill "$pid" 2>/dev/null
	else
		ktap_test_fail "crash: B: the write in flight fails with EIO (no write was in flight)"
	fi
	cbd_check "crash: B: new I/O fails at once" \
		sh -c "! timeout 10 dd if=$DEV of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null"
	cbd_check "crash: B: host$ahost (A) still reads alive" \
		cbd_file_is "$t/cbd_hosts/host$ahost/alive" true
	cbd_check "crash: B: no hung task, no warning so far" cbd_klog_clean
	echo 120 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
	cbd_check "crash: B: dev-stop force=1" cbd_dev_stop "$DEVID" force
	cbd_expect "$(cbd_adm_file)" "op=backend-clear,backend_id=$BID" OK \
		"crash: B: backend-clear of the dead backend$BID"
	mh_put cleared
}

mh_require
cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
trap 'clock_restore; echo 120 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null;
      cbd_cleanup_all >/dev/null 2>&1; cbd_release_disks >/dev/null 2>&1' EXIT
mkdir -p "$TMP"
mh_register || cbd_finish

# the cache round: B ahead; then A ahead, kept for the crash
if ! { round cache ",cache_size=64" 1 1 $((5 * YEAR)) 0 $((-10 * YEAR)) &&
	round nocache "" 2 0 $((5 * YEAR)) 1 $((-10 * YEAR)) keep &&
	crash_phase; }; then
	mh_abort "guest $MH_ID could not go on"
fi

clock_restore
mh_barrier finished 300
drift=$(clock_drift)
cbd_check "guest $MH_ID: clock restored (drift ${drift}s)" test "${drift#-}" -le 2
rm -rf "$TMP"
cbd_finish
