#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Slot allocation from two hosts at the same moment (slots
# are claimed with cmpxchg on their state byte in shared memory).  In
# each round both hosts, released together (mh_go: both spin on one
# marker), start a backend with a cache of 16 segments on their first
# disk (the segments are claimed one after the other in a loop: the
# longest run of claims) and one without a cache on their second, all
# four at once; then, released together again, a blkdev with 4 queues
# (one channel segment per queue, but at most one per CPU) on each, all
# four at once.  The hosts allocate backend,
# blkdev and segment slots from the same tables at the same time, so a
# claim that is not atomic gives some slot to both: one host's record
# overwrites the other's.  Every round then checks, on both hosts:
#
#  - the backends, blkdevs and channel segments each host owns (by the
#    host_id of the slots and the blkdevs of its own /sys/block/cbd*) are
#    disjoint from the other host's, and each host got what it asked for;
#  - the whole tables as this host reads them: exactly 2 alive backends
#    and 2 alive blkdevs per host, each blkdev on an alive backend of its
#    host, as many channel segments as the blkdevs have queues, each
#    naming an alive blkdev and its backend, as many cache segments as the
#    caches have (32), nothing else in use;
#  - both hosts read the same tables (the views are compared).
#
# MH_RACE_ROUNDS (default 6, 4 on QEMU-emulated CXL): rounds.  Needs up
# to 48 free segments (a 1 GiB transport has 63).

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

ROUNDS=${MH_RACE_ROUNDS:-6}
CACHE_MIB=256			# 16 segments, enough for 4 queues
QUEUES1=4
QUEUES2=4
# channels per host: one per queue, at most one per CPU
CHANNELS=$(( $(cbd_expected_hw_queues $QUEUES1) + $(cbd_expected_hw_queues $QUEUES2) ))
TMP=/tmp/cbd-mh-race

# start_backends: backend-start on both disks at once (the first cached)
start_backends() {
	cbd_errno "$(cbd_adm_file)" "op=backend-start,path=$CBD_DISK,cache_size=$CACHE_MIB" > "$TMP/bs.1" &
	cbd_errno "$(cbd_adm_file)" "op=backend-start,path=$CBD_DISK2" > "$TMP/bs.2" &
	wait
	[ "$(cat "$TMP/bs.1")/$(cat "$TMP/bs.2")" = OK/OK ] ||
		{ ktap_print_msg "backend-start: $(cat "$TMP/bs.1") / $(cat "$TMP/bs.2")"; return 1; }
	cbd_wait_for 10 cbd_find_backend "$CBD_DISK" >/dev/null &&
		cbd_wait_for 10 cbd_find_backend "$CBD_DISK2" >/dev/null
}

# start_blkdevs: dev-start on both backends at once
start_blkdevs() {
	cbd_errno "$(cbd_adm_file)" "op=dev-start,backend_id=$(cbd_find_backend "$CBD_DISK"),queues=$QUEUES1" > "$TMP/ds.1" &
	cbd_errno "$(cbd_adm_file)" "op=dev-start,backend_id=$(cbd_find_backend "$CBD_DISK2"),queues=$QUEUES2" > "$TMP/ds.2" &
	wait
	[ "$(cat "$TMP/ds.1")/$(cat "$TMP/ds.2")" = OK/OK ] ||
		{ ktap_print_msg "dev-start: $(cat "$TMP/ds.1") / $(cat "$TMP/ds.2")"; return 1; }
	cbd_wait_for 10 sh -c "[ \$(ls -d /sys/block/cbd* 2>/dev/null | wc -l) -ge 2 ]"
}

# owned: what this host owns, per the slots and its own block devices
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
		for s in $(cbd_channels_of "$x" "$(cbd_blkdev_attr "$x" backend_id)"); do
			echo "s:$s"
		done
	done
}

# view: the transport's tables as this host reads them, one line each:
# "b ID HOST", "d ID HOST BACKEND", "s ID channel BACKEND BLKDEV" or
# "s ID cache"
view() {
	local t x type
	t=$(cbd_tdir)
	for x in "$t"/cbd_backends/backend*; do
		[ "$(cat "$x/alive")" = true ] && echo "b ${x##*/backend} $(cat "$x/host_id")"
	done
	for x in "$t"/cbd_blkdevs/blkdev*; do
		[ "$(cat "$x/alive")" = true ] &&
			echo "d ${x##*/blkdev} $(cat "$x/host_id") $(cat "$x/backend_id")"
	done
	for x in "$t"/cbd_segments/segment*; do
		type=$(cat "$x/type")
		case "$type" in
		'') ;;
		channel) echo "s ${x##*/segment} channel $(sed -n 's/^channel backend id: //p' "$x/detail") $(sed -n 's/^channel blkdev id: //p' "$x/detail")" ;;
		*) echo "s ${x##*/segment} $type" ;;
		esac
	done
}

# check_view FILE: the tables in FILE hold exactly what both hosts started
check_view() {
	local f=$1 h b d want_cache=0 n err=""
	for h in "$a_id" "$b_id"; do
		n=$(grep -c "^b [0-9]* $h$" "$f")
		[ "$n" = 2 ] || err+="host$h has $n alive backends; "
		n=$(grep -c "^d [0-9]* $h " "$f")
		[ "$n" = 2 ] || err+="host$h has $n alive blkdevs; "
	done
	n=$(grep -c '^b ' "$f")
	[ "$n" = 4 ] || err+="$n alive backends; "
	# every blkdev on an alive backend of its own host
	# (here-strings: the test VM has no /dev/fd for process substitution)
	while read -r _ d h b; do
		[ -n "$d" ] || continue
		grep -q "^b $b $h$" "$f" || err+="blkdev$d (host$h) on backend$b, not an alive backend of host$h; "
	done <<< "$(grep '^d ' "$f")"
	# every channel between an alive blkdev and its backend
	while read -r _ s _ b d; do
		[ -n "$s" ] || continue
		grep -q "^d $d [0-9]* $b$" "$f" || err+="channel segment$s names backend$b/blkdev$d; "
	done <<< "$(grep '^s [0-9]* channel' "$f")"
	n=$(grep -c '^s [0-9]* channel' "$f")
	[ "$n" = "$channels" ] || err+="$n channel segments, not $channels; "
	for b in $(sed -n 's/^b \([0-9]*\) .*/\1/p' "$f"); do
		want_cache=$((want_cache + $(cbd_backend_attr "$b" cache_segs)))
	done
	n=$(grep -c '^s [0-9]* cache$' "$f")
	[ "$n" = "$want_cache" ] && [ "$n" = $((2 * CACHE_MIB / 16)) ] ||
		err+="$n cache segments, the caches have $want_cache (want $((2 * CACHE_MIB / 16))); "
	n=$(grep -c '^s ' "$f")
	[ "$n" = $((channels + want_cache)) ] || err+="$n segments in use; "
	[ -z "$err" ] && return 0
	ktap_print_msg "$err"
	return 1
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

# round R
round() {
	local r=$1 common
	rm -f "$TMP"/ds.* "$TMP"/bs.*
	mh_go "bgo$r" || return 1
	mh_step "round $r: 2 backends (one with cache_size=$CACHE_MIB) started at once on both hosts" \
		start_backends || return 1
	mh_go "dgo$r" || return 1
	mh_step "round $r: 2 blkdevs ($QUEUES1 and $QUEUES2 queues) started at once on both hosts" \
		start_blkdevs || return 1
	mh_barrier "started$r" || return 1

	owned | sort > "$TMP/mine"
	mh_put "owned$r.g$MH_ID" "$(tr '\n' ' ' < "$TMP/mine")"
	view | sort > "$TMP/view"
	mh_put "view$r.g$MH_ID" "$(cat "$TMP/view")"
	mh_wait "owned$r.g$MH_PEER" && mh_wait "view$r.g$MH_PEER" || return 1
	mh_get "owned$r.g$MH_PEER" | tr ' ' '\n' | sed '/^$/d' | sort > "$TMP/theirs"
	ktap_print_msg "round $r: mine: $(tr '\n' ' ' < "$TMP/mine")| peer's: $(tr '\n' ' ' < "$TMP/theirs")"
	common=$(grep -Fx -f "$TMP/theirs" "$TMP/mine" | tr "\n" " ")
	cbd_check "round $r: no backend, blkdev or channel segment owned by both hosts${common:+ ($common)}" \
		test -z "$common"
	cbd_check "round $r: 2 backends, 2 blkdevs, $CHANNELS channel segments here" \
		test "$(grep -c '^b:' "$TMP/mine")/$(grep -c '^d:' "$TMP/mine")/$(grep -c '^s:' "$TMP/mine")" = "2/2/$CHANNELS"
	cbd_check "round $r: the tables read here hold exactly both hosts' objects" \
		check_view "$TMP/view"
	mh_get "view$r.g$MH_PEER" > "$TMP/peer-view"
	cbd_check "round $r: the peer reads the same tables" cmp -s "$TMP/view" "$TMP/peer-view"
	mh_barrier "compared$r" || return 1
	mh_step "round $r: stop everything" stop_all
}

mh_require
cbd_core_begin
cbd_require_disk
# a round takes about 3 times longer there
cbd_pmem_on_emulated_cxl && ROUNDS=${MH_RACE_ROUNDS:-4}
[ -b "$CBD_DISK2" ] || ktap_exit_fail_msg "needs a second disk ($CBD_DISK2)"
mkdir -p "$TMP"
mh_register || cbd_finish
mh_barrier registered || cbd_finish
need=$((2 * (CACHE_MIB / 16 + CHANNELS)))
nseg=$(ls -d "$(cbd_tdir)"/cbd_segments/segment* | wc -l)
ktap_print_msg "$nseg segments in the transport, the test uses $need"
[ "$nseg" -ge "$need" ] || ktap_exit_fail_msg "$nseg segments, the test needs $need (PMEM_SIZE >= 1G)"
a_id=$(mh_host_id_of 0) b_id=$(mh_host_id_of 1)
# both hosts' channels (their CPU counts may differ)
mh_put "channels.g$MH_ID" "$CHANNELS"
mh_wait "channels.g$MH_PEER" || cbd_finish
channels=$((CHANNELS + $(mh_get "channels.g$MH_PEER")))
for r in $(seq 1 "$ROUNDS"); do
	round "$r" || break
done
mh_barrier done 300
rm -rf "$TMP"
cbd_finish
