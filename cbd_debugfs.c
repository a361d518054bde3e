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
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>

#include "cbd_backend.h"
#include "cbd_debugfs.h"

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

void cbdt_debugfs_add(struct cbd_transport *cbdt)
{
	cbdt->debugfs_dir = debugfs_create_dir(dev_name(&cbdt->device),
					       cbd_debugfs_root);
	debugfs_create_file("inject_backend_crash", 0200, cbdt->debugfs_dir,
			    cbdt, &cbd_inject_backend_crash_fops);
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
}

void cbd_debugfs_exit(void)
{
	debugfs_remove_recursive(cbd_debugfs_root);
}
