#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power loss with a cache (vm.sh --guests; guest 0 does everything, guest
# 1 only keeps the runner's multi-guest machinery going).  ext4 on a
# cached /dev/cbdX (a small cache, so that writeback and GC run) gets
# files written with fsync; the name and md5 of each file are recorded in
# the shared host directory after its fsync returned.  The runner then
# SIGKILLs QEMU in the middle of the writes (no clean shutdown: nothing
# in the guest's DRAM survives) and boots the guest again on the same
# memory file and disk.  The new life registers without format,
# re-attaches the dead backend (its cache and journal), clears the dead
# blkdev, dev-starts (journal replay) and mounts (ext4 journal replay):
# every recorded file must have its md5, and e2fsck -fn must be clean.
# CBD_PL_ROUNDS kill points (default 5), each after a different time of
# writing.  Under QEMU (TCG) every store reaches the memory file, so this
# checks the journal, its replay, the writeback/GC positions and the
# ordering at a crash, not missing cache-line flushes.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"
. "$(dirname "$0")/cbd_pl_lib.sh"

ROUNDS=${CBD_PL_ROUNDS:-5}
# seconds of writing before the kill, per round
DELAYS=(1 3 6 2 9 4 7)

# the write phase of round $1: never returns (the runner kills us)
pl_write() {
	local r=$1 dir=$CBD_MNT/r$1 j=0 n sum
	mkdir -p "$dir" && sync -f "$CBD_MNT" || return 1
	(
		while :; do
			j=$((j + 1))
			n=$(( (j % 16) + 1 ))
			dd if=/dev/urandom of="$dir/f$j" bs=64k count="$n" conv=fsync \
				status=none || exit 1
			sync "$dir" || exit 1
			sum=$(md5sum < "$dir/f$j" | cut -d' ' -f1)
			printf 'r%s/f%s %s\n' "$r" "$j" "$sum" >> "$(mh_path records)"
		done
	) &
	sleep "${DELAYS[$(( r % ${#DELAYS[@]} ))]}"
	mh_put round "$((r + 1))"
	ktap_print_msg "round $r: $(grep -c "^r$r/" "$(mh_path records)" 2>/dev/null) files fsync'd, killing"
	mh_kill_me again
}

pl_begin

round=$(mh_get round)
if [ -z "$round" ]; then
	round=0
	: > "$(mh_path records)"
	cbd_setup_transport
	cbd_backend_start "$CBD_DISK" ",cache_size=64" ||
		ktap_exit_fail_msg "backend-start with cache_size=64"
	mh_put backend "$CBD_LAST_BACKEND"
	cbd_dev_start "$CBD_LAST_BACKEND" 1 || ktap_exit_fail_msg "dev-start"
	mh_put devid "$CBD_LAST_DEV_ID"
	cbd_check "mkfs.ext4" mke2fs -q -F -t ext4 "/dev/$CBD_LAST_CBD" &&
		cbd_check "mount" cbd_mount ext4 "/dev/$CBD_LAST_CBD" "$CBD_MNT" ||
		cbd_finish
	pl_write 0
fi

ktap_print_msg "restarted after kill $round of $ROUNDS"
if pl_recover "$(mh_get backend)" "$(mh_path records)" && [ "$round" -lt "$ROUNDS" ]; then
	cbd_mount ext4 "/dev/$CBD_LAST_CBD" "$CBD_MNT" && pl_write "$round"
fi
cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
cbd_check "backend-stop" cbd_backend_stop "$(mh_get backend)"
cbd_finish
