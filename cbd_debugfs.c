// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD debugfs: fault injection for the selftests.
 *
 *   /sys/kernel/debug/cbd/transportN/inject_backend_crash
 *
 * Writing a backend id makes that backend, which must run on this host,
 * die as if its host had crashed: nothing is written to the transport, so
 * its heartbeat goes stale and its channels keep their entries in flight.
 * This exercises the peer-failure paths (blkdev EIO after the heartbeat
 * timeout, re-attach with backend_id=) on a single host.
 *
 *   /sys/kernel/debug/cbd/transportN/inject_handler_stall
 *
 * Writing "SEG 1" makes the handler of channel SEG on this host stop
 * consuming its submit ring while its backend stays alive ("SEG 0" lets
 * it go on): the blkdev's io_timeout path, and a window in which entries
 * in flight can be corrupted on purpose.
 *
 *   /sys/kernel/debug/cbd/fail_media_copy/
 *
 * Makes the machine-check-safe copy out of the transport fail (see
 * cbd_media.c).
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/uaccess.h>

#include "cbd_backend.h"
#include "cbd_debugfs.h"
#include "cbd_handler.h"
#include "cbd_media.h"

static struct dentry *cbd_debugfs_root;

static ssize_t cbd_inject_backend_crash_write(struct file *file,
					      const char __user *ubuf,
					      size_t count, loff_t *ppos)
{
	struct cbd_transport *cbdt = file->private_data;
	u32 backend_id;
	int ret;

	ret = kstrtou32_from_user(ubuf, count, 10, &backend_id);
	if (ret)
		return ret;

	if (!cbdt_backend_id_valid(cbdt, backend_id))
		return -EINVAL;

	/* the same serialisation as backend-stop */
	mutex_lock(&cbdt->adm_lock);
	ret = cbd_backend_crash(cbdt, backend_id);
	mutex_unlock(&cbdt->adm_lock);

	return ret ? ret : count;
}

static const struct file_operations cbd_inject_backend_crash_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= cbd_inject_backend_crash_write,
	.llseek	= noop_llseek,
};

static ssize_t cbd_inject_handler_stall_write(struct file *file,
					      const char __user *ubuf,
					      size_t count, loff_t *ppos)
{
	struct cbd_transport *cbdt = file->private_data;
	u32 seg_id, stall;
	char buf[32];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	if (sscanf(buf, "%u %u", &seg_id, &stall) != 2 || stall > 1)
		return -EINVAL;

	ret = cbd_handler_stall(cbdt, seg_id, stall);
	return ret ? ret : count;
}

static const struct file_operations cbd_inject_handler_stall_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= cbd_inject_handler_stall_write,
	.llseek	= noop_llseek,
};

void cbdt_debugfs_add(struct cbd_transport *cbdt)
{
	cbdt->debugfs_dir = debugfs_create_dir(dev_name(&cbdt->device),
					       cbd_debugfs_root);
	debugfs_create_file("inject_backend_crash", 0200, cbdt->debugfs_dir,
			    cbdt, &cbd_inject_backend_crash_fops);
	debugfs_create_file("inject_handler_stall", 0200, cbdt->debugfs_dir,
			    cbdt, &cbd_inject_handler_stall_fops);
}

/* Waits for writers in progress: debugfs files are removal-protected. */
void cbdt_debugfs_remove(struct cbd_transport *cbdt)
{
	debugfs_remove_recursive(cbdt->debugfs_dir);
	cbdt->debugfs_dir = NULL;
}

void cbd_debugfs_init(void)
{
	cbd_debugfs_root = debugfs_create_dir(CBD_DRV_NAME, NULL);
	cbd_media_debugfs_init(cbd_debugfs_root);
}

void cbd_debugfs_exit(void)
{
	debugfs_remove_recursive(cbd_debugfs_root);
}
