#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Repeated full cycles leak nothing:
# the module unloads after a full cycle with no taint beyond O+E; then
# CBD_CYCLES (default 20) x (register, backend-start, dev-start, write +
# verify, dev-stop, backend-stop, unregister) keep the slab usage flat:
# no slab cache with "cbd" in its name grows, and SUnreclaim grows by at
# most CBD_SLAB_TOL_KB (default 1024 kB) between cycle 2 and the last
# (after dropping caches; 1 MiB covers per-cpu and kmalloc noise of a
# busy initramfs while a per-cycle leak of one workqueue, bioset or
# channel struct, x18 cycles, exceeds it).  Finally the module unloads
# again.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

CYCLES=${CBD_CYCLES:-20}
TOL_KB=${CBD_SLAB_TOL_KB:-1024}

cbd_core_begin
cbd_require_disk

PAT=/tmp/cbd-cycle-pat.$$
dd if=/dev/urandom of="$PAT" bs=1M count=1 status=none

# cycle_io OFF_MIB: write 1 MiB through the cbd disk and read it back.
cycle_io() {
	dd if="$PAT" of="/dev/$CBD_LAST_CBD" bs=1M seek="$1" count=1 oflag=direct \
		conv=notrunc status=none &&
		dd if="/dev/$CBD_LAST_CBD" of="$PAT.r" bs=1M skip="$1" count=1 iflag=direct status=none &&
		cmp -s "$PAT" "$PAT.r"
}

# one_cycle N: a full cycle; returns non-zero (with a message) on
# the first step that fails, undoing what it can.
one_cycle() {
	local n=$1 opts="path=$CBD_PMEM,hostname=node-1"
	[ "$n" = 1 ] && opts+=",format=1,force=1"
	cbd_register "$opts" || return 1
	if ! cbd_start_pair 2; then
		cbd_cleanup_all >/dev/null
		return 1
	fi
	local off=$(( (n * 3) % 900 ))
	if ! cycle_io "$off"; then
		ktap_print_msg "cycle $n: write/read-back at ${off}M failed"
		cbd_cleanup_all >/dev/null
		return 1
	fi
	cbd_stop_pair || { cbd_cleanup_all >/dev/null; return 1; }
	cbd_unregister 0
}

cbd_check "cycle 1 (format, start, I/O, stop, unregister)" one_cycle 1
cbd_check "rmmod cbd after a full cycle" cbd_module_unload
cbd_check "taint only O+E after rmmod" cbd_taint_ok
cbd_check "module reloads" cbd_module_load

SNAP0=/tmp/cbd-slab0.$$ SNAP1=/tmp/cbd-slab1.$$
ok=1 t0=$SECONDS
for i in $(seq 2 "$CYCLES"); do
	if ! one_cycle "$i"; then
		ok=0
		ktap_print_msg "cycle $i failed"
		break
	fi
	if [ "$i" = 2 ]; then
		cbd_drop_caches
		cbd_slab_snapshot "$SNAP0"
	fi
done
cbd_check "cycles 2..$CYCLES all succeed ($((SECONDS - t0))s)" test "$ok" = 1
cbd_drop_caches
cbd_slab_snapshot "$SNAP1"

if [ "$ok" = 1 ]; then
	grown=$(cbd_slab_cbd_grown "$SNAP0" "$SNAP1")
	[ -z "$grown" ] || ktap_print_msg "cbd slab caches grew: $(tr '\n' ';' <<<"$grown")"
	cbd_check "no cbd slab cache grew over $((CYCLES - 2)) cycles" test -z "$grown"
	u0=$(cbd_slab_value "$SNAP0" @SUnreclaim_kB) u1=$(cbd_slab_value "$SNAP1" @SUnreclaim_kB)
	ktap_print_msg "SUnreclaim: $u0 kB -> $u1 kB (tolerance $TOL_KB kB)"
	if [ $((u1 - u0)) -gt "$TOL_KB" ]; then
		ktap_print_msg "caches that grew the most:"
		awk 'NR == FNR {a[$1] = $2; next} $1 !~ /^@/ {print $2 - a[$1], $1}' "$SNAP0" "$SNAP1" |
			sort -rn | head -8 | sed 's/^/#   /'
	fi
	cbd_check "SUnreclaim grew <= $TOL_KB kB over $((CYCLES - 2)) cycles ($((u1 - u0)) kB)" \
		test $((u1 - u0)) -le "$TOL_KB"
fi

cbd_check "nothing registered after the cycles" test -z "$(cbd_transport_ids)"
cbd_check "rmmod cbd after $CYCLES cycles" cbd_module_unload
cbd_check "module reloads" cbd_module_load
rm -f "$PAT" "$PAT.r" "$SNAP0" "$SNAP1"

cbd_finish
