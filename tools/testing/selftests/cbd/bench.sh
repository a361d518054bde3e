#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": boot the VM and run bench_guest.sh (fio on pmem, the
# backing disk and /dev/cbd0).  vm.sh variables apply (PMEM=, PMEM_SIZE=,
# DISKS=, ...); BENCH_RUNTIME= sets the seconds per fio job.  Expects cbd.ko
# to be built.

set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=vm.sh
. "$DIR/vm.sh"
vm_defaults
VM_NAME=bench VM_PLAIN=1 vm_run bench_guest.sh
