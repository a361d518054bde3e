/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD media reads: the one machine-check-safe copy out of the transport,
 * and the report of a media error in it.
 */
#ifndef _CBD_MEDIA_H
#define _CBD_MEDIA_H

#include <linux/types.h>

struct cbd_transport;
struct dentry;

int cbdt_copy_from_media(void *dst, const void *src, size_t len);
void cbdt_media_failure(struct cbd_transport *cbdt, u64 off, u64 len);
void cbd_media_debugfs_init(struct dentry *root);

#endif /* _CBD_MEDIA_H */
