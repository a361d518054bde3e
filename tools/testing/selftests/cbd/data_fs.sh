#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# File systems on /dev/cbdX: ext4 (4 KiB blocks) and xfs: write files,
# record their checksums, unmount, fsck must be clean (e2fsck -fn,
# xfs_repair -n), remount and compare.  Then raw patterns written through
# /dev/cbdX at a few offsets are found byte-identical on the backing disk
# after dev-stop and backend-stop (and on the disk under the loop device
# on emulated CXL, see cbd_setup_disks).

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

cbd_core_begin
cbd_require_disk
cbd_setup_transport

cbd_start_pair 2 || ktap_exit_fail_msg "backend-start + dev-start on $CBD_DISK"
DEV=/dev/$CBD_LAST_CBD
SUMS=/tmp/cbd-fs-sums.$$
mkdir -p "$CBD_MNT"

write_files() {
	local i
	for i in 1 2 3 4 5; do
		dd if=/dev/urandom of="$CBD_MNT/f$i" bs=1M count=$((i + 1)) status=none || return 1
	done
	mkdir -p "$CBD_MNT/dir/sub" &&
		dd if=/dev/urandom of="$CBD_MNT/dir/sub/small" bs=1k count=7 status=none &&
		(cd "$CBD_MNT" && sha256sum f1 f2 f3 f4 f5 dir/sub/small) > "$SUMS"
}

check_files() {
	local out
	out=$(cd "$CBD_MNT" && sha256sum -c "$SUMS" 2>&1) && return 0
	ktap_print_msg "checksum mismatch: $(grep -v ': OK' <<<"$out" | tr '\n' ' ')"
	return 1
}

fs_round() {
	local fs=$1 mkfs fsck
	case "$fs" in
	ext4) mkfs=(mke2fs -q -F -t ext4 -b 4096) fsck=(e2fsck -fn) ;;
	xfs)  mkfs=(mkfs.xfs -q -f) fsck=(xfs_repair -n) ;;
	esac
	if ! command -v "${mkfs[0]}" >/dev/null; then
		ktap_test_skip "$fs (no ${mkfs[0]})"
		return
	fi
	cbd_check "$fs: mkfs" "${mkfs[@]}" "$DEV" || return
	cbd_check "$fs: mount" cbd_mount "$fs" "$DEV" "$CBD_MNT" || return
	cbd_check "$fs: write files and checksum them" write_files
	cbd_check "$fs: checksums before umount" check_files
	cbd_check "$fs: umount" umount "$CBD_MNT"
	local out
	if out=$("${fsck[@]}" "$DEV" 2>&1); then
		ktap_test_pass "$fs: ${fsck[*]} clean"
	else
		ktap_print_msg "${fsck[*]} $DEV:"
		printf '%s\n' "$out" | tail -15 | sed 's/^/#   /'
		ktap_test_fail "$fs: ${fsck[*]} clean"
	fi
	cbd_check "$fs: remount" cbd_mount "$fs" "$DEV" "$CBD_MNT" || return
	cbd_check "$fs: checksums after remount" check_files
	cbd_check "$fs: umount" umount "$CBD_MNT"
}

fs_round ext4
if [ "$(blockdev --getsize64 "$DEV")" -ge $((300 << 20)) ]; then
	fs_round xfs
else
	ktap_test_skip "xfs (needs >= 300 MiB)"
fi

# Raw patterns at a few offsets (bytes; 512-aligned, some not 4k-aligned).
size=$(blockdev --getsize64 "$DEV")
OFFS="0 4097536 $((100 << 20)) $(( (size >> 1) + 512 )) $((size - (64 << 10)))"
PAT=/tmp/cbd-pat.$$
ok=1
for off in $OFFS; do
	dd if=/dev/urandom of="$PAT.$off" bs=64k count=1 status=none
	dd if="$PAT.$off" of="$DEV" bs=512 seek=$((off / 512)) count=128 oflag=direct \
		conv=notrunc status=none || { ok=0; ktap_print_msg "write at $off failed"; }
done
cbd_check "patterns written through $DEV at $OFFS" test "$ok" = 1
readback() {
	local dev=$1 off flags=$2 rc=0
	for off in $OFFS; do
		dd if="$dev" of="$PAT.read" bs=512 skip=$((off / 512)) count=128 $flags status=none &&
			cmp -s "$PAT.$off" "$PAT.read" ||
			{ ktap_print_msg "$dev at $off: data differs"; rc=1; }
	done
	return $rc
}
cbd_check "patterns read back through $DEV" readback "$DEV" iflag=direct
cbd_check "sync $DEV" sync "$DEV"
cbd_check "dev-stop + backend-stop" cbd_stop_pair
cbd_check "patterns identical on $CBD_DISK" readback "$CBD_DISK" iflag=direct
# With a loop device in between (emulated CXL): also on the disk under it.
[ "$CBD_DISK" = "$CBD_DISK_LOWER" ] ||
	cbd_check "patterns identical on $CBD_DISK_LOWER" readback "$CBD_DISK_LOWER" iflag=direct
rm -f "$PAT".* "$SUMS"

cbd_finish
