#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build CBD as an in-tree driver: copy the sources into drivers/block/cbd/ of
# Debian's linux-source-6.12 tree, hook Kconfig and Makefile into
# drivers/block/, configure with the Debian config plus BLK_DEV_CBD=m, CBD_MULTIHOST
# and CBD_CRC, and build the module with "make M=drivers/block/cbd".
#
# The first run unpacks the tree and runs modules_prepare (~30 s here);
# later runs only rebuild the driver.  Fails on any compiler warning.
#
# Environment: CBD_CACHE (default ~/.cache/cbd), SRC_TAR (default
# /usr/src/linux-source-6.12.tar.xz), JOBS (default: nproc), CBD_SRC (driver
# sources, default: this repository).

set -euo pipefail

REPO=${CBD_SRC:-$(cd "$(dirname "$0")/../../../.." && pwd)}
CBD_CACHE=${CBD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cbd}
SRC_TAR=${SRC_TAR:-/usr/src/linux-source-6.12.tar.xz}
TREE=$CBD_CACHE/linux-source-6.12
JOBS=${JOBS:-$(nproc)}
LOG=$CBD_CACHE/intree-build.log

# shellcheck source=kernel_src_lib.sh
. "$(dirname "$0")/kernel_src_lib.sh"

log() { printf 'intree: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

[ -f "$SRC_TAR" ] || die "$SRC_TAR missing: run 'make setup' (package linux-source-6.12)"
[ -f "$CBD_CACHE/kdir/.config" ] || die "$CBD_CACHE/kdir/.config missing: run 'make setup'"

[ -f "$TREE/.cbd-unpacked" ] || log "unpacking $SRC_TAR into $CBD_CACHE (once)"
cbd_unpack_kernel_source "$SRC_TAR" "$TREE" || die "unpacking $SRC_TAR"

# Sources: exactly what an in-tree submission would add.
DST=$TREE/drivers/block/cbd
rm -rf "$DST"
mkdir -p "$DST"
(cd "$REPO" && cp Kconfig Kbuild Makefile $(ls ./*.c ./*.h 2>/dev/null | grep -v '\.mod\.c$') "$DST/")
log "copied $(ls "$DST" | wc -l) files to drivers/block/cbd/"

# Hooks (idempotent): Kconfig right after BLK_DEV_NBD's entry, Makefile line.
KC=$TREE/drivers/block/Kconfig
if ! grep -q 'drivers/block/cbd/Kconfig' "$KC"; then
	awk '
		/^config BLK_DEV_NBD/ { innbd = 1 }
		innbd && /^(config|menuconfig|source|if|endif|comment)/ && !/^config BLK_DEV_NBD/ {
			print "source \"drivers/block/cbd/Kconfig\"\n"; innbd = 0; done = 1
		}
		{ print }
		END { if (!done) exit 1 }
	' "$KC" > "$KC.new" || die "could not find BLK_DEV_NBD in $KC"
	mv "$KC.new" "$KC"
fi
MK=$TREE/drivers/block/Makefile
grep -q 'CONFIG_BLK_DEV_CBD' "$MK" || echo 'obj-$(CONFIG_BLK_DEV_CBD)	+= cbd/' >> "$MK"

# Configuration: Debian's, with CBD on and without module signing/BTF
# (no keys here, and BTF for modules needs a full vmlinux).
cd "$TREE"
cp "$CBD_CACHE/kdir/.config" .config
scripts/config --file .config \
	-m BLK_DEV_CBD -e CBD_MULTIHOST -e CBD_CRC -d CBD_DEBUG \
	-d MODULE_SIG_ALL --set-str MODULE_SIG_KEY "" \
	--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
	-d DEBUG_INFO_BTF -d DEBUG_INFO_BTF_MODULES
make -s olddefconfig
for opt in BLK_DEV_CBD=m CBD_MULTIHOST=y CBD_CRC=y; do
	grep -qx "CONFIG_$opt" .config || die "CONFIG_$opt not set after olddefconfig (Kconfig dependencies?)"
done
log "config: $(grep -E '^CONFIG_(BLK_DEV_CBD|CBD_[A-Z]+)=' .config | tr '\n' ' ')"

if ! cmp -s .config .cbd-prepared; then
	log "make modules_prepare (slow the first time)"
	make -j"$JOBS" modules_prepare > "$LOG" 2>&1 || { tail -30 "$LOG"; die "modules_prepare, see $LOG"; }
	cp .config .cbd-prepared
fi

# No vmlinux is built: take the symbol versions of the matching Debian build.
cp "$CBD_CACHE/kdir/Module.symvers" Module.symvers

log "make M=drivers/block/cbd"
make -j"$JOBS" M=drivers/block/cbd clean > /dev/null 2>&1 || true
if ! make -j"$JOBS" M=drivers/block/cbd modules > "$LOG" 2>&1; then
	cat "$LOG"
	die "in-tree build, log in $LOG"
fi
if grep -E 'warning:|error:' "$LOG"; then
	die "in-tree build has warnings, log in $LOG"
fi
[ -f drivers/block/cbd/cbd.ko ] || die "drivers/block/cbd/cbd.ko not built"
log "OK: $TREE/drivers/block/cbd/cbd.ko ($(modinfo -F vermagic drivers/block/cbd/cbd.ko))"
