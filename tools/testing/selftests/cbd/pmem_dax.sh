#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The transport memory is there: $CBD_PMEM (default /dev/pmem0) is a
# DAX-capable block device of at least 512 MiB that stores data.

. "$(dirname "$0")/cbd_lib.sh"

ktap_print_header
cbd_require_root
ktap_set_plan 6

name=$(basename "$CBD_PMEM")
ktap_test_result "$CBD_PMEM is a block device" test -b "$CBD_PMEM"
ktap_test_result "/sys/block/$name/queue/dax is 1" cbd_pmem_is_dax "$CBD_PMEM"

mib=0
[ -b "$CBD_PMEM" ] && mib=$(cbd_dev_mib "$CBD_PMEM")
ktap_print_msg "$CBD_PMEM: $mib MiB"
ktap_test_result "$CBD_PMEM has >= 512 MiB" test "$mib" -ge 512

# Write 4 MiB of random data at 64 MiB and read it back.  Like every CBD
# test, this owns $CBD_PMEM: its contents are overwritten.
pattern_roundtrip() {
	local src=/tmp/cbd-pmem-pattern.$$ out=/tmp/cbd-pmem-read.$$ rc=0
	[ -b "$CBD_PMEM" ] || return 1
	dd if=/dev/urandom of="$src" bs=1M count=4 status=none
	dd if="$src" of="$CBD_PMEM" bs=1M seek=64 count=4 oflag=direct conv=notrunc status=none &&
		dd if="$CBD_PMEM" of="$out" bs=1M skip=64 count=4 iflag=direct status=none &&
		cmp -s "$src" "$out" || rc=1
	rm -f "$src" "$out"
	return $rc
}
ktap_test_result "data written to $CBD_PMEM reads back" pattern_roundtrip

ktap_finished
