#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Backend lifecycle (ABI backendN/*): backend-start and
# its sysfs attributes, a second backend on a second disk, backend-stop
# (refused while a blkdev uses the backend), re-attach with backend_id= to
# a stopped backend (same id, path kept, disk size checked) and refusal to
# re-attach to a running one.
#
# Optional: a second disk (CBD_DISK2, default /dev/vdb); with a size
# different from $CBD_DISK the size-mismatch case runs too.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

cbd_core_begin
cbd_require_disk
cbd_setup_transport

ADM=$(cbd_adm_file)
T=$(cbd_tdir)
ME=$(cbd_my_host_id)
BK=$T/cbd_backends

cbd_backend_start "$CBD_DISK" || ktap_exit_fail_msg "backend-start on $CBD_DISK"
B=$CBD_LAST_BACKEND
ktap_test_pass "backend-start path=$CBD_DISK -> backend$B"
cbd_check "backend$B/path is $CBD_DISK" cbd_file_is "$BK/backend$B/path" "$CBD_DISK"
cbd_check "backend$B/host_id is $ME" cbd_file_is "$BK/backend$B/host_id" "$ME"
cbd_check "backend$B/alive is true" cbd_file_is "$BK/backend$B/alive" true
cbd_check "backend$B/cache_segs is 0" cbd_file_is "$BK/backend$B/cache_segs" 0
cbd_check "backend$B/cache_used_segs is 0" cbd_file_is "$BK/backend$B/cache_used_segs" 0
cbd_check "backend$B has no cache/ child without a cache" test ! -e "$BK/backend$B/cache"
cbd_check "a free backend slot reads an empty path" \
	test -z "$(cat "$BK/backend$(( $(cbd_info_field backend_num) - 1 ))/path")"
# The backing disk is held exclusively.
cbd_check "$CBD_DISK cannot be opened exclusively (mkfs refuses)" \
	eval "! mke2fs -q -F -t ext4 $CBD_DISK >/dev/null 2>&1"

# A second backend on a second disk.
if [ -b "$CBD_DISK2" ]; then
	if cbd_backend_start "$CBD_DISK2"; then
		B2=$CBD_LAST_BACKEND
		cbd_check "second backend gets another id ($B2 != $B)" test "$B2" != "$B"
		cbd_check "backend$B2/path is $CBD_DISK2" cbd_file_is "$BK/backend$B2/path" "$CBD_DISK2"
		cbd_check "backend$B2/alive is true" cbd_file_is "$BK/backend$B2/alive" true
		cbd_check "backend-stop backend$B2" cbd_backend_stop "$B2"
		cbd_check "stopped backend$B2 reads alive false" cbd_file_is "$BK/backend$B2/alive" false
		cbd_check "stopped backend$B2 reads an empty path" cbd_file_is "$BK/backend$B2/path" ""
		cbd_expect "$ADM" "op=backend-stop,backend_id=$B2" ENOENT "backend-stop of a stopped backend -> ENOENT"
		cbd_check "backend$B unaffected" cbd_file_is "$BK/backend$B/alive" true
	else
		ktap_test_fail "backend-start on $CBD_DISK2"
	fi
else
	ktap_test_skip "second backend (no $CBD_DISK2)"
fi

# backend-stop is refused while a blkdev uses the backend.
if cbd_dev_start "$B" 1; then
	cbd_expect "$ADM" "op=backend-stop,backend_id=$B" EBUSY "backend-stop while a blkdev uses it -> EBUSY"
	cbd_check "backend$B still alive after refused stop" cbd_file_is "$BK/backend$B/alive" true
	cbd_check "I/O still works after the refused stop" cbd_fio_verify "/dev/$CBD_LAST_CBD" 4M
	cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
else
	ktap_test_fail "dev-start on backend$B"
fi
cbd_check "backend-stop backend$B after dev-stop" cbd_backend_stop "$B"
cbd_check "backend$B alive is false after stop" cbd_file_is "$BK/backend$B/alive" false
cbd_check "$CBD_DISK is released (exclusive open works)" \
	eval "mke2fs -q -F -t ext4 $CBD_DISK >/dev/null 2>&1"

# Re-attach to the stopped backend.
if cbd_backend_start "$CBD_DISK" ",backend_id=$B"; then
	ktap_test_pass "re-attach backend_id=$B"
	cbd_check "re-attached backend keeps id $B" test "$CBD_LAST_BACKEND" = "$B"
	cbd_check "backend$B/path kept" cbd_file_is "$BK/backend$B/path" "$CBD_DISK"
	cbd_check "backend$B/host_id is $ME" cbd_file_is "$BK/backend$B/host_id" "$ME"
	cbd_expect "$ADM" "op=backend-start,path=$CBD_DISK,backend_id=$B" EBUSY \
		"re-attach to a running backend -> EBUSY"
	if cbd_dev_start "$B" 2; then
		cbd_check "I/O through the re-attached backend" cbd_fio_verify "/dev/$CBD_LAST_CBD" 8M
		cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	else
		ktap_test_fail "dev-start on the re-attached backend"
	fi
	cbd_check "backend-stop" cbd_backend_stop "$B"
else
	ktap_test_fail "re-attach backend_id=$B"
fi

# Re-attach with a disk of another size is refused (dev_size kept on media).
if [ -b "$CBD_DISK2" ] &&
   [ "$(blockdev --getsize64 "$CBD_DISK2")" != "$(blockdev --getsize64 "$CBD_DISK")" ]; then
	cbd_expect "$ADM" "op=backend-start,path=$CBD_DISK2,backend_id=$B" EINVAL \
		"re-attach backend$B with a disk of another size -> EINVAL"
	cbd_check "backend$B not alive after the refused re-attach" cbd_file_is "$BK/backend$B/alive" false
else
	ktap_test_skip "re-attach size mismatch (needs $CBD_DISK2 with a size != $CBD_DISK)"
fi

# A backend with handlers=4: dev-start without queues= gets 4 queues.
if cbd_backend_start "$CBD_DISK" ",handlers=4"; then
	if cbd_dev_start "$CBD_LAST_BACKEND"; then
		# one channel per hw queue, at most one per CPU
		hq=$(cbd_expected_hw_queues 4)
		n=$(grep -lx "channel blkdev id: $CBD_LAST_DEV_ID" "$T"/cbd_segments/segment*/detail 2>/dev/null | wc -l)
		cbd_check "handlers=4, dev-start without queues= -> $hq channels (got $n)" test "$n" = "$hq"
		n=$(find "/sys/block/$CBD_LAST_CBD/mq" -mindepth 1 -maxdepth 1 -type d | wc -l)
		cbd_check "handlers=4 -> $hq hw queues (got $n)" test "$n" = "$hq"
	else
		ktap_test_fail "dev-start without queues= on a handlers=4 backend"
	fi
	cbd_check "stop" cbd_stop_pair
else
	ktap_test_fail "backend-start handlers=4"
fi

cbd_finish
