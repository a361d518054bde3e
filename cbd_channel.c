// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD channel: a segment holding the submit ring, the completion ring and
 * the data ring of one blkdev queue and its backend handler.
 */

#include <linux/crc32.h>

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
		.type		= cbds_type_channel,
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
 * cbd_get_empty_channel_id - allocate a segment for a new channel
 * @cbdt: transport
 * @id: the segment id on success
 *
 * The segment is claimed and its metadata (control page and rings) is
 * zeroed; the data ring is not, it only ever holds extents described by
 * submit entries.
 *
 * Return: 0 or -ENOENT if no segment is free.
 */
int cbd_get_empty_channel_id(struct cbd_transport *cbdt, u32 *id)
{
	struct cbd_segment_info *info;
	int ret;

	ret = cbdt_get_empty_segment_id(cbdt, id);
	if (ret)
		return ret;

	info = cbdt_get_segment_info(cbdt, *id);
	cbdt_zero_range(cbdt, (void *)info + sizeof(*info),
			CBDC_META_SIZE - sizeof(*info));
	return 0;
}

void cbdc_copy_from_bio(struct cbd_channel *channel, u32 data_off,
			u32 data_len, struct bio *bio, u32 bio_off)
{
	cbds_copy_from_bio(&channel->segment, data_off, data_len, bio, bio_off);
}

void cbdc_copy_to_bio(struct cbd_channel *channel, u32 data_off,
		      u32 data_len, struct bio *bio, u32 bio_off)
{
	cbds_copy_to_bio(&channel->segment, data_off, data_len, bio, bio_off);
}

u32 cbd_channel_crc(struct cbd_channel *channel, u32 data_off, u32 data_len)
{
	return cbd_seg_crc(&channel->segment, data_off, data_len);
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
