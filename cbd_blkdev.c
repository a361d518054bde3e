// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD blkdev: /dev/cbdX on top of a backend, one channel per hw queue.
 *
 * The device advertises a volatile write cache and FUA, so that the block
 * layer sends flushes down instead of completing them itself: a flush
 * reaches the backend as CBD_OP_FLUSH (the cache's ksets are closed, or
 * the backing disk is flushed), FUA writes carry CBD_SE_FLAGS_FUA.
 * fsync'd data thus survives a power loss.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/string_choices.h>

#include "cbd_heartbeat.h"
#include "cbd_host.h"
#include "cbd_media.h"
#include "cbd_queue.h"

#define CBD_QUEUE_DEPTH		128

static int cbd_major;
static DEFINE_IDA(cbd_mapped_id_ida);

/* sysfs: blkdev<N> in cbd_blkdevs */

static ssize_t cbd_blkdev_emit_u32(struct device *dev, char *buf,
				   size_t field)
{
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);
	struct cbd_blkdev_snap snap;

	if (cbd_blkdev_info_validate(obj->cbdt, obj->id, &snap))
		return -EIO;
	if (snap.state == CBD_SLOT_STATE_NONE)
		return 0;
	return sysfs_emit(buf, "%u\n", *(u32 *)((char *)&snap + field));
}

static ssize_t mapped_id_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return cbd_blkdev_emit_u32(dev, buf,
				   offsetof(struct cbd_blkdev_snap, mapped_id));
}
static DEVICE_ATTR_ADMIN_RO(mapped_id);

static ssize_t host_id_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return cbd_blkdev_emit_u32(dev, buf,
				   offsetof(struct cbd_blkdev_snap, host_id));
}
static DEVICE_ATTR_ADMIN_RO(host_id);

static ssize_t backend_id_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return cbd_blkdev_emit_u32(dev, buf,
				   offsetof(struct cbd_blkdev_snap, backend_id));
}
static DEVICE_ATTR_ADMIN_RO(backend_id);

static ssize_t alive_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);

	return sysfs_emit(buf, "%s\n",
			  str_true_false(cbd_blkdev_info_is_alive(obj->cbdt,
								  obj->id)));
}
static DEVICE_ATTR_ADMIN_RO(alive);

static struct attribute *cbd_blkdev_attrs[] = {
	&dev_attr_mapped_id.attr,
	&dev_attr_host_id.attr,
	&dev_attr_backend_id.attr,
	&dev_attr_alive.attr,
	NULL
};

static const struct attribute_group cbd_blkdev_attr_group = {
	.attrs = cbd_blkdev_attrs,
};

static const struct attribute_group *cbd_blkdev_attr_groups[] = {
	&cbd_blkdev_attr_group,
	NULL
};

static void cbd_blkdev_dev_release(struct device *dev)
{
	kfree(container_of(dev, struct cbd_obj_device, dev));
}

const struct device_type cbd_blkdev_type = {
	.name		= "cbd_blkdev",
	.groups		= cbd_blkdev_attr_groups,
	.release	= cbd_blkdev_dev_release,
};

const struct device_type cbd_blkdevs_type = {
	.name		= "cbd_blkdevs",
};

/* lifetime */

static void cbd_blkdev_release(struct kref *ref)
{
	struct cbd_blkdev *cbd_blkdev = container_of(ref, struct cbd_blkdev, ref);

	/* the minors stay reserved until the last opener of the disk is gone */
	if (cbd_blkdev->mapped_id >= 0)
		ida_free(&cbd_mapped_id_ida, cbd_blkdev->mapped_id);
	kfree(cbd_blkdev->queues);
	kfree(cbd_blkdev);
}

static void cbd_blkdev_put(struct cbd_blkdev *cbd_blkdev)
{
	kref_put(&cbd_blkdev->ref, cbd_blkdev_release);
}

/* block device operations */

static int cbd_open(struct gendisk *disk, blk_mode_t mode)
{
	struct cbd_blkdev *cbd_blkdev = disk->private_data;
	int ret = 0;

	mutex_lock(&cbd_blkdev->lock);
	if (cbd_blkdev->stopping)
		ret = -ENODEV;
	else
		cbd_blkdev->open_count++;
	mutex_unlock(&cbd_blkdev->lock);

	return ret;
}

static void cbd_release(struct gendisk *disk)
{
	struct cbd_blkdev *cbd_blkdev = disk->private_data;

	mutex_lock(&cbd_blkdev->lock);
	cbd_blkdev->open_count--;
	mutex_unlock(&cbd_blkdev->lock);
}

static void cbd_free_disk(struct gendisk *disk)
{
	cbd_blkdev_put(disk->private_data);
}

static const struct block_device_operations cbd_bd_ops = {
	.owner		= THIS_MODULE,
	.open		= cbd_open,
	.release	= cbd_release,
	.free_disk	= cbd_free_disk,
};

/* queues */

static void cbd_blkdev_destroy_queues(struct cbd_blkdev *cbd_blkdev)
{
	u32 i;

	for (i = 0; i < cbd_blkdev->num_queues; i++)
		cbd_queue_stop(&cbd_blkdev->queues[i]);
}

static int cbd_blkdev_create_queues(struct cbd_blkdev *cbd_blkdev)
{
	struct cbd_queue *cbdq;
	u32 i;
	int ret;

	/* freed with the blkdev: hctx->driver_data points here */
	cbd_blkdev->queues = kcalloc(cbd_blkdev->num_queues,
				     sizeof(*cbd_blkdev->queues), GFP_KERNEL);
	if (!cbd_blkdev->queues)
		return -ENOMEM;

	for (i = 0; i < cbd_blkdev->num_queues; i++) {
		cbdq = &cbd_blkdev->queues[i];
		cbdq->cbd_blkdev = cbd_blkdev;
		cbdq->index = i;
		ret = cbd_queue_start(cbdq);
		if (ret)
			goto err_destroy_queues;
	}

	return 0;

err_destroy_queues:
	cbd_blkdev_destroy_queues(cbd_blkdev);
	return ret;
}

/* disk */

static int cbd_blkdev_alloc_disk(struct cbd_blkdev *cbd_blkdev)
{
	struct queue_limits lim = {
		.max_hw_sectors		= BIO_MAX_VECS * PAGE_SECTORS,
		.logical_block_size	= SECTOR_SIZE,
		.io_min			= 4096,
		.io_opt			= 4096,
		/* payloads are copied: no DMA constraint on segments */
		.max_segments		= USHRT_MAX,
		.max_segment_size	= UINT_MAX,
		.features		= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA,
	};
	struct blk_mq_tag_set *set = &cbd_blkdev->tag_set;
	struct gendisk *disk;
	int ret;

	set->ops = &cbd_mq_ops;
	set->queue_depth = CBD_QUEUE_DEPTH;
	/* tunable in /sys/block/cbdX/queue/io_timeout */
	set->timeout = CBD_QUEUE_IO_TIMEOUT;
	set->numa_node = NUMA_NO_NODE;
	set->flags = BLK_MQ_F_SHOULD_MERGE;
	/* queue_rq() submits the backend's bios itself (cbd_handler_kick()) */
	if (cbd_blkdev->local_backend)
		set->flags |= BLK_MQ_F_BLOCKING;
	set->nr_hw_queues = cbd_blkdev->num_queues;
	set->cmd_size = sizeof(struct cbd_request);
	set->driver_data = cbd_blkdev;

	ret = blk_mq_alloc_tag_set(set);
	if (ret)
		return ret;

	disk = blk_mq_alloc_disk(set, &lim, cbd_blkdev);
	if (IS_ERR(disk)) {
		blk_mq_free_tag_set(set);
		return PTR_ERR(disk);
	}

	snprintf(disk->disk_name, sizeof(disk->disk_name), "cbd%d",
		 cbd_blkdev->mapped_id);
	disk->major = cbd_major;
	disk->first_minor = cbd_blkdev->mapped_id << CBD_PART_SHIFT;
	disk->minors = 1 << CBD_PART_SHIFT;
	disk->fops = &cbd_bd_ops;
	disk->private_data = cbd_blkdev;
	set_capacity(disk, cbd_blkdev->dev_size);
	cbd_blkdev->disk = disk;
	spin_lock(&cbd_blkdev->disk_lock);
	cbd_blkdev->disk_live = true;
	spin_unlock(&cbd_blkdev->disk_lock);

	return 0;
}

static void cbd_blkdev_free_disk(struct cbd_blkdev *cbd_blkdev)
{
	/* the cache's GC may still run: it must not kick a freed queue */
	spin_lock(&cbd_blkdev->disk_lock);
	cbd_blkdev->disk_live = false;
	spin_unlock(&cbd_blkdev->disk_lock);
	put_disk(cbd_blkdev->disk);
	blk_mq_free_tag_set(&cbd_blkdev->tag_set);
}

static int cbd_blkdev_disk_start(struct cbd_blkdev *cbd_blkdev)
{
	struct cbd_obj_device *obj;
	int ret;

	ret = cbd_blkdev_alloc_disk(cbd_blkdev);
	if (ret)
		return ret;

	ret = add_disk(cbd_blkdev->disk);
	if (ret)
		goto err_free_disk;
	/* from now on ->free_disk drops this reference */
	kref_get(&cbd_blkdev->ref);

	obj = cbd_blkdev->cbdt->blkdevs_dev->children[cbd_blkdev->blkdev_id];
	ret = sysfs_create_link(&disk_to_dev(cbd_blkdev->disk)->kobj,
				&obj->dev.kobj, "cbd_blkdev");
	if (ret)
		goto err_del_disk;

	return 0;

err_del_disk:
	del_gendisk(cbd_blkdev->disk);
err_free_disk:
	cbd_blkdev_free_disk(cbd_blkdev);
	return ret;
}

static void cbd_blkdev_disk_stop(struct cbd_blkdev *cbd_blkdev)
{
	sysfs_remove_link(&disk_to_dev(cbd_blkdev->disk)->kobj, "cbd_blkdev");
	del_gendisk(cbd_blkdev->disk);
	cbd_blkdev_free_disk(cbd_blkdev);
}

/*
 * Forced stop: fail every request in flight and every later one with EIO
 * before del_gendisk(), which writes back a mounted fs and waits for all
 * requests; a dead backend must not make it wait forever.
 */
static void cbd_blkdev_kill_io(struct cbd_blkdev *cbd_blkdev)
{
	struct request_queue *q = cbd_blkdev->disk->queue;
	u32 i;

	/* new bios fail in submit_bio() */
	blk_mark_disk_dead(cbd_blkdev->disk);

	/* no queue_rq() runs while the in-flight lists are emptied */
	blk_mq_quiesce_queue(q);
	for (i = 0; i < cbd_blkdev->num_queues; i++)
		cbd_queue_kill(&cbd_blkdev->queues[i]);
	/* requests not dispatched yet now fail in queue_rq() */
	blk_mq_unquiesce_queue(q);
}

/* heartbeat and slots */

static void cbd_blkdev_hb_workfn(struct work_struct *work)
{
	struct cbd_blkdev *cbd_blkdev = container_of(to_delayed_work(work),
						     struct cbd_blkdev, hb_work);
	struct cbd_blkdev_info *info = cbd_blkdev->blkdev_info;

	cbd_alive_ts_update(&info->alive_ts);
	cbdt_flush(cbd_blkdev->cbdt, &info->alive_ts, sizeof(info->alive_ts));

	queue_delayed_work(cbd_wq, &cbd_blkdev->hb_work, CBD_HB_INTERVAL);
}

static void cbd_blkdev_info_init(struct cbd_blkdev *cbd_blkdev)
{
	struct cbd_blkdev_info *info = cbd_blkdev->blkdev_info;

	info->backend_id = cpu_to_le32(cbd_blkdev->backend_id);
	info->host_id = cpu_to_le32(cbd_blkdev->cbdt->host->host_id);
	info->mapped_id = cpu_to_le32(cbd_blkdev->mapped_id);
	/* alive before the channels exist, so the backend serves them */
	cbd_alive_ts_update(&info->alive_ts);
	cbdt_flush(cbd_blkdev->cbdt, info, sizeof(*info));
}

static void cbd_blkdev_info_release(struct cbd_blkdev *cbd_blkdev)
{
	struct cbd_blkdev_info *info = cbd_blkdev->blkdev_info;

	/* alive_ts 0: dev-clear and the backend need not wait 30 s */
	cbd_alive_ts_clear(&info->alive_ts);
	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_NONE);
	cbdt_flush(cbd_blkdev->cbdt, info, sizeof(*info));
}

/* dev-start */

/* Each queue has its own data head and kset: 4 segments per queue. */
static int cbd_blkdev_check_cache(struct cbd_transport *cbdt, u32 backend_id,
				  u32 n_segs, u32 queues)
{
	if (n_segs && n_segs < queues * CBD_CACHE_SEGS_EACH_PARAL) {
		cbdt_log(err, cbdt,
			 "backend%u: a cache of %u segments serves at most %u queues (%u segments each), not %u\n",
			 backend_id, n_segs, n_segs / CBD_CACHE_SEGS_EACH_PARAL,
			 CBD_CACHE_SEGS_EACH_PARAL, queues);
		return -EINVAL;
	}

	return 0;
}

/*
 * GC freed a segment while writes wait for one: they sit on the requeue
 * list with a delay (cbd_queue_rq_cache()); run them now.
 */
static void cbd_blkdev_cache_space_freed(void *data)
{
	struct cbd_blkdev *cbd_blkdev = data;

	spin_lock(&cbd_blkdev->disk_lock);
	if (cbd_blkdev->disk_live)
		blk_mq_kick_requeue_list(cbd_blkdev->disk->queue);
	spin_unlock(&cbd_blkdev->disk_lock);
}

/* The blkdev-side cache instance: index, replay, request paths, GC. */
static int cbd_blkdev_cache_start(struct cbd_blkdev *cbd_blkdev)
{
	struct cbd_cache_opts opts = {
		.cache_info	= &cbd_blkdev->backend_info->cache_info,
		.backend_id	= cbd_blkdev->backend_id,
		.start_gc	= true,
		.init_keys	= true,
		.n_paral	= cbd_blkdev->num_queues,
		.dev_size	= cbd_blkdev->dev_size,
		.n_segs		= cbd_blkdev->cache_segs,
		.space_freed	= cbd_blkdev_cache_space_freed,
		.space_data	= cbd_blkdev,
	};
	int ret;

	if (!opts.n_segs)
		return 0;

	/* same host: kick its writeback when a kset is written */
	opts.local_backend = cbd_blkdev->local_backend;

	cbd_blkdev->cbd_cache = cbd_cache_alloc(cbd_blkdev->cbdt, &opts, &ret);
	if (!cbd_blkdev->cbd_cache) {
		cbd_blkdev_log(err, cbd_blkdev, "failed to start the cache: %d\n", ret);
		return ret;
	}
	cbd_blkdev->cache_req = cbd_cache_handle_req;

	return 0;
}

static void cbd_blkdev_cache_stop(struct cbd_blkdev *cbd_blkdev)
{
	if (cbd_blkdev->cbd_cache)
		cbd_cache_destroy(cbd_blkdev->cbd_cache);
	cbd_blkdev->cbd_cache = NULL;
}

/*
 * The backend slot is read once into @snap and checked
 * (cbd_backend_info_validate()): the blkdev is sized from those values
 * only, whatever a peer writes into the slot later.
 */
static int cbd_blkdev_check_backend(struct cbd_transport *cbdt, u32 backend_id,
				    u32 *queues, struct cbd_backend_snap *snap)
{
	int ret;

	if (!cbdt_backend_id_valid(cbdt, backend_id))
		return -EINVAL;

	ret = cbd_backend_info_validate(cbdt, backend_id, CBD_BI_V_CACHE, snap);
	if (ret)
		return ret;

	/* a free (never used or stopped) slot is not alive: -EINVAL */
	if (snap->state != CBD_SLOT_STATE_RUNNING ||
	    !cbd_backend_info_is_alive(cbdt, backend_id)) {
		cbdt_log(err, cbdt, "backend%u is not alive\n", backend_id);
		return -EINVAL;
	}
	/* a running backend always wrote its size */
	if (!snap->dev_size) {
		cbdt_log(err_ratelimited, cbdt,
			 "backend%u slot corrupt: invalid dev_size\n", backend_id);
		return -EIO;
	}

	if (*queues > CBD_QUEUES_MAX)
		return -EINVAL;

	/* not given: one queue per backend handler (handlers=), else 1 */
	if (!*queues) {
		if (snap->n_handlers > CBD_QUEUES_MAX) {
			cbdt_log(err, cbdt, "backend%u: invalid handlers %u\n",
				 backend_id, snap->n_handlers);
			return -EINVAL;
		}
		*queues = snap->n_handlers ?: 1;
	}

	return cbd_blkdev_check_cache(cbdt, backend_id, snap->n_segs, *queues);
}

static struct cbd_blkdev *cbd_blkdev_alloc(struct cbd_transport *cbdt,
					   u32 backend_id, u32 queues,
					   const struct cbd_backend_snap *snap)
{
	struct cbd_blkdev *cbd_blkdev;

	cbd_blkdev = kzalloc(sizeof(*cbd_blkdev), GFP_KERNEL);
	if (!cbd_blkdev)
		return NULL;

	kref_init(&cbd_blkdev->ref);
	mutex_init(&cbd_blkdev->lock);
	spin_lock_init(&cbd_blkdev->disk_lock);
	INIT_LIST_HEAD(&cbd_blkdev->node);
	INIT_DELAYED_WORK(&cbd_blkdev->hb_work, cbd_blkdev_hb_workfn);
	cbd_blkdev->mapped_id = -1;
	cbd_blkdev->cbdt = cbdt;
	cbd_blkdev->backend_id = backend_id;
	cbd_blkdev->num_queues = queues;
	cbd_blkdev->backend_info = cbdt_backend_info(cbdt, backend_id);
	cbd_blkdev->dev_size = snap->dev_size;
	cbd_blkdev->cache_segs = snap->n_segs;

	/* same host: the backend object is here, notify its handlers */
	if (snap->host_id == cbdt->host->host_id)
		cbd_blkdev->local_backend = true;

	return cbd_blkdev;
}

static int cbd_blkdev_claim_ids(struct cbd_blkdev *cbd_blkdev)
{
	struct cbd_transport *cbdt = cbd_blkdev->cbdt;
	int ret;

	ret = cbdt_claim_blkdev_id(cbdt, &cbd_blkdev->blkdev_id);
	if (ret)
		return ret;
	cbd_blkdev->blkdev_info = cbdt_blkdev_info(cbdt, cbd_blkdev->blkdev_id);

	/* freed in cbd_blkdev_release(), with the gendisk */
	ret = ida_alloc_max(&cbd_mapped_id_ida,
			    (1 << (MINORBITS - CBD_PART_SHIFT)) - 1, GFP_KERNEL);
	if (ret < 0) {
		cbd_blkdev_info_release(cbd_blkdev);
		return ret == -ENOSPC ? -ENOENT : ret;
	}
	cbd_blkdev->mapped_id = ret;

	return 0;
}

static void cbd_blkdev_kick_backend(struct cbd_blkdev *cbd_blkdev)
{
	/* do not wait up to a second for the backend to (un)serve us */
	if (cbd_blkdev->local_backend)
		cbd_backend_kick(cbd_blkdev->cbdt, cbd_blkdev->backend_id);
}

/* cbdt_media_listener.failure: retire what runs in segments @first..@last */
static void cbd_blkdev_media_failure(struct cbdt_media_listener *l,
				     u32 first, u32 last)
{
	struct cbd_blkdev *cbd_blkdev = container_of(l, struct cbd_blkdev, media);
	struct cbd_queue *cbdq;
	u32 i;

	for (i = 0; i < cbd_blkdev->num_queues; i++) {
		cbdq = &cbd_blkdev->queues[i];
		if (cbdq->channel.seg_id >= first && cbdq->channel.seg_id <= last)
			cbd_queue_fail(cbdq, "memory failure in its channel");
	}
	if (cbd_blkdev->cbd_cache)
		cbd_cache_media_failure(cbd_blkdev->cbd_cache, first, last);
}

/**
 * cbd_blkdev_start - create /dev/cbdX on a backend
 * @cbdt: transport
 * @backend_id: backend slot
 * @queues: hw queues (channels); 0: the backend's handlers= value, else 1.
 *	At most one per possible CPU is used.
 *
 * Return: 0, or -EINVAL (bad backend id or queues, backend not alive),
 * -EIO (the backend slot or its cache is corrupt, see
 * cbd_backend_info_validate(), or a corrupt cache journal), -EBUSY
 * (backend has a blkdev), -ENOENT (no free blkdev slot, segment or
 * minor), -ENOMEM.  -EINVAL too when
 * the backend's cache has fewer than 4 segments per queue.
 */
int cbd_blkdev_start(struct cbd_transport *cbdt, u32 backend_id, u32 queues)
{
	struct cbd_backend_snap snap;
	struct cbd_blkdev *cbd_blkdev;
	int ret;

	ret = cbd_blkdev_check_backend(cbdt, backend_id, &queues, &snap);
	if (ret)
		return ret;

	/*
	 * blk-mq maps at most one hw queue per CPU (blk_mq_alloc_tag_set()),
	 * so channels beyond that would never see a request but would still
	 * hold 16 MiB of the transport and a backend handler each.  The
	 * request was validated as given, so the errno of a command does not
	 * depend on the host it runs on.
	 */
	if (queues > nr_cpu_ids) {
		cbdt_log(info, cbdt, "backend%u: %u queues requested, using %u (one per CPU)\n",
			 backend_id, queues, nr_cpu_ids);
		queues = nr_cpu_ids;
	}

	cbd_blkdev = cbd_blkdev_alloc(cbdt, backend_id, queues, &snap);
	if (!cbd_blkdev)
		return -ENOMEM;

	ret = cbd_backend_blkdev_get(cbdt, cbd_blkdev->backend_info);
	if (ret)
		goto err_put_blkdev;

	ret = cbd_blkdev_claim_ids(cbd_blkdev);
	if (ret)
		goto err_put_backend;

	cbd_blkdev_info_init(cbd_blkdev);
	queue_delayed_work(cbd_wq, &cbd_blkdev->hb_work, CBD_HB_INTERVAL);

	cbd_blkdev->task_wq = alloc_workqueue("cbdt%u-d%u",
					      WQ_UNBOUND | WQ_MEM_RECLAIM, 0,
					      cbdt->id, cbd_blkdev->mapped_id);
	if (!cbd_blkdev->task_wq) {
		ret = -ENOMEM;
		goto err_stop_hb;
	}

	ret = cbd_blkdev_create_queues(cbd_blkdev);
	if (ret)
		goto err_destroy_wq;
	cbd_blkdev_kick_backend(cbd_blkdev);

	ret = cbd_blkdev_cache_start(cbd_blkdev);
	if (ret)
		goto err_destroy_queues;

	ret = cbd_blkdev_disk_start(cbd_blkdev);
	if (ret)
		goto err_stop_cache;

	cbdt_add_blkdev(cbdt, cbd_blkdev);
	cbd_blkdev->media.failure = cbd_blkdev_media_failure;
	cbdt_media_listener_add(cbdt, &cbd_blkdev->media);
	cbd_blkdev_log(info, cbd_blkdev, "started: blkdev%u on backend%u, %u queues\n",
		       cbd_blkdev->blkdev_id, backend_id, queues);
	return 0;

err_stop_cache:
	cbd_blkdev_cache_stop(cbd_blkdev);
err_destroy_queues:
	cbd_blkdev_destroy_queues(cbd_blkdev);
err_destroy_wq:
	destroy_workqueue(cbd_blkdev->task_wq);
err_stop_hb:
	cancel_delayed_work_sync(&cbd_blkdev->hb_work);
	cbd_blkdev_info_release(cbd_blkdev);
err_put_backend:
	cbd_backend_blkdev_put(cbdt, cbd_blkdev->backend_info);
err_put_blkdev:
	cbd_blkdev_put(cbd_blkdev);
	return ret;
}

/* dev-stop */

static int cbd_blkdev_mark_stopping(struct cbd_blkdev *cbd_blkdev, bool force)
{
	int ret = 0;

	mutex_lock(&cbd_blkdev->lock);
	if (cbd_blkdev->open_count && !force)
		ret = -EBUSY;
	else
		cbd_blkdev->stopping = true;
	mutex_unlock(&cbd_blkdev->lock);

	return ret;
}

/**
 * cbd_blkdev_stop - remove /dev/cbdX
 * @cbdt: transport
 * @devid: blkdev slot
 * @force: even if open: fail all I/O with EIO, then remove
 *
 * With @force this always returns, whatever the state of the backend.
 *
 * Return: 0, -EINVAL if the blkdev does not run here, -EBUSY if it is
 * open and @force is not set.
 */
int cbd_blkdev_stop(struct cbd_transport *cbdt, u32 devid, bool force)
{
	struct cbd_blkdev *cbd_blkdev;
	int ret;

	cbd_blkdev = cbdt_find_blkdev(cbdt, devid);
	if (!cbd_blkdev)
		return -EINVAL;

	ret = cbd_blkdev_mark_stopping(cbd_blkdev, force);
	if (ret)
		return ret;

	cbdt_del_blkdev(cbdt, cbd_blkdev);
	cbdt_media_listener_del(cbdt, &cbd_blkdev->media);
	if (force)
		cbd_blkdev_kill_io(cbd_blkdev);
	cbd_blkdev_disk_stop(cbd_blkdev);
	/* no request left: write the staged keys */
	cbd_blkdev_cache_stop(cbd_blkdev);

	cbd_blkdev_destroy_queues(cbd_blkdev);
	cbd_blkdev_kick_backend(cbd_blkdev);
	destroy_workqueue(cbd_blkdev->task_wq);
	cancel_delayed_work_sync(&cbd_blkdev->hb_work);
	cbd_blkdev_info_release(cbd_blkdev);
	cbd_backend_blkdev_put(cbdt, cbd_blkdev->backend_info);

	cbd_blkdev_log(info, cbd_blkdev, "stopped\n");
	cbd_blkdev_put(cbd_blkdev);

	return 0;
}

/**
 * cbd_blkdev_init - register the cbd block major
 *
 * Return: 0 or a negative errno.
 */
int cbd_blkdev_init(void)
{
	cbd_major = register_blkdev(0, CBD_DRV_NAME);
	if (cbd_major < 0)
		return cbd_major;

	return 0;
}

/**
 * cbd_blkdev_exit - unregister the cbd block major
 */
void cbd_blkdev_exit(void)
{
	unregister_blkdev(cbd_major, CBD_DRV_NAME);
}
