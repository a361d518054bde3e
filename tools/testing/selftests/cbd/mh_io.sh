#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A disk on host A used from host B (two guests, vm.sh --guests).  A runs
# a backend on its disk; B creates /dev/cbdX on it (its channels are
# polled by A's handlers, B polls the completions), checks the size, runs
# fio with crc32c verification, makes and checks ext4 and xfs file systems
# and writes files.  After B's dev-stop and A's backend-stop, A reads B's
# files from its own disk.  Both check the other's objects and their alive
# values on the way.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

TMP=/tmp/cbd-mh-io
FS_TYPES=${MH_FS_TYPES:-ext4 xfs}

# fsck_clean FSTYPE DEV: read-only check, output in $TMP/fsck.log
fsck_clean() {
	case "$1" in
	ext4) e2fsck -fn "$2" > "$TMP/fsck.log" 2>&1 ;;
	xfs) xfs_repair -n "$2" > "$TMP/fsck.log" 2>&1 ;;
	esac || { tail -5 "$TMP/fsck.log" | sed 's/^/# /'; return 1; }
}

# b_fs FSTYPE: on B, mkfs, mount, write a file, umount, fsck; publish the
# file's checksum as marker sum-FSTYPE.
b_fs() {
	local fs=$1 dev=/dev/$CBD_LAST_CBD sum
	case "$fs" in
	ext4) mh_step "B: mkfs.ext4 on $dev" mkfs.ext4 -q -F "$dev" || return 1 ;;
	xfs) mh_step "B: mkfs.xfs on $dev" mkfs.xfs -q -f "$dev" || return 1 ;;
	esac
	mh_step "B: mount $fs" cbd_mount "$fs" "$dev" "$CBD_MNT" || return 1
	dd if=/dev/urandom of="$TMP/file" bs=1M count=24 2>/dev/null
	cbd_check "B: write a 24 MiB file and fsync" \
		dd if="$TMP/file" of="$CBD_MNT/file-$fs" bs=1M conv=fsync status=none
	sum=$(md5sum < "$TMP/file" | cut -d' ' -f1)
	cbd_check "B: read it back through $fs (page cache dropped)" \
		sh -c "sync; echo 3 > /proc/sys/vm/drop_caches; test \"\$(md5sum < $CBD_MNT/file-$fs | cut -d' ' -f1)\" = $sum"
	mh_step "B: umount $fs" umount "$CBD_MNT" || return 1
	cbd_check "B: $fs check (e2fsck -fn / xfs_repair -n) clean" fsck_clean "$fs" "$dev"
	mh_put "sum-$fs" "$sum"
}

# a_check_fs FSTYPE: on A, the last file system B made is on the disk.
a_check_fs() {
	local fs=$1 want got
	want=$(mh_get "sum-$fs")
	cbd_check "A: $fs check of B's file system on its own disk clean" \
		fsck_clean "$fs" "$CBD_DISK"
	modprobe -q "$fs" 2>/dev/null
	mkdir -p "$CBD_MNT"
	cbd_check "A: mount B's $fs read-only" mount -t "$fs" -o ro "$CBD_DISK" "$CBD_MNT" || return
	got=$(md5sum < "$CBD_MNT/file-$fs" | cut -d' ' -f1)
	cbd_check "A: B's file on $fs has the right checksum" test "$got" = "$want"
	umount "$CBD_MNT"
}

mh_require
cbd_core_begin
cbd_require_disk
mkdir -p "$TMP"
mh_register || cbd_finish
me=$(cbd_my_host_id)
tdir=$(cbd_tdir)

if mh_is_a; then
	mh_step "A: backend-start on $CBD_DISK" cbd_backend_start "$CBD_DISK" || cbd_finish
	bid=$CBD_LAST_BACKEND
	mh_put backend "$bid $(blockdev --getsize64 "$CBD_DISK")"
	if mh_wait dev-started 180; then
		read -r devid bhost <<< "$(mh_get dev-started)"
		cbd_check "A sees blkdev$devid of B: alive" cbd_file_is "$tdir/cbd_blkdevs/blkdev$devid/alive" true
		cbd_check "A sees blkdev$devid of B: host_id $bhost" cbd_file_is "$tdir/cbd_blkdevs/blkdev$devid/host_id" "$bhost"
		cbd_check "A sees blkdev$devid on backend$bid" cbd_file_is "$tdir/cbd_blkdevs/blkdev$devid/backend_id" "$bid"
		cbd_check "A sees host$bhost (B) alive" cbd_file_is "$tdir/cbd_hosts/host$bhost/alive" true
		mh_put a-checked
	fi
	if mh_wait dev-stopped 600; then
		cbd_check "A: B's blkdev$devid reads alive=false after its dev-stop" \
			cbd_file_is "$tdir/cbd_blkdevs/blkdev$devid/alive" false
		mh_step "A: backend-stop" cbd_backend_stop "$bid"
		mh_put backend-stopped
		for fs in $FS_TYPES; do
			[ "$fs" = "$(mh_get last-fs)" ] && a_check_fs "$fs"
		done
	fi
else
	if mh_wait backend 60; then
		read -r bid size <<< "$(mh_get backend)"
		ahost=$(mh_get registered)
		cbd_check "B sees backend$bid: alive" cbd_file_is "$tdir/cbd_backends/backend$bid/alive" true
		cbd_check "B sees backend$bid: host_id $ahost (A)" cbd_file_is "$tdir/cbd_backends/backend$bid/host_id" "$ahost"
		cbd_check "B sees backend$bid: path" cbd_file_is "$tdir/cbd_backends/backend$bid/path" "$CBD_DISK"
		if mh_step "B: dev-start on A's backend$bid" cbd_dev_start "$bid"; then
			dev=/dev/$CBD_LAST_CBD
			mh_put dev-started "$CBD_LAST_DEV_ID $me"
			cbd_check "B: $dev has the size of A's disk ($size)" \
				test "$(blockdev --getsize64 "$dev")" = "$size"
			mh_wait a-checked
			cbd_check "B: fio randwrite 48M verify=crc32c on $dev" \
				cbd_fio_verify "$dev" 48M --iodepth=16 --bs=4k
			cbd_check "B: fio 1M writes verify=crc32c at 256M on $dev" \
				cbd_fio_verify "$dev" 32M --offset=256M --bs=1M --rw=write
			for fs in $FS_TYPES; do
				b_fs "$fs" && mh_put last-fs "$fs"
			done
			mh_step "B: dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
			mh_put dev-stopped
			mh_wait backend-stopped 120 &&
				cbd_check "B: backend$bid reads alive=false after A's backend-stop" \
					cbd_file_is "$tdir/cbd_backends/backend$bid/alive" false
		fi
	else
		ktap_test_fail "host A started a backend"
	fi
fi
mh_barrier finished 600
rm -rf "$TMP"
cbd_finish
