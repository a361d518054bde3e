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

# after a kill: every recorded file is intact
pl_verify_files() {
	local name sum got bad=0 n=0
	while read -r name sum; do
		n=$((n + 1))
		got=$(md5sum < "$CBD_MNT/$name" 2>/dev/null | cut -d' ' -f1)
		if [ "$got" != "$sum" ]; then
			ktap_print_msg "$name: md5 ${got:-missing}, fsync'd $sum"
			bad=$((bad + 1))
		fi
	done < "$(mh_path records)"
	ktap_print_msg "$n fsync'd files checked, $bad bad"
	[ "$bad" = 0 ]
}

# the slot of a dead object is usable once it reads alive=false: at most
# CBD_DEAD_WAIT seconds after the registration (cbd_core_lib.sh)
pl_dead() { cbd_wait_dead "$(cbd_tdir)/$1/alive"; }

pl_recover() {
	local bid=$1 dev
	cbd_check "register without format" \
		cbd_register "path=$CBD_PMEM,hostname=$(hostname)" || return 1
	cbd_check "the killed backend$bid is dead" \
		pl_dead "cbd_backends/backend$bid" || return 1
	cbd_check "re-attach backend$bid with its cache" \
		cbd_backend_start "$CBD_DISK" ",backend_id=$bid" || return 1
	dev=$(mh_get devid)
	cbd_check "the killed blkdev$dev is dead" \
		pl_dead "cbd_blkdevs/blkdev$dev" || return 1
	cbd_expect "$(cbd_adm_file)" "op=dev-clear,dev_id=$dev" OK "dev-clear of the dead blkdev$dev"
	cbd_check "dev-start (journal replay)" cbd_dev_start "$bid" 1 || return 1
	mh_put devid "$CBD_LAST_DEV_ID"
	cbd_check "mount ext4 (ext4 journal replay)" \
		cbd_mount ext4 "/dev/$CBD_LAST_CBD" "$CBD_MNT" || return 1
	cbd_check "every fsync'd file is intact" pl_verify_files
	cbd_check "umount" umount "$CBD_MNT" || return 1
	cbd_check "e2fsck -fn is clean" e2fsck -fn "/dev/$CBD_LAST_CBD"
}

cbd_core_begin
cbd_require_disk
mh_is_a || { ktap_test_skip "guest $MH_ID has nothing to do"; cbd_finish; }
[ -n "${CBD_SHARED:-}" ] && [ -d "$CBD_SHARED" ] ||
	ktap_exit_skip "needs the shared directory of vm.sh --guests"

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
if pl_recover "$(mh_get backend)" && [ "$round" -lt "$ROUNDS" ]; then
	cbd_mount ext4 "/dev/$CBD_LAST_CBD" "$CBD_MNT" && pl_write "$round"
fi
cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
cbd_check "backend-stop" cbd_backend_stop "$(mh_get backend)"
cbd_finish
