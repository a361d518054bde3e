/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD segment: a 16 MiB typed region of the transport's segment area.
 */
#ifndef _CBD_SEGMENT_H
#define _CBD_SEGMENT_H

#include <linux/bio.h>

#include "cbd_transport.h"

enum cbd_seg_type {
	CBDS_TYPE_NONE		= 0,
	CBDS_TYPE_CHANNEL	= 1,
	CBDS_TYPE_CACHE		= 2,
};

/**
 * struct cbd_segment_info - on-media header at offset 0 of every segment
 * @state: enum cbd_slot_state
 * @type: enum cbd_seg_type
 * @ref: number of in-memory users on all hosts
 * @res: zero
 * @next_seg: next transport segment id of a chain (cache allocation chain);
 *	cbd_segment_info_validate() checks the header before it is used
 * @alive_ts: heartbeat value of the users (wall-clock ns, always increasing); observers
 *	only look for change, on their own monotonic clock
 */
struct cbd_segment_info {
	u8 state;
	u8 type;
	u8 ref;
	u8 res;
	__le32 next_seg;
	__le64 alive_ts;
};

struct cbd_segment;
struct cbd_seg_pos;

/**
 * struct cbd_seg_ops - type-specific segment operations
 * @sanitize_pos: bring a position with off >= data_size back into range
 *	(wrap in a ring, or move to the next segment of a chain)
 */
struct cbd_seg_ops {
	void (*sanitize_pos)(struct cbd_seg_pos *pos);
};

/**
 * struct cbd_seg_pos - a position in a segment's data area
 * @segment: the segment
 * @off: offset relative to the segment's data area
 */
struct cbd_seg_pos {
	struct cbd_segment *segment;
	u32 off;
};

/**
 * struct cbds_init_options - parameters of cbd_segment_init()
 * @seg_id: transport segment id
 * @type: enum cbd_seg_type
 * @data_off: start of the data area inside the segment
 * @seg_ops: type-specific operations
 * @priv_data: owner's private pointer
 */
struct cbds_init_options {
	u32 seg_id;
	enum cbd_seg_type type;
	u32 data_off;
	const struct cbd_seg_ops *seg_ops;
	void *priv_data;
};

/**
 * struct cbd_segment - in-memory view of a segment
 * @cbdt: transport
 * @seg_id: transport segment id
 * @segment_info: on-media header
 * @seg_ops: type-specific operations
 * @data: start of the data area
 * @data_size: bytes in the data area
 * @priv_data: owner's private pointer
 * @hb_work: heartbeat work on cbd_wq
 * @inited: cbd_segment_init() succeeded and exit has not run
 */
struct cbd_segment {
	struct cbd_transport *cbdt;
	u32 seg_id;
	struct cbd_segment_info *segment_info;
	const struct cbd_seg_ops *seg_ops;
	void *data;
	u32 data_size;
	void *priv_data;
	struct delayed_work hb_work;
	bool inited;
};

void cbd_segment_init(struct cbd_transport *cbdt, struct cbd_segment *segment,
		      struct cbds_init_options *options);
void cbd_segment_exit(struct cbd_segment *segment);
void cbd_segment_abandon(struct cbd_segment *segment);
bool cbd_segment_put_dead(struct cbd_segment *segment);
int cbd_segment_clear(struct cbd_transport *cbdt, u32 segment_id);
bool cbd_segment_info_is_alive(struct cbd_transport *cbdt, u32 id);
int cbd_segment_info_validate(struct cbd_transport *cbdt, u32 id);

void cbds_pos_advance(struct cbd_seg_pos *seg_pos, u32 len);
int cbds_copy_data(struct cbd_seg_pos *dst_pos, struct cbd_seg_pos *src_pos,
		   u32 len);
void cbds_copy_from_bio(struct cbd_segment *segment, u32 data_off, u32 data_len,
			struct bio *bio, u32 bio_off);
int cbds_copy_to_bio(struct cbd_segment *segment, u32 data_off, u32 data_len,
		     struct bio *bio, u32 bio_off);
u32 cbd_seg_crc(struct cbd_segment *segment, u32 data_off, u32 data_len);
int cbd_seg_crc_mc(struct cbd_segment *segment, u32 data_off, u32 data_len,
		   u32 *crc);
int cbds_map_pages(struct cbd_segment *segment, struct bio *bio, u32 data_off,
		   u32 data_len);

extern const struct device_type cbd_segment_type;
extern const struct device_type cbd_segments_type;

#endif /* _CBD_SEGMENT_H */
