// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD handler: the backend side of one channel.
 *
 * The handler consumes the submit ring of its channel in order, turns
 * READ and WRITE entries into bios on the backing disk over the channel's
 * data pages (zero-copy), FLUSH entries into empty preflush bios, and
 * posts one completion entry per submit entry from the bio's end_io.
 *
 * A remote blkdev's channel is polled by the work.  For a blkdev on this
 * host (the doorbell case) the submitter itself usually consumes the ring
 * from its queue_rq() (cbd_handler_kick()), and the end_io reaps the
 * blkdev's completion ring (cbd_queue_notify()): on the same host a
 * request takes no hop through a work item, while its entries still go
 * through both rings, so that takeover, crash injection and the cache's
 * child requests work as they do across hosts.
 *
 * Everything in the channel is written by the blkdev, possibly on another
 * host, so every entry is snapshotted and validated before use: an entry
 * that is not plausible is completed with -EIO.
 *
 * The completion ring never overflows: a completion that does not fit is
 * kept on @pending_ces and posted by the work once the blkdev consumed
 * older ones.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/srcu.h>

#include "cbd_fault.h"
#include "cbd_handler.h"
#include "cbd_media.h"
#include "cbd_queue.h"

#define CBD_HANDLER_BIO_POOL_SIZE	256

/*
 * Protects the handlers in cbdt->local_handlers: a dispatch from a
 * blkdev's queue_rq() submits bios, which may not be done under
 * rcu_read_lock().
 */
DEFINE_STATIC_SRCU(cbd_handlers_srcu);
/* a polled channel without entries for this long is polled lazily */
#define CBD_HANDLER_IDLE_MS		10

/*
 * An entry that is not ready (req_tid not the expected one, a CRC
 * mismatch) is waited for this long, on our own clock, then completed
 * with -EIO: one bad entry never stalls the channel for good.
 */
#define CBD_HANDLER_SE_WAIT		HZ

/*
 * Post the completion of @cmd at compr_head.  Returns false, posting
 * nothing, if the ring is full (one entry is always left free) or if the
 * blkdev's compr_tail is corrupt.
 */
static bool cbd_handler_post_ce(struct cbd_handler *handler,
				struct cbd_handler_cmd *cmd)
{
	struct cbd_channel *channel = &handler->channel;
	struct cbd_ce *ce;
	u32 tail, next;

	lockdep_assert_held(&channel->compr_lock);

	/* retired: drop the completion, the ring is not written any more */
	if (handler->retired)
		return true;

	/* acquire: the blkdev's reads of a slot before we reuse it */
	tail = cbdc_compr_tail_acquire(handler->channel_info);

	if (!cbdc_ring_idx_valid(tail, channel->compr_size, sizeof(*ce))) {
		cbd_handler_log(err_ratelimited, handler, "invalid compr_tail %u\n", tail);
		return false;
	}

	next = cbdc_ring_advance(handler->compr_head, sizeof(*ce),
				 channel->compr_size);
	if (next == tail)
		return false;

	ce = channel->compr + handler->compr_head;
	memset(ce, 0, sizeof(*ce));
	ce->req_tid = cpu_to_le64(cmd->req_tid);
	ce->result = cpu_to_le32((u32)cmd->result);
#ifdef CONFIG_CBD_CRC
	if (cmd->op == CBD_OP_READ && !cmd->result) {
		u32 crc;

		if (cbd_channel_crc(channel, cmd->data_off, cmd->len, &crc)) {
			cbd_handler_log(err_ratelimited, handler,
					"req %llu: media error reading the data to checksum, EIO\n",
					cmd->req_tid);
			ce->result = cpu_to_le32((u32)-EIO);
		} else {
			ce->data_crc = cpu_to_le32(crc);
		}
	}
	ce->ce_crc = cpu_to_le32(cbd_ce_crc(ce));
#endif
	/*
	 * Release: the entry (and the READ payload the bio wrote) before the
	 * new head; pairs with the blkdev's cbdc_compr_head_acquire().
	 */
	cbdc_set_compr_head_release(handler->channel_info, next);
	handler->compr_head = next;

	return true;
}

/*
 * After posting completions, outside compr_lock: a blkdev on this host
 * reaps them at once (cbd_queue_notify()), a remote one polls.
 */
static void cbd_handler_ring_doorbell(struct cbd_handler *handler)
{
	if (!handler->polling)
		cbd_queue_notify(handler->channel.cbdt, handler->channel.seg_id);
}

/* Completion of an entry not served by a bio (invalid, unmappable). */
static int cbd_handler_complete_inline(struct cbd_handler *handler,
				       struct cbd_handler_cmd *cmd)
{
	unsigned long flags;
	bool posted = false;

	spin_lock_irqsave(&handler->channel.compr_lock, flags);
	/* keep completions in order behind those waiting for room */
	if (list_empty(&handler->pending_ces))
		posted = cbd_handler_post_ce(handler, cmd);
	spin_unlock_irqrestore(&handler->channel.compr_lock, flags);

	/* -ENOSPC: the work retries this entry once the blkdev made room */
	if (!posted)
		return -ENOSPC;

	cbd_handler_ring_doorbell(handler);
	return 0;
}

/* Post the completions that waited for room; true if some are left. */
static bool cbd_handler_post_pending(struct cbd_handler *handler)
{
	struct cbd_backend_io *io, *tmp;
	LIST_HEAD(posted);
	bool left;

	spin_lock_irq(&handler->channel.compr_lock);
	list_for_each_entry_safe(io, tmp, &handler->pending_ces, node) {
		if (!cbd_handler_post_ce(handler, &io->cmd))
			break;
		list_move_tail(&io->node, &posted);
	}
	left = !list_empty(&handler->pending_ces);
	spin_unlock_irq(&handler->channel.compr_lock);

	if (list_empty(&posted))
		return left;

	list_for_each_entry_safe(io, tmp, &posted, node)
		bio_put(&io->bio);
	cbd_handler_ring_doorbell(handler);

	return left;
}

static void cbd_backend_bio_end(struct bio *bio)
{
	struct cbd_backend_io *io = container_of(bio, struct cbd_backend_io, bio);
	struct cbd_handler *handler = io->handler;
	unsigned long flags;
	bool posted = false;

	io->cmd.result = blk_status_to_errno(bio->bi_status);
	/* fault injection: the backing disk failed the bio */
	if (!io->cmd.result && cbd_should_fail(CBD_FAULT_HANDLER_BIO, io->cmd.len))
		io->cmd.result = -EIO;

	spin_lock_irqsave(&handler->channel.compr_lock, flags);
	/* a crashed handler completes nothing: teardown frees the bio */
	if (!handler->crashed && list_empty(&handler->pending_ces))
		posted = cbd_handler_post_ce(handler, &io->cmd);
	if (!posted) {
		list_add_tail(&io->node, &handler->pending_ces);
		/*
		 * Queued under compr_lock so that destroy, which sets
		 * @stopping under the same lock before cancelling the work,
		 * cannot miss it.
		 */
		if (!handler->stopping)
			queue_delayed_work(handler->cbdb->task_wq,
					   &handler->handle_work, 1);
	}
	spin_unlock_irqrestore(&handler->channel.compr_lock, flags);

	if (posted) {
		bio_put(bio);
		cbd_handler_ring_doorbell(handler);
	}

	/* last access to @handler: destroy may free it once this is zero */
	if (atomic_dec_and_test(&handler->inflight))
		wake_up_var(&handler->inflight);
}

static blk_opf_t cbd_handler_opf(struct cbd_handler_cmd *cmd)
{
	switch (cmd->op) {
	case CBD_OP_READ:
		return REQ_OP_READ;
	case CBD_OP_WRITE:
		/*
		 * Direct I/O on behalf of the blkdev, flagged as such (as loop
		 * does with direct I/O): not throttled as background writeback.
		 */
		return REQ_OP_WRITE | REQ_SYNC | REQ_IDLE |
		       ((cmd->flags & CBD_SE_FLAGS_FUA) ? REQ_FUA : 0);
	default:
		/* CBD_OP_FLUSH, as blkdev_issue_flush() does, but async */
		return REQ_OP_WRITE | REQ_PREFLUSH;
	}
}

/*
 * Issue @cmd on the backing disk; its end_io posts the completion.
 * With @nowait (dispatch from the blkdev's queue_rq(), which may not
 * sleep), the bio comes from the bioset without waiting for it: -ENOMEM
 * then leaves the entry to the work.
 */
static int cbd_handler_submit_bio(struct cbd_handler *handler,
				  struct cbd_handler_cmd *cmd, bool nowait)
{
	gfp_t gfp = nowait ? GFP_NOWAIT | __GFP_NOWARN : GFP_NOIO;
	struct cbd_backend *cbdb = handler->cbdb;
	unsigned short nr_vecs = 0;
	struct cbd_backend_io *io;
	struct bio *bio;

	if (cmd->op != CBD_OP_FLUSH)
		nr_vecs = DIV_ROUND_UP(cmd->len, PAGE_SIZE);

	/* from the bioset's mempool: GFP_NOIO allocations do not fail */
	bio = bio_alloc_bioset(file_bdev(cbdb->bdev_file), nr_vecs,
			       cbd_handler_opf(cmd), gfp, &handler->bioset);
	if (!bio)
		return -ENOMEM;

	io = container_of(bio, struct cbd_backend_io, bio);
	io->handler = handler;
	io->cmd = *cmd;
	INIT_LIST_HEAD(&io->node);
	bio->bi_end_io = cbd_backend_bio_end;

	if (nr_vecs) {
		bio->bi_iter.bi_sector = cmd->offset >> SECTOR_SHIFT;
		if (cbdc_map_pages(&handler->channel, bio, cmd->data_off,
				   cmd->len)) {
			bio_put(bio);
			cbd_handler_log(err_ratelimited, handler, "cannot map data of req %llu\n",
					cmd->req_tid);
			cmd->result = -EIO;
			return cbd_handler_complete_inline(handler, cmd);
		}
	}

	atomic_inc(&handler->inflight);
	submit_bio(bio);

	return 0;
}

/* Nothing read from the submit ring is trusted: see cbd_se_validate(). */
static int cbd_handler_dispatch(struct cbd_handler *handler,
				struct cbd_se *snap, struct cbd_handler_cmd *cmd,
				bool nowait)
{
	u64 disk_bytes = handler->cbdb->dev_size << SECTOR_SHIFT;
	const char *field;

	if (cbd_se_validate(&handler->channel, snap, disk_bytes, &field)) {
		cbd_handler_log(err_ratelimited, handler,
				"se at %u: invalid %s: tid %llu op %u off %llu len %u data %u+%u\n",
				handler->se_to_handle, field,
				cmd->req_tid, cmd->op, cmd->offset,
				cmd->len, cmd->data_off,
				le32_to_cpu(snap->data_len));
		cmd->result = -EIO;
		return cbd_handler_complete_inline(handler, cmd);
	}

	return cbd_handler_submit_bio(handler, cmd, nowait);
}

/*
 * After a dead predecessor, entries it already completed must not be
 * served again: a write served twice could overwrite newer data.  The
 * blkdev sets DONE on an entry before it moves compr_tail past its
 * completion, so reading compr_tail first and DONE second, a completed
 * entry either carries DONE or still has its completion between that
 * compr_tail and compr_head.
 */
static bool cbd_handler_already_completed(struct cbd_handler *handler,
					  struct cbd_se *se, u64 req_tid)
{
	struct cbd_channel *channel = &handler->channel;
	/* acquire: compr_tail before DONE, pairs with cbd_queue_advance_compr() */
	u32 pos = cbdc_compr_tail_acquire(handler->channel_info);
	unsigned long flags;
	bool found = false;
	struct cbd_ce *ce;

	if (!cbdc_ring_idx_valid(pos, channel->compr_size, sizeof(*ce)))
		return false;

	if (le32_to_cpu(READ_ONCE(se->flags)) & CBD_SE_FLAGS_DONE)
		return true;

	spin_lock_irqsave(&channel->compr_lock, flags);
	while (!found && pos != handler->compr_head) {
		ce = channel->compr + pos;
		found = le64_to_cpu(READ_ONCE(ce->req_tid)) == req_tid;
		pos = cbdc_ring_advance(pos, sizeof(*ce), channel->compr_size);
	}
	spin_unlock_irqrestore(&channel->compr_lock, flags);

	return found;
}

#ifdef CONFIG_CBD_CRC
static bool cbd_handler_se_crc_ok(struct cbd_handler *handler,
				  struct cbd_se *se)
{
	u32 crc;

	if (le32_to_cpu(se->se_crc) != cbd_se_crc(se)) {
		cbd_handler_log(err_ratelimited, handler, "se at %u: se_crc mismatch, tid %llu\n",
				handler->se_to_handle,
				le64_to_cpu(se->req_tid));
		return false;
	}
	/* an implausible extent is refused by cbd_se_validate() */
	if (le32_to_cpu(se->op) != CBD_OP_WRITE ||
	    le32_to_cpu(se->data_off) >= handler->channel.data_size ||
	    le32_to_cpu(se->len) > CBDC_IO_MAX)
		return true;
	if (cbd_channel_crc(&handler->channel, le32_to_cpu(se->data_off),
			    le32_to_cpu(se->len), &crc) ||
	    le32_to_cpu(se->data_crc) != crc) {
		cbd_handler_log(err_ratelimited, handler, "se at %u: data_crc mismatch, tid %llu\n",
				handler->se_to_handle,
				le64_to_cpu(se->req_tid));
		return false;
	}
	return true;
}
#else
static bool cbd_handler_se_crc_ok(struct cbd_handler *handler,
				  struct cbd_se *se)
{
	return true;
}
#endif

/*
 * -EAGAIN while @se may not be completely written yet, -EIO once it has
 * not become so within CBD_HANDLER_SE_WAIT: then it is completed with
 * -EIO like an invalid entry.
 */
static int cbd_handler_se_ready(struct cbd_handler *handler, struct cbd_se *se)
{
	u64 req_tid = le64_to_cpu(se->req_tid);

	if ((handler->req_tid_expected == U64_MAX ||
	     req_tid == handler->req_tid_expected) &&
	    cbd_handler_se_crc_ok(handler, se)) {
		handler->se_wait_since = 0;
		return 0;
	}

	if (!handler->se_wait_since) {
		handler->se_wait_since = jiffies ?: 1;
		return -EAGAIN;
	}
	if (time_before(jiffies, handler->se_wait_since + CBD_HANDLER_SE_WAIT))
		return -EAGAIN;

	cbd_handler_log(err_ratelimited, handler,
			"se at %u: req_tid %llu (expected %llu) or crc still bad, failing it\n",
			handler->se_to_handle, req_tid,
			handler->req_tid_expected);
	handler->se_wait_since = 0;
	return -EIO;
}

static void cbd_handler_se_to_cmd(struct cbd_se *se, struct cbd_handler_cmd *cmd)
{
	cmd->req_tid = le64_to_cpu(se->req_tid);
	cmd->offset = le64_to_cpu(se->offset);
	cmd->op = le32_to_cpu(se->op);
	cmd->flags = le32_to_cpu(se->flags);
	cmd->len = le32_to_cpu(se->len);
	cmd->data_off = le32_to_cpu(se->data_off);
	cmd->result = 0;
}

static void cbd_handler_next_se(struct cbd_handler *handler, u64 req_tid_next)
{
	handler->req_tid_expected = req_tid_next;
	/* also read without @consumer, by cbd_handler_has_entry() */
	WRITE_ONCE(handler->se_to_handle,
		   cbdc_ring_advance(handler->se_to_handle, sizeof(struct cbd_se),
				     handler->channel.submr_size));
	if (handler->takeover_left)
		handler->takeover_left--;
}

/*
 * Serve the entry at se_to_handle.  Returns 0 when it was consumed,
 * -ENODATA when there is none, -EAGAIN when it is not completely written
 * yet, -ENOSPC when its completion has to wait for room in the ring and,
 * with @nowait, -ENOMEM when a bio could not be had without sleeping.
 */
static int cbd_handler_handle_one(struct cbd_handler *handler, bool nowait)
{
	struct cbd_channel *channel = &handler->channel;
	struct cbd_handler_cmd cmd;
	struct cbd_se *se, snap;
	u32 head;
	int ret;

	/*
	 * Stalled (fault injection) or retired: as if another context
	 * consumed, so that no caller loops on the entries it still sees.
	 * A retired channel's memory is not read at all.
	 */
	if (READ_ONCE(handler->stalled) || READ_ONCE(handler->retired))
		return -EBUSY;
	/* acquire: the head before the entry, pairs with the blkdev's release */
	head = cbdc_submr_head_acquire(handler->channel_info);
	if (!cbdc_ring_idx_valid(head, channel->submr_size, sizeof(snap))) {
		/* the blkdev's io_timeout fails its requests */
		cbd_handler_log(err_ratelimited, handler, "channel_info: invalid submr_head %u\n",
				head);
		return -EAGAIN;
	}
	if (head == handler->se_to_handle)
		return -ENODATA;

	se = channel->submr + handler->se_to_handle;
	if (cbdt_copy_record(&snap, se, sizeof(snap))) {
		/* no req_tid to complete: the blkdev's io_timeout fails it */
		cbd_handler_retire(handler, "media error reading a submit entry");
		return -EBUSY;
	}
	cbd_handler_se_to_cmd(&snap, &cmd);

	if (handler->takeover_left &&
	    cbd_handler_already_completed(handler, se, cmd.req_tid)) {
		cbd_handler_next_se(handler, U64_MAX);
		return 0;
	}

	ret = cbd_handler_se_ready(handler, &snap);
	if (ret == -EIO) {
		cmd.result = -EIO;
		ret = cbd_handler_complete_inline(handler, &cmd);
		if (ret)
			return ret;
		/* its req_tid may be the bad field: resynchronise on the next */
		cbd_handler_next_se(handler, U64_MAX);
		return 0;
	}
	if (ret)
		return ret;

	ret = cbd_handler_dispatch(handler, &snap, &cmd, nowait);
	if (ret)
		return ret;

	cbd_handler_next_se(handler, cmd.req_tid + 1);
	return 0;
}

/*
 * Consume entries while there are some.  The work polls an empty ring of
 * a remote blkdev for a while, adaptively (cbdwc); a blkdev on this host
 * kicks us for every entry, so there only an entry that is not complete
 * yet is waited for.  A dispatch from queue_rq() (@nowait) only takes
 * what is there.
 */
static int cbd_handler_consume(struct cbd_handler *handler, bool nowait)
{
	struct cbd_worker_cfg *cfg = &handler->handle_worker_cfg;
	int ret;

	for (;;) {
		ret = cbd_handler_handle_one(handler, nowait);
		if (!ret) {
			handler->last_hit = jiffies;
			if (!nowait) {
				cbdwc_hit(cfg);
				cond_resched();
			}
			continue;
		}
		if (nowait)
			return ret;
		if (ret != -EAGAIN && (ret != -ENODATA || !handler->polling))
			break;
		if (!cbdwc_need_retry(cfg))
			break;
	}
	cbdwc_miss(cfg);

	return ret;
}

static bool cbd_handler_has_entry(struct cbd_handler *handler)
{
	return cbdc_submr_head(handler->channel_info) !=
	       READ_ONCE(handler->se_to_handle);
}

/*
 * Serve the submit ring unless another context does: the work and
 * dispatches from a same-host blkdev's queue_rq() (cbd_handler_kick())
 * take @consumer without waiting.  Whoever gives it up looks at the ring
 * once more, so an entry published by a producer that found @consumer
 * taken is not left behind: the producer publishes submr_head before it
 * tries @consumer, the owner lets @consumer go before it reads submr_head
 * again, with a full barrier in between on both sides.
 *
 * Returns -EBUSY if another context consumes, else what
 * cbd_handler_handle_one() returned last.
 */
static int cbd_handler_serve(struct cbd_handler *handler, bool nowait)
{
	int ret;

	do {
		if (test_and_set_bit_lock(CBD_HANDLER_CONSUMING, &handler->consumer))
			return -EBUSY;
		ret = cbd_handler_consume(handler, nowait);
		clear_bit_unlock(CBD_HANDLER_CONSUMING, &handler->consumer);
		/* let go before reading submr_head: pairs with cbd_queue_kick() */
		smp_mb__after_atomic();
		/* racy read of se_to_handle: a stale one only costs a loop */
	} while (ret == -ENODATA && cbd_handler_has_entry(handler));

	return ret;
}

/*
 * A remote blkdev cannot notify us, so its channel is polled: at once
 * while entries keep coming, once a jiffy after CBD_HANDLER_IDLE_MS
 * without any, so that an idle channel does not eat a CPU.  The first
 * request after an idle period waits at most a jiffy longer.
 */
static unsigned long cbd_handler_poll_delay(struct cbd_handler *handler)
{
	unsigned long idle_since = handler->last_hit +
				   msecs_to_jiffies(CBD_HANDLER_IDLE_MS);

	return time_after(jiffies, idle_since) ? 1 : 0;
}

static void cbd_handler_work_fn(struct work_struct *work)
{
	struct cbd_handler *handler = container_of(to_delayed_work(work),
						   struct cbd_handler,
						   handle_work);
	bool waiting;
	int ret;

	waiting = cbd_handler_post_pending(handler);
	ret = cbd_handler_serve(handler, false);

	/*
	 * A remote blkdev cannot notify us: poll.  A full completion ring
	 * frees up when the blkdev consumes completions, which it does not
	 * tell us either: check again shortly.  Otherwise wait for a kick.
	 */
	if (handler->polling)
		queue_delayed_work(handler->cbdb->task_wq, &handler->handle_work,
				   cbd_handler_poll_delay(handler));
	else if (waiting || ret == -ENOSPC || ret == -EAGAIN)
		queue_delayed_work(handler->cbdb->task_wq, &handler->handle_work, 1);
}

/*
 * New entries from a blkdev on this host, whose queue_rq() may sleep
 * (BLK_MQ_F_BLOCKING).  Inside submit_bio() (current->bio_list set) the
 * bios we submit are only queued, and are issued by the submitter once
 * the blkdev's request is issued, as for any stacking driver: serve the
 * ring right here, without a hop to the work, and without waiting for
 * memory (the parked bios could be the ones to free it).  Anywhere else
 * (blk-mq's run work or a plug flush, in the middle of the blkdev's
 * dispatch; the cache's retry work) a nested submit_bio() would add to
 * the plug being flushed: leave it to the work.
 */
static void cbd_handler_kick(struct cbd_handler *handler)
{
	int ret;

	if (!current->bio_list || handler->polling) {
		queue_delayed_work(handler->cbdb->task_wq, &handler->handle_work, 0);
		return;
	}

	ret = cbd_handler_serve(handler, true);
	switch (ret) {
	case -ENODATA:
	case -EBUSY:	/* the owner looks again when it lets go */
		return;
	case -ENOMEM:
		queue_delayed_work(handler->cbdb->task_wq, &handler->handle_work, 0);
		return;
	default:	/* -EAGAIN, -ENOSPC: the work retries shortly */
		queue_delayed_work(handler->cbdb->task_wq, &handler->handle_work, 1);
	}
}

/**
 * cbd_handler_notify - doorbell of a local handler
 * @cbdt: transport
 * @seg_id: channel segment id
 *
 * Called by a blkdev queue on this host after it published submit
 * entries, from its queue_rq() (which may not sleep) or from a work.
 * Does nothing if no handler of this host serves the channel (yet: a new
 * handler serves the backlog when created).
 */
void cbd_handler_notify(struct cbd_transport *cbdt, u32 seg_id)
{
	struct cbd_handler *handler;
	int idx;

	/* the handler is not freed before a grace period after its removal */
	idx = srcu_read_lock(&cbd_handlers_srcu);
	handler = xa_load(&cbdt->local_handlers, seg_id);
	if (handler)
		cbd_handler_kick(handler);
	srcu_read_unlock(&cbd_handlers_srcu, idx);
}

/*
 * Take over the ring state: the blkdev may have submitted before we were
 * created, and a dead predecessor may have completed part of that.
 */
static int cbd_handler_ring_init(struct cbd_handler *handler)
{
	struct cbd_channel_info *info = handler->channel_info;
	struct cbd_channel *channel = &handler->channel;
	u32 submr_tail = cbdc_submr_tail(info);
	u32 submr_head = cbdc_submr_head(info);
	u32 compr_head = cbdc_compr_head(info);

	if (!cbdc_ring_idx_valid(submr_tail, channel->submr_size, sizeof(struct cbd_se)) ||
	    !cbdc_ring_idx_valid(submr_head, channel->submr_size, sizeof(struct cbd_se)) ||
	    !cbdc_ring_idx_valid(compr_head, channel->compr_size, sizeof(struct cbd_ce))) {
		cbd_handler_log(err, handler, "corrupt ring indices %u %u %u\n",
				submr_tail, submr_head, compr_head);
		return -EINVAL;
	}

	handler->se_to_handle = submr_tail;
	handler->compr_head = compr_head;
	handler->req_tid_expected = U64_MAX;
	handler->takeover_left = ((submr_head + channel->submr_size - submr_tail) %
				  channel->submr_size) / sizeof(struct cbd_se);
	handler->polling = le32_to_cpu(READ_ONCE(info->polling)) & 1;

	return 0;
}

static void cbd_handler_set_backend_state(struct cbd_handler *handler, u8 state)
{
	struct cbd_channel_info *info = handler->channel_info;

	WRITE_ONCE(info->backend_state, state);
	cbdt_flush(handler->cbdb->cbdt, &info->backend_state,
		   sizeof(info->backend_state));
}

static int cbd_handler_hash_add(struct cbd_handler *handler)
{
	struct cbd_backend *cbdb = handler->cbdb;
	int ret = 0;

	spin_lock(&cbdb->lock);
	if (cbdb->removing)
		ret = -EBUSY;
	else
		hash_add(cbdb->handlers_hash, &handler->hash_node,
			 handler->channel.seg_id);
	spin_unlock(&cbdb->lock);

	return ret;
}

static void cbd_handler_hash_del(struct cbd_handler *handler)
{
	spin_lock(&handler->cbdb->lock);
	hash_del(&handler->hash_node);
	spin_unlock(&handler->cbdb->lock);
}

/* A blkdev on this host finds us by channel id (cbd_handler_notify()). */
static int cbd_handler_doorbell_register(struct cbd_handler *handler)
{
	return xa_insert(&handler->cbdb->cbdt->local_handlers,
			 handler->channel.seg_id, handler, GFP_KERNEL);
}

static void cbd_handler_doorbell_unregister(struct cbd_handler *handler)
{
	xa_erase(&handler->cbdb->cbdt->local_handlers, handler->channel.seg_id);
	/* no cbd_handler_notify() still sees us: no dispatch, no kick */
	synchronize_srcu(&cbd_handlers_srcu);
}

/**
 * cbd_handler_create - start serving a channel
 * @cbdb: backend
 * @seg_id: channel segment id, checked against the segment count
 *
 * Return: 0, or a negative errno (-EBUSY while the backend is stopping).
 */
int cbd_handler_create(struct cbd_backend *cbdb, u32 seg_id)
{
	struct cbd_handler *handler;
	int ret;

	handler = kzalloc(sizeof(*handler), GFP_KERNEL);
	if (!handler)
		return -ENOMEM;

	handler->cbdb = cbdb;
	handler->last_hit = jiffies;
	atomic_set(&handler->inflight, 0);
	INIT_LIST_HEAD(&handler->pending_ces);
	INIT_DELAYED_WORK(&handler->handle_work, cbd_handler_work_fn);
	cbdwc_init(&handler->handle_worker_cfg);

	ret = bioset_init(&handler->bioset, CBD_HANDLER_BIO_POOL_SIZE,
			  offsetof(struct cbd_backend_io, bio), BIOSET_NEED_BVECS);
	if (ret)
		goto err_free_handler;

	cbd_channel_init(&handler->channel, cbdb->cbdt, seg_id);
	handler->channel_info = handler->channel.channel_info;

	ret = cbd_handler_ring_init(handler);
	if (ret)
		goto err_exit_channel;

	ret = cbd_handler_hash_add(handler);
	if (ret)
		goto err_exit_channel;

	ret = cbd_handler_doorbell_register(handler);
	if (ret)
		goto err_hash_del;

	cbd_handler_set_backend_state(handler, CBDC_BACKEND_STATE_RUNNING);
	queue_delayed_work(cbdb->task_wq, &handler->handle_work, 0);

	return 0;

err_hash_del:
	cbd_handler_hash_del(handler);
err_exit_channel:
	cbd_channel_exit(&handler->channel);
	bioset_exit(&handler->bioset);
err_free_handler:
	kfree(handler);
	return ret;
}

/**
 * cbd_handler_retire - stop touching the channel of a handler
 * @handler: handler
 * @why: for the (single) log line
 *
 * For a channel whose memory failed: nothing more is consumed from its
 * submit ring and no completion is posted; bios in flight end normally
 * and their completions are dropped.  The blkdev's io_timeout fails the
 * requests, and its dev-stop ends the channel.  Any context.
 */
void cbd_handler_retire(struct cbd_handler *handler, const char *why)
{
	unsigned long flags;
	bool was;

	spin_lock_irqsave(&handler->channel.compr_lock, flags);
	was = handler->retired;
	WRITE_ONCE(handler->retired, true);
	spin_unlock_irqrestore(&handler->channel.compr_lock, flags);

	if (!was)
		cbd_handler_log(err, handler, "%s: channel retired, no entry is served any more\n",
				why);
}

static void cbd_handler_teardown(struct cbd_handler *handler, bool crash)
{
	struct cbd_backend_io *io, *tmp;

	cbd_handler_doorbell_unregister(handler);
	cbd_handler_hash_del(handler);

	spin_lock_irq(&handler->channel.compr_lock);
	handler->stopping = true;
	handler->crashed = crash;
	spin_unlock_irq(&handler->channel.compr_lock);

	cancel_delayed_work_sync(&handler->handle_work);
	wait_var_event(&handler->inflight, !atomic_read(&handler->inflight));

	/* no bio end_io nor work runs any more: the list is ours */
	list_for_each_entry_safe(io, tmp, &handler->pending_ces, node)
		bio_put(&io->bio);

	if (crash) {
		cbd_channel_abandon(&handler->channel);
	} else {
		cbd_handler_set_backend_state(handler, CBDC_BACKEND_STATE_NONE);
		cbd_channel_exit(&handler->channel);
	}
	bioset_exit(&handler->bioset);
	kfree(handler);
}

/**
 * cbd_handler_destroy - stop serving a channel and free the handler
 * @handler: handler
 *
 * Waits for the bios in flight; completions that never found room in the
 * ring are dropped (their blkdev is gone).
 */
void cbd_handler_destroy(struct cbd_handler *handler)
{
	cbd_handler_teardown(handler, false);
}

/**
 * cbd_handler_crash - fault injection: vanish as if the host died
 * @handler: handler
 *
 * Stops serving the channel without a word to the blkdev: completions of
 * bios still in flight are dropped and the channel's shared state is left
 * as it is, so that a backend re-attached later takes the channel over.
 */
void cbd_handler_crash(struct cbd_handler *handler)
{
	cbd_handler_teardown(handler, true);
}

/**
 * cbd_handler_stall - fault injection: a live backend stops serving
 * @cbdt: transport
 * @seg_id: channel served by a handler on this host
 * @stall: true to stop consuming the submit ring, false to go on
 *
 * The backend's heartbeat goes on: its blkdev sees a live peer that does
 * not complete its requests (the io_timeout path).
 *
 * Return: 0, or -ENOENT if no handler of this host serves @seg_id.
 */
int cbd_handler_stall(struct cbd_transport *cbdt, u32 seg_id, bool stall)
{
	struct cbd_handler *handler;
	int idx, ret = -ENOENT;

	idx = srcu_read_lock(&cbd_handlers_srcu);
	handler = xa_load(&cbdt->local_handlers, seg_id);
	if (handler) {
		WRITE_ONCE(handler->stalled, stall);
		cbd_handler_log(info, handler, "%s (fault injection)\n",
				stall ? "stalled" : "serving again");
		if (!stall)
			queue_delayed_work(handler->cbdb->task_wq,
					   &handler->handle_work, 0);
		ret = 0;
	}
	srcu_read_unlock(&cbd_handlers_srcu, idx);

	return ret;
}
