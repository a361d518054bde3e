#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make demo": boot the test VM (emulated CXL pmem by default, see vm.sh for
# PMEM=, PMEM_SIZE=, DISKS=) and run demo_guest.sh, which shows the main job
# end to end as far as the driver implements it today.  Expects cbd.ko to
# be built (make modules).

set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=vm.sh
. "$DIR/vm.sh"
vm_defaults
vm_quiet_lock -s

cat <<EOM
CBD demo: a QEMU guest (TCG, Linux $(vm_kver)) with ${PMEM_SIZE} of emulated
$PMEM persistent memory as /dev/pmem0 and a ${DISKS:-1G} virtio disk as /dev/vda.
In the guest: load cbd, register the pmem as a transport, start a backend
on the disk (with a pmem cache once the driver has one), create /dev/cbd0,
put ext4 on it, run fio with verification, show the state, tear it down.
EOM

rc=0
VM_NAME=demo VM_PLAIN=1 vm_run demo_guest.sh || rc=1
echo
if [ "$rc" = 0 ]; then
	echo "demo: OK"
else
	echo "demo: FAILED (logs: $VM_RUN_DIR)"
fi
exit "$rc"
