#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": boot one VM (2 vCPUs, NVDIMM pmem, a 1G virtio disk with
# cache=unsafe) and run bench_guest.sh: fio 4K randread/randwrite at
# iodepth 1 and 16 on /dev/cbd0 (no cache), the disk, a loop device
# (--direct-io=on) and nbd over loopback, interleaved over several rounds.
#
# "make bench-cache" (BENCH=cache): the same VM with a 4G NVDIMM, a second
# one (PMEM2_SIZE=7296M) and a 4G disk runs bench_cache_guest.sh: fio 4K
# randwrite/randread at iodepth 1 with 1 and 2 jobs on a cached cbd, cbd
# without cache, raw pmem, dm-writecache and bcache, over dm-delay (1 ms)
# backing devices; see bench_cache_guest.sh.
#
# BENCH=cache-sustain: the sustained jobs of bench_cache_guest.sh
# (BENCH_SUSTAIN=1: 60 s random writes over 0.5x and 2x of 512 MiB caches
# on cbd, dm-writecache and bcache), 2G NVDIMMs, a 4G disk.  "make
# bench-cache" runs BENCH=cache, then BENCH=cache-sustain.
#
# Not part of "make test": it checks no behaviour, and its speed targets
# are reported, not enforced.
#
# vm.sh variables apply (PMEM= defaults to nvdimm here, SMP=2, DISKS=1G,
# ...); BENCH_RUNTIME=10, BENCH_RAMP=2, BENCH_ROUNDS=3, BENCH_DEVS,
# BENCH_SIZE, BENCH_QUEUES (see bench_guest.sh); for BENCH=cache instead
# of the last three BENCH_CACHE_MIB, BENCH_WSET_MIB, BENCH_DELAY_MS,
# BENCH_BS, BENCH_NUMJOBS, BENCH_CONFIGS, BENCH_RW, BENCH_DRAIN (see
# bench_cache_guest.sh).  Expects cbd.ko to be built.  The host's load
# average is printed before and after: other work on the machine (other
# guests) skews the numbers.

set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
BENCH=${BENCH:-paths}
PMEM=${PMEM:-nvdimm}
SMP=${SMP:-2}
if [ "$BENCH" = cache-sustain ]; then
	BENCH_RUNTIME=${BENCH_RUNTIME:-60}
else
	BENCH_RUNTIME=${BENCH_RUNTIME:-10}
fi
BENCH_RAMP=${BENCH_RAMP:-2}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
export BENCH_RUNTIME BENCH_RAMP BENCH_ROUNDS
# vm.sh hands only BENCH_RUNTIME to the guest (run.conf); the others go on
# the kernel command line, which passes unknown NAME=value to init's
# environment (no spaces: lists are given with commas).
kargs="BENCH_RAMP=$BENCH_RAMP BENCH_ROUNDS=$BENCH_ROUNDS"
case "$BENCH" in
paths)
	GUEST=bench_guest.sh
	DISKS=${DISKS:-1G}
	vars="BENCH_DEVS BENCH_SIZE BENCH_QUEUES"
	# 4 devices x 4 workloads per round, plus setup and page cache drops
	jobs=16 job_extra=8
	;;
cache)
	GUEST=bench_cache_guest.sh
	DISKS=${DISKS:-4G}
	# the transport with a 3584 MiB cache; the two other caches of the
	# same size and the raw range on the second pmem
	PMEM_SIZE=${PMEM_SIZE:-4G}
	PMEM2_SIZE=${PMEM2_SIZE:-7296M}
	vars="BENCH_CACHE_MIB BENCH_WRITE_MIB BENCH_WSET_MIB BENCH_DELAY_MS BENCH_BS BENCH_NUMJOBS BENCH_CONFIGS BENCH_RW BENCH_DRAIN"
	# 5 configurations x 4 workloads per round; warm-up, drain, setup
	jobs=20 job_extra=40
	;;
cache-sustain)
	GUEST=bench_cache_guest.sh
	DISKS=${DISKS:-4G}
	# 512 MiB caches: the transport, and two on the second pmem
	PMEM_SIZE=${PMEM_SIZE:-2G}
	PMEM2_SIZE=${PMEM2_SIZE:-2G}
	kargs+=" BENCH_SUSTAIN=1"
	vars="BENCH_CACHE_MIB BENCH_DELAY_MS BENCH_BS BENCH_NUMJOBS BENCH_CONFIGS BENCH_SUSTAIN_WSETS"
	# 3 configurations x 4 workloads per round; drain, setup
	jobs=12 job_extra=60
	;;
*)
	echo "bench.sh: BENCH must be paths, cache or cache-sustain (got '$BENCH')" >&2
	exit 2
	;;
esac
for v in $vars; do
	[ -z "${!v:-}" ] || kargs+=" $v=$(tr ' ' ',' <<<"${!v}")"
done
VM_KARGS_EXTRA="${VM_KARGS_EXTRA:+$VM_KARGS_EXTRA }$kargs"
# shellcheck source=vm.sh
. "$DIR/vm.sh"
vm_defaults
vm_quiet_lock -x
TEST_TIMEOUT=${BENCH_TIMEOUT:-$(( 300 + BENCH_ROUNDS * jobs * (BENCH_RUNTIME + BENCH_RAMP + job_extra) ))}

host_load() {
	printf 'host: %s: load average %s (1/5/15 min) on %s CPUs; %s QEMU processes running\n' \
		"$1" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" \
		"$(pgrep -c qemu-system 2>/dev/null || echo 0)"
}

echo "CBD benchmark ($BENCH): QEMU TCG guest, $SMP vCPUs, ${MEM} RAM, $PMEM pmem ($PMEM_SIZE${PMEM2_SIZE:+, second pmem $PMEM2_SIZE}), virtio disk ${DISKS} (cache=unsafe, aio=threads)"
echo "driver: $(git -C "$VM_REPO" describe --always --dirty 2>/dev/null || echo unknown)$(
	d=$(git -C "$VM_REPO" diff --name-only -- '*.c' '*.h' 2>/dev/null | grep -v / | tr '\n' ' ')
	[ -z "$d" ] || echo ", uncommitted changes in: $d")"
host_load "before"
# the 1-minute load average every 30 s while the guest runs
LOADS=$(mktemp)
(while sleep 30; do cut -d' ' -f1 /proc/loadavg; done > "$LOADS") &
SAMPLER=$!
rc=0
VM_NAME=bench-$BENCH VM_PLAIN=1 vm_run "$GUEST" || rc=1
kill "$SAMPLER" 2>/dev/null || true
host_load "after"
sort -g "$LOADS" | awk '{v[NR] = $1} END {if (NR) printf "host: load average during the run: min %s, median %s, max %s (%d samples)\n", v[1], v[int((NR + 1) / 2)], v[NR], NR}'
rm -f "$LOADS"
exit "$rc"
