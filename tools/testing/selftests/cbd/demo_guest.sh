#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The CBD main job end to end, inside the demo VM (or as root on a real
# machine with CBD_PMEM= and CBD_DISK= set):
#
#   pmem ready -> load cbd -> register the pmem as transport0 ->
#   backend-start on the backing disk with a 512 MiB pmem cache ->
#   dev-start -> /dev/cbd0 -> mkfs.ext4 -> mount -> fio -> summary ->
#   teardown
#
# Each step first checks that the driver offers the interface it needs; if
# not, the demo says what is not there yet and stops successfully.  A step
# whose interface exists but fails makes the demo fail (exit 1).

. "$(dirname "$0")/cbd_lib.sh"

MNT=/mnt/cbd-demo
NOT_YET=
FAILED=
STAGE=0		# how far setup got, for teardown: 1 module, 2 transport,
		# 3 backend, 4 blkdev, 5 mounted

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
not_yet() { NOT_YET=$*; printf '    NOT YET: %s\n' "$*"; }
fail() { FAILED=$*; printf '    FAILED: %s\n' "$*"; }

teardown() {
	[ "$STAGE" -ge 1 ] || return 0
	step "teardown"
	[ "$STAGE" -lt 5 ] || umount "$MNT"
	[ "$STAGE" -lt 4 ] || { cbd_adm 0 "op=dev-stop,dev_id=0" && info "dev-stop dev_id=0"; }
	[ "$STAGE" -lt 3 ] || { cbd_adm 0 "op=backend-stop,backend_id=0" && info "backend-stop backend_id=0"; }
	[ "$STAGE" -lt 2 ] || { cbd_transport_unregister 0 && info "transport0 unregistered"; }
	cbd_module_unload && info "module unloaded"
}

summary() {
	step "summary"
	if [ -n "$FAILED" ]; then
		info "demo FAILED at: $FAILED"
	elif [ -n "$NOT_YET" ]; then
		info "everything the driver offers so far works."
		info "not there yet: $NOT_YET"
	else
		info "full flow OK: transport on $CBD_PMEM, backend on $CBD_DISK with pmem cache, /dev/cbd0 with ext4 and fio"
	fi
}

# adm_step DESC COMMAND: write an adm command; EOPNOTSUPP means the driver
# does not implement the operation yet.
adm_step() {
	local out
	info "echo \"$2\" > $(cbd_transport_dir 0)/adm"
	out=$(cbd_adm 0 "$2") && return 0
	echo "$out"
	case "$out" in
	*"not supported"*) not_yet "$1 (the driver answers EOPNOTSUPP)" ;;
	*) fail "$1" ;;
	esac
	return 1
}

finish() {
	teardown
	summary
	[ -z "$FAILED" ] || exit 1
	exit 0
}

run() {
	# pmem
	step "transport memory: $CBD_PMEM"
	if ! cbd_pmem_is_dax "$CBD_PMEM"; then
		fail "$CBD_PMEM is not a DAX-capable block device"
		return
	fi
	info "$(cbd_dev_mib "$CBD_PMEM") MiB, dax=$(cat "/sys/block/$(basename "$CBD_PMEM")/queue/dax")"
	[ -b "$CBD_DISK" ] && info "backing disk $CBD_DISK: $(cbd_dev_mib "$CBD_DISK") MiB"

	step "load the cbd module"
	cbd_module_load || { fail "module load"; return; }
	info "cbd loaded, taint $(cbd_taint)"
	STAGE=1

	step "bus $CBD_BUS"
	if ! cbd_have_bus; then
		not_yet "bus 'cbd' with transport_register/transport_unregister (spec §3.1)"
		return
	fi
	info "$(ls "$CBD_BUS" | tr '\n' ' ')"

	step "register $CBD_PMEM as a transport"
	local opts="path=$CBD_PMEM,hostname=node-1,format=1,force=1"
	info "echo \"$opts\" > $CBD_BUS/transport_register"
	cbd_transport_register "$opts" || { fail "transport_register"; return; }
	STAGE=2
	local t
	t=$(cbd_transport_dir 0)
	cbd_wait_for 10 test -d "$t" || { fail "$t did not appear"; return; }
	sed -n 's/^\(hosts_registered\|segment_num\|bytes_per_segment\): /    \1: /p' "$t/info" 2>/dev/null
	if [ ! -e "$t/adm" ]; then
		not_yet "$t/adm (backend and block device management, spec §3.3)"
		return
	fi

	step "start a backend on $CBD_DISK with a 512 MiB cache"
	adm_step backend-start "op=backend-start,path=$CBD_DISK,cache_size=512" || return
	STAGE=3
	[ -e "$t/cbd_backends/backend0/cache/cache_segs" ] &&
		info "cache segments: $(cat "$t/cbd_backends/backend0/cache/cache_segs")"

	step "start the block device"
	adm_step dev-start "op=dev-start,backend_id=0,queues=2" || return
	STAGE=4
	cbd_wait_for 10 test -b /dev/cbd0 || { fail "/dev/cbd0 did not appear"; return; }
	info "/dev/cbd0: $(cbd_dev_mib /dev/cbd0) MiB"

	step "ext4 on /dev/cbd0"
	mkfs.ext4 -q -F -b 4096 /dev/cbd0 || { fail "mkfs.ext4"; return; }
	mkdir -p "$MNT"
	mount /dev/cbd0 "$MNT" || { fail "mount"; return; }
	STAGE=5
	info "$(df -h "$MNT" | tail -1)"

	step "fio: 10 s of 4k random read/write with verification"
	fio --name=demo --directory="$MNT" --size=64M --rw=randrw --bs=4k \
	    --ioengine=psync --runtime=10 --time_based --verify=crc32c \
	    --do_verify=1 --group_reporting > /tmp/demo-fio.log 2>&1 ||
		{ cat /tmp/demo-fio.log; fail "fio"; return; }
	grep -E '^ *(read|write): IOPS|err=' /tmp/demo-fio.log | sed 's/^ */    /'

	step "data survives umount/mount"
	dd if=/dev/urandom of="$MNT/check" bs=1M count=8 status=none
	local sum
	sum=$(md5sum < "$MNT/check")
	umount "$MNT" && mount /dev/cbd0 "$MNT" || { fail "remount"; return; }
	[ "$(md5sum < "$MNT/check")" = "$sum" ] || { fail "checksum after remount"; return; }
	info "8 MiB file checksum OK after remount"
	local c=$t/cbd_backends/backend0/cache
	[ -d "$c" ] && info "cache: used_segs $(cat "$c/used_segs") of $(cat "$c/cache_segs"), gc_percent $(cat "$c/gc_percent")"
}

cbd_require_root
run
finish
