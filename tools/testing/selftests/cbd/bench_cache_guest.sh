#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cache benchmark inside the VM ("make bench-cache", or as root on a real
# machine with CBD_PMEM=, CBD_PMEM2= and CBD_DISK= set): fio 4K random
# write and random read at iodepth 1 with 1 and 2 jobs (O_DIRECT, libaio,
# time based, with a ramp) on five configurations, each over its own
# dm-delay device (BENCH_DELAY_MS=1 on reads, writes and flushes) on its
# own 1/4 of $CBD_DISK, so that a cache matters:
#
#   cbdc    /dev/cbdN: backend with cache_size=$BENCH_CACHE_MIB, 2 queues,
#           transport on $CBD_PMEM
#   cbd     /dev/cbdM: backend without cache, 2 queues, same transport
#   raw     $CBD_PMEM2 itself (a range after the two caches below)
#   dmwc    dm-writecache in pmem mode (4 KiB blocks, default watermarks),
#           cache: a dm-linear slice of $CBD_PMEM2 ($BENCH_CACHE_MIB)
#   bcache  /dev/bcache0 in writeback mode (4 KiB blocks, 512 KiB buckets,
#           sequential_cutoff=0), cache: the next slice of $CBD_PMEM2
#
# Layout: the cbd transport needs a whole pmem device, so the other three
# live on a second one of the same kind (PMEM2; both are NVDIMMs backed by
# files in /dev/shm in the VM).  dm-writecache needs DAX on its cache
# device: dm-linear over pmem passes DAX through, and dm-writecache only
# maps it once, so the slice costs nothing per I/O; bcache does block I/O
# to its cache device, through dm-linear (a remap, no copy).  The three
# caches get the same size.
#
# Working set: every job uses the first $BENCH_WSET_MIB MiB of its device
# (raw: of its range), which fits in each cache many times over.  cbd's
# cache is a log, though: every write takes new room, so what has to fit
# is the bytes a job writes, and a 4 KiB write job at 40k IOPS writes
# 160 MB/s.  A random write job therefore stops after $BENCH_WRITE_MIB
# MiB in all (default 40 % of the cache, split between the jobs; the
# ramp counts) or after the runtime, whichever comes first, in every
# configuration alike: the IOPS are those of a cache that has room, the
# case a write-back cache is sized for.  40 % stays below the point where
# cbd's writeback starts under load (half of gc_percent, 45 % here).
# Before every job (whatever its configuration) cbd's writeback is
# drained (sync; dirty_bytes == 0), so that no writeback of an earlier
# job runs during it; before a cbdc job GC empties the cache (gc_percent
# 0 until used_segs stops falling), then gc_percent is 90 for the job.
# The used_segs column shows start-max/segments of each cbdc job.
# dm-writecache overwrites in place (64 MiB of blocks, far below its 50 %
# high watermark: no writeback); bcache gets writeback_percent 40, so
# that the 64 MiB it holds dirty stay below its writeback target.
#
# Random reads run on a warm cache: before each randread job the working
# set is written once (sequential, 128 KiB, iodepth 4; for cbdc after the
# emptying above, then drained), so every read is a hit in the three
# caches; the hit ratio cbd and dm-writecache count for the job is
# printed to prove it (bcache folds its counters into stats_total only
# every ~14 s: its totals are printed at the end).  The cbd and raw
# configurations have no cache; the same warm-up runs on them.
#
# The configurations are interleaved: each round runs every workload on
# every configuration, the order rotating from round to round.  The table
# gives the median of the rounds and the ratios named as targets:
# cached randwrite IOPS vs dm-writecache (>= 1.0) and vs bcache (>= 2.5),
# cached randwrite mean latency vs raw pmem (<= 2.0), at 1 and 2 jobs.
#
# Note on dm-delay: with delays under 50 ms it hands bios to a kthread that
# polls (cond_resched loop) while any bio is delayed, so every
# configuration that has backing I/O in flight keeps one vCPU busy.
#
# Sustained mode (BENCH_SUSTAIN=1, "make bench-cache" runs it after the
# jobs above, in a second VM): 4 KiB random writes for BENCH_RUNTIME
# (default 60) seconds, time based, no cap, over working sets of 0.5x and
# 2x the cache (BENCH_SUSTAIN_WSETS=0.5,2), 1 and 2 jobs, on cbdc, dmwc
# and bcache with small caches (BENCH_CACHE_MIB default 512), so that
# what a job writes is many times the cache and every cache has to write
# back while it runs.  cbd keeps its default gc_percent (70) during these
# jobs.  Reported per job besides IOPS and latency percentiles: fio's
# maximum latency; for cbdc the writer stalls (write_stalls and
# write_stall_us of cache/stats) during the job, the writeback rate
# during the job (writeback_bytes / runtime) and while draining after it
# (the drain is timed), and at the end write_stall_max_us.  Targets
# (median of the rounds): cbdc/dmwc IOPS >= 1.0 on the 2x jobs, p99.9 <=
# 10 x p50, no writer stall > 100 ms.
#
# BENCH_RUNTIME=10, BENCH_RAMP=2, BENCH_ROUNDS=3, BENCH_CACHE_MIB=3584,
# BENCH_WRITE_MIB=(40 % of the cache), BENCH_WSET_MIB=64, BENCH_DELAY_MS=1, BENCH_BS=4k, BENCH_NUMJOBS=1,2,
# BENCH_CONFIGS=cbdc,cbd,raw,dmwc,bcache (lists: commas or spaces),
# BENCH_RW=randwrite,randread, BENCH_DRAIN=1 (0: neither drain nor empty
# cbd's cache between jobs; for experiments with a backing disk too slow
# to drain, e.g. BENCH_DELAY_MS=1000 BENCH_RW=randwrite).
# Exit status 0 when every job ran; missed targets are reported, not failed.

. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"
. "$(dirname "$0")/bench_lib.sh"

SUSTAIN=${BENCH_SUSTAIN:-0}
if [ "$SUSTAIN" = 1 ]; then
	RUNTIME=${BENCH_RUNTIME:-60}
	CACHE_MIB=${BENCH_CACHE_MIB:-512}
	CONFIGS=${BENCH_CONFIGS:-cbdc,dmwc,bcache}
	GC_PERCENT_JOB=70
else
	RUNTIME=${BENCH_RUNTIME:-10}
	CACHE_MIB=${BENCH_CACHE_MIB:-3584}
	CONFIGS=${BENCH_CONFIGS:-cbdc,cbd,raw,dmwc,bcache}
	GC_PERCENT_JOB=90
fi
SUSTAIN_WSETS=${BENCH_SUSTAIN_WSETS:-0.5,2}
RAMP=${BENCH_RAMP:-2}
ROUNDS=${BENCH_ROUNDS:-3}
WRITE_MIB=${BENCH_WRITE_MIB:-$((CACHE_MIB * 40 / 100))}
WSET_MIB=${BENCH_WSET_MIB:-64}
DELAY_MS=${BENCH_DELAY_MS:-1}
BS=${BENCH_BS:-4k}
NUMJOBS=${BENCH_NUMJOBS:-1,2}
NUMJOBS=${NUMJOBS//,/ }
CONFIGS=${CONFIGS//,/ }
DRAIN=${BENCH_DRAIN:-1}
PMEM2=${CBD_PMEM2:-/dev/pmem1}
QUEUES=2
RWS=${BENCH_RW:-randwrite,randread}
WORKLOADS=""
for nj in $NUMJOBS; do
	if [ "$SUSTAIN" = 1 ]; then
		for f in ${SUSTAIN_WSETS//,/ }; do
			WORKLOADS+=" sustain${f}x-j$nj"
		done
		continue
	fi
	for rw in ${RWS//,/ }; do
		WORKLOADS+=" $rw-j$nj"
	done
done
# config workload round iops mean_us p50_us p99_us p99.9_us cpu% hit% drain_s used_segs
#   lat_max_us stalls stall_ms wb_job_MBps wb_drain_MBps
RES=/tmp/bench-cache.res
declare -A DEV OFF	# config -> block device, byte offset of the working set
CBDC_BACKEND="" CBD_UP=0 BCACHE_CSET="" RC=0

say() { echo "# $*"; }
mib() { cbd_dev_mib "$1"; }

# ---------------------------------------------------------------- setup

# No udev in the VM: libdevmapper makes the /dev/mapper nodes itself.
export DM_DISABLE_UDEV=1

dm_create() {
	local name=$1 table=$2 err
	err=$(dmsetup create "$name" --table "$table" 2>&1) ||
		{ say "dmsetup create $name '$table': $err"; return 1; }
	dmsetup mknodes "$name" >/dev/null 2>&1
	cbd_wait_for 5 test -b "/dev/mapper/$name" ||
		{ say "/dev/mapper/$name did not appear"; return 1; }
}

# One dm-delay device per configuration that has a backing disk, each on
# its own quarter of the disk: every one of them needs the disk for itself
# (bcache's superblock, exclusive opens).
setup_delays() {
	local quarter i=0 c
	modprobe -a dm-mod dm-delay dm-writecache bcache || return 1
	quarter=$(( $(blockdev --getsz "$CBD_DISK") / 4 ))
	for c in cbdc cbd dmwc bcache; do
		dm_create "dly-$c" "0 $quarter delay $CBD_DISK $((i * quarter)) $DELAY_MS" || return 1
		i=$((i + 1))
	done
	say "backing: 4 dm-delay devices (delay $DELAY_MS ms on reads, writes, flushes), $((quarter / 2048)) MiB each on $CBD_DISK"
}

setup_pmem2() {
	local s2 cache=$((CACHE_MIB * 2048)) need
	s2=$(blockdev --getsz "$PMEM2") || return 1
	need=$(( 2 * cache + WSET_MIB * 2048 ))
	[ "$s2" -ge "$need" ] ||
		{ say "$PMEM2 has $((s2 / 2048)) MiB, needs $((need / 2048)) (2 x cache + working set)"; return 1; }
	dm_create pmem-wc "0 $cache linear $PMEM2 0" || return 1
	dm_create pmem-bc "0 $cache linear $PMEM2 $cache" || return 1
	DEV[raw]=$PMEM2
	OFF[raw]=$(( 2 * cache * 512 ))
	say "$PMEM2 ($((s2 / 2048)) MiB, dax=$(cat "/sys/block/${PMEM2#/dev/}/queue/dax")): dm-writecache cache [0, $CACHE_MIB) MiB, bcache cache [$CACHE_MIB, $((2 * CACHE_MIB))) MiB, raw working set from $((2 * CACHE_MIB)) MiB"
}

setup_cbd() {
	cbd_module_load || return 1
	cbd_have_bus || { say "cbd: no bus"; return 1; }
	cbd_cleanup_all >/dev/null 2>&1
	cbd_register || return 1
	CBD_UP=1
	if [[ " $CONFIGS " == *" cbdc "* ]]; then
		cbd_backend_start /dev/mapper/dly-cbdc ",cache_size=$CACHE_MIB" || return 1
		CBDC_BACKEND=$CBD_LAST_BACKEND
		cbd_dev_start "$CBDC_BACKEND" "$QUEUES" || return 1
		DEV[cbdc]=/dev/$CBD_LAST_CBD
		say "cbdc: ${DEV[cbdc]}, backend $CBDC_BACKEND on /dev/mapper/dly-cbdc, cache_size=$CACHE_MIB ($(cat "$(cbd_cache_dir "$CBDC_BACKEND")/cache_segs") segments, gc_percent $(cat "$(cbd_cache_dir "$CBDC_BACKEND")/gc_percent")), $QUEUES queues"
	fi
	if [[ " $CONFIGS " == *" cbd "* ]]; then
		cbd_start_pair "$QUEUES" /dev/mapper/dly-cbd || return 1
		DEV[cbd]=/dev/$CBD_LAST_CBD
		say "cbd:  ${DEV[cbd]}, backend $CBD_LAST_BACKEND on /dev/mapper/dly-cbd (no cache), $QUEUES queues"
	fi
	say "cbd transport on $CBD_PMEM ($(mib "$CBD_PMEM") MiB)"
}

setup_dmwc() {
	local sz
	sz=$(blockdev --getsz /dev/mapper/dly-dmwc)
	dm_create dmwc "0 $sz writecache p /dev/mapper/dly-dmwc /dev/mapper/pmem-wc 4096 0" || return 1
	DEV[dmwc]=/dev/mapper/dmwc
	say "dmwc: ${DEV[dmwc]}: $(dmsetup table dmwc | cut -d' ' -f3-)"
}

setup_bcache() {
	local out d
	wipefs -a -q /dev/mapper/pmem-bc /dev/mapper/dly-bcache 2>/dev/null
	out=$(make-bcache --block 4k --bucket 512k --writeback \
		-C /dev/mapper/pmem-bc -B /dev/mapper/dly-bcache 2>&1) ||
		{ say "make-bcache: $out"; return 1; }
	BCACHE_CSET=$(sed -n 's/^Set UUID:[[:space:]]*//p' <<<"$out" | head -1)
	for d in /dev/mapper/pmem-bc /dev/mapper/dly-bcache; do
		echo "$d" > /sys/fs/bcache/register 2>/dev/null ||
			{ say "bcache: register $d failed"; return 1; }
	done
	cbd_wait_for 10 test -b /dev/bcache0 || { say "/dev/bcache0 did not appear"; return 1; }
	d=/sys/block/bcache0/bcache
	cbd_wait_for 10 grep -q . "$d/cache/set_uuid" 2>/dev/null
	echo writeback > "$d/cache_mode"
	echo 0 > "$d/sequential_cutoff"
	echo 40 > "$d/writeback_percent"
	grep -q '\[writeback\]' "$d/cache_mode" ||
		{ say "bcache: cache_mode is $(cat "$d/cache_mode")"; return 1; }
	[ "$(cat "$d/state")" != "no cache" ] || { say "bcache: no cache attached"; return 1; }
	DEV[bcache]=/dev/bcache0
	say "bcache: /dev/bcache0 on /dev/mapper/dly-bcache, cache set $BCACHE_CSET on /dev/mapper/pmem-bc, mode $(cat "$d/cache_mode"), state $(cat "$d/state"), sequential_cutoff $(cat "$d/sequential_cutoff"), writeback_percent $(cat "$d/writeback_percent")"
}

teardown() {
	local rc=0
	if [ "$DRAIN" = 0 ]; then
		# backend-stop and dmsetup remove would write everything back
		say "BENCH_DRAIN=0: devices left as they are (nothing drained)"
		return 0
	fi
	if [ -b /dev/bcache0 ]; then
		echo 1 > /sys/block/bcache0/bcache/stop
		cbd_wait_for 30 test ! -e /sys/block/bcache0 || { say "bcache0 did not stop"; rc=1; }
	fi
	[ -z "$BCACHE_CSET" ] || [ ! -d "/sys/fs/bcache/$BCACHE_CSET" ] ||
		echo 1 > "/sys/fs/bcache/$BCACHE_CSET/stop"
	cbd_wait_for 30 test ! -d "/sys/fs/bcache/$BCACHE_CSET"
	if [ "$CBD_UP" = 1 ]; then
		cbd_cleanup_all || rc=1
	fi
	cbd_module_unload || rc=1
	for d in dmwc pmem-wc pmem-bc dly-cbdc dly-cbd dly-dmwc dly-bcache; do
		[ ! -b "/dev/mapper/$d" ] || dmsetup remove --retry "$d" >/dev/null 2>&1 ||
			{ say "dmsetup remove $d failed"; rc=1; }
	done
	return $rc
}

# ---------------------------------------------------------------- cache state

# hit counters of configuration $1: "hits misses" (empty if no cache)
hit_counts() {
	case "$1" in
	cbdc) echo "$(cbd_cache_stat "$CBDC_BACKEND" hits) $(cbd_cache_stat "$CBDC_BACKEND" misses)" ;;
	dmwc) dmsetup status dmwc | awk '{print $9, $8 - $9}' ;;
	esac
}

# hit_pct "H0 M0" "H1 M1": percentage of hits between the two samples
hit_pct() {
	[ -n "$1" ] || { echo -; return; }
	echo "$1 $2" | awk '{h = $3 - $1; m = $4 - $2; if (h + m > 0) printf "%.0f", 100 * h / (h + m); else print "-"}'
}

# Drain cbd's writeback: nothing written back in the background during
# the next job.  Prints the seconds it took.
drain_cbdc() {
	local t0=$SECONDS
	[ -n "$CBDC_BACKEND" ] && [ "$DRAIN" = 1 ] || { echo 0; return 0; }
	cbd_cache_wait_clean "$CBDC_BACKEND" "${DEV[cbdc]}" 300 >/dev/null ||
		say "cbdc: writeback not drained: dirty_bytes $(cbd_cache_stat "$CBDC_BACKEND" dirty_bytes)" >&2
	echo $((SECONDS - t0))
}

cbdc_used() { cat "$(cbd_cache_dir "$CBDC_BACKEND")/used_segs"; }

# Empty cbd's cache before a cbdc job (after drain_cbdc): GC frees what is
# written back once gc_percent is 0 (it runs every second); then
# gc_percent 90, so that GC does not run during the job unless it fills
# 90 % of the cache.  The data heads and the journal keep a few segments.
empty_cbdc() {
	local d prev=-1 same=0 i
	d=$(cbd_cache_dir "$CBDC_BACKEND")
	echo 0 > "$d/gc_percent"
	for i in $(seq 1 60); do
		[ "$(cbdc_used)" -gt $((QUEUES + 2)) ] || break
		if [ "$(cbdc_used)" = "$prev" ]; then
			same=$((same + 1))
			[ "$same" -lt 4 ] || break
		else
			same=0 prev=$(cbdc_used)
		fi
		sleep 0.5
	done
	echo "$GC_PERCENT_JOB" > "$d/gc_percent"
}

# Sample cbd's used_segs while a job runs: prints the maximum at the end.
sample_cbdc() {
	local max=0 u
	while :; do
		u=$(cbdc_used)
		[ "$u" -le "$max" ] || max=$u
		echo "$max" > /tmp/bench-cache.used
		sleep 1
	done
}

# ---------------------------------------------------------------- jobs

fio_on() {
	local c=$1
	shift
	fio --minimal --filename="${DEV[$c]}" --direct=1 --ioengine=libaio \
		--offset="${OFF[$c]:-0}" --size="${WSET:-$WSET_MIB}M" "$@" 2>&1
}

# job CONFIG WORKLOAD ROUND: one fio run, one line in $RES.
job() {
	local c=$1 wl=$2 round=$3 rw nj out nums b0 t0 b1 t1 h0 h1 drain sampler=
	local used=- limit wset=$WSET_MIB extra="- - - - -"
	rw=${wl%-j*} nj=${wl#*-j}
	if [[ "$rw" == sustain* ]]; then
		wset=$(awk -v f="${rw#sustain}" -v c="$CACHE_MIB" 'BEGIN {printf "%d", f * c}')
		rw=randwrite
	fi
	drain=$(drain_cbdc)
	[ "$c" != cbdc ] || [ "$DRAIN" = 0 ] || empty_cbdc
	if [ "$rw" = randread ]; then
		out=$(fio_on "$c" --name=warm --rw=write --bs=128k --iodepth=4) ||
			{ say "warm-up of $c failed: $(tail -1 <<<"$out")"; return 1; }
		drain=$((drain + $(drain_cbdc)))
	fi
	sync
	echo 3 > /proc/sys/vm/drop_caches
	# (cbd's stats wait for a writeback pass to end: read them only here)
	[ "$rw" != randread ] || h0=$(hit_counts "$c")
	if [ "$c" = cbdc ]; then
		used=$(cbdc_used)
		sample_cbdc &
		sampler=$!
	fi
	# writes: at most WRITE_MIB in all (see the top), reads and sustained
	# writes: time based
	[ "$c" != cbdc ] || cbdc_sample_begin
	if [ "$rw" = randread ] || [ "$wset" != "$WSET_MIB" ]; then
		limit=(--time_based)
	else
		limit=(--io_size="$((WRITE_MIB / nj))M")
	fi
	read -r b0 t0 <<<"$(cpu_ticks)"
	out=$(WSET=$wset fio_on "$c" --name="$c-$wl" --rw="$rw" --bs="$BS" --iodepth=1 \
		--numjobs="$nj" --group_reporting --runtime="$RUNTIME" \
		--ramp_time="$RAMP" "${limit[@]}" --randrepeat=0 --norandommap \
		--lat_percentiles=1 --clat_percentiles=0 --percentile_list=50:99:99.9) ||
		{ say "fio $c $wl failed: $(tail -1 <<<"$out")"; [ -z "$sampler" ] || kill "$sampler"; return 1; }
	read -r b1 t1 <<<"$(cpu_ticks)"
	[ "$rw" != randread ] || h1=$(hit_counts "$c")
	if [ -n "$sampler" ]; then
		kill "$sampler"
		wait "$sampler" 2>/dev/null
		used="$used-$(cat /tmp/bench-cache.used)/$(cat "$(cbd_cache_dir "$CBDC_BACKEND")/cache_segs")"
	fi
	# percentiles of the total latency: a write to a cache completes
	# inside io_submit(), where the completion latency would miss it
	nums=$(bench_terse "$rw" <<<"$out") ||
		{ say "fio $c $wl: no terse output: $(tail -1 <<<"$out")"; return 1; }
	if [ "$wset" != "$WSET_MIB" ]; then
		extra="$(bench_terse_lat_max "$rw" <<<"$out") $([ "$c" = cbdc ] && cbdc_sample_end || echo "- - - -")"
	fi
	echo "$c $wl $round $nums $(( t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0 ))" \
		"$([ "$rw" = randread ] && hit_pct "$h0" "$h1" || echo -) $drain $used $extra" >> "$RES"
	tail -1 "$RES" | awk '{printf "#   round %s %-6s %-12s %6d IOPS  mean %8.1f us  p50/p99/p99.9 %s/%s/%s us  cpu %3d%%  hits %s%%  drained %ss  used_segs %s", $3, $1, $2, $4, $5, $6, $7, $8, $9, $10, $11, $12}
		$13 != "-" {printf "  max %s us", $13}
		$14 != "-" {printf "  stalls %s (%s ms)  writeback %s MB/s in the job, %s MB/s draining", $14, $15, $16, $17}
		{printf "\n"}'
}

# cbd's stall and writeback counters around a sustained job
cbdc_sample_begin() {
	CBDC_S0="$(cbd_cache_stat "$CBDC_BACKEND" write_stalls) $(cbd_cache_stat "$CBDC_BACKEND" write_stall_us) $(cbd_cache_stat "$CBDC_BACKEND" writeback_bytes) $SECONDS"
}

# after the job: "stalls stall_ms wb_job_MBps wb_drain_MBps"; drains
cbdc_sample_end() {
	local s0 us0 wb0 t0 s1 us1 wb1 t1 wb2 t2
	read -r s0 us0 wb0 t0 <<<"$CBDC_S0"
	s1=$(cbd_cache_stat "$CBDC_BACKEND" write_stalls)
	us1=$(cbd_cache_stat "$CBDC_BACKEND" write_stall_us)
	wb1=$(cbd_cache_stat "$CBDC_BACKEND" writeback_bytes) t1=$SECONDS
	cbd_cache_wait_clean "$CBDC_BACKEND" "${DEV[cbdc]}" 600 >/dev/null
	wb2=$(cbd_cache_stat "$CBDC_BACKEND" writeback_bytes) t2=$SECONDS
	awk -v s="$((s1 - s0))" -v us="$((us1 - us0))" -v j="$((wb1 - wb0))" -v tj="$((t1 - t0))" \
		-v d="$((wb2 - wb1))" -v td="$((t2 - t1))" 'BEGIN {
		# (parentheses: a bare ">" in a printf list is a redirection)
		printf "%d %.0f %.1f %s\n", s, us / 1000, (tj > 0 ? j / tj / 1e6 : 0),
			(td > 0 ? sprintf("%.1f", d / td / 1e6) : "-") }'
}

# ---------------------------------------------------------------- report

# col() fields in $RES: 4 iops, 5 mean, 6 p50, 7 p99, 8 p99.9, 9 cpu,
# 10 hit%, 11 drain seconds, 12 used_segs (cbdc)

# verdict RATIO OP LIMIT
verdict() {
	awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (r == "-") { print "n/a"; exit }
		ok = (op == ">=") ? r >= l : r <= l
		print ok ? "met" : "MISSED" }'
}

# sustained jobs: the table with maximum latency and cbd's counters, the
# targets of the sustained jobs
report_sustain() {
	local wl c nj r p50 p999 f
	echo "#"
	echo "# sustained $BS random writes, fio libaio O_DIRECT iodepth 1 per job, ${RUNTIME}s (+${RAMP}s ramp) time based, $ROUNDS rounds,"
	echo "# working sets ${SUSTAIN_WSETS//,/ }x the caches (${CACHE_MIB} MiB each), backing disks dm-delay ${DELAY_MS} ms; cbd gc_percent $GC_PERCENT_JOB;"
	echo "# median of the rounds; max = largest fio total latency of the rounds; stalls, writeback: cbdc only (medians)"
	printf '# %-15s %-6s %7s %15s %8s %8s %9s %10s %7s %9s %9s %9s\n' workload config IOPS '(min-max)' 'p50(us)' 'p99(us)' 'p99.9(us)' 'max(us)' stalls 'stall ms' 'wb MB/s' 'drain MB/s'
	for wl in $WORKLOADS; do
		for c in $CONFIGS; do
			printf '# %-15s %-6s %7.0f %15s %8s %8s %9s %10s %7s %9s %9s %9s\n' "$wl" "$c" \
				"$(col "$c" "$wl" 4 | median)" \
				"($(col "$c" "$wl" 4 | sort -g | head -1)-$(col "$c" "$wl" 4 | sort -g | tail -1))" \
				"$(col "$c" "$wl" 6 | median)" "$(col "$c" "$wl" 7 | median)" \
				"$(col "$c" "$wl" 8 | median)" "$(col "$c" "$wl" 13 | sort -g | tail -1)" \
				"$(col "$c" "$wl" 14 | grep -v -- - | median | sed 's/^nan$/-/')" \
				"$(col "$c" "$wl" 15 | grep -v -- - | median | sed 's/^nan$/-/')" \
				"$(col "$c" "$wl" 16 | grep -v -- - | median | sed 's/^nan$/-/')" \
				"$(col "$c" "$wl" 17 | grep -v -- - | median | sed 's/^nan$/-/')"
		done
	done
	echo "#"
	echo "# targets (median of the rounds):"
	for nj in $NUMJOBS; do
		for f in ${SUSTAIN_WSETS//,/ }; do
			wl=sustain${f}x-j$nj
			r=$(ratio "$(col cbdc "$wl" 4 | median)" "$(col dmwc "$wl" 4 | median)")
			if [ "$f" = 2 ]; then
				printf '#   %-15s cbdc/dmwc IOPS %5s (>= 1.0: %s)\n' "$wl" "$r" "$(verdict "$r" '>=' 1.0)"
			else
				printf '#   %-15s cbdc/dmwc IOPS %5s\n' "$wl" "$r"
			fi
			p50=$(col cbdc "$wl" 6 | median) p999=$(col cbdc "$wl" 8 | median)
			r=$(ratio "$p999" "$p50")
			printf '#   %-15s cbdc p99.9/p50  %5s (<= 10: %s)\n' "$wl" "$r" "$(verdict "$r" '<=' 10)"
		done
	done
	r=$(cbd_cache_stat "$CBDC_BACKEND" write_stall_max_us)
	printf '#   longest cbdc writer stall %s us (<= 100000: %s)\n' "$r" "$(verdict "${r:--}" '<=' 100000)"
}

report() {
	local wl c iops lo hi nj r
	if [ "$SUSTAIN" = 1 ]; then
		report_sustain
		return
	fi
	echo "#"
	echo "# $BS random I/O, fio libaio O_DIRECT iodepth 1 per job, ${RUNTIME}s (+${RAMP}s ramp) per job (writes: or $WRITE_MIB MiB), $ROUNDS rounds,"
	echo "# working set ${WSET_MIB} MiB per device, caches ${CACHE_MIB} MiB, backing disks dm-delay ${DELAY_MS} ms;"
	echo "# median of the rounds (IOPS min-max in brackets), mean, p50/p99/p99.9 = fio total latency (submit to completion),"
	echo "# hit% = read hits the cache counted during the job (median)"
	printf '# %-12s %-6s %8s %15s %9s %7s %7s %8s %5s %5s\n' workload config IOPS '(min-max)' 'mean(us)' 'p50(us)' 'p99(us)' 'p99.9(us)' cpu% hit%
	for wl in $WORKLOADS; do
		for c in $CONFIGS; do
			iops=$(col "$c" "$wl" 4 | median)
			lo=$(col "$c" "$wl" 4 | sort -g | head -1)
			hi=$(col "$c" "$wl" 4 | sort -g | tail -1)
			printf '# %-12s %-6s %8.0f %15s %9.1f %7s %7s %8s %5.0f %5s\n' "$wl" "$c" "$iops" \
				"($lo-$hi)" "$(col "$c" "$wl" 5 | median)" "$(col "$c" "$wl" 6 | median)" \
				"$(col "$c" "$wl" 7 | median)" "$(col "$c" "$wl" 8 | median)" \
				"$(col "$c" "$wl" 9 | median)" "$(col "$c" "$wl" 10 | grep -v -- - | median | sed 's/^nan$/-/')"
		done
	done
	echo "#"
	echo "# targets (median of the rounds):"
	for nj in $NUMJOBS; do
		wl=randwrite-j$nj
		r=$(ratio "$(col cbdc "$wl" 4 | median)" "$(col dmwc "$wl" 4 | median)")
		printf '#   %-12s cbdc/dmwc IOPS    %5s (>= 1.0: %s)\n' "$wl" "$r" "$(verdict "$r" '>=' 1.0)"
		r=$(ratio "$(col cbdc "$wl" 4 | median)" "$(col bcache "$wl" 4 | median)")
		printf '#   %-12s cbdc/bcache IOPS  %5s (>= 2.5: %s)\n' "$wl" "$r" "$(verdict "$r" '>=' 2.5)"
		r=$(ratio "$(col cbdc "$wl" 5 | median)" "$(col raw "$wl" 5 | median)")
		printf '#   %-12s cbdc/raw mean lat %5s (<= 2.0: %s)\n' "$wl" "$r" "$(verdict "$r" '<=' 2.0)"
	done
	echo "# per-round ratios cbdc/dmwc, cbdc/bcache (IOPS), cbdc/raw (mean latency), randwrite:"
	for nj in $NUMJOBS; do
		wl=randwrite-j$nj
		for r in $(seq 1 "$ROUNDS"); do
			awk -v w="$wl" -v r="$r" '$2 == w && $3 == r {i[$1] = $4; m[$1] = $5}
				END {printf "#   %-12s round %s: %s %s %s\n", w, r,
					i["cbdc"] && i["dmwc"] ? sprintf("%.2f", i["cbdc"] / i["dmwc"]) : "-",
					i["cbdc"] && i["bcache"] ? sprintf("%.2f", i["cbdc"] / i["bcache"]) : "-",
					m["cbdc"] && m["raw"] ? sprintf("%.2f", m["cbdc"] / m["raw"]) : "-"}' "$RES"
		done
	done
}

# ---------------------------------------------------------------- main

cbd_require_root
cbd_require_pmem
cbd_require_disk
cbd_pmem_is_dax "$PMEM2" || ktap_exit_skip "no DAX-capable second pmem at $PMEM2 (set CBD_PMEM2=, PMEM2_SIZE= in the VM)"
for t in dmsetup make-bcache fio; do
	command -v "$t" >/dev/null || ktap_exit_skip "$t not installed"
done
say "CBD cache benchmark: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo) RAM, kernel $(uname -r)"
say "disk: $CBD_DISK ($(mib "$CBD_DISK") MiB); pmem: $CBD_PMEM ($(mib "$CBD_PMEM") MiB, cbd transport), $PMEM2 ($(mib "$PMEM2") MiB, the other caches and raw)"
say "layout: the cbd transport needs all of $CBD_PMEM, so dm-writecache, bcache and raw use $PMEM2, a pmem of the same kind;"
say "  all configurations are set up side by side and interleaved job by job, nothing is re-registered between jobs"
say "working set: ${WSET_MIB} MiB per device, caches ${CACHE_MIB} MiB each;"
say "  randwrite: cbd's log must hold all a job writes: a write job stops after $WRITE_MIB MiB (all configurations);"
say "  cbd's writeback is drained before every job, its cache emptied"
say "  before each cbdc job and gc_percent 90 during it (used_segs start-max below); dm-writecache and bcache hold"
say "  the ${WSET_MIB} MiB below their writeback thresholds"
say "  randread: warm, the ${WSET_MIB} MiB are written just before each randread job, so reads are cache hits (hits% below)"
setup_delays && setup_pmem2 || RC=1
if [ "$RC" = 0 ] && [[ " $CONFIGS " == *" cbd"* ]]; then
	setup_cbd || RC=1
fi
for c in dmwc bcache; do
	[ "$RC" = 0 ] && [[ " $CONFIGS " == *" $c "* ]] || continue
	"setup_$c" || RC=1
done
[ "$RC" = 0 ] || say "setup failed"
if [ "$RC" = 0 ]; then
	: > "$RES"
	# shellcheck disable=SC2086
	bench_rounds "$ROUNDS" "$WORKLOADS" $CONFIGS || RC=1
	# (stats wait for the writeback pass, which BENCH_DRAIN=0 may not end)
	[ -z "$CBDC_BACKEND" ] || [ "$DRAIN" = 0 ] ||
		say "cbdc cache at the end: $(tr '\n' ' ' < "$(cbd_cache_dir "$CBDC_BACKEND")/stats")used_segs $(cat "$(cbd_cache_dir "$CBDC_BACKEND")/used_segs")"
	[ ! -b /dev/mapper/dmwc ] || say "dmwc status at the end: $(dmsetup status dmwc)"
	if [ -b /dev/bcache0 ]; then
		# bcache folds its counters into stats_total every ~14 s
		sleep 15
		b=/sys/block/bcache0/bcache
		say "bcache at the end: dirty_data $(cat $b/dirty_data), stats_total: $(for f in cache_hits cache_misses cache_bypass_hits cache_bypass_misses; do printf '%s %s ' $f "$(cat $b/stats_total/$f)"; done)"
	fi
	report
fi
teardown || { say "teardown failed"; RC=1; }
exit $RC
