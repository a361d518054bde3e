// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD handler: the backend side of one channel.
 *
 * The handler consumes the submit ring of its channel in order, turns
 * READ and WRITE entries into bios on the backing disk over the channel's
 * data pages (zero-copy), runs FLUSH entries synchronously and posts one
 * completion entry per submit entry.
 *
 * Everything in the channel is written by the blkdev, possibly on another
 * host, so every entry is snapshotted and validated before use: an entry
 * that is not plausible is completed with -EIO.
 *
 * The completion ring never overflows: a completion that does not fit is
 * kept on @pending_ces and posted by the work once the blkdev consumed
 * older ones.
 */

#include <linux/blkdev.h>

#include "cbd_handler.h"
#include "cbd_queue.h"

#define CBD_HANDLER_BIO_POOL_SIZE	256
/* a polled channel without entries for this long is polled lazily */
#define CBD_HANDLER_IDLE_MS		10

static bool cbd_ring_idx_valid(u32 idx, u32 size, u32 entry_size)
{
	return idx < size && !(idx % entry_size);
}

/*
 * Post the completion of @cmd at compr_head.  Returns false, posting
 * nothing, if the ring is full (one entry is always left free) or if the
 * blkdev's compr_tail is corrupt.
 */
static bool cbd_handler_post_ce(struct cbd_handler *handler,
				struct cbd_handler_cmd *cmd)
{
	struct cbd_channel *channel = &handler->channel;
	u32 tail = cbdc_compr_tail(handler->channel_info);
	u32 next;
	struct cbd_ce *ce;

	lockdep_assert_held(&channel->compr_lock);

	if (!cbd_ring_idx_valid(tail, channel->compr_size, sizeof(*ce))) {
		cbd_handler_err_ratelimited(handler, "invalid compr_tail %u\n", tail);
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
	if (cmd->op == CBD_OP_READ && !cmd->result)
		ce->data_crc = cpu_to_le32(cbd_channel_crc(channel, cmd->data_off,
							   cmd->len));
	ce->ce_crc = cpu_to_le32(cbd_ce_crc(ce));
#endif
	/*
	 * The entry must be visible before the new head; pairs with the
	 * smp_rmb() in the blkdev's completion work.
	 */
	smp_wmb();
	cbdc_set_compr_head(handler->channel_info, next);
	handler->compr_head = next;

	/* a blkdev on this host waits for the doorbell; a remote one polls */
	if (!handler->polling)
		cbd_queue_notify(channel->cbdt, channel->seg_id);

	return true;
}

/* Completion of an entry served in the work itself (FLUSH, invalid). */
static int cbd_handler_complete_inline(struct cbd_handler *handler,
				       struct cbd_handler_cmd *cmd)
{
	bool posted = false;

	spin_lock_irq(&handler->channel.compr_lock);
	/* keep completions in order behind those waiting for room */
	if (list_empty(&handler->pending_ces))
		posted = cbd_handler_post_ce(handler, cmd);
	spin_unlock_irq(&handler->channel.compr_lock);

	/* -ENOSPC: the work retries this entry once the blkdev made room */
	return posted ? 0 : -ENOSPC;
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

	list_for_each_entry_safe(io, tmp, &posted, node)
		bio_put(&io->bio);

	return left;
}

static void cbd_backend_bio_end(struct bio *bio)
{
	struct cbd_backend_io *io = container_of(bio, struct cbd_backend_io, bio);
	struct cbd_handler *handler = io->handler;
	unsigned long flags;
	bool posted = false;

	io->cmd.result = blk_status_to_errno(bio->bi_status);

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

	if (posted)
		bio_put(bio);

	/* last access to @handler: destroy may free it once this is zero */
	if (atomic_dec_and_test(&handler->inflight))
		wake_up_var(&handler->inflight);
}

static int cbd_handler_submit_bio(struct cbd_handler *handler,
				  struct cbd_handler_cmd *cmd)
{
	struct cbd_backend *cbdb = handler->cbdb;
	blk_opf_t opf = REQ_OP_READ;
	struct cbd_backend_io *io;
	struct bio *bio;

	if (cmd->op == CBD_OP_WRITE) {
		opf = REQ_OP_WRITE;
		if (cmd->flags & CBD_SE_FLAGS_FUA)
			opf |= REQ_FUA;
	}

	/* from the bioset's mempool: GFP_NOIO allocations do not fail */
	bio = bio_alloc_bioset(file_bdev(cbdb->bdev_file),
			       DIV_ROUND_UP(cmd->len, PAGE_SIZE), opf, GFP_NOIO,
			       &handler->bioset);
	io = container_of(bio, struct cbd_backend_io, bio);
	io->handler = handler;
	io->cmd = *cmd;
	INIT_LIST_HEAD(&io->node);
	bio->bi_iter.bi_sector = cmd->offset >> SECTOR_SHIFT;
	bio->bi_end_io = cbd_backend_bio_end;

	if (cbdc_map_pages(&handler->channel, bio, cmd->data_off, cmd->len)) {
		bio_put(bio);
		cbd_handler_err_ratelimited(handler, "cannot map data of req %llu\n",
					    cmd->req_tid);
		cmd->result = -EIO;
		return cbd_handler_complete_inline(handler, cmd);
	}

	atomic_inc(&handler->inflight);
	submit_bio(bio);

	return 0;
}

/* Decision 3: nothing read from the submit ring is trusted. */
static bool cbd_handler_cmd_valid(struct cbd_handler *handler,
				  struct cbd_handler_cmd *cmd, u32 data_len)
{
	u64 disk_bytes = handler->cbdb->dev_size << SECTOR_SHIFT;

	if (cmd->op == CBD_OP_FLUSH)
		return true;
	if (cmd->op != CBD_OP_READ && cmd->op != CBD_OP_WRITE)
		return false;

	if (!cmd->len || cmd->len > CBD_HANDLER_IO_MAX || cmd->len != data_len)
		return false;
	if (!IS_ALIGNED(cmd->offset | cmd->len, SECTOR_SIZE))
		return false;
	if (cmd->offset > disk_bytes || cmd->len > disk_bytes - cmd->offset)
		return false;

	/* extents may wrap around the data ring, one whole page at a time */
	return PAGE_ALIGNED(cmd->data_off) &&
	       cmd->data_off < handler->channel.data_size;
}

static int cbd_handler_dispatch(struct cbd_handler *handler,
				struct cbd_handler_cmd *cmd, u32 data_len)
{
	if (!cbd_handler_cmd_valid(handler, cmd, data_len)) {
		cbd_handler_err_ratelimited(handler,
					    "invalid entry: tid %llu op %u off %llu len %u data %u+%u\n",
					    cmd->req_tid, cmd->op, cmd->offset,
					    cmd->len, cmd->data_off, data_len);
		cmd->result = -EIO;
		return cbd_handler_complete_inline(handler, cmd);
	}

	if (cmd->op == CBD_OP_FLUSH) {
		/* a retry after -ENOSPC flushes again, which is harmless */
		cmd->result = blkdev_issue_flush(file_bdev(handler->cbdb->bdev_file));
		return cbd_handler_complete_inline(handler, cmd);
	}

	return cbd_handler_submit_bio(handler, cmd);
}

/*
 * Decision 9: after a dead predecessor, entries it already completed must
 * not be served again.  The blkdev sets DONE on an entry before it moves
 * compr_tail past its completion, so reading compr_tail first and DONE
 * second, a completed entry either carries DONE or still has its
 * completion between that compr_tail and compr_head.
 */
static bool cbd_handler_already_completed(struct cbd_handler *handler,
					  struct cbd_se *se, u64 req_tid)
{
	struct cbd_channel *channel = &handler->channel;
	u32 pos = cbdc_compr_tail(handler->channel_info);
	bool found = false;
	struct cbd_ce *ce;

	if (!cbd_ring_idx_valid(pos, channel->compr_size, sizeof(*ce)))
		return false;

	/* compr_tail before DONE: pairs with the blkdev's smp_wmb() */
	smp_rmb();
	if (le32_to_cpu(READ_ONCE(se->flags)) & CBD_SE_FLAGS_DONE)
		return true;

	spin_lock_irq(&channel->compr_lock);
	while (!found && pos != handler->compr_head) {
		ce = channel->compr + pos;
		found = le64_to_cpu(READ_ONCE(ce->req_tid)) == req_tid;
		pos = cbdc_ring_advance(pos, sizeof(*ce), channel->compr_size);
	}
	spin_unlock_irq(&channel->compr_lock);

	return found;
}

/* -EAGAIN while @se may not be completely written yet. */
static int cbd_handler_se_ready(struct cbd_handler *handler, struct cbd_se *se)
{
	u64 req_tid = le64_to_cpu(se->req_tid);

	if (handler->req_tid_expected != U64_MAX &&
	    req_tid != handler->req_tid_expected) {
		cbd_handler_debug(handler, "req_tid %llu, expected %llu\n",
				  req_tid, handler->req_tid_expected);
		return -EAGAIN;
	}

#ifdef CONFIG_CBD_CRC
	if (le32_to_cpu(se->se_crc) != cbd_se_crc(se)) {
		cbd_handler_err_ratelimited(handler, "se crc mismatch, tid %llu\n",
					    req_tid);
		return -EAGAIN;
	}
	if (le32_to_cpu(se->op) == CBD_OP_WRITE &&
	    le32_to_cpu(se->data_off) < handler->channel.data_size &&
	    le32_to_cpu(se->len) <= CBD_HANDLER_IO_MAX &&
	    le32_to_cpu(se->data_crc) !=
	    cbd_channel_crc(&handler->channel, le32_to_cpu(se->data_off),
			    le32_to_cpu(se->len))) {
		cbd_handler_err_ratelimited(handler, "data crc mismatch, tid %llu\n",
					    req_tid);
		return -EAGAIN;
	}
#endif
	return 0;
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
	handler->se_to_handle = cbdc_ring_advance(handler->se_to_handle,
						  sizeof(struct cbd_se),
						  handler->channel.submr_size);
	if (handler->takeover_left)
		handler->takeover_left--;
}

/*
 * Serve the entry at se_to_handle.  Returns 0 when it was consumed,
 * -EAGAIN when there is none (or it is not completely written yet) and
 * -ENOSPC when its completion has to wait for room in the ring.
 */
static int cbd_handler_handle_one(struct cbd_handler *handler)
{
	struct cbd_channel *channel = &handler->channel;
	u32 head = cbdc_submr_head(handler->channel_info);
	struct cbd_handler_cmd cmd;
	struct cbd_se *se, snap;
	int ret;

	if (!cbd_ring_idx_valid(head, channel->submr_size, sizeof(snap))) {
		cbd_handler_err_ratelimited(handler, "invalid submr_head %u\n", head);
		return -EAGAIN;
	}
	if (head == handler->se_to_handle)
		return -EAGAIN;

	/* submr_head before the entry: pairs with the blkdev's smp_wmb() */
	smp_rmb();
	se = channel->submr + handler->se_to_handle;
	memcpy(&snap, se, sizeof(snap));
	cbd_handler_se_to_cmd(&snap, &cmd);

	if (handler->takeover_left &&
	    cbd_handler_already_completed(handler, se, cmd.req_tid)) {
		cbd_handler_next_se(handler, U64_MAX);
		return 0;
	}

	ret = cbd_handler_se_ready(handler, &snap);
	if (ret)
		return ret;

	ret = cbd_handler_dispatch(handler, &cmd, le32_to_cpu(snap.data_len));
	if (ret)
		return ret;

	cbd_handler_next_se(handler, cmd.req_tid + 1);
	return 0;
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
again:
	ret = cbd_handler_handle_one(handler);
	if (!ret) {
		cbdwc_hit(&handler->handle_worker_cfg);
		handler->last_hit = jiffies;
		cond_resched();
		goto again;
	}
	if (ret == -EAGAIN && cbdwc_need_retry(&handler->handle_worker_cfg))
		goto again;
	cbdwc_miss(&handler->handle_worker_cfg);

	/*
	 * A remote blkdev cannot notify us: poll.  A full completion ring
	 * frees up when the blkdev consumes completions, which it does not
	 * tell us either: check again shortly.  Otherwise wait for a notify.
	 */
	if (handler->polling)
		queue_delayed_work(handler->cbdb->task_wq, &handler->handle_work,
				   cbd_handler_poll_delay(handler));
	else if (waiting || ret == -ENOSPC)
		queue_delayed_work(handler->cbdb->task_wq, &handler->handle_work, 1);
}

/**
 * cbd_handler_notify - kick the handler after new submissions
 * @handler: handler
 *
 * Called by a blkdev on the same host after it published entries.
 */
void cbd_handler_notify(struct cbd_handler *handler)
{
	queue_delayed_work(handler->cbdb->task_wq, &handler->handle_work, 0);
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

	if (!cbd_ring_idx_valid(submr_tail, channel->submr_size, sizeof(struct cbd_se)) ||
	    !cbd_ring_idx_valid(submr_head, channel->submr_size, sizeof(struct cbd_se)) ||
	    !cbd_ring_idx_valid(compr_head, channel->compr_size, sizeof(struct cbd_ce))) {
		cbd_handler_err(handler, "corrupt ring indices %u %u %u\n",
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

	cbd_handler_set_backend_state(handler, cbdc_backend_state_running);
	queue_delayed_work(cbdb->task_wq, &handler->handle_work, 0);

	return 0;

err_exit_channel:
	cbd_channel_exit(&handler->channel);
	bioset_exit(&handler->bioset);
err_free_handler:
	kfree(handler);
	return ret;
}

static void cbd_handler_teardown(struct cbd_handler *handler, bool crash)
{
	struct cbd_backend_io *io, *tmp;

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
		cbd_handler_set_backend_state(handler, cbdc_backend_state_none);
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
