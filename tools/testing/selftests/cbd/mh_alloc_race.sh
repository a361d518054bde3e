#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Slot allocation from two hosts at the same moment (decision 14: slots
# are claimed with cmpxchg on their state byte in shared memory).  In
# each round both hosts start a backend on each of their two disks and
# then a blkdev with several queues (one channel segment each) on each
# backend, all at once, released by one marker.  Every backend, blkdev
# and segment slot must belong to exactly one host: the ids each host got
# are disjoint from the other's, and the slots say who owns them.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

ROUNDS=${MH_RACE_ROUNDS:-3}
QUEUES=4
HWQ=$(cbd_expected_hw_queues $QUEUES)	# one channel per CPU at most
TMP=/tmp/cbd-mh-race

# start_all: backends on both disks in parallel, then blkdevs in parallel;
# prints "b:<id> d:<id> s:<id>" words for everything this host got.
start_all() {
	local d r bids="" i
	for d in "$CBD_DISK" "$CBD_DISK2"; do
		cbd_errno "$(cbd_adm_file)" "op=backend-start,path=$d" > "$TMP/bs.$(basename "$d")" &
	done
	wait
	for d in "$CBD_DISK" "$CBD_DISK2"; do
		r=$(cat "$TMP/bs.$(basename "$d")")
		[ "$r" = OK ] || { ktap_print_msg "backend-start $d: $r"; return 1; }
		cbd_wait_for 10 cbd_find_backend "$d" >/dev/null || return 1
		bids+=" $(cbd_find_backend "$d")"
	done
	i=0
	for b in $bids; do
		cbd_errno "$(cbd_adm_file)" "op=dev-start,backend_id=$b,queues=$QUEUES" > "$TMP/ds.$i" &
		i=$((i + 1))
	done
	wait
	for r in "$TMP"/ds.*; do
		[ "$(cat "$r")" = OK ] || { ktap_print_msg "dev-start: $(cat "$r")"; return 1; }
	done
	cbd_wait_for 10 sh -c "[ \$(ls -d /sys/block/cbd* 2>/dev/null | wc -l) -ge 2 ]"
}

# What this host owns, per the slots in shared memory.
owned() {
	local me t x dev
	me=$(cbd_my_host_id) t=$(cbd_tdir)
	for x in "$t"/cbd_backends/backend*; do
		[ "$(cat "$x/host_id" 2>/dev/null)" = "$me" ] && [ "$(cat "$x/alive")" = true ] &&
			echo "b:${x##*/backend}"
	done
	for dev in $(cbd_local_disks); do
		x=$(cbd_disk_dev_id "$dev")
		echo "d:$x"
		for s in $(cbd_channels_of "$x" "$(cat "$t/cbd_blkdevs/blkdev$x/backend_id")"); do
			echo "s:$s"
		done
	done
}

stop_all() {
	local dev b
	for dev in $(cbd_local_disks); do
		cbd_dev_stop "$(cbd_disk_dev_id "$dev")" || return 1
	done
	for b in $(owned | sed -n 's/^b://p'); do
		cbd_backend_stop "$b" || return 1
	done
}

mh_require
cbd_core_begin
cbd_require_disk
[ -b "$CBD_DISK2" ] || ktap_exit_fail_msg "needs a second disk ($CBD_DISK2)"
mkdir -p "$TMP"
mh_register || cbd_finish
for r in $(seq 1 "$ROUNDS"); do
	rm -f "$TMP"/ds.* "$TMP"/bs.*
	mh_barrier "ready$r" || break
	# A releases both at once; B spins on the marker for the tightest start
	mh_is_a && mh_put "go$r"
	mh_wait "go$r" 30 || break
	mh_step "round $r: 2 backends and 2 blkdevs ($QUEUES queues) started at once" start_all
	owned | sort > "$TMP/mine"
	mh_put "owned$r.g$MH_ID" "$(tr '\n' ' ' < "$TMP/mine")"
	mh_wait "owned$r.g$MH_PEER" || break
	mh_get "owned$r.g$MH_PEER" | tr ' ' '\n' | sed '/^$/d' | sort > "$TMP/theirs"
	ktap_print_msg "round $r: mine: $(tr '\n' ' ' < "$TMP/mine")| peer's: $(tr '\n' ' ' < "$TMP/theirs")"
	common=$(grep -Fx -f "$TMP/theirs" "$TMP/mine" | tr "\n" " ")
	cbd_check "round $r: no backend, blkdev or segment slot on both hosts${common:+ ($common)}" \
		test -z "$common"
	cbd_check "round $r: 2 backends, 2 blkdevs, $((2 * HWQ)) channel segments here" \
		test "$(grep -c '^b:' "$TMP/mine")/$(grep -c '^d:' "$TMP/mine")/$(grep -c '^s:' "$TMP/mine")" = "2/2/$((2 * HWQ))"
	mh_barrier "compared$r" || break
	mh_step "round $r: stop everything" stop_all || break
done
mh_barrier done 300
rm -rf "$TMP"
cbd_finish
