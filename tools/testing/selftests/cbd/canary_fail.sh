#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Designed to fail: proves that a failing test makes the runner fail.
# Not in the default list (TEST_PROGS); run it with
#   tools/testing/selftests/cbd/vm.sh canary_fail.sh     (must exit non-zero)

. "$(dirname "$0")/cbd_lib.sh"

ktap_print_header
ktap_set_plan 3

expected=2
actual=$((1 + 0))
ktap_print_msg "expecting 1 + 0 == $expected (wrong on purpose)"
ktap_test_result "1 + 0 == $expected" test "$actual" -eq "$expected"

ktap_finished
