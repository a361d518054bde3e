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

# ---------------------------------------------------------------- case table

# A hostile case: mark the log, corrupt, act, check, restore.  Each case
# prints one KTAP result (its name, what it got, its time) and its time
# goes to HX_TIMES for the summary at the end.
HX_TIMES=
HX_CASES=0
HX_T0=$(date +%s)

# hx_save OFFSET LEN: remember the bytes to put back with hx_restore.
HX_SAVED_OFF=
HX_SAVED=
hx_save() { HX_SAVED_OFF=$1; HX_SAVED=$(hx_peek "$1" "$2"); }
hx_restore() {
	[ -n "$HX_SAVED_OFF" ] || return 0
	hx_poke "$HX_SAVED_OFF" "$HX_SAVED"
	HX_SAVED_OFF=
}

# hx_corrupt OFFSET BYTES VALUE: save the field, write VALUE over it.
hx_corrupt() {
	hx_save "$1" "$2"
	hx_poke "$1" "$(hx_le "$2" "$3")"
}

# hx_corrupt_str OFFSET LEN CHAR: fill a string field with CHAR (no NUL).
hx_corrupt_str() {
	local s= i
	hx_save "$1" "$2"
	for ((i = 0; i < $2; i++)); do s+=$3; done
	hx_poke "$1" "$s"
}

# hx_want GOT WANT: GOT is one of the '|'-separated WANT names.
# ANYERR stands for any errno (not OK, not TIMEOUT).  WANT is a list of
# '|'-separated alternatives for the whole of GOT; failing that, GOT and
# WANT with the same number of ','-separated parts match part by part
# ("io:OK|io:EIO,type:EIO" accepts "io:EIO,type:EIO").
hx_want1() {
	[[ "|$2|" == *"|$1|"* ]] && return 0
	[[ "|$2|" == *"|ANYERR|"* && $1 == E* ]]
}
hx_want() {
	local -a g w
	local i
	hx_want1 "$1" "$2" && return 0
	IFS=, read -r -a g <<< "$1"
	IFS=, read -r -a w <<< "$2"
	[ "${#g[@]}" -eq "${#w[@]}" ] && [ "${#g[@]}" -gt 1 ] || return 1
	for i in "${!g[@]}"; do
		hx_want1 "${g[$i]}" "${w[$i]}" || return 1
	done
}

# hx_read_attr FILE: OK if FILE reads, else the errno name (EIO, ...).
hx_read_attr() {
	local err
	if err=$(LC_ALL=C timeout 10 cat "$1" 2>&1 >/dev/null); then
		echo OK
	elif [ -z "$err" ]; then
		echo TIMEOUT
	else
		cbd_strerror_to_name "$err"
	fi
}

# hx_io DEV: read 64 KiB with O_DIRECT, bounded: OK, EIO or TIMEOUT.
HX_IO_BOUND=${HX_IO_BOUND:-40}
hx_io() {
	local err rc=0
	err=$(LC_ALL=C timeout "$HX_IO_BOUND" dd if="$1" of=/dev/null bs=64k count=1 iflag=direct 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		echo OK
	elif [ "$rc" = 124 ]; then
		echo TIMEOUT
	else
		cbd_strerror_to_name "$err"
	fi
}

# hx_short_timeout DISK: a stuck request ends within a few seconds.
hx_short_timeout() {
	echo 3000 > "/sys/block/$1/queue/io_timeout" 2>/dev/null
}

# hx_result NAME WANT GOT T0: one KTAP result for a case.  Besides GOT
# matching WANT, the kernel log since the case's mark must be clean.
hx_result() {
	local name=$1 want=$2 got=$3 t0=$4 secs ok=1
	secs=$(( $(date +%s) - t0 ))
	HX_TIMES+="$name=${secs}s "
	HX_CASES=$((HX_CASES + 1))
	hx_want "$got" "$want" || { ktap_print_msg "$name: expected $want, got $got"; ok=0; }
	if ! cbd_klog_clean; then
		ktap_print_msg "$name: kernel log:"
		cbd_dmesg_since_mark | grep -E "$CBD_BAD_KLOG" | head -10 | sed 's/^/#   /'
		ok=0
	fi
	if [ "$ok" = 1 ]; then
		ktap_test_pass "hostile: $name -> $got (want $want) ${secs}s"
	else
		ktap_test_fail "hostile: $name -> $got (want $want) ${secs}s"
	fi
}

# hx_summary: print the per-case times and the total.
hx_summary() {
	ktap_print_msg "$HX_CASES cases in $(( $(date +%s) - HX_T0 ))s: $HX_TIMES"
}

# hx_other_setup: an uncached pair on CBD_DISK2 nobody corrupts; its data
# is checked after every case (HX_OTHER_DISK, HX_OTHER_SUM).
HX_OTHER_DEV= HX_OTHER_BACKEND= HX_OTHER_DISK= HX_OTHER_SUM=
hx_other_setup() {
	cbd_backend_start "$CBD_DISK2" || return 1
	HX_OTHER_BACKEND=$CBD_LAST_BACKEND
	cbd_dev_start "$HX_OTHER_BACKEND" 1 || return 1
	HX_OTHER_DEV=$CBD_LAST_DEV_ID HX_OTHER_DISK=$CBD_LAST_CBD
	dd if=/dev/urandom of="/dev/$HX_OTHER_DISK" bs=64k count=16 oflag=direct status=none
	HX_OTHER_SUM=$(hx_other_sum)
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND='' CBD_LAST_CBD=''
}
hx_other_sum() {
	timeout 30 dd if="/dev/$HX_OTHER_DISK" bs=64k count=16 iflag=direct status=none | md5sum | cut -d' ' -f1
}
hx_other_intact() {
	[ -n "$HX_OTHER_DISK" ] || return 0
	[ "$(hx_other_sum)" = "$HX_OTHER_SUM" ] && return 0
	ktap_print_msg "data of the uncorrupted /dev/$HX_OTHER_DISK changed"
	return 1
}
hx_other_teardown() {
	[ -n "$HX_OTHER_DEV" ] && cbd_dev_stop "$HX_OTHER_DEV"
	[ -n "$HX_OTHER_BACKEND" ] && cbd_backend_stop "$HX_OTHER_BACKEND"
	HX_OTHER_DEV= HX_OTHER_BACKEND= HX_OTHER_DISK=
}

# hx_stop_all_mine BACKEND [DEV]: dev-stop force=1 (bounded) and
# backend-stop of the case's objects; one KTAP result.
hx_teardown() {
	local name=$1 b=$2 dev=${3:-} rc=0 t0
	t0=$(date +%s)
	if [ -n "$dev" ]; then
		cbd_dev_stop "$dev" force || rc=1
		[ $(( $(date +%s) - t0 )) -le 30 ] || { ktap_print_msg "$name: dev-stop force=1 took over 30s"; rc=1; }
	fi
	if [ -n "$b" ]; then
		cbd_backend_stop "$b" || rc=1
	fi
	hx_other_intact || rc=1
	if [ "$rc" = 0 ]; then
		ktap_test_pass "hostile: $name: dev-stop force=1, backend-stop, other data intact"
	else
		ktap_test_fail "hostile: $name: dev-stop force=1, backend-stop, other data intact"
	fi
	CBD_LAST_DEV_ID='' CBD_LAST_BACKEND='' CBD_LAST_CBD=''
}

# hx_begin: the common start of a hostile test: a transport, and a pair
# on the second disk whose data must survive every corruption.
hx_begin() {
	cbd_core_begin
	cbd_setup_transport
	ADM=$(cbd_adm_file)
	[ -x "$CBD_WRITE_BIN" ] || ktap_exit_fail_msg "no $CBD_WRITE_BIN"
	[ -b "$CBD_DISK2" ] || ktap_exit_skip "needs a second disk ($CBD_DISK2) for the uncorrupted pair"
	cbd_check "uncorrupted pair on $CBD_DISK2 with data" hx_other_setup ||
		ktap_exit_fail_msg "cannot start the uncorrupted pair"
}
