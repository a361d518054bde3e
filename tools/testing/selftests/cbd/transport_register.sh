#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# transport_register / transport_unregister
# (Documentation/ABI/testing/sysfs-bus-cbd): the good path creates
# transportN with its attributes and one child per slot; re-registering
# without format keeps the transport; every bad request fails with the
# documented errno and leaves no transport behind.
#
# Optional: a second pmem smaller than 512 MiB (vm.sh PMEM2_SIZE=256M) for
# the -ENOSPC case.  Overwrites $CBD_PMEM.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

cbd_core_begin

REG=$CBD_BUS/transport_register
UNREG=$CBD_BUS/transport_unregister
T=$(cbd_tdir 0)
GOOD="path=$CBD_PMEM,hostname=node-1"

# The registered transports, as one string ("0 3 ").
tids() { cbd_transport_ids | tr '\n' ' '; }

# reg_fails DESC OPTIONS ERRNO: register fails with ERRNO and leaves the
# set of transports unchanged.
reg_fails() {
	local desc=$1 opts=$2 want=$3 before after got
	before=$(tids)
	got=$(cbd_errno "$REG" "$opts")
	after=$(tids)
	if { [ "$got" = "$want" ] || { [ "$want" = ANYERR ] && [[ $got == E* ]]; }; } &&
	   [ "$before" = "$after" ]; then
		ktap_test_pass "register $desc -> $want"
		return 0
	fi
	ktap_print_msg "register '$(cbd_printable "$opts")': expected $want, got $got; transports before '$before' after '$after'"
	ktap_test_fail "register $desc -> $want"
	[ "$got" = OK ] && [ "$before" != "$after" ] && cbd_cleanup_all >/dev/null
	return 1
}

# ---------------------------------------------------------------- good path

cbd_expect "$REG" "$GOOD,format=1,force=1" OK "register format=1,force=1"
cbd_check "transport0 appeared" cbd_wait_for 5 test -d "$T"
for a in info my_host_id host_id path adm; do
	cbd_check "transport0/$a exists" test -e "$T/$a"
done
cbd_check "transport0/path is $CBD_PMEM" cbd_file_is "$T/path" "$CBD_PMEM"
me=$(cbd_my_host_id)
cbd_check "my_host_id is a number ('$me')" test -n "$me" -a -z "${me//[0-9]/}"
cbd_check "host_id equals my_host_id" cbd_file_is "$T/host_id" "$me"
cbd_check "info magic is 0x65b05efa96c596ef" \
	test "$(cbd_info_field magic | tr 'A-F' 'a-f')" = 0x65b05efa96c596ef

# Geometry (cbd_transport.h): nr = (size - 4096) / (3 * 4096 + 16 MiB) slots of each.
bytes=$(blockdev --getsize64 "$CBD_PMEM")
nr=$(( (bytes - 4096) / (3 * 4096 + 16 * 1024 * 1024) ))
geometry_ok() {
	local f want ok=0
	for f in "host_area_off 4096" "bytes_per_host_info 4096" "host_num $nr" \
		 "backend_area_off $((4096 + 4096 * nr))" "bytes_per_backend_info 4096" \
		 "backend_num $nr" "blkdev_area_off $((4096 + 2 * 4096 * nr))" \
		 "bytes_per_blkdev_info 4096" "blkdev_num $nr" \
		 "segment_area_off $((4096 + 3 * 4096 * nr))" \
		 "bytes_per_segment $((16 * 1024 * 1024))" "segment_num $nr"; do
		want=${f#* }
		f=${f%% *}
		if [ "$(cbd_info_field "$f")" != "$want" ]; then
			ktap_print_msg "info $f: expected $want, got '$(cbd_info_field "$f")'"
			ok=1
		fi
	done
	return $ok
}
cbd_check "info geometry matches the layout for $((bytes >> 20)) MiB (nr=$nr)" geometry_ok

# One child per slot in every container.
for c in "cbd_hosts host host_num" "cbd_backends backend backend_num" \
	 "cbd_blkdevs blkdev blkdev_num" "cbd_segments segment segment_num"; do
	set -- $c
	want=$(cbd_info_field "$3")
	n=$(find "$T/$1" -mindepth 1 -maxdepth 1 -name "$2[0-9]*" 2>/dev/null | wc -l)
	last=$((${want:-0} - 1))
	if [ -n "$want" ] && [ "$n" -eq "$want" ] && [ -d "$T/$1/$2$last" ] &&
	   [ ! -e "$T/$1/$2$((last + 1))" ]; then
		ktap_test_pass "$1 has $want children $2""0..$2$last"
	else
		ktap_print_msg "$1: $n children, $3=${want:-?}"
		ktap_test_fail "$1 has one child per slot"
	fi
done
cbd_check "cbd_hosts/host$me/hostname is node-1" cbd_file_is "$T/cbd_hosts/host$me/hostname" node-1
cbd_check "cbd_hosts/host$me/alive is true" cbd_wait_file_is 10 "$T/cbd_hosts/host$me/alive" true
info_before=$(cat "$T/info")

# Unregister is refused while a backend runs (and while a blkdev runs).
if cbd_backend_start "$CBD_DISK"; then
	bid=$CBD_LAST_BACKEND
	cbd_expect "$UNREG" "transport_id=0" EBUSY "unregister while a backend runs -> EBUSY"
	if cbd_dev_start "$bid" 1; then
		cbd_expect "$UNREG" "transport_id=0" EBUSY "unregister while a blkdev runs -> EBUSY"
		cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	else
		ktap_test_fail "dev-start for the unregister-while-busy case"
	fi
	cbd_check "backend-stop" cbd_backend_stop "$bid"
	cbd_check "transport0 still registered after refused unregister" test -d "$T"
else
	ktap_test_fail "backend-start on $CBD_DISK for the unregister-while-busy case"
	bid=0
fi

# Registering the same pmem twice: it is held exclusively.
reg_fails "same pmem twice" "$GOOD,format=1,force=1" EBUSY

# Hostile unregister strings leave transport0 alone.
for s in '\n' 'transport_id=abc' 'transport_id=5' 'transport_id=99999' \
	 'transport_id=4294967296' 'transport_id=' 'transport_id=-1' \
	 'transport_id=0x' 'transport_id=0,transport_id=0' 'transport=0' \
	 'bogus' 'transport_id=0\x00junk' 'transport_id=0\x00' \
	 'transport_id=0\njunk' 'transport_id=0\n\n' '\ntransport_id=0'; do
	cbd_expect "$UNREG" "$s" EINVAL
done
cbd_check "transport0 still registered after bad unregisters" test -d "$T"

cbd_expect "$UNREG" "transport_id=0" OK "unregister transport0"
cbd_check "transport0 is gone" cbd_wait_for 5 test ! -e "$T"
cbd_expect "$UNREG" "transport_id=0" EINVAL "unregister transport0 again -> EINVAL"

# ---------------------------------------------------------------- re-register keeps state

cbd_expect "$REG" "path=$CBD_PMEM,hostname=node-1" OK "re-register without format"
cbd_check "info identical after re-register (geometry kept)" \
	test "$(grep -v hosts_registered "$T/info")" = "$(grep -v hosts_registered <<<"$info_before")"
me=$(cbd_my_host_id)
cbd_check "hostname node-1 in cbd_hosts/host$me" cbd_file_is "$T/cbd_hosts/host$me/hostname" node-1
# The stopped backend's slot kept its disk size: re-attach works.
if cbd_backend_start "$CBD_DISK" ",backend_id=$bid"; then
	cbd_check "re-attached backend keeps id $bid" test "$CBD_LAST_BACKEND" = "$bid"
	cbd_check "backend-stop" cbd_backend_stop "$bid"
else
	ktap_test_fail "re-attach backend_id=$bid after re-register without format"
fi
cbd_check "unregister" cbd_unregister 0

# format=1 over an existing transport needs force=1.
reg_fails "format=1 without force on a formatted pmem" "$GOOD,format=1" EEXIST

# ---------------------------------------------------------------- bad requests

reg_fails "$CBD_DISK (not pmem)" "path=$CBD_DISK,hostname=node-1,format=1,force=1" EINVAL
reg_fails "missing path" "hostname=node-1,format=1,force=1" EINVAL
reg_fails "missing hostname" "path=$CBD_PMEM,format=1,force=1" EINVAL
reg_fails "unknown option" "$GOOD,format=1,force=1,bogus=1" EINVAL
reg_fails "empty path" "path=,hostname=node-1,format=1,force=1" EINVAL
reg_fails "empty hostname" "path=$CBD_PMEM,hostname=,format=1,force=1" EINVAL
reg_fails "format=abc" "$GOOD,format=abc" EINVAL
reg_fails "force= empty" "$GOOD,format=1,force=" EINVAL
reg_fails "no key=value at all" "garbage" EINVAL
reg_fails "newline only" '\n' EINVAL
reg_fails "binary bytes in path" 'path=/dev/pmem0\x01\xff,hostname=node-1' ANYERR
reg_fails "NUL inside the options" 'path=/dev/pmem0\x00,hostname=node-1' EINVAL
reg_fails "NUL after valid options" "$GOOD,format=1,force=1\\x00junk" EINVAL
reg_fails "a second line after valid options" "$GOOD,format=1,force=1\\nforce=1" EINVAL
# A refused name must not have formatted the pmem (format=1 is given).
meta_sum() { dd if="$CBD_PMEM" bs=1M count=64 iflag=direct status=none | md5sum; }
sum_before=$(meta_sum)
reg_fails "control byte in the hostname" "path=$CBD_PMEM,hostname=node\\x01-1,format=1,force=1" EINVAL
reg_fails "escape sequence in the hostname" "path=$CBD_PMEM,hostname=\\x1b[2Jnode,format=1,force=1" EINVAL
reg_fails "non-ASCII hostname" "path=$CBD_PMEM,hostname=n\\xc3\\xb6de,format=1,force=1" EINVAL
reg_fails "DEL in the hostname" "path=$CBD_PMEM,hostname=node\\x7f,format=1,force=1" EINVAL
cbd_check "refused hostnames left the transport metadata alone" \
	test "$(meta_sum)" = "$sum_before"
long=$CBD_PMEM$(printf '/%.0s' $(seq 1 590))
reg_fails "600-char path" "path=$long,hostname=node-1,format=1,force=1" EINVAL
reg_fails "40-char hostname" "path=$CBD_PMEM,hostname=$(printf 'h%.0s' $(seq 1 40)),format=1,force=1" EINVAL
reg_fails "32-char hostname" "path=$CBD_PMEM,hostname=$(printf 'h%.0s' $(seq 1 32)),format=1,force=1" EINVAL
reg_fails "/dev/pmem9 (missing)" "path=/dev/pmem9,hostname=node-1,format=1,force=1" ENOENT

# 31 bytes is the longest hostname.
h31=$(printf 'h%.0s' $(seq 1 31))
if cbd_expect "$REG" "path=$CBD_PMEM,hostname=$h31" OK "register with a 31-char hostname"; then
	cbd_check "hostname is the 31 chars" cbd_file_is "$T/cbd_hosts/host$(cbd_my_host_id)/hostname" "$h31"
	cbd_check "unregister" cbd_unregister 0
fi

# Wrong magic: zero the header page, register without format.
if dd if=/dev/zero of="$CBD_PMEM" bs=4096 count=1 oflag=direct conv=notrunc status=none; then
	reg_fails "zeroed header (bad magic), no format" "$GOOD" EINVAL
else
	ktap_test_fail "zero the header of $CBD_PMEM"
fi

# A pmem smaller than 512 MiB cannot be formatted.
small=
for d in /dev/pmem*; do
	[ -b "$d" ] && [ "$d" != "$CBD_PMEM" ] || continue
	[ "$(blockdev --getsize64 "$d")" -lt $((512 << 20)) ] && small=$d && break
done
if [ -n "$small" ]; then
	reg_fails "$small ($(cbd_dev_mib "$small") MiB) format" \
		"path=$small,hostname=node-1,format=1,force=1" ENOSPC
else
	ktap_test_skip "register a < 512 MiB pmem -> ENOSPC (no small pmem; vm.sh PMEM2_SIZE=256M)"
fi

# After all that, a good register still works and leaves a clean tree.
cbd_expect "$REG" "$GOOD,format=1,force=1" OK "register after the failures"
cbd_check "only transport0 registered" test "$(tids)" = "0 "
cbd_check "info magic after the failures" \
	test "$(cbd_info_field magic | tr 'A-F' 'a-f')" = 0x65b05efa96c596ef
cbd_check "unregister" cbd_unregister 0

cbd_finish
