#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power-loss helpers (after cbd_lib.sh, cbd_core_lib.sh and cbd_mh_lib.sh):
# the guest is SIGKILLed by the runner and boots again on the same memory
# file and disk; these recover the killed objects and check the files.

# pl_begin: start the test in guest 0 of vm.sh --guests (guest 1 passes)
pl_begin() {
	cbd_core_begin
	cbd_require_disk
	mh_is_a || { ktap_test_skip "guest $MH_ID has nothing to do"; cbd_finish; }
	[ -n "${CBD_SHARED:-}" ] && [ -d "$CBD_SHARED" ] ||
		ktap_exit_skip "needs the shared directory of vm.sh --guests"
}

# pl_verify_files DIR RECORDS...: every "name md5" line of the RECORDS
# files names a file under DIR with that md5
pl_verify_files() {
	local dir=$1 name sum got bad=0 n=0
	shift
	while read -r name sum; do
		n=$((n + 1))
		got=$(md5sum < "$dir/$name" 2>/dev/null | cut -d' ' -f1)
		if [ "$got" != "$sum" ]; then
			ktap_print_msg "$name: md5 ${got:-missing}, fsync'd $sum"
			bad=$((bad + 1))
		fi
	done < <(cat "$@" 2>/dev/null)
	ktap_print_msg "$n fsync'd files checked, $bad bad"
	[ "$bad" = 0 ]
}

# the slot of a dead object is usable once it reads alive=false: at most
# CBD_DEAD_WAIT seconds after the registration (cbd_core_lib.sh)
pl_dead() { cbd_wait_dead "$(cbd_tdir)/$1/alive"; }

# pl_recover BACKEND_ID RECORDS...: register without format, re-attach
# the killed backend with its cache (on $PL_DISK, default $CBD_DISK), clear the killed blkdev (its id is
# marker devid), dev-start (journal replay), mount ext4 (its journal
# replay), check the files of RECORDS, e2fsck.  Leaves the blkdev
# running, unmounted; marker devid is its id.
pl_recover() {
	local bid=$1 dev
	shift
	cbd_check "register without format" \
		cbd_register "path=$CBD_PMEM,hostname=$(hostname)" || return 1
	cbd_check "the killed backend$bid is dead" \
		pl_dead "cbd_backends/backend$bid" || return 1
	cbd_check "re-attach backend$bid with its cache" \
		cbd_backend_start "${PL_DISK:-$CBD_DISK}" ",backend_id=$bid" || return 1
	dev=$(mh_get devid)
	cbd_check "the killed blkdev$dev is dead" \
		pl_dead "cbd_blkdevs/blkdev$dev" || return 1
	cbd_expect "$(cbd_adm_file)" "op=dev-clear,dev_id=$dev" OK "dev-clear of the dead blkdev$dev"
	cbd_check "dev-start (journal replay)" cbd_dev_start "$bid" 1 || return 1
	mh_put devid "$CBD_LAST_DEV_ID"
	cbd_check "mount ext4 (ext4 journal replay)" \
		cbd_mount ext4 "/dev/$CBD_LAST_CBD" "$CBD_MNT" || return 1
	cbd_check "every fsync'd file is intact" pl_verify_files "$CBD_MNT" "$@"
	cbd_check "umount" umount "$CBD_MNT" || return 1
	cbd_check "e2fsck -fn is clean" e2fsck -fn "/dev/$CBD_LAST_CBD"
}
