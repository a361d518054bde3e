/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD media reads: the one machine-check-safe copy out of the transport,
 * and the report of a media error in it.
 */
#ifndef _CBD_MEDIA_H
#define _CBD_MEDIA_H

#include <linux/list.h>
#include <linux/types.h>

struct cbd_transport;

/**
 * struct cbdt_media_listener - an object of this host told of media errors
 * @node: entry in the transport's list (cbd_transport.media_listeners)
 * @failure: called for a failed range with the first and last segment
 *	it overlaps (@first <= @last, both valid segment ids).  Process
 *	context, under the transport's media_lock: it retires what it has
 *	in those segments and returns, without waiting for its own teardown.
 *
 * Blkdevs and backends of this host register one while they run, so the
 * media layer reaches them without knowing what they are.
 */
struct cbdt_media_listener {
	struct list_head node;
	void (*failure)(struct cbdt_media_listener *l, u32 first, u32 last);
};

int cbdt_copy_from_media(void *dst, const void *src, size_t len);
int cbdt_copy_record(void *dst, const void *src, size_t len);
int cbdt_probe_record(const void *src, size_t len);
void cbdt_media_listener_add(struct cbd_transport *cbdt,
			     struct cbdt_media_listener *l);
void cbdt_media_listener_del(struct cbd_transport *cbdt,
			     struct cbdt_media_listener *l);
void cbdt_media_failure(struct cbd_transport *cbdt, u64 off, u64 len);

#endif /* _CBD_MEDIA_H */
