#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the wall-clock step tests (clock_step.sh, mh_clock_step.sh;
# source after cbd_lib.sh and cbd_core_lib.sh).  The wall clock is the
# thing under test, so nothing here measures time with it (nor with
# bash's SECONDS, which follows it): bounds use the uptime, and the clock
# is restored from the uptime elapsed since this file was sourced.
#
#   CBD_CLOCK_WHO   prefix of the step messages (e.g. "guest 1: ")

# shellcheck disable=SC2034 # used by the tests that source this
YEAR=31557600		# 365.25 days, in seconds

# Wall clock when sourced, and the monotonic time (uptime) it was taken at.
CBD_CLOCK_REAL0=$(date +%s)
CBD_CLOCK_UP0=$(cut -d. -f1 /proc/uptime)

uptime_s() { cut -d. -f1 /proc/uptime; }

# Monotonic time in 1/100 s, without a fork.
uptime_cs() {
	local u rest
	read -r u rest < /proc/uptime
	echo "${u/./}"
}

# The wall clock as it would be without the steps.
true_now() { echo $(( CBD_CLOCK_REAL0 + $(uptime_s) - CBD_CLOCK_UP0 )); }

clock_restore() {
	date -s "@$(true_now)" > /dev/null
}

# clock_step SECONDS: step the wall clock (may be negative).
clock_step() {
	local to=$(( $(date +%s) + $1 ))
	date -s "@$to" > /dev/null || return 1
	ktap_print_msg "${CBD_CLOCK_WHO:-}wall clock stepped by $1 s to $(date -u '+%Y-%m-%d %H:%M:%S')"
}

# clock_drift: seconds between the wall clock and what it should read
clock_drift() { echo $(( $(date +%s) - $(true_now) )); }

# all_true FILE...: every FILE reads true.
all_true() {
	local f
	for f in "$@"; do
		[ "$(cat "$f" 2>/dev/null)" = true ] ||
			{ ktap_print_msg "$f reads '$(cat "$f" 2>/dev/null)'"; return 1; }
	done
}

# The kernel log since the mark says nothing is dead.
no_dead_in_log() {
	local l
	l=$(cbd_dmesg_since_mark | grep -i dead) || return 0
	ktap_print_msg "kernel log: $(echo "$l" | head -3)"
	return 1
}

# watch_alive OUT FILE...: until killed, append "uptime_cs file value" to
# OUT for every poll that reads anything but true (builtins only, so
# that the poll costs a one-CPU guest little).
watch_alive() {
	local out=$1 f v
	shift
	while :; do
		for f in "$@"; do
			v=
			read -r v 2>/dev/null < "$f"
			[ "$v" = true ] || echo "$(uptime_cs) $f '$v'" >> "$out"
		done
		sleep 0.2
	done
}
