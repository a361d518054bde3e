#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two hosts re-attach the same backend slot at the same moment (two
# guests, vm.sh --guests).  backend-start with backend_id=N takes the
# slot with one cmpxchg of its owner word (state byte and generation)
# from the value it judged takeable: a stopped slot (state none, its
# dev_size kept) or a dead one (state running, heartbeat unchanged for
# the timeout on the observer's clock).  Of two hosts that try at once,
# exactly one may win; the other must get EBUSY.
#
# Each guest has disks of its own (/dev/vda 1G, /dev/vdb 512M, the same
# sizes on both): both race for slot N, each with its own disk, under
# the same path.  Every race runs on both disks' slots, one after the
# other, each started with mh_go (both guests spin on one marker).
#
#  1. Stopped slot, MH_TAKEOVER_ROUNDS (default 5) rounds: A starts a
#     backend on each disk (vda's with cache_size=64 in odd rounds,
#     vdb's in even ones) and stops it; both hosts then see it stopped
#     (alive=false, no path) and race backend-start backend_id=N.
#  2. Dead slot, MH_TAKEOVER_DEAD_ROUNDS (default 2) rounds: A starts a
#     backend with cache_size=128 on each disk, writes a crc32c-tagged
#     fio pattern through a blkdev on it (fsync'd), stops the blkdev and
#     crashes the backend (inject_backend_crash: no write to the
#     transport, the journal keeps what was not written back).  A's
#     backends run on dm-flakey devices that fail every write, so that
#     their writeback (which starts after a second of idle journal)
#     cannot drain the cache before the crash: every dead slot must
#     still have dirty data, which the winner replays.  A's disk
#     region is copied to B's disk over the shared directory, so that
#     either host's disk plus the cache holds the data (as a disk both
#     hosts reach would).  Once both hosts read alive=false, both race.
#
# After each race, on both hosts: exactly one OK and one EBUSY; the
# slot's host_id names the winner and alive is true in both views; the
# loser has no local backend (backend-stop: ENOENT).  The winner starts
# a blkdev: case 1 writes and verifies fio data through it, case 2
# verifies the dead backend's data through it (the new cache took over
# the dead one's segment references and replays its journal), and after
# backend-stop (which writes the cache back) on its own disk.  A then
# clears the stopped slots; no cache segment may be left.  The end: the
# kernel log is clean and the taint only O+E, on both hosts.
#
# With the defaults (14 races) the test takes 120-180 s on nvdimm in
# QEMU, 80-95 s of it the dead-slot rounds (the heartbeat timeout).  A
# claim made of a read, a check and a plain write (with a 50 ms delay
# in between) made 12 of the 14 races end with two winners.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

ROUNDS=${MH_TAKEOVER_ROUNDS:-5}
DEAD_ROUNDS=${MH_TAKEOVER_DEAD_ROUNDS:-2}
STOP_CACHE_MIB=64
DEAD_CACHE_MIB=128		# 8 segments: 12 MiB stay below the writeback watermark
DEAD_MIB=12			# the dead backend's data: [0, 12M) of each disk
INJECT=
DISKS=()
races=0 wins_a=0 wins_b=0 race_fail=0

# the fio pattern of case 2 for seed $1
keep_args() {
	echo --name=keep --offset=0 --size=${DEAD_MIB}M --direct=1 \
		--ioengine=libaio --verify=crc32c --rw=randwrite \
		--bsrange=4k-128k --iodepth=16 --randseed="$1"
}

# segments of type cache in cbd_segments
cache_segs_listed() {
	cat "$(cbd_tdir)"/cbd_segments/segment*/type 2>/dev/null | grep -cx cache
}

cache_segs_listed_is() {
	local n
	n=$(cache_segs_listed)
	[ "$n" = "$1" ] && return 0
	ktap_print_msg "$n cache segments listed, not $1"
	return 1
}

klog_count() { dmesg | grep -cF "$1"; }

# race NAME BID DISK: both hosts, released together, re-attach slot BID
# with their disk DISK.  Checks the outcome on this host; sets WINNER to
# the guest id of the one winner.  Returns 2 if there was not exactly
# one (then both hosts stopped what they had), 1 if the peer was lost.
WINNER=
race() {
	local name=$1 bid=$2 disk=$3 mine peer r0 r1 wid t0
	WINNER=
	mh_go "$name" || return 1
	t0=$(cut -d' ' -f1 /proc/uptime)
	mine=$(cbd_errno "$(cbd_adm_file)" "op=backend-start,path=$disk,backend_id=$bid")
	mh_put "$name.res.g$MH_ID" "$mine $t0 $(cut -d' ' -f1 /proc/uptime)"
	mh_wait "$name.res.g$MH_PEER" || return 1
	peer=$(mh_get "$name.res.g$MH_PEER")
	if mh_is_a; then r0=$mine r1=${peer%% *}; else r0=${peer%% *} r1=$mine; fi
	ktap_print_msg "$name: backend$bid: A ${r0}, B ${r1} (uptime at start and end: here $t0, peer's ${peer#* })"
	races=$((races + 1))
	if [ "$r0/$r1" = OK/EBUSY ]; then
		WINNER=0 wins_a=$((wins_a + 1))
	elif [ "$r0/$r1" = EBUSY/OK ]; then
		WINNER=1 wins_b=$((wins_b + 1))
	else
		race_fail=$((race_fail + 1))
	fi
	cbd_check "$name: backend$bid: exactly one host won, the other got EBUSY (A: $r0, B: $r1)" \
		test -n "$WINNER"
	if [ -z "$WINNER" ]; then
		# each host stops what it may have; nothing more to check here
		cbd_errno "$(cbd_adm_file)" "op=backend-stop,backend_id=$bid" > /dev/null
		mh_barrier "$name.stopped" 300 || return 1
		return 2
	fi
	wid=$(mh_host_id_of "$WINNER")
	cbd_check "$name: backend$bid host_id names the winner (host$wid) here" \
		cbd_file_is "$(cbd_tdir)/cbd_backends/backend$bid/host_id" "$wid"
	cbd_check "$name: backend$bid reads alive=true here" \
		cbd_wait_file_is 10 "$(cbd_tdir)/cbd_backends/backend$bid/alive" true
	if [ "$WINNER" != "$MH_ID" ]; then
		cbd_expect "$(cbd_adm_file)" "op=backend-stop,backend_id=$bid" ENOENT \
			"$name: the loser has no local backend$bid (backend-stop: ENOENT)"
	fi
}

# winner_stop NAME BID: the winner stops the backend, the other waits.
winner_stop() {
	local name=$1 bid=$2
	if [ "$WINNER" = "$MH_ID" ]; then
		cbd_check "$name: winner: backend-stop backend$bid" cbd_backend_stop "$bid"
		mh_put "$name.stopped"
	else
		mh_wait "$name.stopped" 300
	fi
}

# A clears the stopped slots of round $1 (ids $2 $3): no cache segment left.
clear_slots() {
	local name=$1 bid
	shift
	mh_barrier "$name.clear" 300 || return 1
	if mh_is_a; then
		for bid in "$@"; do
			cbd_expect "$(cbd_adm_file)" "op=backend-clear,backend_id=$bid,force=1" OK \
				"$name: backend-clear of the stopped backend$bid"
		done
		cbd_wait_for 10 cache_segs_listed_is 0
		cbd_check "$name: no cache segment left" cache_segs_listed_is 0
	fi
	mh_barrier "$name.cleared" 300
}

# ---- case 1: a stopped slot
stopped_round() {
	local r=$1 i bid bids="" cache name disk
	if mh_is_a; then
		for i in 0 1; do
			cache=""
			[ $(( (r + i) % 2 )) = 1 ] && cache=",cache_size=$STOP_CACHE_MIB"
			mh_step "s$r: A: backend-start on ${DISKS[$i]}$cache" \
				cbd_backend_start "${DISKS[$i]}" "$cache" || return 1
			bids+="${bids:+ }$CBD_LAST_BACKEND"
		done
		# both run before either stops: a stopped slot is free for a
		# new backend, the second would take the first one's slot
		for bid in $bids; do
			mh_step "s$r: A: backend-stop backend$bid" cbd_backend_stop "$bid" || return 1
		done
		mh_put "s$r.slots" "$bids"
	else
		mh_wait "s$r.slots" 300 || return 1
		bids=$(mh_get "s$r.slots")
	fi
	for bid in $bids; do
		cbd_check "s$r: backend$bid reads stopped here (alive=false, no path)" \
			sh -c "[ \"\$(cat $(cbd_tdir)/cbd_backends/backend$bid/alive)\" = false ] &&
			       [ -z \"\$(cat $(cbd_tdir)/cbd_backends/backend$bid/path)\" ]"
	done
	i=0
	for bid in $bids; do
		name=s$r.b$bid disk=${DISKS[$i]}
		i=$((i + 1))
		race "$name" "$bid" "$disk" || { [ $? = 2 ] && continue; return 1; }
		if [ "$WINNER" = "$MH_ID" ]; then
			mh_step "$name: winner: dev-start on backend$bid" cbd_dev_start "$bid" 1 &&
			cbd_check "$name: winner: fio write and verify through /dev/$CBD_LAST_CBD" \
				cbd_fio_verify "/dev/$CBD_LAST_CBD" 8M --offset=$((r * 16))M
			[ -z "$CBD_LAST_DEV_ID" ] ||
				cbd_check "$name: winner: dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
		fi
		winner_stop "$name" "$bid" || return 1
	done
	# shellcheck disable=SC2086
	clear_slots "s$r" $bids
}

# ---- case 2: a dead slot (crashed backend with dirty cache data)

# A dm-flakey device over DISKS[$1] on which every write (and flush)
# fails and every read succeeds.
wfail_name() { echo "cbd-mht$1"; }
wfail_dev() { echo "/dev/mapper/$(wfail_name "$1")"; }
wfail_create() {
	local disk=${DISKS[$1]} s
	s=$(blockdev --getsz "$disk") || return 1
	dmsetup create "$(wfail_name "$1")" --table "0 $s flakey $disk 0 0 1 1 error_writes" &&
		dmsetup mknodes "$(wfail_name "$1")" >/dev/null 2>&1 &&
		cbd_wait_for 5 test -b "$(wfail_dev "$1")"
}

dead_round() {
	local r=$1 i bid bids="" name disk seed devs="" dev n
	if mh_is_a; then
		for i in 0 1; do
			mh_step "d$r: A: dm-flakey $(wfail_name "$i") over ${DISKS[$i]}: every write fails" \
				wfail_create "$i" || return 1
			mh_step "d$r: A: backend-start on $(wfail_dev "$i") cache_size=$DEAD_CACHE_MIB" \
				cbd_backend_start "$(wfail_dev "$i")" ",cache_size=$DEAD_CACHE_MIB" || return 1
			bid=$CBD_LAST_BACKEND
			bids+="${bids:+ }$bid"
			mh_step "d$r: A: dev-start on backend$bid" cbd_dev_start "$bid" 1 || return 1
			devs+="${devs:+ }$CBD_LAST_DEV_ID"
			seed=$((7100 + 2 * r + i))
			# shellcheck disable=SC2046
			mh_step "d$r: A: ${DEAD_MIB}M fio pattern (seed $seed) written and fsync'd through /dev/$CBD_LAST_CBD" \
				cbd_fio "d$r-$i" --filename="/dev/$CBD_LAST_CBD" $(keep_args "$seed") \
				--do_verify=0 --end_fsync=1 || return 1
		done
		for dev in $devs; do
			mh_step "d$r: A: dev-stop blkdev$dev" cbd_dev_stop "$dev" || return 1
		done
		for bid in $bids; do
			ktap_print_msg "d$r: backend$bid before the crash: dirty_bytes $(cbd_cache_stat "$bid" dirty_bytes), used_segs $(cbd_backend_attr "$bid" cache_used_segs)"
			mh_step "d$r: A: backend$bid has dirty data to replay" \
				test "$(cbd_cache_stat "$bid" dirty_bytes)" -gt 0 || return 1
			mh_step "d$r: A: inject a crash of backend$bid" cbd_write "$INJECT" "$bid" || return 1
		done
		# the crashed backends closed the disks: they stay as they are now
		for i in 0 1; do
			mh_step "d$r: A: dmsetup remove $(wfail_name "$i")" \
				dmsetup remove --retry "$(wfail_name "$i")" || return 1
		done
		i=0
		for bid in $bids; do
			mh_step "d$r: A: copy [0, ${DEAD_MIB}M) of ${DISKS[$i]} to the shared directory" \
				dd if="${DISKS[$i]}" of="$(mh_path "d$r.img$i")" bs=1M count=$DEAD_MIB \
				iflag=direct status=none || return 1
			i=$((i + 1))
		done
		mh_put "d$r.slots" "$bids"
	else
		mh_wait "d$r.slots" 300 || return 1
		bids=$(mh_get "d$r.slots")
		for i in 0 1; do
			mh_step "d$r: B: copy A's disk region onto ${DISKS[$i]}" \
				dd if="$(mh_path "d$r.img$i")" of="${DISKS[$i]}" bs=1M \
				oflag=direct conv=fsync,notrunc status=none || return 1
		done
	fi
	for bid in $bids; do
		mh_step "d$r: backend$bid reads alive=false here (crashed, heartbeat stale)" \
			cbd_wait_dead "$(cbd_tdir)/cbd_backends/backend$bid/alive" || return 1
	done
	i=0
	for bid in $bids; do
		name=d$r.b$bid disk=${DISKS[$i]} seed=$((7100 + 2 * r + i))
		i=$((i + 1))
		n=$(klog_count "cache$bid: took over")
		race "$name" "$bid" "$disk" || { [ $? = 2 ] && continue; return 1; }
		if [ "$WINNER" = "$MH_ID" ]; then
			cbd_check "$name: winner: its cache took over the dead one's segment references" \
				test "$(klog_count "cache$bid: took over")" -gt "$n"
			dmesg | grep -F "cache$bid: took over" | tail -1 | sed 's/^/# /'
			# shellcheck disable=SC2046
			mh_step "$name: winner: dev-start on backend$bid" cbd_dev_start "$bid" 1 &&
			cbd_check "$name: winner: the dead backend's data verify through /dev/$CBD_LAST_CBD" \
				cbd_fio "$name-v" --filename="/dev/$CBD_LAST_CBD" $(keep_args "$seed") \
				--verify_only=1
			[ -z "$CBD_LAST_DEV_ID" ] ||
				cbd_check "$name: winner: dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
			cbd_check "$name: winner: backend-stop (writes the cache back)" \
				cbd_backend_stop "$bid"
			# shellcheck disable=SC2046
			cbd_check "$name: winner: the data verify on its own $disk" \
				cbd_fio "$name-disk" --filename="$disk" $(keep_args "$seed") --verify_only=1
			mh_put "$name.stopped"
		else
			mh_wait "$name.stopped" 300 || return 1
		fi
	done
	rm -f "$(mh_path "d$r.img0")" "$(mh_path "d$r.img1")"
	# shellcheck disable=SC2086
	clear_slots "d$r" $bids
}

mh_require
cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
command -v dmsetup >/dev/null && modprobe -q dm-flakey 2>/dev/null ||
	ktap_exit_skip "no dmsetup or dm-flakey"
[ -b "$CBD_DISK2" ] || ktap_exit_fail_msg "needs a second disk ($CBD_DISK2)"
DISKS=("$CBD_DISK" "$CBD_DISK2")
mh_register || cbd_finish
mh_barrier registered || cbd_finish
INJECT=$(cbd_inject_crash_file) || ktap_exit_fail_msg "no $INJECT"
# both guests' disks must have the sizes the slots record
mh_put "sizes.g$MH_ID" "$(blockdev --getsize64 "$CBD_DISK") $(blockdev --getsize64 "$CBD_DISK2")"
mh_wait "sizes.g$MH_PEER" || cbd_finish
cbd_check "both hosts' disks have the same sizes ($(mh_get "sizes.g$MH_ID"))" \
	test "$(mh_get "sizes.g$MH_ID")" = "$(mh_get "sizes.g$MH_PEER")" || cbd_finish
t_start=$SECONDS
for r in $(seq 1 "$ROUNDS"); do
	stopped_round "$r" || break
done
ktap_print_msg "stopped slots: $((SECONDS - t_start))s"
t_start=$SECONDS
for r in $(seq 1 "$DEAD_ROUNDS"); do
	dead_round "$r" || break
done
ktap_print_msg "dead slots: $((SECONDS - t_start))s"
ktap_print_msg "$races races: A won $wins_a, B won $wins_b, $race_fail without exactly one winner"
mh_barrier "done" 300
cbd_finish
