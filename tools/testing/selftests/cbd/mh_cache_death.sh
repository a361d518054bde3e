#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Death of the host that runs a cached blkdev (two guests, vm.sh
# --guests).  A runs a backend with cache_size=64; B writes through its
# /dev/cbdX on it, fsyncs a region, and is SIGKILLed by the runner with
# more writes in flight.  Everything B fsync'd is in the cache journal in
# the transport memory; B's in-memory index is gone.  Once B's blkdev is
# dead, A detaches it (dev-clear), starts a blkdev of its own on the
# backend, whose cache instance replays the journal the dead host wrote:
# the fsync'd region verifies through it (A's writeback usually has
# written it back by then, so this shows that the replayed index serves
# no stale data rather than that it serves dirty data).  After A's
# dev-stop and backend-stop it verifies on A's disk too.
# B is booted again for the tests after this one.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_cache_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

KEEP=(--name=keep --size=32M --offset=100M --direct=1 --ioengine=libaio
	--verify=crc32c --rw=randwrite --bsrange=4k-128k --iodepth=16
	--randseed=5151)

a_run() {
	local bid devid bhost dev
	mh_step "A: backend-start cache_size=64 on $CBD_DISK" \
		cbd_backend_start "$CBD_DISK" ",cache_size=64" || return
	bid=$CBD_LAST_BACKEND
	mh_put backend "$bid"
	mh_wait written 300 || return
	read -r devid bhost <<< "$(mh_get written)"
	cbd_check "B was killed" cbd_wait_for 300 mh_killed 1 || { mh_abort "no kill"; return; }
	cbd_check "A: B's blkdev$devid reads alive=false (heartbeat timeout)" \
		cbd_wait_file_is 90 "$(cbd_tdir)/cbd_blkdevs/blkdev$devid/alive" false
	ktap_print_msg "A: cache/stats after B's death: $(tr '\n' ' ' < "$(cbd_cache_dir "$bid")/stats")"
	cbd_expect "$(cbd_adm_file)" "op=dev-clear,dev_id=$devid" OK \
		"A: dev-clear of dead blkdev$devid"
	mh_step "A: dev-start on the backend (replays the journal B wrote)" \
		cbd_dev_start "$bid" 1 || return
	dev=/dev/$CBD_LAST_CBD
	cbd_check "A: the 32M B fsync'd before its death verify through the cache" \
		cbd_fio keep-a --filename="$dev" "${KEEP[@]}" --verify_only=1
	cbd_check "A: dev-stop" cbd_dev_stop "$CBD_LAST_DEV_ID"
	cbd_check "A: backend-stop (writes the cache back)" cbd_backend_stop "$bid"
	cbd_check "A: the 32M verify on A's own disk" \
		cbd_fio keep-disk --filename="$CBD_DISK" "${KEEP[@]}" --verify_only=1
	cbd_expect "$(cbd_adm_file)" "op=host-clear,host_id=$bhost" OK \
		"A: host-clear of dead host$bhost (B)"
	cbd_check "A: no hung task, no warning" cbd_klog_clean
}

b_run() {
	local bid dev
	mh_wait backend 120 || return
	bid=$(mh_get backend)
	mh_step "B: dev-start on A's cached backend$bid" cbd_dev_start "$bid" 1 || return
	dev=/dev/$CBD_LAST_CBD
	# more than the cache in total: writeback and GC run before the fsync
	cbd_check "B: 96M of writes, larger than the cache" \
		cbd_fio fill --name=fill --filename="$dev" --size=96M --offset=300M \
		--direct=1 --ioengine=libaio --rw=write --bs=256k --iodepth=16
	mh_step "B: 32M written and fsync'd" \
		cbd_fio keep --filename="$dev" "${KEEP[@]}" --do_verify=0 --end_fsync=1 || return
	dd if=/dev/urandom of="$dev" bs=64k count=4000 seek=8000 oflag=direct \
		> /dev/null 2>&1 &
	sleep 2
	mh_put written "$CBD_LAST_DEV_ID $(cbd_my_host_id)"
	mh_kill_me
}

mh_require
mh_done_if_restarted
cbd_core_begin
cbd_require_disk
command -v fio >/dev/null || ktap_exit_skip "fio not installed"
mh_register || cbd_finish
if mh_is_a; then a_run; else b_run; fi
cbd_finish
