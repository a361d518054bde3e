// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD queue: the blkdev side of a channel, one per blk-mq hw queue.
 *
 * queue_rq() turns a request into a submit entry (the payload of a WRITE
 * is copied into the channel's data ring), and the completion work polls
 * the completion ring, copies READ data back and ends the requests.
 *
 * Data extents and submit entries are released out of order: a completed
 * extent is recorded in released_extents and the data tail moves over
 * contiguous released extents; submr_tail moves over entries marked DONE.
 *
 * The entries between submr_tail and submr_head are kept below the number
 * of completion entries, so that the handler's completion ring can never
 * overflow: the handler never has to wait for room to complete.
 *
 * If the backend's heartbeat stops, requests in flight and new ones fail
 * with EIO; a backend re-attached in time simply serves the entries that
 * were not completed, and I/O continues.
 *
 * Fencing: a queue that gives up on requests the backend may still be
 * serving (its heartbeat stopped for good, a request timed out on a live
 * backend, the backend wrote a corrupt completion) is retired
 * (CBD_QUEUE_STATE_FAILED): its requests in flight and every later one
 * end with EIO, and nothing is submitted on the channel again until
 * dev-stop.  So the data ring and submit entries of a failed request are
 * never reused while the handler may still hold bios on those pages; the
 * segment itself is freed only once the handler let go of it too (the
 * segment reference count).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>

#include "cbd_handler.h"
#include "cbd_heartbeat.h"
#include "cbd_media.h"
#include "cbd_queue.h"

/* How often a queue with a local backend checks that it is alive. */
#define CBD_QUEUE_LIVENESS_INTERVAL	HZ
/*
 * Completions reaped per round under compr_tail_lock (irqs off); the
 * doorbell leaves what is left over to the work.
 */
#define CBD_QUEUE_REAP_BUDGET		16

static u32 cbd_queue_submr_used(struct cbd_queue *cbdq)
{
	u32 size = cbdq->channel.submr_size;

	return (cbdq->submr_head + size - cbdq->submr_tail) % size;
}

static bool cbd_queue_submr_full(struct cbd_queue *cbdq)
{
	u32 used = cbd_queue_submr_used(cbdq);

	lockdep_assert_held(&cbdq->channel.submr_lock);

	/* at most CBDC_COMPR_ENTRIES - 1 completions fit in the ring */
	if (used / sizeof(struct cbd_se) >= CBDC_COMPR_ENTRIES - 1)
		return true;

	/* CBDC_SUBMR_RESERVED stays free so that full != empty */
	return cbdq->channel.submr_size - used <
	       CBDC_SUBMR_RESERVED + sizeof(struct cbd_se);
}

static bool cbd_queue_data_space_enough(struct cbd_queue *cbdq, u32 data_len)
{
	struct cbd_channel *channel = &cbdq->channel;
	u32 available = channel->data_size;

	lockdep_assert_held(&channel->submr_lock);

	if (channel->data_head > channel->data_tail)
		available = channel->data_size - channel->data_head +
			    channel->data_tail;
	else if (channel->data_head < channel->data_tail)
		available = channel->data_tail - channel->data_head;

	/* CBDC_DATA_RESERVED stays free so that full != empty */
	return available >= round_up(data_len, CBDC_DATA_ALIGN) +
			    CBDC_DATA_RESERVED;
}

static void cbd_queue_se_init(struct cbd_queue *cbdq, struct cbd_request *cbd_req)
{
	struct cbd_se *se = cbdq->channel.submr + cbdq->submr_head;

	memset(se, 0, sizeof(*se));
	WRITE_ONCE(se->op, cpu_to_le32(cbd_req->op));
	WRITE_ONCE(se->flags, cpu_to_le32(cbd_req->flags));
	WRITE_ONCE(se->req_tid, cpu_to_le64(cbd_req->req_tid));
	WRITE_ONCE(se->offset, cpu_to_le64(cbd_req->off));
	WRITE_ONCE(se->len, cpu_to_le32(cbd_req->data_len));
	WRITE_ONCE(se->data_off, cpu_to_le32(cbd_req->data_off));
	WRITE_ONCE(se->data_len, cpu_to_le32(cbd_req->data_len));
#ifdef CONFIG_CBD_CRC
	if (cbd_req->op == CBD_OP_WRITE) {
		u32 crc;

		/* a media error leaves a crc that the handler refuses */
		cbd_channel_crc(&cbdq->channel, cbd_req->data_off,
				cbd_req->data_len, &crc);
		WRITE_ONCE(se->data_crc, cpu_to_le32(crc));
	}
	WRITE_ONCE(se->se_crc, cpu_to_le32(cbd_se_crc(se)));
#endif
	cbd_req->se = se;
}

/* Allocate the data extent and fill it for a WRITE. */
static void cbd_queue_data_init(struct cbd_queue *cbdq, struct cbd_request *cbd_req)
{
	struct cbd_channel *channel = &cbdq->channel;

	cbd_req->data_off = channel->data_head;
	if (cbd_req->op == CBD_OP_WRITE)
		cbdc_copy_from_bio(channel, cbd_req->data_off, cbd_req->data_len,
				   cbd_req->bio, cbd_req->bio_off);

	channel->data_head = (channel->data_head +
			      round_up(cbd_req->data_len, CBDC_DATA_ALIGN)) %
			     channel->data_size;
}

static int cbd_queue_add_inflight(struct cbd_queue *cbdq,
				  struct cbd_request *cbd_req)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&cbdq->inflight_reqs_lock, flags);
	if (atomic_read(&cbdq->state) != CBD_QUEUE_STATE_RUNNING)
		ret = -EIO;
	else
		list_add_tail(&cbd_req->inflight_reqs_node, &cbdq->inflight_reqs);
	spin_unlock_irqrestore(&cbdq->inflight_reqs_lock, flags);

	return ret;
}

/*
 * After a submission: a local backend's handler is kicked (and may serve
 * the entry right here, see cbd_handler_kick()) and rings our doorbell
 * when it completes, so the completion work only needs to be armed to
 * notice a dead backend; a remote backend is polled at once.
 */
static void cbd_queue_kick(struct cbd_queue *cbdq)
{
	struct cbd_blkdev *cbd_blkdev = cbdq->cbd_blkdev;

	if (!cbd_blkdev->local_backend) {
		queue_delayed_work(cbd_blkdev->task_wq, &cbdq->complete_work, 0);
		return;
	}

	/* submr_head before the handler's consumer bit: see cbd_handler_serve() */
	smp_mb();
	cbd_handler_notify(cbd_blkdev->cbdt, cbdq->channel.seg_id);
	/* no-op when already pending, e.g. for the doorbell */
	queue_delayed_work(cbd_blkdev->task_wq, &cbdq->complete_work,
			   CBD_QUEUE_LIVENESS_INTERVAL);
}

/**
 * cbd_queue_req_to_backend - submit a request through the channel
 * @cbd_req: request (or cache child request) with op, off, data_len, bio
 *
 * On success the request holds one more reference, dropped when its
 * completion arrives (or when the queue fails it).
 *
 * Return: 0, -ENOSPC when the channel is full (retry later), -EIO when
 * the queue is stopping.
 */
int cbd_queue_req_to_backend(struct cbd_request *cbd_req)
{
	struct cbd_queue *cbdq = cbd_req->cbdq;
	struct cbd_channel *channel = &cbdq->channel;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&channel->submr_lock, flags);
	if (cbd_queue_submr_full(cbdq) ||
	    !cbd_queue_data_space_enough(cbdq, cbd_req->data_len)) {
		ret = -ENOSPC;
		goto out_unlock;
	}

	/* in the list before the handler can see it, and complete it */
	ret = cbd_queue_add_inflight(cbdq, cbd_req);
	if (ret)
		goto out_unlock;

	cbd_req_get(cbd_req);
	cbd_req->req_tid = ++cbdq->req_tid;
	if (cbd_req->data_len)
		cbd_queue_data_init(cbdq, cbd_req);
	cbd_queue_se_init(cbdq, cbd_req);

	cbdq->submr_head = cbdc_ring_advance(cbdq->submr_head, sizeof(struct cbd_se),
					     channel->submr_size);
	/*
	 * Release: the entry and its payload before the new head; pairs
	 * with the handler's cbdc_submr_head_acquire().
	 */
	cbdc_set_submr_head_release(cbdq->channel_info, cbdq->submr_head);
out_unlock:
	spin_unlock_irqrestore(&channel->submr_lock, flags);
	if (ret)
		return ret;

	cbd_queue_kick(cbdq);

	return 0;
}

static void cbd_req_end(struct kref *ref)
{
	struct cbd_request *cbd_req = container_of(ref, struct cbd_request, ref);
	struct request *req = cbd_req->req;
	int ret = cbd_req->ret;

	/* may free a cache child request: do not touch it afterwards */
	if (cbd_req->end_req)
		cbd_req->end_req(cbd_req, cbd_req->priv_data);

	if (req) {
		/* the queue is making progress: see cbd_queue_timeout() */
		WRITE_ONCE(cbd_req->cbdq->progress, jiffies);
		blk_mq_end_request(req, errno_to_blk_status(ret));
	}
}

/**
 * cbd_req_get - take a reference on a request
 * @cbd_req: request
 */
void cbd_req_get(struct cbd_request *cbd_req)
{
	kref_get(&cbd_req->ref);
}

/**
 * cbd_req_put - drop a reference, recording a result
 * @cbd_req: request
 * @ret: 0 or a negative errno; the first error is kept
 *
 * The last reference ends the request and drops one of its parent's.
 */
void cbd_req_put(struct cbd_request *cbd_req, int ret)
{
	struct cbd_request *parent = cbd_req->parent;

	if (ret && !cbd_req->ret)
		cbd_req->ret = ret;

	if (kref_put(&cbd_req->ref, cbd_req_end) && parent)
		cbd_req_put(parent, ret);
}

static void cbd_queue_advance_submr(struct cbd_queue *cbdq)
{
	struct cbd_se *se;

	lockdep_assert_held(&cbdq->channel.submr_lock);

	while (cbdq->submr_tail != cbdq->submr_head) {
		se = cbdq->channel.submr + cbdq->submr_tail;
		if (!(le32_to_cpu(READ_ONCE(se->flags)) & CBD_SE_FLAGS_DONE))
			break;
		cbdq->submr_tail = cbdc_ring_advance(cbdq->submr_tail, sizeof(*se),
						     cbdq->channel.submr_size);
	}
	cbdc_set_submr_tail(cbdq->channel_info, cbdq->submr_tail);
}

/* Release an extent; the tail moves over contiguous released extents. */
static void cbd_queue_advance_data(struct cbd_queue *cbdq, u32 data_off,
				   u32 data_len)
{
	struct cbd_channel *channel = &cbdq->channel;

	lockdep_assert_held(&channel->submr_lock);

	cbdq->released_extents[data_off / CBDC_DATA_ALIGN] = data_len;

	while (channel->data_tail != channel->data_head) {
		data_len = cbdq->released_extents[channel->data_tail / CBDC_DATA_ALIGN];
		if (!data_len)
			break;
		cbdq->released_extents[channel->data_tail / CBDC_DATA_ALIGN] = 0;
		channel->data_tail = (channel->data_tail + data_len) %
				     channel->data_size;
	}
}

/**
 * cbd_queue_advance - release the channel resources of a finished request
 * @cbdq: queue
 * @cbd_req: request whose submit entry is DONE
 */
void cbd_queue_advance(struct cbd_queue *cbdq, struct cbd_request *cbd_req)
{
	unsigned long flags;

	/* also from a completion in hard irq context (cbd_queue_notify()) */
	spin_lock_irqsave(&cbdq->channel.submr_lock, flags);
	cbd_queue_advance_submr(cbdq);
	if (cbd_req->data_len)
		cbd_queue_advance_data(cbdq, cbd_req->data_off,
				       round_up(cbd_req->data_len, CBDC_DATA_ALIGN));
	spin_unlock_irqrestore(&cbdq->channel.submr_lock, flags);
}

static void cbd_queue_req_end_req(struct cbd_request *cbd_req, void *priv_data)
{
	cbd_queue_advance(cbd_req->cbdq, cbd_req);
}

static void cbd_req_set_done(struct cbd_request *cbd_req)
{
	struct cbd_se *se = cbd_req->se;

	WRITE_ONCE(se->flags, cpu_to_le32(le32_to_cpu(READ_ONCE(se->flags)) |
					  CBD_SE_FLAGS_DONE));
}

/*
 * Take the request @req_tid off the in-flight list: whoever takes it
 * (completion or cbd_queue_fail_inflight()) ends it.
 */
static struct cbd_request *cbd_queue_take_inflight(struct cbd_queue *cbdq,
						   u64 req_tid)
{
	struct cbd_request *cbd_req;
	unsigned long flags;

	spin_lock_irqsave(&cbdq->inflight_reqs_lock, flags);
	list_for_each_entry(cbd_req, &cbdq->inflight_reqs, inflight_reqs_node) {
		if (cbd_req->req_tid == req_tid) {
			list_del_init(&cbd_req->inflight_reqs_node);
			spin_unlock_irqrestore(&cbdq->inflight_reqs_lock, flags);
			return cbd_req;
		}
	}
	spin_unlock_irqrestore(&cbdq->inflight_reqs_lock, flags);

	return NULL;
}

#ifdef CONFIG_CBD_CRC
static bool cbd_queue_ce_crc_ok(struct cbd_ce *ce)
{
	return le32_to_cpu(ce->ce_crc) == cbd_ce_crc(ce);
}

/* -EBADMSG on a mismatch, -EIO on a media error reading the payload. */
static int cbd_queue_data_crc_check(struct cbd_queue *cbdq, struct cbd_ce *ce,
				    struct cbd_request *cbd_req, int result)
{
	u32 crc;
	int ret;

	if (cbd_req->op != CBD_OP_READ || result)
		return 0;

	ret = cbd_channel_crc(&cbdq->channel, cbd_req->data_off,
			      cbd_req->data_len, &crc);
	if (ret)
		return ret;
	return le32_to_cpu(ce->data_crc) == crc ? 0 : -EBADMSG;
}
#else
static bool cbd_queue_ce_crc_ok(struct cbd_ce *ce)
{
	return true;
}

static int cbd_queue_data_crc_check(struct cbd_queue *cbdq, struct cbd_ce *ce,
				    struct cbd_request *cbd_req, int result)
{
	return 0;
}
#endif

static void cbd_queue_advance_compr(struct cbd_queue *cbdq)
{
	cbdq->compr_tail = cbdc_ring_advance(cbdq->compr_tail, sizeof(struct cbd_ce),
					     cbdq->channel.compr_size);
	/*
	 * Release: our reads of the entry, and the DONE flag of its se,
	 * before the handler may reuse the slot or, taking the channel
	 * over, look for DONE (its cbdc_compr_tail_acquire()).
	 */
	cbdc_set_compr_tail_release(cbdq->channel_info, cbdq->compr_tail);
}

/*
 * The entry of a completed request is DONE and its completion consumed;
 * its data extent stays allocated until the request ends, so READ data is
 * copied out after compr_tail_lock is released (cbd_queue_end_reaped()).
 */
static void cbd_queue_complete_req(struct cbd_queue *cbdq,
				   struct cbd_request *cbd_req, int result)
{
	if (result && !cbd_req->ret)
		cbd_req->ret = result;

	cbd_req_set_done(cbd_req);
	cbd_queue_advance_compr(cbdq);
}

/*
 * A completion failed its CRC (or the payload did): a few rounds may be
 * a completion still being written by a peer; beyond the budget the
 * channel is broken.  -EAGAIN to look again later, -EIO to fail it.
 */
static int cbd_queue_bad_round(struct cbd_queue *cbdq, const char *what,
			       u64 req_tid)
{
	lockdep_assert_held(&cbdq->compr_tail_lock);

	cbd_queue_log(err_ratelimited, cbdq, "ce at %u: %s mismatch, req %llu\n",
		      cbdq->compr_tail, what, req_tid);
	return ++cbdq->bad_rounds > CBD_QUEUE_BAD_BUDGET ? -EIO : -EAGAIN;
}

/*
 * The data of a completed READ failed its CRC: put the request back and
 * look again later, unless the queue is failing its I/O now.
 */
static int cbd_queue_data_crc_bad(struct cbd_queue *cbdq,
				  struct cbd_request *cbd_req,
				  struct list_head *reaped, int ret)
{
	if (ret == -EBADMSG) {
		ret = cbd_queue_bad_round(cbdq, "data crc", cbd_req->req_tid);
	} else {
		/* a media error fails this request only */
		cbd_queue_log(err_ratelimited, cbdq, "media error in the data of req %llu\n",
			      cbd_req->req_tid);
		ret = 0;
	}

	if (ret == -EAGAIN && !cbd_queue_add_inflight(cbdq, cbd_req))
		return -EAGAIN;

	/* EIO for this request; beyond the budget the caller fails the channel */
	cbd_queue_complete_req(cbdq, cbd_req, -EIO);
	list_add_tail(&cbd_req->inflight_reqs_node, reaped);
	return ret ? -EIO : 0;
}

/*
 * Consume one completion; its request goes to @reaped.  Returns 0 if one
 * was consumed, -EAGAIN if there is none or it is not completely written
 * yet, -EIO if the channel is broken (corrupt index or completion): the
 * caller fails it.
 */
static int cbd_queue_complete_one(struct cbd_queue *cbdq,
				  struct list_head *reaped)
{
	/* acquire: the head before the entry, pairs with cbd_handler_post_ce() */
	u32 head = cbdc_compr_head_acquire(cbdq->channel_info);
	struct cbd_request *cbd_req;
	const char *field;
	struct cbd_ce ce;
	int ret;

	lockdep_assert_held(&cbdq->compr_tail_lock);

	if (!cbdc_ring_idx_valid(head, cbdq->channel.compr_size, sizeof(ce))) {
		cbd_queue_log(err_ratelimited, cbdq, "channel_info: invalid compr_head %u\n",
			      head);
		return -EIO;
	}
	if (head == cbdq->compr_tail)
		return -EAGAIN;

	/* one snapshot: the peer may rewrite the entry while we look */
	if (cbdt_copy_record(&ce, cbdq->channel.compr + cbdq->compr_tail, sizeof(ce))) {
		cbd_queue_log(err_ratelimited, cbdq, "ce at %u: media error reading it\n",
			      cbdq->compr_tail);
		return -EIO;
	}

	if (!cbd_queue_ce_crc_ok(&ce))
		return cbd_queue_bad_round(cbdq, "ce crc", le64_to_cpu(ce.req_tid));

	/* racy read: req_tid only grows, and was published before the se */
	if (cbd_ce_validate(&cbdq->channel, &ce, READ_ONCE(cbdq->req_tid), &field)) {
		cbd_queue_log(err_ratelimited, cbdq,
			      "ce at %u: invalid %s (req_tid %llu result %d flags %#x)\n",
			      cbdq->compr_tail, field,
			      le64_to_cpu(ce.req_tid),
			      (int)le32_to_cpu(ce.result),
			      le32_to_cpu(ce.flags));
		return -EIO;
	}

	cbd_req = cbd_queue_take_inflight(cbdq, le64_to_cpu(ce.req_tid));
	if (!cbd_req) {
		/* e.g. a completion a dead predecessor posted twice: go on */
		cbd_queue_log(err_ratelimited, cbdq, "unknown req %llu completed\n",
			      le64_to_cpu(ce.req_tid));
		cbd_queue_advance_compr(cbdq);
		return 0;
	}

	ret = cbd_queue_data_crc_check(cbdq, &ce, cbd_req,
				       (int)le32_to_cpu(ce.result));
	if (ret)
		return cbd_queue_data_crc_bad(cbdq, cbd_req, reaped, ret);

	cbdq->bad_rounds = 0;
	cbd_queue_complete_req(cbdq, cbd_req, (int)le32_to_cpu(ce.result));
	list_add_tail(&cbd_req->inflight_reqs_node, reaped);
	return 0;
}

/* Copy the data of a completed READ out of the channel. */
static void cbd_queue_copy_out(struct cbd_queue *cbdq,
			       struct cbd_request *cbd_req)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&cbd_req->lock, flags);
	ret = cbdc_copy_to_bio(&cbdq->channel, cbd_req->data_off,
			       cbd_req->data_len, cbd_req->bio,
			       cbd_req->bio_off);
	spin_unlock_irqrestore(&cbd_req->lock, flags);
	if (ret) {
		cbd_queue_log(err_ratelimited, cbdq,
			      "media error in the data of req %llu, failing it\n",
			      cbd_req->req_tid);
		cbd_req->ret = -EIO;
	}
}

/* End reaped requests, with no lock held: their end_req may take any. */
static void cbd_queue_end_reaped(struct cbd_queue *cbdq, struct list_head *reaped)
{
	struct cbd_request *cbd_req, *tmp;

	list_for_each_entry_safe(cbd_req, tmp, reaped, inflight_reqs_node) {
		list_del_init(&cbd_req->inflight_reqs_node);
		if (cbd_req->op == CBD_OP_READ && !cbd_req->ret)
			cbd_queue_copy_out(cbdq, cbd_req);
		cbd_req_put(cbd_req, cbd_req->ret);
	}
}

/*
 * Reap up to @budget completions.  Called by the completion work and,
 * without a cache, by the doorbell in the handler's context (bio end_io:
 * any context, hard irq included).  Returns how many were consumed.
 */
static int cbd_queue_reap(struct cbd_queue *cbdq, int budget)
{
	unsigned long flags;
	LIST_HEAD(reaped);
	int n = 0, ret = 0;

	/* a retired channel is not looked at any more */
	if (atomic_read(&cbdq->state) == CBD_QUEUE_STATE_FAILED)
		return 0;

	spin_lock_irqsave(&cbdq->compr_tail_lock, flags);
	while (n < budget && !(ret = cbd_queue_complete_one(cbdq, &reaped)))
		n++;
	spin_unlock_irqrestore(&cbdq->compr_tail_lock, flags);

	cbd_queue_end_reaped(cbdq, &reaped);
	if (ret == -EIO)
		cbd_queue_fail(cbdq, "corrupt completion ring");

	return n;
}

/* Fail every request in flight: the channel is retired, or we stop. */
static void cbd_queue_fail_inflight(struct cbd_queue *cbdq)
{
	struct cbd_request *cbd_req, *tmp;
	unsigned long flags;
	LIST_HEAD(reqs);

	spin_lock_irqsave(&cbdq->inflight_reqs_lock, flags);
	list_splice_init(&cbdq->inflight_reqs, &reqs);
	spin_unlock_irqrestore(&cbdq->inflight_reqs_lock, flags);

	list_for_each_entry_safe(cbd_req, tmp, &reqs, inflight_reqs_node) {
		list_del_init(&cbd_req->inflight_reqs_node);
		/* DONE: a backend attaching later must not serve it */
		cbd_req_set_done(cbd_req);
		cbd_req_put(cbd_req, -EIO);
	}
}

/* Running -> @state, under the lock cbd_queue_add_inflight() checks it. */
static bool cbd_queue_leave_running(struct cbd_queue *cbdq, int state)
{
	unsigned long flags;
	bool ret = false;

	spin_lock_irqsave(&cbdq->inflight_reqs_lock, flags);
	if (atomic_read(&cbdq->state) == CBD_QUEUE_STATE_RUNNING) {
		atomic_set(&cbdq->state, state);
		ret = true;
	}
	spin_unlock_irqrestore(&cbdq->inflight_reqs_lock, flags);

	return ret;
}

/**
 * cbd_queue_fail - retire the channel of a queue
 * @cbdq: queue
 * @why: for the (single) log line
 *
 * See the top of this file: from now on nothing is submitted on the
 * channel, its requests in flight and all later ones get EIO, and the
 * ring is not looked at any more.  Any context but hard irq with a cache
 * (its end_req).
 */
void cbd_queue_fail(struct cbd_queue *cbdq, const char *why)
{
	if (cbd_queue_leave_running(cbdq, CBD_QUEUE_STATE_FAILED))
		cbd_queue_log(err, cbdq,
			      "%s: channel retired, its I/O fails with EIO until dev-stop\n",
			      why);
	cbd_queue_fail_inflight(cbdq);
}

static bool cbd_queue_has_inflight(struct cbd_queue *cbdq)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&cbdq->inflight_reqs_lock, flags);
	ret = !list_empty(&cbdq->inflight_reqs);
	spin_unlock_irqrestore(&cbdq->inflight_reqs_lock, flags);

	return ret;
}

static void cbd_queue_complete_work_fn(struct work_struct *work)
{
	struct cbd_queue *cbdq = container_of(to_delayed_work(work),
					      struct cbd_queue, complete_work);
	struct cbd_blkdev *cbd_blkdev = cbdq->cbd_blkdev;

	bool local = cbd_blkdev->local_backend;

again:
	if (cbd_queue_reap(cbdq, CBD_QUEUE_REAP_BUDGET)) {
		cbdwc_hit(&cbdq->complete_worker_cfg);
		cond_resched();
		goto again;
	}
	/* a handler on this host rings the doorbell: no need to spin */
	if (!local && cbdwc_need_retry(&cbdq->complete_worker_cfg))
		goto again;
	cbdwc_miss(&cbdq->complete_worker_cfg);

	/* a submission queues the work again: nothing in flight, stop */
	if (!cbd_queue_has_inflight(cbdq))
		return;

	if (cbd_backend_info_is_gone(cbd_blkdev->cbdt,
				     cbd_blkdev->backend_id)) {
		cbd_queue_log(err_ratelimited, cbdq, "backend%u is dead, failing I/O\n",
			      cbd_blkdev->backend_id);
		cbd_queue_fail(cbdq, "backend dead");
		return;
	}

	/*
	 * A remote backend has no doorbell: poll while requests are in
	 * flight.  A local one kicks us (cbd_queue_notify()); look again
	 * now and then only to notice a dead backend.
	 */
	queue_delayed_work(cbd_blkdev->task_wq, &cbdq->complete_work,
			   local ? CBD_QUEUE_LIVENESS_INTERVAL : 0);
}

/*
 * Reap in the doorbell's context.  Not with a cache: its child requests
 * were ended by the completion work when their end_req took locks that
 * are not irq-safe.  cbd_cache_miss_end() is irq-safe now (it queues a
 * work item), but reaping cached blkdevs inline is not tested yet.  False
 * if the work has to do (the rest of) it.
 */
static bool cbd_queue_reap_now(struct cbd_queue *cbdq)
{
	if (cbdq->cbd_blkdev->cbd_cache)
		return false;

	return cbd_queue_reap(cbdq, CBD_QUEUE_REAP_BUDGET) < CBD_QUEUE_REAP_BUDGET;
}

/**
 * cbd_queue_notify - doorbell of a local blkdev queue
 * @cbdt: transport
 * @seg_id: channel segment id
 *
 * Called by a handler on this host after it posted completions on the
 * channel, from any context (bio end_io included): the completions are
 * reaped and their requests ended right here if possible.  Does nothing
 * if no queue of this host uses the channel.
 */
void cbd_queue_notify(struct cbd_transport *cbdt, u32 seg_id)
{
	struct cbd_queue *cbdq;

	/* the queue stops only a grace period after its removal */
	rcu_read_lock();
	cbdq = xa_load(&cbdt->local_queues, seg_id);
	/* mod_: a pending liveness check must not delay the completion */
	if (cbdq && !cbd_queue_reap_now(cbdq))
		mod_delayed_work(cbdq->cbd_blkdev->task_wq, &cbdq->complete_work, 0);
	rcu_read_unlock();
}

/* Same-host queues get a doorbell from their handler. */
static int cbd_queue_doorbell_register(struct cbd_queue *cbdq)
{
	struct cbd_blkdev *cbd_blkdev = cbdq->cbd_blkdev;

	if (!cbd_blkdev->local_backend)
		return 0;

	return xa_insert(&cbd_blkdev->cbdt->local_queues, cbdq->channel.seg_id,
			 cbdq, GFP_KERNEL);
}

static void cbd_queue_doorbell_unregister(struct cbd_queue *cbdq)
{
	struct cbd_blkdev *cbd_blkdev = cbdq->cbd_blkdev;

	if (!cbd_blkdev->local_backend)
		return;

	xa_erase(&cbd_blkdev->cbdt->local_queues, cbdq->channel.seg_id);
	/* no cbd_queue_notify() still sees us: the work can be cancelled */
	synchronize_rcu();
}

static enum cbd_op cbd_req_op(struct request *req, blk_status_t *sts)
{
	*sts = BLK_STS_OK;

	switch (req_op(req)) {
	case REQ_OP_READ:
		return CBD_OP_READ;
	case REQ_OP_WRITE:
		return CBD_OP_WRITE;
	case REQ_OP_FLUSH:
		return CBD_OP_FLUSH;
	default:
		/* discard and write zeroes are not advertised */
		*sts = BLK_STS_NOTSUPP;
		return CBD_OP_READ;
	}
}

static void cbd_req_init(struct cbd_queue *cbdq, struct cbd_request *cbd_req,
			 struct request *req, enum cbd_op op)
{
	memset(cbd_req, 0, sizeof(*cbd_req));
	INIT_LIST_HEAD(&cbd_req->inflight_reqs_node);
	kref_init(&cbd_req->ref);
	spin_lock_init(&cbd_req->lock);

	cbd_req->cbdq = cbdq;
	cbd_req->req = req;
	cbd_req->op = op;
	if (op == CBD_OP_WRITE && (req->cmd_flags & REQ_FUA))
		cbd_req->flags = CBD_SE_FLAGS_FUA;
	if (op != CBD_OP_FLUSH)
		cbd_req->data_len = blk_rq_bytes(req);
	cbd_req->bio = req->bio;
	cbd_req->off = (u64)blk_rq_pos(req) << SECTOR_SHIFT;
	cbd_req->end_req = cbd_queue_req_end_req;
}

/*
 * With a cache every request goes to the cache.  No free cache segment
 * (or no memory) yet: requeue with a delay, GC has been kicked; nothing
 * of the request is in flight then.
 */
static blk_status_t cbd_queue_rq_cache(struct cbd_queue *cbdq,
				       struct cbd_request *cbd_req)
{
	struct cbd_blkdev *cbd_blkdev = cbdq->cbd_blkdev;
	int ret = cbd_blkdev->cache_req(cbd_blkdev->cbd_cache, cbd_req);

	if (ret == -EBUSY || ret == -ENOMEM) {
		blk_mq_requeue_request(cbd_req->req, false);
		blk_mq_delay_kick_requeue_list(cbd_req->req->q,
					       CBD_CACHE_RETRY_MS);
		return BLK_STS_OK;
	}
	if (ret)
		return errno_to_blk_status(ret);

	cbd_req_put(cbd_req, 0);
	return BLK_STS_OK;
}

static blk_status_t cbd_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct cbd_queue *cbdq = hctx->driver_data;
	struct cbd_request *cbd_req = blk_mq_rq_to_pdu(bd->rq);
	blk_status_t sts;
	enum cbd_op op;
	int ret;

	op = cbd_req_op(bd->rq, &sts);
	if (sts)
		return sts;

	if (atomic_read(&cbdq->state) != CBD_QUEUE_STATE_RUNNING) {
		if (atomic_read(&cbdq->state) == CBD_QUEUE_STATE_FAILED)
			cbd_queue_log(err_ratelimited, cbdq,
				      "channel retired, I/O fails until dev-stop\n");
		return BLK_STS_IOERR;
	}

	if (cbd_backend_info_is_gone(cbdq->cbd_blkdev->cbdt,
				     cbdq->cbd_blkdev->backend_id)) {
		cbd_queue_log(err_ratelimited, cbdq, "backend%u is dead\n",
			      cbdq->cbd_blkdev->backend_id);
		return BLK_STS_IOERR;
	}

	cbd_req_init(cbdq, cbd_req, bd->rq, op);
	blk_mq_start_request(bd->rq);

	if (cbdq->cbd_blkdev->cbd_cache)
		return cbd_queue_rq_cache(cbdq, cbd_req);

	ret = cbd_queue_req_to_backend(cbd_req);
	if (ret == -ENOSPC)
		/* a completion on this queue frees space and reruns it */
		return BLK_STS_RESOURCE;
	if (ret)
		return errno_to_blk_status(ret);

	cbd_req_put(cbd_req, 0);
	return BLK_STS_OK;
}

/*
 * A same-host backend's bio end_io ends our requests (cbd_queue_notify()),
 * so our flush_end_io() can run inside the backing disk's, which holds its
 * flush queue's mq_flush_lock: a lock class of our own, as nvme-loop does,
 * keeps lockdep from reporting that nesting as recursive locking.
 */
static struct lock_class_key cbd_hctx_fq_lock_key;

static int cbd_init_hctx(struct blk_mq_hw_ctx *hctx, void *driver_data,
			 unsigned int hctx_idx)
{
	struct cbd_blkdev *cbd_blkdev = driver_data;

	blk_mq_hctx_set_fq_lock_class(hctx, &cbd_hctx_fq_lock_key);
	hctx->driver_data = &cbd_blkdev->queues[hctx_idx];
	return 0;
}

/*
 * A request was not completed within the queue's io_timeout.  If the
 * backend looks dead, the liveness check fails it once the backend is
 * gone, or a re-attached backend serves it: wait on.  A live backend that
 * keeps ending other requests of this queue is slow, not stuck (a deep
 * queue of large requests on a slow medium): wait on, up to
 * CBD_QUEUE_TIMEOUT_ROUNDS expiries.  A live backend that ends nothing
 * for io_timeout, or the last round, is broken: the channel is retired
 * (EIO).  A cache request not in flight on the channel itself ends once
 * its children failed.
 */
static bool cbd_queue_timeout_wait(struct cbd_request *cbd_req,
				   struct request *req)
{
	struct cbd_queue *cbdq = cbd_req->cbdq;
	struct cbd_blkdev *cbd_blkdev = cbdq->cbd_blkdev;

	if (atomic_read(&cbdq->state) != CBD_QUEUE_STATE_RUNNING)
		return false;
	if (!cbd_backend_info_is_alive(cbd_blkdev->cbdt, cbd_blkdev->backend_id))
		return true;
	if (++cbd_req->timeouts >= CBD_QUEUE_TIMEOUT_ROUNDS)
		return false;
	return time_before(jiffies, READ_ONCE(cbdq->progress) + req->timeout);
}

static enum blk_eh_timer_return cbd_queue_timeout(struct request *req)
{
	struct cbd_request *cbd_req = blk_mq_rq_to_pdu(req);
	struct cbd_queue *cbdq = cbd_req->cbdq;

	if (cbd_queue_timeout_wait(cbd_req, req))
		return BLK_EH_RESET_TIMER;

	if (atomic_read(&cbdq->state) == CBD_QUEUE_STATE_RUNNING)
		cbd_queue_log(err, cbdq,
			      "req %llu not completed by live backend%u within %u ms (x%u)\n",
			      cbd_req->req_tid, cbdq->cbd_blkdev->backend_id,
			      jiffies_to_msecs(req->timeout), cbd_req->timeouts);
	cbd_queue_fail(cbdq, "I/O timeout");

	return blk_mq_rq_state(req) == MQ_RQ_IN_FLIGHT ? BLK_EH_RESET_TIMER :
							 BLK_EH_DONE;
}

const struct blk_mq_ops cbd_mq_ops = {
	.queue_rq	= cbd_queue_rq,
	.timeout	= cbd_queue_timeout,
	.init_hctx	= cbd_init_hctx,
};

static void cbd_queue_channel_init(struct cbd_queue *cbdq, u32 channel_id)
{
	struct cbd_blkdev *cbd_blkdev = cbdq->cbd_blkdev;
	struct cbd_channel_info *info;

	cbd_channel_init(&cbdq->channel, cbd_blkdev->cbdt, channel_id);
	info = cbdq->channel.channel_info;
	cbdq->channel_info = info;

	cbdq->channel.data_head = 0;
	cbdq->channel.data_tail = 0;
	cbdq->submr_head = 0;
	cbdq->submr_tail = 0;
	cbdq->compr_tail = 0;
	cbdc_set_submr_head(info, 0);
	cbdc_set_submr_tail(info, 0);
	cbdc_set_compr_head(info, 0);
	cbdc_set_compr_tail(info, 0);

	info->backend_id = cpu_to_le32(cbd_blkdev->backend_id);
	info->blkdev_id = cpu_to_le32(cbd_blkdev->blkdev_id);
	/* a backend on another host cannot be notified: it polls */
	info->polling = cpu_to_le32(cbd_blkdev->local_backend ? 0 : 1);
	WRITE_ONCE(info->blkdev_state, CBDC_BLKDEV_STATE_RUNNING);
	cbdt_flush(cbd_blkdev->cbdt, info, sizeof(*info));
}

static void cbd_queue_channel_release(struct cbd_queue *cbdq)
{
	struct cbd_channel_info *info = cbdq->channel_info;

	/* the backend sees this and destroys its handler */
	WRITE_ONCE(info->blkdev_state, CBDC_BLKDEV_STATE_NONE);
	cbdt_flush(cbdq->cbd_blkdev->cbdt, &info->blkdev_state,
		   sizeof(info->blkdev_state));
	cbd_channel_exit(&cbdq->channel);
}

/**
 * cbd_queue_start - set up a queue on a fresh channel
 * @cbdq: queue with cbd_blkdev and index set
 *
 * Return: 0, -ENOMEM or -ENOENT (no free segment).
 */
int cbd_queue_start(struct cbd_queue *cbdq)
{
	struct cbd_transport *cbdt = cbdq->cbd_blkdev->cbdt;
	u32 channel_id;
	int ret;

	INIT_LIST_HEAD(&cbdq->inflight_reqs);
	spin_lock_init(&cbdq->inflight_reqs_lock);
	spin_lock_init(&cbdq->compr_tail_lock);
	cbdq->progress = jiffies;
	INIT_DELAYED_WORK(&cbdq->complete_work, cbd_queue_complete_work_fn);
	cbdwc_init(&cbdq->complete_worker_cfg);
	cbdq->req_tid = 0;
	cbdq->bad_rounds = 0;

	cbdq->released_extents = kcalloc(CBDC_DATA_SIZE / CBDC_DATA_ALIGN,
					 sizeof(u32), GFP_KERNEL);
	if (!cbdq->released_extents)
		return -ENOMEM;

	ret = cbd_channel_claim_id(cbdt, &channel_id);
	if (ret) {
		cbd_blkdev_log(err, cbdq->cbd_blkdev, "no free segment for queue %u\n",
			       cbdq->index);
		goto err_free_extents;
	}

	cbd_queue_channel_init(cbdq, channel_id);

	ret = cbd_queue_doorbell_register(cbdq);
	if (ret)
		goto err_release_channel;

	atomic_set(&cbdq->state, CBD_QUEUE_STATE_RUNNING);

	return 0;

err_release_channel:
	cbd_queue_channel_release(cbdq);
err_free_extents:
	kfree(cbdq->released_extents);
	cbdq->released_extents = NULL;
	return ret;
}

/**
 * cbd_queue_kill - fail the requests in flight and all later ones
 * @cbdq: queue
 *
 * For a forced stop.  The caller has quiesced the request queue, so no
 * queue_rq() runs concurrently.  A retired queue stays retired.
 */
void cbd_queue_kill(struct cbd_queue *cbdq)
{
	int state = atomic_read(&cbdq->state);

	if (state != CBD_QUEUE_STATE_RUNNING && state != CBD_QUEUE_STATE_FAILED)
		return;

	cbd_queue_leave_running(cbdq, CBD_QUEUE_STATE_REMOVING);
	cancel_delayed_work_sync(&cbdq->complete_work);
	cbd_queue_fail_inflight(cbdq);
}

/**
 * cbd_queue_stop - release the channel of a queue
 * @cbdq: queue, started or killed; the disk is gone
 */
void cbd_queue_stop(struct cbd_queue *cbdq)
{
	if (atomic_read(&cbdq->state) == CBD_QUEUE_STATE_NONE)
		return;

	cbd_queue_doorbell_unregister(cbdq);
	cbd_queue_kill(cbdq);
	/* a doorbell rung after an earlier kill may have queued it again */
	cancel_delayed_work_sync(&cbdq->complete_work);
	atomic_set(&cbdq->state, CBD_QUEUE_STATE_NONE);
	cbd_queue_channel_release(cbdq);

	kfree(cbdq->released_extents);
	cbdq->released_extents = NULL;
}
