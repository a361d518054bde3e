#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Multi-host registration (two guests, vm.sh --guests): host A formats and
# registers, host B registers without formatting.  Each sees the other in
# cbd_hosts (hostname, alive=true), the host ids differ; once B
# unregisters, A sees B's slot free and not alive at once.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

mh_require
cbd_core_begin

hosts=$(cbd_tdir)/cbd_hosts
mh_register || cbd_finish
me=$(cbd_my_host_id)
mh_barrier both-registered || { ktap_test_fail "both hosts registered"; cbd_finish; }
peer=$(mh_peer_host_id)
ktap_print_msg "guest $MH_ID ($(hostname)): host id $me, peer: host id $peer"

cbd_check "host ids differ ($me, $peer)" test -n "$peer" -a "$me" != "$peer"
cbd_check "host_id file equals my_host_id" cbd_file_is "$(cbd_tdir)/host_id" "$me"
cbd_check "host$me: hostname $(hostname)" cbd_file_is "$hosts/host$me/hostname" "$(hostname)"
cbd_check "host$me: alive" cbd_file_is "$hosts/host$me/alive" true
cbd_check "host$peer: hostname cbd-vm$MH_PEER" cbd_file_is "$hosts/host$peer/hostname" "cbd-vm$MH_PEER"
cbd_check "host$peer: alive" cbd_file_is "$hosts/host$peer/alive" true
alive=$(grep -l true "$hosts"/host*/alive 2>/dev/null | wc -l)
cbd_check "exactly 2 hosts alive ($alive)" test "$alive" -eq 2
# a second registration of the same pmem on one host is refused
cbd_expect "$CBD_BUS/transport_register" "path=$CBD_PMEM,hostname=again" ANYERR \
	"registering the same pmem twice on one host fails"
mh_barrier checked

if mh_is_a; then
	mh_wait b-unregistered ||  ktap_test_fail "host B unregistered"
	cbd_check "host$peer (B, unregistered): alive=false" \
		cbd_file_is "$hosts/host$peer/alive" false
	cbd_check "host$peer (B, unregistered): no hostname" \
		cbd_file_is "$hosts/host$peer/hostname" ""
	cbd_check "host$me (A): still alive" cbd_file_is "$hosts/host$me/alive" true
else
	mh_step "host B unregisters" cbd_unregister
	mh_put b-unregistered
fi
cbd_finish
