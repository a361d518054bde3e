// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD (CXL Block Device): module init/exit, the cbd bus and root device.
 *
 * /sys/bus/cbd/transport_register and transport_unregister create and
 * remove transports; each transport is a device on the cbd bus below the
 * root device /sys/devices/cbd.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cbd_adm.h"
#include "cbd_base.h"
#include "cbd_blkdev.h"
#include "cbd_debugfs.h"
#include "cbd_transport.h"

struct workqueue_struct *cbd_wq;

static ssize_t transport_register_store(const struct bus_type *bus,
					const char *ubuf, size_t size)
{
	char *line;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	line = cbd_adm_line_dup(ubuf, size);
	if (IS_ERR(line))
		return PTR_ERR(line);

	ret = cbdt_register(line);
	kfree(line);
	if (ret < 0)
		return ret;

	return size;
}
static BUS_ATTR_WO(transport_register);

/* Accept exactly "transport_id=<decimal>" (the newline is already cut off). */
static int cbd_parse_transport_id(const char *buf, u32 *id)
{
	static const char key[] = "transport_id=";

	if (strncmp(buf, key, sizeof(key) - 1))
		return -EINVAL;
	buf += sizeof(key) - 1;

	/* kstrtouint() rejects signs other than '+' and trailing garbage. */
	if (!isdigit(*buf))
		return -EINVAL;

	return kstrtouint(buf, 10, id) ? -EINVAL : 0;
}

static ssize_t transport_unregister_store(const struct bus_type *bus,
					  const char *ubuf, size_t size)
{
	u32 transport_id;
	char *line;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	line = cbd_adm_line_dup(ubuf, size);
	if (IS_ERR(line))
		return PTR_ERR(line);

	ret = cbd_parse_transport_id(line, &transport_id);
	kfree(line);
	if (ret)
		return ret;

	ret = cbdt_unregister(transport_id);
	if (ret < 0)
		return ret;

	return size;
}
static BUS_ATTR_WO(transport_unregister);

static struct attribute *cbd_bus_attrs[] = {
	&bus_attr_transport_register.attr,
	&bus_attr_transport_unregister.attr,
	NULL,
};
ATTRIBUTE_GROUPS(cbd_bus);

const struct bus_type cbd_bus_type = {
	.name		= "cbd",
	.bus_groups	= cbd_bus_groups,
};

struct device *cbd_root_dev;

static int __init cbd_init(void)
{
	int ret;

	cbd_wq = alloc_workqueue(CBD_DRV_NAME, WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!cbd_wq)
		return -ENOMEM;

	/* debugfs is best effort: failures leave the files out, nothing else */
	cbd_debugfs_init();

	cbd_root_dev = root_device_register(CBD_DRV_NAME);
	if (IS_ERR(cbd_root_dev)) {
		ret = PTR_ERR(cbd_root_dev);
		goto err_remove_debugfs;
	}

	ret = bus_register(&cbd_bus_type);
	if (ret)
		goto err_unregister_root_dev;

	ret = cbd_blkdev_init();
	if (ret)
		goto err_unregister_bus;

	return 0;

err_unregister_bus:
	bus_unregister(&cbd_bus_type);
err_unregister_root_dev:
	root_device_unregister(cbd_root_dev);
err_remove_debugfs:
	cbd_debugfs_exit();
	destroy_workqueue(cbd_wq);
	return ret;
}

static void __exit cbd_exit(void)
{
	/* Every transport pins the module: none is left at this point. */
	cbd_transport_exit();
	cbd_blkdev_exit();
	bus_unregister(&cbd_bus_type);
	root_device_unregister(cbd_root_dev);
	cbd_debugfs_exit();
	destroy_workqueue(cbd_wq);
}

module_init(cbd_init);
module_exit(cbd_exit);

MODULE_AUTHOR("Dongsheng Yang <dongsheng.yang@linux.dev>");
MODULE_DESCRIPTION("CXL (Compute Express Link) Block Device");
MODULE_LICENSE("GPL");
