#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A cached backend on host A used from host B (two guests, vm.sh --guests).
# A starts the backend with cache_size=64 (4 segments) on its disk: A runs
# the cache's writeback.  B starts /dev/cbdX on it: B runs the index, the
# journal and the GC.  The two instances talk only through the transport
# memory, so B's writes larger than the cache only complete if A's
# writeback and B's GC make progress across the hosts.
#
# On B: fio with crc32c verification (random writes that fit, sequential
# writes twice the cache, random read/write over evicted data), a last
# fio write kept for the end, and ext4 (in the first 512 MiB of the disk)
# made, written, read back, checked with e2fsck -fn.  A watches the cache
# (cache/stats: writeback and GC moved, used_segs), B the backend's
# cache_segs/cache_used_segs.  After B's dev-stop, A starts a blkdev on
# its own backend: its cache instance replays the journal B wrote, and
# B's kept region and files read back through it.  After A's dev-stop,
# A's backend-stop writes everything back; A then finds B's data on its
# own disk: the kept fio region verifies, e2fsck -fn is clean and the
# files have B's checksums.
#
# MH_CACHE_BIG (default 128M, 96M on QEMU-emulated CXL): the sequential
# job, larger than the 64 MiB cache.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

TMP=/tmp/cbd-mh-cache
CACHE_MIB=64
FS_MIB=512			# ext4 in [0, 512M), fio data above
FILES=4

FIO_COMMON=(--direct=1 --ioengine=libaio --verify=crc32c --randrepeat=0)
# the region B writes last and A verifies on its disk after backend-stop
KEEP=(--name=keep --size=32M --offset=900M --direct=1 --ioengine=libaio
	--verify=crc32c --rw=randwrite --bsrange=4k-128k --iodepth=16
	--randseed=4343)

# b_io DEV: B's fio jobs, with the cache stats of its side around them.
b_io() {
	local dev=$1 big=${MH_CACHE_BIG:-128M} used
	cbd_pmem_on_emulated_cxl && big=${MH_CACHE_BIG:-96M}
	cbd_check "B: randwrite 512-1M qd32 in 32M (fits the cache) + verify" \
		cbd_fio rand --name=rand --filename="$dev" --size=32M --offset=$((FS_MIB))M \
		"${FIO_COMMON[@]}" --do_verify=1 --rw=randwrite --bsrange=512-1M --iodepth=32
	cbd_check "B: seq write 4k-1M qd32 $big (larger than the cache) + verify" \
		cbd_fio seqbig --name=seqbig --filename="$dev" --size="$big" \
		--offset=$((FS_MIB + 32))M "${FIO_COMMON[@]}" --do_verify=1 \
		--rw=write --bsrange=4k-1M --iodepth=32
	cbd_check "B: randrw 512-256k qd16 over 32M of evicted data + verify" \
		cbd_fio randrw --name=randrw --filename="$dev" --size=32M \
		--offset=$((FS_MIB + 32))M "${FIO_COMMON[@]}" --do_verify=1 \
		--rw=randrw --bsrange=512-256k --iodepth=16
	cbd_check "B: write 32M at 900M, verified later on A's disk" \
		cbd_fio keep --filename="$dev" "${KEEP[@]}" --do_verify=0
	cbd_check "B: the 32M at 900M verify through the cache" \
		cbd_fio keep-verify --filename="$dev" "${KEEP[@]}" --verify_only=1
	used=$(cbd_backend_attr "$bid" cache_used_segs)
	cbd_check "B: backend$bid/cache_used_segs in 1..4 ($used)" \
		test "${used:-0}" -ge 1 -a "${used:-0}" -le 4
}

# b_fs DEV: ext4 in the first FS_MIB of DEV, files with their checksums
# in the marker "sums".
b_fs() {
	local dev=$1 i sums=""
	mh_step "B: mkfs.ext4 on the first ${FS_MIB}M of $dev" \
		mkfs.ext4 -q -F "$dev" "${FS_MIB}M" || return 1
	mh_step "B: mount ext4" cbd_mount ext4 "$dev" "$CBD_MNT" || return 1
	for i in $(seq 1 $FILES); do
		dd if=/dev/urandom of="$TMP/f$i" bs=1M count=$((i * 8)) status=none
		cp "$TMP/f$i" "$CBD_MNT/f$i"
		sums+="f$i:$(md5sum < "$TMP/f$i" | cut -d' ' -f1) "
		rm -f "$TMP/f$i"
	done
	cbd_check "B: $FILES files (80 MiB, more than the cache) written and synced" sync
	cbd_check "B: files read back with the right checksums (page cache dropped)" \
		check_sums "$CBD_MNT" "$sums"
	mh_step "B: umount" umount "$CBD_MNT" || return 1
	cbd_check "B: e2fsck -fn clean" e2fsck -fn "$dev"
	mh_put sums "$sums"
}

# check_sums DIR "NAME:MD5 ...": files in DIR have these checksums
check_sums() {
	local dir=$1 e got
	sync
	echo 3 > /proc/sys/vm/drop_caches
	for e in $2; do
		got=$(md5sum < "$dir/${e%%:*}" | cut -d' ' -f1)
		[ "$got" = "${e#*:}" ] && continue
		ktap_print_msg "$dir/${e%%:*}: md5 $got, expected ${e#*:}"
		return 1
	done
}

# a_watch: on A during B's I/O, until B is done: the cache's stats as A's
# writeback and B's GC see them.
a_watch() {
	local cdir gc0 wb0 s
	cdir=$(cbd_cache_dir "$bid")
	gc0=$(cbd_cache_stat "$bid" gc_pos)
	wb0=$(cbd_cache_stat "$bid" writeback_pos)
	mh_wait io-done 900 || return 1
	s=$(tr '\n' ' ' < "$cdir/stats")
	ktap_print_msg "A: cache/stats after B's fio: $s"
	cbd_check "A: writeback wrote B's data (writeback_bytes > 0)" \
		test "$(cbd_cache_stat "$bid" writeback_bytes)" -gt 0
	cbd_check "A: writeback_pos moved ($wb0 -> $(cbd_cache_stat "$bid" writeback_pos))" \
		test "$(cbd_cache_stat "$bid" writeback_pos)" != "$wb0"
	cbd_check "A: gc_pos moved by B's GC ($gc0 -> $(cbd_cache_stat "$bid" gc_pos))" \
		test "$(cbd_cache_stat "$bid" gc_pos)" != "$gc0"
	cbd_check "A: cache/used_segs <= cache_segs ($(cat "$cdir/used_segs"))" \
		test "$(cat "$cdir/used_segs")" -le "$(cat "$cdir/cache_segs")"
	mh_put a-watched
}

# a_replay: on A after B's dev-stop, a blkdev on A's own host: its cache
# instance rebuilds the index from the journal B wrote; B's data reads
# back through it.
a_replay() {
	local dev sums
	mh_step "A: dev-start on its own backend (A replays B's journal)" \
		cbd_dev_start "$bid" 1 || return 1
	dev=/dev/$CBD_LAST_CBD
	cbd_check "A: B's last 32M verify through the cache on A" \
		cbd_fio keep-a --filename="$dev" "${KEEP[@]}" --verify_only=1
	sums=$(mh_get sums)
	mkdir -p "$CBD_MNT"
	if cbd_check "A: mount B's ext4 read-only through $dev" \
		mount -t ext4 -o ro "$dev" "$CBD_MNT"; then
		cbd_check "A: B's files read through the cache on A have B's checksums" \
			check_sums "$CBD_MNT" "$sums"
		umount "$CBD_MNT"
	fi
	ktap_print_msg "A: cache/stats with A's blkdev: $(tr '\n' ' ' < "$(cbd_cache_dir "$bid")/stats")"
	mh_step "A: dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
}

# a_after: on A after B's dev-stop: backend-stop, then B's data on A's disk
a_after() {
	local sums
	a_replay
	mh_step "A: backend-stop (writes the cache back)" cbd_backend_stop "$bid" || return 1
	mh_put backend-stopped
	cbd_check "A: B's last 32M verify on A's own disk" \
		cbd_fio keep-disk --filename="$CBD_DISK" "${KEEP[@]}" --verify_only=1
	sums=$(mh_get sums)
	[ -n "$sums" ] || { ktap_test_fail "A: B published its checksums"; return 1; }
	cbd_check "A: e2fsck -fn of B's ext4 on A's disk clean" e2fsck -fn "$CBD_DISK"
	mkdir -p "$CBD_MNT"
	cbd_check "A: mount B's ext4 read-only" mount -t ext4 -o ro "$CBD_DISK" "$CBD_MNT" || return 1
	cbd_check "A: B's files have B's checksums" check_sums "$CBD_MNT" "$sums"
	umount "$CBD_MNT"
}

mh_require
cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
mkdir -p "$TMP"
mh_register || cbd_finish
tdir=$(cbd_tdir)

if mh_is_a; then
	mh_step "A: backend-start cache_size=$CACHE_MIB on $CBD_DISK" \
		cbd_backend_start "$CBD_DISK" ",cache_size=$CACHE_MIB" || cbd_finish
	bid=$CBD_LAST_BACKEND
	cbd_check "A: backend$bid/cache/cache_segs = 4" \
		cbd_file_is "$(cbd_cache_dir "$bid")/cache_segs" 4
	mh_put backend "$bid"
	if mh_wait dev-started 180; then
		devid=$(mh_get dev-started)
		cbd_check "A sees B's blkdev$devid on backend$bid, alive" \
			test "$(cbd_blkdev_attr "$devid" backend_id)/$(cbd_blkdev_attr "$devid" alive)" = "$bid/true"
		a_watch
	fi
	mh_wait dev-stopped 900 && a_after
else
	if mh_wait backend 60; then
		bid=$(mh_get backend)
		cbd_check "B sees backend$bid of A: cache_segs 4" \
			test "$(cbd_backend_attr "$bid" cache_segs)" = 4
		cbd_check "B: no backend$bid/cache directory (A runs the backend)" \
			test ! -e "$tdir/cbd_backends/backend$bid/cache"
		if mh_step "B: dev-start on A's cached backend$bid" cbd_dev_start "$bid" 1; then
			dev=/dev/$CBD_LAST_CBD
			mh_put dev-started "$CBD_LAST_DEV_ID"
			b_io "$dev"
			b_fs "$dev"
			mh_put io-done
			mh_wait a-watched 120
			mh_step "B: dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
			mh_put dev-stopped
			mh_wait backend-stopped 300 &&
				cbd_check "B: backend$bid reads alive=false after A's backend-stop" \
					cbd_file_is "$tdir/cbd_backends/backend$bid/alive" false
		fi
	else
		ktap_test_fail "host A started a cached backend"
	fi
fi
mh_barrier finished 900
rm -rf "$TMP"
cbd_finish
