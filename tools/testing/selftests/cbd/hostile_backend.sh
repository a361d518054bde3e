#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile shared memory, backend and blkdev slots: each case writes one
# corrupt field through the pmem device (cbd_hostile_lib.sh) while the
# objects exist, then checks that the action needing the record is
# refused with the errno, no oops/WARN is logged, dev-stop force=1 and
# backend-stop work and an uncorrupted pair keeps its data.  One
# transport is formatted for all cases.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_hostile_lib.sh"

CACHE=",cache_size=128"

# bk_case NAME EXTRA FIELD_OFF BYTES VALUE WANT: backend running (EXTRA:
# backend-start options), no blkdev; corrupt the slot field, dev-start.
bk_case() {
	local name=$1 extra=$2 foff=$3 n=$4 val=$5 want=$6 b t0 got
	cbd_dmesg_mark
	t0=$(date +%s)
	cbd_backend_start "$CBD_DISK" "$extra" || { ktap_test_fail "hostile: $name: backend-start"; return; }
	b=$CBD_LAST_BACKEND
	if [ "$val" = STR ]; then
		hx_corrupt_str $(( $(hx_backend_off "$b") + foff )) "$n" A
	else
		hx_corrupt $(( $(hx_backend_off "$b") + foff )) "$n" "$val"
	fi
	got=$(hx_errno_within 30 "$ADM" "op=dev-start,backend_id=$b,queues=1")
	hx_result "$name" "$want" "$got" "$t0"
	hx_restore
	# a dev-start that got through anyway must be stoppable
	local d dev=
	for d in $(cbd_local_disks); do
		[ "$d" = "$HX_OTHER_DISK" ] || dev=$(cbd_disk_dev_id "$d")
	done
	hx_teardown "$name" "$b" "$dev"
}

# re_case NAME EXTRA FIELD_OFF BYTES VALUE WANT: a stopped backend's slot
# is corrupted, then re-attached with backend_id=.
re_case() {
	local name=$1 extra=$2 foff=$3 n=$4 val=$5 want=$6 b t0 got
	cbd_dmesg_mark
	t0=$(date +%s)
	cbd_backend_start "$CBD_DISK" "$extra" || { ktap_test_fail "hostile: $name: backend-start"; return; }
	b=$CBD_LAST_BACKEND
	cbd_backend_stop "$b"
	if [ "$val" = STR ]; then
		hx_corrupt_str $(( $(hx_backend_off "$b") + foff )) "$n" A
	else
		hx_corrupt $(( $(hx_backend_off "$b") + foff )) "$n" "$val"
	fi
	got=$(hx_errno_within 30 "$ADM" "op=backend-start,path=$CBD_DISK,backend_id=$b")
	hx_result "$name" "$want" "$got" "$t0"
	hx_restore
	# running after all: stop it; else clear the slot
	if [ "$got" = OK ]; then
		hx_teardown "$name" "$b"
	else
		cbd_errno "$ADM" "op=backend-clear,backend_id=$b,force=1" >/dev/null
		hx_teardown "$name" ""
	fi
}

# bd_case NAME FIELD_OFF BYTES VALUE ATTR WANT: a running pair; corrupt
# the blkdev slot, read blkdevN/ATTR, and the disk still serves I/O.
bd_case() {
	local name=$1 foff=$2 n=$3 val=$4 attr=$5 want=$6 b dev disk t0 got io
	cbd_dmesg_mark
	t0=$(date +%s)
	cbd_start_pair 1 || { ktap_test_fail "hostile: $name: start pair"; return; }
	b=$CBD_LAST_BACKEND dev=$CBD_LAST_DEV_ID disk=$CBD_LAST_CBD
	hx_short_timeout "$disk"
	hx_corrupt $(( $(hx_blkdev_off "$dev") + foff )) "$n" "$val"
	got=$(hx_read_attr "$(cbd_tdir)/cbd_blkdevs/blkdev$dev/$attr")
	io=$(hx_io "/dev/$disk")
	hx_result "$name" "$want" "$got,io:$io" "$t0"
	hx_restore
	hx_teardown "$name" "$b" "$dev"
}

hx_begin

NSEGS=$(cbd_info_field segment_num)
# backend slot: state 0, host_id 4, blkdev_count 8, n_handlers 12,
# dev_size 24, cache_info 32 (seg_id 40, n_segs 44, used_segs 48,
# gc_percent 52, key_tail_pos 56, dirty_tail_pos 64), path 72
bk_case "backend.state=9"                ""     0 1 9 EIO
bk_case "backend.host_id=2^32-1"         ""     4 4 $(( (1 << 32) - 1 )) EIO
bk_case "backend.blkdev_count=5"         ""     8 4 5 EIO
bk_case "backend.n_handlers=100000"      ""    12 4 100000 EIO
bk_case "backend.dev_size=0"             ""    24 8 0 EIO
bk_case "backend.dev_size=2^45+8192"     ""    24 8 $(( (1 << 45) + 8192 )) EIO
bk_case "backend.dev_size=2^62"          ""    24 8 $(( 1 << 62 )) EIO
bk_case "backend.path unterminated"      ""    72 512 STR EIO
bk_case "cache.n_segs=2^31"              "$CACHE" 44 4 $(( 1 << 31 )) EIO
bk_case "cache.n_segs=segments+1"        "$CACHE" 44 4 $(( NSEGS + 1 )) EIO
bk_case "cache.seg_id=2^32-1"            "$CACHE" 40 4 $(( (1 << 32) - 1 )) EIO
bk_case "cache.seg_id=last free segment" "$CACHE" 40 4 $(( NSEGS - 1 )) EIO
bk_case "cache.used_segs=2^20"           "$CACHE" 48 4 $(( 1 << 20 )) EIO
bk_case "cache.gc_percent=500"           "$CACHE" 52 2 500 EIO
bk_case "cache.key_tail.seg_id=2^20"     "$CACHE" 56 4 $(( 1 << 20 )) EIO
bk_case "cache.key_tail.seg_off=2^31"    "$CACHE" 60 4 $(( 1 << 31 )) EIO
bk_case "cache.key_tail.seg_off=3"       "$CACHE" 60 4 3 "EINVAL|EIO"
bk_case "cache.dirty_tail.seg_off=2^31"  "$CACHE" 68 4 $(( 1 << 31 )) EIO
re_case "reattach: dev_size=2^45+8192"   ""    24 8 $(( (1 << 45) + 8192 )) EIO
re_case "reattach: path unterminated"    ""    72 512 STR EIO
re_case "reattach: cache.n_segs=2^31"    "$CACHE" 44 4 $(( 1 << 31 )) EIO
re_case "reattach: state=9"              ""     0 1 9 "EBUSY|EIO"
# blkdev slot: state 0, backend_id 16, host_id 20, mapped_id 24
bd_case "blkdev.state=9"                 0 1 9 backend_id "EIO,io:OK"
bd_case "blkdev.backend_id=2^32-1"      16 4 $(( (1 << 32) - 1 )) backend_id "EIO,io:OK"
bd_case "blkdev.host_id=2^32-1"         20 4 $(( (1 << 32) - 1 )) host_id "EIO,io:OK"
bd_case "blkdev.mapped_id=2^31"         24 4 $(( 1 << 31 )) mapped_id "EIO,io:OK"

hx_summary
cbd_check "uncorrupted pair stops" hx_other_teardown
cbd_check "unregister the transport" cbd_unregister
cbd_finish
