#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lifetimes around a cached backend:
#
# 1. backendN/cache files held open across backend-stop: reading or
#    writing them afterwards fails with ENODEV, also once a new cached
#    backend took the same slot, and closing them is harmless (the
#    directory's device is freed by its release callback, not with the
#    backend).
# 2. Crash (fault injection) of a cached backend while a write larger
#    than the cache waits for the writeback, re-attach with backend_id=:
#    the new backend takes over the dead one's segment references
#    ("took over N segment references" for all N segments), writes back
#    the journal, the write completes with the right data on /dev/cbdX
#    and on the backing disk (the reads of the check count as hits or
#    misses in the new backend's cache/stats), and after dev-stop, backend-stop and
#    backend-clear no cache segment is left in cbd_segments.
# 3. Crash with the cache full and nobody re-attaching: dev-stop force=1
#    returns within 20 s (the last kset write gives up on a dead backend
#    instead of waiting), the I/O fails, and the dead users' segments are
#    reclaimed with backend-clear and segment-clear.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

TMP=/tmp/cbd-cache-lifetime
INJECT=
# cache_size=64: 4 segments (1 queue x 4), 64 MiB of cache
CACHE_MIB=64
SEGS=4
# the write of part 2 and 3: more than the cache holds
BIG=${CBD_LIFETIME_WRITE_MIB:-80}

now() { date +%s; }

# klog_count TEXT: lines of the kernel log containing TEXT
klog_count() { dmesg | grep -cF "$1"; }

# cache segments in cbd_segments (type "cache")
cache_segs_listed() {
	local s n=0
	for s in "$(cbd_tdir)"/cbd_segments/segment*; do
		[ "$(cat "$s/type" 2>/dev/null)" = cache ] && n=$((n + 1))
	done
	echo "$n"
}

cache_segs_listed_is() { [ "$(cache_segs_listed)" = "$1" ]; }

# read_fails FD: reading the held-open file fails (ENODEV)
read_fails() {
	local out
	if out=$(cat <&"$1" 2>&1); then
		ktap_print_msg "fd $1 still reads: $(head -c 80 <<<"$out")"
		return 1
	fi
	ktap_print_msg "fd $1: $out"
	[[ $out == *"No such device"* ]]
}

write_fails() {
	local out
	if out=$( (echo 50 >&"$1") 2>&1); then
		ktap_print_msg "fd $1 still takes writes"
		return 1
	fi
	ktap_print_msg "fd $1: $out"
	[[ $out == *"No such device"* ]]
}

wait_alive() {
	cbd_wait_file_is "$3" "$(cbd_tdir)/cbd_backends/backend$1/alive" "$2"
}

part_open_files() {
	local b dir

	cbd_check "cached backend (cache_size=$CACHE_MIB)" \
		cbd_backend_start "$CBD_DISK" ",cache_size=$CACHE_MIB" || return
	b=$CBD_LAST_BACKEND
	dir=$(cbd_cache_dir "$b")
	exec 3< "$dir/stats" 4> "$dir/gc_percent" 5< "$dir/used_segs"
	cbd_check "backend-stop with cache files open" cbd_backend_stop "$b"
	cbd_check "$dir is gone" test ! -e "$dir"
	cbd_check "held-open stats reads ENODEV" read_fails 3
	cbd_check "held-open gc_percent write fails ENODEV" write_fails 4

	cbd_check "new cached backend" \
		cbd_backend_start "$CBD_DISK" ",cache_size=$CACHE_MIB" || return
	ktap_print_msg "new backend$CBD_LAST_BACKEND (old one was backend$b)"
	cbd_check "its cache/stats reads" \
		grep -q "^cache_segs: $SEGS\$" "$(cbd_cache_dir "$CBD_LAST_BACKEND")/stats"
	cbd_check "old held-open used_segs still reads ENODEV" read_fails 5
	exec 3<&- 4>&- 5<&-
	cbd_check "backend-stop after closing them" cbd_backend_stop "$CBD_LAST_BACKEND"
	CBD_LAST_BACKEND=
}

# A write of BIG MiB at 16 MiB in the background; sets DD_PID.
start_big_write() {
	dd if="$TMP/big" of="/dev/$1" bs=1M seek=16 oflag=direct conv=fsync \
		> "$TMP/dd.log" 2>&1 &
	DD_PID=$!
}

part_takeover() {
	local b disk t0 n rc=0

	cbd_check "cached backend and /dev/cbdX (1 queue)" \
		cbd_backend_start "$CBD_DISK" ",cache_size=$CACHE_MIB" || return
	b=$CBD_LAST_BACKEND
	cbd_dev_start "$b" 1 || { ktap_test_fail "dev-start"; return; }
	disk=$CBD_LAST_CBD
	cbd_check "$SEGS cache segments listed" cache_segs_listed_is $SEGS

	cbd_check "write 8 MiB at 0 (fsync)" \
		dd if="$TMP/a" of="/dev/$disk" bs=1M oflag=direct conv=fsync status=none
	cbd_check "inject a crash of backend$b" sh -c "echo $b > $INJECT"
	start_big_write "$disk"
	t0=$(now)
	cbd_check "backend$b reads alive=false within 40s" wait_alive "$b" false 40
	ktap_print_msg "alive=false $(( $(now) - t0 ))s after the crash; dd: $(tr '\n' ' ' < "$TMP/dd.log")"
	cbd_check "the ${BIG} MiB write waits for the dead writeback" kill -0 "$DD_PID"

	n=$(klog_count "cache$b: took over $SEGS segment references")
	cbd_check "re-attach backend$b" cbd_backend_start "$CBD_DISK" ",backend_id=$b"
	cbd_check "re-attached backend has the same id" test "$CBD_LAST_BACKEND" = "$b"
	cbd_check "the dead backend's $SEGS segment references were taken over" \
		test "$(klog_count "cache$b: took over $SEGS segment references")" -gt "$n"

	t0=$(now)
	while kill -0 "$DD_PID" 2>/dev/null && [ $(( $(now) - t0 )) -lt 120 ]; do
		sleep 1
	done
	wait "$DD_PID" || rc=$?
	cbd_check "the write completes after re-attach (status $rc)" test "$rc" -eq 0
	cbd_check "/dev/$disk: 0..8 MiB intact" cmp -n $((8 << 20)) "$TMP/a" "/dev/$disk"
	cbd_check "/dev/$disk: the big write is all there" \
		sh -c "dd if=/dev/$disk bs=1M skip=16 count=$BIG iflag=direct status=none | cmp - $TMP/big"
	ktap_print_msg "stats: $(tr '\n' ' ' < "$(cbd_cache_dir "$b")/stats")"
	# the big write evicted most of the cache: the reads mostly miss
	cbd_check "the re-attached backend's stats count the blkdev's reads" \
		test $(( $(cbd_cache_stat "$b" hits) + $(cbd_cache_stat "$b" misses) )) -gt 0

	cbd_check "dev-stop and backend-stop" cbd_stop_pair
	cbd_check "backing disk: the big write is all there" \
		sh -c "dd if=$CBD_DISK bs=1M skip=16 count=$BIG iflag=direct status=none | cmp - $TMP/big"
	cbd_expect "$(cbd_adm_file)" "op=backend-clear,backend_id=$b,force=1" OK \
		"backend-clear of the stopped backend"
	ktap_print_msg "cache segments listed after stop: $(cache_segs_listed)"
	cbd_check "no cache segment left after crash, re-attach, stop, clear" \
		cache_segs_listed_is 0
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND='' CBD_LAST_CBD=''
}

part_dead_full() {
	local b disk t0 seg n rc=0 bad=0 segs

	cbd_check "cached backend and /dev/cbdX (1 queue)" \
		cbd_backend_start "$CBD_DISK" ",cache_size=$CACHE_MIB" || return
	b=$CBD_LAST_BACKEND
	cbd_dev_start "$b" 1 || { ktap_test_fail "dev-start"; return; }
	disk=$CBD_LAST_CBD
	segs=$(cbd_cache_seg_ids)

	n=$(klog_count "no room in the journal")
	cbd_check "inject a crash of backend$b" sh -c "echo $b > $INJECT"
	start_big_write "$disk"
	cbd_check "backend$b reads alive=false within 40s" wait_alive "$b" false 40
	cbd_check "the ${BIG} MiB write waits" kill -0 "$DD_PID"

	t0=$(now)
	cbd_check "dev-stop force=1 returns" cbd_dev_stop "$CBD_LAST_DEV_ID" force
	ktap_print_msg "dev-stop force=1 took $(( $(now) - t0 ))s"
	cbd_check "dev-stop force=1 took at most 20s" test $(( $(now) - t0 )) -le 20
	[ "$(klog_count "no room in the journal")" -gt "$n" ] &&
		ktap_print_msg "$(dmesg | grep -o 'no room in the journal.*' | tail -1)"
	wait "$DD_PID" || rc=$?
	cbd_check "the write failed (status $rc)" test "$rc" -ne 0

	cbd_expect "$(cbd_adm_file)" "op=backend-clear,backend_id=$b,force=1" OK \
		"backend-clear of the dead backend"
	for seg in $segs; do
		cbd_wait_file_is 40 "$(cbd_tdir)/cbd_segments/segment$seg/alive" false ||
			ktap_print_msg "segment$seg still alive"
		cbd_check_errno "$(cbd_adm_file)" "op=segment-clear,segment_id=$seg" OK ||
			bad=1
	done
	cbd_check "segment-clear of the dead cache segments" test "$bad" -eq 0
	cbd_check "no cache segment left" cache_segs_listed_is 0
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND='' CBD_LAST_CBD=''
}

cbd_core_begin
cbd_require_disk
mkdir -p "$TMP"
cbd_setup_transport
INJECT=$(cbd_inject_crash_file) || ktap_exit_fail_msg "no $INJECT"
dd if=/dev/urandom of="$TMP/a" bs=1M count=8 2>/dev/null
dd if=/dev/urandom of="$TMP/big" bs=1M count="$BIG" 2>/dev/null

part_open_files
part_takeover
part_dead_full
rm -rf "$TMP"
cbd_finish
