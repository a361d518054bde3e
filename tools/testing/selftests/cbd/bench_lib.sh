#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the benchmark guest scripts (bench_guest.sh,
# bench_cache_guest.sh).  $RES is the results file of the caller: one
# line per job, "NAME WORKLOAD ROUND" followed by the numbers.

# Busy and total jiffies of all CPUs.
cpu_ticks() {
	awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat
}

# bench_terse RW: read fio's terse (v3) output on stdin, print "IOPS MEAN
# P50 P99 P99.9" of its last job for RW (randread: the read fields, else
# the write fields): read iops $8, total latency mean $40 (usec),
# percentiles $18..$37 ("99.000000%=usec"); write: the same + 41.  The
# percentiles are those fio printed (completion latency unless the job
# ran with --lat_percentiles=1 --clat_percentiles=0); "?" if missing.
# Fails if there is no terse line.
bench_terse() {
	local line
	line=$(grep '^3;' | tail -1)
	[ -n "$line" ] || return 1
	awk -F';' -v o="$([ "$1" = randread ] && echo 0 || echo 41)" '{
		p50 = p99 = p999 = "?"
		for (i = 18 + o; i <= 37 + o; i++) {
			if (index($i, "50.000000%=") == 1) p50 = substr($i, 12)
			if (index($i, "99.000000%=") == 1) p99 = substr($i, 12)
			if (index($i, "99.900000%=") == 1) p999 = substr($i, 12)
		}
		printf "%d %.1f %s %s %s\n", $(8 + o), $(40 + o), p50, p99, p999
	}' <<<"$line"
}

# bench_terse_lat_max RW: the maximum total latency (usec) of the last
# job in fio's terse output on stdin ($39, +41 for writes)
bench_terse_lat_max() {
	grep '^3;' | tail -1 |
		awk -F';' -v o="$([ "$1" = randread ] && echo 0 || echo 41)" '{printf "%d\n", $(39 + o)}'
}

# median of the numbers on stdin ("nan" if none)
median() {
	sort -g | awk '{v[NR] = $1} END {
		if (!NR) { print "nan"; exit }
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# col NAME WORKLOAD FIELD: values of FIELD of NAME's WORKLOAD jobs in $RES
col() {
	awk -v n="$1" -v w="$2" -v f="$3" '$1 == n && $2 == w {print $f}' "$RES"
}

# ratio A B: A / B with two decimals, "-" if B is 0 or A is "nan"
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 > 0 && a != "nan") printf "%.2f", a / b; else print "-"}'
}

# bench_rounds ROUNDS "WORKLOADS" NAME...: run "job NAME WORKLOAD ROUND"
# (the caller's function) for every workload and name, ROUNDS times, the
# order of the names rotating by one per round, so that drift and noise
# hit all of them alike.  Fails if a job failed.
bench_rounds() {
	local rounds=$1 wls=$2 round order wl n i j rc=0
	shift 2
	n=$#
	for round in $(seq 1 "$rounds"); do
		order=()
		for i in $(seq 0 $((n - 1))); do
			j=$(( (i + round - 1) % n + 1 ))
			order+=("${!j}")
		done
		echo "# round $round/$rounds: ${order[*]}"
		for wl in $wls; do
			for i in "${order[@]}"; do
				job "$i" "$wl" "$round" || rc=1
			done
		done
	done
	return $rc
}
