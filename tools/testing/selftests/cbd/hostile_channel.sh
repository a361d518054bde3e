#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile shared memory, segment headers and channels: each case runs a
# fresh uncached pair (I/O timeout 3 s), corrupts its channel segment
# through the pmem device (header, control fields, or garbage over the
# submit or completion ring while reads run), and checks that I/O ends
# OK or with EIO within a bound (never hangs), the kernel log stays
# clean, dev-stop force=1 and backend-stop work and an uncorrupted pair
# keeps its data.  The last case corrupts entries left in flight by a
# crashed backend and re-attaches it, so that the new handler replays
# them.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_hostile_lib.sh"


# ch_case NAME FIELD_OFF BYTES VALUE RESTORE WANT: FIELD_OFF from the
# start of the channel segment.  RESTORE=0 for indices the driver moves
# (writing the old value back later would be one more corruption).
ch_case() {
	local name=$1 foff=$2 n=$3 val=$4 restore=$5 want=$6 b dev disk seg t0 got
	cbd_dmesg_mark
	t0=$(date +%s)
	cbd_start_pair 1 || { ktap_test_fail "hostile: $name: start pair"; return; }
	b=$CBD_LAST_BACKEND dev=$CBD_LAST_DEV_ID disk=$CBD_LAST_CBD
	hx_short_timeout "$disk"
	seg=$(cbd_channels_of "$dev" "$b" | head -1)
	hx_corrupt $(( $(hx_seg_off "$seg") + foff )) "$n" "$val"
	got=io:$(hx_io "/dev/$disk")
	got+=,type:$(hx_read_attr "$(cbd_tdir)/cbd_segments/segment$seg/type")
	hx_result "$name" "$want" "$got" "$t0"
	[ "$restore" = 1 ] && hx_restore
	HX_SAVED_OFF=
	hx_teardown "$name" "$b" "$dev"
}

# ring_case NAME RING_OFF LEN WANT: garbage (0xff, then a pattern) over
# LEN bytes at RING_OFF of the channel segment, 5 times, while reads run.
ring_case() {
	local name=$1 roff=$2 len=$3 want=$4 b dev disk seg t0 got pid i off junk= rc=0
	cbd_dmesg_mark
	t0=$(date +%s)
	cbd_start_pair 1 || { ktap_test_fail "hostile: $name: start pair"; return; }
	b=$CBD_LAST_BACKEND dev=$CBD_LAST_DEV_ID disk=$CBD_LAST_CBD
	hx_short_timeout "$disk"
	seg=$(cbd_channels_of "$dev" "$b" | head -1)
	off=$(( $(hx_seg_off "$seg") + roff ))
	timeout "$HX_IO_BOUND" dd if="/dev/$disk" of=/dev/null bs=4k count=2000 iflag=direct status=none 2>/dev/null &
	pid=$!
	for ((i = 0; i < len; i++)); do junk+='\xff'; done
	for i in 1 2 3 4 5; do
		hx_poke "$off" "$junk"
		hx_poke "$off" "$(printf '\\x%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))"
	done
	wait "$pid" || rc=$?
	case "$rc" in 0) got=OK ;; 124) got=TIMEOUT ;; *) got=EIO ;; esac
	hx_result "$name" "$want" "io:$got" "$t0"
	HX_SAVED_OFF=
	hx_teardown "$name" "$b" "$dev"
}

cbd_core_begin
cbd_setup_transport
[ -x "$CBD_WRITE_BIN" ] || ktap_exit_fail_msg "no $CBD_WRITE_BIN"
[ -b "$CBD_DISK2" ] || ktap_exit_skip "needs a second disk ($CBD_DISK2) for the uncorrupted pair"
cbd_check "uncorrupted pair on $CBD_DISK2 with data" hx_other_setup ||
	ktap_exit_fail_msg "cannot start the uncorrupted pair"
CRC=$(( 16#$(cbd_info_field flags) & 2 ))
CE=16 SE=40
[ "$CRC" != 0 ] && CE=24 SE=48
COMPR=4096 SUBMR=$(( 4096 + 1024 * CE ))

NSEGS=$(cbd_info_field segment_num)
# segment header: state 0, type 1, next_seg 4
ch_case "segment.state=9"          0 1 9 1 "io:OK|io:EIO,type:EIO"
ch_case "segment.type=9"           1 1 9 1 "io:OK|io:EIO,type:EIO"
ch_case "segment.type=cache"       1 1 2 1 "io:OK|io:EIO,type:OK"
ch_case "segment.next_seg=2^32-1"  4 4 $(( (1 << 32) - 1 )) 1 "io:OK|io:EIO,type:EIO"
# channel control: blkdev_state 16, blkdev_id 20, backend_state 24,
# backend_id 28, polling 32, submr_head 36, submr_tail 40, compr_head 44,
# compr_tail 48
ch_case "channel.blkdev_state=7"   16 1 7 1 "io:OK|io:EIO,type:OK"
ch_case "channel.blkdev_id=2^32-1" 20 4 $(( (1 << 32) - 1 )) 1 "io:OK|io:EIO,type:OK"
ch_case "channel.backend_state=7"  24 1 7 1 "io:OK|io:EIO,type:OK"
ch_case "channel.backend_id=$((NSEGS + 5))" 28 4 $(( NSEGS + 5 )) 1 "io:OK|io:EIO,type:OK"
ch_case "channel.polling=2^32-1"   32 4 $(( (1 << 32) - 1 )) 1 "io:OK|io:EIO,type:OK"
ch_case "channel.submr_head=2^32-3" 36 4 $(( (1 << 32) - 3 )) 0 "io:OK|io:EIO,type:OK"
ch_case "channel.submr_tail=7"     40 4 7 0 "io:OK|io:EIO,type:OK"
ch_case "channel.compr_head=2^31+5" 44 4 $(( (1 << 31) + 5 )) 0 "io:OK|io:EIO,type:OK"
ch_case "channel.compr_tail=2^32-1" 48 4 $(( (1 << 32) - 1 )) 0 "io:OK|io:EIO,type:OK"
ring_case "submit ring garbage during reads"     "$SUBMR" 512 "io:OK|io:EIO"
ring_case "completion ring garbage during reads" "$COMPR" 512 "io:OK|io:EIO"
ring_case "data ring garbage during reads"       $(( 4 * 1024 * 1024 )) 512 "io:OK|io:EIO"

hx_summary
cbd_check "uncorrupted pair stops" hx_other_teardown
cbd_check "unregister the transport" cbd_unregister
cbd_finish
