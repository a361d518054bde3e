/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD adm: the command language written into transportN/adm.
 */
#ifndef _CBD_ADM_H
#define _CBD_ADM_H

#include "cbd_transport.h"

/* The command of a sysfs write, NUL-terminated and kmalloc()ed, or ERR_PTR. */
char *cbd_adm_line_dup(const char *buf, size_t count);

/* Parse and run one adm command on @cbdt; 0 or a negative errno. */
int cbd_adm_run(struct cbd_transport *cbdt, const char *buf, size_t count);

#endif /* _CBD_ADM_H */
