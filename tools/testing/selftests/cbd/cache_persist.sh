#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cache persistence (journal replay and writeback): data written through a
# cached /dev/cbdX is there after dev-stop/dev-start (journal replay, no
# flush before the stop), is on the backing disk exactly after
# backend-stop (which writes everything back), and is there after
# re-attaching the backend with its cache.  Checked against a copy of the
# data (48 MiB at an unaligned offset, written with 4 queues).

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

MIB=48
# start of the region, in sectors: 100 MiB + 7 sectors
S=$((100 * 2048 + 7))

cbd_core_begin
cbd_require_disk
cbd_setup_transport
cbd_model_init
trap 'cbd_model_cleanup; cbd_cleanup_all >/dev/null 2>&1' EXIT

dd if=/dev/urandom of="$CBD_MODEL_DIR/data" bs=1M count=$MIB status=none

# same_data DEV: the region of DEV holds the data
same_data() {
	dd if="$1" of="$CBD_MODEL_DIR/read" bs=$((MIB * 1024 * 1024)) count=1 \
		skip=$((S * 512)) iflag=direct,skip_bytes status=none &&
		cmp "$CBD_MODEL_DIR/read" "$CBD_MODEL_DIR/data"
}

cbd_backend_start "$CBD_DISK" ",cache_size=256" ||
	ktap_exit_fail_msg "backend-start with cache_size=256"
B=$CBD_LAST_BACKEND
cbd_dev_start "$B" 4 || ktap_exit_fail_msg "dev-start queues=4"
DEV=/dev/$CBD_LAST_CBD

cbd_check "write $MIB MiB at sector $S" \
	dd if="$CBD_MODEL_DIR/data" of="$DEV" bs=$((MIB * 1024 * 1024)) count=1 \
	seek=$((S * 512)) oflag=direct,seek_bytes status=none
cbd_check "reads back" same_data "$DEV"
ktap_print_msg "stats: $(tr '\n' ' ' < "$(cbd_cache_dir "$B")/stats")"

cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
if cbd_dev_start "$B" 2; then
	DEV=/dev/$CBD_LAST_CBD
	cbd_check "same data after dev-stop/dev-start (replay)" same_data "$DEV"
	cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
else
	ktap_test_fail "dev-start after dev-stop"
fi

cbd_check "backend-stop" cbd_backend_stop "$B"
cbd_check "backing disk holds the data after backend-stop" same_data "$CBD_DISK"

if cbd_backend_start "$CBD_DISK" ",backend_id=$B"; then
	if cbd_dev_start "$B" 4; then
		DEV=/dev/$CBD_LAST_CBD
		cbd_check "same data after backend re-attach" same_data "$DEV"
		cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	else
		ktap_test_fail "dev-start after re-attach"
	fi
	cbd_check "backend-stop" cbd_backend_stop "$B"
else
	ktap_test_fail "backend re-attach with backend_id=$B"
fi

cbd_model_cleanup
cbd_finish
