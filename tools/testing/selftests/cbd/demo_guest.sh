#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The CBD main job end to end, inside the demo VM (or as root on a real
# machine with CBD_PMEM= and CBD_DISK= set):
#
#   pmem -> backing disk -> load cbd -> register the pmem as transport0 ->
#   backend-start on the backing disk with a pmem cache -> dev-start -> /dev/cbd0 -> mkfs.ext4 -> mount -> fio with
#   verification -> remount check -> summary -> teardown
#
# On QEMU-emulated CXL the backend runs on a buffered loop device over the
# virtio disk (cbd_setup_disks in cbd_lib.sh: QEMU cannot DMA into emulated
# CXL memory).  Any failure, including in the teardown, makes the demo
# fail (exit 1).
#
# DEMO_FIO_RUNTIME=20 (seconds), DEMO_CACHE_MIB=256 (cache size).

. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

MNT=/mnt/cbd-demo
FIO_RUNTIME=${DEMO_FIO_RUNTIME:-20}
FIO_LOG=/tmp/demo-fio.log
FAILED=
CACHE=none	# or "<n> MiB"
STAGE=0		# how far setup got, for teardown: 1 module, 2 transport,
		# 3 backend, 4 blkdev, 5 mounted
T=$(cbd_transport_dir 0)
BID= DEV_ID= CBD=

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
fail() { FAILED=${FAILED:-$*}; printf '    FAILED: %s\n' "$*"; }

# show_adm COMMAND: print the adm write the next helper does.
show_adm() { info "echo \"$1\" > $T/adm"; }

# attr FILE: one sysfs value, "-" if it cannot be read.
attr() { local v; v=$(tr -d '\n' < "$1" 2>/dev/null) && echo "${v:--}" || echo -; }

teardown() {
	[ "$STAGE" -ge 1 ] || return 0
	step "teardown"
	if [ "$STAGE" -ge 5 ]; then
		umount "$MNT" && info "umount $MNT" || fail "umount $MNT"
	fi
	if [ "$STAGE" -ge 4 ]; then
		show_adm "op=dev-stop,dev_id=$DEV_ID"
		cbd_dev_stop "$DEV_ID" || fail "dev-stop dev_id=$DEV_ID"
	fi
	if [ "$STAGE" -ge 3 ]; then
		show_adm "op=backend-stop,backend_id=$BID"
		cbd_backend_stop "$BID" || fail "backend-stop backend_id=$BID"
	fi
	if [ "$STAGE" -ge 2 ]; then
		info "echo \"transport_id=0\" > $CBD_BUS/transport_unregister"
		cbd_unregister 0 || fail "transport_unregister"
	fi
	if [ -n "$CBD_LOOPS" ]; then
		local loops=$CBD_LOOPS
		cbd_release_disks && info "losetup -d$loops" || fail "losetup -d$loops"
	fi
	cbd_module_unload && info "rmmod cbd" || fail "rmmod cbd"
	kernel_healthy || fail "kernel log or taint (see above)"
}

# The kernel log since the start has no warning/oops, the taint only O+E.
kernel_healthy() {
	local bad
	bad=$(cbd_dmesg_since_mark | grep -E "$CBD_BAD_KLOG")
	[ -z "$bad" ] || { printf '%s\n' "$bad" | head -10 | sed 's/^/    kernel: /'; return 1; }
	cbd_taint_ok >/dev/null || { info "kernel taint $(cbd_taint) has bits beyond O+E"; return 1; }
	info "kernel log clean, taint $(cbd_taint) (O+E only)"
}

# fio terse v3 fields: 5 error, 7/8 read KiB/s and IOPS, 48/49 write.
FIO_TERSE=
fio_field() { awk -F';' -v f="$1" '{print $f}' <<<"$FIO_TERSE"; }

summary() {
	step "summary"
	if [ -n "$FAILED" ]; then
		info "demo FAILED at: $FAILED"
		return
	fi
	info "transport memory  $CBD_PMEM, $PMEM_DESC, $PMEM_MIB MiB"
	info "backing disk      $CBD_DISK_DESC"
	info "cache             $CACHE"
	info "block device      /dev/$CBD, $CBD_MIB MiB, $CBD_QUEUES queues, ext4 (4 KiB blocks)"
	info "fio               ${FIO_RUNTIME}s 4k randrw 50/50, O_DIRECT, libaio qd 8, crc32c verify"
	info "                  read  $(fio_field 8) IOPS, $(awk '{printf "%.1f", $1 / 1024}' <<<"$(fio_field 7)") MiB/s"
	info "                  write $(fio_field 49) IOPS, $(awk '{printf "%.1f", $1 / 1024}' <<<"$(fio_field 48)") MiB/s"
	info "                  no I/O errors, no verify failures"
	info "(QEMU TCG numbers: they show the path works, not how fast it is on hardware)"
	info "everything set up was torn down again: full flow OK"
}

finish() {
	teardown
	summary
	[ -z "$FAILED" ] || exit 1
	exit 0
}

# sysfs state of transport0, the backend and the blkdev.
show_state() {
	local b=$T/cbd_backends/backend$BID d=$T/cbd_blkdevs/blkdev$DEV_ID
	info "transport0  path $(attr "$T/path"), my_host_id $(attr "$T/my_host_id"), hosts_registered $(cbd_info_field hosts_registered), segments $(cbd_info_field segment_num) x $(( $(cbd_info_field bytes_per_segment) >> 20 )) MiB"
	info "backend$BID    path $(attr "$b/path"), host_id $(attr "$b/host_id"), alive $(attr "$b/alive"), cache_segs $(attr "$b/cache_segs"), cache_used_segs $(attr "$b/cache_used_segs")"
	info "blkdev$DEV_ID     /dev/$CBD, backend_id $(attr "$d/backend_id"), host_id $(attr "$d/host_id"), alive $(attr "$d/alive"), channel segments $(cbd_channels_of "$DEV_ID" "$BID" | tr '\n' ' ')"
}

run() {
	step "transport memory: $CBD_PMEM"
	if ! cbd_pmem_is_dax "$CBD_PMEM"; then
		fail "$CBD_PMEM is not a DAX-capable block device"
		return
	fi
	PMEM_MIB=$(cbd_dev_mib "$CBD_PMEM")
	case "$(readlink -f "/sys/block/$(basename "$CBD_PMEM")")" in
	*/cxl*|*ACPI0017*) PMEM_DESC="CXL type-3 persistent memory" ;;
	*/ndbus*) PMEM_DESC="NVDIMM (ACPI NFIT)" ;;
	*) PMEM_DESC="pmem" ;;
	esac
	[ "$(cat /sys/class/dmi/id/sys_vendor 2>/dev/null)" != QEMU ] || PMEM_DESC="$PMEM_DESC emulated by QEMU"
	info "$PMEM_MIB MiB, $PMEM_DESC, DAX $(cat "/sys/block/$(basename "$CBD_PMEM")/queue/dax")"

	step "backing disk"
	[ -b "$CBD_DISK" ] || { fail "no backing disk $CBD_DISK (set CBD_DISK=)"; return; }
	# only the first disk is used here
	CBD_DISK2=/nonexistent
	cbd_setup_disks >/dev/null || { fail "loop device over $CBD_DISK"; return; }
	if [ -n "$CBD_LOOPS" ]; then
		CBD_DISK_DESC="$CBD_DISK (buffered loop over $CBD_DISK_LOWER), $(cbd_dev_mib "$CBD_DISK") MiB"
		info "$CBD_DISK_LOWER, $(cbd_dev_mib "$CBD_DISK_LOWER") MiB virtio disk"
		info "QEMU cannot DMA between a virtio disk and emulated CXL memory, so the"
		info "backend uses $CBD_DISK, a loop device with buffered I/O over $CBD_DISK_LOWER"
		info "(the CPU copies; data and flushes still reach $CBD_DISK_LOWER)."
		info "On real CXL hardware and on nvdimm the backend uses the disk directly."
	else
		CBD_DISK_DESC="$CBD_DISK, $(cbd_dev_mib "$CBD_DISK") MiB"
		info "$CBD_DISK_DESC"
	fi

	step "load the cbd module"
	cbd_module_load || { fail "module load"; return; }
	STAGE=1
	local ko
	ko=$(cbd_ko)
	info "${ko:+insmod $ko: }cbd loaded, kernel taint $(cbd_taint) (O+E: out-of-tree, unsigned)"
	cbd_have_bus || { fail "no $CBD_BUS/transport_register"; return; }

	step "register $CBD_PMEM as a transport"
	local opts="path=$CBD_PMEM,hostname=node-1,format=1,force=1"
	info "echo \"$opts\" > $CBD_BUS/transport_register"
	cbd_register "$opts" || { fail "transport_register"; return; }
	STAGE=2
	local segs seg_mib
	segs=$(cbd_info_field segment_num) seg_mib=$(( $(cbd_info_field bytes_per_segment) >> 20 ))
	info "transport0: $segs segments of $seg_mib MiB, this host is host$(cbd_my_host_id) (node-1)"

	step "start a backend on $CBD_DISK"
	local cache_mib=${DEMO_CACHE_MIB:-256}
	local cmd="op=backend-start,path=$CBD_DISK,cache_size=$cache_mib" r
	show_adm "$cmd"
	r=$(cbd_errno "$(cbd_adm_file)" "$cmd")
	[ "$r" != OK ] || {
		CACHE="$cache_mib MiB in the pmem"
		info "backend with a $cache_mib MiB pmem cache"
	}
	[ "$r" = OK ] || { fail "$cmd: $r"; return; }
	cbd_wait_for 10 cbd_find_backend "$CBD_DISK" >/dev/null ||
		{ fail "no alive backend on $CBD_DISK after backend-start"; return; }
	BID=$(cbd_find_backend "$CBD_DISK")
	STAGE=3
	info "backend$BID is alive"

	step "start the block device"
	CBD_QUEUES=2
	show_adm "op=dev-start,backend_id=$BID,queues=$CBD_QUEUES"
	cbd_dev_start "$BID" "$CBD_QUEUES" || { fail "dev-start"; return; }
	CBD=$CBD_LAST_CBD DEV_ID=$CBD_LAST_DEV_ID
	STAGE=4
	CBD_MIB=$(cbd_dev_mib "/dev/$CBD")
	info "/dev/$CBD (blkdev$DEV_ID): $CBD_MIB MiB, write cache '$(attr "/sys/block/$CBD/queue/write_cache")', fua $(attr "/sys/block/$CBD/queue/fua")"

	step "ext4 on /dev/$CBD"
	info "mkfs.ext4 -b 4096 /dev/$CBD; mount /dev/$CBD $MNT"
	mkfs.ext4 -q -F -b 4096 "/dev/$CBD" || { fail "mkfs.ext4"; return; }
	cbd_mount ext4 "/dev/$CBD" "$MNT" || { fail "mount"; return; }
	STAGE=5
	info "$(df -h "$MNT" | awk 'NR == 2 {print $1 ": " $2 " size, " $4 " free, mounted on " $6}')"

	step "fio: ${FIO_RUNTIME}s of 4k random read/write on a file in $MNT, with verification"
	if ! FIO_TERSE=$(fio --minimal --name=demo --directory="$MNT" --size=64M \
			--rw=randrw --bs=4k --direct=1 --ioengine=libaio --iodepth=8 \
			--runtime="$FIO_RUNTIME" --time_based --verify=crc32c \
			--do_verify=1 --verify_fatal=1 --exitall_on_error=1 2>"$FIO_LOG") ||
	   [ "$(fio_field 5)" != 0 ]; then
		sed 's/^/    fio: /' "$FIO_LOG" | tail -10
		fail "fio (error $(fio_field 5))"
		return
	fi
	FIO_TERSE=$(tail -1 <<<"$FIO_TERSE")
	info "read $(fio_field 8) IOPS, write $(fio_field 49) IOPS, no I/O or crc32c verify errors"

	step "data survives umount/mount"
	dd if=/dev/urandom of="$MNT/check" bs=1M count=8 status=none
	local sum
	sum=$(md5sum < "$MNT/check")
	umount "$MNT" && cbd_mount ext4 "/dev/$CBD" "$MNT" || { fail "remount"; STAGE=4; return; }
	[ "$(md5sum < "$MNT/check")" = "$sum" ] || { fail "checksum after remount"; return; }
	info "8 MiB file: same md5 after umount + mount"

	step "sysfs state"
	show_state
}

cbd_require_root
cbd_dmesg_mark
run
finish
