/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD blkdev: /dev/cbdX, a blk-mq device whose hardware queues each talk
 * to the backend through one channel.
 */
#ifndef _CBD_BLKDEV_H
#define _CBD_BLKDEV_H

#include <linux/blk-mq.h>
#include <linux/kref.h>

#include "cbd_backend.h"

/**
 * struct cbd_blkdev_info - on-media blkdev slot
 * @state: enum cbd_slot_state
 * @res: zero
 * @alive_ts: heartbeat value (wall-clock ns, always increasing); observers
 *	only look for change, on their own monotonic clock
 * @backend_id: backend the blkdev is attached to
 * @host_id: host where /dev/cbdX lives
 * @mapped_id: X of /dev/cbdX
 * @res1: zero
 *
 * Hostile input to its readers: cbd_blkdev_info_validate() checks it.
 */
struct cbd_blkdev_info {
	u8 state;
	u8 res[7];
	__le64 alive_ts;
	__le32 backend_id;
	__le32 host_id;
	__le32 mapped_id;
	__le32 res1;
};

/**
 * struct cbd_blkdev_snap - validated copy of a blkdev slot
 * @state: enum cbd_slot_state
 * @backend_id: backend slot id (if in use)
 * @host_id: host slot id (if in use)
 * @mapped_id: X of /dev/cbdX (if in use)
 */
struct cbd_blkdev_snap {
	u32 state;
	u32 backend_id;
	u32 host_id;
	u32 mapped_id;
};

struct cbd_queue;
struct cbd_cache;

/**
 * struct cbd_blkdev - a blkdev running on this host
 * @blkdev_id: slot index
 * @mapped_id: X of /dev/cbdX
 * @backend_id: backend slot
 * @node: entry in cbdt->blkdevs
 * @lock: protects @open_count and @stopping
 * @open_count: openers of the gendisk
 * @stopping: dev-stop started; no new opens
 * @cbdt: transport
 * @blkdev_info: on-media slot
 * @backend_info: on-media slot of the backend
 * @local_backend: the backend runs on this host: notify it rather than
 *	make it poll; its handlers are looked up by channel each time (see
 *	cbd_handler_notify())
 * @num_queues: blk-mq hardware queues = channels
 * @queues: per-queue state
 * @dev_size: size in sectors (validated, see cbd_backend_info_validate())
 * @cache_segs: cache segments of the backend (validated), 0: no cache
 * @task_wq: completion works
 * @hb_work: heartbeat
 * @tag_set: blk-mq tag set
 * @disk: the gendisk
 * @disk_lock: protects @disk_live
 * @disk_live: @disk and its queue may be used by the cache's callbacks
 *	(from allocation until after del_gendisk())
 * @cbd_cache: blkdev-side cache instance (index, GC), or NULL
 * @cache_req: serves a request through @cbd_cache (cbd_cache_handle_req());
 *	set with it, so that the queue reaches the cache layer above it
 *	without calling up
 * @media: told of memory failures while the blkdev runs: retires the
 *	queues and the cache in the failed segments
 * @ref: held by dev-start until dev-stop, and by the gendisk from add_disk
 *	until its last opener is gone (->free_disk): open/release must find
 *	the struct after dev-stop when a mounted fs was force-stopped
 */
struct cbd_blkdev {
	u32 blkdev_id;
	int mapped_id;
	u32 backend_id;
	struct list_head node;

	struct mutex lock;	/* protects open_count, stopping */
	int open_count;
	bool stopping;

	struct cbd_transport *cbdt;
	struct cbd_blkdev_info *blkdev_info;
	struct cbd_backend_info *backend_info;
	bool local_backend;

	u32 num_queues;
	struct cbd_queue *queues;
	u64 dev_size;
	u32 cache_segs;

	struct workqueue_struct *task_wq;
	struct delayed_work hb_work;

	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	spinlock_t disk_lock;	/* protects disk_live */
	bool disk_live;

	struct cbd_cache *cbd_cache;
	int (*cache_req)(struct cbd_cache *cache, struct cbd_request *cbd_req);
	struct cbdt_media_listener media;
	struct kref ref;
};

/* see cbdt_log(); the blkdev argument is evaluated once */
#define cbd_blkdev_log(level, b, fmt, ...)				\
	({ typeof(b) __b = (b);						\
	   cbdt_log(level, __b->cbdt, "cbd%d: " fmt, __b->mapped_id,	\
		    ##__VA_ARGS__); })

/* queues == 0: use the backend's handlers= value, else 1 */
int cbd_blkdev_start(struct cbd_transport *cbdt, u32 backend_id, u32 queues);
int cbd_blkdev_stop(struct cbd_transport *cbdt, u32 devid, bool force);

/* cbd_blkdev_slot.c: the slot, below the blkdev object */
int cbd_blkdev_clear(struct cbd_transport *cbdt, u32 devid);
int cbd_backend_blkdev_get(struct cbd_transport *cbdt,
			   struct cbd_backend_info *info);
void cbd_backend_blkdev_put(struct cbd_transport *cbdt,
			    struct cbd_backend_info *info);
int cbd_blkdev_info_validate(struct cbd_transport *cbdt, u32 id,
			     struct cbd_blkdev_snap *snap);

/* block major registration (module init/exit) */
int cbd_blkdev_init(void);
void cbd_blkdev_exit(void);

extern const struct device_type cbd_blkdev_type;
extern const struct device_type cbd_blkdevs_type;

#endif /* _CBD_BLKDEV_H */
