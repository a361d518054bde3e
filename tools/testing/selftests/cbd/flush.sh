#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Flushes reach the backing disk, so fsync'd data survives a power loss: /dev/cbdX
# advertises a write cache and FUA, so fsync/O_SYNC on it must show up as
# flush requests on the backing disk.  Counted with field 16 ("flush
# I/Os", Documentation/block/stat.rst) of /sys/block/<disk>/stat.
# On QEMU-emulated CXL the backend sits on a buffered loop device over the
# virtio disk (cbd_setup_disks): the flushes are counted on the virtio
# disk as before and on the loop device too (loop turns a flush into an
# fsync of its backing block device, which flushes the virtio disk).

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

N=${CBD_FLUSH_N:-100}

cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
BDISK=$(basename "$(readlink -f "$CBD_DISK_LOWER")")
[ "$(cat "/sys/block/$BDISK/queue/write_cache")" = "write back" ] ||
	ktap_exit_skip "$CBD_DISK_LOWER has no volatile write cache: flushes never reach it"
# the loop device between, if any
LDISK=
[ "$CBD_DISK" = "$CBD_DISK_LOWER" ] || LDISK=$(basename "$(readlink -f "$CBD_DISK")")
cbd_setup_transport

cbd_start_pair 1 || ktap_exit_fail_msg "backend-start + dev-start on $CBD_DISK"
D=$CBD_LAST_CBD

flushes() { awk '{print $16}' "/sys/block/$1/stat"; }

# expect_flushes DESC CMIN MIN CMD...: run CMD; /dev/cbdX must see at
# least CMIN flush requests meanwhile and the backing disk (and the loop
# device on it, if any) at least MIN.  (A FUA write is not a flush request
# on /dev/cbdX, but neither the virtio disk nor loop has FUA, so the block
# layer turns it into a flush there.)
expect_flushes() {
	local desc=$1 cmin=$2 min=$3 b0 c0 l0=0 b1 c1 l1=0
	shift 3
	b0=$(flushes "$BDISK") c0=$(flushes "$D")
	[ -z "$LDISK" ] || l0=$(flushes "$LDISK")
	if ! "$@"; then
		ktap_test_fail "$desc: command failed"
		return 1
	fi
	b1=$(flushes "$BDISK") c1=$(flushes "$D")
	[ -z "$LDISK" ] || l1=$(flushes "$LDISK")
	ktap_print_msg "$desc: $D flushes +$((c1 - c0)) (want >= $cmin),${LDISK:+ $LDISK flushes +$((l1 - l0)) (want >= $min),} $BDISK flushes +$((b1 - b0)) (want >= $min)"
	[ "$cmin" = 0 ] ||
		cbd_check "$desc: $D received >= $cmin flushes" test $((c1 - c0)) -ge "$cmin"
	[ -z "$LDISK" ] ||
		cbd_check "$desc: $LDISK received >= $min flushes" test $((l1 - l0)) -ge "$min"
	cbd_check "$desc: $BDISK received >= $min flushes" test $((b1 - b0)) -ge "$min"
}

# fio issues an fsync after every write but the last: N - 1 flushes.
expect_flushes "fio $N x 4k write + fsync" $((N - 1)) $((N / 2)) \
	cbd_fio "fsync" --name=fsync --filename="/dev/$D" --rw=write --bs=4k \
	--size=$((N * 4))k --number_ios="$N" --fsync=1 --direct=1 --ioengine=psync
expect_flushes "fio $N x 4k O_SYNC direct writes (FUA)" 0 $((N / 2)) \
	cbd_fio "osync" --name=osync --filename="/dev/$D" --rw=write --bs=4k \
	--offset=1M --size=$((N * 4))k --number_ios="$N" --sync=1 --direct=1 --ioengine=psync
buffered_sync() {
	dd if=/dev/urandom of="/dev/$D" bs=1M count=4 seek=8 status=none &&
		sync "/dev/$D"
}
expect_flushes "buffered 4M write + fsync of $D" 1 1 buffered_sync
fs_sync() {
	mkdir -p "$CBD_MNT"
	mke2fs -q -F -t ext4 "/dev/$D" && cbd_mount ext4 "/dev/$D" "$CBD_MNT" || return 1
	local i rc=0
	for i in $(seq 1 10); do
		dd if=/dev/urandom of="$CBD_MNT/f$i" bs=64k count=1 conv=fsync status=none || rc=1
	done
	umount "$CBD_MNT" || rc=1
	return $rc
}
expect_flushes "ext4: 10 files written with fsync" 10 10 fs_sync

cbd_check "dev-stop + backend-stop" cbd_stop_pair
cbd_finish
