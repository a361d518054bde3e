// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD cache request paths (blkdev instance): writes go into the cache and
 * complete without touching the disk; reads are served from the cache
 * and their misses fetched through the channel by child requests, then
 * inserted as clean data; a flush writes the staged ksets.
 *
 * Nothing here sleeps: queue_rq() calls it.  When there is no free
 * segment (or no memory), the request returns -EBUSY/-ENOMEM before any
 * child is submitted and blk-mq requeues it with a delay (see
 * cbd_queue_rq()); writes and hit copies are idempotent, so running a
 * request again after a partial attempt is harmless.
 *
 * The tree locks cover the index only; no data is copied under them.
 * Writes copy before they insert their key, hits are copied after the
 * walk (checked against the segment's gen, see cbd_cache_copy_hit()), and
 * miss fills copy into fresh room before they fill in the placeholder
 * (cbd_cache_miss_fill()).  A child read may end in any context, even
 * hard irq: its end callback only queues it for cache->fill_work.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "cbd_cache_internal.h"
#include "cbd_queue.h"

/* the key journal keeps one free segment for itself */
#define CBD_CACHE_DATA_RESERVE	1

/*
 * Writer stalls: from the first write that finds no free segment to the
 * next that gets one.  Only this slow path touches the counters.
 */
static void cbd_cache_stall_begin(struct cbd_cache *cache)
{
	/* | 1: a stall that began at time 0 is still a stall */
	if (!atomic64_read(&cache->stall_start) &&
	    !atomic64_cmpxchg(&cache->stall_start, 0, ktime_get_ns() | 1))
		atomic64_inc(&cache->stalls);
}

static void cbd_cache_stall_end(struct cbd_cache *cache)
{
	u64 start = atomic64_xchg(&cache->stall_start, 0), len, max;

	if (!start)
		return;

	len = ktime_get_ns() - start;
	atomic64_add(len, &cache->stall_ns);
	max = atomic64_read(&cache->stall_max_ns);
	while (len > max) {
		u64 old = atomic64_cmpxchg(&cache->stall_max_ns, max, len);

		if (old == max)
			break;
		max = old;
	}
}

/*
 * No free segment for data: staged keys pin segments until their ksets
 * are written back, so write them now (GC was kicked already).
 */
static void cbd_cache_space_wanted(struct cbd_cache *cache)
{
	u32 i;

	cbd_cache_stall_begin(cache);

	for (i = 0; i < cache->n_paral; i++)
		mod_delayed_work(cache->wq, &cbd_cache_kset(cache, i)->flush_work, 0);
}

/**
 * cbd_cache_data_alloc - take room for data at a data head
 * @cache: blkdev instance
 * @head_idx: data head (queue index)
 * @pos: gets the position, with a reference on its segment
 * @seg_gen: gets the segment's gen
 * @len: bytes wanted; reduced to what the current segment has left
 *
 * Return: 0, or -EBUSY if a new segment is needed and none is free.
 */
int cbd_cache_data_alloc(struct cbd_cache *cache, u32 head_idx,
			 struct cbd_cache_pos *pos, u64 *seg_gen, u32 *len)
{
	struct cbd_cache_data_head *head = &cache->data_heads[head_idx];
	struct cbd_cache_segment *seg;
	u32 room;

	spin_lock(&head->lock);
	seg = head->pos.seg;
	if (!seg) {
		seg = cbd_cache_seg_claim(cache, CBD_CACHE_DATA_RESERVE);
		if (!seg) {
			spin_unlock(&head->lock);
			cbd_cache_space_wanted(cache);
			return -EBUSY;
		}
		cbd_cache_stall_end(cache);
		/* the head's reference */
		cbd_cache_seg_get(seg);
		head->pos.seg = seg;
		head->pos.off = 0;
	}

	room = cbd_cache_seg_size(seg) - head->pos.off;
	*len = min(*len, room);
	*pos = head->pos;
	*seg_gen = seg->gen;
	cbd_cache_seg_get(seg);

	head->pos.off += *len;
	if (head->pos.off == cbd_cache_seg_size(seg)) {
		head->pos.seg = NULL;
		cbd_cache_seg_put(seg);
	}
	spin_unlock(&head->lock);

	return 0;
}

#ifdef CONFIG_CBD_CRC
static u32 cbd_cache_data_crc(struct cbd_cache_pos *pos, u32 len)
{
	return cbd_seg_crc(&pos->seg->segment, pos->off, len);
}
#else
static u32 cbd_cache_data_crc(struct cbd_cache_pos *pos, u32 len)
{
	return 0;
}
#endif

static void cbd_cache_key_set_crc(struct cbd_cache_key *key)
{
	key->data_crc = cbd_cache_data_crc(&key->pos, key->len);
}

/* write */

/*
 * Journal @new and put it in the index, under the tree lock.  A write
 * that covers exactly one existing key, the common case of rewrites at
 * one block size, takes that key over in place: no allocation, no free,
 * no rebalancing of the tree.
 *
 * Return: 0; -EBUSY or -ENOMEM if nothing was journaled (the caller gives
 * the segment reference of @new back); -EIO if the key was journaled but
 * could not be indexed, a bug (the journal keeps the reference).
 */
static int cbd_cache_write_index(struct cbd_cache *cache,
				 struct cbd_cache_tree *tree,
				 struct cbd_cache_key *new)
{
	struct cbd_cache_key *key, *spare = NULL;
	int ret;

	lockdep_assert_held(&tree->lock);

	key = cbd_cache_key_reusable(tree, new->off, new->len);
	if (key) {
		ret = cbd_cache_key_append(cache, new);
		if (!ret)
			cbd_cache_key_take_over(key, new);
		return ret;
	}

	/* GFP_NOWAIT does not sleep under the tree lock */
	key = cbd_cache_key_alloc(cache, GFP_NOWAIT);
	if (!key)
		return -ENOMEM;
	cbd_cache_key_take_over(key, new);

	/*
	 * A spare only for a write inside an existing key, the rare case:
	 * allocated before the key is journaled, as the insertion after it
	 * must not fail.
	 */
	if (cbd_cache_key_insert_splits(tree, key)) {
		spare = cbd_cache_key_alloc(cache, GFP_NOWAIT);
		if (!spare) {
			ret = -ENOMEM;
			goto out_put_key;
		}
	}
	ret = cbd_cache_key_append(cache, key);
	if (ret)
		goto out_put_spare;

	/* with a spare when it is needed, insertion cannot fail */
	if (WARN_ON_ONCE(cbd_cache_key_insert(tree, key, &spare)))
		ret = -EIO;
	else
		key = NULL;	/* the tree's now */
out_put_spare:
	if (spare)
		cbd_cache_key_put(spare);
out_put_key:
	if (key)
		cbd_cache_key_put(key);
	return ret;
}

static int cbd_cache_write_piece(struct cbd_cache *cache,
				 struct cbd_request *cbd_req, u64 off,
				 u32 *len, u32 bio_off)
{
	struct cbd_cache_tree *tree = cbd_cache_tree_of(cache, off);
	struct cbd_cache_key new = { .cache = cache, .off = off };
	int ret;

	ret = cbd_cache_data_alloc(cache, cbd_req->cbdq->index, &new.pos,
				   &new.seg_gen, len);
	if (ret)
		return ret;

	new.len = *len;
	cbd_cache_copy_from_bio(&new.pos, new.len, cbd_req->bio, bio_off);
	cbd_cache_key_set_crc(&new);

	spin_lock(&tree->lock);
	ret = cbd_cache_write_index(cache, tree, &new);
	spin_unlock(&tree->lock);

	/* not journaled: give the segment reference back */
	if (ret && ret != -EIO)
		cbd_cache_seg_put(new.pos.seg);
	return ret;
}

static int cbd_cache_write(struct cbd_cache *cache, struct cbd_request *cbd_req)
{
	u32 len = cbd_req->data_len, bio_off = 0, piece;
	u64 off = cbd_req->off;
	int ret;

	while (len) {
		piece = min(len, CBD_CACHE_TREE_SIZE - (u32)(off & CBD_CACHE_TREE_MASK));
		ret = cbd_cache_write_piece(cache, cbd_req, off, &piece, bio_off);
		if (ret)
			return ret;

		off += piece;
		bio_off += piece;
		len -= piece;
	}

	/* FUA: this write (and, simply, all before it) on media now */
	if (cbd_req->flags & CBD_SE_FLAGS_FUA)
		return cbd_cache_ksets_close(cache);

	return 0;
}

/* read */

/* A placeholder still waiting for its data.  Called with its tree locked. */
static bool cbd_cache_placeholder_live(struct cbd_cache_key *key)
{
	lockdep_assert_held(&key->tree->lock);

	return !RB_EMPTY_NODE(&key->rb_node) &&
	       (key->flags & CBD_CACHE_KEY_FLAGS_EMPTY);
}

/* Drop a placeholder that will not be filled. */
static void cbd_cache_miss_unplace(struct cbd_cache_key *key)
{
	struct cbd_cache_tree *tree = key->tree;

	spin_lock(&tree->lock);
	if (cbd_cache_placeholder_live(key))
		cbd_cache_key_delete(key);
	spin_unlock(&tree->lock);
}

/*
 * Make @key (a live placeholder, tree locked) a clean key of the data at
 * @pos, which holds [@off, @off + @len) of the device.  Writes may have
 * cut the placeholder meanwhile (never grown it), so it keeps only its
 * part of that range.  Return: false if nothing of it is left.
 */
static bool cbd_cache_placeholder_fill(struct cbd_cache_key *key,
				       struct cbd_cache_pos *pos, u64 seg_gen,
				       u64 off, u32 len, u32 crc)
{
	u64 end = min(key->off + key->len, off + len);

	lockdep_assert_held(&key->tree->lock);

	if (key->off < off || end <= key->off)
		return false;

	key->pos.seg = pos->seg;
	key->pos.off = pos->off + (key->off - off);
	key->seg_gen = seg_gen;
	key->len = end - key->off;
	if (key->off == off && key->len == len)
		key->data_crc = crc;
	else	/* cut meanwhile: the crc of the part kept (CRC builds) */
		cbd_cache_key_set_crc(key);
	key->flags = CBD_CACHE_KEY_FLAGS_CLEAN;
	return true;
}

/*
 * Cache the data a miss read left in the channel.  The copy (up to 4 MiB)
 * runs without the tree lock: the placeholder is only looked at, under
 * the lock, before (its range) and after (still wanted, cut meanwhile?).
 * The room taken for it is fresh, so no reader can see it before the key
 * is filled in, under the lock.
 */
static void cbd_cache_miss_fill(struct cbd_cache *cache,
				struct cbd_request *child,
				struct cbd_cache_key *key)
{
	struct cbd_cache_tree *tree = key->tree;
	struct cbd_cache_pos pos;
	struct cbd_seg_pos dst, src;
	u64 off, seg_gen;
	u32 len, crc;

	spin_lock(&tree->lock);
	if (!cbd_cache_placeholder_live(key)) {
		/* overwritten meanwhile: the new data wins */
		spin_unlock(&tree->lock);
		return;
	}
	off = key->off;
	len = key->len;
	spin_unlock(&tree->lock);

	/* what does not fit (len is cut to the segment's room) is not cached */
	if (cbd_cache_data_alloc(cache, child->cbdq->index, &pos, &seg_gen, &len)) {
		cbd_cache_miss_unplace(key);
		return;
	}

	src.segment = &child->cbdq->channel.segment;
	src.off = child->data_off + (off - child->off);
	dst.segment = &pos.seg->segment;
	dst.off = pos.off;
	if (cbds_copy_data(&dst, &src, len)) {
		/* media error in the channel: do not cache what we cannot read */
		cbd_queue_log(err_ratelimited, child->cbdq,
			      "media error reading the channel, not cached\n");
		cbd_cache_seg_put(pos.seg);
		cbd_cache_miss_unplace(key);
		return;
	}
	/* persistent before a kset can name it */
	cbdt_flush(cache->cbdt, cbd_cache_pos_addr(&pos), len);
	crc = cbd_cache_data_crc(&pos, len);

	spin_lock(&tree->lock);
	if (!cbd_cache_placeholder_live(key)) {
		spin_unlock(&tree->lock);
		cbd_cache_seg_put(pos.seg);
		return;
	}
	if (!cbd_cache_placeholder_fill(key, &pos, seg_gen, off, len, crc) ||
	    cbd_cache_key_append(cache, key)) {
		cbd_cache_seg_put(pos.seg);
		cbd_cache_key_delete(key);
	}
	spin_unlock(&tree->lock);
}

/* Cache what a finished child read, release its channel extent, free it. */
static void cbd_cache_miss_finish(struct cbd_cache *cache,
				  struct cbd_request *child)
{
	struct cbd_cache_key *key = child->priv_data;
	bool submitted = child->se;

	if (key) {
		if (submitted && !child->ret)
			cbd_cache_miss_fill(cache, child, key);
		else
			cbd_cache_miss_unplace(key);
		cbd_cache_key_put(key);
	}

	if (submitted)
		cbd_queue_advance(child->cbdq, child);
	mempool_free(child, &cache->req_pool);
}

/**
 * cbd_cache_fill_workfn - finish the child reads that ended
 * @work: cache->fill_work
 */
void cbd_cache_fill_workfn(struct work_struct *work)
{
	struct cbd_cache *cache = container_of(work, struct cbd_cache, fill_work);
	struct cbd_request *child, *tmp;
	unsigned long flags;
	LIST_HEAD(reqs);

	spin_lock_irqsave(&cache->fill_lock, flags);
	list_splice_init(&cache->fill_reqs, &reqs);
	spin_unlock_irqrestore(&cache->fill_lock, flags);

	list_for_each_entry_safe(child, tmp, &reqs, inflight_reqs_node) {
		list_del_init(&child->inflight_reqs_node);
		cbd_cache_miss_finish(cache, child);
		cond_resched();
	}
}

/*
 * End of a child request (its last reference): its data is in the
 * parent's bio (copied by the completion code) and still in the channel.
 * This may run in any context, even hard irq, and the parent completes
 * right after it: only queue the child for cbd_cache_fill_workfn(), which
 * caches the data, releases the channel extent and frees the child.
 */
static void cbd_cache_miss_end(struct cbd_request *child, void *priv_data)
{
	struct cbd_cache *cache = child->cbdq->cbd_blkdev->cbd_cache;
	unsigned long flags;

	spin_lock_irqsave(&cache->fill_lock, flags);
	list_add_tail(&child->inflight_reqs_node, &cache->fill_reqs);
	spin_unlock_irqrestore(&cache->fill_lock, flags);
	queue_work(cache->wq, &cache->fill_work);
}

static void cbd_cache_child_submit(struct cbd_cache *cache,
				   struct cbd_request *child)
{
	int ret = cbd_queue_req_to_backend(child);

	if (ret == -ENOSPC) {
		/* the channel is full: completions make room, try again soon */
		spin_lock(&cache->retry_lock);
		list_add_tail(&child->inflight_reqs_node, &cache->retry_reqs);
		spin_unlock(&cache->retry_lock);
		queue_delayed_work(cache->wq, &cache->retry_work, 1);
		return;
	}

	/* our reference; on success the completion holds another one */
	cbd_req_put(child, ret);
}

void cbd_cache_retry_workfn(struct work_struct *work)
{
	struct cbd_cache *cache = container_of(to_delayed_work(work),
					       struct cbd_cache, retry_work);
	struct cbd_request *child, *tmp;
	LIST_HEAD(reqs);

	spin_lock(&cache->retry_lock);
	list_splice_init(&cache->retry_reqs, &reqs);
	spin_unlock(&cache->retry_lock);

	list_for_each_entry_safe(child, tmp, &reqs, inflight_reqs_node) {
		list_del_init(&child->inflight_reqs_node);
		cbd_cache_child_submit(cache, child);
	}
}

/* A child request reading [@off, @off + @len) from the backend. */
static int cbd_cache_miss(struct cbd_cache *cache, struct cbd_request *parent,
			  struct cbd_cache_tree *tree, u64 off, u32 len,
			  u32 bio_off, bool placeholder, struct list_head *children)
{
	struct cbd_cache_key *key = NULL;
	struct cbd_request *child;

	child = mempool_alloc(&cache->req_pool, GFP_NOWAIT);
	if (!child)
		return -ENOMEM;

	if (placeholder) {
		key = cbd_cache_key_alloc(cache, GFP_NOWAIT);
		if (!key) {
			mempool_free(child, &cache->req_pool);
			return -ENOMEM;
		}
		key->off = off;
		key->len = len;
		key->flags = CBD_CACHE_KEY_FLAGS_EMPTY;
		/* one reference for the tree, one for the child */
		kref_get(&key->ref);
		/* a gap: nothing to cut, no spare needed */
		cbd_cache_key_insert(tree, key, NULL);
	}

	memset(child, 0, sizeof(*child));
	INIT_LIST_HEAD(&child->inflight_reqs_node);
	kref_init(&child->ref);
	spin_lock_init(&child->lock);
	child->cbdq = parent->cbdq;
	child->op = CBD_OP_READ;
	child->off = off;
	child->data_len = len;
	child->bio = parent->bio;
	child->bio_off = bio_off;
	child->parent = parent;
	child->priv_data = key;
	child->end_req = cbd_cache_miss_end;
	cbd_req_get(parent);

	list_add_tail(&child->inflight_reqs_node, children);
	atomic64_inc(&cache->misses);
	atomic64_add(len, &cache->miss_bytes);
	return 0;
}

/* hits collected under a tree lock and copied after it is dropped */
#define CBD_CACHE_HITS_BATCH	8

/**
 * struct cbd_cache_hit - a piece of a read found in the cache
 * @seg: segment holding the data
 * @seg_gen: gen of @seg when the data was written (the key's)
 * @seg_off: offset of the data in @seg
 * @off: device offset
 * @len: bytes
 * @bio_off: offset in the request's bio
 */
struct cbd_cache_hit {
	struct cbd_cache_segment *seg;
	u64 seg_gen;
	u32 seg_off;
	u64 off;
	u32 len;
	u32 bio_off;
};

/*
 * Copy a hit, without the tree lock.  Data in the cache is never written
 * in place: a write or a miss fill goes to fresh room, and the room of a
 * key is only written again after its segment is claimed again, which
 * increments the gen before new data goes in.  So the copy is good if
 * the gen is the key's before and after it, whatever happened to the key
 * (cut, deleted, freed) since the lock was dropped.
 */
static int cbd_cache_copy_hit(struct cbd_cache *cache,
			      struct cbd_cache_hit *hit, struct bio *bio)
{
	struct cbd_cache_segment *seg = hit->seg;
	int ret;

	if (READ_ONCE(seg->gen) != hit->seg_gen)
		return -EAGAIN;
	/* gen before the data: pairs with cbd_cache_seg_claim() */
	smp_rmb();

	ret = cbds_copy_to_bio(&seg->segment, hit->seg_off, hit->len, bio,
			       hit->bio_off);

	/* the data before the gen again */
	smp_rmb();
	if (READ_ONCE(seg->gen) != hit->seg_gen)
		return -EAGAIN;
	/* the only copy of dirty data may be here: no fallback, EIO */
	if (ret) {
		cbd_cache_log(err_ratelimited, cache,
			      "media error in cache segment%u at %u, read fails\n",
			      seg->segment.seg_id, hit->seg_off);
		return ret;
	}

	atomic64_inc(&cache->hits);
	atomic64_add(hit->len, &cache->hit_bytes);
	return 0;
}

/*
 * Walk the index from *@pos to @end (@off, @bio_off: start of the piece
 * and its place in the bio): misses become child requests on @children,
 * hits are noted in @hits, at most CBD_CACHE_HITS_BATCH; *@pos is where
 * the walk stopped.  Called with the tree locked.
 */
static int cbd_cache_read_walk(struct cbd_cache *cache,
			       struct cbd_request *cbd_req,
			       struct cbd_cache_tree *tree, u64 off, u64 *pos,
			       u64 end, u32 bio_off, struct list_head *children,
			       struct cbd_cache_hit *hits, u32 *n_hits)
{
	struct cbd_cache_key *key, *next;
	struct cbd_cache_hit *hit;
	u64 p = *pos;
	int ret = 0;
	u32 n;

	lockdep_assert_held(&tree->lock);

	key = cbd_cache_key_first_overlap(tree, p);
	while (p < end && *n_hits < CBD_CACHE_HITS_BATCH) {
		if (key && cbd_cache_key_invalid(key)) {
			next = cbd_cache_key_next(key);
			cbd_cache_key_delete(key);
			key = next;
			continue;
		}

		/* nothing (more) cached in the range: the rest is a miss */
		if (!key || key->off >= end) {
			ret = cbd_cache_miss(cache, cbd_req, tree, p, end - p,
					     bio_off + (p - off), true, children);
			if (!ret)
				p = end;
			break;
		}

		/* a gap before the key */
		if (key->off > p) {
			ret = cbd_cache_miss(cache, cbd_req, tree, p, key->off - p,
					     bio_off + (p - off), true, children);
			if (ret)
				break;
			p = key->off;
		}

		n = min(key->off + key->len, end) - p;
		if (key->flags & CBD_CACHE_KEY_FLAGS_EMPTY) {
			/* another miss read is fetching it: read it too */
			ret = cbd_cache_miss(cache, cbd_req, tree, p, n,
					     bio_off + (p - off), false, children);
			if (ret)
				break;
		} else {
			hit = &hits[(*n_hits)++];
			hit->seg = key->pos.seg;
			hit->seg_gen = key->seg_gen;
			hit->seg_off = key->pos.off + (p - key->off);
			hit->off = p;
			hit->len = n;
			hit->bio_off = bio_off + (p - off);
		}

		p += n;
		key = cbd_cache_key_next(key);
	}

	*pos = p;
	return ret;
}

/*
 * One 4 MiB tree's part of a read: the index is walked under
 * the tree lock, the hits are copied without it, CBD_CACHE_HITS_BATCH at
 * a time.  A hit whose segment was claimed again meanwhile was freed by
 * GC, which passes only keys the writeback has written to the disk and
 * flushed: that piece is read from the backend instead, like the part of
 * a placeholder.
 */
static int cbd_cache_read_piece(struct cbd_cache *cache,
				struct cbd_request *cbd_req, u64 off, u32 len,
				u32 bio_off, struct list_head *children)
{
	struct cbd_cache_tree *tree = cbd_cache_tree_of(cache, off);
	struct cbd_cache_hit hits[CBD_CACHE_HITS_BATCH];
	u64 pos = off, end = off + len;
	u32 n_hits, i;
	int ret = 0;

	while (pos < end && !ret) {
		n_hits = 0;
		spin_lock(&tree->lock);
		ret = cbd_cache_read_walk(cache, cbd_req, tree, off, &pos, end,
					  bio_off, children, hits, &n_hits);
		spin_unlock(&tree->lock);

		for (i = 0; i < n_hits && !ret; i++) {
			ret = cbd_cache_copy_hit(cache, &hits[i], cbd_req->bio);
			if (ret != -EAGAIN)
				continue;
			ret = cbd_cache_miss(cache, cbd_req, tree, hits[i].off,
					     hits[i].len, hits[i].bio_off, false,
					     children);
		}
	}

	return ret;
}

static int cbd_cache_read(struct cbd_cache *cache, struct cbd_request *cbd_req)
{
	u32 len = cbd_req->data_len, bio_off = 0, piece;
	struct cbd_request *child, *tmp;
	u64 off = cbd_req->off;
	LIST_HEAD(children);
	int ret = 0;

	while (len) {
		piece = min(len, CBD_CACHE_TREE_SIZE - (u32)(off & CBD_CACHE_TREE_MASK));
		ret = cbd_cache_read_piece(cache, cbd_req, off, piece, bio_off,
					   &children);
		if (ret)
			break;

		off += piece;
		bio_off += piece;
		len -= piece;
	}

	list_for_each_entry_safe(child, tmp, &children, inflight_reqs_node) {
		list_del_init(&child->inflight_reqs_node);
		if (ret)
			/* not submitted: its end drops the placeholder */
			cbd_req_put(child, 0);
		else
			cbd_cache_child_submit(cache, child);
	}

	return ret;
}

/**
 * cbd_cache_handle_req - run a blk-mq request through the cache
 * @cache: blkdev instance
 * @cbd_req: the request, with its initial reference held by the caller
 *
 * Return: 0 (the request completes when its last reference goes),
 * -EBUSY or -ENOMEM (nothing is in flight for it: requeue it later), or
 * another negative errno to fail it.
 */
int cbd_cache_handle_req(struct cbd_cache *cache, struct cbd_request *cbd_req)
{
	/* not submitted to the channel itself: nothing to release */
	cbd_req->end_req = NULL;

	/* a corrupt journal: no data of this cache can be trusted */
	if (cbd_cache_failed(cache))
		return -EIO;
	/*
	 * blk-mq keeps requests inside the capacity, which is the validated
	 * dev_size the index is sized from; checked here anyway, as every
	 * tree index derives from this range.  A flush has no range (its
	 * position is not set).
	 */
	if (cbd_req->op != CBD_OP_FLUSH &&
	    (cbd_req->off > cache->dev_size ||
	     cbd_req->data_len > cache->dev_size - cbd_req->off))
		return -EIO;

	switch (cbd_req->op) {
	case CBD_OP_WRITE:
		return cbd_cache_write(cache, cbd_req);
	case CBD_OP_READ:
		return cbd_cache_read(cache, cbd_req);
	case CBD_OP_FLUSH:
		/* everything acknowledged so far is staged in a kset */
		return cbd_cache_ksets_close(cache);
	default:
		return -EIO;
	}
}
