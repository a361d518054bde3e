// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD cache GC (blkdev instance): walk the journal from key_tail up to
 * dirty_tail (what the writeback has written back), dropping the segment
 * reference of every key of each kset, and free key segments passed
 * completely.  A data segment whose references are all gone returns to
 * the free map (its data stays readable until it is claimed again).
 *
 * key_tail is stored (and flushed) before the references of a kset are
 * dropped: after a crash the replay starts behind the kset and does not
 * count its keys either.
 *
 * GC runs when more than gc_percent of the segments are used, or at once
 * when a request is waiting for a free segment.  It needs nothing from
 * the request paths, only the writeback's progress, which needs nothing
 * from the blkdev: waiting requests cannot deadlock it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "cbd_cache_internal.h"

static bool cbd_cache_need_gc(struct cbd_cache *cache)
{
	u32 gc_percent = cbd_cache_gc_percent(cache);
	u32 used;

	if (atomic_read(&cache->space_wanted))
		return true;

	spin_lock(&cache->seg_map_lock);
	used = cache->used_segs;
	spin_unlock(&cache->seg_map_lock);

	return (u64)used * 100 > (u64)cache->n_segs * gc_percent;
}

/* Drop the references of the keys of a kset GC has passed. */
static void cbd_cache_gc_kset(struct cbd_cache *cache,
			      struct cbd_cache_kset_onmedia *kset)
{
	struct cbd_cache_key key;
	u32 i;

	for (i = 0; i < le32_to_cpu(kset->key_num); i++) {
		if (!cbd_cache_key_decode(cache, &kset->data[i], &key))
			continue;
		/* stale keys were not counted (see cbd_cache_replay()) */
		if (key.seg_gen == key.pos.seg->gen)
			cbd_cache_seg_put(key.pos.seg);
	}
	atomic64_inc(&cache->gc_ksets);
}

/*
 * One step of GC: 1 after progress, 0 when there is nothing (more) to do
 * now, -EBADMSG when the journal is corrupt where GC must pass.
 */
static int cbd_cache_gc_step(struct cbd_cache *cache)
{
	struct cbd_cache_info *info = cache->cache_info;
	struct cbd_cache_pos *tail = &cache->key_tail;
	struct cbd_cache_kset_onmedia *kset;
	struct cbd_cache_segment *old;
	struct cbd_cache_pos dirty;

	if (!cbd_cache_pos_onmedia_load(cache, &info->dirty_tail_pos, &dirty)) {
		cbd_cache_log(err_ratelimited, cache, "invalid dirty_tail on media\n");
		return -EBADMSG;
	}

	if (dirty.seg == tail->seg && dirty.off == tail->off)
		return 0;
	if (!cbd_cache_need_gc(cache))
		return 0;

	if (cbd_cache_pos_at_seg_end(tail)) {
		if (dirty.seg == tail->seg)
			return 0;

		old = tail->seg;
		tail->seg = cbd_cache_seg_next(old);
		if (!tail->seg) {
			tail->seg = old;
			return 0;
		}
		tail->off = 0;
		cbd_cache_pos_onmedia_store(cache, &info->key_tail_pos, tail);
		cbd_cache_seg_free(old);
		return 1;
	}

	kset = cbd_cache_kset_read(cache, tail, cache->gc_kset_buf);
	if (!kset) {
		/* behind dirty_tail: the writeback read a kset here */
		cbd_cache_log(err_ratelimited, cache, "no valid kset at key_tail %u:%u\n",
			      tail->seg->cache_seg_id, tail->off);
		return -EBADMSG;
	}

	cbd_cache_kset_next_pos(kset, tail);
	cbd_cache_pos_onmedia_store(cache, &info->key_tail_pos, tail);
	cbd_cache_gc_kset(cache, kset);

	return 1;
}

void cbd_cache_gc_workfn(struct work_struct *work)
{
	struct cbd_cache *cache = container_of(to_delayed_work(work),
					       struct cbd_cache, gc_work);

	int ret = 0;

	while (!cbd_cache_stopping(cache) && !cbd_cache_failed(cache) &&
	       (ret = cbd_cache_gc_step(cache)) > 0)
		cond_resched();

	if (ret >= 0)
		cache->gc_bad = 0;
	else if (cbd_cache_bad_run(cache, &cache->gc_bad, "GC found the journal corrupt"))
		return;

	if (!cbd_cache_stopping(cache) && !cbd_cache_failed(cache))
		queue_delayed_work(cache->wq, &cache->gc_work, CBD_CACHE_WORK_INTERVAL);
}

/**
 * cbd_cache_gc_kick - run GC now
 * @cache: blkdev instance
 */
void cbd_cache_gc_kick(struct cbd_cache *cache)
{
	if (!cbd_cache_stopping(cache))
		mod_delayed_work(cache->wq, &cache->gc_work, 0);
}
