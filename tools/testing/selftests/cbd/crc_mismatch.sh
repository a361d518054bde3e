#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A CONFIG_CBD_CRC kernel and a kernel without it lay out
# submit and completion entries differently, so each refuses a transport
# formatted by the other (-EINVAL, with a message), and formatting it
# again makes it usable.  Needs the other build of the module next to this
# script as cbd_alt.ko (run_vm_tests.sh builds both and passes it in).

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"

ALT=$(dirname "$0")/cbd_alt.ko
PLAIN="path=$CBD_PMEM,hostname=node-1"

# swap_module FILE|"": unregister everything and load FILE (or cbd.ko)
swap_module() {
	cbd_cleanup_all >/dev/null 2>&1
	cbd_module_unload || return 1
	if [ -n "$1" ]; then
		insmod "$1"
	else
		cbd_module_load
	fi
}

crc_flag() { echo $(( $(cbd_info_field flags) & 2 )); }

cbd_core_begin
[ -f "$ALT" ] || ktap_exit_skip "no $ALT (the other CRC build of the module)"

cbd_setup_transport
MINE=$(crc_flag)
ktap_print_msg "loaded module formats with CRC flag $MINE"
cbd_check "unregister" cbd_unregister

cbd_check "load the other build (cbd_alt.ko)" swap_module "$ALT"
cbd_expect "$CBD_BUS/transport_register" "$PLAIN" EINVAL \
	"other build refuses the transport without format"
cbd_check "the refusal names the CRC flag" \
	sh -c "dmesg | tail -20 | grep -qi crc"
cbd_check "nothing left after the refusal" test -z "$(cbd_transport_ids)"
cbd_check "format with the other build" cbd_register
cbd_check "other build sets the other CRC flag" test "$(crc_flag)" != "$MINE"
cbd_check "a backend and blkdev work on it" cbd_start_pair 1
cbd_check "fio verify through the other build" \
	cbd_fio_verify "/dev/$CBD_LAST_CBD" 16M
cbd_check "stop" cbd_stop_pair
cbd_check "unregister" cbd_unregister

cbd_check "load the module under test again" swap_module ""
cbd_expect "$CBD_BUS/transport_register" "$PLAIN" EINVAL \
	"module under test refuses the other build's transport"
cbd_check "format again with the module under test" cbd_register
cbd_check "CRC flag is back" test "$(crc_flag)" = "$MINE"
cbd_finish
