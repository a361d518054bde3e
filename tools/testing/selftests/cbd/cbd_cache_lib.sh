#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the cache selftests (source after cbd_lib.sh and
# cbd_core_lib.sh): the backendN/cache directory, its stats, and a byte
# model of a region of the device to check data against.

# cbd_cache_dir BACKEND_ID
cbd_cache_dir() { echo "$(cbd_tdir)/cbd_backends/backend$1/cache"; }

# cbd_cache_stat BACKEND_ID NAME: value of "NAME: value" in cache/stats
cbd_cache_stat() {
	sed -n "s/^$2: *//p" "$(cbd_cache_dir "$1")/stats" 2>/dev/null
}

# ids of the cache segments listed in cbd_segments
cbd_cache_seg_ids() {
	local s
	for s in "$(cbd_tdir)"/cbd_segments/segment*; do
		[ "$(cat "$s/type" 2>/dev/null)" = cache ] && echo "${s##*/segment}"
	done
}

cbd_cache_is_clean() { [ "$(cbd_cache_stat "$1" dirty_bytes)" = 0 ]; }

# cbd_cache_wait_clean BACKEND_ID DEV [SECONDS]: flush DEV (its staged
# keys go to the journal) and wait until the writeback has written back
# everything in the journal.
cbd_cache_wait_clean() {
	local b=$1 dev=$2 secs=${3:-120}
	sync "$dev" || return 1
	cbd_wait_for "$secs" cbd_cache_is_clean "$b" && return 0
	ktap_print_msg "backend$b: dirty_bytes still $(cbd_cache_stat "$b" dirty_bytes) after ${secs}s"
	return 1
}

# Byte model: $CBD_MODEL is a file holding what the region [0, size) of
# the device must contain.  Offsets and lengths are in 512-byte sectors.
CBD_MODEL_DIR=${CBD_MODEL_DIR:-/tmp/cbd-model.$$}

cbd_model_init() {
	mkdir -p "$CBD_MODEL_DIR"
	CBD_MODEL=$CBD_MODEL_DIR/model
}

cbd_model_cleanup() {
	rm -rf "$CBD_MODEL_DIR"
}

# cbd_model_write DEV SECTOR COUNT: fresh random data to DEV (one O_DIRECT
# write) and to the model.
cbd_model_write() {
	local dev=$1 s=$2 n=$3 chunk=$CBD_MODEL_DIR/chunk
	dd if=/dev/urandom of="$chunk" bs=512 count="$n" status=none || return 1
	dd if="$chunk" of="$dev" bs=$((n * 512)) count=1 seek=$((s * 512)) \
		oflag=direct,seek_bytes conv=notrunc status=none || return 1
	dd if="$chunk" of="$CBD_MODEL" bs=512 count="$n" seek="$s" \
		conv=notrunc status=none
}

# cbd_model_check DEV SECTOR COUNT: DEV (one O_DIRECT read) matches the
# model.
cbd_model_check() {
	local dev=$1 s=$2 n=$3 a=$CBD_MODEL_DIR/a b=$CBD_MODEL_DIR/b
	dd if="$dev" of="$a" bs=$((n * 512)) count=1 skip=$((s * 512)) \
		iflag=direct,skip_bytes status=none || return 1
	dd if="$CBD_MODEL" of="$b" bs=512 count="$n" skip="$s" status=none || return 1
	cmp -s "$a" "$b" && return 0
	ktap_print_msg "$dev sectors $s+$n differ from the model: $(cmp "$a" "$b" 2>&1 | head -1)"
	return 1
}

# cbd_model_check_all DEV MIB: the whole region, 1 MiB at a time.
cbd_model_check_all() {
	local dev=$1 mib=$2 i
	for ((i = 0; i < mib; i++)); do
		cbd_model_check "$dev" $((i * 2048)) 2048 || return 1
	done
}
