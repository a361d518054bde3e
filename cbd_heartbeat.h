/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Heartbeat bookkeeping: which slots of a transport look alive to this
 * host.
 *
 * Every live object (host, backend, blkdev, segment) rewrites the alive_ts
 * word of its slot every CBD_HB_INTERVAL with a value that always changes
 * (cbd_heartbeat_beat()).  An observer never interprets that value as a
 * time: it remembers, per slot, the last value it saw and the time on its
 * own monotonic clock when it saw the value change.  A slot whose value has
 * not changed for CBD_HB_TIMEOUT_MS is dead; a cleared value (0) is dead at
 * once.  Stepping any host's wall clock, forward or back, changes nothing.
 */
#ifndef _CBD_HEARTBEAT_H
#define _CBD_HEARTBEAT_H

#include <linux/types.h>

struct cbd_transport;

enum cbd_hb_kind {
	CBD_HB_HOST,
	CBD_HB_BACKEND,
	CBD_HB_BLKDEV,
	CBD_HB_SEGMENT,
	CBD_HB_KINDS,
};

int cbd_heartbeats_init(struct cbd_transport *cbdt);
void cbd_heartbeats_exit(struct cbd_transport *cbdt);
bool cbd_heartbeat_within(struct cbd_transport *cbdt, enum cbd_hb_kind kind,
			  u32 id, const __le64 *alive_ts, u32 ms);
bool cbd_heartbeat_beating(struct cbd_transport *cbdt, enum cbd_hb_kind kind,
			   u32 id);
int cbd_heartbeats_wait_scan(struct cbd_transport *cbdt);
bool cbd_backend_info_is_alive(struct cbd_transport *cbdt, u32 id);
bool cbd_backend_info_is_gone(struct cbd_transport *cbdt, u32 id);
bool cbd_blkdev_info_is_alive(struct cbd_transport *cbdt, u32 id);

#endif /* _CBD_HEARTBEAT_H */
