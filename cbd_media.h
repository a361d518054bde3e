/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD media reads: the one machine-check-safe copy out of the transport.
 */
#ifndef _CBD_MEDIA_H
#define _CBD_MEDIA_H

#include <linux/types.h>

struct dentry;

int cbdt_copy_from_media(void *dst, const void *src, size_t len);
void cbd_media_debugfs_init(struct dentry *root);

#endif /* _CBD_MEDIA_H */
