/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD channel: a segment carrying one blkdev queue <-> backend handler
 * connection.  Layout of the 16 MiB segment:
 *
 *   0      control page (struct cbd_channel_info at its start)
 *   4 KiB  completion ring (CBDC_COMPR_ENTRIES struct cbd_ce)
 *   ...    submit ring (struct cbd_se), up to 4 MiB
 *   4 MiB  data area (12 MiB ring of 4 KiB-aligned extents)
 *
 * Ownership: the blkdev writes submr_head, submr_tail, compr_tail, every
 * cbd_se and its DONE flag; the backend handler writes compr_head and
 * every cbd_ce.  Each side only reads the other's indices.  Producers
 * publish an entry with a write barrier before moving their head;
 * consumers read the head, then a read barrier, then the entry.
 */
#ifndef _CBD_CHANNEL_H
#define _CBD_CHANNEL_H

#include <linux/bio.h>
#include <linux/spinlock.h>

#include "cbd_segment.h"

#define CBDC_META_SIZE		(4 * CBD_MB)
#define CBDC_CTRL_OFF		0
#define CBDC_CTRL_SIZE		PAGE_SIZE
#define CBDC_COMPR_ENTRIES	1024
#define CBDC_COMPR_OFF		(CBDC_CTRL_OFF + CBDC_CTRL_SIZE)
#define CBDC_COMPR_SIZE		(sizeof(struct cbd_ce) * CBDC_COMPR_ENTRIES)
#define CBDC_SUBMR_OFF		(CBDC_COMPR_OFF + CBDC_COMPR_SIZE)
#define CBDC_SUBMR_SIZE		(CBDC_META_SIZE - CBDC_SUBMR_OFF)

#define CBDC_DATA_OFF		CBDC_META_SIZE
#define CBDC_DATA_SIZE		(12 * CBD_MB)
#define CBDC_DATA_ALIGN		4096
#define CBDC_DATA_RESERVED	CBDC_DATA_ALIGN
#define CBDC_SUBMR_RESERVED	sizeof(struct cbd_se)

enum cbd_op {
	CBD_OP_WRITE	= 0,
	CBD_OP_READ	= 1,
	CBD_OP_FLUSH	= 2,
};

/* cbd_se.flags */
#define CBD_SE_FLAGS_DONE	BIT(0)	/* blkdev consumed the completion */
#define CBD_SE_FLAGS_FUA	BIT(1)	/* write must be durable on return */
#define CBD_SE_FLAGS_MASK	(CBD_SE_FLAGS_DONE | CBD_SE_FLAGS_FUA)

/* Largest I/O a submit entry may describe (the blkdev's max_hw_sectors). */
#define CBDC_IO_MAX		(BIO_MAX_VECS * PAGE_SIZE)

enum cbdc_blkdev_state {
	CBDC_BLKDEV_STATE_NONE		= 0,
	CBDC_BLKDEV_STATE_RUNNING	= 1,
	CBDC_BLKDEV_STATE_STOPPED	= 2,
};

enum cbdc_backend_state {
	CBDC_BACKEND_STATE_NONE		= 0,
	CBDC_BACKEND_STATE_RUNNING	= 1,
	CBDC_BACKEND_STATE_STOPPED	= 2,
};

/**
 * struct cbd_se - submit entry
 * @se_crc: (CONFIG_CBD_CRC) crc32 of the entry after this field
 * @data_crc: (CONFIG_CBD_CRC) WRITE: crc32 of the payload
 * @op: enum cbd_op
 * @flags: CBD_SE_FLAGS_*
 * @req_tid: per-channel sequence number, starting at 1
 * @offset: byte offset on the backing disk
 * @len: byte length of the I/O
 * @data_off: offset of the payload in the data area (4 KiB aligned)
 * @data_len: payload length (len for READ/WRITE, 0 for FLUSH)
 */
struct cbd_se {
#ifdef CONFIG_CBD_CRC
	__le32 se_crc;
	__le32 data_crc;
#endif
	__le32 op;
	__le32 flags;
	__le64 req_tid;
	__le64 offset;
	__le32 len;
	__le32 data_off;
	__le32 data_len;
};

/**
 * struct cbd_ce - completion entry
 * @ce_crc: (CONFIG_CBD_CRC) crc32 of the entry after this field
 * @data_crc: (CONFIG_CBD_CRC) READ: crc32 of the returned payload
 * @req_tid: req_tid of the completed cbd_se
 * @result: 0 or a negative errno, stored as a two's complement u32
 * @flags: zero
 */
struct cbd_ce {
#ifdef CONFIG_CBD_CRC
	__le32 ce_crc;
	__le32 data_crc;
#endif
	__le64 req_tid;
	__le32 result;
	__le32 flags;
};

/**
 * struct cbd_channel_info - on-media control block of a channel
 * @seg_info: generic segment header
 * @blkdev_state: enum cbdc_blkdev_state, written by the blkdev
 * @res0: zero
 * @blkdev_id: blkdev slot using the channel
 * @backend_state: enum cbdc_backend_state, written by the handler
 * @res1: zero
 * @backend_id: backend slot serving the channel
 * @polling: bit 0 set when the blkdev is on another host (no notify)
 * @submr_head: submit ring producer index (bytes), blkdev
 * @submr_tail: submit ring release index (bytes), blkdev
 * @compr_head: completion ring producer index (bytes), handler
 * @compr_tail: completion ring consumer index (bytes), blkdev
 */
struct cbd_channel_info {
	struct cbd_segment_info seg_info;
	u8 blkdev_state;
	u8 res0[3];
	__le32 blkdev_id;
	u8 backend_state;
	u8 res1[3];
	__le32 backend_id;
	__le32 polling;
	__le32 submr_head;
	__le32 submr_tail;
	__le32 compr_head;
	__le32 compr_tail;
};

/**
 * struct cbd_channel - in-memory view of a channel
 * @seg_id: transport segment id
 * @segment: underlying segment (data area = channel data ring)
 * @channel_info: on-media control block
 * @cbdt: transport
 * @submr: start of the submit ring
 * @compr: start of the completion ring
 * @submr_size: usable submit ring bytes (a multiple of sizeof(cbd_se))
 * @compr_size: completion ring bytes
 * @data_size: data ring bytes
 * @data_head: next free data byte (blkdev only, DRAM)
 * @data_tail: oldest used data byte (blkdev only, DRAM)
 * @submr_lock: serialises submit ring producers (blkdev)
 * @compr_lock: serialises completion ring producers (handler)
 */
struct cbd_channel {
	u32 seg_id;
	struct cbd_segment segment;
	struct cbd_channel_info *channel_info;
	struct cbd_transport *cbdt;

	void *submr;
	void *compr;
	u32 submr_size;
	u32 compr_size;
	u32 data_size;
	u32 data_head;
	u32 data_tail;

	spinlock_t submr_lock;	/* protects submr_head, data_head/tail */
	spinlock_t compr_lock;	/* protects compr_head */
};

/* new = ((old mod size) + used) mod size: ring indices are byte offsets */
static inline u32 cbdc_ring_advance(u32 old, u32 used, u32 size)
{
	return ((old % size) + used) % size;
}

void cbd_channel_init(struct cbd_channel *channel, struct cbd_transport *cbdt,
		      u32 seg_id);
void cbd_channel_exit(struct cbd_channel *channel);
void cbd_channel_abandon(struct cbd_channel *channel);
/* Claim a free segment and zero its channel metadata. */
int cbd_channel_claim_id(struct cbd_transport *cbdt, u32 *id);

void cbdc_copy_from_bio(struct cbd_channel *channel, u32 data_off,
			u32 data_len, struct bio *bio, u32 bio_off);
int cbdc_copy_to_bio(struct cbd_channel *channel, u32 data_off,
		     u32 data_len, struct bio *bio, u32 bio_off);
int cbd_channel_crc(struct cbd_channel *channel, u32 data_off, u32 data_len,
		    u32 *crc);
int cbdc_map_pages(struct cbd_channel *channel, struct bio *bio, u32 data_off,
		   u32 data_len);

#ifdef CONFIG_CBD_CRC
u32 cbd_se_crc(struct cbd_se *se);
u32 cbd_ce_crc(struct cbd_ce *ce);
#endif

/**
 * cbdc_ring_idx_valid - check a ring index read from the channel
 * @idx: byte index
 * @size: ring size in bytes
 * @entry_size: size of one entry
 *
 * Return: true if @idx is inside the ring and on an entry boundary.
 */
static inline bool cbdc_ring_idx_valid(u32 idx, u32 size, u32 entry_size)
{
	return idx < size && !(idx % entry_size);
}

int cbd_se_validate(struct cbd_channel *channel, const struct cbd_se *se,
		    u64 disk_bytes, const char **field);
int cbd_ce_validate(struct cbd_channel *channel, const struct cbd_ce *ce,
		    u64 req_tid_max, const char **field);

/*
 * Ring index accessors.  The plain ones are for indices whose owner reads
 * its own value back, or for a reset while the other side does not run.
 * The _acquire/_release pairs publish and observe the entries (see the top
 * of this file): a release store orders every earlier access to the ring
 * slots and payload before the index, an acquire load orders the index
 * before every later access.
 */
static inline u32 cbdc_submr_head(struct cbd_channel_info *info)
{
	return le32_to_cpu(READ_ONCE(info->submr_head));
}

static inline u32 cbdc_submr_head_acquire(struct cbd_channel_info *info)
{
	/* the head before the handler reads the entries it covers */
	return le32_to_cpu(smp_load_acquire(&info->submr_head));
}

static inline void cbdc_set_submr_head(struct cbd_channel_info *info, u32 v)
{
	WRITE_ONCE(info->submr_head, cpu_to_le32(v));
}

static inline void cbdc_set_submr_head_release(struct cbd_channel_info *info,
					       u32 v)
{
	/* the blkdev's entries and payload before the head */
	smp_store_release(&info->submr_head, cpu_to_le32(v));
}

static inline u32 cbdc_submr_tail(struct cbd_channel_info *info)
{
	return le32_to_cpu(READ_ONCE(info->submr_tail));
}

static inline void cbdc_set_submr_tail(struct cbd_channel_info *info, u32 v)
{
	WRITE_ONCE(info->submr_tail, cpu_to_le32(v));
}

static inline u32 cbdc_compr_head(struct cbd_channel_info *info)
{
	return le32_to_cpu(READ_ONCE(info->compr_head));
}

static inline u32 cbdc_compr_head_acquire(struct cbd_channel_info *info)
{
	/* the head before the blkdev reads the completions it covers */
	return le32_to_cpu(smp_load_acquire(&info->compr_head));
}

static inline void cbdc_set_compr_head(struct cbd_channel_info *info, u32 v)
{
	WRITE_ONCE(info->compr_head, cpu_to_le32(v));
}

static inline void cbdc_set_compr_head_release(struct cbd_channel_info *info,
					       u32 v)
{
	/* the handler's completions and READ payload before the head */
	smp_store_release(&info->compr_head, cpu_to_le32(v));
}

static inline u32 cbdc_compr_tail(struct cbd_channel_info *info)
{
	return le32_to_cpu(READ_ONCE(info->compr_tail));
}

static inline u32 cbdc_compr_tail_acquire(struct cbd_channel_info *info)
{
	/* the tail before the handler reuses slots or reads DONE */
	return le32_to_cpu(smp_load_acquire(&info->compr_tail));
}

static inline void cbdc_set_compr_tail(struct cbd_channel_info *info, u32 v)
{
	WRITE_ONCE(info->compr_tail, cpu_to_le32(v));
}

static inline void cbdc_set_compr_tail_release(struct cbd_channel_info *info,
					       u32 v)
{
	/* the blkdev's reads of the slots and its DONE flags before the tail */
	smp_store_release(&info->compr_tail, cpu_to_le32(v));
}

#endif /* _CBD_CHANNEL_H */
