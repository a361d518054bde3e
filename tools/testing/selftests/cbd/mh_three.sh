#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Three hosts on one transport (three guests, vm.sh --guests L L L;
# run_vm_tests.sh runs MULTI3_TESTS so).  Hosts A and B each run a
# backend on their own disk; host C uses both.
#
#  - All three register (A formats) and see three hosts alive, with their
#    hostnames, and both backends alive with the right host_id.
#  - Races: in each round all three hosts dev-start on the same backend
#    (A's, then B's, alternating) at the same moment.  A backend takes one
#    blkdev: exactly one host must succeed, the others get -EBUSY, and
#    every host sees the winner's blkdev with the winner's host_id.
#  - C starts a blkdev on each backend and runs fio with crc32c
#    verification on both at once; every host sees C's two blkdevs alive
#    with C's host_id and the right backend_id.
#  - C writes a last region on each, dev-stops both; A and B backend-stop
#    and verify C's data on their own disks; every host sees everything
#    alive=false.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

ROUNDS=${MH_THREE_ROUNDS:-4}
TMP=/tmp/cbd-mh-three
# C's last region on each backend, verified on the backing disk
KEEP=(--name=keep --size=16M --offset=200M --direct=1 --ioengine=libaio
	--verify=crc32c --rw=randwrite --bsrange=4k-128k --iodepth=16
	--randseed=3131)

# check_all_alive: the three hosts and the two backends, as seen here
check_all_alive() {
	local g id t=$1
	for g in 0 1 2; do
		id=$(mh_host_id_of $g)
		cbd_check "$t: host$id (cbd-vm$g) alive, hostname cbd-vm$g" \
			test "$(cat "$tdir/cbd_hosts/host$id/alive")/$(cat "$tdir/cbd_hosts/host$id/hostname")" = "true/cbd-vm$g"
	done
	cbd_check "$t: exactly 3 hosts alive" \
		test "$(grep -l true "$tdir"/cbd_hosts/host*/alive | wc -l)" = 3
	for g in 0 1; do
		cbd_check "$t: backend${bids[g]} of cbd-vm$g alive, host_id $(mh_host_id_of $g)" \
			test "$(cbd_backend_attr "${bids[g]}" alive)/$(cbd_backend_attr "${bids[g]}" host_id)" = "true/$(mh_host_id_of $g)"
	done
}

# race R: every host dev-starts on backend bids[R % 2] at the same moment
race() {
	local r=$1 b=${bids[$(( $1 % 2 ))]} res g n_ok=0 n_busy=0 winner= dev
	mh_go "go$r" || return 1
	res=$(cbd_errno "$(cbd_adm_file)" "op=dev-start,backend_id=$b,queues=1")
	dev=
	if [ "$res" = OK ]; then
		cbd_wait_for 10 sh -c "ls -d /sys/block/cbd* >/dev/null 2>&1"
		dev=$(cbd_local_disks | head -1)
		mh_put "race$r.g$MH_ID" "OK $(cbd_disk_dev_id "$dev")"
	else
		mh_put "race$r.g$MH_ID" "$res"
	fi
	for g in 0 1 2; do
		mh_wait "race$r.g$g" 60 || return 1
		set -- $(mh_get "race$r.g$g")
		case "$1" in
		OK) n_ok=$((n_ok + 1)) winner="$g $2" ;;
		EBUSY) n_busy=$((n_busy + 1)) ;;
		*) ktap_print_msg "round $r: cbd-vm$g's dev-start on backend$b: $1" ;;
		esac
	done
	ktap_print_msg "round $r on backend$b: $(for g in 0 1 2; do printf 'cbd-vm%s %s; ' $g "$(mh_get "race$r.g$g")"; done)"
	cbd_check "round $r: one of 3 simultaneous dev-starts on backend$b succeeded, 2 got EBUSY" \
		test "$n_ok/$n_busy" = 1/2
	if [ -n "$winner" ]; then
		set -- $winner
		cbd_check "round $r: blkdev$2 of the winner (cbd-vm$1) on backend$b, host_id $(mh_host_id_of "$1"), alive" \
			test "$(cbd_blkdev_attr "$2" backend_id)/$(cbd_blkdev_attr "$2" host_id)/$(cbd_blkdev_attr "$2" alive)" = "$b/$(mh_host_id_of "$1")/true"
	fi
	mh_barrier "checked$r" || return 1
	if [ -n "$dev" ]; then
		mh_step "round $r: winner dev-stop" cbd_dev_stop "$(cbd_disk_dev_id "$dev")" || return 1
	fi
	mh_barrier "stopped$r"
}

# c_use: on C, a blkdev on each backend, fio on both at once
c_use() {
	local g devs=() ids=() p1 p2 rc
	for g in 0 1; do
		mh_step "C: dev-start on backend${bids[g]} (of cbd-vm$g)" cbd_dev_start "${bids[g]}" 2 || return 1
		devs+=("/dev/$CBD_LAST_CBD") ids+=("$CBD_LAST_DEV_ID")
	done
	mh_put c-devs "${ids[*]}"
	cbd_fio_verify "${devs[0]}" 32M --iodepth=16 --bsrange=4k-64k & p1=$!
	cbd_fio_verify "${devs[1]}" 32M --iodepth=16 --bsrange=4k-64k & p2=$!
	rc=0
	wait $p1 || rc=1
	wait $p2 || rc=1
	cbd_check "C: fio randwrite verify=crc32c on A's and B's backends at once" test $rc = 0
	mh_barrier c-running || return 1
	check_c_devs C
	check_all_alive "C (running)"
	mh_barrier all-checked || return 1
	for g in 0 1; do
		cbd_check "C: 16M kept on ${devs[g]} (backend of cbd-vm$g)" \
			cbd_fio keep --filename="${devs[g]}" "${KEEP[@]}" --do_verify=0
		cbd_check "C: dev-stop ${devs[g]}" cbd_dev_stop "${ids[g]}"
	done
	mh_put c-stopped
}

# check_c_devs: C's two blkdevs as seen here
check_c_devs() {
	local g ids c
	mh_wait c-devs 120 || return 1
	read -r -a ids <<< "$(mh_get c-devs)"
	c=$(mh_host_id_of 2)
	for g in 0 1; do
		cbd_check "$1: C's blkdev${ids[g]} alive, host_id $c, on backend${bids[g]}" \
			test "$(cbd_blkdev_attr "${ids[g]}" alive)/$(cbd_blkdev_attr "${ids[g]}" host_id)/$(cbd_blkdev_attr "${ids[g]}" backend_id)" = "true/$c/${bids[g]}"
	done
}

check_all_dead() {
	local g ids
	read -r -a ids <<< "$(mh_get c-devs)"
	for g in 0 1; do
		cbd_check "$1: backend${bids[g]} and blkdev${ids[g]} alive=false" \
			test "$(cbd_backend_attr "${bids[g]}" alive)/$(cbd_blkdev_attr "${ids[g]}" alive)" = false/false
	done
}

mh_require 3
cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
mkdir -p "$TMP"
mh_register || cbd_finish
tdir=$(cbd_tdir)
me=$(hostname)
mh_barrier registered || cbd_finish

if [ "$MH_ID" -lt 2 ]; then
	mh_step "$me: backend-start on $CBD_DISK" cbd_backend_start "$CBD_DISK" || cbd_finish
	mh_put "backend.g$MH_ID" "$CBD_LAST_BACKEND"
fi
mh_barrier backends || cbd_finish
bids=("$(mh_get backend.g0)" "$(mh_get backend.g1)")
check_all_alive "$me"

for r in $(seq 1 "$ROUNDS"); do
	race "$r" || break
done

if [ "$MH_ID" = 2 ]; then
	c_use
else
	mh_barrier c-running && check_c_devs "$me"
	check_all_alive "$me (C running)"
	mh_barrier all-checked
	if mh_wait c-stopped 300; then
		mh_step "$me: backend-stop" cbd_backend_stop "${bids[MH_ID]}"
		cbd_check "$me: C's 16M verify on $CBD_DISK" \
			cbd_fio keep-disk --filename="$CBD_DISK" "${KEEP[@]}" --verify_only=1
		mh_put "stopped.g$MH_ID"
	fi
fi
mh_wait stopped.g0 300 && mh_wait stopped.g1 300 && check_all_dead "$me"
mh_barrier finished 600
rm -rf "$TMP"
cbd_finish
