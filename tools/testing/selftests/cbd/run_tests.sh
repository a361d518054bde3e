#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run CBD selftests and print kselftest-style KTAP: one top-level result per
# test, the test's own output indented with "# ".  Used inside the QEMU
# guest and directly on a real machine (as root):
#
#   run_tests.sh              run the default list (TEST_PROGS in Makefile)
#   run_tests.sh TEST...      run the given tests
#   run_tests.sh --list       print the default list
#
# Per-test timeout: TEST_TIMEOUT (default: "timeout=" in ./settings).
# Exit status: 0 if no test failed, 1 otherwise.

set -u
cd "$(dirname "$0")" || exit 1

default_tests() {
	sed -n 's/^TEST_PROGS[[:space:]]*:*=[[:space:]]*//p' Makefile
}

if [ "${1:-}" = --list ]; then
	default_tests
	exit 0
fi
if [ $# -eq 0 ]; then
	# shellcheck disable=SC2046
	set -- $(default_tests)
fi

TEST_TIMEOUT=${TEST_TIMEOUT:-$(sed -n 's/^timeout=//p' settings 2>/dev/null)}
TEST_TIMEOUT=${TEST_TIMEOUT:-300}

echo "TAP version 13"
echo "1..$#"
n=0 pass=0 fail=0 skip=0
for t in "$@"; do
	n=$((n + 1))
	echo "# selftests: cbd: $t"
	t0=$SECONDS
	timeout -k 10 "$TEST_TIMEOUT" "./$t" < /dev/null 2>&1 |
		while IFS= read -r line; do echo "# $line"; done
	rc=${PIPESTATUS[0]}
	dt=$((SECONDS - t0))
	case "$rc" in
	0)	echo "ok $n selftests: cbd: $t # ${dt}s"; pass=$((pass + 1)) ;;
	4)	echo "ok $n selftests: cbd: $t # SKIP"; skip=$((skip + 1)) ;;
	124|137) echo "not ok $n selftests: cbd: $t # TIMEOUT ${TEST_TIMEOUT}s"; fail=$((fail + 1)) ;;
	*)	echo "not ok $n selftests: cbd: $t # exit=$rc"; fail=$((fail + 1)) ;;
	esac
done
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ]
