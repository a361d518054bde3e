#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smallest legal cache under a write-heavy load, where a write waiting for
# cache space must sleep, not spin: 4 queues need at least 16 segments
# (cache_size=256); fio
# writes twice the cache size with 4 jobs at iodepth 16 and verifies it,
# so writes must wait for GC, which waits for the writeback, many times.
# The device must keep making progress (no deadlock, no livelock) and the
# data must verify.  Needs a transport of at least 1 GiB.
#
# CBD_SMALL_SIZE (default 128M): bytes per job (4 jobs).
# CBD_SMALL_KEYS (default 96): MiB per job of the 512-byte write job.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

SIZE=${CBD_SMALL_SIZE:-128M}
SMALL_KEYS=${CBD_SMALL_KEYS:-96}

cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
cbd_setup_transport

cbd_backend_start "$CBD_DISK" ",cache_size=256" ||
	ktap_exit_fail_msg "backend-start with cache_size=256"
B=$CBD_LAST_BACKEND
cbd_check "cache_size=256 -> 16 segments" cbd_file_is "$(cbd_cache_dir "$B")/cache_segs" 16
cbd_dev_start "$B" 4 || ktap_exit_fail_msg "dev-start queues=4"
DEV=/dev/$CBD_LAST_CBD

gc0=$(cbd_cache_stat "$B" gc_pos)
t0=$SECONDS
cbd_check "4 jobs x $SIZE randwrite (2x the cache) + verify" \
	cbd_fio small --name=small --filename="$DEV" --size="$SIZE" \
	--offset_increment="$SIZE" --numjobs=4 --direct=1 --ioengine=libaio \
	--verify=crc32c --do_verify=1 --rw=randwrite --bsrange=4k-256k \
	--iodepth=16 --randrepeat=0
ktap_print_msg "fio: $((SECONDS - t0))s; stats: $(tr '\n' ' ' < "$(cbd_cache_dir "$B")/stats")"
cbd_check "GC moved (gc_pos $gc0 -> $(cbd_cache_stat "$B" gc_pos))" \
	test "$(cbd_cache_stat "$B" gc_pos)" != "$gc0"
cbd_check "used_segs <= cache_segs" \
	test "$(cat "$(cbd_cache_dir "$B")/used_segs")" -le 16
cbd_check "writes in second pass still verify" \
	cbd_fio small2 --name=small2 --filename="$DEV" --size="$SIZE" \
	--offset_increment="$SIZE" --numjobs=4 --direct=1 --ioengine=libaio \
	--verify=crc32c --do_verify=1 --rw=write --bsrange=512-1M \
	--iodepth=32 --randrepeat=0
if cbd_pmem_on_emulated_cxl; then
	# every byte to the cache is an emulated MMIO write: minutes
	ktap_test_skip "journal across key segments: too slow on QEMU-emulated CXL (PMEM=nvdimm runs it)"
	cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	cbd_check "backend-stop (writes back everything)" cbd_backend_stop "$B"
	cbd_finish
fi

# Many small keys (512-byte writes, 32 bytes of journal each): the
# journal fills more than one 16 MiB key segment, so key segments are
# linked, written back across, freed by GC and replayed across.
wb0=$(cbd_cache_stat "$B" writeback_pos)
gc0=$(cbd_cache_stat "$B" gc_pos)
t0=$SECONDS
cbd_check "4 jobs x ${SMALL_KEYS}M of 512-byte random writes" \
	cbd_fio keys --name=keys --filename="$DEV" --size="${SMALL_KEYS}M" \
	--offset_increment="${SMALL_KEYS}M" --numjobs=4 --direct=1 --ioengine=libaio \
	--rw=randwrite --bs=512 --iodepth=32 --randrepeat=0
ktap_print_msg "fio: $((SECONDS - t0))s; stats: $(tr '\n' ' ' < "$(cbd_cache_dir "$B")/stats")"
cbd_check "data written after them" \
	cbd_fio last --name=last --filename="$DEV" --size=16M --offset=900M \
	--direct=1 --ioengine=libaio --verify=crc32c --do_verify=0 \
	--rw=randwrite --bsrange=512-64k --iodepth=16 --randseed=77
# Stop while GC is still behind in the first key segment (it only frees
# what the writeback has passed), so dev-start replays a journal that
# spans key segments.
ktap_print_msg "dev-stop with gc_pos $(cbd_cache_stat "$B" gc_pos)"
cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
if cbd_dev_start "$B" 4; then
	DEV=/dev/$CBD_LAST_CBD
	cbd_check "replay: the last data verifies" \
		cbd_fio last --name=last --filename="$DEV" --size=16M --offset=900M \
		--direct=1 --ioengine=libaio --verify=crc32c --verify_only=1 \
		--rw=randwrite --bsrange=512-64k --iodepth=16 --randseed=77
else
	ktap_test_fail "dev-start after dev-stop"
fi
cbd_wait_for 60 eval 'wb1=$(cbd_cache_stat "$B" writeback_pos); [ "${wb1%%:*}" != "${wb0%%:*}" ]'
wb1=$(cbd_cache_stat "$B" writeback_pos)
cbd_check "writeback went on in another key segment (writeback_pos $wb0 -> $wb1)" \
	test -n "$wb0" -a -n "$wb1" -a "${wb0%%:*}" != "${wb1%%:*}"
# GC stops at gc_percent (70) used: lower it so GC follows the writeback
# out of the first key segment, whatever the fill level is.
cbd_check "gc_percent=10" cbd_write "$(cbd_cache_dir "$B")/gc_percent" 10
cbd_wait_for 60 eval 'gc1=$(cbd_cache_stat "$B" gc_pos); [ "${gc1%%:*}" != "${gc0%%:*}" ]'
gc1=$(cbd_cache_stat "$B" gc_pos)
cbd_check "GC went on in another key segment (gc_pos $gc0 -> $gc1)" \
	test -n "$gc0" -a -n "$gc1" -a "${gc0%%:*}" != "${gc1%%:*}"
cbd_check "the last data still verifies" \
	cbd_fio last --name=last --filename="$DEV" --size=16M --offset=900M \
	--direct=1 --ioengine=libaio --verify=crc32c --verify_only=1 \
	--rw=randwrite --bsrange=512-64k --iodepth=16 --randseed=77
cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
cbd_check "backend-stop (writes back everything)" cbd_backend_stop "$B"

cbd_finish
