// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD segment: a 16 MiB typed region of the transport (channel or cache
 * segment), its shared reference count and heartbeat, helpers to move
 * data between segments and bios, and the segmentN sysfs directories.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/highmem.h>

#include "cbd_channel.h"
#include "cbd_heartbeat.h"
#include "cbd_media.h"
#include "cbd_segment.h"

/**
 * cbd_segment_info_validate - check a segment header read from shared memory
 * @cbdt: transport
 * @id: valid segment index
 *
 * Checks: state is an enum cbd_slot_state; type an enum cbd_seg_type
 * (none also in a claimed segment not set up yet); next_seg a segment
 * id.  A header that fails gets one rate-limited log line naming the
 * field.
 *
 * Return: 0, or -EIO if the header is corrupt.
 */
int cbd_segment_info_validate(struct cbd_transport *cbdt, u32 id)
{
	struct cbd_segment_info *info = cbdt_segment_info(cbdt, id);
	const char *field;
	u8 state, type;

	if (cbdt_probe_record(info, sizeof(*info))) {
		field = "header (media error)";
		goto bad;
	}
	state = cbd_slot_state(&info->state);
	type = READ_ONCE(info->type);
	if (state > CBD_SLOT_STATE_REMOVING)
		field = "state";
	else if (type > CBDS_TYPE_CACHE)
		/*
		 * A claimed segment has no type until its user sets it up
		 * (cbd_segment_init()): only an unknown type is corrupt.
		 */
		field = "type";
	else if (!cbdt_segment_id_valid(cbdt, le32_to_cpu(READ_ONCE(info->next_seg))))
		field = "next_seg";
	else
		return 0;

bad:
	cbdt_log(err_ratelimited, cbdt, "segment%u header corrupt: invalid %s\n",
		 id, field);
	return -EIO;
}

/**
 * cbd_segment_info_is_alive - liveness of a segment
 * @cbdt: transport
 * @id: valid segment index
 *
 * Return: true if the segment is in use and one of its users is alive.
 */
bool cbd_segment_info_is_alive(struct cbd_transport *cbdt, u32 id)
{
	struct cbd_segment_info *info = cbdt_segment_info(cbdt, id);

	return cbd_slot_state(&info->state) != CBD_SLOT_STATE_NONE &&
	       cbd_heartbeat_within(cbdt, CBD_HB_SEGMENT, id, &info->alive_ts,
				    CBD_HB_TIMEOUT_MS);
}

static void cbd_segment_hb(struct cbd_segment *segment)
{
	struct cbd_segment_info *info = segment->segment_info;

	cbd_alive_ts_update(&info->alive_ts);
	cbdt_flush(segment->cbdt, &info->alive_ts, sizeof(info->alive_ts));
}

static void cbd_segment_hb_workfn(struct work_struct *work)
{
	struct cbd_segment *segment = container_of(to_delayed_work(work),
						   struct cbd_segment, hb_work);

	cbd_segment_hb(segment);
	queue_delayed_work(cbd_wq, &segment->hb_work, CBD_HB_INTERVAL);
}

/*
 * The reference count is one byte shared by all hosts using the segment:
 * update it with cmpxchg() and never wrap it.  Return the new value.
 */
static u8 cbd_segment_ref_add(struct cbd_segment *segment, int delta)
{
	u8 *ref = &segment->segment_info->ref;
	u8 old, new;

	do {
		old = READ_ONCE(*ref);
		if ((delta > 0 && old == U8_MAX) || (delta < 0 && !old)) {
			cbdt_log(err, segment->cbdt, "segment%u: bad ref %u\n",
				 segment->seg_id, old);
			return old;
		}
		new = old + delta;
	} while (cmpxchg(ref, old, new) != old);

	return new;
}

/**
 * cbd_segment_init - start using a segment
 * @cbdt: transport
 * @segment: in-memory segment to initialise
 * @options: segment id (validated by the caller), type, data offset, ops
 *
 * Takes a reference on the shared segment, marks it running and starts
 * its heartbeat.  Undone by cbd_segment_exit().
 */
void cbd_segment_init(struct cbd_transport *cbdt, struct cbd_segment *segment,
		      struct cbds_init_options *options)
{
	struct cbd_segment_info *info = cbdt_segment_info(cbdt, options->seg_id);

	segment->cbdt = cbdt;
	segment->seg_id = options->seg_id;
	segment->segment_info = info;
	segment->seg_ops = options->seg_ops;
	segment->data = (void *)info + options->data_off;
	segment->data_size = cbdt->segment_size - options->data_off;
	segment->priv_data = options->priv_data;

	WRITE_ONCE(info->type, options->type);
	cbd_segment_ref_add(segment, 1);
	cbd_alive_ts_update(&info->alive_ts);
	cbdt_flush(cbdt, info, sizeof(*info));
	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_RUNNING);
	cbdt_flush(cbdt, &info->state, sizeof(info->state));

	INIT_DELAYED_WORK(&segment->hb_work, cbd_segment_hb_workfn);
	queue_delayed_work(cbd_wq, &segment->hb_work, CBD_HB_INTERVAL);
	segment->inited = true;
}

/**
 * cbd_segment_abandon - drop a segment as a crashed host would
 * @segment: segment set up by cbd_segment_init()
 *
 * Stops the heartbeat and forgets the segment, but leaves its shared
 * state (state, ref, alive_ts) as it is.  For fault injection only: the
 * segment then looks like one whose user died.
 */
void cbd_segment_abandon(struct cbd_segment *segment)
{
	if (!segment->inited)
		return;

	cancel_delayed_work_sync(&segment->hb_work);
	segment->inited = false;
}

/**
 * cbd_segment_put_dead - drop the reference a dead user left behind
 * @segment: segment set up by cbd_segment_init() on this host
 *
 * A user that died never dropped its reference; the one that takes over
 * its role (a re-attached backend) drops it once the takeover can no
 * longer fail.  Our own reference stays, so this never frees the segment:
 * a count of 1 is only ours and is left alone.
 *
 * Return: true if a reference was dropped.
 */
bool cbd_segment_put_dead(struct cbd_segment *segment)
{
	u8 *ref = &segment->segment_info->ref;
	u8 old;

	do {
		old = READ_ONCE(*ref);
		if (old < 2)
			return false;
	} while (cmpxchg(ref, old, old - 1) != old);

	cbdt_flush(segment->cbdt, ref, sizeof(*ref));
	return true;
}

/**
 * cbd_segment_exit - stop using a segment
 * @segment: segment set up by cbd_segment_init(), or never initialised
 *
 * The last user on any host frees the segment.
 */
void cbd_segment_exit(struct cbd_segment *segment)
{
	struct cbd_segment_info *info = segment->segment_info;

	if (!segment->inited)
		return;

	cancel_delayed_work_sync(&segment->hb_work);
	segment->inited = false;

	if (cbd_segment_ref_add(segment, -1))
		return;

	/* Heartbeat first, state last: a new owner may claim it right away. */
	cbd_alive_ts_clear(&info->alive_ts);
	cbdt_flush(segment->cbdt, &info->alive_ts, sizeof(info->alive_ts));
	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_NONE);
	cbdt_flush(segment->cbdt, &info->state, sizeof(info->state));
}

/**
 * cbd_segment_clear - free the segment of a dead user
 * @cbdt: transport
 * @segment_id: segment id, from the user
 *
 * Return: 0 (also for a free segment), -EINVAL for an invalid id, -EBUSY
 * if the segment is alive.
 */
int cbd_segment_clear(struct cbd_transport *cbdt, u32 segment_id)
{
	struct cbd_segment_info *info;

	if (!cbdt_segment_id_valid(cbdt, segment_id))
		return -EINVAL;

	info = cbdt_segment_info(cbdt, segment_id);
	if (cbd_segment_info_is_alive(cbdt, segment_id))
		return -EBUSY;

	if (cbd_slot_state(&info->state) == CBD_SLOT_STATE_NONE)
		return 0;

	/* Everything after the state byte first, the state last. */
	cbdt_zero_range(cbdt, (void *)info + 1, cbdt->segment_size - 1);
	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_NONE);
	cbdt_flush(cbdt, &info->state, sizeof(info->state));
	return 0;
}

/* Bring @pos back into its segment's data area (wrap or next segment). */
static bool cbds_pos_sanitize(struct cbd_seg_pos *pos)
{
	struct cbd_segment *segment = pos->segment;

	if (pos->off < segment->data_size)
		return true;

	segment->seg_ops->sanitize_pos(pos);
	if (WARN_ON_ONCE(pos->off >= pos->segment->data_size))
		return false;

	return true;
}

/**
 * cbds_pos_advance - move a position forward
 * @seg_pos: position, updated in place
 * @len: bytes to move
 */
void cbds_pos_advance(struct cbd_seg_pos *seg_pos, u32 len)
{
	u32 chunk;

	while (len) {
		if (!cbds_pos_sanitize(seg_pos))
			return;
		chunk = min(len, seg_pos->segment->data_size - seg_pos->off);
		seg_pos->off += chunk;
		len -= chunk;
	}
	cbds_pos_sanitize(seg_pos);
}

/* Address of @pos and the contiguous bytes from there, at most @len. */
static void *cbds_pos_addr(struct cbd_seg_pos *pos, u32 len, u32 *chunk)
{
	if (!cbds_pos_sanitize(pos))
		return NULL;

	*chunk = min(len, pos->segment->data_size - pos->off);
	return pos->segment->data + pos->off;
}

/**
 * cbds_copy_data - copy between two segment positions
 * @dst_pos: destination, advanced by @len
 * @src_pos: source, advanced by @len
 * @len: bytes to copy
 *
 * Both ranges may wrap or continue in a next segment.  The copy is not
 * flushed: callers that need durability use cbdt_flush().
 *
 * Return: 0, or -EIO on a media error in the source.
 */
int cbds_copy_data(struct cbd_seg_pos *dst_pos, struct cbd_seg_pos *src_pos,
		   u32 len)
{
	u32 dst_chunk, src_chunk, chunk;
	void *dst, *src;

	while (len) {
		dst = cbds_pos_addr(dst_pos, len, &dst_chunk);
		src = cbds_pos_addr(src_pos, len, &src_chunk);
		if (!dst || !src)
			return 0;

		chunk = min(dst_chunk, src_chunk);
		if (cbdt_copy_from_media(dst, src, chunk))
			return -EIO;
		dst_pos->off += chunk;
		src_pos->off += chunk;
		len -= chunk;
	}
	return 0;
}

/* Machine-check-safe memcpy_to_page(). */
static int cbds_copy_to_page(struct page *page, u32 off, const void *addr,
			     u32 len)
{
	void *to = kmap_local_page(page);
	int ret;

	ret = cbdt_copy_from_media(to + off, addr, len);
	flush_dcache_page(page);
	kunmap_local(to);
	return ret;
}

/*
 * Copy one single-page @bv to or from the segment at @pos, advancing it.
 * 1 at the end of the segment chain, -EIO on a media error, else 0.
 */
static int cbds_copy_bvec(struct cbd_seg_pos *pos, const struct bio_vec *bv,
			  bool to_bio)
{
	u32 off = bv->bv_offset, len = bv->bv_len, chunk;
	void *addr;

	while (len) {
		addr = cbds_pos_addr(pos, len, &chunk);
		if (!addr)
			return 1;

		if (!to_bio)
			memcpy_from_page(addr, bv->bv_page, off, chunk);
		else if (cbds_copy_to_page(bv->bv_page, off, addr, chunk))
			return -EIO;

		off += chunk;
		pos->off += chunk;
		len -= chunk;
	}

	return 0;
}

/*
 * Copy @data_len bytes between @bio (and the bios chained behind it through
 * bi_next), starting @bio_off bytes into its data, and the segment data
 * area at @data_off.  bio_for_each_segment() yields single-page bvecs.
 */
static int cbds_bio_copy(struct cbd_segment *segment, u32 data_off,
			 u32 data_len, struct bio *bio, u32 bio_off,
			 bool to_bio)
{
	struct cbd_seg_pos pos = { .segment = segment, .off = data_off };
	struct bio_vec bv, part;
	struct bvec_iter iter;
	int ret;

	for (; bio && data_len; bio = bio->bi_next) {
		bio_for_each_segment(bv, bio, iter) {
			if (bio_off >= bv.bv_len) {
				bio_off -= bv.bv_len;
				continue;
			}
			/* not bv itself: the iterator advances by bv.bv_len */
			part = bv;
			part.bv_offset += bio_off;
			part.bv_len = min(bv.bv_len - bio_off, data_len);
			bio_off = 0;

			data_len -= part.bv_len;
			ret = cbds_copy_bvec(&pos, &part, to_bio);
			if (ret || !data_len)
				return min(ret, 0);
		}
	}
	return 0;
}

/**
 * cbds_copy_from_bio - copy bio data into a segment
 * @segment: segment (or first segment of a chain)
 * @data_off: destination offset in the data area
 * @data_len: bytes to copy
 * @bio: source bio; bios chained through bi_next follow it
 * @bio_off: bytes of bio data to skip first
 *
 * The copy is not flushed: callers that need durability use cbdt_flush().
 */
void cbds_copy_from_bio(struct cbd_segment *segment, u32 data_off, u32 data_len,
			struct bio *bio, u32 bio_off)
{
	/* reads only DRAM: no media error */
	cbds_bio_copy(segment, data_off, data_len, bio, bio_off, false);
}

/**
 * cbds_copy_to_bio - copy segment data into a bio
 * @segment: segment (or first segment of a chain)
 * @data_off: source offset in the data area
 * @data_len: bytes to copy
 * @bio: destination bio; bios chained through bi_next follow it
 * @bio_off: bytes of bio data to skip first
 *
 * Return: 0, or -EIO on a media error (machine-check-safe copy).
 */
int cbds_copy_to_bio(struct cbd_segment *segment, u32 data_off, u32 data_len,
		     struct bio *bio, u32 bio_off)
{
	return cbds_bio_copy(segment, data_off, data_len, bio, bio_off, true);
}

/**
 * cbd_seg_crc - crc32 of a range of a segment data area
 * @segment: segment (or first segment of a chain)
 * @data_off: offset in the data area
 * @data_len: bytes
 *
 * Return: crc32 (seed 0) over the range, following wraps.
 */
u32 cbd_seg_crc(struct cbd_segment *segment, u32 data_off, u32 data_len)
{
	u32 crc;

	/* a media error leaves a partial crc: the compare fails */
	cbd_seg_crc_mc(segment, data_off, data_len, &crc);
	return crc;
}

/* The crc is computed over a bounce buffer: a poisoned line is -EIO. */
#define CBDS_CRC_BOUNCE		256

/**
 * cbd_seg_crc_mc - crc32 of a range of a segment data area, media safe
 * @segment: segment (or first segment of a chain)
 * @data_off: offset in the data area
 * @data_len: bytes
 * @crc: the crc32 (seed 0) over the range, following wraps
 *
 * Return: 0, or -EIO on a media error.
 */
int cbd_seg_crc_mc(struct cbd_segment *segment, u32 data_off, u32 data_len,
		   u32 *crc)
{
	struct cbd_seg_pos pos = { .segment = segment, .off = data_off };
	u8 buf[CBDS_CRC_BOUNCE];
	u32 chunk;
	void *addr;

	*crc = 0;
	while (data_len) {
		addr = cbds_pos_addr(&pos, min(data_len, CBDS_CRC_BOUNCE), &chunk);
		if (!addr)
			break;
		if (cbdt_copy_from_media(buf, addr, chunk))
			return -EIO;
		*crc = crc32(*crc, buf, chunk);
		pos.off += chunk;
		data_len -= chunk;
	}

	return 0;
}

/**
 * cbds_map_pages - add the pages of a data range to a bio (zero copy)
 * @segment: segment (or first segment of a chain)
 * @bio: bio to add the pages to
 * @data_off: offset in the data area
 * @data_len: bytes
 *
 * Return: 0, or -EIO if a page cannot be found or added.
 */
int cbds_map_pages(struct cbd_segment *segment, struct bio *bio, u32 data_off,
		   u32 data_len)
{
	struct cbd_seg_pos pos = { .segment = segment, .off = data_off };
	struct cbd_transport *cbdt = segment->cbdt;
	u32 chunk, page_off;
	struct page *page;
	void *addr;

	while (data_len) {
		addr = cbds_pos_addr(&pos, data_len, &chunk);
		if (!addr)
			return -EIO;

		page = cbdt_page(cbdt, cbdt_offset(cbdt, addr), &page_off);
		if (!page)
			return -EIO;

		chunk = min_t(u32, chunk, PAGE_SIZE - page_off);
		if (bio_add_page(bio, page, chunk, page_off) != chunk)
			return -EIO;

		pos.off += chunk;
		data_len -= chunk;
	}

	return 0;
}

/* sysfs: cbd_segments/segmentN */

static struct cbd_segment_info *cbd_segment_info_of(struct device *dev)
{
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);

	return cbdt_segment_info(obj->cbdt, obj->id);
}

static ssize_t detail_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct cbd_segment_info *info = cbd_segment_info_of(dev);
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);
	struct cbd_channel_info *channel_info;

	if (cbd_segment_info_validate(obj->cbdt, obj->id))
		return -EIO;
	if (cbd_slot_state(&info->state) == CBD_SLOT_STATE_NONE ||
	    READ_ONCE(info->type) != CBDS_TYPE_CHANNEL)
		return 0;

	channel_info = container_of(info, struct cbd_channel_info, seg_info);
	return sysfs_emit(buf, "channel backend id: %u\nchannel blkdev id: %u\n",
			  le32_to_cpu(READ_ONCE(channel_info->backend_id)),
			  le32_to_cpu(READ_ONCE(channel_info->blkdev_id)));
}
static DEVICE_ATTR_ADMIN_RO(detail);

static const char *cbd_segment_type_str(u8 type)
{
	switch (type) {
	case CBDS_TYPE_CHANNEL:
		return "channel";
	case CBDS_TYPE_CACHE:
		return "cache";
	default:
		return "Unknown";
	}
}

static ssize_t type_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct cbd_segment_info *info = cbd_segment_info_of(dev);
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);

	if (cbd_segment_info_validate(obj->cbdt, obj->id))
		return -EIO;
	if (cbd_slot_state(&info->state) == CBD_SLOT_STATE_NONE)
		return 0;

	return sysfs_emit(buf, "%s\n",
			  cbd_segment_type_str(READ_ONCE(info->type)));
}
static DEVICE_ATTR_ADMIN_RO(type);

static ssize_t alive_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);
	bool alive = cbd_segment_info_is_alive(obj->cbdt, obj->id);

	return sysfs_emit(buf, "%s\n", alive ? "true" : "false");
}
static DEVICE_ATTR_ADMIN_RO(alive);

static struct attribute *cbd_segment_attrs[] = {
	&dev_attr_detail.attr,
	&dev_attr_type.attr,
	&dev_attr_alive.attr,
	NULL,
};
ATTRIBUTE_GROUPS(cbd_segment);

const struct device_type cbd_segment_type = {
	.name	= "cbd_segment",
	.groups	= cbd_segment_groups,
};

const struct device_type cbd_segments_type = {
	.name	= "cbd_segments",
};
