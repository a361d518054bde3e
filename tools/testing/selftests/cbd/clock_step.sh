#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Liveness survives wall-clock steps (what an NTP step or a resume from
# suspend does).  On one host, without and with a cache: while fio writes
# and verifies through /dev/cbdX, the wall clock is stepped five years
# forward, then ten years back.  Nothing may be declared dead: every
# alive file of the host, backend, blkdev and channel/cache segments
# stays true (polled every 0.2 s), the kernel log has no "dead", fio ends
# with 0 errors and its data verifies.  Then a backend is killed
# (inject_backend_crash) and the clock stepped ten years back right after
# the crash: the dead backend must still read alive=false within
# CBD_DEAD_WAIT (40 s, cbd_core_lib.sh).  The clock is restored at the
# end (and on any exit) from the monotonic time elapsed.
#
# Before liveness was judged on each observer's monotonic clock, every
# object compared its wall-clock stamp with now - 30 s: a forward step
# made all of them dead until their next beat (up to 5 s, seen here as
# alive=false), and after a backward step a crashed object's last stamp
# lay in the future, so it stayed "alive" for ten years.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"
. "$(dirname "$0")/cbd_clock_lib.sh"

FIO_SIZE=${CBD_CLOCK_FIO_SIZE:-48M}
TMP=/tmp/cbd-clock
# time to spend at each clock setting: two heartbeat intervals and more
DWELL=${CBD_CLOCK_DWELL:-12}

# The alive files of every object this test created.
alive_files() {
	local t s
	t=$(cbd_tdir)
	echo "$t/cbd_hosts/host$(cbd_my_host_id)/alive"
	echo "$t/cbd_backends/backend$1/alive"
	echo "$t/cbd_blkdevs/blkdev$2/alive"
	# segments in use now (a stopped pass may leave dead ones behind)
	for s in "$t"/cbd_segments/segment*; do
		case "$(cat "$s/type" 2>/dev/null)" in
		channel|cache)
			[ "$(cat "$s/alive" 2>/dev/null)" = true ] && echo "$s/alive" ;;
		esac
	done
}

# run_steps MODE EXTRA QUEUES: one pass (backend-start EXTRA options).
run_steps() {
	local mode=$1 extra=$2 queues=$3 bid devid dev files fio_pid wpid rc=0 n
	local bad=$TMP/notalive.$mode log=$TMP/fio.$mode

	if ! cbd_backend_start "$CBD_DISK" "$extra"; then
		ktap_test_fail "$mode: backend-start$extra"
		return
	fi
	bid=$CBD_LAST_BACKEND
	if ! cbd_dev_start "$bid" "$queues"; then
		ktap_test_fail "$mode: dev-start queues=$queues"
		cbd_backend_stop "$bid"
		return
	fi
	devid=$CBD_LAST_DEV_ID dev=/dev/$CBD_LAST_CBD
	files=$(alive_files "$bid" "$devid")
	n=$(echo "$files" | wc -l)
	ktap_print_msg "$mode: $dev, watching $n alive files"
	# shellcheck disable=SC2086
	cbd_check "$mode: all $n alive files read true before the steps" \
		all_true $files

	: > "$bad"
	# shellcheck disable=SC2086
	watch_alive "$bad" $files &
	wpid=$!

	# a time-based write phase spanning both steps, then the verify
	fio --output="$log" --name=clock --filename="$dev" --size="$FIO_SIZE" \
		--direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite \
		--bsrange=4k-64k --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--exitall_on_error=1 --randrepeat=0 --time_based=1 \
		--runtime=$((3 * DWELL)) > /dev/null 2>&1 &
	fio_pid=$!

	sleep "$DWELL"
	cbd_check "$mode: step the clock 5 years forward" clock_step $((5 * YEAR))
	sleep "$DWELL"
	cbd_check "$mode: step the clock 10 years back" clock_step $((-10 * YEAR))
	sleep "$DWELL"

	wait "$fio_pid" || rc=$?
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	if [ "$rc" -ne 0 ] || grep -qiE 'verify: bad|verify failed|err= *[1-9]|fio: .*error' "$log"; then
		ktap_print_msg "fio (exit $rc):"
		grep -iE 'err|verify|bad' "$log" | head -10 | sed 's/^/#   /'
		ktap_test_fail "$mode: fio across the steps: 0 I/O errors, data verified"
	else
		ktap_print_msg "$mode: fio $(grep -oE 'WRITE: bw=[^,]*' "$log" | head -1)"
		ktap_test_pass "$mode: fio across the steps: 0 I/O errors, data verified"
	fi
	if [ -s "$bad" ]; then
		ktap_print_msg "$mode: $(wc -l < "$bad") polls read not alive, first:"
		head -5 "$bad" | sed 's/^/#   /'
		ktap_test_fail "$mode: no object read alive=false during the steps"
	else
		ktap_test_pass "$mode: no object read alive=false during the steps"
	fi
	cbd_check "$mode: kernel log has no 'dead'" no_dead_in_log
	cbd_check "$mode: data readable after the steps" \
		dd if="$dev" of=/dev/null bs=1M count="${FIO_SIZE%M}" iflag=direct status=none
	cbd_check "$mode: dev-stop and backend-stop" cbd_stop_pair
	clock_restore
}

# A crashed backend is detected dead within CBD_DEAD_WAIT, the clock
# stepped back ten years right after the crash.
crash_after_step() {
	local bid t0 inject

	inject=$(cbd_inject_crash_file) || { ktap_test_fail "no $inject"; return; }
	if ! cbd_start_pair 1; then
		ktap_test_fail "crash: start backend and /dev/cbdX"
		return
	fi
	bid=$CBD_LAST_BACKEND
	cbd_check "crash: I/O works" \
		dd if="/dev/$CBD_LAST_CBD" of=/dev/null bs=64k count=16 iflag=direct status=none
	t0=$(uptime_s)
	cbd_check "crash: inject a crash of backend$bid" cbd_write "$inject" "$bid"
	cbd_check "crash: step the clock 10 years back" clock_step $((-10 * YEAR))
	cbd_check "crash: backend$bid reads alive=false within ${CBD_DEAD_WAIT}s" \
		cbd_wait_dead "$(cbd_tdir)/cbd_backends/backend$bid/alive"
	ktap_print_msg "crash: alive=false $(( $(uptime_s) - t0 ))s after the crash (bound ${CBD_DEAD_WAIT}s)"
	clock_restore
	cbd_check "crash: dev-stop force=1" cbd_dev_stop "$CBD_LAST_DEV_ID" force
	cbd_expect "$(cbd_adm_file)" "op=backend-clear,backend_id=$bid" OK \
		"crash: backend-clear of the dead backend"
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND='' CBD_LAST_CBD=''
}

cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
trap 'clock_restore; cbd_cleanup_all >/dev/null 2>&1; cbd_release_disks >/dev/null 2>&1' EXIT
mkdir -p "$TMP"
cbd_setup_transport

run_steps nocache "" 2
# a cache of 4 segments serves one queue
run_steps cache ",cache_size=64" 1
crash_after_step

clock_restore
drift=$(clock_drift)
cbd_check "clock restored (drift ${drift}s)" test "${drift#-}" -le 2
rm -rf "$TMP"
cbd_finish
