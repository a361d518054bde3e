// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD cache writeback window (backend instance): the dirty keys of a run
 * of ksets, written to the backing disk as one unit.
 *
 * A window never spans a flush barrier of the journal (see
 * CBD_KSET_FLAGS_FLUSH), so its writes were all in flight together as far
 * as the blkdev's user knows: like a disk with a volatile cache, the
 * window may write them in any order, and once.  So a key (or the part of
 * it) that a later key of the window overwrites is not written at all,
 * what is left is sorted by disk offset, adjacent ranges go into one bio,
 * and up to writeback_depth bios are in flight at once.  The writeback
 * flushes the disk after the window and only then moves dirty_tail past
 * it: at that point the disk holds the journal up to there, in order.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/sort.h>

#include "cbd_cache_internal.h"

/* ranges of the disk a newer key of the window writes */
struct cbd_cache_wb_cover {
	struct rb_node node;
	u64 start;
	u64 end;
};

static void cbd_cache_wb_endio(struct bio *bio)
{
	struct cbd_cache_wb_window *w = bio->bi_private;

	if (bio->bi_status)
		WRITE_ONCE(w->error, bio->bi_status);
	bio_put(bio);
	/* the submitter waits for room (depth) or for the last one */
	atomic_dec(&w->inflight);
	wake_up(&w->wait);
}

/**
 * cbd_cache_wb_window_init - allocate a writeback window
 * @w: the window
 *
 * Return: 0 or -ENOMEM.
 */
int cbd_cache_wb_window_init(struct cbd_cache_wb_window *w)
{
	w->keys = kvmalloc_array(CBD_CACHE_WB_WINDOW_KEYS, sizeof(*w->keys),
				 GFP_KERNEL);
	/* each key adds at most one range and splits at most one more */
	w->frags = kvmalloc_array(2 * CBD_CACHE_WB_WINDOW_KEYS,
				  sizeof(*w->frags), GFP_KERNEL);
	w->covers = kvmalloc_array(CBD_CACHE_WB_WINDOW_KEYS,
				   sizeof(*w->covers), GFP_KERNEL);
	if (!w->keys || !w->frags || !w->covers) {
		cbd_cache_wb_window_exit(w);
		return -ENOMEM;
	}

	atomic_set(&w->inflight, 0);
	init_waitqueue_head(&w->wait);
	w->n_keys = 0;
	return 0;
}

/**
 * cbd_cache_wb_window_exit - free a writeback window
 * @w: the window, nothing in flight
 */
void cbd_cache_wb_window_exit(struct cbd_cache_wb_window *w)
{
	kvfree(w->covers);
	kvfree(w->frags);
	kvfree(w->keys);
	w->covers = NULL;
	w->frags = NULL;
	w->keys = NULL;
}

/**
 * cbd_cache_wb_window_room - the window can take @n more keys
 * @w: the window
 * @n: keys
 *
 * Return: true if @n more keys fit.
 */
bool cbd_cache_wb_window_room(struct cbd_cache_wb_window *w, u32 n)
{
	return w->n_keys + n <= CBD_CACHE_WB_WINDOW_KEYS;
}

/**
 * cbd_cache_wb_window_add - add a dirty key, newer than those added before
 * @w: the window, with room
 * @key: the key (validated)
 */
void cbd_cache_wb_window_add(struct cbd_cache_wb_window *w,
			     const struct cbd_cache_key *key)
{
	struct cbd_cache_wb_frag *k = &w->keys[w->n_keys++];

	k->off = key->off;
	k->len = key->len;
	k->seg = key->pos.seg;
	k->data_off = key->pos.off;
}

static void cbd_cache_wb_emit(struct cbd_cache_wb_window *w,
			      const struct cbd_cache_wb_frag *k, u64 start, u64 end)
{
	struct cbd_cache_wb_frag *f = &w->frags[w->n_frags++];

	f->off = start;
	f->len = end - start;
	f->seg = k->seg;
	f->data_off = k->data_off + (u32)(start - k->off);
}

/* The leftmost covered range that ends at or after @start, or NULL. */
static struct cbd_cache_wb_cover *cbd_cache_wb_cover_find(struct rb_root *root,
							  u64 start)
{
	struct rb_node *node = root->rb_node;
	struct cbd_cache_wb_cover *found = NULL, *c;

	while (node) {
		c = rb_entry(node, struct cbd_cache_wb_cover, node);
		if (c->end >= start) {
			found = c;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}

	return found;
}

static void cbd_cache_wb_cover_insert(struct cbd_cache_wb_window *w,
				      u64 start, u64 end)
{
	struct cbd_cache_wb_cover *c = &w->covers[w->n_covers++], *p;
	struct rb_node **link = &w->covered.rb_node, *parent = NULL;

	c->start = start;
	c->end = end;
	while (*link) {
		parent = *link;
		p = rb_entry(parent, struct cbd_cache_wb_cover, node);
		link = start < p->start ? &parent->rb_left : &parent->rb_right;
	}
	rb_link_node(&c->node, parent, link);
	rb_insert_color(&c->node, &w->covered);
}

/*
 * Emit the parts of @k that no newer key covers, then add @k to the
 * covered ranges (merging the ranges it touches into the first of them:
 * the result overlaps no other range, so the tree order holds).
 */
static void cbd_cache_wb_cover_key(struct cbd_cache_wb_window *w,
				   const struct cbd_cache_wb_frag *k)
{
	u64 start = k->off, end = k->off + k->len, cur = start;
	struct cbd_cache_wb_cover *c, *first = NULL;
	struct rb_node *next;

	c = cbd_cache_wb_cover_find(&w->covered, start);
	while (c && c->start <= end) {
		next = rb_next(&c->node);
		if (c->start > cur)
			cbd_cache_wb_emit(w, k, cur, c->start);
		cur = max(cur, c->end);
		if (!first) {
			first = c;
		} else {
			first->end = max(first->end, c->end);
			rb_erase(&c->node, &w->covered);
		}
		c = next ? rb_entry(next, struct cbd_cache_wb_cover, node) : NULL;
	}
	if (cur < end)
		cbd_cache_wb_emit(w, k, cur, end);

	if (!first) {
		cbd_cache_wb_cover_insert(w, start, end);
		return;
	}
	first->start = min(first->start, start);
	first->end = max(first->end, end);
}

static int cbd_cache_wb_frag_cmp(const void *a, const void *b)
{
	const struct cbd_cache_wb_frag *x = a, *y = b;

	if (x->off == y->off)
		return 0;
	return x->off < y->off ? -1 : 1;
}

/* Newest key first: what each range of the disk must end up holding. */
static void cbd_cache_wb_window_resolve(struct cbd_cache_wb_window *w)
{
	u32 i;

	w->n_frags = 0;
	w->n_covers = 0;
	w->covered = RB_ROOT;
	for (i = w->n_keys; i-- > 0;)
		cbd_cache_wb_cover_key(w, &w->keys[i]);

	sort(w->frags, w->n_frags, sizeof(*w->frags), cbd_cache_wb_frag_cmp, NULL);
}

/* bvecs for @len bytes at any alignment */
static u32 cbd_cache_wb_vecs(u32 len)
{
	return (len >> PAGE_SHIFT) + 2;
}

/* bvecs the disk-contiguous run of ranges from frags[@i] on needs */
static u32 cbd_cache_wb_run_vecs(struct cbd_cache_wb_window *w, u32 i)
{
	u32 vecs = cbd_cache_wb_vecs(w->frags[i].len);

	for (i++; i < w->n_frags && vecs < BIO_MAX_VECS; i++) {
		if (w->frags[i].off != w->frags[i - 1].off + w->frags[i - 1].len)
			break;
		vecs += cbd_cache_wb_vecs(w->frags[i].len);
	}

	return min_t(u32, vecs, BIO_MAX_VECS);
}

static void cbd_cache_wb_submit(struct cbd_cache *cache,
				struct cbd_cache_wb_window *w, struct bio *bio)
{
	u32 depth = cbd_cache_wb_depth_limit(cache);

	io_wait_event(w->wait, atomic_read(&w->inflight) < depth);
	atomic_inc(&w->inflight);
	submit_bio(bio);
}

static struct bio *cbd_cache_wb_bio_alloc(struct cbd_cache *cache,
					  struct cbd_cache_wb_window *w,
					  u32 i, u64 off)
{
	struct bio *bio;

	bio = bio_alloc_bioset(file_bdev(cache->bdev_file),
			       cbd_cache_wb_run_vecs(w, i), REQ_OP_WRITE,
			       GFP_NOIO, &cache->wb_bioset);
	bio->bi_iter.bi_sector = off >> SECTOR_SHIFT;
	bio->bi_private = w;
	bio->bi_end_io = cbd_cache_wb_endio;
	return bio;
}

/*
 * Add frags[@i] to *@bio, submitting it and starting new ones as needed.
 * Return: 0 or -EIO (the pages of the range cannot be mapped).
 */
static int cbd_cache_wb_add_frag(struct cbd_cache *cache,
				 struct cbd_cache_wb_window *w, u32 i,
				 struct bio **bio)
{
	struct cbd_cache_wb_frag *f = &w->frags[i];
	u32 data_off = f->data_off, len = f->len, room, chunk;
	u64 off = f->off;
	int ret;

	while (len) {
		if (*bio && (bio_end_sector(*bio) << SECTOR_SHIFT != off ||
			     (*bio)->bi_max_vecs - (*bio)->bi_vcnt < 3)) {
			cbd_cache_wb_submit(cache, w, *bio);
			*bio = NULL;
		}
		if (!*bio)
			*bio = cbd_cache_wb_bio_alloc(cache, w, i, off);

		room = ((*bio)->bi_max_vecs - (*bio)->bi_vcnt - 2) << PAGE_SHIFT;
		chunk = min(len, room);
		ret = cbds_map_pages(&f->seg->segment, *bio, data_off, chunk);
		if (ret)
			return ret;

		off += chunk;
		data_off += chunk;
		len -= chunk;
	}

	return 0;
}

/**
 * cbd_cache_wb_window_write - write the window to the backing disk
 * @cache: backend instance
 * @w: the window; empty again when this returns
 *
 * Waits for every bio of the window; the caller flushes the disk.
 *
 * Return: 0, or -EIO (a bio failed or a range could not be mapped).
 */
int cbd_cache_wb_window_write(struct cbd_cache *cache,
			      struct cbd_cache_wb_window *w)
{
	struct bio *bio = NULL;
	int ret = 0;
	u32 i;

	cbd_cache_wb_window_resolve(w);
	w->error = BLK_STS_OK;
	for (i = 0; i < w->n_frags && !ret; i++)
		ret = cbd_cache_wb_add_frag(cache, w, i, &bio);

	if (bio && ret)
		bio_put(bio);
	else if (bio)
		cbd_cache_wb_submit(cache, w, bio);

	io_wait_event(w->wait, !atomic_read(&w->inflight));
	w->n_keys = 0;
	if (!ret && READ_ONCE(w->error))
		ret = -EIO;
	return ret;
}
