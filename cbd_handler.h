/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD handler: the backend side of one channel.  It consumes the submit
 * ring, turns entries into bios on the backing disk (zero-copy over the
 * channel's data pages) and posts completions.
 */
#ifndef _CBD_HANDLER_H
#define _CBD_HANDLER_H

#include <linux/bio.h>

#include "cbd_backend.h"

/**
 * struct cbd_handler_cmd - a validated submit entry, in CPU byte order
 * @req_tid: req_tid of the entry
 * @offset: byte offset on the backing disk
 * @op: enum cbd_op
 * @flags: CBD_SE_FLAGS_*
 * @len: byte length of the I/O
 * @data_off: payload offset in the channel data area
 * @result: 0 or a negative errno, posted in the completion entry
 *
 * The submit ring is shared memory that the blkdev may rewrite at any
 * time: the handler snapshots and checks an entry once and then only uses
 * this copy.
 */
struct cbd_handler_cmd {
	u64 req_tid;
	u64 offset;
	u32 op;
	u32 flags;
	u32 len;
	u32 data_off;
	int result;
};

/**
 * struct cbd_backend_io - a READ or WRITE being served on the backing disk
 * @handler: the handler that issued it
 * @cmd: the entry being served
 * @node: entry in handler->pending_ces while its completion waits for
 *	room in the completion ring
 * @bio: the bio; last, it is allocated as the front_pad of handler->bioset
 */
struct cbd_backend_io {
	struct cbd_handler *handler;
	struct cbd_handler_cmd cmd;
	struct list_head node;
	struct bio bio;
};

/**
 * struct cbd_handler - backend side of a channel
 * @cbdb: backend
 * @channel: the channel
 * @channel_info: its on-media control block
 * @consumer: bit CBD_HANDLER_CONSUMING is held by the context consuming
 *	the submit ring (the work, or a dispatch from a same-host blkdev's
 *	queue_rq()); it protects @se_to_handle, @req_tid_expected,
 *	@takeover_left, @handle_worker_cfg and @last_hit
 * @se_to_handle: next submit entry to consume (bytes, DRAM only)
 * @req_tid_expected: req_tid of that entry if known, else U64_MAX
 * @polling: the blkdev is on another host: poll instead of notify
 * @bioset: bios for backing-disk I/O
 * @handle_work: ring consumer
 * @handle_worker_cfg: adaptive poll budget of @handle_work
 * @hash_node: entry in cbdb->handlers_hash
 * @inflight: bios submitted to the backing disk and not yet ended
 * @compr_head: completion ring producer index (DRAM copy of the only
 *	writer's value; protected by channel.compr_lock)
 * @pending_ces: ended bios whose completion did not fit in the ring
 *	(protected by channel.compr_lock)
 * @last_hit: jiffies when the last entry was consumed (idle polling)
 * @stopping: destroy started, the work must not be queued any more
 * @crashed: fault injection: post no completion any more
 *	(protected by channel.compr_lock)
 * @takeover_left: entries that were already in the submit ring when the
 *	handler was created; a dead predecessor may have completed them
 * @se_wait_since: jiffies since the entry at @se_to_handle is not ready,
 *	0 if it is (protected by @consumer)
 * @stalled: fault injection: consume nothing (cbd_handler_stall())
 * @retired: the channel's memory failed or an entry could not be read:
 *	consume nothing, post no completion (set under channel.compr_lock)
 */
struct cbd_handler {
	struct cbd_backend *cbdb;
	struct cbd_channel channel;
	struct cbd_channel_info *channel_info;

	unsigned long consumer;
	u32 se_to_handle;
	u64 req_tid_expected;
	bool polling;

	struct bio_set bioset;
	struct delayed_work handle_work;
	struct cbd_worker_cfg handle_worker_cfg;
	struct hlist_node hash_node;
	atomic_t inflight;

	u32 compr_head;
	struct list_head pending_ces;
	unsigned long last_hit;
	bool stopping;
	bool crashed;
	u32 takeover_left;
	unsigned long se_wait_since;
	bool stalled;
	bool retired;
};

/* see cbdt_log(); the handler argument is evaluated once */
#define cbd_handler_log(level, h, fmt, ...)				\
	({ typeof(h) __h = (h);						\
	   cbd_backend_log(level, __h->cbdb, "handler%u: " fmt,	\
			   __h->channel.seg_id, ##__VA_ARGS__); })

#define CBD_HANDLER_CONSUMING	0

int cbd_handler_create(struct cbd_backend *cbdb, u32 seg_id);
void cbd_handler_retire(struct cbd_handler *handler, const char *why);
void cbd_handler_destroy(struct cbd_handler *handler);
void cbd_handler_crash(struct cbd_handler *handler);
void cbd_handler_notify(struct cbd_transport *cbdt, u32 seg_id);
int cbd_handler_stall(struct cbd_transport *cbdt, u32 seg_id, bool stall);

#endif /* _CBD_HANDLER_H */
