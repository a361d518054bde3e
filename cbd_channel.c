// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD channel: a segment holding the submit ring, the completion ring and
 * the data ring of one blkdev queue and its backend handler.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/overflow.h>

#include "cbd_channel.h"

static_assert(CBDC_SUBMR_OFF + sizeof(struct cbd_se) <= CBDC_META_SIZE);
static_assert(CBDC_DATA_OFF + CBDC_DATA_SIZE == CBDT_SEG_SIZE);

/* The data area of a channel is a ring inside its own segment. */
static void cbd_channel_sanitize_pos(struct cbd_seg_pos *pos)
{
	pos->off %= pos->segment->data_size;
}

static const struct cbd_seg_ops cbd_channel_seg_ops = {
	.sanitize_pos = cbd_channel_sanitize_pos,
};

/**
 * cbd_channel_init - set up the in-memory view of a channel
 * @channel: channel to initialise
 * @cbdt: transport
 * @seg_id: segment id of the channel, validated by the caller
 *
 * Takes a reference on the segment; undone by cbd_channel_exit().  The
 * ring indices are left as they are: the blkdev resets them when it
 * creates the channel, a backend handler resumes from them.
 */
void cbd_channel_init(struct cbd_channel *channel, struct cbd_transport *cbdt,
		      u32 seg_id)
{
	struct cbds_init_options options = {
		.seg_id		= seg_id,
		.type		= CBDS_TYPE_CHANNEL,
		.data_off	= CBDC_DATA_OFF,
		.seg_ops	= &cbd_channel_seg_ops,
		.priv_data	= channel,
	};
	void *base;

	channel->cbdt = cbdt;
	channel->seg_id = seg_id;
	cbd_segment_init(cbdt, &channel->segment, &options);

	base = channel->segment.segment_info;
	channel->channel_info = base;
	channel->submr = base + CBDC_SUBMR_OFF;
	channel->compr = base + CBDC_COMPR_OFF;
	channel->submr_size = rounddown(CBDC_SUBMR_SIZE, sizeof(struct cbd_se));
	channel->compr_size = CBDC_COMPR_SIZE;
	channel->data_size = CBDC_DATA_SIZE;
	channel->data_head = 0;
	channel->data_tail = 0;

	spin_lock_init(&channel->submr_lock);
	spin_lock_init(&channel->compr_lock);
}

/* Fault injection: forget the channel, leaving its shared state. */
void cbd_channel_abandon(struct cbd_channel *channel)
{
	cbd_segment_abandon(&channel->segment);
}

/**
 * cbd_channel_exit - drop the channel's segment reference
 * @channel: channel set up by cbd_channel_init()
 */
void cbd_channel_exit(struct cbd_channel *channel)
{
	cbd_segment_exit(&channel->segment);
}

/**
 * cbd_channel_claim_id - allocate a segment for a new channel
 * @cbdt: transport
 * @id: the segment id on success
 *
 * The segment is claimed and its metadata (control page and rings) is
 * zeroed; the data ring is not, it only ever holds extents described by
 * submit entries.
 *
 * Return: 0 or -ENOENT if no segment is free.
 */
int cbd_channel_claim_id(struct cbd_transport *cbdt, u32 *id)
{
	struct cbd_segment_info *info;
	int ret;

	ret = cbdt_claim_segment_id(cbdt, id);
	if (ret)
		return ret;

	info = cbdt_segment_info(cbdt, *id);
	cbdt_zero_range(cbdt, (void *)info + sizeof(*info),
			CBDC_META_SIZE - sizeof(*info));
	return 0;
}

void cbdc_copy_from_bio(struct cbd_channel *channel, u32 data_off,
			u32 data_len, struct bio *bio, u32 bio_off)
{
	cbds_copy_from_bio(&channel->segment, data_off, data_len, bio, bio_off);
}

/* Return: 0, or -EIO if the data ring has a media error there. */
int cbdc_copy_to_bio(struct cbd_channel *channel, u32 data_off,
		     u32 data_len, struct bio *bio, u32 bio_off)
{
	return cbds_copy_to_bio(&channel->segment, data_off, data_len, bio,
				bio_off);
}

/* Return: 0 with *@crc set, or -EIO if the range has a media error. */
int cbd_channel_crc(struct cbd_channel *channel, u32 data_off, u32 data_len,
		    u32 *crc)
{
	return cbd_seg_crc_mc(&channel->segment, data_off, data_len, crc);
}

int cbdc_map_pages(struct cbd_channel *channel, struct bio *bio, u32 data_off,
		   u32 data_len)
{
	return cbds_map_pages(&channel->segment, bio, data_off, data_len);
}

#ifdef CONFIG_CBD_CRC
/* The crc covers the entry after the crc field itself (its first member). */
u32 cbd_se_crc(struct cbd_se *se)
{
	return crc32(0, (void *)se + sizeof(se->se_crc),
		     sizeof(*se) - sizeof(se->se_crc));
}

u32 cbd_ce_crc(struct cbd_ce *ce)
{
	return crc32(0, (void *)ce + sizeof(ce->ce_crc),
		     sizeof(*ce) - sizeof(ce->ce_crc));
}
#endif

static bool cbd_se_io_valid(struct cbd_channel *channel, const struct cbd_se *se,
			    u64 disk_bytes, const char **field)
{
	u64 offset = le64_to_cpu(se->offset), end;
	u32 len = le32_to_cpu(se->len);
	u32 data_off = le32_to_cpu(se->data_off);

	if (!len || len > CBDC_IO_MAX || !IS_ALIGNED(len, SECTOR_SIZE)) {
		*field = "len";
		return false;
	}
	if (!IS_ALIGNED(offset, SECTOR_SIZE) ||
	    check_add_overflow(offset, (u64)len, &end) || end > disk_bytes) {
		*field = "offset";
		return false;
	}
	if (le32_to_cpu(se->data_len) != len) {
		*field = "data_len";
		return false;
	}
	/* extents may wrap around the data ring, one whole page at a time */
	if (!IS_ALIGNED(data_off, CBDC_DATA_ALIGN) || data_off >= channel->data_size) {
		*field = "data_off";
		return false;
	}
	return true;
}

/**
 * cbd_se_validate - check a snapshot of a submit entry before use
 * @channel: channel the entry was read from
 * @se: the snapshot (never the entry in shared memory: it may change)
 * @disk_bytes: size of the backing disk
 * @field: on failure, the name of the first bad field
 *
 * A READ or WRITE describes 1..CBDC_IO_MAX bytes, sector aligned, inside
 * the backing disk, with a payload of that length starting on an aligned
 * offset inside the data ring; a FLUSH carries no payload.  Only known
 * flags may be set.  The CRCs are checked by the caller.
 *
 * Return: 0 or -EIO.
 */
int cbd_se_validate(struct cbd_channel *channel, const struct cbd_se *se,
		    u64 disk_bytes, const char **field)
{
	u32 op = le32_to_cpu(se->op);

	if (le32_to_cpu(se->flags) & ~CBD_SE_FLAGS_MASK) {
		*field = "flags";
		return -EIO;
	}

	switch (op) {
	case CBD_OP_FLUSH:
		if (se->len || se->data_len) {
			*field = "len";
			return -EIO;
		}
		return 0;
	case CBD_OP_READ:
	case CBD_OP_WRITE:
		return cbd_se_io_valid(channel, se, disk_bytes, field) ? 0 : -EIO;
	default:
		*field = "op";
		return -EIO;
	}
}

/**
 * cbd_ce_validate - check a completion entry before use
 * @channel: channel the entry was read from
 * @ce: a snapshot of the entry
 * @req_tid_max: the last req_tid the blkdev handed out
 * @field: on failure, the name of the first bad field
 *
 * Return: 0 or -EIO.
 */
int cbd_ce_validate(struct cbd_channel *channel, const struct cbd_ce *ce,
		    u64 req_tid_max, const char **field)
{
	u64 req_tid = le64_to_cpu(ce->req_tid);
	int result = (int)le32_to_cpu(ce->result);

	if (!req_tid || req_tid > req_tid_max) {
		*field = "req_tid";
		return -EIO;
	}
	if (result > 0 || result < -MAX_ERRNO) {
		*field = "result";
		return -EIO;
	}
	if (ce->flags) {
		*field = "flags";
		return -EIO;
	}
	return 0;
}
