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
 * struct cbd_handler - backend side of a channel
 * @cbdb: backend
 * @channel: the channel
 * @channel_info: its on-media control block
 * @se_to_handle: next submit entry to consume (bytes, DRAM only)
 * @req_tid_expected: req_tid of that entry if known, else U64_MAX
 * @polling: the blkdev is on another host: poll instead of notify
 * @bioset: bios for backing-disk I/O
 * @handle_work: ring consumer
 * @handle_worker_cfg: adaptive poll budget of @handle_work
 * @hash_node: entry in cbdb->handlers_hash
 * @inflight: entries dispatched and not yet completed
 */
struct cbd_handler {
	struct cbd_backend *cbdb;
	struct cbd_channel channel;
	struct cbd_channel_info *channel_info;

	u32 se_to_handle;
	u64 req_tid_expected;
	bool polling;

	struct bio_set bioset;
	struct delayed_work handle_work;
	struct cbd_worker_cfg handle_worker_cfg;
	struct hlist_node hash_node;
	atomic_t inflight;
};

#define cbd_handler_err(h, fmt, ...)					\
	cbdb_err((h)->cbdb, "handler%u: " fmt, (h)->channel.seg_id, ##__VA_ARGS__)
#define cbd_handler_debug(h, fmt, ...)					\
	cbdb_debug((h)->cbdb, "handler%u: " fmt, (h)->channel.seg_id, ##__VA_ARGS__)

int cbd_handler_create(struct cbd_backend *cbdb, u32 seg_id);
void cbd_handler_destroy(struct cbd_handler *handler);
void cbd_handler_notify(struct cbd_handler *handler);

#endif /* _CBD_HANDLER_H */
