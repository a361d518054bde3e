/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD backend: runs on the host that owns a backing disk and serves the
 * channels of the blkdev attached to it, one handler per channel.
 */
#ifndef _CBD_BACKEND_H
#define _CBD_BACKEND_H

#include <linux/hashtable.h>

#include "cbd_cache.h"
#include "cbd_channel.h"
#include "cbd_media.h"

#define CBDB_BLKDEV_COUNT_MAX		1
#define CBD_BACKENDS_HANDLER_BITS	7

/*
 * Largest backing disk, in 512-byte sectors (16 TiB).  The blkdev-side
 * cache index has one 16-byte tree per 4 MiB of the disk, so this bounds
 * the index at 64 MiB; a larger dev_size in a backend slot is refused as
 * corrupt, and backend-start refuses a larger disk.
 */
#define CBD_DEV_SIZE_MAX		BIT_ULL(35)
/* dev_size is a multiple of this (the blkdev's logical block size) */
#define CBD_DEV_LOGICAL_BLOCK_SIZE	SECTOR_SIZE

/**
 * struct cbd_backend_info - on-media backend slot
 * @state: enum cbd_slot_state
 * @owner_gen: 24-bit little-endian generation (zero in v2).  With @state
 *	it forms the aligned 32-bit owner word that backend-start takes with
 *	one cmpxchg (cbd_backend_owner_claim()): of two hosts re-attaching a
 *	dead backend at once only one wins, and a backend that finds another
 *	generation in its slot stops beating and serving.
 * @host_id: host running the backend
 * @blkdev_count: blkdevs attached (at most CBDB_BLKDEV_COUNT_MAX)
 * @n_handlers: handlers= given at backend-start, 0 if none (padding in v2)
 * @alive_ts: heartbeat value (wall-clock ns, always increasing); observers
 *	only look for change, on their own monotonic clock
 * @dev_size: backing disk size in 512-byte sectors
 * @cache_info: cache description; cache_info.n_segs == 0 means no cache
 * @path: backing device path (NUL-terminated inside the field)
 *
 * Every field is hostile input to its readers: cbd_backend_info_validate()
 * checks it before any decision is taken on it.
 */
struct cbd_backend_info {
	u8 state;
	u8 owner_gen[3];
	__le32 host_id;
	__le32 blkdev_count;
	__le32 n_handlers;
	__le64 alive_ts;
	__le64 dev_size;
	struct cbd_cache_info cache_info;
	char path[CBD_PATH_LEN];
};

/**
 * struct cbd_backend_snap - validated copy of a backend slot
 * @state: enum cbd_slot_state
 * @host_id: host running the backend, < host slots
 * @blkdev_count: at most CBDB_BLKDEV_COUNT_MAX
 * @n_handlers: at most CBD_HANDLERS_MAX
 * @dev_size: sectors, 1 .. CBD_DEV_SIZE_MAX
 * @n_segs: cache segments (0: no cache), at most the transport's segments
 * @seg_id: first cache segment (if @n_segs), a segment of cache type
 * @owner_gen: see struct cbd_backend_info
 *
 * Each value is read once from the slot: a peer changing the slot after
 * the check cannot make its reader use an unchecked value.
 */
struct cbd_backend_snap {
	u8 state;
	u32 host_id;
	u32 blkdev_count;
	u32 n_handlers;
	u64 dev_size;
	u32 n_segs;
	u32 seg_id;
	u32 owner_gen;
};

/* cbd_backend_info_validate() flags */
#define CBD_BI_V_USED		BIT(0)	/* dev_size must be set (slot used once) */
#define CBD_BI_V_CACHE		BIT(1)	/* the cache chain must be in place */

/**
 * struct cbd_backend_start_opts - parsed backend-start options
 * @path: backing device path (NUL-terminated)
 * @backend_id: slot to re-attach to, or U32_MAX for a new backend
 * @cache_segs: cache segments to allocate for a new backend (0: no cache)
 * @handlers: handlers= value, 0 if not given
 */
struct cbd_backend_start_opts {
	const char *path;
	u32 backend_id;
	u32 cache_segs;
	u32 handlers;
};

struct cbd_cache;
struct cbd_handler;

/**
 * struct cbd_backend - a backend running on this host
 * @backend_id: slot index
 * @path: backing device path
 * @cbdt: transport
 * @backend_info: on-media slot
 * @lock: protects @handlers_hash and @removing
 * @removing: backend-stop started; no new handlers
 * @handlers_hash: handlers keyed by channel segment id
 * @node: entry in cbdt->backends
 * @bdev_file: backing disk, opened exclusively
 * @dev_size: backing disk size in sectors
 * @cache_segs: cache segments (validated or given), 0: no cache
 * @task_wq: handler and writeback works
 * @state_work: periodic channel discovery and liveness checks
 * @hb_work: heartbeat
 * @cbd_cache: backend-side cache instance (writeback), or NULL
 * @cache_dev: backendN/cache sysfs directory, registered if @cbd_cache
 * @media: told of memory failures while the backend runs: retires the
 *	handlers and the cache in the failed segments
 * @owner_gen: the generation of the slot's owner word this backend
 *	claimed; a different one on media means another host took it over
 * @evicted: the slot was found taken over: no longer serving anything
 */
struct cbd_backend {
	u32 backend_id;
	char path[CBD_PATH_LEN];
	struct cbd_transport *cbdt;
	struct cbd_backend_info *backend_info;

	spinlock_t lock;	/* protects handlers_hash, removing */
	bool removing;
	DECLARE_HASHTABLE(handlers_hash, CBD_BACKENDS_HANDLER_BITS);
	struct list_head node;

	struct file *bdev_file;
	u64 dev_size;
	u32 cache_segs;

	struct workqueue_struct *task_wq;
	struct delayed_work state_work;
	struct delayed_work hb_work;

	struct cbd_cache *cbd_cache;
	struct cbd_cache_dev *cache_dev;
	struct cbdt_media_listener media;
	u32 owner_gen;
	bool evicted;
};

/* see cbdt_log(); the backend argument is evaluated once */
#define cbd_backend_log(level, b, fmt, ...)				\
	({ typeof(b) __b = (b);						\
	   cbdt_log(level, __b->cbdt, "backend%u: " fmt, __b->backend_id, \
		    ##__VA_ARGS__); })

int cbd_backend_start(struct cbd_transport *cbdt,
		      struct cbd_backend_start_opts *opts);
int cbd_backend_stop(struct cbd_transport *cbdt, u32 backend_id);
int cbd_backend_clear(struct cbd_transport *cbdt, u32 backend_id, bool force);
int cbd_backend_info_validate(struct cbd_transport *cbdt, u32 id,
			      u32 flags, struct cbd_backend_snap *snap);
int cbd_backend_crash(struct cbd_transport *cbdt, u32 backend_id);

/*
 * A blkdev fails its I/O once its backend's heartbeat has been stale for
 * this long: the heartbeat timeout, plus a window in which a new backend
 * can be re-attached (backend-start with backend_id=, refused while the
 * old one still looks alive) and serve the entries in flight.
 */
#define CBD_BACKEND_GIVE_UP_MS		(CBD_HB_TIMEOUT_MS + 15 * 1000)

/* Rescan the channels now instead of at the next state_work period. */
void cbd_backend_kick_state(struct cbd_backend *cbdb);
void cbd_backend_kick(struct cbd_transport *cbdt, u32 backend_id);

static inline bool cbd_backend_cache_on(struct cbd_backend_info *info)
{
	return le32_to_cpu(READ_ONCE(info->cache_info.n_segs)) != 0;
}

extern const struct device_type cbd_backend_type;
extern const struct device_type cbd_backends_type;

#endif /* _CBD_BACKEND_H */
