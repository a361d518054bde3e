/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD debugfs: fault injection for the selftests
 * (CONFIG_CBD_FAULT_INJECTION).  Not an ABI.
 */
#ifndef _CBD_DEBUGFS_H
#define _CBD_DEBUGFS_H

#include "cbd_transport.h"

#if IS_ENABLED(CONFIG_CBD_FAULT_INJECTION)
void cbd_debugfs_init(void);
void cbd_debugfs_exit(void);
void cbdt_debugfs_add(struct cbd_transport *cbdt);
void cbdt_debugfs_remove(struct cbd_transport *cbdt);
#else
static inline void cbd_debugfs_init(void)
{
}

static inline void cbd_debugfs_exit(void)
{
}

static inline void cbdt_debugfs_add(struct cbd_transport *cbdt)
{
}

static inline void cbdt_debugfs_remove(struct cbd_transport *cbdt)
{
}
#endif

#endif /* _CBD_DEBUGFS_H */
