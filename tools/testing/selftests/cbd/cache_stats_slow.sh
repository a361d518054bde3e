#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cache/stats does not wait for the writeback: on a backing
# disk that takes DELAY_MS for every write and flush (dm-delay), a
# writeback pass of many small ksets lasts tens of seconds; every read of
# cache/stats during it must return within READ_MAX seconds (it used to
# block until the pass ended).  Afterwards dirty_bytes reaches 0 and the
# backing disk holds the data (byte model, after backend-stop).

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

DELAY_MS=300
WRITES=200	# 4 KiB writes with O_SYNC: one kset (and flush) each
READ_MAX=3
DM=cbd-stats-slow

cbd_core_begin
cbd_require_disk
if ! command -v dmsetup >/dev/null || ! modprobe -q dm-delay 2>/dev/null; then
	ktap_exit_skip "no dmsetup or dm-delay"
fi
cbd_setup_transport
cbd_model_init
trap 'cbd_model_cleanup; cbd_cleanup_all >/dev/null 2>&1; dmsetup remove "$DM" >/dev/null 2>&1' EXIT

SECTORS=$((64 * 2048))
dmsetup create "$DM" --table \
	"0 $SECTORS delay $CBD_DISK 0 0 $CBD_DISK 0 $DELAY_MS $CBD_DISK 0 $DELAY_MS" ||
	ktap_exit_fail_msg "dmsetup create $DM"
dmsetup mknodes "$DM" >/dev/null 2>&1
SLOW=/dev/mapper/$DM
dd if=/dev/zero of="$SLOW" bs=1M count=64 oflag=direct status=none ||
	ktap_exit_fail_msg "zero $SLOW"
dd if=/dev/zero of="$CBD_MODEL" bs=1M count=64 status=none

cbd_backend_start "$SLOW" ",cache_size=128" ||
	ktap_exit_fail_msg "backend-start on $SLOW with a cache"
B=$CBD_LAST_BACKEND
cbd_dev_start "$B" 1 || ktap_exit_fail_msg "dev-start"
DEV=/dev/$CBD_LAST_CBD

write_all() {
	local i s chunk=$CBD_MODEL_DIR/chunk
	for ((i = 0; i < WRITES; i++)); do
		s=$(((RANDOM * 32768 + RANDOM) % (SECTORS / 8) * 8))
		dd if=/dev/urandom of="$chunk" bs=4k count=1 status=none &&
		dd if="$chunk" of="$DEV" bs=4k count=1 seek=$((s * 512)) \
			oflag=direct,sync,seek_bytes conv=notrunc status=none &&
		dd if="$chunk" of="$CBD_MODEL" bs=512 count=8 seek="$s" \
			conv=notrunc status=none || return 1
	done
}
cbd_check "$WRITES synchronous 4 KiB writes" write_all

# centiseconds since boot (the guest's date has no %N)
uptime_cs() {
	local up
	read -r up _ < /proc/uptime
	echo $((10#${up/./}))
}

# read cache/stats while dirty: each read is timed on its own
slow=0 reads=0 dirty_seen=0 wb_first= wb_last=
t_end=$((SECONDS + 60))
while [ $SECONDS -lt $t_end ]; do
	t0=$(uptime_cs)
	if ! out=$(timeout $((READ_MAX * 4)) cat "$(cbd_cache_dir "$B")/stats"); then
		ktap_print_msg "stats read failed or timed out after $((READ_MAX * 4))s"
		slow=$((slow + 1))
		break
	fi
	cs=$(($(uptime_cs) - t0))
	reads=$((reads + 1))
	[ $cs -gt $((READ_MAX * 100)) ] && slow=$((slow + 1)) &&
		ktap_print_msg "stats read took $((cs * 10)) ms"
	d=$(sed -n 's/^dirty_bytes: *//p' <<<"$out")
	[ "${d:-0}" = 0 ] && break
	dirty_seen=$((dirty_seen + 1))
	# the writeback is paced (it starts once the writes stopped): its
	# progress between the reads shows that they overlapped a pass
	wb_last=$(sed -n 's/^writeback_bytes: *//p' <<<"$out")
	wb_first=${wb_first:-$wb_last}
	sleep 0.5
done
ktap_print_msg "$reads stats reads, $dirty_seen with dirty data, $slow slow; writeback_bytes ${wb_first:-?} -> ${wb_last:-?} during them"
cbd_check "the writeback was still running during the reads" \
	test $dirty_seen -ge 3 -a "${wb_last:-0}" -gt "${wb_first:-0}"
cbd_check "no stats read took more than ${READ_MAX}s" test $slow -eq 0

cbd_check "dirty_bytes reaches 0" cbd_cache_wait_clean "$B" "$DEV" 300
cbd_check "reads back through the cache" cbd_model_check_all "$DEV" 64
cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
cbd_check "backend-stop" cbd_backend_stop "$B"
cbd_check "the backing disk holds the data" cbd_model_check_all "$SLOW" 64
# before cbd_finish, which drops the EXIT trap and checks the cleanup
cbd_check "cleanup: remove $DM" dmsetup remove "$DM"
cbd_model_cleanup

cbd_finish
