// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD cache writeback (backend instance): write the dirty keys of the
 * journal to the backing disk in log order, without looking at the index.
 *
 * The journal is cut into windows (cbd_cache_wb_window.c): the ksets up
 * to a flush barrier, or as many as a window holds.  A window's keys are
 * written in parallel, each block once, straight from the cache pages;
 * then the disk is flushed and only then dirty_tail moves past the window
 * (and is flushed).  At each of these points the backing disk holds
 * exactly the writes of the journal up to there; in between it holds
 * those plus some of the window's, which the blkdev's user issued with no
 * flush between them, as a disk with a volatile cache may.  After a crash
 * the writeback starts again from dirty_tail.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>

#include "cbd_cache_internal.h"

/* Queue the dirty keys of one kset in the window; add their bytes to *@written. */
static int cbd_cache_wb_kset(struct cbd_cache *cache,
			     struct cbd_cache_kset_onmedia *kset, u64 *written)
{
	struct cbd_cache_key key;
	u32 i;

	for (i = 0; i < le32_to_cpu(kset->key_num); i++) {
		if (!cbd_cache_key_decode(cache, &kset->data[i], &key)) {
			cbd_cache_log(err_ratelimited, cache, "invalid key in the journal\n");
			return -EBADMSG;
		}
		if (key.flags & CBD_CACHE_KEY_FLAGS_CLEAN)
			continue;

		if (!cbd_cache_key_data_crc_ok(&key)) {
			cbd_cache_log(err_ratelimited, cache, "data crc mismatch at %llu+%u\n",
				      key.off, key.len);
			return -EBADMSG;
		}

		cbd_cache_wb_window_add(&cache->wb_window, &key);
		*written += key.len;
	}

	return 0;
}

/* Writeback rate: sampled at most once per CBD_CACHE_WORK_INTERVAL. */
static void cbd_cache_wb_rate_sample(struct cbd_cache *cache)
{
	unsigned long now = jiffies, span = now - cache->wb_rate_stamp;
	u64 bytes = atomic64_read(&cache->writeback_bytes);

	if (span < CBD_CACHE_WORK_INTERVAL)
		return;

	WRITE_ONCE(cache->wb_rate, div64_ul((bytes - cache->wb_rate_bytes) * HZ, span));
	cache->wb_rate_bytes = bytes;
	cache->wb_rate_stamp = now;
}

/*
 * Write the window, flush the disk, then move dirty_tail to @pos (on
 * media too): what is behind it never has to be written again.
 */
static int cbd_cache_wb_commit(struct cbd_cache *cache, struct cbd_cache_pos *pos,
			       u64 *written)
{
	int ret = 0;

	if (cache->wb_window.n_keys)
		ret = cbd_cache_wb_window_write(cache, &cache->wb_window);
	if (!ret && *written)
		ret = blkdev_issue_flush(file_bdev(cache->bdev_file));
	if (ret)
		return ret;

	atomic64_add(*written, &cache->writeback_bytes);
	*written = 0;
	spin_lock(&cache->dirty_tail_lock);
	cache->dirty_tail = *pos;
	spin_unlock(&cache->dirty_tail_lock);
	cbd_cache_pos_onmedia_store(cache, &cache->cache_info->dirty_tail_pos, pos);
	cbd_cache_wb_rate_sample(cache);
	return 0;
}

static u32 cbd_cache_used_segs(struct cbd_cache *cache)
{
	/* on media, written by the blkdev's host: clamp it */
	return min(le32_to_cpu(READ_ONCE(cache->cache_info->used_segs)),
		   cache->n_segs);
}

/*
 * Is the window full before a kset of @n keys?  Near full (7/8 of the
 * segments used) writers may be waiting for GC, which frees a segment
 * only behind dirty_tail: a window then ends after CBD_CACHE_WB_SHORT_KEYS
 * keys, so that dirty_tail, and with it the free space, moves every few
 * milliseconds instead of once per CBD_CACHE_WB_WINDOW_KEYS keys.  The
 * cost is a disk flush per short window.
 */
static bool cbd_cache_wb_window_full(struct cbd_cache *cache, u32 n)
{
	struct cbd_cache_wb_window *w = &cache->wb_window;

	if (!cbd_cache_wb_window_room(w, n))
		return true;

	return w->n_keys >= CBD_CACHE_WB_SHORT_KEYS &&
	       (u64)cbd_cache_used_segs(cache) * 8 >= (u64)cache->n_segs * 7;
}

/*
 * At the end of a key segment: follow the log chain to the next one.
 * False at the end of the log, or after n_segs hops, which only a
 * corrupt (looping) chain on media can cause.
 */
static bool cbd_cache_wb_next_seg(struct cbd_cache *cache,
				  struct cbd_cache_pos *pos, u32 *hops)
{
	struct cbd_cache_segment *next = cbd_cache_seg_next(pos->seg);

	if (!next || ++*hops > cache->n_segs)
		return false;
	pos->seg = next;
	pos->off = 0;
	return true;
}

/*
 * Write back until the journal has no more valid kset, a window at a time
 * (see the top of the file).
 */
static int cbd_cache_writeback_run(struct cbd_cache *cache)
{
	struct cbd_cache_wb_window *w = &cache->wb_window;
	struct cbd_cache_pos pos = cache->dirty_tail;
	struct cbd_cache_kset_onmedia *kset;
	u64 written = 0;
	u32 hops = 0;
	int ret = 0;

	lockdep_assert_held(&cache->writeback_lock);

	for (;;) {
		if (cbd_cache_pos_at_seg_end(&pos)) {
			if (!cbd_cache_wb_next_seg(cache, &pos, &hops))
				break;
			continue;
		}

		kset = cbd_cache_kset_read(cache, &pos, cache->wb_kset_buf);
		if (!kset)
			break;

		if (cbd_cache_wb_window_full(cache, le32_to_cpu(kset->key_num))) {
			ret = cbd_cache_wb_commit(cache, &pos, &written);
			if (ret)
				break;
			hops = 0;
		}

		ret = cbd_cache_wb_kset(cache, kset, &written);
		if (ret)
			break;

		cbd_cache_kset_next_pos(kset, &pos);
		if (le64_to_cpu(kset->flags) & CBD_KSET_FLAGS_FLUSH) {
			ret = cbd_cache_wb_commit(cache, &pos, &written);
			if (ret)
				break;
			hops = 0;
		}
		cond_resched();
	}

	if (!ret && !cbd_cache_pos_equal(&pos, &cache->dirty_tail))
		ret = cbd_cache_wb_commit(cache, &pos, &written);
	/* the next run starts again from dirty_tail */
	w->n_keys = 0;
	return ret;
}

/*
 * Writeback pacing.  Writing back while the blkdev writes takes CPU and
 * disk time from it, and a block rewritten soon is written back twice.
 * So, like dm-writecache below its high watermark and bcache below
 * writeback_percent, the writeback holds back while the journal grows and
 * at most half of gc_percent of the cache is used: it runs once no kset
 * has been written for CBD_CACHE_WB_IDLE, and at once above that
 * watermark, early enough for GC (which starts at gc_percent) to find
 * written-back segments to free.  gc_percent 0 makes it run all the time.
 *
 * How fast it runs follows the fill level, as bcache's proportional
 * controller does: with the journal idle, at backend-stop and from
 * gc_percent up it keeps writeback_depth bios in flight; between the
 * watermark and gc_percent a share of them that grows with used_segs,
 * at least an eighth (cbd_cache_wb_depth_limit()).
 */
static bool cbd_cache_journal_idle(struct cbd_cache *cache)
{
	return time_after_eq(jiffies, READ_ONCE(cache->wb_activity) + CBD_CACHE_WB_IDLE);
}

static bool cbd_cache_writeback_over_watermark(struct cbd_cache *cache, u32 used)
{
	return (u64)used * 200 > (u64)cache->n_segs * cbd_cache_gc_percent(cache);
}

static bool cbd_cache_writeback_due(struct cbd_cache *cache)
{
	u32 used = cbd_cache_used_segs(cache);

	/* a blkdev on another host does not kick: used_segs shows it busy */
	if (used != cache->wb_used_seen) {
		cache->wb_used_seen = used;
		WRITE_ONCE(cache->wb_activity, jiffies);
	}
	if (cbd_cache_writeback_over_watermark(cache, used))
		return true;

	return cbd_cache_journal_idle(cache);
}

/**
 * cbd_cache_wb_depth_limit - writeback bios that may be in flight now
 * @cache: backend instance, in a writeback pass
 *
 * Return: 1 .. writeback_depth, see the pacing above.
 */
u32 cbd_cache_wb_depth_limit(struct cbd_cache *cache)
{
	u32 depth = max_t(u32, READ_ONCE(cache->wb_depth), 1);
	/* fill levels in units of 1/200 of the cache: low is the watermark */
	u64 used = (u64)cbd_cache_used_segs(cache) * 200;
	u64 low = (u64)cache->n_segs * cbd_cache_gc_percent(cache);
	u64 high = 2 * low;
	u32 limit = depth;

	lockdep_assert_held(&cache->writeback_lock);

	if (!cache->wb_draining && used < high && !cbd_cache_journal_idle(cache)) {
		limit = used > low ? div64_u64(depth * (used - low), high - low) : 0;
		limit = clamp_t(u32, limit, max_t(u32, depth / 8, 1), depth);
	}
	WRITE_ONCE(cache->wb_depth_now, limit);
	return limit;
}

void cbd_cache_writeback_workfn(struct work_struct *work)
{
	struct cbd_cache *cache = container_of(to_delayed_work(work),
					       struct cbd_cache, writeback_work);
	unsigned long delay = CBD_CACHE_WORK_INTERVAL;
	int ret;

	if (cbd_cache_failed(cache))
		return;

	if (cbd_cache_writeback_due(cache)) {
		mutex_lock(&cache->writeback_lock);
		ret = cbd_cache_writeback_run(cache);
		mutex_unlock(&cache->writeback_lock);
		if (ret != -EBADMSG)
			cache->wb_bad = 0;
		else if (cbd_cache_bad_run(cache, &cache->wb_bad,
					   "the writeback found the journal corrupt"))
			return;
		if (ret)
			cbd_cache_log(err_ratelimited, cache, "writeback failed: %d, retrying\n",
				      ret);
	} else {
		/* look again soon: the journal may go idle */
		delay = CBD_CACHE_WB_IDLE / 4 + 1;
	}
	cbd_cache_wb_rate_sample(cache);

	if (!cbd_cache_stopping(cache))
		queue_delayed_work(cache->wq, &cache->writeback_work, delay);
}

/**
 * cbd_cache_writeback_kick - a kset was written to the journal
 * @cache: backend instance
 *
 * Writes back at once if the cache is above the writeback watermark;
 * else the writeback waits until the journal has been idle for
 * CBD_CACHE_WB_IDLE.  Any context.
 */
void cbd_cache_writeback_kick(struct cbd_cache *cache)
{
	if (cbd_cache_stopping(cache))
		return;

	WRITE_ONCE(cache->wb_activity, jiffies);
	if (cbd_cache_writeback_over_watermark(cache, cbd_cache_used_segs(cache)))
		mod_delayed_work(cache->wq, &cache->writeback_work, 0);
}

/**
 * cbd_cache_writeback_drain - write back everything in the journal
 * @cache: backend instance; no blkdev is attached any more
 *
 * For backend-stop: when it returns 0 the backing disk holds all the data
 * of the cache and has been flushed, or the journal was found corrupt
 * (the cache is marked failed and what could not be read is lost; the
 * log says so).
 *
 * Return: 0, or the error of the writeback (the backend keeps running).
 */
int cbd_cache_writeback_drain(struct cbd_cache *cache)
{
	int ret;

	mutex_lock(&cache->writeback_lock);
	cache->wb_draining = true;
	ret = cbd_cache_failed(cache) ? -EBADMSG : cbd_cache_writeback_run(cache);
	cache->wb_draining = false;
	mutex_unlock(&cache->writeback_lock);
	/*
	 * A corrupt journal cannot be written back, now or later: keeping
	 * the backend would only make it impossible to stop.  What the
	 * journal held past the corruption is lost; say so.
	 */
	if (ret == -EBADMSG) {
		cbd_cache_mark_failed(cache, "corrupt journal at backend-stop");
		cbd_cache_log(err, cache, "data not written back is lost\n");
		return 0;
	}
	if (ret)
		cbd_cache_log(err, cache, "writeback failed: %d, dirty data left\n", ret);

	return ret;
}

static void cbd_cache_dirty_tail_read(struct cbd_cache *cache,
				      struct cbd_cache_pos *pos)
{
	spin_lock(&cache->dirty_tail_lock);
	*pos = cache->dirty_tail;
	spin_unlock(&cache->dirty_tail_lock);
}

/* Bytes of the dirty keys in the valid ksets from @pos on. */
static u64 cbd_cache_dirty_bytes_from(struct cbd_cache *cache,
				      struct cbd_cache_pos pos, void *buf)
{
	struct cbd_cache_kset_onmedia *kset;
	struct cbd_cache_key key;
	u32 i, hops = 0;
	u64 bytes = 0;

	for (;;) {
		if (cbd_cache_pos_at_seg_end(&pos)) {
			if (!cbd_cache_wb_next_seg(cache, &pos, &hops))
				break;
			continue;
		}

		kset = cbd_cache_kset_read(cache, &pos, buf);
		if (!kset)
			break;

		for (i = 0; i < le32_to_cpu(kset->key_num); i++) {
			if (cbd_cache_key_decode(cache, &kset->data[i], &key) &&
			    !(key.flags & CBD_CACHE_KEY_FLAGS_CLEAN))
				bytes += key.len;
		}
		cbd_cache_kset_next_pos(kset, &pos);
		cond_resched();
	}

	return bytes;
}

/* walks of cbd_cache_dirty_bytes() while dirty_tail keeps moving */
#define CBD_CACHE_DIRTY_WALKS	4

/**
 * cbd_cache_dirty_bytes - data in the journal not written back yet
 * @cache: backend instance
 * @bytes: where to put the result
 *
 * Only written ksets count: keys still staged by the blkdev are not
 * visible here (a flush writes them).
 *
 * The journal is walked from a snapshot of dirty_tail without the
 * writeback_lock, which a writeback pass holds while it waits for the
 * backing disk.  So the number is approximate while the writeback runs:
 * it may include keys written back during the walk, and a walk may stop
 * early if GC freed and reused a key segment the writeback passed
 * meanwhile (kset_read() rejects a kset whose seg_gen changed).  A walk
 * during which dirty_tail moved is done again from the new position, a
 * few times at most, so that such an early stop does not report a clean
 * journal.  When the writeback is idle the number is exact.
 *
 * Return: 0 with the bytes in @bytes, or -ENOMEM (not reported as clean).
 */
int cbd_cache_dirty_bytes(struct cbd_cache *cache, u64 *bytes)
{
	struct cbd_cache_pos pos, now;
	void *buf;
	int i;

	buf = kmalloc(CBD_KSET_ONMEDIA_SIZE_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	cbd_cache_dirty_tail_read(cache, &pos);
	for (i = 0; i < CBD_CACHE_DIRTY_WALKS; i++) {
		*bytes = cbd_cache_dirty_bytes_from(cache, pos, buf);
		cbd_cache_dirty_tail_read(cache, &now);
		if (cbd_cache_pos_equal(&now, &pos))
			break;
		pos = now;
	}

	kfree(buf);
	return 0;
}

/**
 * cbd_cache_writeback_init - set up the writeback of the backend instance
 * @cache: backend instance with its segments and bdev_file
 *
 * Return: 0, -EINVAL (bad dirty_tail on media), -ENOMEM.
 */
int cbd_cache_writeback_init(struct cbd_cache *cache)
{
	int ret;

	if (!cbd_cache_pos_onmedia_load(cache, &cache->cache_info->dirty_tail_pos,
					&cache->dirty_tail)) {
		cbd_cache_log(err, cache, "invalid dirty_tail on media\n");
		return -EINVAL;
	}
	cache->wb_activity = jiffies;
	cache->wb_used_seen = cbd_cache_used_segs(cache);
	cache->wb_depth = CBD_CACHE_WB_DEPTH_DEFAULT;
	cache->wb_depth_now = cache->wb_depth;
	cache->wb_rate_stamp = jiffies;

	cache->wb_kset_buf = kmalloc(CBD_KSET_ONMEDIA_SIZE_MAX, GFP_KERNEL);
	if (!cache->wb_kset_buf)
		return -ENOMEM;

	ret = cbd_cache_wb_window_init(&cache->wb_window);
	if (ret)
		goto err_free_buf;

	ret = bioset_init(&cache->wb_bioset, 64, 0, BIOSET_NEED_BVECS);
	if (ret)
		goto err_window_exit;

	return 0;

err_window_exit:
	cbd_cache_wb_window_exit(&cache->wb_window);
err_free_buf:
	kfree(cache->wb_kset_buf);
	cache->wb_kset_buf = NULL;
	return ret;
}

/**
 * cbd_cache_writeback_exit - stop the writeback
 * @cache: backend instance, stopping
 */
void cbd_cache_writeback_exit(struct cbd_cache *cache)
{
	if (!cache->wb_kset_buf)
		return;

	cancel_delayed_work_sync(&cache->writeback_work);
	bioset_exit(&cache->wb_bioset);
	cbd_cache_wb_window_exit(&cache->wb_window);
	kfree(cache->wb_kset_buf);
	cache->wb_kset_buf = NULL;
}
