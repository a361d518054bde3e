/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD host: one slot per host that registered the transport.
 */
#ifndef _CBD_HOST_H
#define _CBD_HOST_H

#include "cbd_transport.h"

/**
 * struct cbd_host_info - on-media host slot
 * @state: enum cbd_slot_state
 * @res: zero
 * @alive_ts: heartbeat value (wall-clock ns, always increasing); observers
 *	only look for change, on their own monotonic clock
 * @hostname: NUL-padded host name given at registration
 */
struct cbd_host_info {
	u8 state;
	u8 res[7];
	__le64 alive_ts;
	char hostname[CBD_NAME_LEN];
};

/**
 * struct cbd_host - this host's registration on a transport
 * @host_id: slot index
 * @cbdt: transport
 * @host_info: on-media slot
 * @hb_work: heartbeat work on cbd_wq
 */
struct cbd_host {
	u32 host_id;
	struct cbd_transport *cbdt;
	struct cbd_host_info *host_info;
	struct delayed_work hb_work;
};

bool cbd_host_name_valid(const char *hostname);
int cbd_host_register(struct cbd_transport *cbdt, const char *hostname);
void cbd_host_unregister(struct cbd_transport *cbdt);
int cbd_host_clear(struct cbd_transport *cbdt, u32 host_id);
bool cbd_host_info_is_alive(struct cbd_transport *cbdt, u32 id);

/* Number of host slots whose heartbeat is alive. */
u32 cbd_hosts_alive(struct cbd_transport *cbdt);
u32 cbd_hosts_in_use(struct cbd_transport *cbdt);
u32 cbd_hosts_beating(struct cbd_transport *cbdt);

extern const struct device_type cbd_host_type;
extern const struct device_type cbd_hosts_type;

#endif /* _CBD_HOST_H */
