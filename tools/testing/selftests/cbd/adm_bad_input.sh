#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# transportN/adm rejects malformed and hostile commands with exactly the
# documented errno (Documentation/ABI/testing/sysfs-bus-cbd, cbd_adm.c),
# nothing is created or changed by them, the kernel
# log stays clean, and the transport still works afterwards (backend-start,
# dev-start, fio verify, dev-stop, backend-stop).
#
# Optional: a second disk (CBD_DISK2, default /dev/vdb) for the "mounted
# disk" and "cache too large" cases.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

cbd_core_begin
cbd_require_disk
cbd_setup_transport

ADM=$(cbd_adm_file)
T=$(cbd_tdir)
BN=$(cbd_info_field backend_num)
DN=$(cbd_info_field blkdev_num)
HN=$(cbd_info_field host_num)
SN=$(cbd_info_field segment_num)
ME=$(cbd_my_host_id)
ktap_print_msg "slots: backends $BN blkdevs $DN hosts $HN segments $SN; my host id $ME"

cbd_backend_start "$CBD_DISK" || ktap_exit_fail_msg "cannot start a backend on $CBD_DISK"
B=$CBD_LAST_BACKEND
FREEB=$((BN - 1))	# a backend slot nobody uses
[ "$FREEB" != "$B" ] || FREEB=$((BN - 2))
ktap_print_msg "backend $B runs on $CBD_DISK; backend slot $FREEB is free"

# A mounted second disk, if there is one.
MOUNTED=
if [ -b "$CBD_DISK2" ]; then
	mkdir -p "$CBD_MNT"
	if mke2fs -q -F -t ext4 "$CBD_DISK2" && cbd_mount ext4 "$CBD_DISK2" "$CBD_MNT"; then
		MOUNTED=$CBD_DISK2
	fi
fi

NOPE=/dev/vdzz		# no such device: if a bad command ran anyway, it
			# would fail with ENOENT, not EINVAL, and change nothing
LONG_PATH=/dev/$(printf 'a%.0s' $(seq 1 600))
PATH512=/x/$(printf 'a/%.0s' $(seq 1 254))b	# 512 chars: too long
PATH511=/x/$(printf 'a/%.0s' $(seq 1 254))	# 511 chars: parsed, no such file
COMMAS=$(printf ',%.0s' $(seq 1 5000))
XS=$(printf 'x%.0s' $(seq 1 4000))
HUGE_LINE="op=backend-start,path=/dev/$(printf 'a%.0s' $(seq 1 5000))"
TAIL_OP="$(printf ',%.0s' $(seq 1 4100))op=backend-stop,backend_id=$B"

# EXPECTED COMMAND (split at the first space; EXPECTED may list
# alternatives with '|'; ANYERR: any errno).  \xHH and \n are escapes.
TABLE=$(cat <<EOF
EINVAL bogus
EINVAL op=bogus
EINVAL op=
EINVAL op
EINVAL =backend-start
EINVAL op=BACKEND-START,path=$NOPE
EINVAL op=backend_start,path=$NOPE
EINVAL op=backend-start ,path=$NOPE
EINVAL  op=backend-start,path=$NOPE
EINVAL op=dev-start garbage,backend_id=$B
EINVAL op=dev-start\tbackend_id=$B
EINVAL op = dev-start,backend_id=$B
EINVAL op=dev-start, backend_id=$B
EINVAL op=dev-start,backend_id =$B
EINVAL path=$NOPE
EINVAL path=$NOPE,cache_size=16
EINVAL backend_id=$B
EINVAL backend_id=$B,queues=1
EINVAL dev_id=0,force=1
EINVAL op=backend-start
EINVAL op=backend-start,cache_size=16
EINVAL op=backend-start,backend_id=$B
EINVAL op=backend-stop
EINVAL op=backend-clear
EINVAL op=dev-start
EINVAL op=dev-start,queues=1
EINVAL op=dev-stop
EINVAL op=dev-stop,force=1
EINVAL op=dev-clear
EINVAL op=host-clear
EINVAL op=segment-clear
EINVAL op=dev-start,op=dev-start,backend_id=$B
EINVAL op=dev-start,backend_id=$B,backend_id=$B
EINVAL op=dev-start,backend_id=$B,queues=1,queues=1
EINVAL op=backend-start,path=$NOPE,path=$NOPE
EINVAL op=dev-stop,dev_id=0,force=1,force=1
EINVAL op=dev-stop,dev_id=0,dev_id=0
EINVAL op=backend-stop,op=dev-stop,backend_id=$B
EINVAL op=backend-stop,backend_id=$B,force=1
EINVAL op=backend-stop,backend_id=$B,path=$NOPE
EINVAL op=backend-stop,backend_id=$B,dev_id=0
EINVAL op=backend-clear,backend_id=$B,host_id=$ME
EINVAL op=dev-start,backend_id=$B,path=$NOPE
EINVAL op=dev-start,backend_id=$B,force=1
EINVAL op=dev-start,backend_id=$B,handlers=1
EINVAL op=dev-start,backend_id=$B,cache_size=16
EINVAL op=dev-start,backend_id=$B,dev_id=0
EINVAL op=dev-stop,dev_id=0,queues=1
EINVAL op=dev-stop,dev_id=0,backend_id=$B
EINVAL op=dev-clear,dev_id=0,force=1
EINVAL op=host-clear,host_id=$ME,force=1
EINVAL op=host-clear,host_id=$ME,segment_id=0
EINVAL op=segment-clear,segment_id=0,backend_id=$B
EINVAL op=segment-clear,segment_id=0,force=1
EINVAL op=backend-start,path=$NOPE,queues=1
EINVAL op=backend-start,path=$NOPE,force=1
EINVAL op=backend-start,path=$NOPE,dev_id=0
EINVAL op=backend-start,path=$NOPE,host_id=0
EINVAL op=backend-stop,backend_id=$BN
EINVAL op=backend-clear,backend_id=$BN
EINVAL op=dev-start,backend_id=$BN
EINVAL op=backend-start,path=$NOPE,backend_id=$BN
EINVAL op=dev-stop,dev_id=$DN
EINVAL op=dev-clear,dev_id=$DN
EINVAL op=host-clear,host_id=$HN
EINVAL op=segment-clear,segment_id=$SN
EINVAL op=backend-stop,backend_id=4294967295
EINVAL op=dev-start,backend_id=4294967295
EINVAL op=dev-stop,dev_id=4294967295
EINVAL op=dev-clear,dev_id=4294967295
EINVAL op=host-clear,host_id=4294967295
EINVAL op=segment-clear,segment_id=4294967295
EINVAL op=backend-start,path=$NOPE,backend_id=4294967295
EINVAL op=backend-stop,backend_id=4294967296
EINVAL op=dev-stop,dev_id=99999999999
EINVAL op=host-clear,host_id=99999999999999999999999
EINVAL op=backend-stop,backend_id=-1
EINVAL op=dev-stop,dev_id=-1
EINVAL op=segment-clear,segment_id=-1
EINVAL op=backend-stop,backend_id=0x1
EINVAL op=dev-stop,dev_id=0x0
EINVAL op=backend-stop,backend_id=1x
EINVAL op=backend-stop,backend_id=1e3
EINVAL op=backend-stop,backend_id=1.0
EINVAL op=backend-stop,backend_id=
EINVAL op=backend-stop,backend_id= 1
EINVAL op=backend-stop,backend_id=1 
EINVAL op=backend-stop,backend_id=abc
EINVAL op=dev-start,backend_id=$B,queues=0
EINVAL op=dev-start,backend_id=$B,queues=129
EINVAL op=dev-start,backend_id=$B,queues=4294967295
EINVAL op=dev-start,backend_id=$B,queues=-1
EINVAL op=dev-start,backend_id=$B,queues=
EINVAL op=dev-start,backend_id=$B,queues=1x
EINVAL op=backend-start,path=$NOPE,handlers=0
EINVAL op=backend-start,path=$NOPE,handlers=129
EINVAL op=backend-start,path=$NOPE,handlers=-1
EINVAL op=backend-start,path=$NOPE,handlers=abc
EINVAL op=backend-start,path=$NOPE,cache_size=abc
EINVAL op=backend-start,path=$NOPE,cache_size=-1
EINVAL op=backend-start,path=$NOPE,cache_size=4294967296
EINVAL op=backend-start,path=$NOPE,cache_size=
EINVAL op=dev-stop,dev_id=0,force=0
EINVAL op=dev-stop,dev_id=0,force=2
EINVAL op=dev-stop,dev_id=0,force=
EINVAL op=dev-stop,dev_id=0,force=yes
EINVAL op=dev-stop,dev_id=0,force=-1
EINVAL op=backend-start,path=
EINVAL op=backend-start,path=$LONG_PATH
EINVAL op=backend-start,path=$PATH512
ENOENT op=backend-start,path=$PATH511
ENOENT op=backend-start,path=$NOPE
ENOENT op=backend-start,path=/dev/pmem9
ANYERR op=backend-start,path=/dev/null
ANYERR op=backend-start,path=/
ANYERR op=backend-start,path=${CBD_DISK#/dev/}
EBUSY op=backend-start,path=$CBD_PMEM
EBUSY op=backend-start,path=$CBD_DISK
EBUSY op=backend-start,path=$CBD_DISK,backend_id=$B
EBUSY op=backend-clear,backend_id=$B
EBUSY op=host-clear,host_id=$ME
ENOENT op=backend-stop,backend_id=$FREEB
EINVAL op=dev-start,backend_id=$FREEB
EINVAL op=dev-stop,dev_id=0
EINVAL op=dev-stop,dev_id=$((DN - 1))
EINVAL op=dev-stop,dev_id=0,force=1
EINVAL \x01\xff
EINVAL op=\xff\xfe
EINVAL op=dev-start,backend_id=\x01
EINVAL op=backend-start,path=$NOPE\x00
EINVAL op=dev-stop,dev_id=0\x00,force=1
EINVAL \x00
EINVAL \x00op=backend-stop,backend_id=$B
EINVAL op=backend-stop,backend_id=$B\x00\x00\x00
EINVAL $COMMAS
EINVAL $XS
EINVAL $HUGE_LINE
EINVAL $TAIL_OP
EINVAL \n
EINVAL ,
EINVAL ,,,
EINVAL \n\n,\n
EINVAL ,op=,
EINVAL  
EINVAL op=backend-stop\nbackend_id=$B\nforce=1
EINVAL op=backend-stop\nbackend_id=$FREEB
EINVAL op=backend-stop,backend_id=$FREEB\n\n
EINVAL op=backend-stop,backend_id=$FREEB\nop=backend-stop,backend_id=$B
EINVAL op=backend-stop,backend_id=$B\x00junk
ENOENT op=backend-stop,backend_id=$FREEB\n
EINVAL op=dev-start,backend_id=$B,queues=1,op=backend-stop
EOF
)

if [ -n "$MOUNTED" ]; then
	TABLE+=$'\n'"EBUSY op=backend-start,path=$MOUNTED"
fi

ROWS=0
while IFS= read -r line; do
	want=${line%% *}
	cmd=${line#* }
	ROWS=$((ROWS + 1))
	cbd_expect "$ADM" "$cmd" "$want"
done <<< "$TABLE"
ktap_print_msg "$ROWS table rows"

# A backend-start that asks for more cache than the transport has fails
# and leaves no backend behind (EOPNOTSUPP while the driver has no cache).
# 4294967295 MiB must not wrap around to "no cache" when rounded up to
# 16 MiB segments.
if [ -n "$MOUNTED" ]; then
	umount "$CBD_MNT"
	MOUNTED=
	for cs in 1048576 4294967280 4294967295; do
		cbd_expect "$ADM" "op=backend-start,path=$CBD_DISK2,cache_size=$cs" \
			"ENOENT|ENOMEM|ENOSPC|EOPNOTSUPP" \
			"backend-start with cache_size=$cs MiB (> transport) fails"
		if ! cbd_check "no backend left on $CBD_DISK2" \
			eval '! cbd_find_backend "$CBD_DISK2" >/dev/null'; then
			cbd_backend_stop "$(cbd_find_backend "$CBD_DISK2")"
		fi
	done
else
	ktap_test_skip "mounted disk / cache too large (no $CBD_DISK2)"
fi

# Nothing changed: no cbd disk, backend B still the only backend here,
# our host still alive, no channel segment allocated.
cbd_check "no /dev/cbd* was created" test -z "$(cbd_local_disks)"
only_b() {
	local d n=0
	for d in "$T"/cbd_backends/backend*; do
		[ -n "$(cat "$d/path" 2>/dev/null)" ] || continue
		n=$((n + 1))
		[ "${d##*/backend}" = "$B" ] || { ktap_print_msg "unexpected backend ${d##*/}"; return 1; }
	done
	[ "$n" = 1 ]
}
cbd_check "backend $B is the only used backend slot" only_b
# The failed backend-starts claimed slots and gave them back: none of
# them looks alive (a claimed slot gets a heartbeat at once).
only_b_alive() {
	local d
	for d in "$T"/cbd_backends/backend*; do
		[ "${d##*/backend}" != "$B" ] || continue
		if [ "$(cat "$d/alive")" != false ]; then
			ktap_print_msg "${d##*/} is alive after failed starts"
			return 1
		fi
	done
}
cbd_check "no backend slot but $B is alive" only_b_alive
cbd_check "backend $B still alive" cbd_file_is "$T/cbd_backends/backend$B/alive" true
cbd_check "backend $B path unchanged" cbd_file_is "$T/cbd_backends/backend$B/path" "$CBD_DISK"
cbd_check "host $ME still alive" cbd_file_is "$T/cbd_hosts/host$ME/alive" true
no_channels() {
	! grep -lx channel "$T"/cbd_segments/segment*/type 2>/dev/null | grep -q .
}
cbd_check "no channel segment allocated" no_channels
cbd_check "kernel log clean after $ROWS bad commands" cbd_klog_clean

# The transport still works.
cbd_check "backend-stop $B" cbd_backend_stop "$B"
if cbd_start_pair 2; then
	ktap_test_pass "backend-start + dev-start (2 queues)"
	cbd_check "fio verify 16M on /dev/$CBD_LAST_CBD" \
		cbd_fio_verify "/dev/$CBD_LAST_CBD" 16M --iodepth=16 --bsrange=4k-64k
	cbd_check "dev-stop + backend-stop" cbd_stop_pair
else
	ktap_test_fail "backend-start + dev-start (2 queues)"
fi

cbd_finish
