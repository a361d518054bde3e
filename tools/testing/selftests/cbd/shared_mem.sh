#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two hosts see each other's writes to the shared pmem: the substrate of
# multi-host CBD.  Run in two guests on the same memory:
#   vm.sh --guests shared_mem.sh shared_mem.sh        (PMEM=cxl or nvdimm)
# Guest 0 writes a token at 200 MiB and waits for guest 1 to write it back,
# with "-ack", at 201 MiB.  Uses O_DIRECT, so no page cache is involved.
# CBD_GUEST_ID (set by the VM) says which side this is; SHARED_TIMEOUT=120.

. "$(dirname "$0")/cbd_lib.sh"

ktap_print_header
cbd_require_root
cbd_require_pmem
[ -n "${CBD_GUEST_ID:-}" ] || ktap_exit_skip "needs CBD_GUEST_ID (0 or 1): run with vm.sh --guests"
ktap_set_plan 4

LIMIT=${SHARED_TIMEOUT:-120}
TOKEN_AT=200	# MiB
ACK_AT=201

# put MIB STRING / get MIB: one 4 KiB block at MIB MiB
put() {
	{ printf '%s' "$2"; head -c $((4096 - ${#2})) /dev/zero; } |
		dd of="$CBD_PMEM" bs=4096 seek=$(($1 * 256)) count=1 oflag=direct conv=notrunc status=none
}
get() {
	dd if="$CBD_PMEM" bs=4096 skip=$(($1 * 256)) count=1 iflag=direct status=none | tr -d '\0'
}
is() { [ "$(get "$1")" = "$2" ]; }
nonempty_token() { [[ $(get "$TOKEN_AT") == cbd-token-* ]]; }

if [ "$CBD_GUEST_ID" = 0 ]; then
	token=cbd-token-$RANDOM$RANDOM
	put "$ACK_AT" ""
	put "$TOKEN_AT" "$token"
	ktap_test_result "guest 0 wrote $token" is "$TOKEN_AT" "$token"
	ktap_test_result "guest 1 acknowledged within ${LIMIT}s" cbd_wait_for "$LIMIT" is "$ACK_AT" "$token-ack"
else
	ktap_test_result "guest $CBD_GUEST_ID sees a token within ${LIMIT}s" cbd_wait_for "$LIMIT" nonempty_token
	token=$(get "$TOKEN_AT")
	put "$ACK_AT" "$token-ack"
	ktap_test_result "guest $CBD_GUEST_ID wrote the ack for $token" is "$ACK_AT" "$token-ack"
fi
ktap_finished
