#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A backend slot with an implausible dev_size (2^45 + 8192 sectors,
# written through the pmem device as a buggy or hostile peer could) is
# refused: dev-start fails with EIO and one log line naming the record
# and field, the kernel neither oopses nor warns, and force dev-stop,
# backend-stop and unregister still work.  Before the validation, this
# made dev-start on a cached backend oops in cbd_cache_read_piece (the
# index of 4 MiB trees was sized with a truncated count).  Run for a
# backend with and one without a cache.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_hostile_lib.sh"

BAD_SIZE=$(( (1 << 45) + 8192 ))
ADM=

md5_of() { dd if="$1" bs=1M count=4 iflag=direct status=none | md5sum | cut -d' ' -f1; }

# one_case LABEL EXTRA: EXTRA is added to backend-start (e.g. a cache)
one_case() {
	local label=$1 extra=$2 b off good sum got r t0

	cbd_check "$label: backend-start" cbd_backend_start "$CBD_DISK" "$extra" || return
	b=$CBD_LAST_BACKEND
	off=$(( $(hx_backend_off "$b") + 24 ))
	good=$(hx_peek "$off" 8)

	cbd_check "$label: dev-start on the intact slot" cbd_dev_start "$b" 1 || return
	dd if=/dev/urandom of="/dev/$CBD_LAST_CBD" bs=1M count=4 oflag=direct status=none
	sum=$(md5_of "/dev/$CBD_LAST_CBD")
	cbd_check "$label: clean dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID" || return
	CBD_LAST_DEV_ID=

	cbd_check "$label: write dev_size=$BAD_SIZE into backend$b at byte $off" \
		hx_poke "$off" "$(hx_le 8 "$BAD_SIZE")"
	cbd_check "$label: the pmem holds it" test "$(hx_peek_u "$off" 8)" = "$BAD_SIZE"

	t0=$(date +%s)
	r=$(hx_errno_within 30 "$ADM" "op=dev-start,backend_id=$b,queues=1")
	cbd_check "$label: dev-start refused with EIO (got $r) within 30s" test "$r" = EIO
	ktap_print_msg "$label: dev-start answered in $(( $(date +%s) - t0 ))s"
	if ! cbd_check "$label: no /dev/cbd* appeared" test -z "$(cbd_local_disks)"; then
		# what a module without the validation does next: a read far
		# into the claimed size indexed the cache trees out of bounds
		ktap_print_msg "$label: reading 4 KiB at 16 PiB (sector 2^45) of /dev/$(cbd_local_disks | head -1)"
		timeout 30 dd if="/dev/$(cbd_local_disks | head -1)" of=/dev/null bs=4096 \
			skip=$(( 1 << 42 )) count=1 iflag=direct status=none
		cbd_cleanup_all >/dev/null 2>&1
		return
	fi
	cbd_check "$label: the log names backend$b and dev_size" \
		hx_klog_has "backend$b slot corrupt: invalid dev_size"
	cbd_check "$label: backend$b/path read fails (EIO)" \
		sh -c "! cat $(cbd_tdir)/cbd_backends/backend$b/path >/dev/null 2>&1"
	cbd_check "$label: kernel log clean so far" cbd_klog_clean

	cbd_check "$label: restore dev_size" hx_poke "$off" "$good"
	cbd_check "$label: dev-start on the restored slot" cbd_dev_start "$b" 1 || return
	got=$(md5_of "/dev/$CBD_LAST_CBD")
	cbd_check "$label: data written before the corruption intact" test "$got" = "$sum"

	# corrupt under a running blkdev: it keeps its validated size
	hx_poke "$off" "$(hx_le 8 "$BAD_SIZE")"
	got=$(md5_of "/dev/$CBD_LAST_CBD")
	cbd_check "$label: running blkdev still reads its data" test "$got" = "$sum"
	t0=$(date +%s)
	cbd_check "$label: dev-stop force=1 returns" cbd_dev_stop "$CBD_LAST_DEV_ID" force
	cbd_check "$label: ... within 20s" test $(( $(date +%s) - t0 )) -le 20
	CBD_LAST_DEV_ID=
	cbd_check "$label: backend-stop on the corrupt slot" cbd_backend_stop "$b"
	CBD_LAST_BACKEND=
	cbd_check "$label: kernel log clean" cbd_klog_clean
}

cbd_core_begin
cbd_dmesg_mark
cbd_setup_transport
ADM=$(cbd_adm_file)
[ -x "$CBD_WRITE_BIN" ] || ktap_exit_fail_msg "no $CBD_WRITE_BIN"

one_case cached ",cache_size=128"
one_case uncached ""
cbd_check "unregister the transport" cbd_unregister
cbd_finish
