// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD media reads.
 *
 * The transport is persistent or CXL memory: a poisoned line read with a
 * plain memcpy() is a machine check in kernel mode.  Every read of
 * payload from the transport (READ data copied to a bio, cache hits, the
 * data and entry CRCs) goes through cbdt_copy_from_media(), which uses
 * copy_mc_to_kernel() and turns a short copy into -EIO for the caller to
 * fail its request with.
 *
 * Fault injection: /sys/kernel/debug/cbd/fail_media_copy/ makes the copy
 * report a short copy.  With CONFIG_FAULT_INJECTION_DEBUG_FS it is the
 * kernel's fault-injection attribute (probability, interval, times, ...);
 * without it, a minimal stand-in with the same "probability" (percent)
 * and "times" (-1: no limit) files, so that the selftests run on any
 * kernel.
 */

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/random.h>
#include <linux/uaccess.h>

#include "cbd_media.h"

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static DECLARE_FAULT_ATTR(cbd_media_fault);

static bool cbd_media_should_fail(size_t len)
{
	return should_fail(&cbd_media_fault, len);
}

void cbd_media_debugfs_init(struct dentry *root)
{
	fault_create_debugfs_attr("fail_media_copy", root, &cbd_media_fault);
}
#else
/* The stand-in: fail @probability percent of the copies, @times of them. */
static u32 cbd_media_probability;
static atomic_t cbd_media_times = ATOMIC_INIT(1);

static bool cbd_media_should_fail(size_t len)
{
	u32 p = READ_ONCE(cbd_media_probability);

	if (likely(!p))
		return false;
	if (!atomic_read(&cbd_media_times))
		return false;
	if (p < 100 && get_random_u32_below(100) >= p)
		return false;
	/* -1: no limit; otherwise count down to zero, never below */
	atomic_add_unless(&cbd_media_times, -1, -1);
	return true;
}

void cbd_media_debugfs_init(struct dentry *root)
{
	struct dentry *dir = debugfs_create_dir("fail_media_copy", root);

	debugfs_create_u32("probability", 0600, dir, &cbd_media_probability);
	debugfs_create_atomic_t("times", 0600, dir, &cbd_media_times);
}
#endif

/**
 * cbdt_copy_from_media - machine-check-safe copy out of the transport
 * @dst: kernel destination
 * @src: source in the transport mapping
 * @len: bytes
 *
 * Return: 0, or -EIO if a media error (or the fault-injection point)
 * stopped the copy; @dst is then partly written.
 */
int cbdt_copy_from_media(void *dst, const void *src, size_t len)
{
	if (unlikely(cbd_media_should_fail(len)))
		return -EIO;

	return copy_mc_to_kernel(dst, src, len) ? -EIO : 0;
}
