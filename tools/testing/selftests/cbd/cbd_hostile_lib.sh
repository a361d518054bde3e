#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the tests that play a hostile peer: they write corrupt
# values straight into the transport through the pmem block device, as a
# buggy or malicious host sharing the memory could.  Source it after
# cbd_lib.sh and cbd_core_lib.sh.
#
# Offsets come from the registered transport's header (transportN/info,
# read with cbd_info_field) and from the on-media layouts:
#   backend slot: state 0, owner_gen 1, host_id 4, blkdev_count 8,
#     n_handlers 12, alive_ts 16, dev_size 24, cache_info 32 (blkdev_state
#     32, blkdev_id 36, seg_id 40, n_segs 44, used_segs 48, gc_percent 52,
#     key_tail_pos 56, dirty_tail_pos 64), path 72 (512 bytes)
#   blkdev slot: state 0, alive_ts 8, backend_id 16, host_id 20,
#     mapped_id 24
#   host slot: state 0, alive_ts 8, hostname 16 (32 bytes)
#   segment header: state 0, type 1, ref 2, next_seg 4, alive_ts 8;
#     a channel continues with blkdev_state 16, blkdev_id 20,
#     backend_state 24, backend_id 28, polling 32, submr_head 36,
#     submr_tail 40, compr_head 44, compr_tail 48 (cbd_channel.h)
#
# The writes use O_DIRECT on whole 4 KiB blocks: read, patch, write back,
# so that no page cache copy of the pmem hides what the driver sees.

# hx_le BYTES VALUE: VALUE as BYTES little-endian bytes, as \xHH escapes.
hx_le() {
	local n=$1 v=$2 i out=
	for ((i = 0; i < n; i++)); do
		out+=$(printf '\\x%02x' $(( (v >> (8 * i)) & 0xff )))
	done
	printf '%s' "$out"
}

# hx_poke OFFSET ESCAPED: write the bytes of ESCAPED (\xHH escapes, as from
# hx_le) at byte OFFSET of the pmem.
hx_poke() {
	local off=$1 data=$2 blk tmp
	blk=$((off / 4096))
	tmp=$(mktemp /tmp/cbd-hx.XXXXXX)
	dd if="$CBD_PMEM" of="$tmp" bs=4096 skip="$blk" count=1 iflag=direct status=none || { rm -f "$tmp"; return 1; }
	printf '%b' "$data" | dd of="$tmp" bs=1 seek=$((off % 4096)) conv=notrunc status=none
	dd if="$tmp" of="$CBD_PMEM" bs=4096 seek="$blk" count=1 oflag=direct conv=notrunc status=none
	local rc=$?
	rm -f "$tmp"
	return $rc
}

# hx_peek OFFSET LEN: LEN bytes at OFFSET of the pmem, as \xHH escapes
# (feed them back to hx_poke to restore).
hx_peek() {
	local off=$1 len=$2 b out=
	for b in $(dd if="$CBD_PMEM" bs=4096 skip=$((off / 4096)) count=1 iflag=direct status=none |
		   od -An -v -tx1 -j $((off % 4096)) -N "$len"); do
		out+="\\x$b"
	done
	printf '%s' "$out"
}

# hx_peek_u VAL OFFSET BYTES: unsigned little-endian value at OFFSET.
hx_peek_u() {
	local off=$1 n=$2 b i=0 v=0
	for b in $(dd if="$CBD_PMEM" bs=4096 skip=$((off / 4096)) count=1 iflag=direct status=none |
		   od -An -v -tx1 -j $((off % 4096)) -N "$n"); do
		v=$(( v | (16#$b << (8 * i)) ))
		i=$((i + 1))
	done
	echo "$v"
}

# Byte offsets of records in the transport.
hx_backend_off() { echo $(( $(cbd_info_field backend_area_off) + $1 * $(cbd_info_field bytes_per_backend_info) )); }
hx_blkdev_off()  { echo $(( $(cbd_info_field blkdev_area_off) + $1 * $(cbd_info_field bytes_per_blkdev_info) )); }
hx_host_off()    { echo $(( $(cbd_info_field host_area_off) + $1 * $(cbd_info_field bytes_per_host_info) )); }
hx_seg_off()     { echo $(( $(cbd_info_field segment_area_off) + $1 * $(cbd_info_field bytes_per_segment) )); }

# hx_timed SECONDS CMD...: run CMD with a time limit; prints nothing,
# returns CMD's status (124 on timeout).
hx_timed() {
	local secs=$1
	shift
	timeout "$secs" "$@"
}

# hx_errno_within SECONDS FILE STRING: like cbd_errno, but gives up after
# SECONDS (prints TIMEOUT): a refused action must be refused promptly.
hx_errno_within() {
	local secs=$1 f=$2 s=$3 out
	out=$(timeout "$secs" "$CBD_WRITE_BIN" "$f" "$s" 2>&1) || [ -n "$out" ] || out=TIMEOUT
	echo "$out"
}

# hx_klog_has PATTERN: the kernel log since the mark has PATTERN.
hx_klog_has() {
	cbd_dmesg_since_mark | grep -qE "$1"
}
