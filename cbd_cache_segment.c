// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD cache segments: the allocation chain of the cache, the map of used
 * segments (blkdev instance), segment references and generations.
 *
 * Generations.  A segment's gen is incremented (and flushed) each time it
 * is claimed from the free map for a new use, before anything is written
 * into it.  Keys record the gen of their data segment, ksets that of
 * their key segment; anything recording an older gen is stale.  So a
 * claimed segment needs no zeroing: a kset left in it by an earlier use
 * never matches, and readers of cached data detect reuse by comparing the
 * gen before and after their copy (the writer increments it first).
 * A new cache starts every segment at a random gen, so that ksets of a
 * cache that used the same segments before do not match either.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/random.h>

#include "cbd_cache_internal.h"
#include "cbd_media.h"

/*
 * Cache positions never span segments: keys and ksets are in one piece,
 * and every position read from media is checked before use.  Reaching
 * here means a bug, not input; still no WARN: log and stay in bounds.
 */
static void cbd_cache_seg_sanitize_pos(struct cbd_seg_pos *pos)
{
	pr_err_ratelimited("cache position %u past segment %u\n",
			   pos->off, pos->segment->seg_id);
	pos->off = pos->segment->data_size - 1;
}

static const struct cbd_seg_ops cbd_cache_seg_ops = {
	.sanitize_pos = cbd_cache_seg_sanitize_pos,
};

static void cbd_cache_seg_init(struct cbd_cache *cache, u32 cache_seg_id,
			       u32 seg_id)
{
	struct cbd_cache_segment *seg = &cache->segments[cache_seg_id];
	struct cbds_init_options opts = {
		.seg_id		= seg_id,
		.type		= CBDS_TYPE_CACHE,
		.data_off	= round_up(sizeof(struct cbd_cache_seg_info), PAGE_SIZE),
		.seg_ops	= &cbd_cache_seg_ops,
		.priv_data	= seg,
	};

	seg->cache = cache;
	seg->cache_seg_id = cache_seg_id;
	cbd_segment_init(cache->cbdt, &seg->segment, &opts);
	seg->info = container_of(seg->segment.segment_info,
				 struct cbd_cache_seg_info, segment_info);
	atomic_set(&seg->refs, 0);
}

/* A new cache: the header of every segment starts over. */
static void cbd_cache_seg_info_reset(struct cbd_cache_segment *seg)
{
	struct cbd_cache_seg_info *info = seg->info;

	info->flags = 0;
	info->next_cache_seg_id = 0;
	info->gen = cpu_to_le64(get_random_u64());
	cbdt_flush(seg->cache->cbdt, info, sizeof(*info));
}

static int cbd_cache_segments_alloc(struct cbd_cache *cache)
{
	struct cbd_cache_info *info = cache->cache_info;
	struct cbd_segment_info *prev = NULL;
	u32 i, seg_id;
	int ret;

	for (i = 0; i < cache->n_segs; i++) {
		/* claimed atomically: state running, header zeroed */
		ret = cbdt_claim_segment_id(cache->cbdt, &seg_id);
		if (ret) {
			cbd_cache_log(err, cache, "no free segment for cache segment %u of %u\n",
				      i, cache->n_segs);
			return ret;
		}

		if (prev) {
			prev->next_seg = cpu_to_le32(seg_id);
			cbdt_flush(cache->cbdt, &prev->next_seg, sizeof(prev->next_seg));
		} else {
			info->seg_id = cpu_to_le32(seg_id);
			cbdt_flush(cache->cbdt, &info->seg_id, sizeof(info->seg_id));
		}

		cbd_cache_seg_init(cache, i, seg_id);
		cbd_cache_seg_info_reset(&cache->segments[i]);
		prev = cache->segments[i].segment.segment_info;
	}

	return 0;
}

/* Follow the allocation chain; every id comes from shared memory. */
static int cbd_cache_segments_follow(struct cbd_cache *cache)
{
	struct cbd_transport *cbdt = cache->cbdt;
	struct cbd_segment_info *seg_info;
	unsigned long *seen;
	u32 i, seg_id;
	int ret = 0;

	seen = bitmap_zalloc(cbdt->segment_num, GFP_KERNEL);
	if (!seen)
		return -ENOMEM;

	seg_id = le32_to_cpu(READ_ONCE(cache->cache_info->seg_id));
	for (i = 0; i < cache->n_segs; i++) {
		if (!cbdt_segment_id_valid(cbdt, seg_id) || test_bit(seg_id, seen)) {
			cbd_cache_log(err, cache, "cache segment %u: bad segment id %u\n",
				      i, seg_id);
			ret = -EINVAL;
			break;
		}
		__set_bit(seg_id, seen);

		seg_info = cbdt_segment_info(cbdt, seg_id);
		if (cbd_slot_state(&seg_info->state) != CBD_SLOT_STATE_RUNNING ||
		    READ_ONCE(seg_info->type) != CBDS_TYPE_CACHE) {
			cbd_cache_log(err, cache, "segment %u is not a cache segment any more\n",
				      seg_id);
			ret = -EINVAL;
			break;
		}

		cbd_cache_seg_init(cache, i, seg_id);
		cache->segments[i].gen = le64_to_cpu(READ_ONCE(cache->segments[i].info->gen));
		seg_id = le32_to_cpu(READ_ONCE(seg_info->next_seg));
	}

	bitmap_free(seen);
	return ret;
}

/**
 * cbd_cache_segments_init - set up the segments of a cache instance
 * @cache: cache with n_segs and segments[] allocated
 * @alloc: claim and link new segments, else follow the existing chain
 *
 * Return: 0, -ENOENT (not enough free segments), -EINVAL (broken chain),
 * -ENOMEM.  On failure the segments set up so far are released.
 */
int cbd_cache_segments_init(struct cbd_cache *cache, bool alloc)
{
	u32 i;
	int ret;

	ret = alloc ? cbd_cache_segments_alloc(cache) :
		      cbd_cache_segments_follow(cache);
	if (ret) {
		cbd_cache_segments_exit(cache);
		return ret;
	}

	for (i = 0; i < cache->n_segs; i++)
		cache->segments[i].gen = le64_to_cpu(READ_ONCE(cache->segments[i].info->gen));

	return 0;
}

/**
 * cbd_cache_segments_exit - drop this instance's segment references
 * @cache: cache
 *
 * The last user of a segment on any host frees it.
 */
void cbd_cache_segments_exit(struct cbd_cache *cache)
{
	u32 i;

	for (i = 0; i < cache->n_segs; i++)
		cbd_segment_exit(&cache->segments[i].segment);
}

/**
 * cbd_cache_used_segs_update - mirror the number of used segments on media
 * @cache: blkdev instance
 */
void cbd_cache_used_segs_update(struct cbd_cache *cache)
{
	struct cbd_cache_info *info = cache->cache_info;

	lockdep_assert_held(&cache->seg_map_lock);

	WRITE_ONCE(info->used_segs, cpu_to_le32(cache->used_segs));
	cbdt_flush(cache->cbdt, &info->used_segs, sizeof(info->used_segs));
}

/**
 * cbd_cache_seg_claim - claim a free segment for data or keys
 * @cache: blkdev instance
 * @reserve: free segments that must be left for others
 *
 * Never sleeps and never zeroes anything: the segment gets a new gen
 * (see the top of this file).  The caller owns the segment; its refs are 0.
 *
 * Return: the segment, or NULL if no more than @reserve are free.
 */
struct cbd_cache_segment *cbd_cache_seg_claim(struct cbd_cache *cache,
					      u32 reserve)
{
	struct cbd_cache_segment *seg;
	struct cbd_cache_seg_info *info;
	u32 id;

	spin_lock(&cache->seg_map_lock);
	if (cache->n_segs - cache->used_segs <= reserve) {
		spin_unlock(&cache->seg_map_lock);
		atomic_set(&cache->space_wanted, 1);
		cbd_cache_gc_kick(cache);
		return NULL;
	}

	id = find_next_zero_bit(cache->seg_map, cache->n_segs, cache->last_seg);
	if (id >= cache->n_segs)
		id = find_first_zero_bit(cache->seg_map, cache->n_segs);
	__set_bit(id, cache->seg_map);
	cache->last_seg = id;
	cache->used_segs++;
	cbd_cache_used_segs_update(cache);

	seg = &cache->segments[id];
	info = seg->info;
	WRITE_ONCE(seg->gen, seg->gen + 1);
	/* the new gen before any new data: pairs with cbd_cache_copy_hit() */
	smp_wmb();
	WRITE_ONCE(info->gen, cpu_to_le64(seg->gen));
	WRITE_ONCE(info->flags, 0);
	WRITE_ONCE(info->next_cache_seg_id, 0);
	cbdt_flush(cache->cbdt, info, sizeof(*info));
	atomic_set(&seg->refs, 0);
	spin_unlock(&cache->seg_map_lock);

	/* keys of its previous use are stale now: drop them from the index */
	queue_work(cache->wq, &cache->clean_work);
	return seg;
}

/**
 * cbd_cache_seg_mark_used - account a segment found in use by the replay
 * @cache: blkdev instance
 * @seg: segment
 */
void cbd_cache_seg_mark_used(struct cbd_cache *cache,
			     struct cbd_cache_segment *seg)
{
	spin_lock(&cache->seg_map_lock);
	if (!__test_and_set_bit(seg->cache_seg_id, cache->seg_map))
		cache->used_segs++;
	spin_unlock(&cache->seg_map_lock);
}

/**
 * cbd_cache_seg_free - give a segment back to the free map
 * @seg: segment with no references (or a key segment GC has passed)
 */
void cbd_cache_seg_free(struct cbd_cache_segment *seg)
{
	struct cbd_cache *cache = seg->cache;

	spin_lock(&cache->seg_map_lock);
	if (__test_and_clear_bit(seg->cache_seg_id, cache->seg_map)) {
		cache->used_segs--;
		cbd_cache_used_segs_update(cache);
	}
	spin_unlock(&cache->seg_map_lock);
	atomic_set(&cache->space_wanted, 0);
	atomic64_inc(&cache->segs_freed);
	wake_up_all(&cache->space_wq);
	/* writes are requeued while they find no segment: retry them now */
	if (cache->space_freed && atomic64_read(&cache->stall_start))
		cache->space_freed(cache->space_data);
}

void cbd_cache_seg_get(struct cbd_cache_segment *seg)
{
	atomic_inc(&seg->refs);
}

void cbd_cache_seg_put(struct cbd_cache_segment *seg)
{
	int refs = atomic_dec_return(&seg->refs);

	if (WARN_ON_ONCE(refs < 0))
		return;
	if (!refs)
		cbd_cache_seg_free(seg);
}

/**
 * cbd_cache_seg_link - continue the key journal from @seg in @next
 * @seg: current key segment
 * @next: newly claimed key segment
 */
void cbd_cache_seg_link(struct cbd_cache_segment *seg,
			struct cbd_cache_segment *next)
{
	struct cbd_cache_seg_info *info = seg->info;
	u32 flags = le32_to_cpu(READ_ONCE(info->flags));

	WRITE_ONCE(info->next_cache_seg_id, cpu_to_le32(next->cache_seg_id));
	cbdt_flush(seg->cache->cbdt, &info->next_cache_seg_id,
		   sizeof(info->next_cache_seg_id));
	/* the id before the flag: pairs with cbd_cache_seg_next() */
	WRITE_ONCE(info->flags, cpu_to_le32(flags | CBD_CACHE_SEG_FLAGS_HAS_NEXT));
	cbdt_flush(seg->cache->cbdt, &info->flags, sizeof(info->flags));
}

/**
 * cbd_cache_seg_next - the key segment the journal continues in
 * @seg: key segment
 *
 * Return: the next key segment, or NULL if there is none (yet).
 */
struct cbd_cache_segment *cbd_cache_seg_next(struct cbd_cache_segment *seg)
{
	struct cbd_cache_seg_info *info = seg->info;
	struct cbd_cache *cache = seg->cache;
	u32 id;

	if (!(le32_to_cpu(READ_ONCE(info->flags)) & CBD_CACHE_SEG_FLAGS_HAS_NEXT))
		return NULL;
	/* the flag before the id: pairs with the flushes in cbd_cache_seg_link() */
	smp_rmb();

	id = le32_to_cpu(READ_ONCE(info->next_cache_seg_id));
	if (id >= cache->n_segs || id == seg->cache_seg_id) {
		cbd_cache_log(err_ratelimited, cache, "segment %u: bad next segment %u\n",
			      seg->cache_seg_id, id);
		return NULL;
	}

	return &cache->segments[id];
}

/**
 * cbd_cache_seg_info_gen - the gen on media
 * @seg: segment
 *
 * The backend instance reads it from media: the blkdev instance changes it.
 *
 * Return: the gen.
 */
u64 cbd_cache_seg_info_gen(struct cbd_cache_segment *seg)
{
	return le64_to_cpu(READ_ONCE(seg->info->gen));
}

/**
 * cbd_cache_copy_from_bio - copy bio data into the cache, flushed
 * @pos: destination (inside one segment)
 * @len: bytes
 * @bio: source; bios chained through bi_next follow it
 * @bio_off: bytes of bio data to skip first
 *
 * memcpy_flushcache(): the data is in the persistence domain after the
 * next pmem_wmb() (done before the kset naming it is written).
 */
void cbd_cache_copy_from_bio(struct cbd_cache_pos *pos, u32 len,
			     struct bio *bio, u32 bio_off)
{
	void *dst = cbd_cache_pos_addr(pos);
	struct bvec_iter iter;
	struct bio_vec bv;
	u32 chunk;
	void *src;

	for (; bio && len; bio = bio->bi_next) {
		bio_for_each_segment(bv, bio, iter) {
			if (bio_off >= bv.bv_len) {
				bio_off -= bv.bv_len;
				continue;
			}

			chunk = min(bv.bv_len - bio_off, len);
			src = bvec_kmap_local(&bv);
			memcpy_flushcache(dst, src + bio_off, chunk);
			kunmap_local(src);

			dst += chunk;
			len -= chunk;
			bio_off = 0;
			if (!len)
				return;
		}
	}
}

/**
 * cbd_cache_pos_onmedia_load - read and validate a position from media
 * @cache: cache
 * @onmedia: position in cache_info
 * @pos: result
 *
 * Return: false if the position is not valid.
 */
bool cbd_cache_pos_onmedia_load(struct cbd_cache *cache,
				struct cbd_cache_pos_onmedia *onmedia,
				struct cbd_cache_pos *pos)
{
	struct cbd_cache_pos_onmedia val;
	u32 id, off;

	/* one 8-byte load: the writer stores it at once */
	*(u64 *)&val = READ_ONCE(*(u64 *)onmedia);
	id = le32_to_cpu(val.cache_seg_id);
	off = le32_to_cpu(val.seg_off);

	if (id >= cache->n_segs ||
	    off > cbd_cache_seg_size(&cache->segments[id]) || off % 8)
		return false;

	pos->seg = &cache->segments[id];
	pos->off = off;
	return true;
}

/**
 * cbd_cache_pos_onmedia_store - store a position on media, flushed
 * @cache: cache
 * @onmedia: position in cache_info
 * @pos: value
 */
void cbd_cache_pos_onmedia_store(struct cbd_cache *cache,
				 struct cbd_cache_pos_onmedia *onmedia,
				 struct cbd_cache_pos *pos)
{
	struct cbd_cache_pos_onmedia val = {
		.cache_seg_id	= cpu_to_le32(pos->seg->cache_seg_id),
		.seg_off	= cpu_to_le32(pos->off),
	};

	/* one 8-byte store: a reader never sees half of it */
	WRITE_ONCE(*(u64 *)onmedia, *(u64 *)&val);
	cbdt_flush(cache->cbdt, onmedia, sizeof(*onmedia));
}

/**
 * cbd_cache_info_may_be_dirty - could a cache hold data not written back?
 * @cbdt: transport
 * @info: the cache description of a backend slot that is not running
 * @n_segs: its validated segment count
 * @seg_id: its validated first segment
 *
 * Reads only the transport (no instance exists): follows the allocation
 * chain to the segment of dirty_tail and looks for a kset there that
 * belongs to the segment's current use (magic and gen).  Anything that
 * cannot be followed counts as dirty: the caller then needs force=1.
 *
 * Return: true if a kset waits at dirty_tail, or the cache is unreadable.
 */
bool cbd_cache_info_may_be_dirty(struct cbd_transport *cbdt,
				 struct cbd_cache_info *info, u32 n_segs,
				 u32 seg_id)
{
	u32 data_off = round_up(sizeof(struct cbd_cache_seg_info), PAGE_SIZE);
	struct cbd_cache_pos_onmedia pos;
	struct cbd_cache_kset_onmedia kset;
	struct cbd_cache_seg_info *seg;
	u32 idx, off, i;

	*(u64 *)&pos = READ_ONCE(*(u64 *)&info->dirty_tail_pos);
	idx = le32_to_cpu(pos.cache_seg_id);
	off = le32_to_cpu(pos.seg_off);
	if (idx >= n_segs || off > CBDT_SEG_SIZE - data_off)
		return true;

	for (i = 0; ; i++) {
		if (!cbdt_segment_id_valid(cbdt, seg_id) ||
		    cbd_segment_info_validate(cbdt, seg_id))
			return true;
		if (i == idx)
			break;
		seg_id = le32_to_cpu(READ_ONCE(cbdt_segment_info(cbdt, seg_id)->next_seg));
	}

	seg = (struct cbd_cache_seg_info *)cbdt_segment_info(cbdt, seg_id);
	if (READ_ONCE(seg->segment_info.type) != CBDS_TYPE_CACHE)
		return true;
	/* at the end of a segment: the journal continues in the next one */
	if (off > CBDT_SEG_SIZE - data_off - sizeof(kset))
		return !!(le32_to_cpu(READ_ONCE(seg->flags)) & CBD_CACHE_SEG_FLAGS_HAS_NEXT);

	if (cbdt_copy_record(&kset, (void *)seg + data_off + off, sizeof(kset)))
		return true;

	return le64_to_cpu(kset.magic) == CBD_KSET_MAGIC &&
	       le32_to_cpu(kset.seg_gen) == (u32)le64_to_cpu(READ_ONCE(seg->gen));
}
