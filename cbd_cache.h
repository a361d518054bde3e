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
/*
 * A request waiting for a free cache segment is retried when GC frees one
 * (struct cbd_cache_opts.space_freed), and after this long at the latest.
 */
#define CBD_CACHE_RETRY_MS		5

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
 *
 * Checked with its backend slot by cbd_backend_info_validate(): n_segs
 * and seg_id in range, seg_id a cache segment, used_segs <= n_segs,
 * gc_percent <= CBD_CACHE_GC_PERCENT_MAX, both positions inside the cache.
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

struct cbd_cache;
struct cbd_request;

/**
 * struct cbd_cache_opts - parameters of cbd_cache_alloc()
 * @cache_info: the on-media cache description (in the backend slot)
 * @backend_id: backend slot, for names and messages
 * @alloc_segs: create a new cache: claim and link cache_info->n_segs
 *	segments (backend instance of a new or cleanly stopped backend)
 * @start_writeback: run the writeback (backend instance)
 * @start_gc: run the GC (blkdev instance)
 * @init_keys: build the index and replay the journal (blkdev instance)
 * @n_paral: parallel data heads and ksets (queues of the blkdev), 0 for
 *	the backend instance
 * @dev_size: backing device size in sectors, validated by the caller
 *	(1 .. CBD_DEV_SIZE_MAX, see cbd_backend_info_validate())
 * @n_segs: cache segments, validated by the caller (the slot's n_segs is
 *	not read again: a peer may change it)
 * @bdev_file: backing disk (writeback only)
 * @local_backend: the backend runs on this host: kick its writeback when a
 *	kset is written (blkdev instance)
 * @space_freed: (blkdev instance, optional) called with @space_data when
 *	GC frees a segment while writes are waiting for one, so that they
 *	are retried at once; process context, no cache lock held
 * @space_data: argument of @space_freed
 */
struct cbd_cache_opts {
	struct cbd_cache_info *cache_info;
	u32 backend_id;
	bool alloc_segs;
	bool start_writeback;
	bool start_gc;
	bool init_keys;
	u32 n_paral;
	u64 dev_size;
	u32 n_segs;
	struct file *bdev_file;
	bool local_backend;
	void (*space_freed)(void *data);
	void *space_data;
};

struct cbd_cache *cbd_cache_alloc(struct cbd_transport *cbdt,
				  struct cbd_cache_opts *opts, int *err);
void cbd_cache_destroy(struct cbd_cache *cache);
void cbd_cache_abandon(struct cbd_cache *cache);
void cbd_cache_media_failure(struct cbd_cache *cache, u32 first, u32 last);
void cbd_cache_take_over(struct cbd_cache *cache);
int cbd_cache_writeback_drain(struct cbd_cache *cache);
int cbd_cache_handle_req(struct cbd_cache *cache, struct cbd_request *cbd_req);
int cbd_cache_parse_gc_percent(const char *buf, size_t size, u16 *val);
void cbd_cache_set_gc_percent(struct cbd_transport *cbdt,
			      struct cbd_cache_info *info, u16 val);
bool cbd_cache_info_may_be_dirty(struct cbd_transport *cbdt,
				 struct cbd_cache_info *info, u32 n_segs,
				 u32 seg_id);

struct cbd_cache_dev;

struct cbd_cache_dev *cbd_cache_dev_register(struct cbd_cache *cache,
					     struct device *parent);
void cbd_cache_dev_unregister(struct cbd_cache_dev *cache_dev);

#endif /* _CBD_CACHE_H */
