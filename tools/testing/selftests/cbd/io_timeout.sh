#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# io_timeout: a live backend that does not complete.  The handler of the
# blkdev's only channel is stalled through the fault-injection file
# /sys/kernel/debug/cbd/transportN/inject_handler_stall: the backend's
# heartbeat goes on, its submit ring is not consumed.
#
# 1. With /sys/block/cbdX/queue/io_timeout at 5000 ms, a read ends in EIO
#    within IO_TIMEOUT_BOUND (io_timeout + 5 s: the blk-mq timer runs on
#    whole seconds), the kernel log says the live backend did not
#    complete it, and later I/O on the queue, the channel retired, fails
#    with EIO at once.  A non-force dev-stop of the closed device returns
#    within STOP_BOUND.
# 2. A device open by a writer stuck on the stalled handler (default
#    io_timeout, 60 s): a non-force dev-stop returns within STOP_BOUND
#    (EBUSY: it is open), dev-stop force=1 returns within STOP_BOUND and
#    the writer ends with an error.
# 3. A corrupt submission entry: while the handler is stalled, the op of
#    the one entry in flight is overwritten through $CBD_PMEM, as a buggy
#    or hostile peer could; once the handler serves again the request
#    ends in EIO within SE_BOUND, the log names the entry, and the queue
#    still serves the next request.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

IO_TIMEOUT_MS=5000
IO_TIMEOUT_BOUND=$(( IO_TIMEOUT_MS / 1000 + 5 ))
STOP_BOUND=10
SE_BOUND=10
TMP=/tmp/cbd-iotimeout
STALL=

# millisecond monotonic clock
now_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

stall() { cbd_write "$STALL" "$1 $2"; }

# The one channel of blkdev $1 / backend $2.
only_channel() {
	local segs
	segs=$(cbd_channels_of "$1" "$2")
	[ "$(echo "$segs" | wc -w)" = 1 ] || { ktap_print_msg "channels: '$segs'"; return 1; }
	echo "$segs"
}

# wait_pid_ms PID SECONDS: wait for PID at most SECONDS; sets WAIT_RC (the
# exit status, or 124 if it was still running) and WAIT_MS.
WAIT_RC=0 WAIT_MS=0
wait_pid_ms() {
	local pid=$1 limit=$(( $2 * 1000 )) t0
	t0=$(now_ms)
	while kill -0 "$pid" 2>/dev/null; do
		if [ $(( $(now_ms) - t0 )) -gt "$limit" ]; then
			WAIT_RC=124 WAIT_MS=$(( $(now_ms) - t0 ))
			return 1
		fi
		sleep 0.1
	done
	WAIT_RC=0
	wait "$pid" || WAIT_RC=$?
	WAIT_MS=$(( $(now_ms) - t0 ))
}

# timed_adm COMMAND: the adm command's result in ADM_RES, its time in ADM_MS.
ADM_RES='' ADM_MS=0
timed_adm() {
	local t0
	t0=$(now_ms)
	ADM_RES=$(timeout 120 "$CBD_WRITE_BIN" "$(cbd_adm_file)" "$1")
	ADM_MS=$(( $(now_ms) - t0 ))
	[ -n "$ADM_RES" ] || ADM_RES="no result (timeout 120 s)"
}

klog_has() { cbd_dmesg_since_mark | grep -qE "$1"; }

part_timeout() {
	local bid devid disk seg pid t0

	cbd_check "1: start backend and /dev/cbdX (1 queue)" cbd_start_pair 1 || return
	bid=$CBD_LAST_BACKEND devid=$CBD_LAST_DEV_ID disk=$CBD_LAST_CBD
	seg=$(only_channel "$devid" "$bid") || { ktap_test_fail "1: one channel"; return; }
	cbd_check "1: io_timeout $IO_TIMEOUT_MS ms" \
		cbd_write "/sys/block/$disk/queue/io_timeout" "$IO_TIMEOUT_MS"
	cbd_check "1: I/O works" dd if="/dev/$disk" of=/dev/null bs=4k count=16 \
		iflag=direct status=none
	cbd_check "1: stall the handler of channel $seg" stall "$seg" 1 || return

	t0=$(now_ms)
	dd if="/dev/$disk" of=/dev/null bs=4k count=1 skip=100 iflag=direct \
		2> "$TMP/dd1.err" &
	pid=$!
	wait_pid_ms "$pid" $(( IO_TIMEOUT_BOUND + 30 ))
	ktap_print_msg "1: stuck read ended after ${WAIT_MS} ms, status $WAIT_RC: $(head -1 "$TMP/dd1.err")"
	cbd_check "1: the stuck read ends in EIO" grep -q "Input/output error" "$TMP/dd1.err"
	cbd_check "1: ... within ${IO_TIMEOUT_BOUND}s (io_timeout ${IO_TIMEOUT_MS} ms)" \
		test "$WAIT_MS" -le $(( IO_TIMEOUT_BOUND * 1000 ))
	cbd_check "1: the log says the live backend did not complete it" \
		klog_has "not completed by live backend$bid within $IO_TIMEOUT_MS ms"

	t0=$(now_ms)
	cbd_check "1: later I/O on the retired queue fails" \
		sh -c "! timeout 30 dd if=/dev/$disk of=/dev/null bs=4k count=1 skip=200 iflag=direct 2>/dev/null"
	ktap_print_msg "1: later read failed after $(( $(now_ms) - t0 )) ms"
	cbd_check "1: ... at once (< 2 s)" test $(( $(now_ms) - t0 )) -lt 2000

	stall "$seg" 0
	timed_adm "op=dev-stop,dev_id=$devid"
	ktap_print_msg "1: non-force dev-stop: $ADM_RES after $ADM_MS ms"
	cbd_check "1: non-force dev-stop returns within ${STOP_BOUND}s" \
		test "$ADM_MS" -le $(( STOP_BOUND * 1000 ))
	if [ "$ADM_RES" != OK ]; then
		cbd_check "1: dev-stop force=1" cbd_dev_stop "$devid" force
	fi
	cbd_check "1: backend-stop" cbd_backend_stop "$bid"
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND='' CBD_LAST_CBD=''
}

part_stop_stuck() {
	local bid devid disk seg pid

	cbd_check "2: start backend and /dev/cbdX (1 queue)" cbd_start_pair 1 || return
	bid=$CBD_LAST_BACKEND devid=$CBD_LAST_DEV_ID disk=$CBD_LAST_CBD
	seg=$(only_channel "$devid" "$bid") || { ktap_test_fail "2: one channel"; return; }
	ktap_print_msg "2: io_timeout $(cat "/sys/block/$disk/queue/io_timeout") ms (default)"
	cbd_check "2: stall the handler of channel $seg" stall "$seg" 1 || return

	dd if=/dev/zero of="/dev/$disk" bs=64k count=64 oflag=direct \
		2> "$TMP/dd2.err" &
	pid=$!
	cbd_check "2: the writer is stuck (writes in flight)" \
		cbd_wait_for 10 sh -c "[ \"\$(awk '{print \$2}' /sys/block/$disk/inflight)\" -gt 0 ]"

	timed_adm "op=dev-stop,dev_id=$devid"
	ktap_print_msg "2: non-force dev-stop while open and stuck: $ADM_RES after $ADM_MS ms"
	cbd_check "2: non-force dev-stop returns within ${STOP_BOUND}s" \
		test "$ADM_MS" -le $(( STOP_BOUND * 1000 ))
	cbd_check "2: ... with EBUSY (the device is open)" test "$ADM_RES" = EBUSY

	timed_adm "op=dev-stop,dev_id=$devid,force=1"
	ktap_print_msg "2: dev-stop force=1: $ADM_RES after $ADM_MS ms"
	cbd_check "2: dev-stop force=1 succeeds" test "$ADM_RES" = OK
	cbd_check "2: ... within ${STOP_BOUND}s" test "$ADM_MS" -le $(( STOP_BOUND * 1000 ))
	wait_pid_ms "$pid" 30
	ktap_print_msg "2: the writer ended $WAIT_MS ms later, status $WAIT_RC: $(head -1 "$TMP/dd2.err")"
	cbd_check "2: the stuck writer ends with an error" \
		test "$WAIT_RC" -ne 0 -a "$WAIT_RC" -ne 124
	cbd_check "2: /sys/block/$disk is gone" cbd_wait_for 10 test ! -e "/sys/block/$disk"
	# the handler goes with the backend; it may already be gone
	stall "$seg" 0 > /dev/null
	cbd_check "2: backend-stop" cbd_backend_stop "$bid"
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND='' CBD_LAST_CBD=''
}

# u32 at byte OFF of $CBD_PMEM, read past the page cache
pmem_u32() {
	dd if="$CBD_PMEM" bs=512 count=1 skip=$(( $1 / 512 )) iflag=direct status=none |
		od -An -tu4 -j $(( $1 % 512 )) -N4 | tr -d ' '
}

# pmem_poke OFF BYTES: overwrite the bytes at OFF (one 512-byte sector,
# O_DIRECT read-modify-write); BYTES as printf escapes.
pmem_poke() {
	local off=$1 bytes=$2 sec=$(( $1 / 512 )) f=$TMP/sector
	dd if="$CBD_PMEM" of="$f" bs=512 count=1 skip="$sec" iflag=direct status=none || return 1
	# shellcheck disable=SC2059
	printf "$bytes" | dd of="$f" bs=1 seek=$(( off % 512 )) conv=notrunc status=none || return 1
	dd if="$f" of="$CBD_PMEM" bs=512 count=1 seek="$sec" oflag=direct conv=notrunc status=none
}

part_corrupt_se() {
	local bid devid disk seg pid segoff head tail se_off op_off se_size crc t0

	cbd_check "3: start backend and /dev/cbdX (1 queue)" cbd_start_pair 1 || return
	bid=$CBD_LAST_BACKEND devid=$CBD_LAST_DEV_ID disk=$CBD_LAST_CBD
	seg=$(only_channel "$devid" "$bid") || { ktap_test_fail "3: one channel"; return; }
	cbd_check "3: stall the handler of channel $seg" stall "$seg" 1 || return

	dd if="/dev/$disk" of=/dev/null bs=4k count=1 skip=300 iflag=direct \
		2> "$TMP/dd3.err" &
	pid=$!
	cbd_check "3: the read is in flight" \
		cbd_wait_for 10 sh -c "[ \"\$(awk '{print \$1}' /sys/block/$disk/inflight)\" -gt 0 ]"

	segoff=$(( $(cbd_info_field segment_area_off) + seg * $(cbd_info_field bytes_per_segment) ))
	# cbd_channel_info: submr_head at 36, submr_tail at 40
	head=$(pmem_u32 $(( segoff + 36 )))
	tail=$(pmem_u32 $(( segoff + 40 )))
	# with CONFIG_CBD_CRC (transport flag 2) the entries carry two CRC words
	crc=$(( $(cbd_info_field flags) & 2 ))
	if [ "$crc" != 0 ]; then
		se_off=$(( segoff + 28672 + tail )) op_off=8 se_size=48
	else
		se_off=$(( segoff + 20480 + tail )) op_off=0 se_size=40
	fi
	ktap_print_msg "3: channel $seg at $segoff: submr_head $head submr_tail $tail (crc flag $crc)"
	cbd_check "3: exactly the one read is in the submit ring" \
		test $(( head - tail )) -eq "$se_size"
	cbd_check "3: the entry in flight is a READ" \
		test "$(pmem_u32 $(( se_off + op_off )))" = 1
	cbd_check "3: overwrite its op with 0xdeadbeef through $CBD_PMEM" \
		pmem_poke $(( se_off + op_off )) '\xef\xbe\xad\xde'
	cbd_check "3: the op reads 0xdeadbeef" \
		test "$(pmem_u32 $(( se_off + op_off )))" = $(( 0xdeadbeef ))

	t0=$(now_ms)
	cbd_check "3: the handler serves again" stall "$seg" 0
	wait_pid_ms "$pid" $(( SE_BOUND + 30 ))
	ktap_print_msg "3: the corrupt read ended after ${WAIT_MS} ms, status $WAIT_RC: $(head -1 "$TMP/dd3.err")"
	cbd_check "3: the request of the corrupt entry ends in EIO" \
		grep -q "Input/output error" "$TMP/dd3.err"
	cbd_check "3: ... within ${SE_BOUND}s" test "$WAIT_MS" -le $(( SE_BOUND * 1000 ))
	cbd_check "3: the log names the entry" \
		klog_has "se at $tail: (invalid op|req_tid .* crc still bad)"
	cbd_check "3: the next request on the queue is served" \
		dd if="/dev/$disk" of=/dev/null bs=4k count=16 iflag=direct status=none
	cbd_check "3: dev-stop and backend-stop" cbd_stop_pair
}

cbd_core_begin
cbd_require_disk
mkdir -p "$TMP"
cbd_setup_transport
cbd_inject_crash_file > /dev/null || ktap_exit_fail_msg "no debugfs"
STALL=/sys/kernel/debug/cbd/transport$CBD_TID/inject_handler_stall
[ -w "$STALL" ] || ktap_exit_fail_msg "no $STALL"

cbd_expect "$STALL" "99999 1" ENOENT "stall injection: no handler for that segment"
cbd_expect "$STALL" "0 2" EINVAL "stall injection: stall is 0 or 1"

part_timeout
part_stop_stuck
part_corrupt_se
rm -rf "$TMP"
cbd_finish
