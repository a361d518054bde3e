/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD queue: the blkdev side of one channel, one per blk-mq hw queue.
 */
#ifndef _CBD_QUEUE_H
#define _CBD_QUEUE_H

#include <linux/blk-mq.h>
#include <linux/kref.h>

#include "cbd_blkdev.h"

enum cbd_queue_state {
	CBD_QUEUE_STATE_NONE	= 0,
	CBD_QUEUE_STATE_RUNNING	= 1,
	CBD_QUEUE_STATE_REMOVING = 2,
	CBD_QUEUE_STATE_FAILED	= 3,	/* retired until dev-stop */
};

/*
 * Default time a request may take before the queue gives up on a live
 * backend (blk-mq timeout, /sys/block/cbdX/queue/io_timeout in ms).
 * Longer than the heartbeat give-up time (CBD_BACKEND_GIVE_UP_MS), so
 * that a request in flight when its backend dies waits for a re-attach.
 */
#define CBD_QUEUE_IO_TIMEOUT		(60 * HZ)
/*
 * Expiries of io_timeout a request may see while other requests of its
 * queue keep completing (a deep queue on a slow backend) before it fails
 * all the same.
 */
#define CBD_QUEUE_TIMEOUT_ROUNDS	4
/* Rounds a completion may fail its CRC check before the channel fails. */
#define CBD_QUEUE_BAD_BUDGET		8

struct cbd_request;

/**
 * struct cbd_queue - blkdev side of a channel
 * @cbd_blkdev: the blkdev
 * @index: hw queue index
 * @state: enum cbd_queue_state (atomic: read from the I/O path)
 * @channel: the channel
 * @channel_info: its on-media control block
 * @req_tid: last req_tid used (protected by channel.submr_lock)
 * @submr_head: submit ring producer index (protected by channel.submr_lock)
 * @submr_tail: submit ring release index (protected by channel.submr_lock)
 * @compr_tail: completion ring consumer index (protected by
 *	@compr_tail_lock)
 *
 * The blkdev owns the ring indices above; it keeps them in DRAM and only
 * writes them to the channel, so nobody else can make it index out of
 * the rings.
 * @compr_tail_lock: serialises the completion ring consumers: the work
 *	and the doorbell of a handler on this host (any context: irq-safe)
 * @bad_rounds: reaping rounds in a row that stopped at a completion
 *	failing its CRC (protected by @compr_tail_lock)
 * @progress: jiffies when a request of this queue last ended (written
 *	without a lock, read by the timeout handler)
 * @inflight_reqs: requests submitted to the backend
 * @inflight_reqs_lock: protects @inflight_reqs (irq-safe)
 * @released_extents: per data page, length of a completed extent starting
 *	there, to release the data ring out of order
 * @complete_work: completion ring poller
 * @complete_worker_cfg: adaptive poll budget of @complete_work
 */
struct cbd_queue {
	struct cbd_blkdev *cbd_blkdev;
	u32 index;
	atomic_t state;

	struct cbd_channel channel;
	struct cbd_channel_info *channel_info;
	u64 req_tid;
	u32 submr_head;
	u32 submr_tail;
	u32 compr_tail;
	spinlock_t compr_tail_lock;	/* protects compr_tail, bad_rounds */
	u32 bad_rounds;
	unsigned long progress;

	struct list_head inflight_reqs;
	spinlock_t inflight_reqs_lock;	/* protects inflight_reqs */
	u32 *released_extents;

	struct delayed_work complete_work;
	struct cbd_worker_cfg complete_worker_cfg;
};

typedef void (*cbd_req_end_fn)(struct cbd_request *cbd_req, void *priv_data);

/**
 * struct cbd_request - a request or a child request of the cache
 * @cbdq: queue
 * @se: submit entry while submitted
 * @req: blk-mq request, NULL for a child request
 * @off: byte offset on the device
 * @bio: data bio
 * @bio_off: offset of this request's data in @bio
 * @lock: protects copies into @bio (irq-safe)
 * @op: enum cbd_op
 * @flags: CBD_SE_FLAGS_* to put in the se (FUA)
 * @req_tid: sequence number in the channel
 * @inflight_reqs_node: entry in cbdq->inflight_reqs
 * @data_off: payload offset in the data ring
 * @data_len: payload length
 * @ref: completion reference
 * @ret: first error seen
 * @parent: parent request of a cache child request
 * @timeouts: io_timeout expiries seen (only the timeout handler, which
 *	blk-mq never runs twice at once for one request, touches it)
 * @priv_data: argument of @end_req
 * @end_req: called when the last reference goes
 */
struct cbd_request {
	struct cbd_queue *cbdq;
	struct cbd_se *se;
	struct request *req;
	u64 off;
	struct bio *bio;
	u32 bio_off;
	spinlock_t lock;	/* protects copies into bio */
	enum cbd_op op;
	u32 flags;
	u64 req_tid;
	struct list_head inflight_reqs_node;
	u32 data_off;
	u32 data_len;
	struct kref ref;
	int ret;
	struct cbd_request *parent;
	u8 timeouts;
	void *priv_data;
	cbd_req_end_fn end_req;
};

/* see cbdt_log(); the queue argument is evaluated once */
#define cbd_queue_log(level, q, fmt, ...)				\
	({ typeof(q) __q = (q);						\
	   cbd_blkdev_log(level, __q->cbd_blkdev, "queue%u: " fmt,	\
			  __q->channel.seg_id, ##__VA_ARGS__); })

int cbd_queue_start(struct cbd_queue *cbdq);
void cbd_queue_stop(struct cbd_queue *cbdq);
int cbd_queue_req_to_backend(struct cbd_request *cbd_req);
void cbd_queue_advance(struct cbd_queue *cbdq, struct cbd_request *cbd_req);
void cbd_req_get(struct cbd_request *cbd_req);
void cbd_req_put(struct cbd_request *cbd_req, int ret);
void cbd_queue_kill(struct cbd_queue *cbdq);
void cbd_queue_fail(struct cbd_queue *cbdq, const char *why);
void cbd_queue_notify(struct cbd_transport *cbdt, u32 seg_id);

extern const struct blk_mq_ops cbd_mq_ops;

#endif /* _CBD_QUEUE_H */
