#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare a Debian 12 machine to build CBD against Linux 6.12 and to run the
# kselftests in QEMU.  Idempotent: a second run only checks what is there.
#
# Nothing is installed into /usr for the kernel: the Debian kernel image,
# headers and kbuild packages are unpacked into $CBD_CACHE (default
# ~/.cache/cbd), where the Makefile and the VM runner find them.
#
# Environment:
#   CBD_CACHE  cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/cbd)
#   KVER       kernel version, e.g. 6.12.117+deb12-amd64 (default: newest)

set -euo pipefail

CBD_CACHE=${CBD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cbd}
mkdir -p "$CBD_CACHE"

log() { printf 'setup: %s\n' "$*" >&2; }

APT_PKGS=(qemu-system-x86 qemu-utils busybox-static kmod fio e2fsprogs xfsprogs
	  ndctl daxctl gcc-12 make bc bison flex libelf-dev libssl-dev
	  pahole sparse cpio zstd xz-utils nbd-server nbd-client util-linux
	  linux-source-6.12 dmsetup bcache-tools
	  gcc libc6-dev)	# gcc + libc.a: the static selftest helpers (cbd_write)

need_apt=()
for p in "${APT_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
	log "installing: ${need_apt[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Pick the newest 6.12 flavour build the archive offers.
if [ -z "${KVER:-}" ]; then
	if [ -f "$CBD_CACHE/KVER" ]; then
		KVER=$(cat "$CBD_CACHE/KVER")
	else
		apt-get update -qq || true
		KVER=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		       awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -1)
	fi
fi
[ -n "$KVER" ] || { log "no linux-headers-6.12.*+deb12-amd64 found"; exit 1; }
KBASE=${KVER%-amd64}		# 6.12.117+deb12
log "kernel $KVER"

KDIR_ROOT="$CBD_CACHE/$KVER"
DEBS="$CBD_CACHE/debs"
mkdir -p "$DEBS"

fetch() {
	local pkg=$1
	ls "$DEBS/${pkg}"_*.deb >/dev/null 2>&1 && return 0
	log "downloading $pkg"
	(cd "$DEBS" && apt-get download -qq "$pkg")
}

if [ ! -f "$KDIR_ROOT/.done" ]; then
	rm -rf "$KDIR_ROOT"
	mkdir -p "$KDIR_ROOT"
	for pkg in "linux-image-$KVER-unsigned" "linux-headers-$KVER" \
		   "linux-headers-$KBASE-common" "linux-kbuild-$KBASE"; do
		fetch "$pkg"
		dpkg -x "$DEBS/${pkg}"_*.deb "$KDIR_ROOT"
	done
	HDR="$KDIR_ROOT/usr/src/linux-headers-$KVER"
	# The flavour Makefile includes the common tree by absolute path.
	sed -i "s|/usr/src/linux-headers-$KBASE-common|$KDIR_ROOT/usr/src/linux-headers-$KBASE-common|g" \
		"$HDR/Makefile"
	# Its scripts/tools symlinks point into /usr/lib/linux-kbuild-*.
	for l in $(find "$HDR" "$KDIR_ROOT/usr/src/linux-headers-$KBASE-common" -maxdepth 2 -type l); do
		t=$(readlink "$l")
		case "$t" in
		/*) [ -e "$KDIR_ROOT$t" ] && ln -sfn "$KDIR_ROOT$t" "$l" ;;
		esac
	done
	# Modules live in lib/modules (usrmerge) or usr/lib/modules.
	MODDIR=$(find "$KDIR_ROOT" -maxdepth 4 -type d -path "*/lib/modules/$KVER" | head -1)
	depmod -b "${MODDIR%/lib/modules/$KVER}" "$KVER"
	touch "$KDIR_ROOT/.done"
fi
echo "$KVER" > "$CBD_CACHE/KVER"
ln -sfn "$KDIR_ROOT/usr/src/linux-headers-$KVER" "$CBD_CACHE/kdir"
MODDIR=$(find "$KDIR_ROOT" -maxdepth 4 -type d -path "*/lib/modules/$KVER" | head -1)
ln -sfn "$MODDIR" "$CBD_CACHE/modules"
ln -sfn "$KDIR_ROOT/boot/vmlinuz-$KVER" "$CBD_CACHE/vmlinuz"

# checkpatch.pl and its data files, plus an unpacked source tree for the
# in-tree build check (make intree-check).
SRC_TAR=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -1)
if [ ! -f "$CBD_CACHE/checkpatch/.done" ] && [ -n "$SRC_TAR" ]; then
	log "extracting checkpatch.pl from $SRC_TAR"
	rm -rf "$CBD_CACHE/checkpatch"
	mkdir -p "$CBD_CACHE/checkpatch"
	tar -xf "$SRC_TAR" -C "$CBD_CACHE/checkpatch" --strip-components=1 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	touch "$CBD_CACHE/checkpatch/.done"
fi
log "ready: KDIR=$CBD_CACHE/kdir"
