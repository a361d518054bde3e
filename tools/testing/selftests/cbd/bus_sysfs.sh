#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module registers bus "cbd" and root device "cbd" with the bus
# attributes of the ABI: write-only (0200) transport_register and
# transport_unregister, which reject malformed input.

. "$(dirname "$0")/cbd_lib.sh"

ktap_print_header
cbd_require_root
ktap_set_plan 9

cbd_module_load || ktap_exit_fail_msg "cannot load cbd"

ktap_test_result "/sys/bus/cbd exists" test -d "$CBD_BUS"
ktap_test_result "/sys/devices/cbd (root device) exists" test -d /sys/devices/cbd
for attr in transport_register transport_unregister; do
	mode=$(stat -c %a "$CBD_BUS/$attr" 2>/dev/null)
	if [ "$mode" = 200 ]; then
		ktap_test_pass "$attr exists, mode 0200"
	else
		ktap_print_msg "$CBD_BUS/$attr mode: ${mode:-missing}"
		ktap_test_fail "$attr exists, mode 0200"
	fi
done

# Malformed input must fail with -EINVAL; nothing is registered.
ktap_test_result "transport_unregister rejects garbage" \
	cbd_write_fails "$CBD_BUS/transport_unregister" "garbage"
ktap_test_result "transport_register rejects an unknown key" \
	cbd_write_fails "$CBD_BUS/transport_register" "bogus=1"

ktap_test_result "module unloads" cbd_module_unload
ktap_finished
