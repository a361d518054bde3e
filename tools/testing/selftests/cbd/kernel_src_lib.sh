#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side helper of intree_check.sh and debug_kernel.sh: unpack Debian's
# linux-source tarball once into a directory of its own.

# cbd_unpack_kernel_source TARBALL DIR: unpack TARBALL into DIR unless a
# complete unpack is already there (marked by DIR/.cbd-unpacked).  An
# interrupted unpack leaves only DIR.tmp, which the next call replaces.
cbd_unpack_kernel_source() {
	local tar=$1 dir=$2

	[ ! -f "$dir/.cbd-unpacked" ] || return 0
	rm -rf "$dir" "$dir.tmp" &&
	mkdir -p "$dir.tmp" &&
	tar -xf "$tar" -C "$dir.tmp" --strip-components=1 &&
	mv "$dir.tmp" "$dir" &&
	touch "$dir/.cbd-unpacked"
}
