#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a debug guest kernel (lockdep, KASAN, might_sleep, list and object
# debugging, hung-task and workqueue watchdogs) from Debian's
# linux-source-6.12 and lay it out like the setup cache, so that the test
# bed runs CBD on it unchanged:
#
#   tools/testing/selftests/cbd/debug_kernel.sh     (or: make debug-kernel)
#   CBD_CACHE=~/.cache/cbd-debug PMEM=nvdimm \
#       tools/testing/selftests/cbd/run_vm_tests.sh data_fio.sh
#                                                   (or: make test-debug)
#
# Debian ships no debug flavour.  The source is the same 6.12.y release as
# the Debian headers the module is normally built against (the package
# linux-source-6.12 carries the Debian patches); the configuration is a small
# x86_64 guest: defconfig + kvm_guest.config + what vm.sh's QEMU machines
# and guest modules need + the debug options below.  Modules are unsigned
# and without MODVERSIONS, so an out-of-tree cbd.ko taints O only.
#
# Layout of $DEBUG_CACHE (the same names as in the setup cache, which
# vm.sh, the Makefile and setup.sh use through CBD_CACHE):
#   linux-source-6.12/        unpacked source (read-only once unpacked)
#   build/                    O= build directory
#   $KVER/usr/src/linux-headers-$KVER -> ../../../build
#   $KVER/lib/modules/$KVER/  modules_install
#   $KVER/boot/vmlinuz-$KVER  bzImage
#   KVER, kdir, modules, vmlinuz
#
# The build runs at nice 19 with JOBS (default 2) jobs: ~1 h on 2 busy
# cores.  A second run only rebuilds what changed.
#
# Environment:
#   DEBUG_CACHE  output (default ${XDG_CACHE_HOME:-$HOME/.cache}/cbd-debug)
#   SRC_TAR      source tarball (default /usr/src/linux-source-6.12.tar.xz)
#   JOBS         make -j (default 2)

set -euo pipefail

DEBUG_CACHE=${DEBUG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cbd-debug}
SRC_TAR=${SRC_TAR:-/usr/src/linux-source-6.12.tar.xz}
JOBS=${JOBS:-2}
SRC=$DEBUG_CACHE/linux-source-6.12
OBJ=$DEBUG_CACHE/build
LOCALVERSION=-cbd-debug

# shellcheck source=kernel_src_lib.sh
. "$(dirname "$0")/kernel_src_lib.sh"

log() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

[ -f "$SRC_TAR" ] || die "$SRC_TAR missing: run 'make setup' (package linux-source-6.12)"
mkdir -p "$DEBUG_CACHE"

[ -f "$SRC/.cbd-unpacked" ] || log "unpacking $SRC_TAR into $DEBUG_CACHE (once)"
cbd_unpack_kernel_source "$SRC_TAR" "$SRC" || die "unpacking $SRC_TAR"

kmake() { nice -n 19 make -C "$SRC" O="$OBJ" "$@"; }

# What the guest needs, then the debug options.  "=m" where vm.sh loads a
# module by name (VM_MODS); built-in also works (modprobe reports it so).
FRAG=$DEBUG_CACHE/cbd-debug.config
cat > "$FRAG" <<EOF
CONFIG_LOCALVERSION="$LOCALVERSION"
# CONFIG_LOCALVERSION_AUTO is not set
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
# CONFIG_MODVERSIONS is not set
# CONFIG_MODULE_SIG is not set
CONFIG_KALLSYMS=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_DEVTMPFS=y
CONFIG_DEVTMPFS_MOUNT=y
CONFIG_DEBUG_FS=y
CONFIG_CONFIGFS_FS=y
CONFIG_TMPFS=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_PCI=y
CONFIG_PCIEPORTBUS=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=m
CONFIG_VIRTIO_NET=m
CONFIG_NET_9P=m
CONFIG_NET_9P_VIRTIO=m
CONFIG_9P_FS=m
CONFIG_9P_FS_POSIX_ACL=y
CONFIG_ACPI=y
CONFIG_ZONE_DEVICE=y
CONFIG_MEMORY_HOTPLUG=y
CONFIG_MEMORY_HOTREMOVE=y
CONFIG_SPARSEMEM_VMEMMAP=y
CONFIG_LIBNVDIMM=m
CONFIG_ACPI_NFIT=m
CONFIG_X86_PMEM_LEGACY=m
CONFIG_BLK_DEV_PMEM=m
CONFIG_ND_CLAIM=y
CONFIG_BTT=y
CONFIG_NVDIMM_PFN=y
CONFIG_NVDIMM_DAX=y
CONFIG_TRANSPARENT_HUGEPAGE=y
CONFIG_DAX=y
CONFIG_DEV_DAX=m
CONFIG_DEV_DAX_PMEM=m
CONFIG_FS_DAX=y
CONFIG_CXL_BUS=m
CONFIG_CXL_PCI=m
CONFIG_CXL_ACPI=m
CONFIG_CXL_PMEM=m
CONFIG_CXL_MEM=m
CONFIG_CXL_PORT=m
CONFIG_CXL_REGION=y
CONFIG_EXT4_FS=m
CONFIG_XFS_FS=m
CONFIG_BLK_DEV_LOOP=m
CONFIG_BLK_DEV_NBD=m
CONFIG_BLK_DEV_NULL_BLK=m
CONFIG_BLK_DEV_RAM=m
CONFIG_MD=y
CONFIG_BLK_DEV_DM=m
CONFIG_DM_DELAY=m
CONFIG_DM_FLAKEY=m
CONFIG_DM_WRITECACHE=m
CONFIG_BCACHE=m
CONFIG_CRYPTO_CRC32C=m
CONFIG_CRYPTO_CRC32C_INTEL=m
CONFIG_LIBCRC32C=m
CONFIG_DEBUG_INFO_NONE=y
CONFIG_DEBUG_KERNEL=y
CONFIG_DEBUG_BUGVERBOSE=y
CONFIG_PROVE_LOCKING=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_DEBUG_LIST=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
CONFIG_SLUB_DEBUG=y
CONFIG_DEBUG_OBJECTS=y
CONFIG_DEBUG_OBJECTS_WORK=y
CONFIG_DEBUG_OBJECTS_TIMERS=y
CONFIG_LOCKUP_DETECTOR=y
CONFIG_SOFTLOCKUP_DETECTOR=y
CONFIG_DETECT_HUNG_TASK=y
CONFIG_WQ_WATCHDOG=y
EOF

# Subsystems of defconfig no test VM has a device for, dropped to shorten
# the build (not checked: olddefconfig may keep one that is selected).
TRIM=$DEBUG_CACHE/cbd-trim.config
cat > "$TRIM" <<EOF
# CONFIG_DRM is not set
# CONFIG_SOUND is not set
# CONFIG_USB_SUPPORT is not set
# CONFIG_WIRELESS is not set
# CONFIG_WLAN is not set
# CONFIG_CFG80211 is not set
# CONFIG_NETFILTER is not set
# CONFIG_NFS_FS is not set
# CONFIG_NFSD is not set
# CONFIG_ETHERNET is not set
# CONFIG_ATA is not set
# CONFIG_SCSI is not set
# CONFIG_AGP is not set
# CONFIG_PCCARD is not set
# CONFIG_SECURITY_SELINUX is not set
# CONFIG_AUDIT is not set
# CONFIG_HIBERNATION is not set
# CONFIG_SUSPEND is not set
# CONFIG_MACINTOSH_DRIVERS is not set
# CONFIG_HID is not set
# CONFIG_INPUT_JOYSTICK is not set
# CONFIG_INPUT_TABLET is not set
# CONFIG_INPUT_TOUCHSCREEN is not set
# CONFIG_XFRM_USER is not set
# CONFIG_EFI is not set
# CONFIG_KEXEC is not set
# CONFIG_CRASH_DUMP is not set
# CONFIG_KPROBES is not set
# CONFIG_UPROBES is not set
# CONFIG_FTRACE is not set
# CONFIG_CGROUPS is not set
# CONFIG_TASKSTATS is not set
# CONFIG_X86_MCE is not set
# CONFIG_MICROCODE is not set
# CONFIG_HOTPLUG_PCI is not set
# CONFIG_IOMMU_SUPPORT is not set
# CONFIG_DMADEVICES is not set
# CONFIG_NET_SCHED is not set
# CONFIG_IP_ADVANCED_ROUTER is not set
# CONFIG_NETLABEL is not set
# CONFIG_NETWORK_SECMARK is not set
# CONFIG_RFKILL is not set
# CONFIG_NETCONSOLE is not set
# CONFIG_PHYLIB is not set
# CONFIG_PTP_1588_CLOCK is not set
# CONFIG_I2C is not set
# CONFIG_HWMON is not set
# CONFIG_THERMAL is not set
# CONFIG_WATCHDOG is not set
# CONFIG_CPU_FREQ is not set
# CONFIG_INPUT_MOUSE is not set
# CONFIG_VT is not set
# CONFIG_QUOTA is not set
# CONFIG_AUTOFS_FS is not set
# CONFIG_ISO9660_FS is not set
# CONFIG_VFAT_FS is not set
# CONFIG_MSDOS_FS is not set
# CONFIG_SECURITY is not set
# CONFIG_DEBUG_STACK_USAGE is not set
EOF

log "configuring $OBJ (defconfig + kvm_guest.config + $TRIM + $FRAG)"
mkdir -p "$OBJ"
kmake -s defconfig
kmake -s kvm_guest.config
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$TRIM" "$FRAG" > /dev/null
kmake -s olddefconfig
# Every requested option must have survived olddefconfig (a missing
# dependency silently drops it).
missing=$(grep -v '^CONFIG_LOCALVERSION=' "$FRAG" |
	  sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1=n/; /^CONFIG_/p' |
	  while IFS= read -r want; do
		  opt=${want%%=*} val=${want#*=} have=
		  have=$(sed -n "s/^$opt=//p" "$OBJ/.config")
		  [ "$val" = n ] && val=
		  # built in is as good as a module
		  [ "$val" = m ] && [ "$have" = y ] && have=m
		  [ "$have" = "$val" ] || echo "$opt=${val:-n} (got ${have:-n})"
	  done)
[ -z "$missing" ] || die "options not as requested after olddefconfig: $(echo $missing)"

log "building: nice -n 19 make -j$JOBS bzImage modules (log: $OBJ/build.log)"
start=$SECONDS
if ! kmake -j"$JOBS" bzImage modules > "$OBJ/build.log" 2>&1; then
	tail -30 "$OBJ/build.log"
	die "kernel build, see $OBJ/build.log"
fi
KVER=$(cat "$OBJ/include/config/kernel.release")
case "$KVER" in *"$LOCALVERSION") ;; *) die "unexpected kernel release '$KVER'" ;; esac
log "built $KVER in $(( (SECONDS - start) / 60 )) min"

ROOT=$DEBUG_CACHE/$KVER
rm -rf "$ROOT.tmp"
mkdir -p "$ROOT.tmp/boot" "$ROOT.tmp/usr/src"
kmake -s modules_install INSTALL_MOD_PATH="$ROOT.tmp" INSTALL_MOD_STRIP=1 \
	DEPMOD=/sbin/depmod > /dev/null
rm -f "$ROOT.tmp/lib/modules/$KVER/build" "$ROOT.tmp/lib/modules/$KVER/source"
cp "$OBJ/arch/x86/boot/bzImage" "$ROOT.tmp/boot/vmlinuz-$KVER"
cp "$OBJ/.config" "$ROOT.tmp/boot/config-$KVER"
ln -s "$OBJ" "$ROOT.tmp/usr/src/linux-headers-$KVER"
rm -rf "$ROOT"
mv "$ROOT.tmp" "$ROOT"
# setup.sh treats this tree as already unpacked (CBD_CACHE=$DEBUG_CACHE
# make test runs it).
touch "$ROOT/.done"

# vm.sh keys its cached initramfs on the release, not on the modules.
rm -rf "$DEBUG_CACHE/initramfs"
echo "$KVER" > "$DEBUG_CACHE/KVER"
ln -sfn "$ROOT/usr/src/linux-headers-$KVER" "$DEBUG_CACHE/kdir"
ln -sfn "$ROOT/lib/modules/$KVER" "$DEBUG_CACHE/modules"
ln -sfn "$ROOT/boot/vmlinuz-$KVER" "$DEBUG_CACHE/vmlinuz"
log "ready: CBD_CACHE=$DEBUG_CACHE (kernel $KVER)"
