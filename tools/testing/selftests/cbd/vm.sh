#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the Debian 6.12 kernel in QEMU (TCG) with emulated persistent memory
# and run CBD selftests inside the guest.
#
#   vm.sh [TEST...]        run the given guest scripts (names relative to this
#                          directory, e.g. module_load.sh) in one VM
#   vm.sh --shell          boot and drop into a shell on the serial console
#   vm.sh --guests "A.sh B.sh" "C.sh"
#                          boot one guest per argument on the same memory
#                          (multi-host), each running its own tests; they
#                          share a 9p directory (/cbd-shared in the guest)
#                          for markers, and a guest can ask to be killed
#                          (SIGKILL) and restarted (see vm_run_guests)
#
# The script can also be sourced ("source vm.sh") for its functions; see
# run_vm_tests.sh and demo.sh.  Everything is driven by the environment:
#
#   PMEM=cxl|nvdimm|memmap  transport memory (default cxl: CXL type-3 pmem,
#                          region + fsdax namespace created in the guest)
#   PMEM_SIZE=1G           size of the pmem device (>= 512M for a transport;
#                          a multiple of 256M for cxl)
#   PMEM_FILE=path         memory-backend-file (share=on); default a fresh
#                          file under /dev/shm that is removed after the run.
#                          Given explicitly, it is kept and reused, so a later
#                          run sees the same contents (cxl: the label storage
#                          area is kept next to it as PMEM_FILE.lsa).
#   PMEM2_SIZE=256M        add a second, small pmem device (/dev/pmem1);
#                          cxl and nvdimm only
#   DISKS="1G 1G"          sizes of the virtio-blk disks (/dev/vda, /dev/vdb..)
#                          as sparse files; default one 1G disk
#   DISK_DIR=dir           keep the disk images there (reused if present)
#   MEM=2G SMP=2           guest memory and CPUs
#   TEST_TIMEOUT=600       per-test timeout inside the guest (seconds; default
#                          from the settings file)
#   VM_TIMEOUT=secs        host-side timeout for the whole VM (default:
#                          240 + TEST_TIMEOUT * number of tests)
#   CBD_KO=path            module to test (default: <repo>/cbd.ko)
#   CBD_KO_NOMH=path       optional second module, built without
#                          CONFIG_CBD_MULTIHOST; in the guest as
#                          /cbd/cbd_nomultihost.ko (mh_limits.sh)
#   CBD_ALT_KO=path        optional other CRC build of the module; in the
#                          guest as /cbd/cbd_alt.ko (crc_mismatch.sh)
#   OUT_DIR=dir            where run logs go (default: ./out next to this
#                          script); each run gets its own subdirectory
#   VERBOSE=1              stream the kernel console instead of the KTAP
#   VM_PLAIN=1             stream only the tests' own output (demo)
#   KEEP=1                 keep the run directory even on success
#   CBD_CXL_LOOP=auto|0|1  guest side, see below: loop devices under the
#                          backends on emulated CXL (auto), never, always
#   BENCH_RUNTIME, DEMO_FIO_RUNTIME  passed to bench_guest.sh/demo_guest.sh
#   CBD_CACHE              setup cache (default ~/.cache/cbd)
#
# Notes on the emulated memory (QEMU 7.2, Linux 6.12):
#  - cxl: q35 with cxl=on, one pxb-cxl host bridge + root port + cxl-type3
#    (sn= must be non-zero) per device, one CFMWS window each; the kernel
#    needs pcie_ports=compat and the CPU model max,hypervisor=off.  The
#    guest creates the region (cxl create-region) and an fsdax namespace
#    (ndctl create-namespace -m fsdax -M mem) on every boot: 6.12 keeps no
#    region configuration, and the namespace label the previous boot wrote
#    into the label storage area (PMEM_FILE.lsa) is not claimed by the new
#    region, so a new namespace (new uuid) with the same geometry is made.
#    The data offset is the same, so /dev/pmem0 keeps its contents across
#    restarts on the same PMEM_FILE (checked at bytes 0, 4096 and 100 MiB).
#  - nvdimm: label-less; the fsdax info block is found again on the next
#    boot and the namespace comes back by itself ("using existing pmem0").
#  - memmap: guest RAM, DAX-capable as a raw namespace; nothing persists.
#  - Under TCG, block I/O on CXL pmem is several times slower than on
#    nvdimm (MMIO emulation): ~1k IOPS 4k random reads.
#  - QEMU cannot DMA between virtio-blk and emulated CXL memory (it is
#    MMIO to QEMU; requests touching it need the bounce buffer, which is
#    too small: "virtio: bogus descriptor or out of resources" in
#    qemu.err, and the request never completes; QEMU 10 with
#    x-max-bounce-buffer-size=1G fails the same way).  The CBD backend's
#    bios point at the channel pages in the transport memory, so on cxl
#    the tests and the demo run the backend on a buffered loop device over
#    each virtio disk (losetup --direct-io=off; cbd_setup_disks in
#    cbd_lib.sh): the CPU copies into the page cache of /dev/vdX, which is
#    written by DMA from RAM, and flushes on the loop become fsyncs, i.e.
#    flushes of /dev/vdX.  CBD_CXL_LOOP=0 turns this off.  Not needed on
#    nvdimm/memmap (RAM to QEMU) or on real CXL hardware.
#
# Exit status: 0 if every test passed and the kernel stayed healthy (no
# panic, hang, WARNING/BUG/Oops/lockdep/KASAN splat, taint beyond O+E),
# non-zero otherwise.  The full serial log is kept on failure and its path
# printed.

VM_SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_REPO=$(cd "$VM_SELFTEST_DIR/../../../.." && pwd)
CBD_CACHE=${CBD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cbd}

# CBD_BAD_KLOG (kernel log lines that fail a run) and CBD_TAINT_ALLOWED (O+E)
# are shared with the guest side.
# shellcheck source=cbd_lib.sh
. "$VM_SELFTEST_DIR/cbd_lib.sh"

# Bump to force a rebuild of the cached initramfs base.
VM_BASE_VERSION=1

# Guest programs (besides busybox) and their shared libraries.
VM_BINS=(bash kmod dd fio mke2fs mkfs.ext4 e2fsck fsck.ext4 tune2fs dumpe2fs debugfs
	 mkfs.xfs xfs_repair xfs_io xfs_db xfs_admin
	 cxl ndctl daxctl blkdiscard blockdev wipefs lsblk fallocate losetup
	 dmsetup make-bcache nbd-client nbd-server sync stat cmp timeout)
# Guest modules (their dependencies are added automatically).
VM_MODS=(nd_pmem dax_pmem device_dax nd_e820 nfit nd_btt
	 cxl_acpi cxl_pci cxl_mem cxl_pmem
	 virtio_blk virtio_net 9p 9pnet_virtio
	 ext4 xfs crc32c_generic crc32c-intel libcrc32c
	 dm-mod dm-delay dm-flakey dm-writecache bcache loop nbd
	 null_blk brd)

vm_log() { printf 'vm: %s\n' "$*" >&2; }
vm_die() { vm_log "error: $*"; exit 2; }

# "1G" / "512M" / "1024" (MiB) -> MiB
vm_mib() {
	local v=${1^^}
	case "$v" in
	*G) echo $(( ${v%G} * 1024 )) ;;
	*M) echo "${v%M}" ;;
	*[!0-9]*|'') vm_die "bad size '$1' (use e.g. 512M or 1G)" ;;
	*) echo "$v" ;;
	esac
}

vm_kver() {
	[ -f "$CBD_CACHE/KVER" ] || vm_die "no $CBD_CACHE/KVER: run 'make setup' first"
	cat "$CBD_CACHE/KVER"
}

# Path to the tree that contains lib/modules/$KVER.
vm_modroot() { readlink -f "$CBD_CACHE/modules/../../.."; }

# Copy a file into the staging root at the same (resolved) path, creating
# symlinks for the path given and the resolved path.
vm_copy_file() {
	local root=$1 src=$2 real
	real=$(readlink -f "$src")
	[ -e "$root$real" ] || { mkdir -p "$root$(dirname "$real")"; cp -a "$real" "$root$real"; }
	if [ "$src" != "$real" ] && [ ! -e "$root$src" ] && [ ! -L "$root$src" ]; then
		mkdir -p "$root$(dirname "$src")"
		ln -s "$real" "$root$src"
	fi
}

vm_copy_bin() {
	local root=$1 name=$2 path lib
	path=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$name") ||
		vm_die "guest program '$name' not found on the host (run 'make setup')"
	vm_copy_file "$root" "$path"
	for lib in $(ldd "$path" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
		vm_copy_file "$root" "$lib"
	done
}

vm_base_key() {
	local kver=$1 b
	{
		echo "$VM_BASE_VERSION $kver ${VM_MODS[*]}"
		for b in "${VM_BINS[@]}" busybox; do
			ls -lL --time-style=+%s "$(PATH=/usr/sbin:/usr/bin command -v "$b")" 2>/dev/null
		done
		sha256sum "$VM_SELFTEST_DIR/vm.sh" | cut -c1-16
	} | sha256sum | cut -c1-16
}

# Build (or reuse) the cached base initramfs: busybox, tools, libraries,
# kernel modules.  Prints the path of the base directory.
# Build (or find) the cached initramfs base.  Serialised across runs: the
# prune below must not delete a base another run is still building.
vm_build_base() {
	mkdir -p "$CBD_CACHE/initramfs"
	(
		flock 8
		vm_build_base_locked
	) 8>"$CBD_CACHE/initramfs/.build.lock"
}

vm_build_base_locked() {
	local kver key dir root modroot m line
	kver=$(vm_kver)
	key=$(vm_base_key "$kver")
	dir="$CBD_CACHE/initramfs/$key"
	if [ -f "$dir/base.cpio" ]; then
		echo "$dir"
		return 0
	fi
	vm_log "building initramfs base ($dir)"
	# Drop outdated bases that no running VM holds.
	for m in "$CBD_CACHE"/initramfs/*/; do
		[ -d "$m" ] || continue
		flock -n "$m/lock" rm -rf "$m" 2>/dev/null || true
	done
	rm -rf "$dir"
	root="$dir/root"
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,etc,proc,sys,dev,tmp,run,mnt,root,var/tmp}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"

	for m in "${VM_BINS[@]}"; do
		vm_copy_bin "$root" "$m"
	done
	# In /usr/sbin like Debian: the kernel runs /sbin/modprobe to load
	# modules on demand (e.g. file systems at mount time).
	for m in modprobe insmod rmmod lsmod modinfo depmod; do
		ln -sf ../bin/kmod "$root/usr/sbin/$m"
	done
	cp /bin/busybox "$root/usr/bin/busybox"
	# Busybox applets for everything not provided by a real program.
	while read -r line; do
		line=/${line#/}
		case "$line" in /linuxrc) continue ;; esac
		[ -e "$root$line" ] || [ -L "$root$line" ] || ln -s /usr/bin/busybox "$root$line"
	done < <(busybox --list-full)

	cp /etc/mke2fs.conf "$root/etc/" 2>/dev/null || true
	ln -sf /proc/self/mounts "$root/etc/mtab"
	echo 'root:x:0:0:root:/root:/bin/bash' > "$root/etc/passwd"
	echo 'root:x:0:' > "$root/etc/group"

	# Modules with dependencies (-C /dev/null: ignore the host's modprobe.d).
	modroot=$(vm_modroot)
	for m in "${VM_MODS[@]}"; do
		modprobe -C /dev/null -d "$modroot" -S "$kver" --show-depends "$m" > "$dir/deps" ||
			vm_die "module $m not found in $modroot"
		awk '$1 == "insmod" {print $2}' "$dir/deps" >> "$dir/modlist"
	done
	# Stored uncompressed: no xz work under TCG, no kmod/kernel fallbacks.
	for m in $(sort -u "$dir/modlist"); do
		rel=${m#"$modroot"/}
		mkdir -p "$root/usr/$(dirname "$rel")"
		case "$m" in
		*.xz) xz -dc "$m" > "$root/usr/${rel%.xz}" ;;
		*.zst) zstd -qdc "$m" > "$root/usr/${rel%.zst}" ;;
		*) cp "$m" "$root/usr/$rel" ;;
		esac
	done
	rm -f "$dir/deps" "$dir/modlist"
	for m in modules.order modules.builtin modules.builtin.modinfo; do
		cp "$modroot/lib/modules/$kver/$m" "$root/usr/lib/modules/$kver/"
	done
	depmod -b "$root" "$kver"

	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$dir/base.cpio.tmp"
	mv "$dir/base.cpio.tmp" "$dir/base.cpio"
	echo "$dir"
}

# Build the per-run initramfs: base + overlay (init, tests, cbd.ko, config).
# $1 = run directory, $2 = base dir, rest = tests.  Writes $1/initrd.cpio.
vm_build_initrd() {
	local run=$1 base=$2 kver ov ko t
	shift 2
	kver=$(vm_kver)
	ko=${CBD_KO:-$VM_REPO/cbd.ko}
	[ -f "$ko" ] || vm_die "$ko not found: build it with 'make -C $VM_REPO modules'"
	ov="$run/overlay"
	rm -rf "$ov"
	mkdir -p "$ov/cbd" "$ov/usr/lib/modules/$kver/extra"
	cp "$VM_SELFTEST_DIR/guest_init.sh" "$ov/init"
	chmod 755 "$ov/init"
	# Guest side: every script except the host-side ones, plus the
	# helpers built by the Makefile (TEST_GEN_PROGS_EXTENDED).
	make -s -C "$VM_SELFTEST_DIR" all >&2 || vm_die "building the selftest helpers failed"
	cp "$VM_SELFTEST_DIR"/*.sh "$VM_SELFTEST_DIR/settings" "$ov/cbd/"
	rm -f "$ov/cbd/vm.sh" "$ov/cbd/setup.sh" "$ov/cbd/run_vm_tests.sh" \
	      "$ov/cbd/intree_check.sh" "$ov/cbd/demo.sh" "$ov/cbd/bench.sh"
	find "$VM_SELFTEST_DIR" -maxdepth 1 -type f -perm -u+x ! -name '*.sh' \
		-exec cp {} "$ov/cbd/" \;
	for t in "$@"; do
		[ -f "$VM_SELFTEST_DIR/$t" ] || vm_die "no such test: $t"
	done
	# The module, with modules.dep regenerated so that "modprobe cbd" works
	# (under a lock: the cached base tree is shared by concurrent runs).
	cp "$ko" "$ov/usr/lib/modules/$kver/extra/cbd.ko"
	[ -z "${CBD_KO_NOMH:-}" ] || cp "$CBD_KO_NOMH" "$ov/cbd/cbd_nomultihost.ko"
	[ ! -f "${CBD_ALT_KO:-}" ] || cp "$CBD_ALT_KO" "$ov/cbd/cbd_alt.ko"
	(
		flock 9
		local mdir="$base/root/usr/lib/modules/$kver"
		mkdir -p "$mdir/extra"
		cp "$ko" "$mdir/extra/cbd.ko"
		depmod -b "$base/root" "$kver"
		cp "$mdir"/modules.* "$ov/usr/lib/modules/$kver/"
		rm -f "$mdir/extra/cbd.ko"
	) 9>"$base/lock"

	# guest-side settings passed through when set
	for v in BENCH_RUNTIME DEMO_FIO_RUNTIME CBD_CXL_LOOP; do
		[ -z "${!v:-}" ] || echo "export $v='${!v}'" >> "$ov/cbd/run.conf"
	done
	cat >> "$ov/cbd/run.conf" <<-EOF
	VM_PMEM='$PMEM'
	VM_PMEM2='${PMEM2_SIZE:+1}'
	VM_TESTS='$*'
	VM_SHELL='${VM_SHELL:-0}'
	VM_TEST_TIMEOUT='$TEST_TIMEOUT'
	VM_GUEST_ID='${VM_GUEST_ID:-0}'
	VM_GUESTS='${VM_GUESTS:-1}'
	VM_SHARED='${VM_SHARED_DIR:+1}'
	EOF
	(cd "$ov" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$run/overlay.cpio"
	flock "$base/lock" cat "$base/base.cpio" "$run/overlay.cpio" > "$run/initrd.cpio"
	rm -rf "$ov" "$run/overlay.cpio"
}

# Create (or reuse) a sparse file of $2 MiB at $1.
vm_sparse() {
	[ -f "$1" ] && [ "$(stat -c %s "$1")" -eq $(( $2 * 1024 * 1024 )) ] && return 0
	rm -f "$1"
	truncate -s "${2}M" "$1"
}

# QEMU arguments for the transport memory; sets VM_QEMU_ARGS / VM_KARGS.
vm_pmem_args() {
	local run=$1 size size2 win lsa
	size=$(vm_mib "$PMEM_SIZE")
	size2=${PMEM2_SIZE:+$(vm_mib "$PMEM2_SIZE")}
	vm_sparse "$VM_PMEM_PATH" "$size"
	[ -z "$size2" ] || vm_sparse "$VM_PMEM_PATH.2" "$size2"
	case "$PMEM" in
	cxl)
		(( size % 256 == 0 )) || vm_die "PMEM_SIZE must be a multiple of 256M for cxl"
		[ -z "$size2" ] || (( size2 % 256 == 0 )) || vm_die "PMEM2_SIZE must be a multiple of 256M for cxl"
		VM_MACHINE="q35,cxl=on" VM_PCI_BUS=pcie.0
		VM_QEMU_ARGS+=(-cpu max,hypervisor=off -m "${MEM_MB}M")
		VM_KARGS+=" pcie_ports=compat"
		lsa=128K
		local i file sz fmw=""
		for i in 0 1; do
			file=$VM_PMEM_PATH sz=$size
			if [ "$i" = 1 ]; then
				[ -n "$size2" ] || break
				file=$VM_PMEM_PATH.2 sz=$size2
			fi
			# Label storage area: one per guest (guests sharing the
			# memory must not write each other's labels).
			local lsafile=$file.lsa
			[ "${VM_GUEST_ID:-0}" = 0 ] || lsafile+=".g$VM_GUEST_ID"
			[ -f "$lsafile" ] || truncate -s "$lsa" "$lsafile"
			win=$(( (sz + 4095) / 4096 * 4096 ))
			VM_QEMU_ARGS+=(
				-object "memory-backend-file,id=cxl-mem$i,share=on,mem-path=$file,size=${sz}M"
				-object "memory-backend-file,id=cxl-lsa$i,share=on,mem-path=$lsafile,size=$lsa"
				-device "pxb-cxl,bus_nr=$(( 12 + i * 10 )),bus=pcie.0,id=cxl.$i"
				-device "cxl-rp,port=0,bus=cxl.$i,id=cxl_rp$i,chassis=0,slot=$(( 2 + i ))"
				-device "cxl-type3,bus=cxl_rp$i,memdev=cxl-mem$i,lsa=cxl-lsa$i,id=cxl-pmem$i,sn=$(( i + 1 ))")
			fmw+=",cxl-fmw.$i.targets.0=cxl.$i,cxl-fmw.$i.size=${win}M"
		done
		VM_MACHINE+=$fmw
		;;
	nvdimm)
		VM_MACHINE="pc,nvdimm=on" VM_PCI_BUS=pci.0
		VM_QEMU_ARGS+=(-cpu max -m "${MEM_MB}M,slots=4,maxmem=$(( MEM_MB + size + ${size2:-0} + 1024 ))M"
			-object "memory-backend-file,id=nv0,share=on,mem-path=$VM_PMEM_PATH,size=${size}M"
			-device "nvdimm,id=nvdimm0,memdev=nv0")
		[ -z "$size2" ] || VM_QEMU_ARGS+=(
			-object "memory-backend-file,id=nv1,share=on,mem-path=$VM_PMEM_PATH.2,size=${size2}M"
			-device "nvdimm,id=nvdimm1,memdev=nv1")
		;;
	memmap)
		# Guest RAM marked as pmem (e820 type 12): not shared, not kept.
		[ -z "$size2" ] || vm_die "PMEM2_SIZE is not supported with PMEM=memmap"
		VM_MACHINE="pc" VM_PCI_BUS=pci.0
		# With >= 3.5G, pc maps 3G below 4G (firmware data at its top)
		# and the rest from 4G: the pmem range is the first part above 4G.
		VM_QEMU_ARGS+=(-cpu max -m "$(( (MEM_MB > 3072 ? MEM_MB : 3072) + size ))M")
		VM_KARGS+=" memmap=${size}M!4G"
		;;
	*) vm_die "PMEM must be cxl, nvdimm or memmap (got '$PMEM')" ;;
	esac
}

# virtio-blk disks: appends to VM_QEMU_ARGS.
vm_disk_args() {
	local run=$1 dir=${DISK_DIR:-$1} i=0 sz f
	mkdir -p "$dir"
	for sz in ${DISKS:-1G}; do
		f="$dir/disk$i.img"
		vm_sparse "$f" "$(vm_mib "$sz")"
		VM_QEMU_ARGS+=(-drive "file=$f,format=raw,if=none,id=vd$i,cache=unsafe,aio=threads"
			       -device "virtio-blk-pci,bus=$VM_PCI_BUS,drive=vd$i,serial=cbd-disk$i")
		i=$((i + 1))
	done
}

# Fill in defaults shared by all entry points.
vm_defaults() {
	PMEM=${PMEM:-cxl}
	PMEM_SIZE=${PMEM_SIZE:-1G}
	MEM=${MEM:-2G}
	MEM_MB=$(vm_mib "$MEM")
	SMP=${SMP:-2}
	TEST_TIMEOUT=${TEST_TIMEOUT:-$(sed -n 's/^timeout=//p' "$VM_SELFTEST_DIR/settings" 2>/dev/null)}
	TEST_TIMEOUT=${TEST_TIMEOUT:-600}
	OUT_DIR=${OUT_DIR:-$VM_SELFTEST_DIR/out}
	command -v qemu-system-x86_64 >/dev/null || vm_die "qemu-system-x86_64 missing: run 'make setup'"
	[ -e "$CBD_CACHE/vmlinuz" ] || vm_die "$CBD_CACHE/vmlinuz missing: run 'make setup'"
}

# Benchmarks need a quiet host.  bench.sh takes this lock exclusively
# (vm_quiet_lock -x) before its VM; every other VM run shares it, so a
# benchmark waits for running tests and tests wait for a running benchmark.
# CBD_QUIET_LOCK=none turns it off.
vm_quiet_lock() {
	local lock=${CBD_QUIET_LOCK:-/tmp/cbd-quiet.lock}
	[ "$lock" != none ] && [ -z "${CBD_QUIET_HELD:-}" ] || return 0
	exec 7>"$lock"
	[ "${1:--s}" = -s ] || vm_log "waiting for other VM runs to finish ($lock)"
	flock "${1:--s}" 7
	export CBD_QUIET_HELD=1
}

# Create a run directory and print its path.  $1 = short name.
vm_new_run() {
	local d
	mkdir -p "$OUT_DIR"
	d=$(mktemp -d "$OUT_DIR/$(date +%Y%m%d-%H%M%S)-$PMEM-${1:-run}.XXXX")
	echo "$d"
}

# Prepare the run directory and the QEMU command line (VM_QEMU_ARGS) for one
# guest.  $1 = run dir, rest = tests.  Files in the run dir: console.log
# (ttyS0: kernel console and test output), results.log (ttyS1: KTAP and the
# final status line), qemu.cmd, qemu.err.
vm_prepare() {
	local run=$1 base
	shift
	base=$(vm_build_base) || vm_die "building the initramfs failed"
	vm_build_initrd "$run" "$base" "$@"
	# A fresh memory file per run unless PMEM_FILE names one to keep.
	VM_PMEM_PATH=${PMEM_FILE:-/dev/shm/cbd-pmem-$(basename "$run").img}
	VM_PMEM_TEMP=0
	[ -n "${PMEM_FILE:-}" ] || { VM_PMEM_TEMP=1; VM_TEMP_FILES+=("$VM_PMEM_PATH"); }
	VM_QEMU_ARGS=()
	# no_timer_check: under TCG on a loaded host the boot-time IO-APIC
	# timer check can miss ticks and panic ("IO-APIC + timer doesn't
	# work"); the check is for real hardware.
	VM_KARGS="console=ttyS0,115200 oops=panic panic=-1 mitigations=off no_timer_check"
	vm_pmem_args "$run"
	vm_disk_args "$run"
	# multi-guest runs: a host directory shared by all guests (markers)
	[ -z "${VM_SHARED_DIR:-}" ] || VM_QEMU_ARGS+=(
		-fsdev "local,id=cbdshare,path=$VM_SHARED_DIR,security_model=none"
		-device "virtio-9p-pci,bus=$VM_PCI_BUS,fsdev=cbdshare,mount_tag=cbdshare")
	VM_QEMU_ARGS=(qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
		-accel tcg,thread=multi -machine "$VM_MACHINE" -smp "$SMP"
		-kernel "$CBD_CACHE/vmlinuz" -initrd "$run/initrd.cpio"
		-append "$VM_KARGS${VM_KARGS_EXTRA:+ $VM_KARGS_EXTRA}"
		-chardev "${VM_CONSOLE:-file,id=con,path=$run/console.log}" -serial chardev:con
		-chardev "file,id=res,path=$run/results.log" -serial chardev:res
		-nic none "${VM_QEMU_ARGS[@]}")
	printf '%q ' "${VM_QEMU_ARGS[@]}" > "$run/qemu.cmd"
	echo >> "$run/qemu.cmd"
	: > "$run/console.log"
	: > "$run/results.log"
}

# Start the guest prepared by vm_prepare in the background; sets VM_PID.
vm_start() {
	"${VM_QEMU_ARGS[@]}" </dev/null 2>"$1/qemu.err" >&2 &
	VM_PID=$!
	VM_ALL_PIDS+=("$VM_PID")
	# Never leave a guest behind if the runner is interrupted.
	trap 'vm_kill_all' EXIT
	trap 'vm_kill_all; exit 130' INT TERM
	VM_START_TIME=$(date +%s)
}

vm_dead() { ! kill -0 "$1" 2>/dev/null; }

# Guests started and not yet reaped (for the EXIT/INT trap).
VM_ALL_PIDS=()
# Temporary memory files to remove on exit, whatever happens.
VM_TEMP_FILES=()
vm_kill_all() {
	local p
	for p in "${VM_ALL_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${VM_TEMP_FILES[@]}"; do
		rm -f "$p" "$p".lsa* "$p".2 "$p".2.lsa*
	done
}

# Wait for the guest started by vm_start, streaming its test output.
# $1 = run dir, $2 = timeout in seconds.  Sets VM_RC (qemu exit status,
# 124 on timeout) and VM_ELAPSED.
vm_wait() {
	local run=$1 limit=$2 tailpid t0
	t0=$VM_START_TIME
	if [ "${VERBOSE:-0}" = 1 ]; then
		tail -n +1 -f --pid="$VM_PID" "$run/console.log" &
	elif [ "${VM_PLAIN:-0}" = 1 ]; then
		# Just the test's own output (demo).
		tail -n +1 -f --pid="$VM_PID" "$run/results.log" | tr -d '\r' |
			sed -u -n '/^# selftests:/d; /^# TAP version/d; /^# Totals/d; s/^# //p' &
	else
		tail -n +1 -f --pid="$VM_PID" "$run/results.log" | tr -d '\r' | grep --line-buffered -v '^CBD-VM: ' &
	fi
	tailpid=$!
	VM_RC=
	while kill -0 "$VM_PID" 2>/dev/null; do
		if (( $(date +%s) - t0 >= limit )); then
			vm_log "timeout: guest still running after ${limit}s, killing it"
			kill "$VM_PID" 2>/dev/null || true
			cbd_wait_for 5 vm_dead "$VM_PID" || kill -9 "$VM_PID" 2>/dev/null || true
			VM_RC=124
			break
		fi
		sleep 1
	done
	local rc=0
	wait "$VM_PID" 2>/dev/null || rc=$?
	VM_RC=${VM_RC:-$rc}
	wait "$tailpid" 2>/dev/null || true
	local p left=()
	for p in "${VM_ALL_PIDS[@]}"; do
		[ "$p" = "$VM_PID" ] || left+=("$p")
	done
	VM_ALL_PIDS=("${left[@]}")
	VM_ELAPSED=$(( $(date +%s) - t0 ))
}

# After a panic, the console from its first bad line on (the oops and its
# trace), so that a log that keeps only this output still shows it.
vm_log_trace() {
	local first

	grep -aq 'Kernel panic' "$1/console.log" || return 0
	first=$(grep -anm1 -E "$CBD_BAD_KLOG" "$1/console.log" | cut -d: -f1) || true
	[ -n "$first" ] || return 0
	vm_log "kernel console from line $first (at most 80 lines):"
	tr -d '\r' < "$1/console.log" |
		sed -n "${first},$((first + 79))s/^/vm:   /p" >&2
}

# Judge a finished run.  Prints a summary, sets VM_PASS VM_FAIL VM_SKIP and
# VM_HEALTH (empty if the kernel stayed healthy, else the reason), and
# returns 0 only if everything passed.  $1 = run dir, rest = tests expected.
vm_judge() {
	local run=$1 res status taint bad n t line
	shift
	res=$(tr -d '\r' < "$run/results.log")
	VM_PASS=0 VM_FAIL=0 VM_SKIP=0 VM_HEALTH=
	n=0
	for t in "$@"; do
		n=$((n + 1))
		line=$(grep -E "^(not )?ok $n " <<<"$res" | head -1) || true
		if [ -z "$line" ]; then
			VM_FAIL=$((VM_FAIL + 1))
			printf 'not ok %d selftests: cbd: %s # no result (guest died or hung)\n' "$n" "$t"
		elif [[ $line == "not ok"* ]]; then
			VM_FAIL=$((VM_FAIL + 1))
		elif [[ $line == *"# SKIP"* ]]; then
			VM_SKIP=$((VM_SKIP + 1))
		else
			VM_PASS=$((VM_PASS + 1))
		fi
	done

	status=$(grep '^CBD-VM: done' <<<"$res" | tail -1) || true
	bad=$(tr -d '\r' < "$run/console.log" | grep -aE '^\[ *[0-9]+\.[0-9]+\]' |
	      grep -aE "$CBD_BAD_KLOG" | head -5) || true
	if [ "$VM_RC" = 124 ]; then
		VM_HEALTH="guest hung (no shutdown within the host timeout)"
	elif grep -aq 'Kernel panic' "$run/console.log"; then
		VM_HEALTH="kernel panic"
	elif [ -n "$bad" ]; then
		VM_HEALTH="bad kernel log lines: $(head -1 <<<"$bad")"
	elif [ -z "$status" ]; then
		VM_HEALTH="guest did not finish (qemu exit $VM_RC, see qemu.err)"
	else
		taint=$(sed -n 's/.* taint=\([0-9]*\).*/\1/p' <<<"$status") || true
		if [ -z "$taint" ] || (( taint & ~CBD_TAINT_ALLOWED )); then
			VM_HEALTH="kernel tainted: ${taint:-unknown} (allowed: O+E = $CBD_TAINT_ALLOWED)"
		elif [[ $status != *" klog=clean"* ]]; then
			VM_HEALTH="guest kernel log check failed: $status"
		elif [[ $status != *" pmem=ok"* ]]; then
			VM_HEALTH="pmem ($PMEM) setup failed in the guest (see console.log)"
		fi
	fi
	if [ -n "$bad" ]; then
		vm_log "kernel log:"
		sed 's/^/vm:   /' <<<"$bad" >&2
	fi
	vm_log_trace "$run"
	[ -z "$VM_HEALTH" ] || vm_log "UNHEALTHY: $VM_HEALTH"
	if [ -s "$run/qemu.err" ]; then
		vm_log "qemu stderr:"
		sed 's/^/vm:   /' "$run/qemu.err" | head -10 >&2
	fi
	[ -z "$VM_HEALTH" ] && [ "$VM_FAIL" -eq 0 ]
}

# Remove the run's temporary files; keep logs if asked or on failure.
# $1 = run dir, $2 = 0 on success.
vm_cleanup() {
	local run=$1 ok=$2
	[ "${VM_PMEM_TEMP:-0}" = 0 ] ||
		rm -f "$VM_PMEM_PATH" "$VM_PMEM_PATH.2" "$VM_PMEM_PATH".lsa* "$VM_PMEM_PATH".2.lsa*
	rm -f "$run/initrd.cpio"
	[ -n "${DISK_DIR:-}" ] || rm -f "$run"/disk*.img
	if [ "$ok" = 0 ] && [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$run"
	else
		vm_log "logs: $run/console.log (kernel console), $run/results.log (KTAP)"
	fi
}

# Boot one guest, run the tests, judge.  Returns 0 on success.
vm_run() {
	local run rc
	run=$(vm_new_run "${VM_NAME:-$(basename "${1:-shell}" .sh)}")
	VM_RUN_DIR=$run
	vm_prepare "$run" "$@"
	vm_start "$run"
	local limit=${VM_TIMEOUT:-$(( 240 + TEST_TIMEOUT * ($# > 0 ? $# : 1) ))}
	vm_log "booting $PMEM guest (pid $VM_PID, timeout ${limit}s, logs in $run)"
	vm_wait "$run" "$limit"
	rc=0
	vm_judge "$run" "$@" || rc=1
	vm_log "guest finished in ${VM_ELAPSED}s: $VM_PASS passed, $VM_FAIL failed, $VM_SKIP skipped${VM_HEALTH:+, kernel unhealthy}"
	vm_cleanup "$run" "$rc"
	return "$rc"
}

# Boot several guests on the same memory (multi-host tests).  Each
# argument is one guest's test list (space separated):
#   vm_run_guests "mh_backend.sh" "mh_blkdev.sh"
# Guest i gets VM_GUEST_ID=i (hostname cbd-vm<i>, CBD_GUEST_ID=i in the
# tests), its own run directory and disks (DISK_DIR/g<i> if DISK_DIR is
# set); all share PMEM_FILE (cxl: each with its own label area).  Guest
# i+1 starts once guest i has set up its pmem, so that they do not create
# namespaces on the same memory at once.
#
# Coordination: a host directory (VM_SHARED_DIR, a fresh one under
# OUT_DIR) is shared with every guest over 9p (/cbd-shared, CBD_SHARED in
# the tests; helpers in cbd_mh_lib.sh).  A guest asks to be killed by
# writing kill-g<ID> there, with the lines "tag=TAG" and "restart=TESTS"
# (mh_kill_me): the runner SIGKILLs that guest's QEMU, then renames the
# file to killed-TAG and, if TESTS is not empty, boots guest ID again on
# the same memory and disks with TESTS.  A killed guest is judged on the
# results it reported before (plus one pass for the test that asked to
# die) and on its kernel log; the restarted guest is judged normally.
#
# Returns 0 only if every guest passed; VM_PASS/VM_FAIL/VM_SKIP are totals
# and VM_HEALTH is set if any guest was unhealthy.
vm_run_guests() {
	[ "$PMEM" != memmap ] || vm_die "PMEM=memmap is guest RAM: it cannot be shared"
	local shared=${PMEM_FILE:-/dev/shm/cbd-pmem-shared-$$.img} own_file=0
	# a fresh file also goes if the runner is interrupted (vm_kill_all)
	[ -n "${PMEM_FILE:-}" ] || { own_file=1; VM_TEMP_FILES+=("$shared"); }
	local i=0 n=$# rc=0 run tests k
	local -a runs=() pids=() starts=() lists=() gids=() ddirs=() done_=() oks=() tails=()
	local pass=0 fail=0 skip=0 health=
	mkdir -p "$OUT_DIR"
	VM_SHARED_DIR=$(mktemp -d "$OUT_DIR/shared.XXXX")
	chmod 777 "$VM_SHARED_DIR"
	VM_GUESTS=$n

	# vm_guest_boot ID DISKDIR TESTS: boot guest ID, append it to the lists
	vm_guest_boot() {
		local gid=$1 ddir=$2 list=$3 r t
		r=$(PMEM_FILE=$shared VM_GUEST_ID=$gid vm_new_run "g$gid")
		[ -n "$ddir" ] || ddir=$r
		# shellcheck disable=SC2086
		PMEM_FILE=$shared VM_GUEST_ID=$gid DISK_DIR=$ddir vm_prepare "$r" $list
		vm_start "$r"
		vm_log "guest $gid ($PMEM): pid $VM_PID, logs in $r"
		if [ "${VERBOSE:-0}" = 1 ]; then
			tail -n +1 -f --pid="$VM_PID" "$r/console.log" | sed -u "s/^/g$gid: /" &
		else
			tail -n +1 -f --pid="$VM_PID" "$r/results.log" | tr -d '\r' |
				grep --line-buffered -v '^CBD-VM: ' | sed -u "s/^/g$gid: /" &
		fi
		t=$!
		runs+=("$r") pids+=("$VM_PID") starts+=("$VM_START_TIME") lists+=("$list")
		gids+=("$gid") ddirs+=("$ddir") done_+=(0) oks+=(1) tails+=("$t")
	}

	for tests in "$@"; do
		vm_guest_boot "$i" "${DISK_DIR:+$DISK_DIR/g$i}" "$tests"
		if [ $((i + 1)) -lt "$n" ]; then
			cbd_wait_for 300 grep -aq '^cbd-vm: pmem' "${runs[$i]}/console.log" ||
				vm_log "guest $i: no pmem report after 300s, starting the next one anyway"
		fi
		i=$((i + 1))
	done

	# vm_guest_finish IDX KILLED: judge guest IDX and add up
	vm_guest_finish() {
		local x=$1 killed=$2 r
		r=${runs[$x]}
		wait "${tails[$x]}" 2>/dev/null || true
		# shellcheck disable=SC2086
		set -- ${lists[$x]}
		if [ "$killed" = 1 ]; then
			vm_judge_killed "$r" || oks[x]=0
		else
			vm_judge "$r" "$@" || oks[x]=0
		fi
		vm_log "guest ${gids[$x]}$([ "$killed" = 1 ] && echo " (killed on request)") finished in ${VM_ELAPSED}s: $VM_PASS passed, $VM_FAIL failed, $VM_SKIP skipped${VM_HEALTH:+, kernel unhealthy}"
		pass=$((pass + VM_PASS)) fail=$((fail + VM_FAIL)) skip=$((skip + VM_SKIP))
		[ -z "$VM_HEALTH" ] || health+="guest ${gids[$x]}: $VM_HEALTH; "
		[ "${oks[$x]}" = 1 ] || rc=1
		done_[x]=1
	}

	local left=1 x f tag restart limit
	while [ "$left" = 1 ]; do
		left=0
		for x in "${!runs[@]}"; do
			[ "${done_[$x]}" = 0 ] || continue
			left=1
			VM_PID=${pids[$x]}
			f=$VM_SHARED_DIR/kill-g${gids[$x]}
			if [ -f "$f" ] && ! vm_dead "$VM_PID"; then
				kill -9 "$VM_PID" 2>/dev/null || true
				wait "$VM_PID" 2>/dev/null || true
				tag=$(sed -n 's/^tag=//p' "$f") restart=$(sed -n 's/^restart=//p' "$f")
				vm_log "guest ${gids[$x]}: SIGKILLed at its request (${tag:-no tag})"
				mv "$f" "$VM_SHARED_DIR/killed-${tag:-g${gids[$x]}}"
				VM_RC=137 VM_ELAPSED=$(( $(date +%s) - starts[x] ))
				vm_guest_finish "$x" 1
				[ -z "$restart" ] || vm_guest_boot "${gids[$x]}" "${ddirs[$x]}" "$restart"
				continue
			fi
			# shellcheck disable=SC2086
			set -- ${lists[$x]}
			limit=${VM_TIMEOUT:-$(( 240 + TEST_TIMEOUT * ($# + n - 1) ))}
			if vm_dead "$VM_PID"; then
				VM_RC=0
				wait "$VM_PID" 2>/dev/null || VM_RC=$?
			elif (( $(date +%s) - starts[x] >= limit )); then
				vm_log "timeout: guest ${gids[$x]} still running after ${limit}s, killing it"
				kill "$VM_PID" 2>/dev/null || true
				cbd_wait_for 5 vm_dead "$VM_PID" || kill -9 "$VM_PID" 2>/dev/null || true
				wait "$VM_PID" 2>/dev/null || true
				VM_RC=124
			else
				continue
			fi
			VM_ELAPSED=$(( $(date +%s) - starts[x] ))
			vm_guest_finish "$x" 0
		done
		[ "$left" = 0 ] || sleep 1
	done
	VM_ALL_PIDS=()

	# Logs: a guest's run dir holds its disks, so clean up at the end.
	for x in "${!runs[@]}"; do
		k=0
		[ "$rc" = 0 ] || k=1
		VM_PMEM_TEMP=0 DISK_DIR=${ddirs[$x]} vm_cleanup "${runs[$x]}" "$k"
	done
	# the disk images go even when logs are kept (unless DISK_DIR= asked)
	[ -n "${DISK_DIR:-}" ] || for x in "${!runs[@]}"; do
		rm -f "${ddirs[$x]}"/disk*.img
	done
	if [ "$rc" = 0 ] && [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$VM_SHARED_DIR"
	else
		vm_log "shared directory: $VM_SHARED_DIR"
	fi
	[ "$own_file" = 0 ] || rm -f "$shared" "$shared".lsa* "$shared".2 "$shared".2.lsa*
	VM_SHARED_DIR=
	VM_PASS=$pass VM_FAIL=$fail VM_SKIP=$skip VM_HEALTH=$health
	VM_RUN_DIR=${runs[0]}
	return "$rc"
}

# Judge a guest killed at its own request (vm_run_guests): the results it
# reported before, one pass for the test that asked to die, and its kernel
# log up to the kill.
vm_judge_killed() {
	local run=$1 res bad
	res=$(tr -d '\r' < "$run/results.log")
	VM_PASS=$(grep -cE '^ok [0-9]+ selftests: ' <<<"$res" | head -1) || true
	VM_SKIP=$(grep -E '^ok [0-9]+ selftests: ' <<<"$res" | grep -c '# SKIP') || true
	VM_FAIL=$(grep -cE '^not ok [0-9]+ selftests: ' <<<"$res") || true
	VM_PASS=$(( VM_PASS - VM_SKIP + 1 ))
	VM_HEALTH=
	bad=$(tr -d '\r' < "$run/console.log" | grep -aE '^\[ *[0-9]+\.[0-9]+\]' |
	      grep -aE "$CBD_BAD_KLOG" | head -5) || true
	if grep -aq 'Kernel panic' "$run/console.log"; then
		VM_HEALTH="kernel panic"
	elif [ -n "$bad" ]; then
		VM_HEALTH="bad kernel log lines: $(head -1 <<<"$bad")"
		vm_log "kernel log:"
		sed 's/^/vm:   /' <<<"$bad" >&2
	fi
	vm_log_trace "$run"
	[ -z "$VM_HEALTH" ] || vm_log "UNHEALTHY: $VM_HEALTH"
	[ -z "$VM_HEALTH" ] && [ "$VM_FAIL" -eq 0 ]
}

vm_shell() {
	local run
	run=$(vm_new_run shell)
	VM_SHELL=1
	VM_CONSOLE="stdio,id=con,signal=off"
	vm_prepare "$run"
	vm_log "interactive shell on the serial console; 'poweroff -f' quits"
	"${VM_QEMU_ARGS[@]}" || true
	vm_cleanup "$run" 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	vm_defaults
	vm_quiet_lock -s
	if [ "${1:-}" = --shell ]; then
		vm_shell
		exit 0
	fi
	if [ "${1:-}" = --guests ]; then
		shift
		vm_run_guests "$@"
		exit
	fi
	[ $# -gt 0 ] || vm_die "usage: vm.sh TEST... | --shell (see the header of $0)"
	vm_run "$@"
fi
