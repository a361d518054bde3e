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
 */

#include "cbd_cache_internal.h"
#include "cbd_queue.h"

/* the key journal keeps one free segment for itself */
#define CBD_CACHE_DATA_RESERVE	1

/*
 * No free segment for data: staged keys pin segments until their ksets
 * are written back, so write them now (GC was kicked already).
 */
static void cbd_cache_space_wanted(struct cbd_cache *cache)
{
	u32 i;

	for (i = 0; i < cache->n_paral; i++)
		mod_delayed_work(cache->wq, &cbd_cache_kset(cache, i)->flush_work, 0);
}

/**
 * cbd_cache_data_alloc - take room for data at a data head
 * @cache: blkdev instance
 * @head_idx: data head (queue index)
 * @key: gets the position and gen, and a segment reference
 * @len: bytes wanted; reduced to what the current segment has left
 *
 * Return: 0, or -EBUSY if a new segment is needed and none is free.
 */
int cbd_cache_data_alloc(struct cbd_cache *cache, u32 head_idx,
			 struct cbd_cache_key *key, u32 *len)
{
	struct cbd_cache_data_head *head = &cache->data_heads[head_idx];
	struct cbd_cache_segment *seg;
	u32 room;

	spin_lock(&head->lock);
	seg = head->pos.seg;
	if (!seg) {
		seg = cbd_cache_seg_get_free(cache, CBD_CACHE_DATA_RESERVE);
		if (!seg) {
			spin_unlock(&head->lock);
			cbd_cache_space_wanted(cache);
			return -EBUSY;
		}
		/* the head's reference */
		cbd_cache_seg_get(seg);
		head->pos.seg = seg;
		head->pos.off = 0;
	}

	room = cbd_cache_seg_size(seg) - head->pos.off;
	*len = min(*len, room);
	key->pos = head->pos;
	key->seg_gen = seg->gen;
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
static void cbd_cache_key_set_crc(struct cbd_cache_key *key)
{
	key->data_crc = cbd_seg_crc(&key->pos.seg->segment, key->pos.off, key->len);
}
#else
static void cbd_cache_key_set_crc(struct cbd_cache_key *key)
{
}
#endif

/* write */

static int cbd_cache_write_piece(struct cbd_cache *cache,
				 struct cbd_request *cbd_req, u64 off,
				 u32 *len, u32 bio_off)
{
	struct cbd_cache_tree *tree = cbd_cache_tree_of(cache, off);
	struct cbd_cache_key *key, *spare;
	int ret = -ENOMEM;

	key = cbd_cache_key_alloc(cache, GFP_NOWAIT);
	if (!key)
		return -ENOMEM;
	spare = cbd_cache_key_alloc(cache, GFP_NOWAIT);
	if (!spare)
		goto err_put_key;

	ret = cbd_cache_data_alloc(cache, cbd_req->cbdq->index, key, len);
	if (ret)
		goto err_put_spare;

	key->off = off;
	key->len = *len;
	cbd_cache_copy_from_bio(&key->pos, key->len, cbd_req->bio, bio_off);
	cbd_cache_key_set_crc(key);

	spin_lock(&tree->lock);
	ret = cbd_cache_key_append(cache, key);
	if (!ret)
		ret = cbd_cache_key_insert(tree, key, &spare);
	spin_unlock(&tree->lock);
	/* with a spare, insertion cannot fail */
	WARN_ON_ONCE(ret == -ENOMEM);

	if (ret) {
		/* not journaled: give the segment reference back */
		cbd_cache_seg_put(key->pos.seg);
		cbd_cache_key_put(key);
	}
	if (spare)
		cbd_cache_key_put(spare);
	return ret;

err_put_spare:
	cbd_cache_key_put(spare);
err_put_key:
	cbd_cache_key_put(key);
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

static void cbd_cache_miss_fill(struct cbd_cache *cache,
				struct cbd_request *child,
				struct cbd_cache_key *key)
{
	struct cbd_cache_tree *tree = key->tree;
	struct cbd_seg_pos dst, src;
	u32 len;

	spin_lock(&tree->lock);
	/* overwritten meanwhile: the new data wins */
	if (RB_EMPTY_NODE(&key->rb_node) || !(key->flags & CBD_CACHE_KEY_FLAGS_EMPTY))
		goto out;

	len = key->len;
	if (cbd_cache_data_alloc(cache, child->cbdq->index, key, &len)) {
		cbd_cache_key_delete(key);
		goto out;
	}
	/* what did not fit is simply not cached */
	key->len = len;

	src.segment = &child->cbdq->channel.segment;
	src.off = child->data_off + (key->off - child->off);
	dst.segment = &key->pos.seg->segment;
	dst.off = key->pos.off;
	cbds_copy_data(&dst, &src, len);
	/* persistent before a kset can name it */
	cbdt_flush(cache->cbdt, cbd_cache_pos_addr(&key->pos), len);
	cbd_cache_key_set_crc(key);
	key->flags = CBD_CACHE_KEY_FLAGS_CLEAN;

	if (cbd_cache_key_append(cache, key)) {
		cbd_cache_seg_put(key->pos.seg);
		cbd_cache_key_delete(key);
	}
out:
	spin_unlock(&tree->lock);
}

/* Drop a placeholder that will not be filled. */
static void cbd_cache_miss_unplace(struct cbd_cache_key *key)
{
	struct cbd_cache_tree *tree = key->tree;

	spin_lock(&tree->lock);
	if (!RB_EMPTY_NODE(&key->rb_node) && (key->flags & CBD_CACHE_KEY_FLAGS_EMPTY))
		cbd_cache_key_delete(key);
	spin_unlock(&tree->lock);
}

/*
 * End of a child request: its data is in the parent's bio (copied by the
 * completion code) and still in the channel.  Cache it, then release the
 * channel extent.  Called when the last reference goes; the child is
 * freed here (cbd_req_end() does not touch it after this).
 */
static void cbd_cache_miss_end(struct cbd_request *child, void *priv_data)
{
	struct cbd_cache *cache = child->cbdq->cbd_blkdev->cbd_cache;
	struct cbd_cache_key *key = priv_data;
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

/*
 * Copy a hit.  The key's segment may be claimed again at any time (after
 * GC): its gen is incremented before new data goes in, so the copy is
 * good if the gen is the key's before and after it.
 */
static bool cbd_cache_copy_hit(struct cbd_cache *cache, struct cbd_cache_key *key,
			       u64 off, u32 len, struct bio *bio, u32 bio_off)
{
	struct cbd_cache_segment *seg = key->pos.seg;

	if (READ_ONCE(seg->gen) != key->seg_gen)
		return false;
	/* gen before the data: pairs with cbd_cache_seg_get_free() */
	smp_rmb();

	cbds_copy_to_bio(&seg->segment, key->pos.off + (off - key->off), len,
			 bio, bio_off);

	/* the data before the gen again */
	smp_rmb();
	if (READ_ONCE(seg->gen) != key->seg_gen)
		return false;

	atomic64_inc(&cache->hits);
	atomic64_add(len, &cache->hit_bytes);
	return true;
}

/* One 4 MiB tree's part of a read (spec §10.7). */
static int cbd_cache_read_piece(struct cbd_cache *cache,
				struct cbd_request *cbd_req, u64 off, u32 len,
				u32 bio_off, struct list_head *children)
{
	struct cbd_cache_tree *tree = cbd_cache_tree_of(cache, off);
	u64 pos = off, end = off + len;
	struct cbd_cache_key *key, *next;
	int ret = 0;
	u32 n;

	spin_lock(&tree->lock);
	key = cbd_cache_key_first_overlap(tree, pos);
	while (pos < end) {
		if (key && cbd_cache_key_invalid(key)) {
			next = rb_next(&key->rb_node) ?
			       rb_entry(rb_next(&key->rb_node), struct cbd_cache_key, rb_node) :
			       NULL;
			cbd_cache_key_delete(key);
			key = next;
			continue;
		}

		/* nothing (more) cached in the range: the rest is a miss */
		if (!key || key->off >= end) {
			ret = cbd_cache_miss(cache, cbd_req, tree, pos, end - pos,
					     bio_off + (pos - off), true, children);
			break;
		}

		/* a gap before the key */
		if (key->off > pos) {
			ret = cbd_cache_miss(cache, cbd_req, tree, pos, key->off - pos,
					     bio_off + (pos - off), true, children);
			if (ret)
				break;
			pos = key->off;
		}

		n = min(key->off + key->len, end) - pos;
		if (key->flags & CBD_CACHE_KEY_FLAGS_EMPTY) {
			/* another miss read is fetching it: read it too */
			ret = cbd_cache_miss(cache, cbd_req, tree, pos, n,
					     bio_off + (pos - off), false, children);
			if (ret)
				break;
		} else if (!cbd_cache_copy_hit(cache, key, pos, n, cbd_req->bio,
					       bio_off + (pos - off))) {
			/* went stale under us: drop it, the range is a gap now */
			continue;
		}

		pos += n;
		next = rb_next(&key->rb_node) ?
		       rb_entry(rb_next(&key->rb_node), struct cbd_cache_key, rb_node) :
		       NULL;
		key = next;
	}
	spin_unlock(&tree->lock);

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
