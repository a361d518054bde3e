#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the multi-host tests (mh_*.sh): two or more guests on the
# same transport memory, run by "vm.sh --guests LIST LIST [LIST]"
# (run_vm_tests.sh runs MULTI_TESTS in two guests, MULTI3_TESTS in
# three).  Guest 0 is host A (formats, runs the backends), guest 1 is
# host B, guest 2 host C.  Source after cbd_lib.sh and cbd_core_lib.sh.
#
# The guests coordinate through marker files in a directory shared over
# 9p (CBD_SHARED, /cbd-shared in the VM): names are prefixed with the
# test's name, so every test has its own.  A guest that finds a problem
# its peer would otherwise wait for calls mh_abort; every wait then ends
# at once, so a failure costs one timeout at most.
#
# Environment (set by the VM):
#   CBD_GUEST_ID   0 (host A), 1 (host B), 2 (host C)
#   CBD_GUESTS     number of guests
#   CBD_SHARED     the shared directory
#   CBD_VM_TESTS   this guest's test list (for mh_kill_me's restart)
# MH_TIMEOUT (default 120): default wait for a marker, in seconds.

MH_TAG=$(basename "$0" .sh)
MH_TIMEOUT=${MH_TIMEOUT:-120}
MH_ID=${CBD_GUEST_ID:-}
MH_PEER=$(( 1 - ${CBD_GUEST_ID:-0} ))	# the other guest of a two-guest test

# mh_require [N]: skip unless we run in one of N (default 2) guests
# sharing a directory.
mh_require() {
	local n=${1:-2}
	[ -n "${CBD_SHARED:-}" ] && [ -d "$CBD_SHARED" ] && [ -n "$MH_ID" ] &&
	[ "${CBD_GUESTS:-1}" -ge "$n" ] ||
		ktap_exit_skip "needs $n guests on one memory with a shared directory (vm.sh --guests)"
}

mh_is_a() { [ "$MH_ID" = 0 ]; }

mh_path() { echo "$CBD_SHARED/$MH_TAG.$1"; }

# mh_put NAME [CONTENT]: publish a marker (atomically: write, then rename).
mh_put() {
	local f
	f=$(mh_path "$1")
	printf '%s\n' "${2:-}" > "$f.tmp.$MH_ID" && mv "$f.tmp.$MH_ID" "$f"
}

mh_get() { cat "$(mh_path "$1")" 2>/dev/null; }
mh_has() { [ -e "$(mh_path "$1")" ]; }

# mh_abort REASON: make every wait of both guests in this test fail now.
mh_abort() {
	mh_has abort || mh_put abort "guest $MH_ID: $*"
}

mh_has_or_abort() { mh_has "$1" || mh_has abort; }

# mh_wait NAME [SECONDS]: wait for marker NAME; fails on timeout or abort.
mh_wait() {
	local name=$1 secs=${2:-$MH_TIMEOUT}
	cbd_wait_for "$secs" mh_has_or_abort "$name"
	if mh_has abort && ! mh_has "$name"; then
		ktap_print_msg "waiting for '$name': aborted ($(mh_get abort))"
		return 1
	fi
	mh_has "$name" && return 0
	ktap_print_msg "waiting for '$name': timeout after ${secs}s"
	return 1
}

# mh_barrier NAME [SECONDS]: every guest reached NAME.
mh_barrier() {
	local name=$1 secs=${2:-$MH_TIMEOUT} g
	mh_put "$name.g$MH_ID"
	for g in $(seq 0 $(( CBD_GUESTS - 1 ))); do
		mh_wait "$name.g$g" "$secs" || return 1
	done
}

# mh_go NAME [SECONDS]: start together.  After a barrier, guest 0 puts
# marker NAME and every guest spins on it without sleeping (one 9p stat
# per turn), so that they leave much closer together than cbd_wait_for's
# 0.1 s poll would let them.
mh_go() {
	local name=$1 secs=${2:-30} f end
	mh_barrier "$name.ready" || return 1
	f=$(mh_path "$name")
	mh_is_a && mh_put "$name"
	end=$((SECONDS + secs))
	until [ -e "$f" ]; do
		[ "$SECONDS" -lt "$end" ] || { ktap_print_msg "'$name': no go after ${secs}s"; return 1; }
	done
}

# mh_step DESC CMD...: cbd_check, but abort the peer's waits on failure.
mh_step() {
	local desc=$1
	shift
	cbd_check "$desc" "$@" && return 0
	mh_abort "$desc"
	return 1
}

# Was guest $1 killed (and restarted) during this test?  The runner
# renames the kill request to killed-<test>.g<id> once QEMU is dead.
mh_killed() { [ -e "$CBD_SHARED/killed-$MH_TAG.g$1" ]; }
mh_restarted() { mh_killed "$MH_ID"; }

# mh_done_if_restarted: a test that had its guest killed (mh_kill_me
# without "again") passes at once in the restarted guest.
mh_done_if_restarted() {
	mh_restarted || return 0
	ktap_print_msg "guest $MH_ID restarted after SIGKILL: nothing more to do here"
	ktap_set_plan 1
	ktap_test_pass "restarted"
	exit 0
}

# mh_kill_me [again]: ask the runner to SIGKILL this guest.  Never returns.
# The restarted guest (same memory, same disks) runs the rest of this
# guest's list: the tests after this one, or with "again" this one too
# (it then finds mh_restarted true).
mh_kill_me() {
	local t rest="" found=0 me
	me=$(basename "$0")
	for t in ${CBD_VM_TESTS:-}; do
		if [ "$found" = 0 ] && [ "$t" = "$me" ]; then
			found=1
			[ "${1:-}" = again ] || continue
		fi
		[ "$found" = 1 ] && rest+="${rest:+ }$t"
	done
	sync
	ktap_print_msg "asking the runner to kill this guest (restart with: ${rest:-nothing})"
	printf 'tag=%s\nrestart=%s\n' "$MH_TAG.g$MH_ID" "$rest" > "$CBD_SHARED/.kill-g$MH_ID"
	mv "$CBD_SHARED/.kill-g$MH_ID" "$CBD_SHARED/kill-g$MH_ID"
	while :; do
		sleep 60
	done
}

# Register the transport: host A formats, the others wait for A and join.
# Each publishes its host id as registered-g<ID> (A also as registered,
# B also as registered-b).
mh_register() {
	if mh_is_a; then
		mh_step "host A: format and register as $(hostname)" \
			cbd_register "path=$CBD_PMEM,hostname=$(hostname),format=1,force=1" || return 1
		mh_put registered "$(cbd_my_host_id)"
	else
		mh_wait registered || { ktap_test_fail "host A registered"; return 1; }
		mh_step "guest $MH_ID: register without format as $(hostname)" \
			cbd_register "path=$CBD_PMEM,hostname=$(hostname)" || return 1
		[ "$MH_ID" != 1 ] || mh_put registered-b "$(cbd_my_host_id)"
	fi
	mh_put "registered-g$MH_ID" "$(cbd_my_host_id)"
}

# Host id of guest $1 (once it registered).
mh_host_id_of() { mh_get "registered-g$1"; }

# Host id of the peer, from its registration marker.
mh_peer_host_id() {
	if mh_is_a; then mh_get registered-b; else mh_get registered; fi
}

# Is the CPU mostly idle over $1 seconds (more than $2 percent idle)?
# /proc/stat: the 4th and 5th numbers of "cpu" are idle and iowait.
mh_cpu_idle_pct() {
	local a b
	a=$(awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t}' /proc/stat)
	sleep "$1"
	b=$(awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t}' /proc/stat)
	set -- $a $b
	echo $(( ($3 - $1) * 100 / ($4 - $2 > 0 ? $4 - $2 : 1) ))
}
