// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Heartbeat bookkeeping: liveness of every slot of a transport, judged on
 * this host's own monotonic clock (see cbd_heartbeat.h).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "cbd_backend.h"
#include "cbd_blkdev.h"
#include "cbd_heartbeat.h"
#include "cbd_host.h"
#include "cbd_media.h"
#include "cbd_segment.h"
#include "cbd_transport.h"

/**
 * struct cbd_hb_seen - what this host last saw of one slot's heartbeat
 * @val: the alive_ts value seen last
 * @changed: ktime_get_ns() of the scan that saw @val appear
 */
struct cbd_hb_seen {
	atomic64_t val;
	atomic64_t changed;
};

/**
 * struct cbd_heartbeats - heartbeat observations of one transport
 * @seen: per kind, one entry per slot
 * @num: entries of @seen[kind]: the validated slot counts of the transport
 * @scanned: ktime_get_ns() at the end of the last scan
 * @seeded: ktime_get_ns() of the first scan, made by cbd_heartbeats_init()
 * @scans: number of scans made, for cbd_heartbeats_wait_scan()
 * @scan_wq: woken after every scan
 * @scan_work: samples every slot each CBD_HB_INTERVAL
 * @cbdt: the transport observed
 *
 * Locking: @seen and @scanned are written only by @scan_work (and by
 * cbd_heartbeats_init() before the work is first queued), so they have a
 * single writer and no lock; readers, among them the I/O path, are
 * lockless.  An entry is published as @changed then @val (smp_wmb()), and
 * read as @val then @changed (smp_rmb()), so a reader that sees a new @val
 * sees the time it appeared.
 */
struct cbd_heartbeats {
	struct cbd_hb_seen *seen[CBD_HB_KINDS];
	u32 num[CBD_HB_KINDS];
	atomic64_t scanned;
	u64 seeded;
	atomic_t scans;
	wait_queue_head_t scan_wq;
	struct delayed_work scan_work;
	struct cbd_transport *cbdt;
};

static const __le64 *cbd_hb_stamp(struct cbd_transport *cbdt,
				  enum cbd_hb_kind kind, u32 id)
{
	switch (kind) {
	case CBD_HB_HOST:
		return &cbdt_host_info(cbdt, id)->alive_ts;
	case CBD_HB_BACKEND:
		return &cbdt_backend_info(cbdt, id)->alive_ts;
	case CBD_HB_BLKDEV:
		return &cbdt_blkdev_info(cbdt, id)->alive_ts;
	default:
		return &cbdt_segment_info(cbdt, id)->alive_ts;
	}
}

/*
 * A stamp that cannot be read (its memory failed) reads as @prev: it does
 * not change any more, so its object is dead once the timeout passes.
 */
static u64 cbd_hb_read(const __le64 *alive_ts, u64 prev)
{
	__le64 v;

	if (cbdt_copy_record(&v, alive_ts, sizeof(v)))
		return prev;
	return le64_to_cpu(v);
}

/* Sample every slot; record the time of each change seen. */
static void cbd_heartbeats_scan(struct cbd_heartbeats *hb)
{
	u64 now = ktime_get_ns();
	struct cbd_hb_seen *seen;
	enum cbd_hb_kind kind;
	u64 cur;
	u32 id;

	for (kind = 0; kind < CBD_HB_KINDS; kind++) {
		for (id = 0; id < hb->num[kind]; id++) {
			seen = &hb->seen[kind][id];
			cur = cbd_hb_read(cbd_hb_stamp(hb->cbdt, kind, id),
					  atomic64_read(&seen->val));
			if (cur == atomic64_read(&seen->val))
				continue;
			atomic64_set(&seen->changed, now);
			/* orders changed before val: see cbd_heartbeat_within() */
			smp_wmb();
			atomic64_set(&seen->val, cur);
		}
	}
	/* orders the entries before scanned: a reader of scanned sees them */
	smp_wmb();
	atomic64_set(&hb->scanned, now);
	atomic_inc(&hb->scans);
	wake_up_all(&hb->scan_wq);
}

static void cbd_heartbeats_scan_workfn(struct work_struct *work)
{
	struct cbd_heartbeats *hb = container_of(to_delayed_work(work),
						 struct cbd_heartbeats,
						 scan_work);

	cbd_heartbeats_scan(hb);
	queue_delayed_work(cbd_wq, &hb->scan_work, CBD_HB_INTERVAL);
}

/**
 * cbd_heartbeat_within - has a slot's heartbeat changed lately?
 * @cbdt: transport
 * @kind: slot type
 * @id: slot index, checked by the caller
 * @alive_ts: the slot's heartbeat word
 * @ms: how recent the last change must be, in milliseconds
 *
 * Only this host's monotonic clock is used: the value is never read as a
 * time.  A value of 0 (cleared by its owner) is never alive.  A value that
 * differs from the last scan's changed after that scan.
 *
 * Return: true if the heartbeat was seen changing less than @ms ago.
 */
bool cbd_heartbeat_within(struct cbd_transport *cbdt, enum cbd_hb_kind kind,
			  u32 id, const __le64 *alive_ts, u32 ms)
{
	struct cbd_heartbeats *hb = cbdt->hb;
	struct cbd_hb_seen *seen;
	u64 cur, since;

	if (id >= hb->num[kind])
		return false;

	seen = &hb->seen[kind][id];
	cur = cbd_hb_read(alive_ts, atomic64_read(&seen->val));
	if (!cur)
		return false;
	if (cur == atomic64_read(&seen->val)) {
		/* val before changed: pairs with the scan's smp_wmb() */
		smp_rmb();
		since = atomic64_read(&seen->changed);
	} else {
		since = atomic64_read(&hb->scanned);
	}

	return ktime_get_ns() - since < (u64)ms * NSEC_PER_MSEC;
}

/**
 * cbd_heartbeat_beating - has a slot been seen beating since registration?
 * @cbdt: transport
 * @kind: slot type
 * @id: slot index, checked by the caller
 *
 * Right after registration every slot with a non-zero heartbeat counts as
 * alive, a slot left behind by a crash included: only watching it for
 * CBD_HB_TIMEOUT_MS tells.  A slot whose value changed after the first
 * scan is known to be alive now.
 *
 * Return: true if the heartbeat changed since the first scan and lately.
 */
bool cbd_heartbeat_beating(struct cbd_transport *cbdt, enum cbd_hb_kind kind,
			   u32 id)
{
	struct cbd_heartbeats *hb = cbdt->hb;
	struct cbd_hb_seen *seen;
	u64 changed;

	if (id >= hb->num[kind] ||
	    !cbd_heartbeat_within(cbdt, kind, id, cbd_hb_stamp(cbdt, kind, id),
				  CBD_HB_TIMEOUT_MS))
		return false;

	seen = &hb->seen[kind][id];
	changed = atomic64_read(&seen->changed);
	return changed > hb->seeded;
}

/**
 * cbd_heartbeats_wait_scan - sleep until the next scan has been made
 * @cbdt: transport
 *
 * Return: 0, or -EINTR if a signal came first.
 */
int cbd_heartbeats_wait_scan(struct cbd_transport *cbdt)
{
	struct cbd_heartbeats *hb = cbdt->hb;
	int scans = atomic_read(&hb->scans);

	if (wait_event_interruptible(hb->scan_wq,
				     atomic_read(&hb->scans) != scans))
		return -EINTR;
	return 0;
}

/**
 * cbd_heartbeats_init - start observing the heartbeats of a transport
 * @cbdt: transport with validated geometry, mapped
 *
 * One scan seeds the tables: a slot found stale is dead CBD_HB_TIMEOUT_MS
 * after this call, a live one keeps changing.
 *
 * Return: 0 or -ENOMEM.
 */
int cbd_heartbeats_init(struct cbd_transport *cbdt)
{
	struct cbd_heartbeats *hb;
	enum cbd_hb_kind kind;

	hb = kzalloc(sizeof(*hb), GFP_KERNEL);
	if (!hb)
		return -ENOMEM;

	hb->cbdt = cbdt;
	hb->num[CBD_HB_HOST] = cbdt->host_num;
	hb->num[CBD_HB_BACKEND] = cbdt->backend_num;
	hb->num[CBD_HB_BLKDEV] = cbdt->blkdev_num;
	hb->num[CBD_HB_SEGMENT] = cbdt->segment_num;
	for (kind = 0; kind < CBD_HB_KINDS; kind++) {
		hb->seen[kind] = kvcalloc(hb->num[kind], sizeof(*hb->seen[kind]),
					  GFP_KERNEL);
		if (!hb->seen[kind])
			goto err_free_seen;
	}

	/* every entry's val is 0: the scan records all live slots as changed */
	init_waitqueue_head(&hb->scan_wq);
	cbd_heartbeats_scan(hb);
	hb->seeded = atomic64_read(&hb->scanned);
	INIT_DELAYED_WORK(&hb->scan_work, cbd_heartbeats_scan_workfn);
	cbdt->hb = hb;
	queue_delayed_work(cbd_wq, &hb->scan_work, CBD_HB_INTERVAL);
	return 0;

err_free_seen:
	while (kind--)
		kvfree(hb->seen[kind]);
	kfree(hb);
	return -ENOMEM;
}

/**
 * cbd_heartbeats_exit - stop observing, before the transport is unmapped
 * @cbdt: transport of a successful cbd_heartbeats_init()
 */
void cbd_heartbeats_exit(struct cbd_transport *cbdt)
{
	struct cbd_heartbeats *hb = cbdt->hb;
	enum cbd_hb_kind kind;

	cancel_delayed_work_sync(&hb->scan_work);
	cbdt->hb = NULL;
	for (kind = 0; kind < CBD_HB_KINDS; kind++)
		kvfree(hb->seen[kind]);
	kfree(hb);
}

/* the liveness of a slot of each kind, for the objects that use them */

/**
 * cbd_backend_info_is_alive - liveness of a backend slot
 * @cbdt: transport
 * @id: valid backend slot index
 *
 * Return: true if the backend's heartbeat changed lately.
 */
bool cbd_backend_info_is_alive(struct cbd_transport *cbdt, u32 id)
{
	return cbd_heartbeat_within(cbdt, CBD_HB_BACKEND, id,
				    &cbdt_backend_info(cbdt, id)->alive_ts,
				    CBD_HB_TIMEOUT_MS);
}

/**
 * cbd_backend_info_is_gone - has the backend been dead past the re-attach
 * window?
 * @cbdt: transport
 * @id: valid backend slot index
 *
 * Return: true if no heartbeat change was seen for CBD_BACKEND_GIVE_UP_MS.
 */
bool cbd_backend_info_is_gone(struct cbd_transport *cbdt, u32 id)
{
	return !cbd_heartbeat_within(cbdt, CBD_HB_BACKEND, id,
				     &cbdt_backend_info(cbdt, id)->alive_ts,
				     CBD_BACKEND_GIVE_UP_MS);
}

/**
 * cbd_blkdev_info_is_alive - liveness of a blkdev slot
 * @cbdt: transport
 * @id: valid blkdev slot index
 *
 * Return: true if the blkdev's heartbeat changed lately.
 */
bool cbd_blkdev_info_is_alive(struct cbd_transport *cbdt, u32 id)
{
	return cbd_heartbeat_within(cbdt, CBD_HB_BLKDEV, id,
				    &cbdt_blkdev_info(cbdt, id)->alive_ts,
				    CBD_HB_TIMEOUT_MS);
}
