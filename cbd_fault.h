/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD fault points, for testing (CONFIG_CBD_FAULT_INJECTION; off by
 * default in a kernel tree, on in the out-of-tree build of the selftests).
 */
#ifndef _CBD_FAULT_H
#define _CBD_FAULT_H

#include <linux/types.h>

struct dentry;

/**
 * enum cbd_fault_point - the fault points, each a directory in
 *	/sys/kernel/debug/cbd/ and, with the kernel's framework, a module
 *	parameter of the same name
 * @CBD_FAULT_MEDIA_COPY: fail_media_copy, a machine-check-safe copy out
 *	of the transport stops short, as at a poisoned line
 * @CBD_FAULT_HANDLER_BIO: fail_handler_bio, a bio a handler issued on the
 *	backing disk completes with an I/O error
 * @CBD_FAULT_POINTS: number of points
 */
enum cbd_fault_point {
	CBD_FAULT_MEDIA_COPY,
	CBD_FAULT_HANDLER_BIO,
	CBD_FAULT_POINTS,
};

#if IS_ENABLED(CONFIG_CBD_FAULT_INJECTION)
bool cbd_should_fail(enum cbd_fault_point point, size_t size);
void cbd_fault_debugfs_init(struct dentry *root);
#else
static inline bool cbd_should_fail(enum cbd_fault_point point, size_t size)
{
	return false;
}

static inline void cbd_fault_debugfs_init(struct dentry *root)
{
}
#endif

#endif /* _CBD_FAULT_H */
