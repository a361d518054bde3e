// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD transport: registration of a DAX-capable pmem device, its on-media
 * header (format and validation), slot accessors and allocators, and the
 * transportN sysfs tree.
 *
 * The header and every slot live in memory that other hosts (or a crash
 * of this one) may have written: nothing read from it is trusted.  The
 * header geometry is validated once at registration and copied into
 * struct cbd_transport; all later lookups use only those copies.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/parser.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cbd_adm.h"
#include "cbd_backend.h"
#include "cbd_blkdev.h"
#include "cbd_channel.h"
#include "cbd_debugfs.h"
#include "cbd_heartbeat.h"
#include "cbd_host.h"
#include "cbd_media.h"
#include "cbd_segment.h"
#include "cbd_transport.h"

/* The on-media layout is part of the ABI: keep it byte-compatible with v2. */
static_assert(sizeof(struct cbd_transport_info) == 80);
static_assert(offsetof(struct cbd_transport_info, host_area_off) == 16);
static_assert(offsetof(struct cbd_transport_info, segment_num) == 76);
static_assert(sizeof(struct cbd_host_info) == 48);
static_assert(offsetof(struct cbd_host_info, hostname) == 16);
static_assert(sizeof(struct cbd_backend_info) == 584);
static_assert(offsetof(struct cbd_backend_info, path) == 72);
static_assert(sizeof(struct cbd_blkdev_info) == 32);
static_assert(sizeof(struct cbd_segment_info) == 16);
static_assert(sizeof(struct cbd_channel_info) == 56);
static_assert(sizeof(struct cbd_transport_info) <= CBDT_INFO_SIZE);

/* Local transport ids; cbd_transports[] is indexed by them. */
static DEFINE_IDA(cbd_transport_ida);
/* Protects cbd_transports[] and serialises register against unregister. */
static DEFINE_MUTEX(cbd_transports_lock);
static struct cbd_transport *cbd_transports[CBD_TRANSPORT_MAX];

/* ------------------------------------------------------------------ */
/* persistence and DAX helpers                                        */
/* ------------------------------------------------------------------ */

void cbdt_flush(struct cbd_transport *cbdt, void *addr, size_t size)
{
	dax_flush(cbdt->dax_dev, addr, size);
	/*
	 * Order the cache write-backs before any later store (e.g. the
	 * state byte that publishes a record), as dm-writecache does.
	 */
	pmem_wmb();
}

void cbdt_zero_range(struct cbd_transport *cbdt, void *pos, size_t size)
{
	memset(pos, 0, size);
	cbdt_flush(cbdt, pos, size);
}

/* The page of transport page @nr as the DAX device gives it, or NULL. */
static struct page *cbdt_dax_page(struct cbd_transport *cbdt, pgoff_t nr)
{
	long mapped;
	pfn_t pfn;
	int id;

	id = dax_read_lock();
	mapped = dax_direct_access(cbdt->dax_dev, cbdt->dax_pgoff + nr, 1,
				   DAX_ACCESS, NULL, &pfn);
	dax_read_unlock(id);
	if (mapped < 1 || !pfn_t_has_page(pfn))
		return NULL;

	return pfn_t_to_page(pfn);
}

/*
 * Set cbdt->first_page if the last mapped page is where the first one
 * plus the size says: the pages of the linear range are then consecutive
 * (as the pmem driver maps them) and no page lookup has to go through the
 * DAX device.  Otherwise every lookup does.
 */
static void cbdt_dax_map_pages(struct cbd_transport *cbdt)
{
	pgoff_t last = (cbdt->size >> PAGE_SHIFT) - 1;
	struct page *first = cbdt_dax_page(cbdt, 0);

	cbdt->first_page = NULL;
	if (first && cbdt_dax_page(cbdt, last) == nth_page(first, last))
		cbdt->first_page = first;
}

/**
 * cbdt_page - page backing a transport offset
 * @cbdt: transport
 * @transport_off: byte offset in the transport
 * @page_off: if not NULL, set to the offset of @transport_off in the page
 *
 * Return: the page, or NULL if the offset is outside the transport or the
 * DAX device refuses access.
 */
struct page *cbdt_page(struct cbd_transport *cbdt, u64 transport_off,
		       u32 *page_off)
{
	struct page *page;

	if (transport_off >= cbdt->size)
		return NULL;

	if (cbdt->first_page)
		page = nth_page(cbdt->first_page, transport_off >> PAGE_SHIFT);
	else
		page = cbdt_dax_page(cbdt, transport_off >> PAGE_SHIFT);
	if (page && page_off)
		*page_off = transport_off & ~PAGE_MASK;

	return page;
}

static void cbdt_remove(struct cbd_transport *cbdt);

/*
 * The pmem device is going away (driver unbind, namespace disable, CXL
 * region teardown): its memory is unmapped once this returns, so stop
 * everything that could touch it and unregister, as a forced
 * transport_unregister would.  Called in a dax SRCU read section.
 *
 * A memory error in a registered transport is reported with the objects
 * in the failed range (cbdt_media_failure()); reads of the failed lines
 * fail their requests with EIO.  -EOPNOTSUPP lets memory_failure() go on
 * with its generic handling of the pages.
 */
static int cbdt_notify_failure(struct dax_device *dax_dev, u64 offset,
			       u64 len, int mf_flags)
{
	struct cbd_transport *cbdt = dax_holder(dax_dev);
	u64 base = (u64)cbdt->dax_pgoff << PAGE_SHIFT;

	if (mf_flags & MF_MEM_PRE_REMOVE) {
		cbdt_remove(cbdt);
		return 0;
	}

	/* @offset is in the dax device; the transport starts at dax_pgoff */
	if (offset < base) {
		if (len <= base - offset) {
			cbdt_log(err, cbdt,
				 "memory failure at dax offset %llu len %llu: before the transport\n",
				 offset, len);
			return -EOPNOTSUPP;
		}
		len -= base - offset;
		offset = base;
	}
	cbdt_media_failure(cbdt, offset - base, len);
	return -EOPNOTSUPP;
}

static const struct dax_holder_operations cbdt_dax_ops = {
	.notify_failure = cbdt_notify_failure,
};

/*
 * Open the pmem device exclusively, take its DAX device and map it.  The
 * pmem driver maps a namespace as one linear range, so the address of the
 * first page is the base of the whole transport; dax_direct_access()
 * tells how much of it is mapped.
 */
static int cbdt_dax_init(struct cbd_transport *cbdt)
{
	struct block_device *bdev;
	u64 start_off = 0;
	long nr_pages, mapped;
	void *kaddr;
	int ret, id;

	cbdt->bdev_file = bdev_file_open_by_path(cbdt->path,
						 BLK_OPEN_READ | BLK_OPEN_WRITE,
						 cbdt, NULL);
	if (IS_ERR(cbdt->bdev_file)) {
		ret = PTR_ERR(cbdt->bdev_file);
		cbdt_log(err, cbdt, "failed to open %s: %d\n", cbdt->path, ret);
		goto err;
	}
	bdev = file_bdev(cbdt->bdev_file);

	cbdt->dax_dev = fs_dax_get_by_bdev(bdev, &start_off, cbdt, &cbdt_dax_ops);
	if (!cbdt->dax_dev) {
		cbdt_log(err, cbdt, "%s is not DAX capable or already in use\n",
			 cbdt->path);
		ret = -ENODEV;
		goto err_close_bdev;
	}
	cbdt->dax_pgoff = start_off >> PAGE_SHIFT;

	nr_pages = bdev_nr_bytes(bdev) >> PAGE_SHIFT;
	id = dax_read_lock();
	mapped = dax_direct_access(cbdt->dax_dev, cbdt->dax_pgoff, nr_pages,
				   DAX_ACCESS, &kaddr, NULL);
	dax_read_unlock(id);
	if (mapped <= 0) {
		ret = mapped ? mapped : -EIO;
		cbdt_log(err, cbdt, "dax_direct_access failed: %d\n", ret);
		goto err_put_dax;
	}

	cbdt->base = kaddr;
	cbdt->size = (u64)min(mapped, nr_pages) << PAGE_SHIFT;
	cbdt->info = kaddr;
	cbdt_dax_map_pages(cbdt);
	return 0;

err_put_dax:
	fs_put_dax(cbdt->dax_dev, cbdt);
err_close_bdev:
	fput(cbdt->bdev_file);
err:
	cbdt->dax_dev = NULL;
	cbdt->bdev_file = NULL;
	return ret;
}

static void cbdt_dax_exit(struct cbd_transport *cbdt)
{
	fs_put_dax(cbdt->dax_dev, cbdt);
	fput(cbdt->bdev_file);
}

/* ------------------------------------------------------------------ */
/* format and validation                                              */
/* ------------------------------------------------------------------ */

static u16 cbdt_expected_flags(void)
{
	u16 flags = 0;

	if (IS_ENABLED(CONFIG_CPU_BIG_ENDIAN))
		flags |= CBDT_INFO_F_BIGENDIAN;
	if (IS_ENABLED(CONFIG_CBD_CRC))
		flags |= CBDT_INFO_F_CRC;

	return flags;
}

/*
 * Check the geometry of a header against the mapped size and copy it into
 * @cbdt.  A header written by another host or damaged by a crash must
 * never make a slot lookup leave the mapping.
 */
static int cbdt_load_geometry(struct cbd_transport *cbdt,
			      const struct cbd_transport_info *info)
{
	struct {
		u64 off;
		u32 size, num, stride;
	} area[4] = {
		{ le64_to_cpu(info->host_area_off), le32_to_cpu(info->host_info_size),
		  le32_to_cpu(info->host_num), CBDT_HOST_INFO_SIZE },
		{ le64_to_cpu(info->backend_area_off), le32_to_cpu(info->backend_info_size),
		  le32_to_cpu(info->backend_num), CBDT_BACKEND_INFO_SIZE },
		{ le64_to_cpu(info->blkdev_area_off), le32_to_cpu(info->blkdev_info_size),
		  le32_to_cpu(info->blkdev_num), CBDT_BLKDEV_INFO_SIZE },
		{ le64_to_cpu(info->segment_area_off), le32_to_cpu(info->segment_size),
		  le32_to_cpu(info->segment_num), CBDT_SEG_SIZE },
	};
	u64 end = CBDT_INFO_SIZE, len;
	int i;

	for (i = 0; i < ARRAY_SIZE(area); i++) {
		if (area[i].size != area[i].stride || !area[i].num ||
		    !PAGE_ALIGNED(area[i].off) || area[i].off < end)
			return -EINVAL;
		/* slot counts are u32, strides <= 16 MiB: no u64 overflow */
		len = (u64)area[i].num * area[i].size;
		if (check_add_overflow(area[i].off, len, &end) || end > cbdt->size)
			return -EINVAL;
	}

	cbdt->host_area_off = area[0].off;
	cbdt->host_info_size = area[0].size;
	cbdt->host_num = area[0].num;
	cbdt->backend_area_off = area[1].off;
	cbdt->backend_info_size = area[1].size;
	cbdt->backend_num = area[1].num;
	cbdt->blkdev_area_off = area[2].off;
	cbdt->blkdev_info_size = area[2].size;
	cbdt->blkdev_num = area[2].num;
	cbdt->segment_area_off = area[3].off;
	cbdt->segment_size = area[3].size;
	cbdt->segment_num = area[3].num;
	return 0;
}

static int cbdt_validate(struct cbd_transport *cbdt)
{
	struct cbd_transport_info *info = cbdt->info;
	u16 flags = le16_to_cpu(info->flags);
	u16 expected = cbdt_expected_flags();

	if (cbdt->size < CBD_TRASNPORT_SIZE_MIN) {
		cbdt_log(err, cbdt, "device too small: %llu bytes\n", cbdt->size);
		return -EINVAL;
	}

	if (le64_to_cpu(info->magic) != CBD_TRANSPORT_MAGIC) {
		cbdt_log(err, cbdt, "bad magic 0x%llx: not a CBD transport (format it)\n",
			 le64_to_cpu(info->magic));
		return -EINVAL;
	}

	if (le16_to_cpu(info->version) != CBD_TRANSPORT_VERSION) {
		cbdt_log(err, cbdt, "unsupported version %u\n",
			 le16_to_cpu(info->version));
		return -EINVAL;
	}

	if ((flags ^ expected) & CBDT_INFO_F_BIGENDIAN) {
		cbdt_log(err, cbdt, "transport was formatted with another endianness\n");
		return -EINVAL;
	}

	/* se/ce layouts differ with and without CRC: both must agree. */
	if ((flags ^ expected) & CBDT_INFO_F_CRC) {
		cbdt_log(err, cbdt, "transport %s CRC but this kernel %s CONFIG_CBD_CRC\n",
			 flags & CBDT_INFO_F_CRC ? "uses" : "does not use",
			 IS_ENABLED(CONFIG_CBD_CRC) ? "has" : "lacks");
		return -EINVAL;
	}

	if (flags & ~(CBDT_INFO_F_BIGENDIAN | CBDT_INFO_F_CRC)) {
		cbdt_log(err, cbdt, "unknown flags 0x%x\n", flags);
		return -EINVAL;
	}

	if (cbdt_load_geometry(cbdt, info)) {
		cbdt_log(err, cbdt, "invalid transport geometry\n");
		return -EINVAL;
	}

	return 0;
}

/*
 * Host slots in use on a formatted transport, 0 if its header is not
 * valid.  Nothing watches the heartbeats before registration, so a slot
 * that a crashed host left counts as well: force=1 formats anyway.
 */
static u32 cbdt_hosts_before_format(struct cbd_transport *cbdt)
{
	if (le64_to_cpu(cbdt->info->magic) != CBD_TRANSPORT_MAGIC ||
	    cbdt_load_geometry(cbdt, cbdt->info))
		return 0;

	return cbd_hosts_in_use(cbdt);
}

/*
 * v2 sizing: host, backend and blkdev slots and segments come 1:1:1:1, so
 * nr = (size - header) / (3 slots + 1 segment).  Kept for compatibility.
 */
static void cbdt_format_header(struct cbd_transport *cbdt,
			       struct cbd_transport_info *info)
{
	u64 nr, off;

	nr = div_u64(cbdt->size - CBDT_INFO_SIZE,
		     CBDT_HOST_INFO_SIZE + CBDT_BACKEND_INFO_SIZE +
		     CBDT_BLKDEV_INFO_SIZE + CBDT_SEG_SIZE);
	nr = min_t(u64, nr, U32_MAX);

	info->version = cpu_to_le16(CBD_TRANSPORT_VERSION);
	info->flags = cpu_to_le16(cbdt_expected_flags());

	off = CBDT_INFO_SIZE;
	info->host_area_off = cpu_to_le64(off);
	info->host_info_size = cpu_to_le32(CBDT_HOST_INFO_SIZE);
	info->host_num = cpu_to_le32(nr);

	off += CBDT_HOST_INFO_SIZE * nr;
	info->backend_area_off = cpu_to_le64(off);
	info->backend_info_size = cpu_to_le32(CBDT_BACKEND_INFO_SIZE);
	info->backend_num = cpu_to_le32(nr);

	off += CBDT_BACKEND_INFO_SIZE * nr;
	info->blkdev_area_off = cpu_to_le64(off);
	info->blkdev_info_size = cpu_to_le32(CBDT_BLKDEV_INFO_SIZE);
	info->blkdev_num = cpu_to_le32(nr);

	off += CBDT_BLKDEV_INFO_SIZE * nr;
	info->segment_area_off = cpu_to_le64(off);
	info->segment_size = cpu_to_le32(CBDT_SEG_SIZE);
	info->segment_num = cpu_to_le32(nr);
}

static int cbdt_format_allowed(struct cbd_transport *cbdt, bool force)
{
	u32 used;

	if (le64_to_cpu(cbdt->info->magic) == CBD_TRANSPORT_MAGIC && !force) {
		used = cbdt_hosts_before_format(cbdt);
		if (used) {
			cbdt_log(err, cbdt,
				 "%u host slot(s) in use (a host may be alive), use force=1 to format\n",
				 used);
			return -EBUSY;
		}
		cbdt_log(err, cbdt, "transport already formatted, use force=1 to format\n");
		return -EEXIST;
	}

	if (cbdt->size < CBD_TRASNPORT_SIZE_MIN) {
		cbdt_log(err, cbdt, "device too small: %llu bytes, at least %llu needed\n",
			 cbdt->size, CBD_TRASNPORT_SIZE_MIN);
		return -ENOSPC;
	}

	return 0;
}

static int cbdt_format(struct cbd_transport *cbdt, bool force)
{
	struct cbd_transport_info *info = cbdt->info;
	struct cbd_transport_info hdr = {};
	int ret;
	u32 i;

	ret = cbdt_format_allowed(cbdt, force);
	if (ret)
		return ret;

	/* Geometry from a private copy: nobody else can change it under us. */
	cbdt_format_header(cbdt, &hdr);
	ret = cbdt_load_geometry(cbdt, &hdr);
	if (ret)
		return ret;

	/*
	 * The magic goes away first and comes back last, so that a crash in
	 * the middle leaves a transport that is rejected, not a half-zeroed
	 * one that is accepted.
	 */
	WRITE_ONCE(info->magic, 0);
	cbdt_flush(cbdt, &info->magic, sizeof(info->magic));

	cbdt_zero_range(cbdt, cbdt->base + cbdt->host_area_off,
			cbdt->segment_area_off - cbdt->host_area_off);
	for (i = 0; i < cbdt->segment_num; i++)
		cbdt_zero_range(cbdt, cbdt_segment_info(cbdt, i),
				sizeof(struct cbd_segment_info));

	/* hdr.magic is still 0 */
	memcpy(info, &hdr, sizeof(hdr));
	cbdt_flush(cbdt, info, sizeof(*info));

	WRITE_ONCE(info->magic, cpu_to_le64(CBD_TRANSPORT_MAGIC));
	cbdt_flush(cbdt, &info->magic, sizeof(info->magic));

	cbdt_log(info, cbdt, "formatted %s: %u slots of each kind\n", cbdt->path,
		 cbdt->segment_num);
	return 0;
}

/* hosts_registered is informational only; it is not atomic across hosts. */
static void cbdt_hosts_registered_add(struct cbd_transport *cbdt, int delta)
{
	__le32 *cnt = &cbdt->info->hosts_registered;
	u32 val = le32_to_cpu(READ_ONCE(*cnt));

	if (delta < 0 && !val)
		return;

	WRITE_ONCE(*cnt, cpu_to_le32(val + delta));
	cbdt_flush(cbdt, cnt, sizeof(*cnt));
}

/* ------------------------------------------------------------------ */
/* slot accessors and allocators                                      */
/* ------------------------------------------------------------------ */

bool cbdt_host_id_valid(struct cbd_transport *cbdt, u32 id)
{
	return id < cbdt->host_num;
}

bool cbdt_backend_id_valid(struct cbd_transport *cbdt, u32 id)
{
	return id < cbdt->backend_num;
}

bool cbdt_blkdev_id_valid(struct cbd_transport *cbdt, u32 id)
{
	return id < cbdt->blkdev_num;
}

bool cbdt_segment_id_valid(struct cbd_transport *cbdt, u32 id)
{
	return id < cbdt->segment_num;
}

/* Callers validate ids first; an invalid one here is a driver bug. */
static void *cbdt_slot(struct cbd_transport *cbdt, u64 area_off, u32 stride,
		       u32 num, u32 id)
{
	if (WARN_ON_ONCE(id >= num))
		return NULL;

	return cbdt->base + area_off + (u64)stride * id;
}

struct cbd_host_info *cbdt_host_info(struct cbd_transport *cbdt, u32 id)
{
	return cbdt_slot(cbdt, cbdt->host_area_off, cbdt->host_info_size,
			 cbdt->host_num, id);
}

struct cbd_backend_info *cbdt_backend_info(struct cbd_transport *cbdt, u32 id)
{
	return cbdt_slot(cbdt, cbdt->backend_area_off, cbdt->backend_info_size,
			 cbdt->backend_num, id);
}

struct cbd_blkdev_info *cbdt_blkdev_info(struct cbd_transport *cbdt, u32 id)
{
	return cbdt_slot(cbdt, cbdt->blkdev_area_off, cbdt->blkdev_info_size,
			 cbdt->blkdev_num, id);
}

struct cbd_segment_info *cbdt_segment_info(struct cbd_transport *cbdt, u32 id)
{
	return cbdt_slot(cbdt, cbdt->segment_area_off, cbdt->segment_size,
			 cbdt->segment_num, id);
}

/*
 * Find a free slot and claim it with cmpxchg() on its state byte, so two
 * hosts allocating at once never take the same one.  The rest of the
 * first @size bytes is then zeroed and the heartbeat set, so that nobody
 * clears the slot as dead before its owner's first heartbeat.
 */
static int cbdt_claim_slot(struct cbd_transport *cbdt, u64 area_off,
			   u32 stride, u32 num, size_t size,
			   size_t alive_ts_off, u32 *id)
{
	void *slot;
	u32 i;

	for (i = 0; i < num; i++) {
		slot = cbdt_slot(cbdt, area_off, stride, num, i);
		if (!cbd_slot_claim(slot))
			continue;

		memset(slot + 1, 0, size - 1);
		cbd_alive_ts_update(slot + alive_ts_off);
		cbdt_flush(cbdt, slot, size);
		*id = i;
		return 0;
	}

	return -ENOENT;
}

int cbdt_claim_host_id(struct cbd_transport *cbdt, u32 *id)
{
	return cbdt_claim_slot(cbdt, cbdt->host_area_off,
				   cbdt->host_info_size, cbdt->host_num,
				   cbdt->host_info_size,
				   offsetof(struct cbd_host_info, alive_ts), id);
}

int cbdt_claim_backend_id(struct cbd_transport *cbdt, u32 *id)
{
	return cbdt_claim_slot(cbdt, cbdt->backend_area_off,
				   cbdt->backend_info_size, cbdt->backend_num,
				   cbdt->backend_info_size,
				   offsetof(struct cbd_backend_info, alive_ts), id);
}

int cbdt_claim_blkdev_id(struct cbd_transport *cbdt, u32 *id)
{
	return cbdt_claim_slot(cbdt, cbdt->blkdev_area_off,
				   cbdt->blkdev_info_size, cbdt->blkdev_num,
				   cbdt->blkdev_info_size,
				   offsetof(struct cbd_blkdev_info, alive_ts), id);
}

/* Only the 16-byte header is zeroed (no 16 MiB memset in the I/O path). */
int cbdt_claim_segment_id(struct cbd_transport *cbdt, u32 *id)
{
	return cbdt_claim_slot(cbdt, cbdt->segment_area_off,
				   cbdt->segment_size, cbdt->segment_num,
				   sizeof(struct cbd_segment_info),
				   offsetof(struct cbd_segment_info, alive_ts), id);
}

/* ------------------------------------------------------------------ */
/* local object lists                                                 */
/* ------------------------------------------------------------------ */

void cbdt_add_backend(struct cbd_transport *cbdt, struct cbd_backend *cbdb)
{
	spin_lock(&cbdt->lock);
	list_add(&cbdb->node, &cbdt->backends);
	spin_unlock(&cbdt->lock);
}

void cbdt_del_backend(struct cbd_transport *cbdt, struct cbd_backend *cbdb)
{
	spin_lock(&cbdt->lock);
	list_del_init(&cbdb->node);
	spin_unlock(&cbdt->lock);
}

/*
 * Call @fn on the backend @id if it runs on this host.  Under cbdt->lock:
 * a backend leaves the list before it is freed, so a blkdev on this host
 * can reach its backend by id without holding a pointer that a stop or a
 * crash would leave dangling.
 */
static void cbdt_backend_call(struct cbd_transport *cbdt, u32 id,
			      void (*fn)(struct cbd_backend *cbdb, u32 arg),
			      u32 arg)
{
	struct cbd_backend *cbdb;

	spin_lock(&cbdt->lock);
	list_for_each_entry(cbdb, &cbdt->backends, node) {
		if (cbdb->backend_id == id) {
			fn(cbdb, arg);
			break;
		}
	}
	spin_unlock(&cbdt->lock);
}

static void cbdt_kick_backend_fn(struct cbd_backend *cbdb, u32 unused)
{
	cbd_backend_kick_state(cbdb);
}

/**
 * cbdt_kick_backend - make a local backend rescan its channels now
 * @cbdt: transport
 * @backend_id: backend
 */
void cbdt_kick_backend(struct cbd_transport *cbdt, u32 backend_id)
{
	cbdt_backend_call(cbdt, backend_id, cbdt_kick_backend_fn, 0);
}

/*
 * The local backend or blkdev with slot @id, or NULL.  Only adm
 * operations (under adm_lock) and unregister (after adm is disabled)
 * start and stop them, so the result stays valid for such a caller.
 */
struct cbd_backend *cbdt_find_backend(struct cbd_transport *cbdt, u32 id)
{
	struct cbd_backend *cbdb, *found = NULL;

	spin_lock(&cbdt->lock);
	list_for_each_entry(cbdb, &cbdt->backends, node) {
		if (cbdb->backend_id == id) {
			found = cbdb;
			break;
		}
	}
	spin_unlock(&cbdt->lock);

	return found;
}

void cbdt_add_blkdev(struct cbd_transport *cbdt, struct cbd_blkdev *blkdev)
{
	spin_lock(&cbdt->lock);
	list_add(&blkdev->node, &cbdt->blkdevs);
	spin_unlock(&cbdt->lock);
}

void cbdt_del_blkdev(struct cbd_transport *cbdt, struct cbd_blkdev *blkdev)
{
	spin_lock(&cbdt->lock);
	list_del_init(&blkdev->node);
	spin_unlock(&cbdt->lock);
}

struct cbd_blkdev *cbdt_find_blkdev(struct cbd_transport *cbdt, u32 id)
{
	struct cbd_blkdev *blkdev, *found = NULL;

	spin_lock(&cbdt->lock);
	list_for_each_entry(blkdev, &cbdt->blkdevs, node) {
		if (blkdev->blkdev_id == id) {
			found = blkdev;
			break;
		}
	}
	spin_unlock(&cbdt->lock);

	return found;
}

static bool cbdt_has_local_objects(struct cbd_transport *cbdt)
{
	bool busy;

	spin_lock(&cbdt->lock);
	busy = !list_empty(&cbdt->backends) || !list_empty(&cbdt->blkdevs);
	spin_unlock(&cbdt->lock);

	return busy;
}

/* ------------------------------------------------------------------ */
/* sysfs: transportN attributes                                       */
/* ------------------------------------------------------------------ */

static inline struct cbd_transport *to_cbdt(struct device *dev)
{
	return container_of(dev, struct cbd_transport, device);
}

static ssize_t adm_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct cbd_transport *cbdt = to_cbdt(dev);
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	/* cbd_adm_run() takes adm_lock itself; state_lock fences unregister. */
	mutex_lock(&cbdt->state_lock);
	if (cbdt->adm_enabled)
		ret = cbd_adm_run(cbdt, buf, count);
	else
		ret = -ENODEV;
	mutex_unlock(&cbdt->state_lock);

	return ret < 0 ? ret : count;
}
static DEVICE_ATTR_WO(adm);

static ssize_t info_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct cbd_transport *cbdt = to_cbdt(dev);
	struct cbd_transport_info *info = cbdt->info;

	return sysfs_emit(buf,
			  "magic: 0x%llx\nversion: %u\nflags: %x\n\n"
			  "hosts_registered: %u\nhost_area_off: %llu\n"
			  "bytes_per_host_info: %u\nhost_num: %u\n\n"
			  "backend_area_off: %llu\nbytes_per_backend_info: %u\n"
			  "backend_num: %u\n\n"
			  "blkdev_area_off: %llu\nbytes_per_blkdev_info: %u\n"
			  "blkdev_num: %u\n\n"
			  "segment_area_off: %llu\nbytes_per_segment: %u\n"
			  "segment_num: %u\n",
			  le64_to_cpu(READ_ONCE(info->magic)),
			  le16_to_cpu(READ_ONCE(info->version)),
			  le16_to_cpu(READ_ONCE(info->flags)),
			  le32_to_cpu(READ_ONCE(info->hosts_registered)),
			  cbdt->host_area_off, cbdt->host_info_size, cbdt->host_num,
			  cbdt->backend_area_off, cbdt->backend_info_size,
			  cbdt->backend_num,
			  cbdt->blkdev_area_off, cbdt->blkdev_info_size,
			  cbdt->blkdev_num,
			  cbdt->segment_area_off, cbdt->segment_size,
			  cbdt->segment_num);
}
static DEVICE_ATTR_ADMIN_RO(info);

static ssize_t my_host_id_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct cbd_transport *cbdt = to_cbdt(dev);
	ssize_t ret = 0;

	/* cbdt->host exists exactly while adm is enabled. */
	mutex_lock(&cbdt->state_lock);
	if (cbdt->adm_enabled)
		ret = sysfs_emit(buf, "%u\n", cbdt->host->host_id);
	mutex_unlock(&cbdt->state_lock);

	return ret;
}
static DEVICE_ATTR_ADMIN_RO(my_host_id);

/* v3/cbdctrl name of my_host_id */
static struct device_attribute dev_attr_host_id =
	__ATTR(host_id, 0400, my_host_id_show, NULL);

static ssize_t path_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_cbdt(dev)->path);
}
static DEVICE_ATTR_ADMIN_RO(path);

static struct attribute *cbd_transport_attrs[] = {
	&dev_attr_adm.attr,
	&dev_attr_info.attr,
	&dev_attr_my_host_id.attr,
	&dev_attr_host_id.attr,
	&dev_attr_path.attr,
	NULL,
};
ATTRIBUTE_GROUPS(cbd_transport);

static const struct device_type cbd_transport_type = {
	.name	= "cbd_transport",
	.groups	= cbd_transport_groups,
};

/* ------------------------------------------------------------------ */
/* sysfs: containers and one child per slot                           */
/* ------------------------------------------------------------------ */

static void cbd_obj_device_release(struct device *dev)
{
	kfree(to_cbd_obj_device(dev));
}

static void cbd_obj_container_release(struct device *dev)
{
	struct cbd_obj_container *cont =
		container_of(dev, struct cbd_obj_container, dev);

	kfree(cont->children);
	kfree(cont);
}

static int cbd_obj_child_add(struct cbd_transport *cbdt,
			     struct cbd_obj_container *cont, u32 id,
			     const char *prefix, const struct device_type *type)
{
	struct cbd_obj_device *obj;
	int ret;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return -ENOMEM;

	obj->cbdt = cbdt;
	obj->id = id;
	device_initialize(&obj->dev);
	obj->dev.parent = &cont->dev;
	obj->dev.type = type;
	obj->dev.release = cbd_obj_device_release;

	ret = dev_set_name(&obj->dev, "%s%u", prefix, id);
	if (!ret)
		ret = device_add(&obj->dev);
	if (ret) {
		put_device(&obj->dev);
		return ret;
	}

	cont->children[id] = obj;
	return 0;
}

static void cbd_obj_container_destroy(struct cbd_obj_container *cont)
{
	u32 i;

	for (i = cont->num; i-- > 0;) {
		if (cont->children[i])
			device_unregister(&cont->children[i]->dev);
	}
	device_unregister(&cont->dev);
}

static struct cbd_obj_container *
cbd_obj_container_create(struct cbd_transport *cbdt, const char *name,
			 const struct device_type *type, u32 num,
			 const char *child_prefix,
			 const struct device_type *child_type)
{
	struct cbd_obj_container *cont;
	int ret;
	u32 i;

	cont = kzalloc(sizeof(*cont), GFP_KERNEL);
	if (!cont)
		return ERR_PTR(-ENOMEM);

	cont->children = kcalloc(num, sizeof(*cont->children), GFP_KERNEL);
	if (!cont->children) {
		kfree(cont);
		return ERR_PTR(-ENOMEM);
	}
	cont->num = num;

	device_initialize(&cont->dev);
	cont->dev.parent = &cbdt->device;
	cont->dev.type = type;
	cont->dev.release = cbd_obj_container_release;
	ret = dev_set_name(&cont->dev, "%s", name);
	if (!ret)
		ret = device_add(&cont->dev);
	if (ret) {
		put_device(&cont->dev);
		return ERR_PTR(ret);
	}

	for (i = 0; i < num; i++) {
		ret = cbd_obj_child_add(cbdt, cont, i, child_prefix, child_type);
		if (ret) {
			cbd_obj_container_destroy(cont);
			return ERR_PTR(ret);
		}
	}

	return cont;
}

static int cbdt_sysfs_init(struct cbd_transport *cbdt)
{
	struct cbd_obj_container *cont;
	int ret;

	cont = cbd_obj_container_create(cbdt, "cbd_hosts", &cbd_hosts_type,
					cbdt->host_num, "host", &cbd_host_type);
	if (IS_ERR(cont))
		return PTR_ERR(cont);
	cbdt->hosts_dev = cont;

	cont = cbd_obj_container_create(cbdt, "cbd_backends", &cbd_backends_type,
					cbdt->backend_num, "backend",
					&cbd_backend_type);
	if (IS_ERR(cont)) {
		ret = PTR_ERR(cont);
		goto err_destroy_hosts;
	}
	cbdt->backends_dev = cont;

	cont = cbd_obj_container_create(cbdt, "cbd_segments", &cbd_segments_type,
					cbdt->segment_num, "segment",
					&cbd_segment_type);
	if (IS_ERR(cont)) {
		ret = PTR_ERR(cont);
		goto err_destroy_backends;
	}
	cbdt->segments_dev = cont;

	cont = cbd_obj_container_create(cbdt, "cbd_blkdevs", &cbd_blkdevs_type,
					cbdt->blkdev_num, "blkdev",
					&cbd_blkdev_type);
	if (IS_ERR(cont)) {
		ret = PTR_ERR(cont);
		goto err_destroy_segments;
	}
	cbdt->blkdevs_dev = cont;

	return 0;

err_destroy_segments:
	cbd_obj_container_destroy(cbdt->segments_dev);
err_destroy_backends:
	cbd_obj_container_destroy(cbdt->backends_dev);
err_destroy_hosts:
	cbd_obj_container_destroy(cbdt->hosts_dev);
	return ret;
}

static void cbdt_sysfs_exit(struct cbd_transport *cbdt)
{
	cbd_obj_container_destroy(cbdt->blkdevs_dev);
	cbd_obj_container_destroy(cbdt->segments_dev);
	cbd_obj_container_destroy(cbdt->backends_dev);
	cbd_obj_container_destroy(cbdt->hosts_dev);
}

/* ------------------------------------------------------------------ */
/* register / unregister                                              */
/* ------------------------------------------------------------------ */

struct cbdt_register_options {
	char path[CBD_PATH_LEN];
	char hostname[CBD_NAME_LEN];
	bool force;
	bool format;
};

enum {
	CBDT_REG_OPT_ERR,
	CBDT_REG_OPT_PATH,
	CBDT_REG_OPT_HOSTNAME,
	CBDT_REG_OPT_FORCE,
	CBDT_REG_OPT_FORMAT,
};

static const match_table_t cbdt_register_opt_tokens = {
	{ CBDT_REG_OPT_PATH,		"path=%s"	},
	{ CBDT_REG_OPT_HOSTNAME,	"hostname=%s"	},
	{ CBDT_REG_OPT_FORCE,		"force=%u"	},
	{ CBDT_REG_OPT_FORMAT,		"format=%u"	},
	{ CBDT_REG_OPT_ERR,		NULL		},
};

/* Copy a %s argument; it must be non-empty and fit with its NUL. */
static int cbdt_opt_str(substring_t *arg, char *dst, size_t size)
{
	if (arg->to - arg->from >= size)
		return -EINVAL;

	match_strlcpy(dst, arg, size);
	return 0;
}

static int cbdt_opt_bool(substring_t *arg, bool *dst)
{
	unsigned int val;

	if (match_uint(arg, &val))
		return -EINVAL;

	*dst = val;
	return 0;
}

static int cbdt_parse_option(char *p, struct cbdt_register_options *opts,
			     unsigned long *seen)
{
	substring_t args[MAX_OPT_ARGS];
	int token;

	token = match_token(p, cbdt_register_opt_tokens, args);
	if (token == CBDT_REG_OPT_ERR || __test_and_set_bit(token, seen)) {
		pr_err("invalid or duplicate option '%s'\n", p);
		return -EINVAL;
	}

	switch (token) {
	case CBDT_REG_OPT_PATH:
		return cbdt_opt_str(&args[0], opts->path, sizeof(opts->path));
	case CBDT_REG_OPT_HOSTNAME:
		return cbdt_opt_str(&args[0], opts->hostname,
				    sizeof(opts->hostname));
	case CBDT_REG_OPT_FORCE:
		return cbdt_opt_bool(&args[0], &opts->force);
	case CBDT_REG_OPT_FORMAT:
		return cbdt_opt_bool(&args[0], &opts->format);
	}

	return -EINVAL;
}

static int cbdt_parse_options(const char *buf,
			      struct cbdt_register_options *opts)
{
	unsigned long seen = 0;
	char *options, *orig, *p;
	int ret = 0;

	orig = kstrndup(buf, PAGE_SIZE, GFP_KERNEL);
	if (!orig)
		return -ENOMEM;

	options = orig;
	while ((p = strsep(&options, ",\n")) != NULL) {
		if (!*p)
			continue;
		ret = cbdt_parse_option(p, opts, &seen);
		if (ret)
			goto out;
	}

	if (!test_bit(CBDT_REG_OPT_PATH, &seen) ||
	    !test_bit(CBDT_REG_OPT_HOSTNAME, &seen)) {
		pr_err("path= and hostname= are required\n");
		ret = -EINVAL;
	}
out:
	kfree(orig);
	return ret;
}

static struct cbd_transport *cbdt_alloc(const char *path)
{
	struct cbd_transport *cbdt;
	int id;

	cbdt = kzalloc(sizeof(*cbdt), GFP_KERNEL);
	if (!cbdt)
		return ERR_PTR(-ENOMEM);

	id = ida_alloc_max(&cbd_transport_ida, CBD_TRANSPORT_MAX - 1, GFP_KERNEL);
	if (id < 0) {
		kfree(cbdt);
		return ERR_PTR(id);
	}

	cbdt->id = id;
	strscpy(cbdt->path, path, sizeof(cbdt->path));
	mutex_init(&cbdt->state_lock);
	mutex_init(&cbdt->adm_lock);
	spin_lock_init(&cbdt->lock);
	INIT_LIST_HEAD(&cbdt->backends);
	INIT_LIST_HEAD(&cbdt->blkdevs);
	mutex_init(&cbdt->media_lock);
	INIT_LIST_HEAD(&cbdt->media_listeners);
	xa_init(&cbdt->local_queues);
	xa_init(&cbdt->local_handlers);
	return cbdt;
}

/* Only for a transport whose device was never initialised. */
static void cbdt_free(struct cbd_transport *cbdt)
{
	/* every queue removed itself at dev-stop */
	WARN_ON_ONCE(!xa_empty(&cbdt->local_queues));
	xa_destroy(&cbdt->local_queues);
	/* and every handler at backend-stop */
	WARN_ON_ONCE(!xa_empty(&cbdt->local_handlers));
	xa_destroy(&cbdt->local_handlers);
	ida_free(&cbd_transport_ida, cbdt->id);
	kfree(cbdt);
}

/* Last reference to transportN: the IDA id goes with the memory. */
static void cbdt_release(struct device *dev)
{
	cbdt_free(to_cbdt(dev));
}

static int cbdt_device_add(struct cbd_transport *cbdt)
{
	struct device *dev = &cbdt->device;
	int ret;

	device_initialize(dev);
	dev->bus = &cbd_bus_type;
	dev->type = &cbd_transport_type;
	dev->parent = cbd_root_dev;
	dev->release = cbdt_release;

	ret = dev_set_name(dev, "transport%u", cbdt->id);
	if (!ret)
		ret = device_add(dev);
	return ret;
}

/* Refuse a new host when the transport already has its maximum alive. */
static int cbdt_check_hosts(struct cbd_transport *cbdt)
{
	unsigned long deadline = jiffies + CBD_HB_INTERVAL +
				 msecs_to_jiffies(CBD_HB_TIMEOUT_MS);
	u32 alive;
	int ret;

	/*
	 * A host slot left by a crash counts as alive until this host has
	 * watched it unchanged for CBD_HB_TIMEOUT_MS, while a running host
	 * is seen beating within a scan or two: wait, bounded, for either.
	 */
	while ((alive = cbd_hosts_alive(cbdt)) >= CBDT_HOSTS_MAX) {
		if (cbd_hosts_beating(cbdt) >= CBDT_HOSTS_MAX ||
		    time_after(jiffies, deadline))
			goto err_busy;
		ret = cbd_heartbeats_wait_scan(cbdt);
		if (ret)
			return ret;
	}
	return 0;

err_busy:
	cbdt_log(err, cbdt, "%u host(s) alive, at most %u allowed%s\n",
		 alive, CBDT_HOSTS_MAX,
		 IS_ENABLED(CONFIG_CBD_MULTIHOST) ? "" :
		 " (CONFIG_CBD_MULTIHOST is off)");
	return -EBUSY;
}

/* Everything up to the validated geometry: no shared state written yet. */
static int cbdt_open(struct cbd_transport *cbdt,
		     struct cbdt_register_options *opts)
{
	int ret;

	ret = cbdt_dax_init(cbdt);
	if (ret)
		return ret;

	if (opts->format) {
		ret = cbdt_format(cbdt, opts->force);
		if (ret)
			goto err_dax_exit;
	}

	ret = cbdt_validate(cbdt);
	if (ret)
		goto err_dax_exit;

	ret = cbd_heartbeats_init(cbdt);
	if (ret)
		goto err_dax_exit;

	ret = cbdt_check_hosts(cbdt);
	if (ret)
		goto err_heartbeats_exit;

	return 0;

err_heartbeats_exit:
	cbd_heartbeats_exit(cbdt);
err_dax_exit:
	cbdt_dax_exit(cbdt);
	return ret;
}

static int cbdt_register_locked(struct cbdt_register_options *opts)
{
	struct cbd_transport *cbdt;
	int ret;

	lockdep_assert_held(&cbd_transports_lock);

	cbdt = cbdt_alloc(opts->path);
	if (IS_ERR(cbdt))
		return PTR_ERR(cbdt);

	ret = cbdt_open(cbdt, opts);
	if (ret) {
		cbdt_free(cbdt);
		return ret;
	}

	ret = cbdt_device_add(cbdt);
	if (ret)
		goto err_put_device;

	ret = cbd_host_register(cbdt, opts->hostname);
	if (ret)
		goto err_del_device;

	ret = cbdt_sysfs_init(cbdt);
	if (ret)
		goto err_unregister_host;

	cbdt_hosts_registered_add(cbdt, 1);

	cbd_transports[cbdt->id] = cbdt;

	mutex_lock(&cbdt->state_lock);
	cbdt->adm_enabled = true;
	mutex_unlock(&cbdt->state_lock);
	cbdt_debugfs_add(cbdt);

	cbdt_log(info, cbdt, "registered %s as host %u\n", cbdt->path,
		 cbdt->host->host_id);
	return 0;

err_unregister_host:
	cbd_host_unregister(cbdt);
err_del_device:
	device_del(&cbdt->device);
err_put_device:
	cbd_heartbeats_exit(cbdt);
	/* The DAX mapping goes before the last reference frees cbdt. */
	cbdt_dax_exit(cbdt);
	put_device(&cbdt->device);
	return ret;
}

/**
 * cbdt_register - register a pmem device as a CBD transport
 * @buf: NUL-terminated option string written to transport_register
 *
 * Return: 0 or a negative errno; on failure nothing is left behind.
 */
int cbdt_register(const char *buf)
{
	struct cbdt_register_options *opts;
	int ret;

	/* Each transport pins the module until it is unregistered. */
	if (!try_module_get(THIS_MODULE))
		return -ENODEV;

	opts = kzalloc(sizeof(*opts), GFP_KERNEL);
	if (!opts) {
		ret = -ENOMEM;
		goto err_module_put;
	}

	ret = cbdt_parse_options(buf, opts);
	if (ret)
		goto err_free_opts;

	if (!strstr(opts->path, "/dev/pmem")) {
		pr_err("%s is not a pmem device (/dev/pmem*)\n", opts->path);
		ret = -EINVAL;
		goto err_free_opts;
	}

	/* before the transport is touched: a bad name must not format it */
	if (!cbd_host_name_valid(opts->hostname)) {
		pr_err("hostname must be printable ASCII\n");
		ret = -EINVAL;
		goto err_free_opts;
	}

	mutex_lock(&cbd_transports_lock);
	ret = cbdt_register_locked(opts);
	mutex_unlock(&cbd_transports_lock);
	if (ret)
		goto err_free_opts;

	kfree(opts);
	return 0;

err_free_opts:
	kfree(opts);
err_module_put:
	module_put(THIS_MODULE);
	return ret;
}

/*
 * Exactly the reverse of cbdt_register_locked(); the caller has disabled
 * adm and fault injection, and stopped every local object.
 */
static void cbdt_unregister_locked(struct cbd_transport *cbdt)
{
	lockdep_assert_held(&cbd_transports_lock);

	cbd_transports[cbdt->id] = NULL;
	cbdt_hosts_registered_add(cbdt, -1);
	cbdt_sysfs_exit(cbdt);
	cbd_host_unregister(cbdt);
	device_del(&cbdt->device);
	cbd_heartbeats_exit(cbdt);
	cbdt_dax_exit(cbdt);
	put_device(&cbdt->device);
	module_put(THIS_MODULE);
}

/**
 * cbdt_unregister - unregister a transport of this host
 * @transport_id: local transport id (N of transportN)
 *
 * Return: 0, -EINVAL if there is no such transport, or -EBUSY while
 * backends or blkdevs of this host still use it.
 */
int cbdt_unregister(u32 transport_id)
{
	struct cbd_transport *cbdt;
	int ret = 0;

	if (transport_id >= CBD_TRANSPORT_MAX)
		return -EINVAL;

	mutex_lock(&cbd_transports_lock);
	cbdt = cbd_transports[transport_id];
	if (!cbdt) {
		ret = -EINVAL;
		goto out_unlock;
	}

	/*
	 * adm commands start objects under state_lock: checked under it, the
	 * transport stays empty until cbdt_unregister_locked() disables adm.
	 */
	mutex_lock(&cbdt->state_lock);
	if (cbdt_has_local_objects(cbdt)) {
		mutex_unlock(&cbdt->state_lock);
		cbdt_log(err, cbdt, "backends or blkdevs still running\n");
		ret = -EBUSY;
		goto out_unlock;
	}
	cbdt->adm_enabled = false;
	mutex_unlock(&cbdt->state_lock);
	cbdt_debugfs_remove(cbdt);
	cbdt_unregister_locked(cbdt);

out_unlock:
	mutex_unlock(&cbd_transports_lock);
	return ret;
}

/* Some local blkdev or backend id, or false when there is none left. */
static bool cbdt_first_blkdev_id(struct cbd_transport *cbdt, u32 *id)
{
	struct cbd_blkdev *blkdev;

	spin_lock(&cbdt->lock);
	blkdev = list_first_entry_or_null(&cbdt->blkdevs, struct cbd_blkdev,
					  node);
	if (blkdev)
		*id = blkdev->blkdev_id;
	spin_unlock(&cbdt->lock);

	return blkdev;
}

static bool cbdt_first_backend_id(struct cbd_transport *cbdt, u32 *id)
{
	struct cbd_backend *cbdb;

	spin_lock(&cbdt->lock);
	cbdb = list_first_entry_or_null(&cbdt->backends, struct cbd_backend,
					node);
	if (cbdb)
		*id = cbdb->backend_id;
	spin_unlock(&cbdt->lock);

	return cbdb;
}

/*
 * Stop every local object: blkdevs as dev-stop force=1 does (their I/O
 * fails with EIO), then backends as backend-stop does, which writes the
 * dirty cache data back while the memory is still there.  A backend that
 * cannot stop cleanly (a blkdev on another host still uses it, or the
 * writeback fails) is torn down as if its host had died: its state stays
 * in the memory and a re-attach continues from it.
 */
static void cbdt_stop_local_objects(struct cbd_transport *cbdt)
{
	u32 id;
	int ret;

	lockdep_assert_held(&cbd_transports_lock);

	while (cbdt_first_blkdev_id(cbdt, &id))
		cbd_blkdev_stop(cbdt, id, true);

	while (cbdt_first_backend_id(cbdt, &id)) {
		ret = cbd_backend_stop(cbdt, id);
		if (!ret)
			continue;
		cbdt_log(err, cbdt, "backend%u: stop failed (%d), abandoning it\n",
			 id, ret);
		cbd_backend_crash(cbdt, id);
	}
}

/*
 * The pmem device under @cbdt is being removed.  @cbdt may be in the
 * middle of cbdt_unregister(), which drops the DAX holder without
 * waiting for readers: only a transport still in cbd_transports[] is
 * known to be alive, and it is compared before it is dereferenced.
 */
static void cbdt_remove(struct cbd_transport *cbdt)
{
	u32 i;

	mutex_lock(&cbd_transports_lock);
	for (i = 0; i < CBD_TRANSPORT_MAX; i++)
		if (cbd_transports[i] == cbdt)
			break;
	if (i == CBD_TRANSPORT_MAX)
		goto out_unlock;

	cbdt_log(err, cbdt,
		 "%s is going away: stopping its blkdevs and backends and unregistering\n",
		 cbdt->path);

	/* no adm command or fault injection runs or starts from here on */
	mutex_lock(&cbdt->state_lock);
	cbdt->adm_enabled = false;
	mutex_unlock(&cbdt->state_lock);
	cbdt_debugfs_remove(cbdt);

	cbdt_stop_local_objects(cbdt);
	cbdt_unregister_locked(cbdt);

out_unlock:
	mutex_unlock(&cbd_transports_lock);
}

void cbd_transport_exit(void)
{
	ida_destroy(&cbd_transport_ida);
}
