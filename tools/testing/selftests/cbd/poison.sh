#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Media errors in the transport.  Reads out of the transport use a
# machine-check-safe copy; the fault-injection point fail_media_copy
# (/sys/kernel/debug/cbd/fail_media_copy/: the kernel's fault-injection
# attribute where the kernel has CONFIG_FAULT_INJECTION, else CBD's
# stand-in with the same probability and times files) makes that copy
# fail as a poisoned line does.
#
# 0. The point fail_handler_bio (the same kind of attribute) makes a bio
#    of the backend's handler on the backing disk fail: the READ it
#    served ends in EIO, then a WRITE; the data written before reads
#    back intact and writes work once the point is off.
# 1. Without a cache: a READ whose data copy out of the channel fails
#    ends in EIO, with one log line; the kernel stays up, and the data
#    written before reads back intact once the point is off.  With
#    CONFIG_CBD_CRC the first copy is the handler's CRC of the READ data:
#    the same EIO and log line are expected from it.
# 2. With a cache: a READ that hits the cache and whose copy fails ends
#    in EIO, with one log line; other I/O is fine.
# 3. A memory failure reported on a transport range (the DAX
#    notify_failure path, reached here through debugfs
#    inject_memory_failure without real poison) logs the objects in the
#    range and retires them.  In the channel of one of two blkdevs: that
#    channel's queue and handler are retired, its I/O ends in EIO, a
#    non-force dev-stop returns; the other blkdev's data reads back
#    intact and it keeps serving I/O.  In a cache segment: the cache
#    fails on both sides, its I/O ends in EIO, dev-stop and backend-stop
#    return.  Then, with nothing running: the header area, a range
#    outside the transport, a range over many segments (a bounded number
#    named), and a malformed injection.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

TMP=/tmp/cbd-poison
FI=/sys/kernel/debug/cbd/fail_media_copy
FHB=/sys/kernel/debug/cbd/fail_handler_bio
MF=

# fi_arm TIMES [DIR]: fail the next TIMES copies (every one: probability
# 100), or TIMES calls of the fault point in DIR.
fi_arm() {
	local d=${2:-$FI}
	if [ -e "$d/interval" ]; then
		# the kernel's framework: quiet (its default logs a stack trace)
		echo 0 > "$d/verbose" && echo 1 > "$d/interval" || return 1
	fi
	echo "$1" > "$d/times" && echo 100 > "$d/probability"
}

fi_off() {
	echo 0 > "${1:-$FI}/probability"
}

# fail_handler_bio: a bio of the backend's handler on the backing disk
# fails; the request that it served gets EIO, nothing else.
part_handler_bio() {
	local dev

	cbd_check "0: start backend and /dev/cbdX (1 queue)" cbd_start_pair 1 || return
	dev=/dev/$CBD_LAST_CBD
	cbd_check "0: write 4 MiB" \
		dd if="$TMP/data" of="$dev" bs=1M oflag=direct conv=fsync status=none
	cbd_check "0: arm fail_handler_bio for one bio" fi_arm 1 "$FHB"
	cbd_check "0: the READ whose backing bio fails ends in EIO" \
		expect_eio "0: failed backing read" "$dev" 9
	fi_off "$FHB"
	cbd_check "0: the point fired once (times 0)" test "$(cat "$FHB/times")" = 0
	cbd_check "0: other I/O is fine: the 4 MiB read back intact" \
		sh -c "dd if=$dev bs=1M count=4 iflag=direct status=none | cmp - $TMP/data"
	cbd_check "0: arm fail_handler_bio for one bio, then write" fi_arm 1 "$FHB"
	cbd_check "0: the WRITE whose backing bio fails ends in EIO" \
		sh -c "! dd if=$TMP/data of=$dev bs=4k count=1 seek=5 oflag=direct status=none 2>/dev/null"
	fi_off "$FHB"
	cbd_check "0: writes are fine again" \
		dd if="$TMP/data" of="$dev" bs=1M seek=8 oflag=direct conv=fsync status=none
	cbd_check "0: dev-stop and backend-stop" cbd_stop_pair
}

# lines of the kernel log since the mark matching $1
klog_count() {
	cbd_dmesg_since_mark | grep -cE "$1"
}

# expect_eio DESC DEV SKIP_4K: a 4 KiB O_DIRECT read at SKIP_4K fails
# with EIO within 10 s.
expect_eio() {
	local err t0=$SECONDS
	err=$(timeout 10 dd if="$2" of=/dev/null bs=4k count=1 skip="$3" \
		iflag=direct 2>&1)
	ktap_print_msg "$1: $(( SECONDS - t0 ))s: ${err%%$'\n'*}"
	[[ $err == *"Input/output error"* ]]
}

part_nocache() {
	local dev n0 n1

	cbd_check "1: start backend and /dev/cbdX (1 queue)" cbd_start_pair 1 || return
	dev=/dev/$CBD_LAST_CBD
	cbd_check "1: write 4 MiB" \
		dd if="$TMP/data" of="$dev" bs=1M oflag=direct conv=fsync status=none
	cbd_check "1: read back intact" \
		sh -c "dd if=$dev bs=1M count=4 iflag=direct status=none | cmp - $TMP/data"

	n0=$(klog_count "media error in the data of req")
	cbd_check "1: arm fail_media_copy for one copy" fi_arm 1
	cbd_check "1: the READ whose copy fails ends in EIO" expect_eio "1: poisoned read" "$dev" 17
	fi_off
	n1=$(klog_count "media error in the data of req")
	cbd_check "1: one log line for it (got $((n1 - n0)))" test $((n1 - n0)) -eq 1
	cbd_check "1: the point fired once (times 0)" test "$(cat "$FI/times")" = 0
	cbd_check "1: other I/O is fine: the 4 MiB read back intact" \
		sh -c "dd if=$dev bs=1M count=4 iflag=direct status=none | cmp - $TMP/data"
	cbd_check "1: writes are fine" \
		dd if="$TMP/data" of="$dev" bs=1M seek=8 oflag=direct conv=fsync status=none
	cbd_check "1: dev-stop and backend-stop" cbd_stop_pair
}

# start_cached PART: a backend with a 64 MiB cache and a 1-queue blkdev on
# it, 4 MiB of $TMP/data written through it
start_cached() {
	if ! cbd_backend_start "$CBD_DISK" ",cache_size=64"; then
		ktap_test_fail "$1: backend-start cache_size=64"
		return 1
	fi
	if ! cbd_dev_start "$CBD_LAST_BACKEND" 1; then
		ktap_test_fail "$1: dev-start"
		cbd_backend_stop "$CBD_LAST_BACKEND"
		return 1
	fi
	cbd_check "$1: write 4 MiB into the cache" \
		dd if="$TMP/data" of="/dev/$CBD_LAST_CBD" bs=1M oflag=direct conv=fsync status=none
}

part_cache() {
	local dev bid n0 n1 h0 h1

	start_cached 2 || return
	bid=$CBD_LAST_BACKEND dev=/dev/$CBD_LAST_CBD
	cbd_check "2: read back intact" \
		sh -c "dd if=$dev bs=1M count=4 iflag=direct status=none | cmp - $TMP/data"
	h0=$(cbd_cache_stat "$bid" hits)
	cbd_check "2: the reads hit the cache (hits $h0)" test "${h0:-0}" -gt 0

	n0=$(klog_count "cache[0-9]+: media error in cache segment")
	cbd_check "2: arm fail_media_copy for one copy" fi_arm 1
	cbd_check "2: the cache hit whose copy fails ends in EIO" \
		expect_eio "2: poisoned cache hit" "$dev" 33
	fi_off
	n1=$(klog_count "cache[0-9]+: media error in cache segment")
	cbd_check "2: one log line for it (got $((n1 - n0)))" test $((n1 - n0)) -eq 1
	cbd_check "2: other I/O is fine: the 4 MiB read back intact" \
		sh -c "dd if=$dev bs=1M count=4 iflag=direct status=none | cmp - $TMP/data"
	h1=$(cbd_cache_stat "$bid" hits)
	cbd_check "2: ... from the cache (hits $h0 -> $h1)" test "$h1" -gt "$h0"
	cbd_check "2: dev-stop and backend-stop" cbd_stop_pair
}

# seg_off SEG: byte offset of segment SEG in the transport
seg_off() {
	echo $(( $(cbd_info_field segment_area_off) + $1 * $(cbd_info_field bytes_per_segment) ))
}

# timed DESC CMD...: CMD (a shell function) succeeds within 20 s; a hang
# is caught by the test's own timeout
timed() {
	local desc=$1 t0=$SECONDS rc=0
	shift
	"$@" || rc=$?
	ktap_print_msg "$desc: rc $rc after $(( SECONDS - t0 ))s"
	[ "$rc" = 0 ] && [ $(( SECONDS - t0 )) -le 20 ]
}

part_mf_channel() {
	local bid1 dev1 id1 bid2 dev2 id2 seg n

	if [ ! -b "$CBD_DISK2" ]; then
		ktap_test_skip "3a: a memory failure in one of two channels (no $CBD_DISK2)"
		return
	fi
	cbd_check "3a: start backend and /dev/cbdX (1 queue)" cbd_start_pair 1 || return
	bid1=$CBD_LAST_BACKEND dev1=/dev/$CBD_LAST_CBD id1=$CBD_LAST_DEV_ID
	cbd_check "3a: start a second pair on $CBD_DISK2" cbd_start_pair 1 "$CBD_DISK2" || return
	bid2=$CBD_LAST_BACKEND dev2=/dev/$CBD_LAST_CBD id2=$CBD_LAST_DEV_ID
	cbd_check "3a: write 4 MiB to both" sh -c \
		"dd if=$TMP/data of=$dev1 bs=1M oflag=direct conv=fsync status=none &&
		 dd if=$TMP/data of=$dev2 bs=1M oflag=direct conv=fsync status=none"
	seg=$(cbd_channels_of "$id1" "$bid1")

	cbd_check "3a: report a failure in the data of channel segment$seg" \
		cbd_write "$MF" "$(( $(seg_off "$seg") + $(cbd_info_field bytes_per_segment) / 2 )) 4096"
	cbd_check "3a: the log names segment$seg, blkdev$id1 and backend$bid1" \
		test "$(klog_count "memory failure in segment$seg: channel of blkdev$id1 and backend$bid1")" -eq 1
	n=$(klog_count "queue$seg: memory failure in its channel: channel retired, its I/O fails")
	cbd_check "3a: the blkdev's queue is retired (got $n)" test "$n" -eq 1
	n=$(klog_count "handler$seg: memory failure in its channel: channel retired, no entry is served")
	cbd_check "3a: the backend's handler is retired (got $n)" test "$n" -eq 1
	cbd_check "3a: I/O on the retired channel ends in EIO" expect_eio "3a: retired channel" "$dev1" 0
	cbd_check "3a: the other blkdev reads back intact" \
		sh -c "dd if=$dev2 bs=1M count=4 iflag=direct status=none | cmp - $TMP/data"
	cbd_check "3a: ... and writes" \
		dd if="$TMP/data" of="$dev2" bs=1M seek=8 oflag=direct conv=fsync status=none
	cbd_check "3a: dev-stop (not forced) of the failed blkdev returns" \
		timed "3a: dev-stop" cbd_dev_stop "$id1"
	cbd_check "3a: its backend-stop returns" timed "3a: backend-stop" cbd_backend_stop "$bid1"
	cbd_check "3a: the other pair stops" cbd_stop_pair
}

part_mf_cache() {
	local bid dev seg n

	start_cached 3b || return
	bid=$CBD_LAST_BACKEND dev=/dev/$CBD_LAST_CBD
	seg=$(cbd_cache_seg_ids | tail -n 1)
	cbd_check "3b: report a failure in cache segment${seg:-?}" \
		cbd_write "$MF" "$(( $(seg_off "$seg") + 8192 )) 4096"
	cbd_check "3b: the log names it a cache segment" \
		test "$(klog_count "memory failure in segment$seg: cache segment")" -eq 1
	n=$(klog_count "cache$bid: cache failed \(memory failure in its segments\)")
	cbd_check "3b: the cache failed on both sides (got $n of 2)" test "$n" -eq 2
	cbd_check "3b: its I/O ends in EIO" expect_eio "3b: failed cache" "$dev" 0
	cbd_check "3b: dev-stop (not forced) returns" timed "3b: dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	cbd_check "3b: backend-stop returns" timed "3b: backend-stop" cbd_backend_stop "$bid"
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND=''
}

part_mf_log() {
	local segsize

	segsize=$(cbd_info_field bytes_per_segment)
	cbd_check "3c: report a failure in the transport header" cbd_write "$MF" "0 4096"
	cbd_check "3c: the log names the header area" \
		test "$(klog_count "memory failure in the transport header or slot areas")" -eq 1
	cbd_check "3c: report a failure past the transport" \
		cbd_write "$MF" "$(( $(blockdev --getsize64 "$CBD_PMEM") + 4096 )) 4096"
	cbd_check "3c: the log says it is outside" \
		test "$(klog_count "memory failure at offset .*: outside the transport")" -eq 1
	cbd_check "3c: a range over many segments names a bounded number" \
		cbd_write "$MF" "$(cbd_info_field segment_area_off) $(( 20 * segsize ))"
	cbd_check "3c: ... and counts the rest" \
		test "$(klog_count "memory failure in 12 more segments, up to segment19")" -eq 1
	cbd_expect "$MF" "junk" EINVAL "3c: inject_memory_failure 'junk' -> EINVAL"
	cbd_check "3c: a new pair serves I/O after it all" cbd_start_pair 1
	cbd_check "3c: ... read back" \
		dd if="/dev/$CBD_LAST_CBD" of=/dev/null bs=1M count=4 iflag=direct status=none
	cbd_check "3c: dev-stop and backend-stop" cbd_stop_pair
}

cbd_core_begin
cbd_require_disk
grep -qs " /sys/kernel/debug debugfs " /proc/mounts ||
	mount -t debugfs none /sys/kernel/debug
[ -d "$FI" ] || ktap_exit_fail_msg "no $FI"
[ -d "$FHB" ] || ktap_exit_fail_msg "no $FHB"
mkdir -p "$TMP"
cbd_setup_transport
MF=/sys/kernel/debug/cbd/transport$CBD_TID/inject_memory_failure
[ -w "$MF" ] || ktap_exit_fail_msg "no $MF"
if [ -e "$FI/interval" ]; then
	ktap_print_msg "fail_media_copy: the kernel's fault-injection framework"
else
	ktap_print_msg "fail_media_copy: CBD's stand-in (no CONFIG_FAULT_INJECTION)"
fi
dd if=/dev/urandom of="$TMP/data" bs=1M count=4 status=none

part_handler_bio
part_nocache
part_cache
part_mf_channel
part_mf_cache
part_mf_log
fi_off
fi_off "$FHB"
rm -rf "$TMP"
cbd_finish
