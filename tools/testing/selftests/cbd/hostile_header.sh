#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile shared memory, transport header and host slots.  Header cases:
# the transport is unregistered, one header field is corrupted through
# the pmem device, registration without format must fail with an errno
# (and no oops/WARN), and after the field is restored it must succeed.
# Host slot cases corrupt an unused slot (and this host's name) while the
# transport is registered: reading them and host-clear must not crash.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_hostile_lib.sh"

PLAIN="path=$CBD_PMEM,hostname=node-1"

# hd_case NAME OFF BYTES VALUE WANT: header field at OFF
hd_case() {
	local name=$1 off=$2 n=$3 val=$4 want=$5 t0 got r
	cbd_dmesg_mark
	t0=$(date +%s)
	cbd_unregister || { ktap_test_fail "hostile: $name: unregister"; return; }
	hx_corrupt "$off" "$n" "$val"
	got=$(hx_errno_within 60 "$CBD_BUS/transport_register" "$PLAIN")
	[ "$got" = OK ] && cbd_wait_for 5 test -e "$(cbd_tdir)/adm" && cbd_unregister
	hx_result "$name" "$want" "$got" "$t0"
	hx_restore
	r=$(hx_errno_within 60 "$CBD_BUS/transport_register" "$PLAIN")
	cbd_wait_for 5 test -e "$(cbd_tdir)/adm"
	cbd_check "hostile: $name: restored header registers again ($r)" test "$r" = OK
}

adm_works() {
	cbd_backend_start "$CBD_DISK" && cbd_backend_stop "$CBD_LAST_BACKEND"
}

# hs_case NAME SLOT FIELD_OFF BYTES VALUE|STR|CTRL WANT: host slot
hs_case() {
	local name=$1 id=$2 foff=$3 n=$4 val=$5 want=$6 t0 got off
	cbd_dmesg_mark
	t0=$(date +%s)
	off=$(( $(hx_host_off "$id") + foff ))
	case "$val" in
	STR)  hx_corrupt_str "$off" "$n" A ;;
	CTRL) hx_save "$off" "$n"; hx_poke "$off" '\x01\x1b[2J\xff\xfe\x7f\x00' ;;
	*)    hx_corrupt "$off" "$n" "$val" ;;
	esac
	got=$(hx_read_attr "$(cbd_tdir)/cbd_hosts/host$id/hostname")
	got+=,$(hx_read_attr "$(cbd_tdir)/cbd_hosts/host$id/alive")
	hx_result "$name" "$want" "$got" "$t0"
	hx_restore
	cbd_check "hostile: $name: adm still works (backend-start/stop)" adm_works
}

cbd_core_begin
cbd_setup_transport
[ -x "$CBD_WRITE_BIN" ] || ktap_exit_fail_msg "no $CBD_WRITE_BIN"

ME=$(cbd_my_host_id)
SIZE=$(( $(cbd_dev_mib "$CBD_PMEM") * 1024 * 1024 ))
hd_case "header.magic"                  0 8 $(( 0x1234 )) ANYERR
hd_case "header.version=99"             8 2 99 ANYERR
hd_case "header.flags=0xfffc"          10 2 $(( 0xfffc )) ANYERR
hd_case "header.host_area_off=size"    16 8 "$SIZE" ANYERR
hd_case "header.host_info_size=0"      24 4 0 ANYERR
hd_case "header.host_num=2^31"         28 4 $(( 1 << 31 )) ANYERR
hd_case "header.backend_area_off=2^62" 32 8 $(( 1 << 62 )) ANYERR
hd_case "header.backend_info_size=1"   40 4 1 ANYERR
hd_case "header.backend_num=2^32-1"    44 4 $(( (1 << 32) - 1 )) ANYERR
hd_case "header.blkdev_area_off=1"     48 8 1 ANYERR
hd_case "header.blkdev_num=0"          60 4 0 ANYERR
hd_case "header.segment_area_off=3"    64 8 3 ANYERR
hd_case "header.segment_size=0"        72 4 0 ANYERR
hd_case "header.segment_num=2^31"      76 4 $(( 1 << 31 )) ANYERR
hd_case "header.hosts_registered=2^32-1 (informational)" 12 4 $(( (1 << 32) - 1 )) OK

ME=$(cbd_my_host_id)
hs_case "host5.state=9"                 5 0 1 9 "OK,OK|EIO,OK|EIO,EIO"
hs_case "host$ME hostname unterminated" "$ME" 16 32 STR "OK,OK|EIO,OK"
hs_case "host$ME hostname control bytes" "$ME" 16 8 CTRL "OK,OK|EIO,OK"

cbd_check "unregister the transport" cbd_unregister
cbd_finish
