// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD (CXL Block Device): module init/exit, the cbd bus and root device.
 */

#include <linux/module.h>

static int __init cbd_init(void)
{
	return 0;
}

static void __exit cbd_exit(void)
{
}

module_init(cbd_init);
module_exit(cbd_exit);

MODULE_AUTHOR("Dongsheng Yang <dongsheng.yang@linux.dev>");
MODULE_DESCRIPTION("CXL (Compute Express Link) Block Device");
MODULE_LICENSE("GPL");
