// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD media: the on-media layout of a transport.  The header (format and
 * validation) and the addresses of the slots.
 *
 * The header and every slot live in memory that other hosts (or a crash
 * of this one) may have written: nothing read from it is trusted.  The
 * header geometry is validated once at registration and copied into
 * struct cbd_transport; all later lookups use only those copies.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/overflow.h>

#include "cbd_backend.h"
#include "cbd_blkdev.h"
#include "cbd_channel.h"
#include "cbd_host.h"
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
int cbdt_load_geometry(struct cbd_transport *cbdt,
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

int cbdt_validate(struct cbd_transport *cbdt)
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

/**
 * cbdt_format - write a new header and empty slot areas
 * @cbdt: transport, mapped; the caller checked that formatting is allowed
 *
 * Return: 0, or the error of the new geometry (a device too small).
 */
int cbdt_format(struct cbd_transport *cbdt)
{
	struct cbd_transport_info *info = cbdt->info;
	struct cbd_transport_info hdr = {};
	int ret;
	u32 i;

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
void cbdt_hosts_registered_add(struct cbd_transport *cbdt, int delta)
{
	__le32 *cnt = &cbdt->info->hosts_registered;
	u32 val = le32_to_cpu(READ_ONCE(*cnt));

	if (delta < 0 && !val)
		return;

	WRITE_ONCE(*cnt, cpu_to_le32(val + delta));
	cbdt_flush(cbdt, cnt, sizeof(*cnt));
}

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
void *cbdt_slot(struct cbd_transport *cbdt, u64 area_off, u32 stride,
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
