#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cache index (newest write wins over any overlap): a fixed sequence of overlapping writes
# and reads at sector (not page) aligned offsets, checked against a byte
# model of the first 16 MiB: reads that miss and fill the cache (the disk
# is filled with known data first), new keys overlapping the tail, the
# head, the middle of and the whole of existing dirty and clean keys,
# exact and adjacent writes, writes and reads spanning the 4 MiB index
# tree boundaries.  Checked before writeback, on the backing disk after
# writeback, after dev-stop/dev-start (journal replay), after more
# writes on the replayed index, and after backend-stop and re-attach.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

MIB=16

cbd_core_begin
cbd_require_disk
cbd_setup_transport
cbd_model_init
trap 'cbd_model_cleanup; cbd_cleanup_all >/dev/null 2>&1' EXIT

dd if=/dev/urandom of="$CBD_MODEL" bs=1M count=$MIB status=none
cbd_check "backing disk filled with known data" \
	dd if="$CBD_MODEL" of="$CBD_DISK" bs=1M oflag=direct status=none

cbd_backend_start "$CBD_DISK" ",cache_size=128" ||
	ktap_exit_fail_msg "backend-start with cache_size=128"
B=$CBD_LAST_BACKEND
cbd_dev_start "$B" 2 || ktap_exit_fail_msg "dev-start queues=2"
DEV=/dev/$CBD_LAST_CBD

W() { cbd_model_write "$DEV" "$1" "$2"; }
R() { cbd_model_check "$DEV" "$1" "$2"; }

cbd_check "reads that miss return the disk's data" cbd_model_check_all "$DEV" $MIB
cbd_check "reads that hit the miss-filled cache" cbd_model_check_all "$DEV" $MIB

overlap_sequence() {
	W 100 100 &&		# A = [100, 200)
	W 50 70 &&		# over A's head
	W 180 80 &&		# over A's tail
	W 130 10 &&		# inside A: split
	R 95 120 &&
	W 40 260 &&		# contains everything so far
	W 40 260 &&		# exact
	W 300 10 && W 30 10 &&	# adjacent on both sides
	R 25 300 &&
	W 1001 7 && W 1003 1 && W 999 3 && W 1007 2 && R 990 30 &&
	W 8190 4 &&		# across the 4 MiB tree boundary
	W 8000 400 && W 8191 2 && R 8185 14 &&
	W 7000 2048 &&		# 1 MiB across the boundary
	W 16380 10 && W 16383 2 && R 16370 30 &&
	W 20001 17 &&		# inside a clean (miss-filled) key
	W 19999 3 && R 19990 40 &&
	W 24575 2 && R 24570 12 &&	# across the 12 MiB boundary, clean keys around
	R 7990 30 && R 125 20
}

cbd_check "overlapping writes and reads match the model" overlap_sequence
cbd_check "whole region matches the model before writeback" cbd_model_check_all "$DEV" $MIB

cbd_check "flush and wait for the writeback" cbd_cache_wait_clean "$B" "$DEV"
cbd_check "backing disk matches the model after writeback" cbd_model_check_all "$CBD_DISK" $MIB
cbd_check "whole region matches the model after writeback" cbd_model_check_all "$DEV" $MIB

cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
if cbd_dev_start "$B" 1; then
	DEV=/dev/$CBD_LAST_CBD
	cbd_check "after dev-stop/dev-start (replay): region matches" \
		cbd_model_check_all "$DEV" $MIB
	cbd_check "overlapping writes on the replayed index" overlap_sequence
	cbd_check "region matches after the second sequence" cbd_model_check_all "$DEV" $MIB
	cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	if cbd_dev_start "$B" 1; then
		DEV=/dev/$CBD_LAST_CBD
		cbd_check "second replay: region matches" cbd_model_check_all "$DEV" $MIB
		cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	else
		ktap_test_fail "second dev-start"
	fi
else
	ktap_test_fail "dev-start after dev-stop"
fi

cbd_check "backend-stop writes everything back" cbd_backend_stop "$B"
cbd_check "backing disk matches the model after backend-stop" \
	cbd_model_check_all "$CBD_DISK" $MIB

if cbd_backend_start "$CBD_DISK" ",backend_id=$B"; then
	cbd_check "re-attached backend has its cache" \
		cbd_file_is "$(cbd_cache_dir "$B")/cache_segs" 8
	if cbd_dev_start "$B" 2; then
		DEV=/dev/$CBD_LAST_CBD
		cbd_check "after backend re-attach: region matches" cbd_model_check_all "$DEV" $MIB
		cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	else
		ktap_test_fail "dev-start after re-attach"
	fi
	cbd_check "backend-stop" cbd_backend_stop "$B"
else
	ktap_test_fail "backend re-attach"
fi

cbd_model_cleanup
cbd_finish
