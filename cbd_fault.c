// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD fault points (enum cbd_fault_point).
 *
 * With CONFIG_FAULT_INJECTION each point is a fault_attr of the kernel's
 * fault-injection framework (Documentation/fault-injection/):
 *
 *   /sys/kernel/debug/cbd/<point>/{probability,interval,times,...}
 *   cbd.<point>=<interval>,<probability>,<space>,<times>
 *
 * A kernel without the framework (Debian's, on which the selftests run)
 * gets a minimal stand-in instead: /sys/kernel/debug/cbd/<point>/ with
 * the framework's "probability" (percent) and "times" (-1: no limit)
 * files, which is all the selftests use.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/moduleparam.h>
#include <linux/random.h>

#include "cbd_fault.h"

static const char * const cbd_fault_names[CBD_FAULT_POINTS] = {
	[CBD_FAULT_MEDIA_COPY]	= "fail_media_copy",
	[CBD_FAULT_HANDLER_BIO]	= "fail_handler_bio",
};

#if IS_ENABLED(CONFIG_FAULT_INJECTION)
static struct fault_attr cbd_faults[CBD_FAULT_POINTS] = {
	[0 ... CBD_FAULT_POINTS - 1] = FAULT_ATTR_INITIALIZER,
};

static char *cbd_fail_media_copy;
module_param_named(fail_media_copy, cbd_fail_media_copy, charp, 0444);
MODULE_PARM_DESC(fail_media_copy,
		 "Fault injection: fail machine-check-safe media reads, <interval>,<probability>,<space>,<times>");

static char *cbd_fail_handler_bio;
module_param_named(fail_handler_bio, cbd_fail_handler_bio, charp, 0444);
MODULE_PARM_DESC(fail_handler_bio,
		 "Fault injection: fail the handlers' bios on the backing disk, <interval>,<probability>,<space>,<times>");

static char **const cbd_fault_params[CBD_FAULT_POINTS] = {
	[CBD_FAULT_MEDIA_COPY]	= &cbd_fail_media_copy,
	[CBD_FAULT_HANDLER_BIO]	= &cbd_fail_handler_bio,
};

/**
 * cbd_should_fail - is this the time for @point to fire?
 * @point: the fault point
 * @size: bytes of the operation (the framework's "space" filter)
 *
 * Return: true if the caller must fail the operation.
 */
bool cbd_should_fail(enum cbd_fault_point point, size_t size)
{
	return should_fail(&cbd_faults[point], size);
}

void cbd_fault_debugfs_init(struct dentry *root)
{
	int i;

	for (i = 0; i < CBD_FAULT_POINTS; i++) {
		/* setup_fault_attr() returns 1 on success; it logs its errors */
		if (*cbd_fault_params[i])
			setup_fault_attr(&cbd_faults[i], *cbd_fault_params[i]);
		/* without CONFIG_FAULT_INJECTION_DEBUG_FS the parameter is the knob */
		fault_create_debugfs_attr(cbd_fault_names[i], root, &cbd_faults[i]);
	}
}
#else
/**
 * struct cbd_fault - the stand-in of a fault_attr
 * @probability: percent of the calls that fail, 0 (off) .. 100
 * @times: failures left, -1 for no limit
 */
struct cbd_fault {
	u32 probability;
	atomic_t times;
};

static struct cbd_fault cbd_faults[CBD_FAULT_POINTS] = {
	[0 ... CBD_FAULT_POINTS - 1] = { .times = ATOMIC_INIT(1) },
};

bool cbd_should_fail(enum cbd_fault_point point, size_t size)
{
	struct cbd_fault *f = &cbd_faults[point];
	u32 p = READ_ONCE(f->probability);

	if (likely(!p))
		return false;
	if (!atomic_read(&f->times))
		return false;
	if (p < 100 && get_random_u32_below(100) >= p)
		return false;
	/* -1: no limit; otherwise count down to zero, never below */
	atomic_add_unless(&f->times, -1, -1);
	return true;
}

void cbd_fault_debugfs_init(struct dentry *root)
{
	struct dentry *dir;
	int i;

	for (i = 0; i < CBD_FAULT_POINTS; i++) {
		dir = debugfs_create_dir(cbd_fault_names[i], root);
		debugfs_create_u32("probability", 0600, dir,
				   &cbd_faults[i].probability);
		debugfs_create_atomic_t("times", 0600, dir, &cbd_faults[i].times);
	}
}
#endif
