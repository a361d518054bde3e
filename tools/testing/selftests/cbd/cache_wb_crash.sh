#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power loss during heavy writeback (vm.sh --guests, like
# cache_powerloss.sh: guest 0 does everything).  Two writers put files
# with fsync on ext4 on a cached /dev/cbdX whose writeback runs all the
# time (gc_percent 0, a small cache) to a backing disk that takes
# WB_DELAY_MS for every write and flush (dm-delay over the first FS_MB
# MiB of the disk).  After CHECKPOINT_AFTER seconds the writers pause
# until cache/stats shows dirty_bytes 0: the writeback has then written
# every fsync'd file, flushed the disk and moved past it, and the files
# recorded so far go to the "written back" list.  Then they run free: the
# writeback flushes the slow disk at every flush of theirs and falls
# behind, and the runner SIGKILLs QEMU once at least 1 MiB is dirty.
#
# The new life first looks at the bare backing disk, as if the cache
# were lost: a copy of it must mount (ext4 journal replay), hold every
# written-back file with its md5, and pass e2fsck -fn.  That holds only
# if the writeback never moved a write across a flush of the blkdev's
# user, nor dirty_tail past what the disk had not flushed.  Then the
# cache is re-attached as in cache_powerloss.sh and every fsync'd file
# must be intact.  CBD_WBC_ROUNDS kill points (default 3).

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"
. "$(dirname "$0")/cbd_pl_lib.sh"

ROUNDS=${CBD_WBC_ROUNDS:-3}
# the backing device (and file system) is this much of the disk: the
# bare copy is in RAM
FS_MB=160
WB_DELAY_MS=100
DM=cbd-wbc
DM_DEV=/dev/mapper/$DM
# seconds of writing before the kill, per round
DELAYS=(4 7 5 9)
# seconds of writing before the checkpoint
CHECKPOINT_AFTER=2
PAUSE=/tmp/wbc.pause

# wbc_writer ROUND W: write files until killed; pause while $PAUSE exists
wbc_writer() {
	local r=$1 w=$2 dir=$CBD_MNT/r$1/w$2 j=0 n sum
	while :; do
		if [ -e "$PAUSE" ]; then
			: > "$PAUSE.$w"
			while [ -e "$PAUSE" ]; do sleep 0.1; done
			rm -f "$PAUSE.$w"
		fi
		j=$((j + 1))
		n=$(( (j % 8) + 1 ))
		dd if=/dev/urandom of="$dir/f$j" bs=256k count="$n" conv=fsync \
			status=none || exit 1
		sync "$dir" || exit 1
		sum=$(md5sum < "$dir/f$j" | cut -d' ' -f1)
		printf 'r%s/w%s/f%s %s\n' "$r" "$w" "$j" "$sum" >> "$(mh_path "records.$w")"
	done
}

wbc_dirty() { cbd_cache_stat "$(mh_get backend)" dirty_bytes; }

# wbc_checkpoint: pause both writers, wait until the writeback has written
# everything back, record what is on the bare disk now, resume
wbc_checkpoint() {
	local i
	: > "$PAUSE"
	for i in $(seq 100); do
		[ -e "$PAUSE.0" ] && [ -e "$PAUSE.1" ] && break
		sleep 0.1
	done
	for i in $(seq 300); do
		[ "$(wbc_dirty)" = 0 ] && break
		sleep 0.1
	done
	if [ "$(wbc_dirty)" = 0 ] && [ -e "$PAUSE.0" ] && [ -e "$PAUSE.1" ]; then
		cat "$(mh_path records.0)" "$(mh_path records.1)" \
			> "$(mh_path wb.tmp)" 2>/dev/null &&
			mv "$(mh_path wb.tmp)" "$(mh_path written_back)"
	fi
	rm -f "$PAUSE"
}

# the write phase of round $1: never returns (the runner kills us).  The
# files of the rounds before (checked already) go first, to make room.
wbc_write() {
	local r=$1 i
	rm -rf "$CBD_MNT"/r* && mkdir -p "$CBD_MNT/r$r/w0" "$CBD_MNT/r$r/w1" &&
		sync -f "$CBD_MNT" || return 1
	: > "$(mh_path records.0)"
	: > "$(mh_path records.1)"
	: > "$(mh_path written_back)"
	rm -f "$PAUSE"*
	wbc_writer "$r" 0 &
	wbc_writer "$r" 1 &
	# one checkpoint, then the writers run free: the writeback, which
	# flushes the slow disk at every flush of theirs, falls behind
	sleep "$CHECKPOINT_AFTER"
	wbc_checkpoint
	sleep "${DELAYS[$(( r % ${#DELAYS[@]} ))]}"
	# kill while the writers run and the writeback has work queued
	for i in $(seq 200); do
		[ "$(wbc_dirty)" -lt $((1 << 20)) ] || break
		sleep 0.1
	done
	mh_put round "$((r + 1))"
	ktap_print_msg "round $r: $(cat "$(mh_path records.0)" "$(mh_path records.1)" | grep -c "^r$r/") files fsync'd, $(grep -c "^r$r/" "$(mh_path written_back)") written back; dirty_bytes $(wbc_dirty), writeback_rate $(cbd_cache_stat "$(mh_get backend)" writeback_rate) B/s; killing"
	mh_kill_me again
}

# the slow backing device (the same mapping in every life)
wbc_dm_create() {
	local s=$((FS_MB * 2048))
	dmsetup create "$DM" --table \
		"0 $s delay $CBD_DISK 0 0 $CBD_DISK 0 $WB_DELAY_MS $CBD_DISK 0 $WB_DELAY_MS" &&
		dmsetup mknodes "$DM" >/dev/null 2>&1 && cbd_wait_for 5 test -b "$DM_DEV"
}

# the bare backing disk, copied: consistent and holding what was written back
wbc_check_bare() {
	local img=/tmp/wbc-bare.img mnt=/tmp/wbc-bare ok=0
	dd if="$CBD_DISK" of="$img" bs=1M count="$FS_MB" status=none || return 1
	mkdir -p "$mnt"
	if cbd_check "bare disk: mount ext4 (journal replay)" \
		mount -o loop -t ext4 "$img" "$mnt"; then
		cbd_check "bare disk: every written-back file is intact" \
			pl_verify_files "$mnt" "$(mh_path written_back)" || ok=1
		umount "$mnt" || ok=1
		cbd_check "bare disk: e2fsck -fn is clean" e2fsck -fn "$img" || ok=1
	else
		ok=1
	fi
	rm -f "$img"
	return $ok
}

pl_begin
command -v dmsetup >/dev/null && modprobe -q dm-delay 2>/dev/null ||
	ktap_exit_skip "no dmsetup or dm-delay"
export DM_DISABLE_UDEV=1
PL_DISK=$DM_DEV

round=$(mh_get round)
if [ -z "$round" ]; then
	round=0
	wbc_dm_create || ktap_exit_fail_msg "dmsetup create $DM"
	cbd_setup_transport
	cbd_backend_start "$DM_DEV" ",cache_size=64" ||
		ktap_exit_fail_msg "backend-start with cache_size=64"
	mh_put backend "$CBD_LAST_BACKEND"
	echo 0 > "$(cbd_cache_dir "$CBD_LAST_BACKEND")/gc_percent" ||
		ktap_exit_fail_msg "gc_percent 0"
	cbd_dev_start "$CBD_LAST_BACKEND" 1 || ktap_exit_fail_msg "dev-start"
	mh_put devid "$CBD_LAST_DEV_ID"
	cbd_check "mkfs.ext4" mke2fs -q -F -t ext4 "/dev/$CBD_LAST_CBD" &&
		cbd_check "mount" cbd_mount ext4 "/dev/$CBD_LAST_CBD" "$CBD_MNT" ||
		cbd_finish
	wbc_write 0
fi

ktap_print_msg "restarted after kill $round of $ROUNDS"
wbc_check_bare
cbd_check "dmsetup create $DM again" wbc_dm_create
if pl_recover "$(mh_get backend)" "$(mh_path records.0)" "$(mh_path records.1)" &&
   [ "$round" -lt "$ROUNDS" ]; then
	echo 0 > "$(cbd_cache_dir "$(mh_get backend)")/gc_percent" &&
		cbd_mount ext4 "/dev/$CBD_LAST_CBD" "$CBD_MNT" && wbc_write "$round"
fi
cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
cbd_check "backend-stop" cbd_backend_stop "$(mh_get backend)"
cbd_check "dmsetup remove $DM" dmsetup remove --retry "$DM"
cbd_finish
