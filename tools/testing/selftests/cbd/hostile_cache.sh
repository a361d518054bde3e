#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile shared memory, the cache: its segment chain, the cache segment
# headers, ksets and keys of the journal, and the tail positions while it
# runs.  Journal cases: a cached pair writes 1 MiB, is stopped cleanly
# and its cache written back; one record of the cache is then corrupted
# through the pmem device and dev-start replays the journal: it must be
# refused with an errno, or start and read the data written before (the
# disk has it).  Every case: no oops/WARN, dev-stop force=1 and
# backend-stop work, an uncorrupted pair keeps its data.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"
. "$(dirname "$0")/cbd_hostile_lib.sh"

CACHE=",cache_size=128"
md5_1m() { timeout 30 dd if="$1" bs=64k count=16 iflag=direct status=none | md5sum | cut -d' ' -f1; }

# Offset of a record of the cache of backend $1: "seg" (first cache
# segment header), "seg2" (the second), "kset" (the kset at key_tail).
cache_off() {
	local b=$1 what=$2 boff seg seg2 toff
	boff=$(hx_backend_off "$b")
	seg=$(hx_peek_u $((boff + 40)) 4)
	case "$what" in
	seg)  hx_seg_off "$seg" ;;
	seg2) seg2=$(hx_peek_u $(( $(hx_seg_off "$seg") + 4 )) 4); hx_seg_off "$seg2" ;;
	kset) toff=$(hx_peek_u $((boff + 60)) 4)
	      echo $(( $(hx_seg_off "$seg") + 4096 + toff )) ;;
	esac
}

# jr_case NAME WHAT FIELD_OFF BYTES VALUE WANT
jr_case() {
	local name=$1 what=$2 foff=$3 n=$4 val=$5 want=$6 b t0 got sum dev=
	cbd_dmesg_mark
	t0=$(date +%s)
	cbd_backend_start "$CBD_DISK" "$CACHE" || { ktap_test_fail "hostile: $name: backend-start"; return; }
	b=$CBD_LAST_BACKEND
	cbd_dev_start "$b" 1 || { ktap_test_fail "hostile: $name: dev-start"; hx_teardown "$name" "$b"; return; }
	dd if=/dev/urandom of="/dev/$CBD_LAST_CBD" bs=64k count=16 oflag=direct status=none
	sum=$(md5_1m "/dev/$CBD_LAST_CBD")
	cbd_cache_wait_clean "$b" "/dev/$CBD_LAST_CBD" 60 >/dev/null
	cbd_dev_stop "$CBD_LAST_DEV_ID"
	hx_corrupt $(( $(cache_off "$b" "$what") + foff )) "$n" "$val"
	got=$(hx_errno_within 60 "$ADM" "op=dev-start,backend_id=$b,queues=1")
	if [ "$got" = OK ]; then
		cbd_wait_for 10 sh -c '[ "$(ls -d /sys/block/cbd* | wc -l)" -ge 2 ]'
		local d
		for d in $(cbd_local_disks); do
			[ "$d" = "$HX_OTHER_DISK" ] && continue
			dev=$(cbd_disk_dev_id "$d")
			cbd_wait_for 10 test -b "/dev/$d"
			[ "$(md5_1m "/dev/$d")" = "$sum" ] && got="OK,data:same" || got="OK,data:CHANGED"
		done
	fi
	hx_result "$name" "$want" "$got" "$t0"
	hx_restore
	hx_teardown "$name" "$b" "$dev"
}

# run_case NAME BACKEND_FIELD_OFF BYTES VALUE WANT: a running cached pair
# writes while a cache_info field of its slot is corrupted.
run_case() {
	local name=$1 foff=$2 n=$3 val=$4 want=$5 b dev disk t0 rc=0 got
	cbd_dmesg_mark
	t0=$(date +%s)
	cbd_backend_start "$CBD_DISK" "$CACHE" || { ktap_test_fail "hostile: $name: backend-start"; return; }
	b=$CBD_LAST_BACKEND
	cbd_dev_start "$b" 1 || { ktap_test_fail "hostile: $name: dev-start"; hx_teardown "$name" "$b"; return; }
	dev=$CBD_LAST_DEV_ID disk=$CBD_LAST_CBD
	hx_short_timeout "$disk"
	hx_corrupt $(( $(hx_backend_off "$b") + foff )) "$n" "$val"
	timeout "$HX_IO_BOUND" dd if=/dev/urandom of="/dev/$disk" bs=64k count=64 oflag=direct status=none 2>/dev/null || rc=$?
	sleep 3	# GC and the writeback run once a second
	case "$rc" in 0) got=OK ;; 124) got=TIMEOUT ;; *) got=EIO ;; esac
	got=io:$got,read:$(hx_io "/dev/$disk")
	hx_result "$name" "$want" "$got" "$t0"
	hx_restore
	hx_teardown "$name" "$b" "$dev"
}

hx_begin

# segment header: state 0, type 1, next_seg 4; cache_seg_info: flags 16,
# next_cache_seg_id 20, gen 24.  kset: crc 0, magic 8, flags 16,
# key_num 24, seg_gen 28, keys from 32 (off 0, len 8, flags 12,
# cache_seg_id 16, cache_seg_off 20, seg_gen 24).
jr_case "cache seg0 header type=channel"   seg 1 1 1 "EINVAL|EIO"
jr_case "cache seg0 header state=0"        seg 0 1 0 "EINVAL|EIO"
jr_case "cache chain seg1.next_seg=2^32-1" seg2 4 4 $(( (1 << 32) - 1 )) "EINVAL|EIO"
jr_case "cache chain loop seg0.next_seg=0-th" seg 4 4 0 "EINVAL|EIO|OK,data:same"
jr_case "key seg HAS_NEXT, next=2^31"      seg 16 8 $(( 1 | (1 << 31) << 32 )) "EIO|OK,data:same"
jr_case "key seg gen changed"              seg 24 8 12345 "EIO|OK,data:same"
jr_case "kset.magic"                       kset 8 8 0 "EIO|OK,data:same"
jr_case "kset.key_num=2^31"                kset 24 4 $(( 1 << 31 )) "EIO|OK,data:same"
jr_case "kset.flags=LAST|junk"             kset 16 8 $(( 0xff01 )) "EIO|OK,data:same"
jr_case "key[0].off=2^62"                  kset 32 8 $(( 1 << 62 )) "EIO|OK,data:same"
jr_case "key[0].len=2^31"                  kset 40 4 $(( 1 << 31 )) "EIO|OK,data:same"
jr_case "key[0].cache_seg_id=2^20"         kset 48 4 $(( 1 << 20 )) "EIO|OK,data:same"
jr_case "key[0].cache_seg_off=2^30"        kset 52 4 $(( 1 << 30 )) "EIO|OK,data:same"
run_case "running: dirty_tail.seg_off=2^31" 68 4 $(( 1 << 31 )) "io:OK,read:OK|io:EIO,read:EIO|io:OK,read:EIO"
run_case "running: dirty_tail.seg_id=2^20"  64 4 $(( 1 << 20 )) "io:OK,read:OK|io:EIO,read:EIO|io:OK,read:EIO"
run_case "running: gc_percent=0xffff"       52 2 $(( 0xffff )) "io:OK,read:OK"

hx_summary
cbd_check "uncorrupted pair stops" hx_other_teardown
cbd_check "unregister the transport" cbd_unregister
cbd_finish
