#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Data integrity through /dev/cbdX with fio --verify=crc32c (O_DIRECT,
# libaio): random and sequential, block sizes 512 B .. 1 MiB mixed,
# iodepth 1 and 32, with 1 and 4 queues (4 concurrent jobs on disjoint
# ranges).  Then the data written before a dev-stop/dev-start is verified
# again from a fresh blkdev (it reached the backing disk, not only the
# channel).  Sizes are small so that the script runs in minutes under TCG.
#
# CBD_FIO_SIZE (default 64M): bytes per job.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

SIZE=${CBD_FIO_SIZE:-64M}

cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
cbd_setup_transport

cbd_backend_start "$CBD_DISK" || ktap_exit_fail_msg "backend-start on $CBD_DISK"
B=$CBD_LAST_BACKEND

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
	if ! cbd_dev_start "$B" "$q"; then
		ktap_test_fail "dev-start queues=$q"
		continue
	fi
	dev=/dev/$CBD_LAST_CBD
	ktap_print_msg "queues=$q: $dev"

	cbd_check "q=$q randwrite bsrange 512-1M iodepth 32 + verify" timed "q=$q rand qd32" \
		cbd_fio "q$q-rand-qd32" --name=rand32 --filename="$dev" --size="$SIZE" \
		"${COMMON[@]}" --rw=randwrite --bsrange=512-1M --iodepth=32
	cbd_check "q=$q randwrite bsrange 512-1M iodepth 1 + verify" timed "q=$q rand qd1" \
		cbd_fio "q$q-rand-qd1" --name=rand1 --filename="$dev" --size=16M \
		--offset=256M "${COMMON[@]}" --rw=randwrite --bsrange=512-1M --iodepth=1
	cbd_check "q=$q seq write bsrange 4k-1M iodepth 32 + verify" timed "q=$q seq qd32" \
		cbd_fio "q$q-seq-qd32" --name=seq32 --filename="$dev" --size="$SIZE" \
		--offset=384M "${COMMON[@]}" --rw=write --bsrange=4k-1M --iodepth=32
	cbd_check "q=$q seq write 512 B blocks iodepth 1 + verify" timed "q=$q seq 512" \
		cbd_fio "q$q-seq-512" --name=seq512 --filename="$dev" --size=512k \
		--offset=500M "${COMMON[@]}" --rw=write --bs=512 --iodepth=1
	if [ "$q" = 4 ]; then
		cbd_check "q=4 4 jobs x randrw qd16 on disjoint ranges + verify" timed "q=4 4 jobs" \
			cbd_fio "q4-4jobs" --name=jobs --filename="$dev" --size=16M \
			--offset=600M --offset_increment=16M --numjobs=4 \
			"${COMMON[@]}" --rw=randwrite --bsrange=4k-256k --iodepth=16
	fi

	# Write a tagged region, stop the blkdev, verify from a new one.
	if [ "$q" = 4 ]; then
		cbd_check "q=4 write 32M for the restart check" \
			cbd_fio "write-before-restart" --name=keep --filename="$dev" --size=32M \
			--offset=700M --direct=1 --ioengine=libaio --verify=crc32c \
			--do_verify=0 --rw=randwrite --bsrange=4k-128k --iodepth=16 \
			--randseed=4242
		cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
		if cbd_dev_start "$B" 2; then
			cbd_check "data written before dev-stop verifies on a new blkdev" \
				cbd_fio "verify-after-restart" --name=keep --filename="/dev/$CBD_LAST_CBD" \
				--size=32M --offset=700M --direct=1 --ioengine=libaio \
				--verify=crc32c --verify_only=1 --rw=randwrite --bsrange=4k-128k \
				--iodepth=16 --randseed=4242
			cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
		else
			ktap_test_fail "dev-start after stop"
		fi
	else
		cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	fi
done
cbd_check "backend-stop" cbd_backend_stop "$B"

cbd_finish
