/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD base definitions shared by every CBD object: global constants,
 * logging, the module workqueue, liveness (heartbeat) helpers and the
 * adaptive busy-poll helper used by ring consumers.
 */
#ifndef _CBD_BASE_H
#define _CBD_BASE_H

#include <linux/delay.h>
#include <linux/device.h>
#include <linux/ktime.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#define CBD_KB			1024
#define CBD_MB			(CBD_KB * CBD_KB)

#define CBD_TRANSPORT_MAX	1024
#define CBD_PATH_LEN		512
#define CBD_NAME_LEN		32
#define CBD_QUEUES_MAX		128
#define CBD_HANDLERS_MAX	128
#define CBD_PART_SHIFT		4
#define CBD_DRV_NAME		"cbd"

/* Every live object gives its alive_ts a new value this often... */
#define CBD_HB_INTERVAL		msecs_to_jiffies(5000)
/*
 * ...and is dead once an observer has seen no change for this long (ms),
 * on the observer's own monotonic clock.
 */
#define CBD_HB_TIMEOUT_MS	(30 * 1000)

/* Unbound, WQ_MEM_RECLAIM workqueue for heartbeats and state works. */
extern struct workqueue_struct *cbd_wq;
extern const struct bus_type cbd_bus_type;
/* /sys/devices/cbd, parent of every transport */
extern struct device *cbd_root_dev;

/*
 * Slot states shared by host, backend, blkdev and segment info records.
 * The first byte of every slot is its state; 0 means "free".  A slot is
 * claimed with cmpxchg() on that byte so that two hosts allocating at the
 * same moment can never take the same slot.
 */
enum cbd_slot_state {
	CBD_SLOT_STATE_NONE	= 0,
	CBD_SLOT_STATE_RUNNING	= 1,
	CBD_SLOT_STATE_REMOVING	= 2,
};

/**
 * cbd_slot_claim - atomically take a free slot
 * @state: the state byte of a slot in the transport
 *
 * Return: true if the slot was free and now belongs to the caller.
 */
static inline bool cbd_slot_claim(u8 *state)
{
	return cmpxchg(state, CBD_SLOT_STATE_NONE, CBD_SLOT_STATE_RUNNING) ==
	       CBD_SLOT_STATE_NONE;
}

static inline u8 cbd_slot_state(const u8 *state)
{
	return READ_ONCE(*state);
}

static inline void cbd_slot_set_state(u8 *state, u8 new)
{
	WRITE_ONCE(*state, new);
}

/**
 * cbd_alive_ts_update - beat: give a slot's heartbeat a new value
 * @alive_ts: heartbeat word of a slot this host owns
 *
 * Observers only look for a change (cbd_heartbeat.c), never at the value.
 * It is the wall-clock time in ns, for information, but always greater
 * than the previous value, so that a clock stepped back still beats; 0
 * means "cleared" and is never written here.
 */
static inline void cbd_alive_ts_update(__le64 *alive_ts)
{
	u64 prev = le64_to_cpu(READ_ONCE(*alive_ts));
	u64 now = ktime_get_real_ns();

	if (now <= prev)
		now = prev + 1;
	if (!now)
		now = 1;
	WRITE_ONCE(*alive_ts, cpu_to_le64(now));
}

static inline void cbd_alive_ts_clear(__le64 *alive_ts)
{
	WRITE_ONCE(*alive_ts, 0);
}

/**
 * struct cbd_worker_cfg - adaptive busy-poll budget of a ring consumer
 * @busy_retry_cur: retries done in the current miss streak
 * @busy_retry_count: current budget, adapted between min and max
 * @busy_retry_max: upper bound of the budget
 * @busy_retry_min: lower bound of the budget
 * @busy_retry_interval: sleep between two retries, in microseconds
 *
 * A consumer that finds its ring empty retries up to busy_retry_count
 * times before giving up (re-queueing itself or waiting for a notify).
 * Hits grow the budget, misses shrink it.
 */
struct cbd_worker_cfg {
	u32 busy_retry_cur;
	u32 busy_retry_count;
	u32 busy_retry_max;
	u32 busy_retry_min;
	u64 busy_retry_interval;
};

static inline void cbdwc_init(struct cbd_worker_cfg *cfg)
{
	cfg->busy_retry_cur = 0;
	cfg->busy_retry_count = 100;
	cfg->busy_retry_max = cfg->busy_retry_count * 2;
	cfg->busy_retry_min = 0;
	cfg->busy_retry_interval = 1;
}

static inline void cbdwc_hit(struct cbd_worker_cfg *cfg)
{
	u32 delta;

	cfg->busy_retry_cur = 0;
	if (cfg->busy_retry_count >= cfg->busy_retry_max)
		return;

	delta = cfg->busy_retry_count >> 4;
	if (!delta)
		delta = (cfg->busy_retry_max + cfg->busy_retry_min) >> 1;
	cfg->busy_retry_count = min(cfg->busy_retry_count + delta,
				    cfg->busy_retry_max);
}

static inline void cbdwc_miss(struct cbd_worker_cfg *cfg)
{
	u32 delta;

	cfg->busy_retry_cur = 0;
	if (cfg->busy_retry_count <= cfg->busy_retry_min)
		return;

	delta = cfg->busy_retry_count >> 4;
	if (!delta)
		delta = cfg->busy_retry_count;
	cfg->busy_retry_count -= delta;
}

/* Called from process context (work items) only: it may sleep briefly. */
static inline bool cbdwc_need_retry(struct cbd_worker_cfg *cfg)
{
	if (++cfg->busy_retry_cur < cfg->busy_retry_count) {
		cpu_relax();
		fsleep(cfg->busy_retry_interval);
		return true;
	}
	return false;
}

#endif /* _CBD_BASE_H */
