#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Removal of the pmem device under a registered transport: unbinding its
# nd_pmem device (what "ndctl disable-namespace" or a CXL region teardown
# end in) while a cached /dev/cbdX is mounted must not oops.  The DAX
# pre-remove notification stops the blkdev as dev-stop force=1 does, stops
# the backend as backend-stop does (the dirty cache data goes to the
# disk), and unregisters the transport; only then is the memory unmapped.
# After binding the device again, the transport registers without format,
# the backend re-attaches and every fsync'd byte is there.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

MNT=/mnt/cbd-remove
PM=$(basename "$CBD_PMEM")

cbd_core_begin
cbd_require_disk
cbd_setup_transport

# The device nd_pmem drives for $CBD_PMEM (a pfn device in fsdax mode).
ND_DEV=$(readlink -f "/sys/block/$PM/device")
ND_DRV=$(readlink -f "$ND_DEV/driver")
[ -d "$ND_DEV" ] && [ -d "$ND_DRV" ] ||
	ktap_exit_fail_msg "no nd device or driver behind $CBD_PMEM"
ND=$(basename "$ND_DEV")
ktap_print_msg "$CBD_PMEM is $ND, driven by $(basename "$ND_DRV")"

rebind() {
	[ -e "$CBD_PMEM" ] && return 0
	echo "$ND" > "$ND_DRV/bind" 2>/dev/null
	cbd_wait_for 30 test -b "$CBD_PMEM"
}
trap 'umount "$MNT" 2>/dev/null; rebind; cbd_cleanup_all >/dev/null 2>&1' EXIT

cbd_backend_start "$CBD_DISK" ",cache_size=128" ||
	ktap_exit_fail_msg "backend-start with cache_size=128"
B=$CBD_LAST_BACKEND
cbd_dev_start "$B" 2 || ktap_exit_fail_msg "dev-start"
DEV=/dev/$CBD_LAST_CBD
mkdir -p "$MNT"
cbd_check "mkfs.ext4 $DEV" mkfs.ext4 -q -F -b 4096 "$DEV" &&
	cbd_check "mount $DEV" cbd_mount ext4 "$DEV" "$MNT" ||
	ktap_exit_fail_msg "no file system on $DEV"

# synced: must survive; unsynced: may be lost, must not break anything
dd if=/dev/urandom of="$MNT/synced" bs=1M count=24 conv=fsync status=none
SUM=$(md5sum < "$MNT/synced")
sync
dd if=/dev/urandom of="$MNT/unsynced" bs=1M count=8 status=none
ktap_print_msg "cache: $(tr '\n' ' ' < "$(cbd_cache_dir "$B")/stats")"

t0=$(date +%s)
cbd_check "unbind $ND from $(basename "$ND_DRV") with $DEV mounted" \
	timeout 300 sh -c "echo $ND > $ND_DRV/unbind"
ktap_print_msg "unbind took $(( $(date +%s) - t0 ))s"
cbd_check "$CBD_PMEM is gone" cbd_wait_for 10 test ! -e "$CBD_PMEM"
cbd_check "transport$CBD_TID is unregistered" test ! -e "$(cbd_tdir)"
cbd_check "/sys/block/${DEV#/dev/} is gone" test ! -e "/sys/block/${DEV#/dev/}"
cbd_check "the kernel said why" \
	sh -c "dmesg | grep -q '$CBD_PMEM is going away'"
cbd_check "reading the mounted file system fails" \
	sh -c "! cat $MNT/synced $MNT/unsynced > /dev/null 2>&1 || \
	       ! dd if=$DEV of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null"
cbd_check "umount of the dead file system" umount "$MNT"
cbd_check "no module reference left (refcnt 0)" cbd_file_is /sys/module/cbd/refcnt 0

cbd_check "bind $ND again" rebind || ktap_exit_fail_msg "$CBD_PMEM did not come back"
cbd_check "register without format" cbd_register "path=$CBD_PMEM,hostname=node-1" ||
	ktap_exit_fail_msg "transport lost"
cbd_check "backend$B stopped cleanly (not alive, re-attachable)" \
	cbd_file_is "$(cbd_tdir)/cbd_backends/backend$B/alive" false
cbd_check "re-attach backend$B" cbd_backend_start "$CBD_DISK" ",backend_id=$B" ||
	ktap_exit_fail_msg "no backend"
cbd_dev_start "$B" 2 || ktap_exit_fail_msg "dev-start after re-attach"
DEV=/dev/$CBD_LAST_CBD
# the mount replays the ext4 journal; fsck after that must be clean
cbd_check "mount $DEV again" cbd_mount ext4 "$DEV" "$MNT"
cbd_check "fsync'd file intact" test "$(md5sum < "$MNT/synced" 2>/dev/null)" = "$SUM"
cbd_check "umount" umount "$MNT"
cbd_check "e2fsck -fn clean" e2fsck -fn "$DEV"
cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
cbd_check "backend-stop" cbd_backend_stop "$B"

cbd_finish
