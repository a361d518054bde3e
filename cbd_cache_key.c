// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD cache keys: the index (one rb-tree per 4 MiB of the device), the
 * insertion with overlap fixup, the journal of ksets and its replay.
 *
 * Journal.  Keys are staged in per-queue ksets and written as a whole
 * kset at the key head, in a key segment; when less than a full kset fits
 * after it, a kset carries LAST and the next one goes to a newly claimed
 * key segment, linked from the previous one.  A kset is valid when its
 * magic, its crc32 and its seg_gen (low 32 bits of the key segment's gen)
 * match.  The data of its keys is flushed before it is written, so a
 * valid kset never names data that is not persistent.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>

#include "cbd_cache_internal.h"
#include "cbd_media.h"

/* keys */

struct cbd_cache_key *cbd_cache_key_alloc(struct cbd_cache *cache, gfp_t gfp)
{
	struct cbd_cache_key *key = mempool_alloc(&cache->key_pool, gfp);

	if (!key)
		return NULL;

	memset(key, 0, sizeof(*key));
	key->cache = cache;
	kref_init(&key->ref);
	RB_CLEAR_NODE(&key->rb_node);
	return key;
}

static void cbd_cache_key_release(struct kref *ref)
{
	struct cbd_cache_key *key = container_of(ref, struct cbd_cache_key, ref);

	mempool_free(key, &key->cache->key_pool);
}

void cbd_cache_key_put(struct cbd_cache_key *key)
{
	kref_put(&key->ref, cbd_cache_key_release);
}

/*
 * Every caller passes an offset below dev_size (checked at request entry
 * and in cbd_cache_key_decode()), and n_trees covers dev_size.  The clamp
 * keeps an index out of bounds impossible should that ever not hold.
 */
struct cbd_cache_tree *cbd_cache_tree_of(struct cbd_cache *cache, u64 off)
{
	u64 idx = off >> CBD_CACHE_TREE_SHIFT;

	return &cache->trees[min_t(u64, idx, cache->n_trees - 1)];
}

static u64 cbd_cache_key_end(struct cbd_cache_key *key)
{
	return key->off + key->len;
}

/**
 * cbd_cache_key_invalid - the data of a key is gone
 * @key: key of the index (not a placeholder)
 *
 * Return: true if the key's data segment was claimed again since.
 */
bool cbd_cache_key_invalid(struct cbd_cache_key *key)
{
	if (key->flags & CBD_CACHE_KEY_FLAGS_EMPTY)
		return false;

	return READ_ONCE(key->pos.seg->gen) != key->seg_gen;
}

/* Unlink a key from its tree and drop the tree's reference. */
void cbd_cache_key_delete(struct cbd_cache_key *key)
{
	lockdep_assert_held(&key->tree->lock);

	rb_erase(&key->rb_node, &key->tree->root);
	RB_CLEAR_NODE(&key->rb_node);
	cbd_cache_key_put(key);
}

/* The key after @key in its (locked) tree, or NULL. */
struct cbd_cache_key *cbd_cache_key_next(struct cbd_cache_key *key)
{
	struct rb_node *node = rb_next(&key->rb_node);

	return node ? rb_entry(node, struct cbd_cache_key, rb_node) : NULL;
}

/**
 * cbd_cache_key_first_overlap - the first key that ends after @off
 * @tree: locked tree
 * @off: device offset
 *
 * Keys never overlap, so their ends are ordered like their starts.
 *
 * Return: the key, or NULL.
 */
struct cbd_cache_key *cbd_cache_key_first_overlap(struct cbd_cache_tree *tree,
						  u64 off)
{
	struct rb_node *node = tree->root.rb_node;
	struct cbd_cache_key *key, *found = NULL;

	lockdep_assert_held(&tree->lock);

	while (node) {
		key = rb_entry(node, struct cbd_cache_key, rb_node);
		if (cbd_cache_key_end(key) > off) {
			found = key;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}

	return found;
}

/*
 * With CONFIG_CBD_DEBUG, the invariant of the index is checked at every
 * insert: a linked key overlaps neither neighbour (the insert cut or
 * deleted whatever it overlapped).  Keys come from the journal only
 * through cbd_cache_key_decode(), so a violation is a bug of the index
 * code, not bad input: warn once and go on.
 */
static void cbd_cache_key_check_neighbours(struct cbd_cache_key *key)
{
	struct rb_node *prev = rb_prev(&key->rb_node);
	struct rb_node *next = rb_next(&key->rb_node);
	struct cbd_cache_key *p, *n;

	p = prev ? rb_entry(prev, struct cbd_cache_key, rb_node) : NULL;
	n = next ? rb_entry(next, struct cbd_cache_key, rb_node) : NULL;
	WARN_ONCE(p && cbd_cache_key_end(p) > key->off,
		  "cbd: index: key %llu+%u overlaps the previous %llu+%u\n",
		  key->off, key->len, p->off, p->len);
	WARN_ONCE(n && cbd_cache_key_end(key) > n->off,
		  "cbd: index: key %llu+%u overlaps the next %llu+%u\n",
		  key->off, key->len, n->off, n->len);
}

static void cbd_cache_key_link(struct cbd_cache_tree *tree,
			       struct cbd_cache_key *key)
{
	struct rb_node **new = &tree->root.rb_node, *parent = NULL;
	struct cbd_cache_key *cur;

	while (*new) {
		parent = *new;
		cur = rb_entry(parent, struct cbd_cache_key, rb_node);
		if (key->off < cur->off)
			new = &parent->rb_left;
		else
			new = &parent->rb_right;
	}

	key->tree = tree;
	rb_link_node(&key->rb_node, parent, new);
	rb_insert_color(&key->rb_node, &tree->root);
	if (IS_ENABLED(CONFIG_CBD_DEBUG))
		cbd_cache_key_check_neighbours(key);
}

/* Drop the first @len bytes of a key. */
static void cbd_cache_key_cut_front(struct cbd_cache_key *key, u32 len)
{
	key->off += len;
	key->len -= len;
	key->pos.off += len;
}

/* @key contains [@start, @end): keep its head, and its tail in @spare. */
static void cbd_cache_key_split(struct cbd_cache_tree *tree,
				struct cbd_cache_key *key,
				u64 start, u64 end,
				struct cbd_cache_key *spare)
{
	spare->off = key->off;
	spare->len = key->len;
	spare->flags = key->flags;
	spare->pos = key->pos;
	spare->seg_gen = key->seg_gen;
	cbd_cache_key_cut_front(spare, end - key->off);
	key->len = start - key->off;
	cbd_cache_key_link(tree, spare);
}

/* Inserting [@start, @end) splits @cur, the first key that ends after @start. */
static bool cbd_cache_key_splits(struct cbd_cache_key *cur, u64 start, u64 end)
{
	return cur->off < start && cbd_cache_key_end(cur) > end &&
	       !(cur->flags & CBD_CACHE_KEY_FLAGS_EMPTY);
}

/**
 * cbd_cache_key_reusable - the key a write can take over in place
 * @tree: locked tree of @off
 * @off: start of the write
 * @len: its length
 *
 * Keys never overlap, so a key of exactly the write's range is the only
 * one it overlaps.  Not a placeholder (a miss read fills it in) and not a
 * key somebody else holds a reference on: references beyond the tree's
 * are only taken under the tree lock (a miss read's placeholder), so a
 * count of 1 seen here stays 1 while the lock is held.
 *
 * Return: the key, or NULL.
 */
struct cbd_cache_key *cbd_cache_key_reusable(struct cbd_cache_tree *tree,
					     u64 off, u32 len)
{
	struct cbd_cache_key *cur;

	lockdep_assert_held(&tree->lock);

	cur = cbd_cache_key_first_overlap(tree, off);
	if (!cur || cur->off != off || cur->len != len ||
	    (cur->flags & CBD_CACHE_KEY_FLAGS_EMPTY) ||
	    kref_read(&cur->ref) != 1)
		return NULL;

	return cur;
}

/**
 * cbd_cache_key_take_over - give a key the data of a new write
 * @key: key of the same range (linked, tree locked), or not linked yet
 * @new: the write's data in the cache
 */
void cbd_cache_key_take_over(struct cbd_cache_key *key,
			     const struct cbd_cache_key *new)
{
	key->off = new->off;
	key->len = new->len;
	key->flags = new->flags;
	key->pos = new->pos;
	key->seg_gen = new->seg_gen;
	key->data_crc = new->data_crc;
}

/**
 * cbd_cache_key_insert_splits - inserting @key needs a spare key
 * @tree: locked tree of @key->off
 * @key: new key, not linked yet
 *
 * While @tree stays locked, cbd_cache_key_insert() of @key needs a spare
 * only if this returns true: a key found invalid here is still invalid
 * then (its segment's gen only grows), and one found valid may only turn
 * invalid (deleted, the spare is not used).
 *
 * Return: true if an existing key contains @key and must be split.
 */
bool cbd_cache_key_insert_splits(struct cbd_cache_tree *tree,
				 struct cbd_cache_key *key)
{
	struct cbd_cache_key *cur;

	lockdep_assert_held(&tree->lock);

	cur = cbd_cache_key_first_overlap(tree, key->off);
	return cur && !cbd_cache_key_invalid(cur) &&
	       cbd_cache_key_splits(cur, key->off, cbd_cache_key_end(key));
}

/**
 * cbd_cache_key_insert - link a key, the new data winning over the old
 * @tree: locked tree of @key->off
 * @key: new key (its reference goes to the tree)
 * @spare: a preallocated key or NULL, used (and set to NULL) if an
 *	existing key must be split in two (cbd_cache_key_insert_splits())
 *
 * Existing keys overlapping @key are cut or deleted (the newest write wins); an
 * EMPTY placeholder that contains @key is cut back to @key's start (the
 * miss read fills only the part before it).
 *
 * Return: 0, or -ENOMEM if a split was needed and @spare is NULL (nothing
 * changed in that case).
 */
int cbd_cache_key_insert(struct cbd_cache_tree *tree, struct cbd_cache_key *key,
			 struct cbd_cache_key **spare)
{
	u64 start = key->off, end = cbd_cache_key_end(key);
	struct cbd_cache_key *cur, *next;

	lockdep_assert_held(&tree->lock);

	cur = cbd_cache_key_first_overlap(tree, start);
	while (cur && cur->off < end) {
		next = cbd_cache_key_next(cur);

		if (cbd_cache_key_invalid(cur)) {
			cbd_cache_key_delete(cur);
		} else if (cur->off < start) {
			if (cbd_cache_key_splits(cur, start, end)) {
				if (!*spare)
					return -ENOMEM;
				cbd_cache_key_split(tree, cur, start, end, *spare);
				*spare = NULL;
				break;
			}
			/* overlaps our head (or an EMPTY one contains us) */
			cur->len = start - cur->off;
		} else if (cbd_cache_key_end(cur) <= end) {
			cbd_cache_key_delete(cur);
		} else {
			/* overlaps our tail */
			cbd_cache_key_cut_front(cur, end - cur->off);
		}

		cur = next;
	}

	cbd_cache_key_link(tree, key);
	return 0;
}

/**
 * cbd_cache_trees_clear - delete every key of the index
 * @cache: blkdev instance
 */
void cbd_cache_trees_clear(struct cbd_cache *cache)
{
	struct cbd_cache_tree *tree;
	struct rb_node *node;
	u32 i;

	for (i = 0; i < cache->n_trees; i++) {
		tree = &cache->trees[i];
		spin_lock(&tree->lock);
		while ((node = rb_first(&tree->root)))
			cbd_cache_key_delete(rb_entry(node, struct cbd_cache_key, rb_node));
		spin_unlock(&tree->lock);
		cond_resched();
	}
}

/* Delete up to CBD_CACHE_CLEAN_KEYS_MAX stale keys; true if more remain. */
static bool cbd_cache_tree_clean(struct cbd_cache_tree *tree)
{
	struct cbd_cache_key *key, *next;
	struct rb_node *node;
	u32 n = 0;

	spin_lock(&tree->lock);
	node = rb_first(&tree->root);
	key = node ? rb_entry(node, struct cbd_cache_key, rb_node) : NULL;
	while (key) {
		next = cbd_cache_key_next(key);
		if (cbd_cache_key_invalid(key)) {
			cbd_cache_key_delete(key);
			if (++n >= CBD_CACHE_CLEAN_KEYS_MAX && next) {
				spin_unlock(&tree->lock);
				return true;
			}
		}
		key = next;
	}
	spin_unlock(&tree->lock);

	return false;
}

/**
 * cbd_cache_clean_workfn - drop stale keys from the index
 * @work: cache->clean_work
 *
 * Queued when a segment is claimed again: the keys of its previous use
 * would otherwise stay in the index until a request runs into them.
 */
void cbd_cache_clean_workfn(struct work_struct *work)
{
	struct cbd_cache *cache = container_of(work, struct cbd_cache, clean_work);
	u32 i;

	for (i = 0; i < cache->n_trees; i++) {
		if (cbd_cache_stopping(cache))
			return;
		while (cbd_cache_tree_clean(&cache->trees[i]))
			cond_resched();
		cond_resched();
	}
}

/* journal */

static void cbd_cache_key_encode(struct cbd_cache_key *key,
				 struct cbd_cache_key_onmedia *onmedia)
{
	onmedia->off = cpu_to_le64(key->off);
	onmedia->len = cpu_to_le32(key->len);
	onmedia->flags = cpu_to_le32(key->flags & CBD_CACHE_KEY_FLAGS_CLEAN);
	onmedia->cache_seg_id = cpu_to_le32(key->pos.seg->cache_seg_id);
	onmedia->cache_seg_off = cpu_to_le32(key->pos.off);
	onmedia->seg_gen = cpu_to_le64(key->seg_gen);
#ifdef CONFIG_CBD_CRC
	onmedia->data_crc = cpu_to_le32(key->data_crc);
	onmedia->res = 0;
#endif
}

/**
 * cbd_cache_key_decode - validate and decode a key read from media
 * @cache: cache
 * @onmedia: the key (a private copy)
 * @key: result (tree and kref untouched)
 *
 * The journal is written by the blkdev's host and may be corrupt: every
 * field is checked against the cache's geometry before it is used.
 *
 * Return: false if the key cannot be right.
 */
bool cbd_cache_key_decode(struct cbd_cache *cache,
			  struct cbd_cache_key_onmedia *onmedia,
			  struct cbd_cache_key *key)
{
	u64 off = le64_to_cpu(onmedia->off);
	u32 len = le32_to_cpu(onmedia->len);
	u32 flags = le32_to_cpu(onmedia->flags);
	u32 seg_id = le32_to_cpu(onmedia->cache_seg_id);
	u32 seg_off = le32_to_cpu(onmedia->cache_seg_off);

	if (!len || len > CBD_CACHE_TREE_SIZE || off % SECTOR_SIZE ||
	    len % SECTOR_SIZE || off >= cache->dev_size ||
	    len > cache->dev_size - off ||
	    (off >> CBD_CACHE_TREE_SHIFT) != ((off + len - 1) >> CBD_CACHE_TREE_SHIFT) ||
	    flags & ~CBD_CACHE_KEY_FLAGS_CLEAN || seg_id >= cache->n_segs ||
	    seg_off > cbd_cache_seg_size(&cache->segments[seg_id]) ||
	    len > cbd_cache_seg_size(&cache->segments[seg_id]) - seg_off)
		return false;

	key->off = off;
	key->len = len;
	key->flags = flags;
	key->pos.seg = &cache->segments[seg_id];
	key->pos.off = seg_off;
	key->seg_gen = le64_to_cpu(onmedia->seg_gen);
#ifdef CONFIG_CBD_CRC
	key->data_crc = le32_to_cpu(onmedia->data_crc);
#endif
	return true;
}

static u32 cbd_kset_crc(struct cbd_cache_kset_onmedia *kset, u32 size)
{
	return crc32(0, (void *)kset + sizeof(kset->crc), size - sizeof(kset->crc));
}

/*
 * A kset the media cannot give back is not the end of the journal: the
 * keys behind it are lost, so the cache fails rather than go on without
 * them.
 */
static int cbd_cache_kset_copy(struct cbd_cache *cache, void *dst,
			       struct cbd_cache_pos *pos, u32 size)
{
	if (!cbdt_copy_record(dst, cbd_cache_pos_addr(pos), size))
		return 0;

	cbd_cache_log(err_ratelimited, cache, "kset at segment%u+%u: media error reading it\n",
		      pos->seg->segment.seg_id, pos->off);
	cbd_cache_mark_failed(cache, "media error in the journal");
	return -EIO;
}

/* a flush barrier has no keys, any other kset 1 .. CBD_KSET_KEYS_MAX */
static bool cbd_kset_keys_ok(struct cbd_cache_kset_onmedia *kset, u32 key_num)
{
	if (le64_to_cpu(kset->flags) & CBD_KSET_FLAGS_FLUSH)
		return !key_num;

	return key_num && key_num <= CBD_KSET_KEYS_MAX;
}

/**
 * cbd_cache_kset_read - copy and validate the kset at a position
 * @cache: cache
 * @pos: position in a key segment
 * @buf: CBD_KSET_ONMEDIA_SIZE_MAX bytes for the private copy
 *
 * The copy is checked, not the shared memory: another host may write it.
 *
 * Return: @buf if a valid kset is there, else NULL.
 */
struct cbd_cache_kset_onmedia *cbd_cache_kset_read(struct cbd_cache *cache,
						   struct cbd_cache_pos *pos,
						   void *buf)
{
	struct cbd_cache_kset_onmedia *kset = buf;
	u32 remaining = cbd_cache_seg_size(pos->seg) - pos->off;
	u32 key_num, size;

	if (remaining < sizeof(*kset))
		return NULL;

	if (cbd_cache_kset_copy(cache, kset, pos, sizeof(*kset)))
		return NULL;
	key_num = le32_to_cpu(kset->key_num);
	if (le64_to_cpu(kset->magic) != CBD_KSET_MAGIC ||
	    !cbd_kset_keys_ok(kset, key_num) ||
	    le32_to_cpu(kset->seg_gen) != (u32)cbd_cache_seg_info_gen(pos->seg))
		return NULL;

	size = cbd_kset_onmedia_size(key_num);
	if (size > remaining)
		return NULL;

	if (cbd_cache_kset_copy(cache, kset, pos, size))
		return NULL;
	/* the copy may differ from what we checked: check it all again */
	if (le64_to_cpu(kset->magic) != CBD_KSET_MAGIC ||
	    le32_to_cpu(kset->key_num) != key_num ||
	    !cbd_kset_keys_ok(kset, key_num) ||
	    le32_to_cpu(kset->crc) != cbd_kset_crc(kset, size))
		return NULL;

	return kset;
}

/**
 * cbd_cache_kset_next_pos - the position after a valid kset
 * @kset: the kset
 * @pos: its position, advanced
 *
 * After a LAST kset the position is the end of the segment: readers then
 * follow the link to the next key segment once it exists.
 */
void cbd_cache_kset_next_pos(struct cbd_cache_kset_onmedia *kset,
			     struct cbd_cache_pos *pos)
{
	if (le64_to_cpu(kset->flags) & CBD_KSET_FLAGS_LAST)
		pos->off = cbd_cache_seg_size(pos->seg);
	else
		pos->off += cbd_kset_onmedia_size(le32_to_cpu(kset->key_num));
}

bool cbd_cache_pos_at_seg_end(struct cbd_cache_pos *pos)
{
	return pos->off >= cbd_cache_seg_size(pos->seg);
}

/*
 * Write @onmedia (@key_num keys, or a barrier) at the key head, taking the
 * next key segment first if the head's has no room for a full kset.
 */
static int cbd_cache_journal_write(struct cbd_cache *cache,
				   struct cbd_cache_kset_onmedia *onmedia,
				   u32 key_num, u64 flags)
{
	u32 size = cbd_kset_onmedia_size(key_num);
	struct cbd_cache_pos *head = &cache->key_head;
	struct cbd_cache_segment *next;

	lockdep_assert_held(&cache->key_head_lock);

	if (cbd_cache_seg_size(head->seg) - head->off < CBD_KSET_ONMEDIA_SIZE_MAX) {
		/* the key journal may take the last free segment */
		next = cbd_cache_seg_claim(cache, 0);
		if (!next)
			return -EBUSY;
		cbd_cache_seg_link(head->seg, next);
		head->seg = next;
		head->off = 0;
	}

	if (cbd_cache_seg_size(head->seg) - head->off - size < CBD_KSET_ONMEDIA_SIZE_MAX)
		flags |= CBD_KSET_FLAGS_LAST;

	onmedia->res = 0;
	onmedia->magic = cpu_to_le64(CBD_KSET_MAGIC);
	onmedia->flags = cpu_to_le64(flags);
	onmedia->key_num = cpu_to_le32(key_num);
	onmedia->seg_gen = cpu_to_le32((u32)head->seg->gen);
	onmedia->crc = cpu_to_le32(cbd_kset_crc(onmedia, size));

	/* the data of the keys (memcpy_flushcache) before the kset */
	pmem_wmb();
	memcpy_flushcache(cbd_cache_pos_addr(head), onmedia, size);
	/* the kset before anything that depends on it being on media */
	pmem_wmb();

	head->off += size;
	/* a barrier fences what is before it; anything else unfences */
	cache->journal_unfenced = !(flags & CBD_KSET_FLAGS_FLUSH);
	return 0;
}

/* Write a staged kset at the key head.  Called with the kset lock held. */
static int cbd_cache_kset_close(struct cbd_cache *cache,
				struct cbd_cache_kset *kset)
{
	struct cbd_cache_kset_onmedia *onmedia = &kset->kset_onmedia;
	u32 key_num = le32_to_cpu(onmedia->key_num);
	int ret;

	lockdep_assert_held(&kset->lock);

	if (!key_num)
		return 0;

	spin_lock(&cache->key_head_lock);
	ret = cbd_cache_journal_write(cache, onmedia, key_num, 0);
	spin_unlock(&cache->key_head_lock);
	if (ret)
		return ret;

	onmedia->key_num = 0;
	if (cache->local_backend)
		cbd_cache_kick_local_writeback(cache);

	return 0;
}

/*
 * Write a flush barrier after the ksets written so far, unless the last
 * of them is one already.
 */
static int cbd_cache_journal_barrier(struct cbd_cache *cache)
{
	struct cbd_cache_kset_onmedia barrier;
	int ret = 0;

	spin_lock(&cache->key_head_lock);
	if (cache->journal_unfenced)
		ret = cbd_cache_journal_write(cache, &barrier, 0,
					      CBD_KSET_FLAGS_FLUSH);
	spin_unlock(&cache->key_head_lock);

	return ret;
}

/**
 * cbd_cache_key_append - add a key to the journal
 * @cache: blkdev instance
 * @key: key with its data in the cache
 *
 * The key is staged; its kset is written when full, on a flush, or by
 * its flush work.  Called with the key's tree locked, so that keys of one
 * range are journaled in the order they enter the index.
 *
 * Return: 0, or -EBUSY if the kset is full and cannot be written (no
 * free segment for the journal): retry later.
 */
int cbd_cache_key_append(struct cbd_cache *cache, struct cbd_cache_key *key)
{
	u32 i = (key->off >> CBD_CACHE_TREE_SHIFT) % cache->n_paral;
	struct cbd_cache_kset *kset = cbd_cache_kset(cache, i);
	struct cbd_cache_kset_onmedia *onmedia = &kset->kset_onmedia;
	u32 key_num;
	int ret = 0;

	spin_lock(&kset->lock);
	key_num = le32_to_cpu(onmedia->key_num);
	if (key_num == CBD_KSET_KEYS_MAX) {
		ret = cbd_cache_kset_close(cache, kset);
		if (ret)
			goto out;
		key_num = 0;
	}

	cbd_cache_key_encode(key, &onmedia->data[key_num]);
	onmedia->key_num = cpu_to_le32(++key_num);
	if (key_num == CBD_KSET_KEYS_MAX)
		cbd_cache_kset_close(cache, kset);
	/* the first key of a kset starts its timer (a no-op while pending) */
	else if (key_num == 1)
		queue_delayed_work(cache->wq, &kset->flush_work,
				   CBD_KSET_FLUSH_INTERVAL);
out:
	spin_unlock(&kset->lock);
	return ret;
}

/**
 * cbd_cache_ksets_close - write every staged kset, then a flush barrier
 * @cache: blkdev instance
 *
 * After it returns 0, every key appended before the call is persistent,
 * and the writeback will have them on the backing disk (flushed) before
 * anything appended after the call.
 *
 * Return: 0, or -EBUSY if the journal has no room (retry later).
 */
int cbd_cache_ksets_close(struct cbd_cache *cache)
{
	struct cbd_cache_kset *kset;
	int ret = 0;
	u32 i;

	for (i = 0; i < cache->n_paral; i++) {
		kset = cbd_cache_kset(cache, i);
		spin_lock(&kset->lock);
		ret = cbd_cache_kset_close(cache, kset);
		spin_unlock(&kset->lock);
		if (ret)
			return ret;
	}

	return cbd_cache_journal_barrier(cache);
}

void cbd_cache_kset_flush_workfn(struct work_struct *work)
{
	struct cbd_cache_kset *kset = container_of(to_delayed_work(work),
						   struct cbd_cache_kset,
						   flush_work);
	struct cbd_cache *cache = kset->cache;
	int ret;

	spin_lock(&kset->lock);
	ret = cbd_cache_kset_close(cache, kset);
	spin_unlock(&kset->lock);

	/* no room in the journal yet: GC was kicked, try again soon */
	if (ret && !cbd_cache_stopping(cache) && !cbd_cache_failed(cache))
		queue_delayed_work(cache->wq, &kset->flush_work, HZ / 100 + 1);
}

/* replay */

/**
 * cbd_cache_key_data_crc_ok - the data of a key read from media is intact
 * @key: decoded key
 *
 * Return: true without CONFIG_CBD_CRC.
 */
bool cbd_cache_key_data_crc_ok(struct cbd_cache_key *key)
{
#ifdef CONFIG_CBD_CRC
	return cbd_seg_crc(&key->pos.seg->segment, key->pos.off, key->len) ==
	       key->data_crc;
#else
	return true;
#endif
}

/* Insert the keys of a valid kset read at replay. */
static int cbd_cache_replay_kset(struct cbd_cache *cache,
				 struct cbd_cache_kset_onmedia *kset)
{
	struct cbd_cache_key *key, *spare = NULL;
	struct cbd_cache_tree *tree;
	u32 i;

	for (i = 0; i < le32_to_cpu(kset->key_num); i++) {
		key = cbd_cache_key_alloc(cache, GFP_KERNEL);
		if (!key)
			return -ENOMEM;

		if (!cbd_cache_key_decode(cache, &kset->data[i], key)) {
			cbd_cache_log(err, cache, "invalid key in the journal\n");
			cbd_cache_key_put(key);
			return -EIO;
		}

		/* stale: its segment was claimed again; it holds no ref */
		if (key->seg_gen != key->pos.seg->gen) {
			cbd_cache_key_put(key);
			continue;
		}

		if (!cbd_cache_key_data_crc_ok(key)) {
			cbd_cache_log(err, cache, "data crc mismatch at %llu+%u\n",
				      key->off, key->len);
			cbd_cache_key_put(key);
			return -EIO;
		}

		cbd_cache_seg_mark_used(cache, key->pos.seg);
		cbd_cache_seg_get(key->pos.seg);

		if (!spare) {
			spare = cbd_cache_key_alloc(cache, GFP_KERNEL);
			if (!spare) {
				cbd_cache_seg_put(key->pos.seg);
				cbd_cache_key_put(key);
				return -ENOMEM;
			}
		}

		tree = cbd_cache_tree_of(cache, key->off);
		spin_lock(&tree->lock);
		cbd_cache_key_insert(tree, key, &spare);
		spin_unlock(&tree->lock);
	}

	if (spare)
		cbd_cache_key_put(spare);
	return 0;
}

/**
 * cbd_cache_replay - rebuild the index from the journal
 * @cache: blkdev instance with key_tail loaded
 *
 * Walks the valid ksets from key_tail, takes a segment reference for every
 * current key (GC drops it when it passes the kset) and marks the segments
 * in use; the key head is where the journal ends.
 *
 * Return: 0, -EIO for a corrupt journal or data crc mismatch, -ENOMEM.
 */
int cbd_cache_replay(struct cbd_cache *cache)
{
	struct cbd_cache_pos pos = cache->key_tail;
	struct cbd_cache_kset_onmedia *kset;
	struct cbd_cache_segment *next;
	u32 hops = 0;
	int ret;

	cbd_cache_seg_mark_used(cache, pos.seg);
	for (;;) {
		if (cbd_cache_pos_at_seg_end(&pos)) {
			next = cbd_cache_seg_next(pos.seg);
			if (!next)
				break;
			if (++hops > cache->n_segs) {
				cbd_cache_log(err, cache, "key segments form a loop\n");
				return -EIO;
			}
			pos.seg = next;
			pos.off = 0;
			cbd_cache_seg_mark_used(cache, pos.seg);
			continue;
		}

		kset = cbd_cache_kset_read(cache, &pos, cache->gc_kset_buf);
		if (!kset)
			break;

		ret = cbd_cache_replay_kset(cache, kset);
		if (ret)
			return ret;

		cbd_cache_kset_next_pos(kset, &pos);
		cond_resched();
	}

	cache->key_head = pos;

	spin_lock(&cache->seg_map_lock);
	cbd_cache_used_segs_update(cache);
	spin_unlock(&cache->seg_map_lock);

	return 0;
}
