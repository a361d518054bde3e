#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cache sysfs (Documentation/ABI/testing/sysfs-bus-cbd): backendN/cache/ with
# cache_segs, used_segs, gc_percent, writeback_depth and stats, the flat
# compat files in backendN/; gc_percent rejects values outside 0..90,
# non-numbers and a NUL inside the write, and keeps its value across
# dev-stop/dev-start and backend-stop/re-attach; writeback_depth takes
# 1..4096 (128 by default);
# dev-start refuses more queues than the cache has segments for (4 per
# queue); a backend without cache_size has no cache.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"

cbd_core_begin
cbd_require_disk
cbd_setup_transport
ADM=$(cbd_adm_file)

cbd_backend_start "$CBD_DISK" || ktap_exit_fail_msg "backend-start without cache"
B=$CBD_LAST_BACKEND
cbd_check "no cache: no backend$B/cache" test ! -e "$(cbd_cache_dir "$B")"
cbd_check "no cache: cache_segs 0" cbd_file_is "$(cbd_tdir)/cbd_backends/backend$B/cache_segs" 0
cbd_check "backend-stop" cbd_backend_stop "$B"

# 100 MiB: 7 segments (rounded up)
cbd_backend_start "$CBD_DISK" ",cache_size=100" ||
	ktap_exit_fail_msg "backend-start cache_size=100"
B=$CBD_LAST_BACKEND
C=$(cbd_cache_dir "$B")
BD=$(cbd_tdir)/cbd_backends/backend$B
cbd_check "cache/ has cache_segs used_segs gc_percent stats" \
	test -f "$C/cache_segs" -a -f "$C/used_segs" -a -f "$C/gc_percent" -a -f "$C/stats"
cbd_check "cache_size=100 -> 7 segments" cbd_file_is "$C/cache_segs" 7
cbd_check "compat cache_segs" cbd_file_is "$BD/cache_segs" 7
cbd_check "new cache: gc_percent 70" cbd_file_is "$C/gc_percent" 70
for k in hits misses dirty_bytes writeback_pos gc_pos writeback_rate \
	gc_segs_freed write_stalls write_stall_us write_stall_max_us writeback_depth_now; do
	cbd_check "stats: $k" grep -q "^$k: " "$C/stats"
done

for bad in 91 100 -1 abc 4294967366 " " 5x; do
	cbd_check "gc_percent '$bad' rejected" cbd_check_errno "$C/gc_percent" "$bad" "EINVAL|ERANGE"
	cbd_check "compat cache_gc_percent '$bad' rejected" \
		cbd_check_errno "$BD/cache_gc_percent" "$bad" "EINVAL|ERANGE"
done
# a value followed by a NUL and more: kstrtouint() alone would take "5"
nul_rejected() { ! printf '5\0junk' > "$1" 2>/dev/null; }
cbd_check "gc_percent '5\\0junk' rejected" nul_rejected "$C/gc_percent"
cbd_check "gc_percent unchanged by bad values" cbd_file_is "$C/gc_percent" 70

cbd_check "writeback_depth 128 by default" cbd_file_is "$C/writeback_depth" 128
for bad in 0 4097 -1 abc " "; do
	cbd_check "writeback_depth '$bad' rejected" \
		cbd_check_errno "$C/writeback_depth" "$bad" "EINVAL|ERANGE"
done
cbd_check "writeback_depth '5\\0junk' rejected" nul_rejected "$C/writeback_depth"
for good in 1 4096 64; do
	cbd_check "writeback_depth $good accepted" cbd_write "$C/writeback_depth" "$good"
	cbd_check "writeback_depth reads $good" cbd_file_is "$C/writeback_depth" "$good"
done
for good in 0 90 25; do
	cbd_check "gc_percent $good accepted" cbd_write "$C/gc_percent" "$good"
	cbd_check "gc_percent reads $good" cbd_file_is "$C/gc_percent" "$good"
done
cbd_check "compat file shows the same value" cbd_file_is "$BD/cache_gc_percent" 25
cbd_check "compat write 33" cbd_write "$BD/cache_gc_percent" 33
cbd_check "cache/gc_percent reads 33" cbd_file_is "$C/gc_percent" 33

cbd_check "dev-start queues=2 on 7 segments: EINVAL" \
	cbd_check_errno "$ADM" "op=dev-start,backend_id=$B,queues=2" EINVAL
if cbd_dev_start "$B" 1; then
	cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	cbd_check "gc_percent 33 after dev-stop" cbd_file_is "$C/gc_percent" 33
	cbd_dev_start "$B" 1 && cbd_check "dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
else
	ktap_test_fail "dev-start queues=1"
fi
cbd_check "gc_percent 33 after dev restart" cbd_file_is "$C/gc_percent" 33
cbd_check "backend-stop" cbd_backend_stop "$B"
if cbd_backend_start "$CBD_DISK" ",backend_id=$B"; then
	cbd_check "gc_percent 33 after backend re-attach" cbd_file_is "$C/gc_percent" 33
	cbd_check "cache_segs 7 after backend re-attach" cbd_file_is "$C/cache_segs" 7
	cbd_check "backend-stop" cbd_backend_stop "$B"
else
	ktap_test_fail "backend re-attach"
fi

cbd_finish
