/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD cache: the persistent write-back cache of a backend, kept in
 * cache segments of the transport.  This header holds the on-media
 * cache description embedded in the backend slot and the interface the
 * backend and blkdev use.
 */
#ifndef _CBD_CACHE_H
#define _CBD_CACHE_H

#include "cbd_segment.h"

#define CBD_CACHE_GC_PERCENT_MIN	0
#define CBD_CACHE_GC_PERCENT_MAX	90
#define CBD_CACHE_GC_PERCENT_DEFAULT	70
#define CBD_CACHE_SEGS_EACH_PARAL	4

/**
 * struct cbd_cache_pos_onmedia - a position in the cache's key log
 * @cache_seg_id: cache segment index (0 .. n_segs - 1)
 * @seg_off: offset in that segment's data area
 */
struct cbd_cache_pos_onmedia {
	__le32 cache_seg_id;
	__le32 seg_off;
};

/**
 * struct cbd_cache_info - on-media cache description (in the backend slot)
 * @blkdev_state: unused (v2 compatibility)
 * @res: zero
 * @blkdev_id: unused (v2 compatibility)
 * @seg_id: transport segment id of the first cache segment
 * @n_segs: number of cache segments; 0 means no cache
 * @used_segs: segments in use
 * @gc_percent: GC starts when more than this percentage is used
 * @res2: zero
 * @key_tail_pos: oldest kset still needed (GC tail)
 * @dirty_tail_pos: oldest kset not yet written back
 */
struct cbd_cache_info {
	u8 blkdev_state;
	u8 res[3];
	__le32 blkdev_id;
	__le32 seg_id;
	__le32 n_segs;
	__le32 used_segs;
	__le16 gc_percent;
	__le16 res2;
	struct cbd_cache_pos_onmedia key_tail_pos;
	struct cbd_cache_pos_onmedia dirty_tail_pos;
};

#endif /* _CBD_CACHE_H */
