/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD cache internals: on-media structures of cache segments and of the
 * key journal, and the in-memory structures shared by cbd_cache*.c.
 *
 * See Documentation/admin-guide/blockdev/cbd.rst ("Cache") for the
 * design; in short:
 *
 * - the cache is n_segs transport segments linked once through their
 *   segment header (next_seg, the allocation chain);
 * - writes go to data segments through per-queue data heads; their keys
 *   are staged in per-queue ksets and written as a journal of ksets into
 *   key segments, linked through cache_seg_info.next_cache_seg_id;
 * - the blkdev instance owns the index, the ksets, the data heads and the
 *   GC (key_tail); the backend instance owns the writeback (dirty_tail).
 *   They share only what is in the transport.
 */
#ifndef _CBD_CACHE_INTERNAL_H
#define _CBD_CACHE_INTERNAL_H

#include <linux/bio.h>
#include <linux/mempool.h>
#include <linux/rbtree.h>

#include "cbd_cache.h"

#define CBD_CACHE_PARAL_MAX		128
#define CBD_CACHE_TREE_SHIFT		22
#define CBD_CACHE_TREE_SIZE		(4U * CBD_MB)	/* 1 << TREE_SHIFT */
#define CBD_CACHE_TREE_MASK		(CBD_CACHE_TREE_SIZE - 1)
#define CBD_KSET_KEYS_MAX		128
#define CBD_KSET_MAGIC			0x676894a64e164f1aULL
#define CBD_KSET_FLAGS_LAST		BIT(0)
#define CBD_KSET_FLAGS_FLUSH		BIT(1)
#define CBD_CACHE_KEY_FLAGS_EMPTY	BIT(0)
#define CBD_CACHE_KEY_FLAGS_CLEAN	BIT(1)
#define CBD_CACHE_SEG_FLAGS_HAS_NEXT	BIT(0)
#define CBD_CACHE_SEG_FLAGS_WB_DONE	BIT(1)	/* v2, not used */
#define CBD_CACHE_SEG_FLAGS_GC_DONE	BIT(2)	/* v2, not used */
#define CBD_CACHE_CLEAN_KEYS_MAX	64

/* idle period of the writeback and GC works */
#define CBD_CACHE_WORK_INTERVAL		HZ
/*
 * Below its watermark the writeback waits until no kset has been written
 * for this long (see cbd_cache_writeback_due()).
 */
#define CBD_CACHE_WB_IDLE		HZ
/* a staged kset is written at the latest this long after its first key */
#define CBD_KSET_FLUSH_INTERVAL		HZ
/*
 * GC and the writeback run once per CBD_CACHE_WORK_INTERVAL; a journal
 * found corrupt (no valid kset where one must be, an invalid key, a data
 * crc mismatch) this many runs in a row marks the cache failed: its I/O
 * ends with EIO instead of being retried forever.  A peer still writing
 * the record gets a few runs to finish.
 */
#define CBD_CACHE_BAD_BUDGET		8

/**
 * struct cbd_cache_seg_info - on-media header of a cache segment
 * @segment_info: generic segment header (next_seg: allocation chain)
 * @flags: CBD_CACHE_SEG_FLAGS_*
 * @next_cache_seg_id: next key segment of the journal (if HAS_NEXT)
 * @gen: generation, incremented each time the segment is claimed for a
 *	new use; keys and ksets record it and are stale when it differs
 */
struct cbd_cache_seg_info {
	struct cbd_segment_info segment_info;
	__le32 flags;
	__le32 next_cache_seg_id;
	__le64 gen;
};

/**
 * struct cbd_cache_key_onmedia - one journal entry
 * @off: byte offset on the backing device
 * @len: bytes
 * @flags: CBD_CACHE_KEY_FLAGS_CLEAN (data equals the disk's)
 * @cache_seg_id: cache segment holding the data
 * @cache_seg_off: offset in its data area
 * @seg_gen: gen of that segment when the data was written
 * @data_crc: (CONFIG_CBD_CRC) crc32 of the data
 * @res: zero
 */
struct cbd_cache_key_onmedia {
	__le64 off;
	__le32 len;
	__le32 flags;
	__le32 cache_seg_id;
	__le32 cache_seg_off;
	__le64 seg_gen;
#ifdef CONFIG_CBD_CRC
	__le32 data_crc;
	__le32 res;
#endif
};

/**
 * struct cbd_cache_kset_onmedia - a set of keys written at once
 * @crc: crc32 (seed 0) of everything after it, to the end of the last key
 * @res: zero
 * @magic: CBD_KSET_MAGIC
 * @flags: CBD_KSET_FLAGS_LAST: the journal continues in the next key
 *	segment (cache_seg_info.next_cache_seg_id); CBD_KSET_FLAGS_FLUSH: a
 *	flush barrier, with no keys (@key_num 0): every write the blkdev
 *	completed before a flush (or FUA write) is in a kset before it, so
 *	the writeback must not move a write across it (see
 *	cbd_cache_wb_window.c)
 * @key_num: number of keys
 * @seg_gen: low 32 bits of the gen of the key segment holding the kset
 *	(padding in v2).  A kset left in a segment by an earlier use has
 *	another gen, so that it is never taken for part of the journal.
 * @data: the keys
 */
struct cbd_cache_kset_onmedia {
	__le32 crc;
	__le32 res;
	__le64 magic;
	__le64 flags;
	__le32 key_num;
	__le32 seg_gen;
	struct cbd_cache_key_onmedia data[];
};

#define CBD_KSET_ONMEDIA_SIZE_MAX					\
	struct_size_t(struct cbd_cache_kset_onmedia, data, CBD_KSET_KEYS_MAX)

struct cbd_cache;
struct cbd_cache_segment;
struct cbd_cache_wb_cover;

/* dirty keys in a writeback window: 32 full ksets */
#define CBD_CACHE_WB_WINDOW_KEYS	(32 * CBD_KSET_KEYS_MAX)
/* near full (7/8 of the segments used): windows of this many keys */
#define CBD_CACHE_WB_SHORT_KEYS		(4 * CBD_KSET_KEYS_MAX)
/* default and maximum of writeback_depth: writeback bios in flight */
#define CBD_CACHE_WB_DEPTH_DEFAULT	128
#define CBD_CACHE_WB_DEPTH_MAX		4096

/**
 * struct cbd_cache_wb_frag - a range of the disk and its data in the cache
 * @off: byte offset on the backing disk
 * @len: bytes
 * @data_off: offset of the data in @seg's data area
 * @seg: cache segment holding the data
 */
struct cbd_cache_wb_frag {
	u64 off;
	u32 len;
	u32 data_off;
	struct cbd_cache_segment *seg;
};

/**
 * struct cbd_cache_wb_window - dirty keys written back as one unit
 * @n_keys: keys in @keys
 * @keys: the dirty keys, oldest first
 * @n_frags: ranges in @frags
 * @frags: what is written: the parts of @keys no newer key overwrites,
 *	sorted by offset
 * @n_covers: ranges used in @covers
 * @covers: ranges of the disk covered by the keys resolved so far
 * @covered: @covers in use, by offset, disjoint
 * @inflight: bios in flight
 * @wait: woken when a bio ends
 * @error: status of a failed bio
 *
 * Used by the writeback work only (under writeback_lock).
 */
struct cbd_cache_wb_window {
	u32 n_keys;
	struct cbd_cache_wb_frag *keys;
	u32 n_frags;
	struct cbd_cache_wb_frag *frags;
	u32 n_covers;
	struct cbd_cache_wb_cover *covers;
	struct rb_root covered;
	atomic_t inflight;
	wait_queue_head_t wait;
	blk_status_t error;
};

/**
 * struct cbd_cache_segment - in-memory cache segment
 * @cache: the cache
 * @cache_seg_id: index in the cache (0 .. n_segs - 1)
 * @info: on-media header
 * @segment: the transport segment
 * @gen: DRAM copy of info->gen (blkdev instance); readers of cached data
 *	check it before and after copying (see cbd_cache_seg_gen_ok())
 * @refs: journal keys GC has not passed yet, plus one while it is the
 *	current segment of a data head
 */
struct cbd_cache_segment {
	struct cbd_cache *cache;
	u32 cache_seg_id;
	struct cbd_cache_seg_info *info;
	struct cbd_segment segment;
	u64 gen;
	atomic_t refs;
};

/**
 * struct cbd_cache_pos - a position in the cache
 * @seg: cache segment, NULL for none
 * @off: offset in its data area
 */
struct cbd_cache_pos {
	struct cbd_cache_segment *seg;
	u32 off;
};

/**
 * struct cbd_cache_tree - index of one 4 MiB range of the device
 * @lock: protects @root and the keys in it
 * @root: keys ordered by offset, never overlapping
 */
struct cbd_cache_tree {
	spinlock_t lock;	/* protects root */
	struct rb_root root;
};

/**
 * struct cbd_cache_key - a key of the index
 * @cache: the cache
 * @ref: held by the tree while linked, and by a miss read on its
 *	placeholder
 * @tree: the tree of @off
 * @rb_node: in @tree (cleared when not linked)
 * @off: byte offset on the device
 * @len: bytes
 * @flags: CBD_CACHE_KEY_FLAGS_*
 * @pos: data in the cache (not for an EMPTY placeholder)
 * @seg_gen: gen of @pos.seg when the data was written
 * @data_crc: (CONFIG_CBD_CRC) crc32 of the data
 */
struct cbd_cache_key {
	struct cbd_cache *cache;
	struct kref ref;
	struct cbd_cache_tree *tree;
	struct rb_node rb_node;
	u64 off;
	u32 len;
	u32 flags;
	struct cbd_cache_pos pos;
	u64 seg_gen;
	u32 data_crc;
};

/**
 * struct cbd_cache_kset - a staging kset
 * @cache: the cache
 * @lock: protects @kset_onmedia; nests inside a tree lock
 * @flush_work: writes the kset CBD_KSET_FLUSH_INTERVAL after its first key
 * @kset_onmedia: staged header and keys (room for CBD_KSET_KEYS_MAX)
 */
struct cbd_cache_kset {
	struct cbd_cache *cache;
	spinlock_t lock;	/* protects kset_onmedia */
	struct delayed_work flush_work;
	struct cbd_cache_kset_onmedia kset_onmedia;
};

/**
 * struct cbd_cache_data_head - where a queue writes its data
 * @lock: protects @pos
 * @pos: current segment (holding a ref) and offset, or no segment
 */
struct cbd_cache_data_head {
	spinlock_t lock;	/* protects pos */
	struct cbd_cache_pos pos;
};

enum cbd_cache_state {
	CBD_CACHE_STATE_NONE = 0,
	CBD_CACHE_STATE_RUNNING,
	CBD_CACHE_STATE_STOPPING,
};

/**
 * struct cbd_cache - one instance (blkdev side or backend side)
 * @cbdt: transport
 * @cache_info: on-media description
 * @backend_id: backend slot (messages, workqueue name)
 * @n_segs: cache segments
 * @segments: the segments, by cache index
 * @dev_size: device size in bytes
 * @n_paral: data heads and ksets
 * @state: enum cbd_cache_state
 * @wq: all works of the instance
 *
 * @n_trees: index trees (4 MiB each)
 * @trees: the index
 * @key_cache: slab of struct cbd_cache_key
 * @key_pool: reserve of keys for the I/O path
 * @req_cache: slab of child requests (read misses)
 * @req_pool: reserve of child requests
 * @ksets: @n_paral staging ksets, @kset_stride bytes apart
 * @kset_stride: size of one staging kset
 * @data_heads: @n_paral data heads
 * @key_head_lock: protects @key_head; nests inside a kset lock
 * @key_head: where the next kset is written
 * @journal_unfenced: a kset was written after the last flush barrier (true
 *	at start: the journal left by an earlier run may not end in one);
 *	under key_head_lock
 * @key_tail: oldest kset GC has not passed (GC work only)
 * @seg_map_lock: protects @seg_map, @last_seg, @used_segs
 * @seg_map: segments in use (blkdev instance)
 * @last_seg: allocation hint
 * @used_segs: weight of @seg_map, mirrored on media
 * @space_wanted: a request waits for a free segment: GC ignores gc_percent
 * @segs_freed: segments given back to the free map so far
 * @space_wq: woken when a segment is freed (dev-stop waits there for room
 *	for its last ksets)
 * @gc_work: GC
 * @clean_work: removes stale keys from the index
 * @retry_lock: protects @retry_reqs
 * @retry_reqs: miss reads the channel had no room for
 * @retry_work: submits @retry_reqs again
 * @fill_lock: protects @fill_reqs; taken with interrupts off (child
 *	requests may end in any context)
 * @fill_reqs: ended miss reads whose data is to be cached
 * @fill_work: caches the data of @fill_reqs (cbd_cache_fill_workfn())
 * @local_backend: the backend runs on this host (see struct cbd_cache_opts)
 * @space_freed: see struct cbd_cache_opts
 * @space_data: its argument
 * @gc_kset_buf: private copy of the kset GC (or replay) reads
 *
 * @bdev_file: backing disk (writeback)
 * @wb_bioset: writeback bios
 * @dirty_tail_lock: protects @dirty_tail for readers outside the
 *	writeback (the writeback, its only writer, reads it without)
 * @dirty_tail: oldest kset not written back
 * @wb_kset_buf: private copy of the kset the writeback reads
 * @writeback_lock: serialises the writeback work and a drain; held for
 *	a whole pass, so nothing else may wait for it (stats do not)
 * @writeback_work: writeback
 * @wb_activity: jiffies when the journal was last seen growing (a local
 *	kset written, or used_segs changing)
 * @wb_used_seen: used_segs at the last check (writeback work only)
 * @wb_window: the window of the writeback pass
 * @wb_depth: writeback bios in flight at most (sysfs writeback_depth)
 * @wb_draining: a drain (backend-stop) runs: no pacing (under
 *	@writeback_lock)
 * @wb_depth_now: the bios in flight the pacing allowed last (stats)
 * @wb_rate_stamp: jiffies of the last writeback rate sample
 * @wb_rate_bytes: writeback_bytes at that sample
 * @wb_rate: bytes/s written back between the last two samples
 *
 * @hits: read pieces served from the cache (blkdev instance; shown by the
 *	backend instance of the same host, see stats_show())
 * @misses: read pieces sent to the backing disk
 * @hit_bytes: bytes of @hits
 * @miss_bytes: bytes of @misses
 * @writeback_bytes: bytes written back
 * @gc_ksets: ksets GC has passed
 * @stall_start: (blkdev instance) ktime_get_ns() | 1 when writes began to
 *	find no free segment, 0 while they find one
 * @stalls: such periods so far
 * @stall_ns: their total length
 * @stall_max_ns: the longest
 * @failed: the journal is corrupt (see CBD_CACHE_BAD_BUDGET): requests
 *	end with EIO, GC and the writeback stop
 * @gc_bad: GC runs in a row that found the journal corrupt
 * @wb_bad: writeback runs in a row that found the journal corrupt
 */
struct cbd_cache {
	struct cbd_transport *cbdt;
	struct cbd_cache_info *cache_info;
	u32 backend_id;
	u32 n_segs;
	struct cbd_cache_segment *segments;
	u64 dev_size;
	u32 n_paral;
	atomic_t state;
	struct workqueue_struct *wq;

	/* blkdev instance */
	u32 n_trees;
	struct cbd_cache_tree *trees;
	struct kmem_cache *key_cache;
	mempool_t key_pool;
	struct kmem_cache *req_cache;
	mempool_t req_pool;
	void *ksets;
	size_t kset_stride;
	struct cbd_cache_data_head *data_heads;
	spinlock_t key_head_lock;	/* protects key_head */
	struct cbd_cache_pos key_head;
	bool journal_unfenced;
	struct cbd_cache_pos key_tail;
	spinlock_t seg_map_lock;	/* protects seg_map, last_seg, used_segs */
	unsigned long *seg_map;
	u32 last_seg;
	u32 used_segs;
	atomic_t space_wanted;
	atomic64_t segs_freed;
	wait_queue_head_t space_wq;
	struct delayed_work gc_work;
	struct work_struct clean_work;
	spinlock_t retry_lock;		/* protects retry_reqs */
	struct list_head retry_reqs;
	struct delayed_work retry_work;
	spinlock_t fill_lock;		/* protects fill_reqs */
	struct list_head fill_reqs;
	struct work_struct fill_work;
	bool local_backend;
	void (*space_freed)(void *data);
	void *space_data;
	void *gc_kset_buf;

	/* backend instance */
	struct file *bdev_file;
	struct bio_set wb_bioset;
	spinlock_t dirty_tail_lock;	/* protects dirty_tail, see above */
	struct cbd_cache_pos dirty_tail;
	void *wb_kset_buf;
	struct mutex writeback_lock;	/* serialises writeback runs */
	struct delayed_work writeback_work;
	unsigned long wb_activity;
	u32 wb_used_seen;
	struct cbd_cache_wb_window wb_window;
	u32 wb_depth;
	bool wb_draining;
	u32 wb_depth_now;
	unsigned long wb_rate_stamp;
	u64 wb_rate_bytes;
	u64 wb_rate;

	atomic64_t hits;
	atomic64_t misses;
	atomic64_t hit_bytes;
	atomic64_t miss_bytes;
	atomic64_t writeback_bytes;
	atomic64_t gc_ksets;
	atomic64_t stall_start;
	atomic64_t stalls;
	atomic64_t stall_ns;
	atomic64_t stall_max_ns;

	atomic_t failed;
	u32 gc_bad;
	u32 wb_bad;
};

/* see cbdt_log(); the cache argument is evaluated once */
#define cbd_cache_log(level, cache, fmt, ...)				\
	({ typeof(cache) __c = (cache);					\
	   cbdt_log(level, __c->cbdt, "cache%u: " fmt, __c->backend_id,	\
		    ##__VA_ARGS__); })

static inline bool cbd_cache_failed(struct cbd_cache *cache)
{
	return atomic_read(&cache->failed);
}

/**
 * cbd_cache_mark_failed - the journal is corrupt: stop using the cache
 * @cache: the instance
 * @why: for the (single) log line
 *
 * Requests end with EIO from now on; GC and the writeback stop.  Any
 * context.
 */
static inline void cbd_cache_mark_failed(struct cbd_cache *cache,
					 const char *why)
{
	if (atomic_xchg(&cache->failed, 1))
		return;
	cbd_cache_log(err, cache, "cache failed (%s): its I/O fails with EIO\n", why);
}

/* Count a corrupt-journal run; true once the budget is spent. */
static inline bool cbd_cache_bad_run(struct cbd_cache *cache, u32 *runs,
				     const char *why)
{
	if (++*runs < CBD_CACHE_BAD_BUDGET)
		return false;
	cbd_cache_mark_failed(cache, why);
	return true;
}

static inline bool cbd_cache_stopping(struct cbd_cache *cache)
{
	return atomic_read(&cache->state) != CBD_CACHE_STATE_RUNNING;
}

static inline struct cbd_cache_kset *
cbd_cache_kset(struct cbd_cache *cache, u32 i)
{
	return cache->ksets + i * cache->kset_stride;
}

static inline u32 cbd_kset_onmedia_size(u32 key_num)
{
	return struct_size_t(struct cbd_cache_kset_onmedia, data, key_num);
}

static inline u32 cbd_cache_seg_size(struct cbd_cache_segment *seg)
{
	return seg->segment.data_size;
}

static inline void *cbd_cache_pos_addr(struct cbd_cache_pos *pos)
{
	return pos->seg->segment.data + pos->off;
}

static inline bool cbd_cache_pos_equal(const struct cbd_cache_pos *a,
				       const struct cbd_cache_pos *b)
{
	return a->seg == b->seg && a->off == b->off;
}

/* gc_percent as GC and the writeback use it: on media, so bounded here */
static inline u32 cbd_cache_gc_percent(struct cbd_cache *cache)
{
	u32 gc_percent = le16_to_cpu(READ_ONCE(cache->cache_info->gc_percent));

	return min_t(u32, gc_percent, CBD_CACHE_GC_PERCENT_MAX);
}

/* cbd_cache_segment.c */
int cbd_cache_segments_init(struct cbd_cache *cache, bool alloc);
void cbd_cache_segments_exit(struct cbd_cache *cache);
struct cbd_cache_segment *cbd_cache_seg_claim(struct cbd_cache *cache,
					      u32 reserve);
void cbd_cache_seg_mark_used(struct cbd_cache *cache,
			     struct cbd_cache_segment *seg);
void cbd_cache_seg_get(struct cbd_cache_segment *seg);
void cbd_cache_seg_put(struct cbd_cache_segment *seg);
void cbd_cache_seg_free(struct cbd_cache_segment *seg);
void cbd_cache_seg_link(struct cbd_cache_segment *seg,
			struct cbd_cache_segment *next);
struct cbd_cache_segment *cbd_cache_seg_next(struct cbd_cache_segment *seg);
u64 cbd_cache_seg_info_gen(struct cbd_cache_segment *seg);
void cbd_cache_used_segs_update(struct cbd_cache *cache);
void cbd_cache_copy_from_bio(struct cbd_cache_pos *pos, u32 len,
			     struct bio *bio, u32 bio_off);
bool cbd_cache_pos_onmedia_load(struct cbd_cache *cache,
				struct cbd_cache_pos_onmedia *onmedia,
				struct cbd_cache_pos *pos);
void cbd_cache_pos_onmedia_store(struct cbd_cache *cache,
				 struct cbd_cache_pos_onmedia *onmedia,
				 struct cbd_cache_pos *pos);

/* cbd_cache_key.c */
struct cbd_cache_key *cbd_cache_key_alloc(struct cbd_cache *cache, gfp_t gfp);
void cbd_cache_key_put(struct cbd_cache_key *key);
struct cbd_cache_tree *cbd_cache_tree_of(struct cbd_cache *cache, u64 off);
bool cbd_cache_key_invalid(struct cbd_cache_key *key);
void cbd_cache_key_delete(struct cbd_cache_key *key);
struct cbd_cache_key *cbd_cache_key_next(struct cbd_cache_key *key);
struct cbd_cache_key *cbd_cache_key_first_overlap(struct cbd_cache_tree *tree,
						  u64 off);
struct cbd_cache_key *cbd_cache_key_reusable(struct cbd_cache_tree *tree,
					     u64 off, u32 len);
void cbd_cache_key_take_over(struct cbd_cache_key *key,
			     const struct cbd_cache_key *new);
bool cbd_cache_key_insert_splits(struct cbd_cache_tree *tree,
				 struct cbd_cache_key *key);
int cbd_cache_key_insert(struct cbd_cache_tree *tree,
			 struct cbd_cache_key *key,
			 struct cbd_cache_key **spare);
int cbd_cache_key_append(struct cbd_cache *cache, struct cbd_cache_key *key);
int cbd_cache_ksets_close(struct cbd_cache *cache);
void cbd_cache_kset_flush_workfn(struct work_struct *work);
int cbd_cache_replay(struct cbd_cache *cache);
void cbd_cache_trees_clear(struct cbd_cache *cache);
void cbd_cache_clean_workfn(struct work_struct *work);
struct cbd_cache_kset_onmedia *cbd_cache_kset_read(struct cbd_cache *cache,
						   struct cbd_cache_pos *pos,
						   void *buf);
void cbd_cache_kset_next_pos(struct cbd_cache_kset_onmedia *kset,
			     struct cbd_cache_pos *pos);
bool cbd_cache_key_decode(struct cbd_cache *cache,
			  struct cbd_cache_key_onmedia *onmedia,
			  struct cbd_cache_key *key);
bool cbd_cache_pos_at_seg_end(struct cbd_cache_pos *pos);
bool cbd_cache_key_data_crc_ok(struct cbd_cache_key *key);

/* cbd_cache.c */
void cbd_cache_kick_local_writeback(struct cbd_cache *cache);

/* cbd_cache_req.c */
void cbd_cache_retry_workfn(struct work_struct *work);
int cbd_cache_data_alloc(struct cbd_cache *cache, u32 head_idx,
			 struct cbd_cache_pos *pos, u64 *seg_gen, u32 *len);
void cbd_cache_fill_workfn(struct work_struct *work);

/* cbd_cache_writeback.c */
int cbd_cache_writeback_init(struct cbd_cache *cache);
void cbd_cache_writeback_exit(struct cbd_cache *cache);
void cbd_cache_writeback_workfn(struct work_struct *work);
void cbd_cache_writeback_kick(struct cbd_cache *cache);
u32 cbd_cache_wb_depth_limit(struct cbd_cache *cache);
int cbd_cache_dirty_bytes(struct cbd_cache *cache, u64 *bytes);

/* cbd_cache_wb_window.c */
int cbd_cache_wb_window_init(struct cbd_cache_wb_window *w);
void cbd_cache_wb_window_exit(struct cbd_cache_wb_window *w);
bool cbd_cache_wb_window_room(struct cbd_cache_wb_window *w, u32 n);
void cbd_cache_wb_window_add(struct cbd_cache_wb_window *w,
			     const struct cbd_cache_key *key);
int cbd_cache_wb_window_write(struct cbd_cache *cache,
			      struct cbd_cache_wb_window *w);

/* cbd_cache_gc.c */
void cbd_cache_gc_workfn(struct work_struct *work);
void cbd_cache_gc_kick(struct cbd_cache *cache);

#endif /* _CBD_CACHE_INTERNAL_H */
