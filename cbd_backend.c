// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD backend: owns a backing disk on this host and serves the channels of
 * the blkdev attached to it.
 *
 * The backend is never told about blkdevs: once a second its state work
 * scans the channel segments of the transport and creates a handler for
 * every channel addressed to it whose blkdev is alive, and destroys the
 * handlers of channels whose blkdev stopped or died.  This works the same
 * whether the blkdev runs on this host or on another one, and lets a
 * re-attached backend take over the channels of a dead predecessor.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/string_choices.h>

#include "cbd_blkdev.h"
#include "cbd_handler.h"
#include "cbd_heartbeat.h"
#include "cbd_host.h"

#define CBD_BACKEND_STATE_INTERVAL	HZ

/* sysfs: backend<N> in cbd_backends */

static struct cbd_backend_info *cbd_dev_to_backend_info(struct device *dev)
{
	struct cbd_obj_device *obj = container_of(dev, struct cbd_obj_device, dev);

	return cbdt_backend_info(obj->cbdt, obj->id);
}

static bool cbd_backend_info_in_use(struct cbd_backend_info *info)
{
	return cbd_slot_state(&info->state) != CBD_SLOT_STATE_NONE;
}

/* The aligned 32-bit word made of the state byte and owner_gen. */
static u32 *cbd_backend_owner_word(struct cbd_backend_info *info)
{
	static_assert(offsetof(struct cbd_backend_info, state) == 0 &&
		      offsetof(struct cbd_backend_info, owner_gen) == 1);
	return (u32 *)info;
}

static u32 cbd_backend_owner_read(struct cbd_backend_info *info)
{
	return le32_to_cpu((__force __le32)READ_ONCE(*cbd_backend_owner_word(info)));
}

#define CBD_OWNER_STATE(w)	((w) & 0xff)
#define CBD_OWNER_GEN(w)	((w) >> 8)
#define CBD_OWNER_WORD(st, gen)	(((gen) & 0xffffff) << 8 | (st))

/*
 * Take the slot with one cmpxchg of its owner word, from the value @seen
 * that the caller judged takeable: state @state and the next generation.
 * Of two hosts that saw the same value only one succeeds.
 */
static bool cbd_backend_owner_claim(struct cbd_backend_info *info, u32 seen,
				    u8 state, u32 *gen)
{
	u32 new = CBD_OWNER_WORD(state, CBD_OWNER_GEN(seen) + 1);

	if (cmpxchg(cbd_backend_owner_word(info),
		    (__force u32)cpu_to_le32(seen),
		    (__force u32)cpu_to_le32(new)) != (__force u32)cpu_to_le32(seen))
		return false;

	*gen = CBD_OWNER_GEN(new);
	return true;
}

static bool cbd_str_terminated(const char *s, size_t len)
{
	return memchr(s, 0, len);
}

/**
 * cbd_backend_info_validate - check a backend slot read from shared memory
 * @cbdt: transport
 * @id: valid backend slot index
 * @flags: CBD_BI_V_USED: the slot must describe a backend (dev_size set);
 *	CBD_BI_V_CACHE: a cache it describes must be in place (its first
 *	segment a running cache segment)
 * @snap: the checked values, each read once from the slot
 *
 * Checks: state is an enum cbd_slot_state; host_id < host slots;
 * blkdev_count <= CBDB_BLKDEV_COUNT_MAX; n_handlers <= CBD_HANDLERS_MAX;
 * dev_size (if set, and it must be with CBD_BI_V_USED) a multiple of the
 * logical block size and <= CBD_DEV_SIZE_MAX; path NUL-terminated inside
 * its field; cache: n_segs <= segments, seg_id a segment id (of a cache
 * segment with CBD_BI_V_CACHE), used_segs <= n_segs, gc_percent <=
 * CBD_CACHE_GC_PERCENT_MAX, key_tail and dirty_tail inside the cache.
 * A slot that fails gets one rate-limited log line naming the field.
 *
 * Return: 0, or -EIO if the slot is corrupt.
 */
int cbd_backend_info_validate(struct cbd_transport *cbdt, u32 id, u32 flags,
			      struct cbd_backend_snap *snap)
{
	struct cbd_backend_info *info = cbdt_backend_info(cbdt, id);
	struct cbd_cache_info *ci = &info->cache_info;
	struct cbd_segment_info *seg_info;
	const char *field;
	u32 owner, v;

	if (cbdt_probe_record(info, sizeof(*info))) {
		field = "slot (media error)";
		goto bad;
	}
	owner = cbd_backend_owner_read(info);
	snap->state = CBD_OWNER_STATE(owner);
	snap->owner_gen = CBD_OWNER_GEN(owner);
	snap->host_id = le32_to_cpu(READ_ONCE(info->host_id));
	snap->blkdev_count = le32_to_cpu(READ_ONCE(info->blkdev_count));
	snap->n_handlers = le32_to_cpu(READ_ONCE(info->n_handlers));
	snap->dev_size = le64_to_cpu(READ_ONCE(info->dev_size));
	snap->n_segs = le32_to_cpu(READ_ONCE(ci->n_segs));
	snap->seg_id = le32_to_cpu(READ_ONCE(ci->seg_id));

	if (snap->state > CBD_SLOT_STATE_REMOVING) {
		field = "state";
		goto bad;
	}
	/* a never used slot is all zeroes: nothing more to check */
	if (!snap->dev_size && !(flags & CBD_BI_V_USED))
		return 0;
	if (!snap->dev_size || snap->dev_size > CBD_DEV_SIZE_MAX ||
	    (snap->dev_size << SECTOR_SHIFT) % CBD_DEV_LOGICAL_BLOCK_SIZE) {
		field = "dev_size";
		goto bad;
	}
	if (!cbdt_host_id_valid(cbdt, snap->host_id)) {
		field = "host_id";
		goto bad;
	}
	if (snap->blkdev_count > CBDB_BLKDEV_COUNT_MAX) {
		field = "blkdev_count";
		goto bad;
	}
	if (snap->n_handlers > CBD_HANDLERS_MAX) {
		field = "n_handlers";
		goto bad;
	}
	if (!cbd_str_terminated(info->path, sizeof(info->path))) {
		field = "path";
		goto bad;
	}
	if (!snap->n_segs)
		return 0;

	if (snap->n_segs > cbdt->segment_num) {
		field = "cache_info.n_segs";
		goto bad;
	}
	if (!cbdt_segment_id_valid(cbdt, snap->seg_id)) {
		field = "cache_info.seg_id";
		goto bad;
	}
	if (flags & CBD_BI_V_CACHE) {
		seg_info = cbdt_segment_info(cbdt, snap->seg_id);
		if (cbd_segment_info_validate(cbdt, snap->seg_id) ||
		    cbd_slot_state(&seg_info->state) != CBD_SLOT_STATE_RUNNING ||
		    READ_ONCE(seg_info->type) != CBDS_TYPE_CACHE) {
			field = "cache_info.seg_id (not a cache segment)";
			goto bad;
		}
	}
	if (le32_to_cpu(READ_ONCE(ci->used_segs)) > snap->n_segs) {
		field = "cache_info.used_segs";
		goto bad;
	}
	if (le16_to_cpu(READ_ONCE(ci->gc_percent)) > CBD_CACHE_GC_PERCENT_MAX) {
		field = "cache_info.gc_percent";
		goto bad;
	}
	v = le32_to_cpu(READ_ONCE(ci->key_tail_pos.cache_seg_id));
	if (v >= snap->n_segs ||
	    le32_to_cpu(READ_ONCE(ci->key_tail_pos.seg_off)) >= CBDT_SEG_SIZE) {
		field = "cache_info.key_tail_pos";
		goto bad;
	}
	v = le32_to_cpu(READ_ONCE(ci->dirty_tail_pos.cache_seg_id));
	if (v >= snap->n_segs ||
	    le32_to_cpu(READ_ONCE(ci->dirty_tail_pos.seg_off)) >= CBDT_SEG_SIZE) {
		field = "cache_info.dirty_tail_pos";
		goto bad;
	}

	return 0;

bad:
	cbdt_log(err_ratelimited, cbdt, "backend%u slot corrupt: invalid %s\n",
		 id, field);
	return -EIO;
}

/* A slot shown in sysfs: in use and valid, else nothing (or -EIO). */
static int cbd_backend_show_snap(struct device *dev,
				 struct cbd_backend_snap *snap)
{
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);
	int ret;

	ret = cbd_backend_info_validate(obj->cbdt, obj->id, 0, snap);
	if (ret)
		return ret;
	return snap->state != CBD_SLOT_STATE_NONE;
}

static ssize_t path_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct cbd_backend_info *info = cbd_dev_to_backend_info(dev);
	struct cbd_backend_snap snap;
	int ret;

	ret = cbd_backend_show_snap(dev, &snap);
	if (ret <= 0)
		return ret;

	/* shared memory: the NUL checked above may be gone by now */
	return sysfs_emit(buf, "%.*s\n", CBD_PATH_LEN, info->path);
}
static DEVICE_ATTR_ADMIN_RO(path);

static ssize_t host_id_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct cbd_backend_snap snap;
	int ret;

	ret = cbd_backend_show_snap(dev, &snap);
	if (ret <= 0)
		return ret;

	return sysfs_emit(buf, "%u\n", snap.host_id);
}
static DEVICE_ATTR_ADMIN_RO(host_id);

static ssize_t alive_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);

	return sysfs_emit(buf, "%s\n",
			  str_true_false(cbd_backend_info_is_alive(obj->cbdt,
								   obj->id)));
}
static DEVICE_ATTR_ADMIN_RO(alive);

static ssize_t cache_segs_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct cbd_backend_snap snap;
	int ret;

	ret = cbd_backend_show_snap(dev, &snap);
	if (ret <= 0)
		return ret;

	return sysfs_emit(buf, "%u\n", snap.n_segs);
}
static DEVICE_ATTR_ADMIN_RO(cache_segs);

static ssize_t cache_used_segs_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct cbd_backend_info *info = cbd_dev_to_backend_info(dev);
	struct cbd_backend_snap snap;
	u32 used = 0;
	int ret;

	ret = cbd_backend_show_snap(dev, &snap);
	if (ret <= 0)
		return ret;

	if (snap.n_segs)
		used = min(le32_to_cpu(READ_ONCE(info->cache_info.used_segs)),
			   snap.n_segs);

	return sysfs_emit(buf, "%u\n", used);
}
static DEVICE_ATTR_ADMIN_RO(cache_used_segs);

static ssize_t cache_gc_percent_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct cbd_backend_info *info = cbd_dev_to_backend_info(dev);
	struct cbd_backend_snap snap;
	int ret;

	ret = cbd_backend_show_snap(dev, &snap);
	if (ret <= 0)
		return ret;

	return sysfs_emit(buf, "%u\n",
			  le16_to_cpu(READ_ONCE(info->cache_info.gc_percent)));
}

/*
 * Same rules as backend<N>/cache/gc_percent.  A backend without a cache
 * (or a free slot) has no GC to tune: -ENODEV, so that a caller can tell
 * it from a bad value (-EINVAL).
 */
static ssize_t cache_gc_percent_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t size)
{
	struct cbd_obj_device *obj = container_of(dev, struct cbd_obj_device, dev);
	struct cbd_backend_info *info = cbd_dev_to_backend_info(dev);
	u16 val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	ret = cbd_cache_parse_gc_percent(buf, size, &val);
	if (ret)
		return ret;

	if (!cbd_backend_info_in_use(info) || !cbd_backend_cache_on(info))
		return -ENODEV;

	cbd_cache_set_gc_percent(obj->cbdt, &info->cache_info, val);
	return size;
}
static DEVICE_ATTR_ADMIN_RW(cache_gc_percent);

static struct attribute *cbd_backend_attrs[] = {
	&dev_attr_path.attr,
	&dev_attr_host_id.attr,
	&dev_attr_alive.attr,
	&dev_attr_cache_segs.attr,
	&dev_attr_cache_used_segs.attr,
	&dev_attr_cache_gc_percent.attr,
	NULL
};

static const struct attribute_group cbd_backend_attr_group = {
	.attrs		= cbd_backend_attrs,
};

static const struct attribute_group *cbd_backend_attr_groups[] = {
	&cbd_backend_attr_group,
	NULL
};

static void cbd_backend_dev_release(struct device *dev)
{
	kfree(container_of(dev, struct cbd_obj_device, dev));
}

const struct device_type cbd_backend_type = {
	.name		= "cbd_backend",
	.groups		= cbd_backend_attr_groups,
	.release	= cbd_backend_dev_release,
};

const struct device_type cbd_backends_type = {
	.name		= "cbd_backends",
};

/* handlers */

static struct cbd_handler *cbd_backend_find_handler(struct cbd_backend *cbdb,
						    u32 seg_id)
{
	struct cbd_handler *handler;

	lockdep_assert_held(&cbdb->lock);

	hash_for_each_possible(cbdb->handlers_hash, handler, hash_node, seg_id) {
		if (handler->channel.seg_id == seg_id)
			return handler;
	}

	return NULL;
}

static struct cbd_handler *cbd_backend_lookup_handler(struct cbd_backend *cbdb,
						      u32 seg_id)
{
	struct cbd_handler *handler;

	spin_lock(&cbdb->lock);
	handler = cbd_backend_find_handler(cbdb, seg_id);
	spin_unlock(&cbdb->lock);

	/* only the state work creates and destroys handlers */
	return handler;
}

/**
 * cbd_backend_kick_state - scan the channels now
 * @cbdb: backend running on this host
 *
 * Used by a same-host blkdev so that its channels are served (or released)
 * without waiting for the next periodic scan.
 */
void cbd_backend_kick_state(struct cbd_backend *cbdb)
{
	mod_delayed_work(cbd_wq, &cbdb->state_work, 0);
}

static void cbd_backend_kick_fn(struct cbd_backend *cbdb, u32 unused)
{
	cbd_backend_kick_state(cbdb);
}

/**
 * cbd_backend_kick - make a backend of this host rescan its channels now
 * @cbdt: transport
 * @backend_id: backend
 */
void cbd_backend_kick(struct cbd_transport *cbdt, u32 backend_id)
{
	cbdt_backend_call(cbdt, backend_id, cbd_backend_kick_fn, 0);
}

/*
 * Should this backend serve channel @seg_id?  Everything here is read from
 * shared memory, written by other hosts, and checked before use.
 */
static bool cbd_backend_should_serve(struct cbd_backend *cbdb, u32 seg_id)
{
	struct cbd_transport *cbdt = cbdb->cbdt;
	struct cbd_segment_info *seg_info = cbdt_segment_info(cbdt, seg_id);
	struct cbd_channel_info *info;
	u32 blkdev_id;

	if (READ_ONCE(cbdb->evicted) || cbd_segment_info_validate(cbdt, seg_id) ||
	    cbd_slot_state(&seg_info->state) != CBD_SLOT_STATE_RUNNING ||
	    READ_ONCE(seg_info->type) != CBDS_TYPE_CHANNEL)
		return false;

	info = container_of(seg_info, struct cbd_channel_info, seg_info);
	if (le32_to_cpu(READ_ONCE(info->backend_id)) != cbdb->backend_id ||
	    READ_ONCE(info->blkdev_state) != CBDC_BLKDEV_STATE_RUNNING)
		return false;

	/* a dead blkdev never reads its completions: stop serving it */
	blkdev_id = le32_to_cpu(READ_ONCE(info->blkdev_id));
	return cbdt_blkdev_id_valid(cbdt, blkdev_id) &&
	       cbd_blkdev_info_is_alive(cbdt, blkdev_id);
}

/*
 * The channel's backend_state is not a condition: a re-attached backend
 * takes over the channels its dead predecessor left "running".
 */
static void cbd_backend_scan_channel(struct cbd_backend *cbdb, u32 seg_id)
{
	struct cbd_handler *handler = cbd_backend_lookup_handler(cbdb, seg_id);
	bool serve = cbd_backend_should_serve(cbdb, seg_id);
	int ret;

	if (serve && !handler) {
		ret = cbd_handler_create(cbdb, seg_id);
		if (ret && ret != -EBUSY)
			cbd_backend_log(err, cbdb, "failed to create handler%u: %d\n",
					seg_id, ret);
	} else if (!serve && handler) {
		cbd_handler_destroy(handler);
	}
}

static void cbd_backend_state_workfn(struct work_struct *work)
{
	struct cbd_backend *cbdb = container_of(to_delayed_work(work),
						struct cbd_backend, state_work);
	u32 seg_id;

	for (seg_id = 0; seg_id < cbdb->cbdt->segment_num; seg_id++)
		cbd_backend_scan_channel(cbdb, seg_id);

	queue_delayed_work(cbd_wq, &cbdb->state_work, CBD_BACKEND_STATE_INTERVAL);
}

static void cbd_backend_hb_workfn(struct work_struct *work)
{
	struct cbd_backend *cbdb = container_of(to_delayed_work(work),
						struct cbd_backend, hb_work);
	struct cbd_backend_info *info = cbdb->backend_info;
	u32 owner = cbd_backend_owner_read(info);

	/*
	 * Another host re-attached the slot while this backend was thought
	 * dead (a stall longer than the heartbeat timeout): it owns the slot
	 * and its channels now, this one must not touch them any more.
	 */
	if (CBD_OWNER_GEN(owner) != cbdb->owner_gen ||
	    CBD_OWNER_STATE(owner) != CBD_SLOT_STATE_RUNNING) {
		if (!READ_ONCE(cbdb->evicted))
			cbd_backend_log(err, cbdb,
					"slot taken over (generation %u, ours %u): no longer serving\n",
					CBD_OWNER_GEN(owner), cbdb->owner_gen);
		WRITE_ONCE(cbdb->evicted, true);
		return;
	}

	cbd_alive_ts_update(&info->alive_ts);
	cbdt_flush(cbdb->cbdt, &info->alive_ts, sizeof(info->alive_ts));

	queue_delayed_work(cbd_wq, &cbdb->hb_work, CBD_HB_INTERVAL);
}

/* backend-start */

/*
 * Re-attach: the slot must hold a backend that was stopped (state none,
 * its dev_size and cache description kept on media) or that died (state
 * running, heartbeat stale).  Either way the slot is taken
 * with one cmpxchg of its owner word (state and generation) from the value
 * that was judged takeable: of two hosts re-attaching at once, exactly one
 * wins and the other gets -EBUSY.  *@claimed tells a stopped slot (a new
 * cache is made) from a dead one (its cache is taken over).
 */
static int cbd_backend_reattach_slot(struct cbd_backend *cbdb, u32 backend_id,
				     bool *claimed)
{
	struct cbd_transport *cbdt = cbdb->cbdt;
	struct cbd_backend_info *info;
	struct cbd_backend_snap snap;
	u32 owner;
	int ret;

	if (!cbdt_backend_id_valid(cbdt, backend_id))
		return -EINVAL;

	info = cbdt_backend_info(cbdt, backend_id);
	if (!le64_to_cpu(READ_ONCE(info->dev_size))) {
		cbdt_log(err, cbdt, "backend%u was never used\n", backend_id);
		return -ENOENT;
	}

	owner = cbd_backend_owner_read(info);
	/*
	 * Owner word before heartbeat: pairs with the beat written before
	 * the claim below.  A host that sees another's claim here then sees
	 * that host's beat, so it cannot judge the new owner dead.
	 */
	smp_rmb();
	switch (CBD_OWNER_STATE(owner)) {
	case CBD_SLOT_STATE_NONE:
		*claimed = true;
		break;
	case CBD_SLOT_STATE_RUNNING:
		if (cbd_backend_info_is_alive(cbdt, backend_id))
			goto busy;
		*claimed = false;
		break;
	default:
		goto busy;
	}

	/* a dead backend's cache is taken over as it is: it must be intact */
	ret = cbd_backend_info_validate(cbdt, backend_id,
					CBD_BI_V_USED | (*claimed ? 0 : CBD_BI_V_CACHE),
					&snap);
	if (ret)
		return ret;

	/*
	 * Beat before the claim (cmpxchg orders the two): between the claim
	 * and the backend's first regular beat the slot must already look
	 * alive, or a second host re-attaching at the same moment would take
	 * the new owner for dead and claim the slot from it.  A beat written
	 * by a host whose claim then fails is harmless: the slot's owner
	 * beats too.
	 */
	cbd_alive_ts_update(&info->alive_ts);
	cbdt_flush(cbdt, &info->alive_ts, sizeof(info->alive_ts));
	if (!cbd_backend_owner_claim(info, owner, CBD_SLOT_STATE_RUNNING,
				     &cbdb->owner_gen)) {
		*claimed = false;
		goto busy;
	}
	cbdt_flush(cbdt, info, sizeof(u32));

	cbdb->backend_id = backend_id;
	cbdb->backend_info = info;
	cbdb->dev_size = snap.dev_size;
	cbdb->cache_segs = snap.n_segs;
	return 0;

busy:
	cbdt_log(err, cbdt, "backend%u is in use\n", backend_id);
	return -EBUSY;
}

static int cbd_backend_claim_slot(struct cbd_backend *cbdb,
				  struct cbd_backend_start_opts *opts,
				  bool *claimed)
{
	int ret;

	if (opts->backend_id != U32_MAX)
		return cbd_backend_reattach_slot(cbdb, opts->backend_id, claimed);

	ret = cbdt_claim_backend_id(cbdb->cbdt, &cbdb->backend_id);
	if (ret)
		return ret;

	*claimed = true;
	cbdb->backend_info = cbdt_backend_info(cbdb->cbdt, cbdb->backend_id);
	cbdb->owner_gen = CBD_OWNER_GEN(cbd_backend_owner_read(cbdb->backend_info));
	return 0;
}

/*
 * A failed start leaves nothing behind.  A slot we claimed goes back to
 * free: a new one as zeroed as the claim found it (no heartbeat, no
 * dev_size that would make it look re-attachable), a stopped one with its
 * disk and cache description but without the heartbeat we may have
 * written.  A dead slot we only tried to take over is left as it was.
 */
static void cbd_backend_release_slot(struct cbd_backend *cbdb, bool claimed,
				     bool new)
{
	struct cbd_backend_info *info = cbdb->backend_info;
	struct cbd_transport *cbdt = cbdb->cbdt;

	if (!claimed)
		return;

	if (new) {
		/* the state byte last, after the rest of the record is clean */
		cbdt_zero_range(cbdt, (u8 *)info + sizeof(info->state),
				sizeof(*info) - sizeof(info->state));
	} else {
		cbd_alive_ts_clear(&info->alive_ts);
		cbdt_flush(cbdt, &info->alive_ts, sizeof(info->alive_ts));
	}

	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_NONE);
	cbdt_flush(cbdt, &info->state, sizeof(info->state));
}

static int cbd_backend_open_disk(struct cbd_backend *cbdb, bool new)
{
	/* re-attach: the validated dev_size of the slot */
	u64 slot_size = cbdb->dev_size;
	struct file *file;

	/* exclusive: the disk cannot be mounted while the backend runs */
	file = bdev_file_open_by_path(cbdb->path, BLK_OPEN_READ | BLK_OPEN_WRITE,
				      cbdb, NULL);
	if (IS_ERR(file)) {
		cbd_backend_log(err, cbdb, "failed to open %s: %ld\n", cbdb->path,
				PTR_ERR(file));
		return PTR_ERR(file);
	}

	cbdb->bdev_file = file;
	cbdb->dev_size = bdev_nr_sectors(file_bdev(file));

	/* what the slot cannot describe, peers would refuse as corrupt */
	if (!cbdb->dev_size || cbdb->dev_size > CBD_DEV_SIZE_MAX) {
		cbd_backend_log(err, cbdb, "%s has %llu sectors, CBD serves 1 to %llu\n",
				cbdb->path, cbdb->dev_size, CBD_DEV_SIZE_MAX);
		fput(file);
		return -EINVAL;
	}

	if (!new && cbdb->dev_size != slot_size) {
		cbd_backend_log(err, cbdb, "%s has %llu sectors, the backend had %llu\n",
				cbdb->path, cbdb->dev_size, slot_size);
		fput(file);
		return -EINVAL;
	}

	return 0;
}

static void cbd_backend_info_init(struct cbd_backend *cbdb, u32 handlers)
{
	struct cbd_backend_info *info = cbdb->backend_info;

	info->host_id = cpu_to_le32(cbdb->cbdt->host->host_id);
	info->dev_size = cpu_to_le64(cbdb->dev_size);
	if (handlers)
		info->n_handlers = cpu_to_le32(handlers);
	memset(info->path, 0, sizeof(info->path));
	strscpy(info->path, cbdb->path, sizeof(info->path));
	cbd_alive_ts_update(&info->alive_ts);
	cbdt_flush(cbdb->cbdt, info, sizeof(*info));
}

/*
 * The backend-side cache instance (writeback) and backend<N>/cache.  A
 * new backend, or one stopped cleanly (everything written back), gets a
 * new, empty cache; a dead backend's cache is taken over with its
 * journal, whose dirty data is then written back.
 */
static int cbd_backend_cache_start(struct cbd_backend *cbdb, bool new_cache)
{
	struct cbd_obj_device *obj = cbdb->cbdt->backends_dev->children[cbdb->backend_id];
	struct cbd_cache_opts opts = {
		.cache_info	= &cbdb->backend_info->cache_info,
		.backend_id	= cbdb->backend_id,
		.alloc_segs	= new_cache,
		.start_writeback = true,
		.dev_size	= cbdb->dev_size,
		.n_segs		= cbdb->cache_segs,
		.bdev_file	= cbdb->bdev_file,
	};
	int ret;

	if (!opts.n_segs)
		return 0;

	cbdb->cbd_cache = cbd_cache_alloc(cbdb->cbdt, &opts, &ret);
	if (!cbdb->cbd_cache) {
		cbd_backend_log(err, cbdb, "failed to start the cache: %d\n", ret);
		return ret;
	}

	cbdb->cache_dev = cbd_cache_dev_register(cbdb->cbd_cache, &obj->dev);
	if (IS_ERR(cbdb->cache_dev)) {
		ret = PTR_ERR(cbdb->cache_dev);
		cbdb->cache_dev = NULL;
		goto err_destroy_cache;
	}

	/* the last step that can fail is done: the cache is ours now */
	if (!new_cache)
		cbd_cache_take_over(cbdb->cbd_cache);

	return 0;

err_destroy_cache:
	cbd_cache_destroy(cbdb->cbd_cache);
	cbdb->cbd_cache = NULL;
	return ret;
}

/* @crash: fault injection, leave the transport as a dead host would */
static void cbd_backend_cache_stop(struct cbd_backend *cbdb, bool crash)
{
	/* no attribute callback uses the instance after this */
	if (cbdb->cache_dev)
		cbd_cache_dev_unregister(cbdb->cache_dev);
	cbdb->cache_dev = NULL;
	if (cbdb->cbd_cache && crash)
		cbd_cache_abandon(cbdb->cbd_cache);
	else if (cbdb->cbd_cache)
		cbd_cache_destroy(cbdb->cbd_cache);
	cbdb->cbd_cache = NULL;
}

/* cbdt_media_listener.failure: retire what runs in segments @first..@last */
static void cbd_backend_media_failure(struct cbdt_media_listener *l,
				      u32 first, u32 last)
{
	struct cbd_backend *cbdb = container_of(l, struct cbd_backend, media);
	struct cbd_handler *handler;
	int bkt;

	spin_lock(&cbdb->lock);
	hash_for_each(cbdb->handlers_hash, bkt, handler, hash_node) {
		if (handler->channel.seg_id >= first &&
		    handler->channel.seg_id <= last)
			cbd_handler_retire(handler, "memory failure in its channel");
	}
	spin_unlock(&cbdb->lock);

	/* set before the listener is added, cleared after it is deleted */
	if (cbdb->cbd_cache)
		cbd_cache_media_failure(cbdb->cbd_cache, first, last);
}

static void cbd_backend_works_init(struct cbd_backend *cbdb)
{
	spin_lock_init(&cbdb->lock);
	hash_init(cbdb->handlers_hash);
	INIT_LIST_HEAD(&cbdb->node);
	INIT_DELAYED_WORK(&cbdb->state_work, cbd_backend_state_workfn);
	INIT_DELAYED_WORK(&cbdb->hb_work, cbd_backend_hb_workfn);
	INIT_LIST_HEAD(&cbdb->media.node);
	cbdb->media.failure = cbd_backend_media_failure;
}

/**
 * cbd_backend_start - start a new backend or re-attach a dead one
 * @cbdt: transport
 * @opts: parsed adm options
 *
 * Return: 0, or -ENOENT (no free slot or cache segment, or a never used
 * slot to re-attach), -EINVAL (bad id, disk size changed, broken cache),
 * -ENOSPC (cache larger than the transport),
 * -EBUSY (re-attach target alive, disk busy), other errors of opening the
 * disk, -ENOMEM.
 */
int cbd_backend_start(struct cbd_transport *cbdt,
		      struct cbd_backend_start_opts *opts)
{
	bool new = opts->backend_id == U32_MAX;
	struct cbd_backend *cbdb;
	bool claimed = false;
	int ret;

	cbdb = kzalloc(sizeof(*cbdb), GFP_KERNEL);
	if (!cbdb)
		return -ENOMEM;

	cbdb->cbdt = cbdt;
	strscpy(cbdb->path, opts->path, sizeof(cbdb->path));
	cbd_backend_works_init(cbdb);

	ret = cbd_backend_claim_slot(cbdb, opts, &claimed);
	if (ret)
		goto err_free_backend;

	ret = cbd_backend_open_disk(cbdb, new);
	if (ret)
		goto err_release_slot;

	cbdb->task_wq = alloc_workqueue("cbdt%u-b%u", WQ_UNBOUND | WQ_MEM_RECLAIM,
					0, cbdt->id, cbdb->backend_id);
	if (!cbdb->task_wq) {
		ret = -ENOMEM;
		goto err_close_disk;
	}

	cbd_backend_info_init(cbdb, opts->handlers);
	if (new && opts->cache_segs) {
		cbdb->cache_segs = opts->cache_segs;
		cbdb->backend_info->cache_info.n_segs = cpu_to_le32(opts->cache_segs);
		cbdb->backend_info->cache_info.gc_percent =
			cpu_to_le16(CBD_CACHE_GC_PERCENT_DEFAULT);
	}
	/* claimed: a new slot or a cleanly stopped backend */
	ret = cbd_backend_cache_start(cbdb, claimed);
	if (ret)
		goto err_destroy_wq;

	cbdt_add_backend(cbdt, cbdb);
	cbdt_media_listener_add(cbdt, &cbdb->media);
	queue_delayed_work(cbd_wq, &cbdb->hb_work, CBD_HB_INTERVAL);
	queue_delayed_work(cbd_wq, &cbdb->state_work, 0);

	cbd_backend_log(info, cbdb, "started on %s (%llu sectors)\n", cbdb->path,
			cbdb->dev_size);
	return 0;

err_destroy_wq:
	destroy_workqueue(cbdb->task_wq);
err_close_disk:
	fput(cbdb->bdev_file);
err_release_slot:
	cbd_backend_release_slot(cbdb, claimed, new);
err_free_backend:
	kfree(cbdb);
	return ret;
}

/* backend-stop */

static int cbd_backend_mark_removing(struct cbd_backend *cbdb)
{
	u32 blkdev_count = le32_to_cpu(READ_ONCE(cbdb->backend_info->blkdev_count));
	int ret = 0;

	spin_lock(&cbdb->lock);
	if (cbdb->removing || !hash_empty(cbdb->handlers_hash) || blkdev_count)
		ret = -EBUSY;
	else
		cbdb->removing = true;
	spin_unlock(&cbdb->lock);

	return ret;
}

/*
 * Is the blkdev in slot @id attached to @cbdb and dead?  Returns its
 * heartbeat then, else 0.  A heartbeat of 0 (a claim whose first beat is
 * not written yet) counts as not dead.
 */
static u64 cbd_backend_dead_blkdev_ts(struct cbd_backend *cbdb, u32 id)
{
	struct cbd_blkdev_info *info = cbdt_blkdev_info(cbdb->cbdt, id);

	if (cbd_slot_state(&info->state) != CBD_SLOT_STATE_RUNNING ||
	    le32_to_cpu(READ_ONCE(info->backend_id)) != cbdb->backend_id ||
	    cbd_blkdev_info_is_alive(cbdb->cbdt, id))
		return 0;

	return le64_to_cpu(READ_ONCE(info->alive_ts));
}

/*
 * A blkdev whose host died keeps its claim on the backend (blkdev_count)
 * and would make backend-stop fail until someone runs dev-clear.  A dead
 * blkdev never comes back (its channels are released), so
 * backend-stop clears the claims of its dead blkdevs itself, as dev-clear
 * would.
 *
 * Only a slot whose heartbeat stays unchanged over a second is cleared: a
 * host that claims the slot for a new blkdev rewrites the heartbeat right
 * after the claim, and must not lose the slot to a stale reading.
 */
static void cbd_backend_clear_dead_blkdevs(struct cbd_backend *cbdb)
{
	struct cbd_transport *cbdt = cbdb->cbdt;
	bool any = false;
	u64 *seen;
	u32 id;

	if (!le32_to_cpu(READ_ONCE(cbdb->backend_info->blkdev_count)))
		return;

	/* seen[id]: heartbeat of a dead blkdev of ours, 0 for all others */
	seen = kcalloc(cbdt->blkdev_num, sizeof(*seen), GFP_KERNEL);
	if (!seen)
		return;

	for (id = 0; id < cbdt->blkdev_num; id++) {
		seen[id] = cbd_backend_dead_blkdev_ts(cbdb, id);
		any |= seen[id] != 0;
	}
	if (!any)
		goto out_free;

	msleep(1000);
	for (id = 0; id < cbdt->blkdev_num; id++) {
		if (!seen[id] || cbd_backend_dead_blkdev_ts(cbdb, id) != seen[id])
			continue;
		cbd_backend_log(info, cbdb, "releasing dead blkdev%u\n", id);
		cbd_blkdev_clear(cbdt, id);
	}

out_free:
	kfree(seen);
}

/**
 * cbd_backend_stop - stop a backend running on this host
 * @cbdt: transport
 * @backend_id: backend slot
 *
 * Blkdevs that died with their host do not keep the backend running:
 * their claims are released first, as dev-clear would.
 *
 * Return: 0, -ENOENT if the backend does not run here, -EBUSY while a
 * live blkdev is attached or its channels are still served.
 */
int cbd_backend_stop(struct cbd_transport *cbdt, u32 backend_id)
{
	struct cbd_backend_info *info;
	struct cbd_backend *cbdb;
	int ret;

	cbdb = cbdt_find_backend(cbdt, backend_id);
	if (!cbdb)
		return -ENOENT;

	cbd_backend_clear_dead_blkdevs(cbdb);
	/* retire the handlers of blkdevs that stopped since the last scan */
	flush_delayed_work(&cbdb->state_work);

	ret = cbd_backend_mark_removing(cbdb);
	if (ret)
		return ret;

	/* all dirty data to the disk first; on error the backend runs on */
	if (cbdb->cbd_cache) {
		ret = cbd_cache_writeback_drain(cbdb->cbd_cache);
		if (ret) {
			spin_lock(&cbdb->lock);
			cbdb->removing = false;
			spin_unlock(&cbdb->lock);
			return ret;
		}
	}

	/* off the list first: nobody can kick state_work after the cancel */
	cbdt_del_backend(cbdt, cbdb);
	cbdt_media_listener_del(cbdt, &cbdb->media);
	cancel_delayed_work_sync(&cbdb->state_work);
	cancel_delayed_work_sync(&cbdb->hb_work);
	cbd_backend_cache_stop(cbdb, false);

	info = cbdb->backend_info;
	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_NONE);
	cbd_alive_ts_clear(&info->alive_ts);
	cbdt_flush(cbdt, info, sizeof(*info));

	destroy_workqueue(cbdb->task_wq);
	fput(cbdb->bdev_file);
	cbd_backend_log(info, cbdb, "stopped\n");
	kfree(cbdb);

	return 0;
}

/* Some handler of @cbdb, or NULL; only the caller removes handlers. */
static struct cbd_handler *cbd_backend_first_handler(struct cbd_backend *cbdb)
{
	struct cbd_handler *handler;
	int bkt;

	spin_lock(&cbdb->lock);
	hash_for_each(cbdb->handlers_hash, bkt, handler, hash_node) {
		spin_unlock(&cbdb->lock);
		return handler;
	}
	spin_unlock(&cbdb->lock);

	return NULL;
}

/**
 * cbd_backend_crash - fault injection: the backend dies with its host
 * @cbdt: transport
 * @backend_id: a backend running on this host
 *
 * Tears the backend down without a single write to the transport: its
 * slot stays "running" with a heartbeat that goes stale, and its channels
 * keep their state and the entries in flight.  Blkdevs then see a dead
 * backend, and a backend re-attached with backend_id= takes
 * the channels over.  Blkdevs on this host reach their backend by id
 * (cbd_backend_kick()) and its handlers by channel
 * (cbd_handler_notify()), so none is left with a dangling pointer.
 *
 * Return: 0, -ENOENT if the backend does not run here, -EBUSY if it is
 * stopping.
 */
int cbd_backend_crash(struct cbd_transport *cbdt, u32 backend_id)
{
	struct cbd_handler *handler;
	struct cbd_backend *cbdb;

	cbdb = cbdt_find_backend(cbdt, backend_id);
	if (!cbdb)
		return -ENOENT;

	spin_lock(&cbdb->lock);
	if (cbdb->removing) {
		spin_unlock(&cbdb->lock);
		return -EBUSY;
	}
	cbdb->removing = true;
	spin_unlock(&cbdb->lock);

	/* off the list first: nobody can kick state_work after the cancel */
	cbdt_del_backend(cbdt, cbdb);
	cbdt_media_listener_del(cbdt, &cbdb->media);
	cancel_delayed_work_sync(&cbdb->state_work);
	cancel_delayed_work_sync(&cbdb->hb_work);

	while ((handler = cbd_backend_first_handler(cbdb)))
		cbd_handler_crash(handler);
	cbd_backend_cache_stop(cbdb, true);

	destroy_workqueue(cbdb->task_wq);
	fput(cbdb->bdev_file);
	cbd_backend_log(info, cbdb, "crashed (fault injection)\n");
	kfree(cbdb);

	return 0;
}

/**
 * cbd_backend_clear - free the slot of a dead backend
 * @cbdt: transport
 * @backend_id: backend slot
 * @force: free it even with a blkdev attached or a cache that may hold
 *	data not written back (that data is lost)
 *
 * Return: 0, -EINVAL for a bad id, -EBUSY if the backend is alive, or
 * (without @force) a blkdev is attached or its cache may be dirty.
 */
int cbd_backend_clear(struct cbd_transport *cbdt, u32 backend_id, bool force)
{
	struct cbd_backend_info *info;
	struct cbd_backend_snap snap;
	int ret;

	if (!cbdt_backend_id_valid(cbdt, backend_id))
		return -EINVAL;

	info = cbdt_backend_info(cbdt, backend_id);
	if (cbd_backend_info_is_alive(cbdt, backend_id)) {
		cbdt_log(err, cbdt, "backend%u is still alive\n", backend_id);
		return -EBUSY;
	}

	/* a corrupt slot can only be freed by force: nothing can be judged */
	ret = cbd_backend_info_validate(cbdt, backend_id, 0, &snap);
	if (!force && ret)
		return -EBUSY;

	if (!force && !ret && snap.blkdev_count) {
		cbdt_log(err, cbdt, "backend%u has a blkdev attached (force=1 to clear anyway)\n",
			 backend_id);
		return -EBUSY;
	}
	/* backend-stop drains the cache: only a dead one may leave it dirty */
	if (!force && !ret && snap.n_segs &&
	    snap.state == CBD_SLOT_STATE_RUNNING &&
	    cbd_cache_info_may_be_dirty(cbdt, &info->cache_info, snap.n_segs,
					snap.seg_id)) {
		cbdt_log(err, cbdt,
			 "backend%u: its cache may hold data not written back (force=1 to clear anyway)\n",
			 backend_id);
		return -EBUSY;
	}

	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_NONE);
	cbdt_flush(cbdt, &info->state, sizeof(info->state));

	return 0;
}
