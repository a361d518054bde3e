#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Data integrity through a cached /dev/cbdX with fio --verify=crc32c
# (O_DIRECT, libaio): random and sequential writes, block sizes 512 B ..
# 1 MiB mixed, iodepth 1 and 32, 1 queue (cache of 4 segments, 64 MiB)
# and 4 queues (16 segments, 256 MiB), working sets smaller and larger
# than the cache, so that reads hit, miss and partially hit, and GC and
# writeback run during the jobs.  Data written before a dev-stop verifies
# on a new blkdev (replay), and the backend-stop writes everything back.
#
# CBD_FIO_BIG (default 2x the cache, 1.5x on QEMU-emulated CXL): bytes of
# the larger-than-cache job.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
cbd_setup_transport

COMMON=(--direct=1 --ioengine=libaio --verify=crc32c --do_verify=1
	--randrepeat=0 --norandommap=0)

timed() {
	local desc=$1 t0=$SECONDS rc=0
	shift
	"$@" || rc=1
	ktap_print_msg "$desc: $((SECONDS - t0))s"
	return $rc
}

for q in 1 4; do
	cache_mib=$((q * 64))
	big=${CBD_FIO_BIG:-$((cache_mib * 2))M}
	# QEMU-emulated CXL is several times slower: 1.5x the cache is enough
	cbd_pmem_on_emulated_cxl && big=${CBD_FIO_BIG:-$((cache_mib * 3 / 2))M}
	if ! cbd_backend_start "$CBD_DISK" ",cache_size=$cache_mib"; then
		ktap_test_fail "backend-start cache_size=$cache_mib"
		continue
	fi
	B=$CBD_LAST_BACKEND
	if ! cbd_dev_start "$B" "$q"; then
		ktap_test_fail "dev-start queues=$q"
		cbd_backend_stop "$B"
		continue
	fi
	dev=/dev/$CBD_LAST_CBD
	ktap_print_msg "queues=$q: $dev, cache ${cache_mib} MiB"
	gc0=$(cbd_cache_stat "$B" gc_pos)

	cbd_check "q=$q randwrite 512-1M qd32 in 32M (fits) + verify" timed "q=$q rand qd32" \
		cbd_fio "q$q-rand-qd32" --name=rand32 --filename="$dev" --size=32M \
		"${COMMON[@]}" --rw=randwrite --bsrange=512-1M --iodepth=32
	cbd_check "q=$q randwrite 512-64k qd1 + verify" timed "q=$q rand qd1" \
		cbd_fio "q$q-rand-qd1" --name=rand1 --filename="$dev" --size=8M \
		--offset=40M "${COMMON[@]}" --rw=randwrite --bsrange=512-64k --iodepth=1
	cbd_check "q=$q seq write 4k-1M qd32 $big (larger than the cache) + verify" \
		timed "q=$q seq big" \
		cbd_fio "q$q-seq-big" --name=seqbig --filename="$dev" --size="$big" \
		--offset=64M "${COMMON[@]}" --rw=write --bsrange=4k-1M --iodepth=32
	cbd_check "q=$q randrw 512-256k qd16 over 32M, reads of cached and evicted data" \
		timed "q=$q randrw" \
		cbd_fio "q$q-randrw" --name=randrw --filename="$dev" --size=32M \
		--offset=64M "${COMMON[@]}" --rw=randrw --bsrange=512-256k --iodepth=16
	if [ "$q" = 4 ]; then
		cbd_check "q=4 4 jobs x randwrite qd16 on disjoint ranges + verify" timed "q=4 4 jobs" \
			cbd_fio "q4-4jobs" --name=jobs --filename="$dev" --size=48M \
			--offset=600M --offset_increment=48M --numjobs=4 \
			"${COMMON[@]}" --rw=randwrite --bsrange=4k-256k --iodepth=16
	fi
	gc1=$(cbd_cache_stat "$B" gc_pos)
	ktap_print_msg "stats: $(tr '\n' ' ' < "$(cbd_cache_dir "$B")/stats")"
	cbd_check "q=$q GC ran (gc_pos $gc0 -> $gc1)" test "$gc0" != "$gc1"
	cbd_check "q=$q writeback ran" test "$(cbd_cache_stat "$B" writeback_bytes)" -gt 0
	cbd_check "q=$q reads hit the cache" test "$(cbd_cache_stat "$B" hits)" -gt 0

	cbd_check "q=$q write 16M for the restart check" \
		cbd_fio "write-before-restart" --name=keep --filename="$dev" --size=16M \
		--offset=20M --direct=1 --ioengine=libaio --verify=crc32c \
		--do_verify=0 --rw=randwrite --bsrange=4k-128k --iodepth=16 \
		--randseed=4242
	cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	if cbd_dev_start "$B" "$q"; then
		cbd_check "q=$q data written before dev-stop verifies (replay)" \
			cbd_fio "verify-after-restart" --name=keep --filename="/dev/$CBD_LAST_CBD" \
			--size=16M --offset=20M --direct=1 --ioengine=libaio \
			--verify=crc32c --verify_only=1 --rw=randwrite --bsrange=4k-128k \
			--iodepth=16 --randseed=4242
		cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	else
		ktap_test_fail "dev-start after stop"
	fi
	cbd_check "q=$q backend-stop" cbd_backend_stop "$B"
	cbd_check "q=$q after backend-stop the disk verifies" \
		cbd_fio "verify-disk" --name=keep --filename="$CBD_DISK" \
		--size=16M --offset=20M --direct=1 --ioengine=libaio \
		--verify=crc32c --verify_only=1 --rw=randwrite --bsrange=4k-128k \
		--iodepth=16 --randseed=4242
done

cbd_finish
