#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Without CONFIG_CBD_MULTIHOST a second host cannot register (two guests,
# vm.sh --guests, with CBD_KO_NOMH= given to the runner: the module built
# with "make MULTIHOST=0" is /cbd/cbd_nomultihost.ko in the guest).  Host
# A registers; host B's registration fails with -EBUSY while A is alive,
# with format=1 too; once A unregistered, B registers.  The multi-host
# module is loaded again at the end.

set -u
. "$(dirname "$0")/cbd_lib.sh"
. "$(dirname "$0")/cbd_core_lib.sh"
. "$(dirname "$0")/cbd_mh_lib.sh"

NOMH_KO=$(dirname "$(readlink -f "$0")")/cbd_nomultihost.ko

mh_require
[ -f "$NOMH_KO" ] || ktap_exit_skip "no $NOMH_KO (run_vm_tests.sh builds it with MULTIHOST=0)"
ktap_print_header
cbd_require_root
cbd_require_pmem
cbd_module_load && cbd_cleanup_all >/dev/null 2>&1
cbd_module_unload || ktap_exit_fail_msg "cannot unload cbd"
trap 'cbd_cleanup_all >/dev/null 2>&1; rmmod cbd 2>/dev/null; CBD_KO= cbd_module_load' EXIT
CBD_KO=$NOMH_KO cbd_module_load || ktap_exit_fail_msg "cannot load $NOMH_KO"

if mh_is_a; then
	mh_register || cbd_finish
	mh_wait b-refused 120
	mh_step "A: unregister" cbd_unregister
	mh_put a-gone
else
	mh_wait registered
	cbd_expect "$CBD_BUS/transport_register" "path=$CBD_PMEM,hostname=$(hostname)" \
		EBUSY "B: a second host cannot register while A is alive (EBUSY)"
	cbd_expect "$CBD_BUS/transport_register" "path=$CBD_PMEM,hostname=$(hostname),format=1" \
		EBUSY "B: nor format it (EBUSY)"
	mh_put b-refused
	mh_wait a-gone 120 &&
		mh_step "B: registers once A unregistered" \
			cbd_register "path=$CBD_PMEM,hostname=$(hostname)"
fi
mh_barrier done
cbd_check "no transport left" cbd_cleanup_all
cbd_check "unload the single-host module" cbd_module_unload
trap - EXIT
cbd_check "load the multi-host module again" cbd_module_load
cbd_finish
