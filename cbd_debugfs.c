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
 *   /sys/kernel/debug/cbd/transportN/inject_memory_failure
 *
 * Writing "OFF LEN" (bytes in the transport) reports a media error in
 * that range as the DAX notify_failure of a poisoned page does, without
 * poisoning anything: what cbdt_media_failure() makes of it.
 *
 *   /sys/kernel/debug/cbd/fail_media_copy/, fail_handler_bio/
 *
 * The fault points of cbd_fault.c.
 *
 * Built with CONFIG_CBD_FAULT_INJECTION only (cbd_debugfs.h has the stubs).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/uaccess.h>

#include "cbd_backend.h"
#include "cbd_debugfs.h"
#include "cbd_fault.h"
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

/* The user's write "A B": two unsigned decimal numbers. */
static int cbd_debugfs_parse_pair(const char __user *ubuf, size_t count,
				  u64 *a, u64 *b)
{
	char buf[48];

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	return sscanf(buf, "%llu %llu", a, b) == 2 ? 0 : -EINVAL;
}

static ssize_t cbd_inject_handler_stall_write(struct file *file,
					      const char __user *ubuf,
					      size_t count, loff_t *ppos)
{
	struct cbd_transport *cbdt = file->private_data;
	u64 seg_id, stall;
	int ret;

	ret = cbd_debugfs_parse_pair(ubuf, count, &seg_id, &stall);
	if (ret)
		return ret;
	if (seg_id > U32_MAX || stall > 1)
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

static ssize_t cbd_inject_memory_failure_write(struct file *file,
					       const char __user *ubuf,
					       size_t count, loff_t *ppos)
{
	u64 off, len;
	int ret;

	ret = cbd_debugfs_parse_pair(ubuf, count, &off, &len);
	if (ret)
		return ret;

	cbdt_media_failure(file->private_data, off, len);
	return count;
}

static const struct file_operations cbd_inject_memory_failure_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= cbd_inject_memory_failure_write,
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
	debugfs_create_file("inject_memory_failure", 0200, cbdt->debugfs_dir,
			    cbdt, &cbd_inject_memory_failure_fops);
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
	cbd_fault_debugfs_init(cbd_debugfs_root);
}

void cbd_debugfs_exit(void)
{
	debugfs_remove_recursive(cbd_debugfs_root);
}
