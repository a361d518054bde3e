// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD cache: allocation and teardown of the two cache instances, and the
 * backend<N>/cache sysfs directory.
 *
 * The backend instance (on the backend's host) owns the cache segments
 * of a new backend and runs the writeback; the blkdev instance (on the
 * blkdev's host) builds the index from the journal, serves the requests
 * and runs the GC.  They share only the transport: cache_info (key_tail,
 * dirty_tail, used_segs, gc_percent), the segment headers and the ksets.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>

#include "cbd_backend.h"
#include "cbd_blkdev.h"
#include "cbd_cache_internal.h"
#include "cbd_heartbeat.h"
#include "cbd_queue.h"

#define CBD_CACHE_KEY_POOL_MIN		1024
#define CBD_CACHE_REQ_POOL_MIN		256
/* dev-stop: the last ksets wait for room at most this long without progress */
#define CBD_CACHE_CLOSE_STALL		(60 * HZ)

/*
 * One tree per 4 MiB of the device.  dev_size was validated by the caller
 * (at most CBD_DEV_SIZE_MAX sectors); the count is still computed in 64
 * bits and checked against U32_MAX rather than truncated.
 */
static int cbd_cache_trees_init(struct cbd_cache *cache)
{
	u64 n_trees = DIV_ROUND_UP_ULL(cache->dev_size, CBD_CACHE_TREE_SIZE);
	u32 i;

	if (!n_trees || n_trees > U32_MAX)
		return -EINVAL;
	cache->n_trees = n_trees;
	cache->trees = kvcalloc(cache->n_trees, sizeof(*cache->trees), GFP_KERNEL);
	if (!cache->trees)
		return -ENOMEM;

	for (i = 0; i < cache->n_trees; i++) {
		spin_lock_init(&cache->trees[i].lock);
		cache->trees[i].root = RB_ROOT;
	}

	return 0;
}

static int cbd_cache_pools_init(struct cbd_cache *cache)
{
	int ret;

	cache->key_cache = KMEM_CACHE(cbd_cache_key, 0);
	if (!cache->key_cache)
		return -ENOMEM;

	ret = mempool_init_slab_pool(&cache->key_pool, CBD_CACHE_KEY_POOL_MIN,
				     cache->key_cache);
	if (ret)
		goto err_destroy_key_cache;

	cache->req_cache = KMEM_CACHE(cbd_request, 0);
	if (!cache->req_cache) {
		ret = -ENOMEM;
		goto err_exit_key_pool;
	}

	ret = mempool_init_slab_pool(&cache->req_pool, CBD_CACHE_REQ_POOL_MIN,
				     cache->req_cache);
	if (ret)
		goto err_destroy_req_cache;

	return 0;

err_destroy_req_cache:
	kmem_cache_destroy(cache->req_cache);
err_exit_key_pool:
	mempool_exit(&cache->key_pool);
err_destroy_key_cache:
	kmem_cache_destroy(cache->key_cache);
	return ret;
}

static void cbd_cache_pools_exit(struct cbd_cache *cache)
{
	mempool_exit(&cache->req_pool);
	kmem_cache_destroy(cache->req_cache);
	mempool_exit(&cache->key_pool);
	kmem_cache_destroy(cache->key_cache);
}

static int cbd_cache_ksets_init(struct cbd_cache *cache)
{
	struct cbd_cache_kset *kset;
	u32 i;

	cache->kset_stride = round_up(struct_size_t(struct cbd_cache_kset,
						    kset_onmedia.data,
						    CBD_KSET_KEYS_MAX), 64);
	cache->ksets = kvcalloc(cache->n_paral, cache->kset_stride, GFP_KERNEL);
	if (!cache->ksets)
		return -ENOMEM;

	for (i = 0; i < cache->n_paral; i++) {
		kset = cbd_cache_kset(cache, i);
		kset->cache = cache;
		spin_lock_init(&kset->lock);
		INIT_DELAYED_WORK(&kset->flush_work, cbd_cache_kset_flush_workfn);
	}

	cache->data_heads = kcalloc(cache->n_paral, sizeof(*cache->data_heads),
				    GFP_KERNEL);
	if (!cache->data_heads)
		return -ENOMEM;

	for (i = 0; i < cache->n_paral; i++)
		spin_lock_init(&cache->data_heads[i].lock);

	return 0;
}

/*
 * Why the final kset write gives up, or NULL to go on waiting: a user
 * killed dev-stop, the backend is dead (its writeback, which GC waits
 * for, makes no progress; a re-attached backend can replay nothing the
 * journal does not hold anyway), or no segment was freed for
 * CBD_CACHE_CLOSE_STALL although the backend looks alive (its disk is
 * stuck).
 */
static const char *cbd_cache_close_give_up(struct cbd_cache *cache, long ret,
					   unsigned long last_progress)
{
	if (ret < 0)
		return "interrupted";
	if (cbd_cache_failed(cache))
		return "the cache failed";
	if (!cbd_backend_info_is_alive(cache->cbdt, cache->backend_id))
		return "the backend is dead";
	if (time_after(jiffies, last_progress + CBD_CACHE_CLOSE_STALL))
		return "no segment freed for 60s";
	return NULL;
}

/*
 * dev-stop: write the staged keys.  When the journal has no room, GC must
 * free a segment first, which waits for the writeback: sleep on
 * space_wq (woken by cbd_cache_seg_free()), kicking GC, within the
 * limits of cbd_cache_close_give_up().
 */
static void cbd_cache_ksets_final_close(struct cbd_cache *cache)
{
	unsigned long last_progress = jiffies;
	const char *why;
	u64 freed;
	long ret;
	u32 i;

	for (i = 0; i < cache->n_paral; i++)
		cancel_delayed_work_sync(&cbd_cache_kset(cache, i)->flush_work);

	for (;;) {
		freed = atomic64_read(&cache->segs_freed);
		if (!cbd_cache_ksets_close(cache))
			return;

		cbd_cache_gc_kick(cache);
		/* GC polls the remote writeback once a second: look as often */
		ret = wait_event_killable_timeout(cache->space_wq,
						  atomic64_read(&cache->segs_freed) != freed,
						  CBD_CACHE_WORK_INTERVAL);
		if (ret > 0)
			last_progress = jiffies;
		why = cbd_cache_close_give_up(cache, ret, last_progress);
		if (why)
			break;
	}

	cbd_cache_log(err, cache, "no room in the journal (%s): writes not flushed are lost\n",
		      why);
}

/* The blkdev instance: index, journal replay, ksets, data heads. */
static int cbd_cache_keys_init(struct cbd_cache *cache)
{
	int ret;

	cache->seg_map = bitmap_zalloc(cache->n_segs, GFP_KERNEL);
	cache->gc_kset_buf = kmalloc(CBD_KSET_ONMEDIA_SIZE_MAX, GFP_KERNEL);
	if (!cache->seg_map || !cache->gc_kset_buf)
		return -ENOMEM;

	ret = cbd_cache_pools_init(cache);
	if (ret)
		return ret;

	ret = cbd_cache_trees_init(cache);
	if (ret)
		return ret;

	ret = cbd_cache_ksets_init(cache);
	if (ret)
		return ret;

	if (!cbd_cache_pos_onmedia_load(cache, &cache->cache_info->key_tail_pos,
					&cache->key_tail)) {
		cbd_cache_log(err, cache, "invalid key_tail on media\n");
		return -EINVAL;
	}

	return cbd_cache_replay(cache);
}

static void cbd_cache_free(struct cbd_cache *cache)
{
	if (cache->wq)
		destroy_workqueue(cache->wq);
	if (cache->key_cache)
		cbd_cache_pools_exit(cache);
	kfree(cache->data_heads);
	kvfree(cache->ksets);
	kvfree(cache->trees);
	kfree(cache->gc_kset_buf);
	bitmap_free(cache->seg_map);
	cbd_cache_segments_exit(cache);
	kvfree(cache->segments);
	kfree(cache);
}

/**
 * cbd_cache_kick_local_writeback - a kset was written: tell the writeback
 * @cache: blkdev instance whose backend runs on this host
 *
 * The backend instance is found by id under the transport lock each
 * time, as a backend may stop or crash while its blkdev runs (a pointer
 * would dangle).
 */
void cbd_cache_kick_local_writeback(struct cbd_cache *cache)
{
	struct cbd_transport *cbdt = cache->cbdt;
	struct cbd_backend *cbdb;

	spin_lock(&cbdt->lock);
	list_for_each_entry(cbdb, &cbdt->backends, node) {
		if (cbdb->backend_id == cache->backend_id) {
			if (cbdb->cbd_cache)
				cbd_cache_writeback_kick(cbdb->cbd_cache);
			break;
		}
	}
	spin_unlock(&cbdt->lock);
}

/* A new cache: empty journal, GC tail and writeback tail at the start. */
static void cbd_cache_info_reset(struct cbd_cache *cache)
{
	struct cbd_cache_info *info = cache->cache_info;
	struct cbd_cache_pos start = { .seg = &cache->segments[0], .off = 0 };
	u16 gc_percent = le16_to_cpu(info->gc_percent);

	cbd_cache_pos_onmedia_store(cache, &info->key_tail_pos, &start);
	cbd_cache_pos_onmedia_store(cache, &info->dirty_tail_pos, &start);
	info->used_segs = 0;
	if (gc_percent > CBD_CACHE_GC_PERCENT_MAX)
		info->gc_percent = cpu_to_le16(CBD_CACHE_GC_PERCENT_DEFAULT);
	cbdt_flush(cache->cbdt, info, sizeof(*info));
}

static struct cbd_cache *cbd_cache_create(struct cbd_transport *cbdt,
					  struct cbd_cache_opts *opts)
{
	struct cbd_cache *cache;

	cache = kzalloc(sizeof(*cache), GFP_KERNEL);
	if (!cache)
		return NULL;

	cache->cbdt = cbdt;
	cache->cache_info = opts->cache_info;
	cache->backend_id = opts->backend_id;
	cache->n_segs = opts->n_segs;
	cache->n_paral = opts->n_paral;
	cache->dev_size = opts->dev_size << SECTOR_SHIFT;
	cache->bdev_file = opts->bdev_file;
	cache->space_freed = opts->space_freed;
	cache->space_data = opts->space_data;
	atomic_set(&cache->state, CBD_CACHE_STATE_NONE);
	spin_lock_init(&cache->key_head_lock);
	cache->journal_unfenced = true;
	spin_lock_init(&cache->seg_map_lock);
	spin_lock_init(&cache->retry_lock);
	init_waitqueue_head(&cache->space_wq);
	INIT_LIST_HEAD(&cache->retry_reqs);
	spin_lock_init(&cache->fill_lock);
	INIT_LIST_HEAD(&cache->fill_reqs);
	INIT_WORK(&cache->fill_work, cbd_cache_fill_workfn);
	spin_lock_init(&cache->dirty_tail_lock);
	mutex_init(&cache->writeback_lock);
	INIT_DELAYED_WORK(&cache->gc_work, cbd_cache_gc_workfn);
	INIT_WORK(&cache->clean_work, cbd_cache_clean_workfn);
	INIT_DELAYED_WORK(&cache->retry_work, cbd_cache_retry_workfn);
	INIT_DELAYED_WORK(&cache->writeback_work, cbd_cache_writeback_workfn);

	cache->segments = kvcalloc(cache->n_segs, sizeof(*cache->segments),
				   GFP_KERNEL);
	cache->wq = alloc_workqueue("cbdt%u-c%u%s", WQ_UNBOUND | WQ_MEM_RECLAIM, 0,
				    cbdt->id, opts->backend_id,
				    opts->init_keys ? "d" : "b");
	if (!cache->segments || !cache->wq) {
		cbd_cache_free(cache);
		return NULL;
	}

	return cache;
}

/**
 * cbd_cache_alloc - start a cache instance
 * @cbdt: transport
 * @opts: which instance, see struct cbd_cache_opts
 * @err: the error when NULL is returned
 *
 * Return: the instance, or NULL with *@err = -EINVAL (bad sizes or media),
 * -ENOSPC (more segments than the transport has), -ENOENT (not enough
 * free segments), -EIO (corrupt journal), -ENOMEM.
 */
struct cbd_cache *cbd_cache_alloc(struct cbd_transport *cbdt,
				  struct cbd_cache_opts *opts, int *err)
{
	u32 n_segs = opts->n_segs;
	struct cbd_cache *cache;
	int ret;

	if (!opts->dev_size || opts->dev_size > CBD_DEV_SIZE_MAX) {
		cbdt_log(err, cbdt, "cache%u: invalid device size %llu\n",
			 opts->backend_id, opts->dev_size);
		*err = -EINVAL;
		return NULL;
	}
	if (!n_segs || opts->n_paral > CBD_CACHE_PARAL_MAX ||
	    n_segs < opts->n_paral * CBD_CACHE_SEGS_EACH_PARAL) {
		*err = -EINVAL;
		return NULL;
	}
	if (n_segs > cbdt->segment_num) {
		cbdt_log(err, cbdt, "cache of %u segments, the transport has %u\n",
			 n_segs, cbdt->segment_num);
		*err = -ENOSPC;
		return NULL;
	}

	cache = cbd_cache_create(cbdt, opts);
	if (!cache) {
		*err = -ENOMEM;
		return NULL;
	}

	ret = cbd_cache_segments_init(cache, opts->alloc_segs);
	if (ret)
		goto err_free;
	if (opts->alloc_segs)
		cbd_cache_info_reset(cache);

	if (opts->init_keys) {
		ret = cbd_cache_keys_init(cache);
		if (ret)
			goto err_free_keys;
		cache->local_backend = opts->local_backend;
	}

	if (opts->start_writeback) {
		ret = cbd_cache_writeback_init(cache);
		if (ret)
			goto err_free;
	}

	atomic_set(&cache->state, CBD_CACHE_STATE_RUNNING);
	if (opts->start_writeback)
		queue_delayed_work(cache->wq, &cache->writeback_work, 0);
	if (opts->start_gc)
		queue_delayed_work(cache->wq, &cache->gc_work, 0);

	return cache;

err_free_keys:
	if (cache->trees)
		cbd_cache_trees_clear(cache);
err_free:
	cbd_cache_free(cache);
	*err = ret;
	return NULL;
}

/* Stop every work of the instance and empty the index. */
static void cbd_cache_stop_works(struct cbd_cache *cache)
{
	/* no request is left: cache what the last miss reads fetched */
	flush_work(&cache->fill_work);
	atomic_set(&cache->state, CBD_CACHE_STATE_STOPPING);
	cancel_delayed_work_sync(&cache->gc_work);
	cancel_work_sync(&cache->clean_work);
	cancel_delayed_work_sync(&cache->retry_work);
	cbd_cache_writeback_exit(cache);

	if (cache->trees)
		cbd_cache_trees_clear(cache);
}

/**
 * cbd_cache_destroy - stop a cache instance
 * @cache: the instance; for the blkdev instance, no request is left
 *
 * The blkdev instance writes its staged ksets first (what was acknowledged
 * is in the journal); the backend instance expects cbd_cache_writeback_drain()
 * to have run if the data must reach the disk.
 */
void cbd_cache_destroy(struct cbd_cache *cache)
{
	if (cache->trees) {
		/* the keys of the last miss fills go into the journal too */
		flush_work(&cache->fill_work);
		cbd_cache_ksets_final_close(cache);
	}

	cbd_cache_stop_works(cache);
	cbd_cache_free(cache);
}

/**
 * cbd_cache_take_over - drop the segment references of a dead backend
 * @cache: backend instance that re-attached to a dead backend's slot
 *
 * Every cache instance holds one reference on each segment of the cache
 * (cbd_segment_init() in cbd_cache_segments_init()); a backend that died
 * never dropped its own, so without this the segments would never be
 * freed.  Called once the takeover cannot fail any more (before, the dead
 * backend's slot, references included, stays as it was for another try).
 * A predecessor that died before taking a reference (in the middle of
 * backend-start) leaves a count of 1 (ours), which is left alone.
 */
void cbd_cache_take_over(struct cbd_cache *cache)
{
	u32 i, dropped = 0;

	for (i = 0; i < cache->n_segs; i++)
		dropped += cbd_segment_put_dead(&cache->segments[i].segment);

	cbd_cache_log(info, cache, "took over %u segment references of the dead backend\n",
		      dropped);
}

/**
 * cbd_cache_media_failure - a memory failure hit segments @first..@last
 * @cache: the instance
 * @first: first failed segment (transport segment id)
 * @last: last failed segment
 *
 * If one of them holds this cache's data or journal, the cache is marked
 * failed: its I/O ends with EIO and GC and the writeback stop, as on a
 * corrupt journal.  The writeback cannot step over the lost part of the
 * log without breaking its order, and reads of it would consume poison.
 * Any context.
 */
void cbd_cache_media_failure(struct cbd_cache *cache, u32 first, u32 last)
{
	u32 i, id;

	for (i = 0; i < cache->n_segs; i++) {
		if (!cache->segments[i].segment.inited)
			continue;
		id = cache->segments[i].segment.seg_id;
		if (id >= first && id <= last) {
			cbd_cache_mark_failed(cache, "memory failure in its segments");
			return;
		}
	}
}

/**
 * cbd_cache_abandon - fault injection: drop an instance as a crash would
 * @cache: the instance
 *
 * Stops its works and frees it without writing its state: the segments
 * keep their references and go stale, the journal stays as it is, to be
 * taken over by a re-attached backend.
 */
void cbd_cache_abandon(struct cbd_cache *cache)
{
	u32 i;

	cbd_cache_stop_works(cache);
	for (i = 0; i < cache->n_segs; i++)
		cbd_segment_abandon(&cache->segments[i].segment);
	cbd_cache_free(cache);
}

/* sysfs: backend<N>/cache */

/**
 * struct cbd_cache_dev - the backend<N>/cache sysfs directory
 * @dev: its device; the release callback frees the structure, whenever
 *	the last reference goes (it may outlive the backend)
 * @cache: the backend instance shown.  Only the attribute callbacks use
 *	it, and device_del() waits for those running and refuses new ones
 *	(kernfs active references), so it stays valid for all of them even
 *	though the instance is destroyed right after the unregister.
 */
struct cbd_cache_dev {
	struct device dev;
	struct cbd_cache *cache;
};

static struct cbd_cache *cbd_cache_dev_cache(struct device *dev)
{
	return container_of(dev, struct cbd_cache_dev, dev)->cache;
}

static struct cbd_cache_info *cbd_cache_dev_info(struct device *dev)
{
	return cbd_cache_dev_cache(dev)->cache_info;
}

static ssize_t cache_segs_show(struct device *dev, struct device_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  le32_to_cpu(READ_ONCE(cbd_cache_dev_info(dev)->n_segs)));
}
static DEVICE_ATTR_ADMIN_RO(cache_segs);

static ssize_t used_segs_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  le32_to_cpu(READ_ONCE(cbd_cache_dev_info(dev)->used_segs)));
}
static DEVICE_ATTR_ADMIN_RO(used_segs);

static ssize_t gc_percent_show(struct device *dev, struct device_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  le16_to_cpu(READ_ONCE(cbd_cache_dev_info(dev)->gc_percent)));
}

/*
 * A number written to a sysfs file: decimal, an optional newline, no NUL
 * (kstrtouint() would stop at it and ignore what follows), at most @max.
 */
static int cbd_cache_parse_uint(const char *buf, size_t size, unsigned int max,
				unsigned int *val)
{
	int ret;

	if (memchr(buf, '\0', size))
		return -EINVAL;
	ret = kstrtouint(buf, 10, val);
	if (ret)
		return ret;

	return *val > max ? -EINVAL : 0;
}

/**
 * cbd_cache_parse_gc_percent - parse a gc_percent value written by a user
 * @buf: the bytes written
 * @size: their number
 * @val: result, 0 .. CBD_CACHE_GC_PERCENT_MAX
 *
 * Return: 0, -EINVAL or -ERANGE.
 */
int cbd_cache_parse_gc_percent(const char *buf, size_t size, u16 *val)
{
	unsigned int v;
	int ret;

	ret = cbd_cache_parse_uint(buf, size, CBD_CACHE_GC_PERCENT_MAX, &v);
	if (ret)
		return ret;

	*val = v;
	return 0;
}

/**
 * cbd_cache_set_gc_percent - store gc_percent on media
 * @cbdt: transport
 * @info: cache description
 * @val: 0 .. CBD_CACHE_GC_PERCENT_MAX
 *
 * On media so that it survives a restart and the blkdev and backend
 * instances, possibly on two hosts, read one value.
 */
void cbd_cache_set_gc_percent(struct cbd_transport *cbdt,
			      struct cbd_cache_info *info, u16 val)
{
	WRITE_ONCE(info->gc_percent, cpu_to_le16(val));
	cbdt_flush(cbdt, &info->gc_percent, sizeof(info->gc_percent));
}

static ssize_t gc_percent_store(struct device *dev, struct device_attribute *attr,
				const char *buf, size_t size)
{
	u16 val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	ret = cbd_cache_parse_gc_percent(buf, size, &val);
	if (ret)
		return ret;

	cbd_cache_set_gc_percent(cbd_cache_dev_cache(dev)->cbdt,
				 cbd_cache_dev_info(dev), val);
	return size;
}
static DEVICE_ATTR_ADMIN_RW(gc_percent);

static ssize_t writeback_depth_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(cbd_cache_dev_cache(dev)->wb_depth));
}

/* In memory: the writeback runs here, on the backend's host. */
static ssize_t writeback_depth_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t size)
{
	unsigned int val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	ret = cbd_cache_parse_uint(buf, size, CBD_CACHE_WB_DEPTH_MAX, &val);
	if (ret)
		return ret;
	if (!val)
		return -EINVAL;

	WRITE_ONCE(cbd_cache_dev_cache(dev)->wb_depth, val);
	return size;
}
static DEVICE_ATTR_ADMIN_RW(writeback_depth);

/* counters of the blkdev instances of this backend on this host */
struct cbd_cache_local_stats {
	u64 hits, misses, hit_bytes, miss_bytes;
	u64 segs_freed, stalls, stall_ns, stall_max_ns;
};

static void cbd_cache_local_stats_add(struct cbd_cache_local_stats *st,
				      struct cbd_cache *c)
{
	st->hits += atomic64_read(&c->hits);
	st->misses += atomic64_read(&c->misses);
	st->hit_bytes += atomic64_read(&c->hit_bytes);
	st->miss_bytes += atomic64_read(&c->miss_bytes);
	st->segs_freed += atomic64_read(&c->segs_freed);
	st->stalls += atomic64_read(&c->stalls);
	st->stall_ns += atomic64_read(&c->stall_ns);
	st->stall_max_ns = max_t(u64, st->stall_max_ns,
				 atomic64_read(&c->stall_max_ns));
}

static ssize_t stats_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct cbd_cache *cache = cbd_cache_dev_cache(dev);
	struct cbd_cache_info *info = cache->cache_info;
	struct cbd_cache_pos_onmedia key_tail, dirty_tail;
	struct cbd_transport *cbdt = cache->cbdt;
	struct cbd_cache_local_stats st = {};
	struct cbd_blkdev *blkdev;
	u64 dirty;
	int ret;

	ret = cbd_cache_dirty_bytes(cache, &dirty);
	if (ret)
		return ret;

	/*
	 * The read, GC and stall counters are the blkdev instance's, in
	 * this host's memory: those of a blkdev on another host are not seen
	 * here (see cbd.rst).  A blkdev is on the list only while its
	 * instance runs.
	 */
	spin_lock(&cbdt->lock);
	list_for_each_entry(blkdev, &cbdt->blkdevs, node) {
		if (blkdev->backend_id == cache->backend_id && blkdev->cbd_cache)
			cbd_cache_local_stats_add(&st, blkdev->cbd_cache);
	}
	spin_unlock(&cbdt->lock);

	key_tail = info->key_tail_pos;
	dirty_tail = info->dirty_tail_pos;

	return sysfs_emit(buf,
			  "cache_segs: %u\nused_segs: %u\ngc_percent: %u\n"
			  "hits: %llu\nmisses: %llu\nhit_bytes: %llu\nmiss_bytes: %llu\n"
			  "dirty_bytes: %llu\nwriteback_bytes: %llu\n"
			  "writeback_pos: %u:%u\ngc_pos: %u:%u\n"
			  "writeback_rate: %llu\ngc_segs_freed: %llu\n"
			  "write_stalls: %llu\nwrite_stall_us: %llu\n"
			  "write_stall_max_us: %llu\nwriteback_depth_now: %u\n",
			  le32_to_cpu(info->n_segs), le32_to_cpu(info->used_segs),
			  le16_to_cpu(info->gc_percent),
			  st.hits, st.misses, st.hit_bytes, st.miss_bytes, dirty,
			  atomic64_read(&cache->writeback_bytes),
			  le32_to_cpu(dirty_tail.cache_seg_id),
			  le32_to_cpu(dirty_tail.seg_off),
			  le32_to_cpu(key_tail.cache_seg_id),
			  le32_to_cpu(key_tail.seg_off),
			  READ_ONCE(cache->wb_rate), st.segs_freed, st.stalls,
			  div_u64(st.stall_ns, NSEC_PER_USEC),
			  div_u64(st.stall_max_ns, NSEC_PER_USEC),
			  READ_ONCE(cache->wb_depth_now));
}
static DEVICE_ATTR_ADMIN_RO(stats);

static struct attribute *cbd_cache_attrs[] = {
	&dev_attr_cache_segs.attr,
	&dev_attr_used_segs.attr,
	&dev_attr_gc_percent.attr,
	&dev_attr_writeback_depth.attr,
	&dev_attr_stats.attr,
	NULL
};
ATTRIBUTE_GROUPS(cbd_cache);

static void cbd_cache_dev_release(struct device *dev)
{
	kfree(container_of(dev, struct cbd_cache_dev, dev));
}

static const struct device_type cbd_cache_type = {
	.name		= "cbd_cache",
	.groups		= cbd_cache_groups,
	.release	= cbd_cache_dev_release,
};

/**
 * cbd_cache_dev_register - add backend<N>/cache
 * @cache: backend instance; must outlive the registration
 * @parent: the backend<N> device
 *
 * Return: the device, or an ERR_PTR() (-ENOMEM, errors of device_add()).
 */
struct cbd_cache_dev *cbd_cache_dev_register(struct cbd_cache *cache,
					     struct device *parent)
{
	struct cbd_cache_dev *cache_dev;
	int ret;

	cache_dev = kzalloc(sizeof(*cache_dev), GFP_KERNEL);
	if (!cache_dev)
		return ERR_PTR(-ENOMEM);

	cache_dev->cache = cache;
	device_initialize(&cache_dev->dev);
	cache_dev->dev.type = &cbd_cache_type;
	cache_dev->dev.parent = parent;
	ret = dev_set_name(&cache_dev->dev, "cache");
	if (ret)
		goto err_put_dev;

	ret = device_add(&cache_dev->dev);
	if (ret)
		goto err_put_dev;

	return cache_dev;

err_put_dev:
	/* the release callback frees it (and the name, if set) */
	put_device(&cache_dev->dev);
	return ERR_PTR(ret);
}

/**
 * cbd_cache_dev_unregister - remove backend<N>/cache
 * @cache_dev: from cbd_cache_dev_register()
 *
 * When it returns no attribute callback runs or will run, so the cache
 * instance may go; the structure itself is freed by the last put (a
 * sysfs file held open keeps only the kernfs node, which then reads
 * -ENODEV).
 */
void cbd_cache_dev_unregister(struct cbd_cache_dev *cache_dev)
{
	device_unregister(&cache_dev->dev);
}
