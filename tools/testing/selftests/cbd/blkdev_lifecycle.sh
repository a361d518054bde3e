#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Blkdev lifecycle (mapped_id is the X of /dev/cbdX):
# dev-start with 1, 2 and 4 queues (hw queues and channels: at most one
# per CPU, as blk-mq maps no more), size, cbd_blkdev link,
# blkdev attributes, channel segments, write cache + FUA), one blkdev per
# backend, dev-stop refused while mounted and forced with force=1, and the
# *-clear commands refused while their object is alive.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

cbd_core_begin
cbd_require_disk
cbd_setup_transport

ADM=$(cbd_adm_file)
T=$(cbd_tdir)
ME=$(cbd_my_host_id)
DISK_BYTES=$(blockdev --getsize64 "$CBD_DISK")

cbd_backend_start "$CBD_DISK" || ktap_exit_fail_msg "backend-start on $CBD_DISK"
B=$CBD_LAST_BACKEND

first=1
for q in 1 2 4; do
	if ! cbd_dev_start "$B" "$q"; then
		ktap_test_fail "dev-start queues=$q"
		continue
	fi
	d=$CBD_LAST_CBD id=$CBD_LAST_DEV_ID
	ktap_test_pass "dev-start queues=$q -> /dev/$d (blkdev$id)"
	if [ "$first" = 1 ]; then
		cbd_check "first blkdev is /dev/cbd0" test "$d" = cbd0
		first=0
	fi
	n=$(find "/sys/block/$d/mq" -mindepth 1 -maxdepth 1 -type d | wc -l)
	hq=$(cbd_expected_hw_queues "$q")
	cbd_check "$d has $hq hw queues for queues=$q (got $n)" test "$n" = "$hq"
	sz=$(blockdev --getsize64 "/dev/$d")
	cbd_check "$d size $sz == $CBD_DISK size $DISK_BYTES" test "$sz" = "$DISK_BYTES"
	cbd_check "/sys/block/$d/cbd_blkdev -> blkdev$id" \
		test "$(readlink -f "/sys/block/$d/cbd_blkdev")" = "$(readlink -f "$T/cbd_blkdevs/blkdev$id")"
	cbd_check "blkdev$id/mapped_id is ${d#cbd}" cbd_file_is "$T/cbd_blkdevs/blkdev$id/mapped_id" "${d#cbd}"
	cbd_check "blkdev$id/host_id is $ME" cbd_file_is "$T/cbd_blkdevs/blkdev$id/host_id" "$ME"
	cbd_check "blkdev$id/backend_id is $B" cbd_file_is "$T/cbd_blkdevs/blkdev$id/backend_id" "$B"
	cbd_check "blkdev$id/alive is true" cbd_wait_file_is 5 "$T/cbd_blkdevs/blkdev$id/alive" true
	cbd_check "$d queue/write_cache is 'write back'" cbd_file_is "/sys/block/$d/queue/write_cache" "write back"
	cbd_check "$d queue/fua is 1" cbd_file_is "/sys/block/$d/queue/fua" 1
	chans=$(cbd_channels_of "$id" "$B" | wc -l)
	cbd_check "$hq channel segments for blkdev$id (got $chans)" test "$chans" = "$hq"
	cbd_expect "$ADM" "op=dev-start,backend_id=$B,queues=1" EBUSY \
		"second dev-start on backend$B (one blkdev per backend) -> EBUSY"
	cbd_check "I/O on $d" cbd_fio_verify "/dev/$d" 4M --iodepth=16
	cbd_check "dev-stop $d" cbd_dev_stop "$id"
	cbd_check "/dev/$d is gone" cbd_wait_for 5 test ! -b "/dev/$d"
done

# --- dev-stop of a mounted device, then force.
mkdir -p "$CBD_MNT"
if cbd_dev_start "$B" 2; then
	d=$CBD_LAST_CBD id=$CBD_LAST_DEV_ID
	if mke2fs -q -F -t ext4 "/dev/$d" && cbd_mount ext4 "/dev/$d" "$CBD_MNT"; then
		dd if=/dev/urandom of="$CBD_MNT/file" bs=1M count=2 status=none
		cbd_expect "$ADM" "op=dev-stop,dev_id=$id" EBUSY "dev-stop while mounted -> EBUSY"
		cbd_check "$d still there after refused dev-stop" test -b "/dev/$d"
		cbd_check "fs still usable" dd if="$CBD_MNT/file" of=/dev/null bs=1M status=none

		# The *-clear commands refuse live objects.
		cbd_expect "$ADM" "op=dev-clear,dev_id=$id" EBUSY "dev-clear of a running blkdev -> EBUSY"
		cbd_expect "$ADM" "op=host-clear,host_id=$ME" EBUSY "host-clear of our own host -> EBUSY"
		cbd_expect "$ADM" "op=backend-clear,backend_id=$B" EBUSY "backend-clear of a running backend -> EBUSY"
		seg=$(cbd_channels_of "$id" "$B" | head -1)
		if [ -n "$seg" ]; then
			cbd_expect "$ADM" "op=segment-clear,segment_id=$seg" EBUSY \
				"segment-clear of channel segment $seg in use -> EBUSY"
			cbd_check "segment$seg still a channel" cbd_file_is "$T/cbd_segments/segment$seg/type" channel
		else
			ktap_test_fail "no channel segment found for blkdev$id"
		fi
		cbd_check "fs still usable after the refused clears" \
			dd if="$CBD_MNT/file" of=/dev/null bs=1M status=none

		t0=$SECONDS
		cbd_expect "$ADM" "op=dev-stop,dev_id=$id,force=1" OK "dev-stop force=1 while mounted"
		cbd_check "force dev-stop returned quickly ($((SECONDS - t0))s)" test $((SECONDS - t0)) -lt 30
		cbd_check "/sys/block/$d is gone" cbd_wait_for 10 test ! -e "/sys/block/$d"
		umount "$CBD_MNT" 2>/dev/null || umount -l "$CBD_MNT" 2>/dev/null
		cbd_check "dead fs unmounted" eval "! grep -q ' $CBD_MNT ' /proc/mounts"
	else
		ktap_test_fail "mke2fs -t ext4 + mount /dev/$d"
		cbd_dev_stop "$id" force
	fi

	# A stopped blkdev's slot can be cleared once it is no longer alive.
	alive=$(cat "$T/cbd_blkdevs/blkdev$id/alive")
	ktap_print_msg "blkdev$id alive after stop: $alive"
	t0=$SECONDS
	cbd_wait_file_is 40 "$T/cbd_blkdevs/blkdev$id/alive" false >/dev/null
	ktap_print_msg "blkdev$id read alive=false after $((SECONDS - t0))s"
	cbd_expect "$ADM" "op=dev-clear,dev_id=$id" OK "dev-clear of a stopped blkdev"
	cbd_check "cleared blkdev$id reads empty" cbd_file_is "$T/cbd_blkdevs/blkdev$id/mapped_id" ""
else
	ktap_test_fail "dev-start queues=2 for the mount cases"
fi

# The backend is free again: a new blkdev works.
if cbd_dev_start "$B" 1; then
	cbd_check "I/O on a new blkdev after force stop" cbd_fio_verify "/dev/$CBD_LAST_CBD" 4M
	cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
else
	ktap_test_fail "dev-start after force stop"
fi
cbd_check "backend-stop" cbd_backend_stop "$B"

cbd_finish
