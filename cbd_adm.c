// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD adm: the management command language of transportN/adm.
 *
 * A command is one line of comma-separated key=value tokens, e.g.
 * "op=dev-start,backend_id=0,queues=4", optionally ended by a newline
 * (cbd_adm_line_dup() cuts it out of the written bytes).  Parsing is
 * strict: unknown
 * or repeated keys, empty values, non-numbers, trailing garbage and keys
 * the operation does not take are all -EINVAL, and so is every id outside
 * the transport's slot counts.  Only a fully valid command reaches the
 * object code, under the transport's adm_lock.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/parser.h>

#include "cbd_adm.h"
#include "cbd_backend.h"
#include "cbd_blkdev.h"
#include "cbd_host.h"
#include "cbd_segment.h"

enum cbd_adm_key {
	CBD_ADM_KEY_OP,
	CBD_ADM_KEY_FORCE,
	CBD_ADM_KEY_PATH,
	CBD_ADM_KEY_BACKEND_ID,
	CBD_ADM_KEY_DEV_ID,
	CBD_ADM_KEY_QUEUES,
	CBD_ADM_KEY_HOST_ID,
	CBD_ADM_KEY_SEGMENT_ID,
	CBD_ADM_KEY_CACHE_SIZE,
	CBD_ADM_KEY_HANDLERS,
	CBD_ADM_KEY_ERR,
};

#define KEY(k)	BIT(CBD_ADM_KEY_##k)

static const match_table_t cbd_adm_tokens = {
	{ CBD_ADM_KEY_OP,		"op=%s" },
	{ CBD_ADM_KEY_FORCE,		"force=%u" },
	{ CBD_ADM_KEY_PATH,		"path=%s" },
	{ CBD_ADM_KEY_BACKEND_ID,	"backend_id=%u" },
	{ CBD_ADM_KEY_DEV_ID,		"dev_id=%u" },
	{ CBD_ADM_KEY_QUEUES,		"queues=%u" },
	{ CBD_ADM_KEY_HOST_ID,		"host_id=%u" },
	{ CBD_ADM_KEY_SEGMENT_ID,	"segment_id=%u" },
	{ CBD_ADM_KEY_CACHE_SIZE,	"cache_size=%u" },
	{ CBD_ADM_KEY_HANDLERS,		"handlers=%u" },
	{ CBD_ADM_KEY_ERR,		NULL },
};

/**
 * struct cbd_adm_options - a parsed adm command
 * @seen: CBD_ADM_KEY_* bits of the keys given
 * @op: index into cbd_adm_ops[]
 * @force: force=1 was given
 * @path: path= value
 * @backend_id: backend_id= value
 * @dev_id: dev_id= value
 * @queues: queues= value
 * @host_id: host_id= value
 * @segment_id: segment_id= value
 * @cache_size: cache_size= value, MiB
 * @handlers: handlers= value
 */
struct cbd_adm_options {
	unsigned long seen;
	unsigned int op;
	bool force;
	char path[CBD_PATH_LEN];
	u32 backend_id;
	u32 dev_id;
	u32 queues;
	u32 host_id;
	u32 segment_id;
	u32 cache_size;
	u32 handlers;
};

static int cbd_adm_backend_start(struct cbd_transport *cbdt,
				 struct cbd_adm_options *opts)
{
	struct cbd_backend_start_opts start = {
		.path		= opts->path,
		.backend_id	= U32_MAX,
		.handlers	= opts->handlers,
	};
	u64 cache_segs;

	if (opts->seen & KEY(BACKEND_ID)) {
		if (!cbdt_backend_id_valid(cbdt, opts->backend_id))
			return -EINVAL;
		start.backend_id = opts->backend_id;
	}

	/*
	 * cache_size is in MiB; the cache is made of whole segments.  In u64:
	 * rounding U32_MAX up must not wrap to "no cache".
	 */
	cache_segs = DIV_ROUND_UP_ULL((u64)opts->cache_size,
				      cbdt->segment_size / CBD_MB);
	if (cache_segs > cbdt->segment_num)
		return -ENOSPC;
	start.cache_segs = cache_segs;

	return cbd_backend_start(cbdt, &start);
}

static int cbd_adm_backend_stop(struct cbd_transport *cbdt,
				struct cbd_adm_options *opts)
{
	if (!cbdt_backend_id_valid(cbdt, opts->backend_id))
		return -EINVAL;

	return cbd_backend_stop(cbdt, opts->backend_id);
}

static int cbd_adm_backend_clear(struct cbd_transport *cbdt,
				 struct cbd_adm_options *opts)
{
	if (!cbdt_backend_id_valid(cbdt, opts->backend_id))
		return -EINVAL;

	return cbd_backend_clear(cbdt, opts->backend_id, opts->force);
}

static int cbd_adm_dev_start(struct cbd_transport *cbdt,
			     struct cbd_adm_options *opts)
{
	if (!cbdt_backend_id_valid(cbdt, opts->backend_id))
		return -EINVAL;

	/* 0 tells cbd_blkdev_start() to use the backend's handlers= value */
	return cbd_blkdev_start(cbdt, opts->backend_id,
				(opts->seen & KEY(QUEUES)) ? opts->queues : 0);
}

static int cbd_adm_dev_stop(struct cbd_transport *cbdt,
			    struct cbd_adm_options *opts)
{
	if (!cbdt_blkdev_id_valid(cbdt, opts->dev_id))
		return -EINVAL;

	return cbd_blkdev_stop(cbdt, opts->dev_id, opts->force);
}

static int cbd_adm_dev_clear(struct cbd_transport *cbdt,
			     struct cbd_adm_options *opts)
{
	if (!cbdt_blkdev_id_valid(cbdt, opts->dev_id))
		return -EINVAL;

	return cbd_blkdev_clear(cbdt, opts->dev_id);
}

static int cbd_adm_host_clear(struct cbd_transport *cbdt,
			      struct cbd_adm_options *opts)
{
	if (!cbdt_host_id_valid(cbdt, opts->host_id))
		return -EINVAL;

	return cbd_host_clear(cbdt, opts->host_id);
}

static int cbd_adm_segment_clear(struct cbd_transport *cbdt,
				 struct cbd_adm_options *opts)
{
	if (!cbdt_segment_id_valid(cbdt, opts->segment_id))
		return -EINVAL;

	return cbd_segment_clear(cbdt, opts->segment_id);
}

/**
 * struct cbd_adm_op - one adm operation
 * @name: value of op=
 * @required: keys that must be given (besides op)
 * @optional: keys that may be given
 * @run: the operation, called with cbdt->adm_lock held
 */
struct cbd_adm_op {
	const char *name;
	unsigned long required;
	unsigned long optional;
	int (*run)(struct cbd_transport *cbdt, struct cbd_adm_options *opts);
};

static const struct cbd_adm_op cbd_adm_ops[] = {
	{ "backend-start", KEY(PATH),
	  KEY(BACKEND_ID) | KEY(CACHE_SIZE) | KEY(HANDLERS),
	  cbd_adm_backend_start },
	{ "backend-stop", KEY(BACKEND_ID), 0, cbd_adm_backend_stop },
	{ "backend-clear", KEY(BACKEND_ID), KEY(FORCE), cbd_adm_backend_clear },
	{ "dev-start", KEY(BACKEND_ID), KEY(QUEUES), cbd_adm_dev_start },
	{ "dev-stop", KEY(DEV_ID), KEY(FORCE), cbd_adm_dev_stop },
	{ "dev-clear", KEY(DEV_ID), 0, cbd_adm_dev_clear },
	{ "host-clear", KEY(HOST_ID), 0, cbd_adm_host_clear },
	{ "segment-clear", KEY(SEGMENT_ID), 0, cbd_adm_segment_clear },
};

static int cbd_adm_parse_op(substring_t *arg, struct cbd_adm_options *opts)
{
	unsigned int i;
	int ret = -EINVAL;
	char *name;

	name = match_strdup(arg);
	if (!name)
		return -ENOMEM;

	for (i = 0; i < ARRAY_SIZE(cbd_adm_ops); i++) {
		if (!strcmp(name, cbd_adm_ops[i].name)) {
			opts->op = i;
			ret = 0;
			break;
		}
	}
	kfree(name);

	return ret;
}

/* Range checks that do not depend on the operation. */
static int cbd_adm_parse_u32(int key, substring_t *arg,
			     struct cbd_adm_options *opts)
{
	unsigned int val;

	/* base 10 only: match_uint() rejects "0x10", "1e3", "-1", "" */
	if (match_uint(arg, &val))
		return -EINVAL;

	switch (key) {
	case CBD_ADM_KEY_FORCE:
		/* v2 ABI: force takes exactly 1 */
		if (val != 1)
			return -EINVAL;
		opts->force = true;
		break;
	case CBD_ADM_KEY_BACKEND_ID:
		opts->backend_id = val;
		break;
	case CBD_ADM_KEY_DEV_ID:
		opts->dev_id = val;
		break;
	case CBD_ADM_KEY_QUEUES:
		if (!val || val > CBD_QUEUES_MAX)
			return -EINVAL;
		opts->queues = val;
		break;
	case CBD_ADM_KEY_HOST_ID:
		opts->host_id = val;
		break;
	case CBD_ADM_KEY_SEGMENT_ID:
		opts->segment_id = val;
		break;
	case CBD_ADM_KEY_CACHE_SIZE:
		opts->cache_size = val;
		break;
	case CBD_ADM_KEY_HANDLERS:
		if (!val || val > CBD_HANDLERS_MAX)
			return -EINVAL;
		opts->handlers = val;
		break;
	default:
		return -EINVAL;
	}

	return 0;
}

static int cbd_adm_parse_token(char *p, struct cbd_adm_options *opts)
{
	substring_t args[MAX_OPT_ARGS];
	int key;

	key = match_token(p, cbd_adm_tokens, args);
	if (key == CBD_ADM_KEY_ERR)
		return -EINVAL;

	/* a key given twice is ambiguous, refuse it */
	if (opts->seen & BIT(key))
		return -EINVAL;
	opts->seen |= BIT(key);

	switch (key) {
	case CBD_ADM_KEY_OP:
		return cbd_adm_parse_op(&args[0], opts);
	case CBD_ADM_KEY_PATH:
		if (args[0].to - args[0].from >= CBD_PATH_LEN)
			return -EINVAL;
		match_strlcpy(opts->path, &args[0], CBD_PATH_LEN);
		return 0;
	default:
		return cbd_adm_parse_u32(key, &args[0], opts);
	}
}

static int cbd_adm_parse(char *buf, struct cbd_adm_options *opts)
{
	const struct cbd_adm_op *op;
	char *p;
	int ret;

	while ((p = strsep(&buf, ",")) != NULL) {
		if (!*p)
			continue;
		ret = cbd_adm_parse_token(p, opts);
		if (ret)
			return ret;
	}

	/* v2 silently meant backend-start without op=; we do not guess */
	if (!(opts->seen & KEY(OP)))
		return -EINVAL;

	op = &cbd_adm_ops[opts->op];
	if ((opts->seen & op->required) != op->required)
		return -EINVAL;
	if (opts->seen & ~(op->required | op->optional | KEY(OP)))
		return -EINVAL;

	return 0;
}

/**
 * cbd_adm_line_dup - copy the command line out of a sysfs write
 * @buf: the bytes written (sysfs adds a NUL after them, but the writer
 *	may have put NULs among them)
 * @count: number of bytes written
 *
 * A write to a CBD control file is one command: the bytes up to the first
 * newline.  Only that newline may follow the command.  An empty command,
 * a NUL inside it (everything behind the NUL would be ignored by a string
 * parser, "transport_id=0\0junk" would look valid) or bytes after the
 * newline are refused.
 *
 * Return: the command, NUL-terminated, to be kfree()d; ERR_PTR(-EINVAL)
 * or ERR_PTR(-ENOMEM).
 */
char *cbd_adm_line_dup(const char *buf, size_t count)
{
	const char *nl = memchr(buf, '\n', count);
	size_t len = nl ? nl - buf : count;
	char *line;

	if (!len || memchr(buf, '\0', len))
		return ERR_PTR(-EINVAL);
	if (nl && len + 1 != count)
		return ERR_PTR(-EINVAL);

	line = kmemdup_nul(buf, len, GFP_KERNEL);
	return line ?: ERR_PTR(-ENOMEM);
}

/**
 * cbd_adm_run - parse and execute one adm command
 * @cbdt: transport the command was written to
 * @buf: the bytes written by the user (need not be NUL-terminated)
 * @count: their number
 *
 * Context: process context; takes cbdt->adm_lock.
 * Return: 0 on success or a negative errno.
 */
int cbd_adm_run(struct cbd_transport *cbdt, const char *buf, size_t count)
{
	struct cbd_adm_options *opts;
	char *line;
	int ret;

	line = cbd_adm_line_dup(buf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);

	opts = kzalloc(sizeof(*opts), GFP_KERNEL);
	if (!opts) {
		ret = -ENOMEM;
		goto out_free_line;
	}

	ret = cbd_adm_parse(line, opts);
	if (ret)
		goto out_free_opts;

	mutex_lock(&cbdt->adm_lock);
	ret = cbd_adm_ops[opts->op].run(cbdt, opts);
	mutex_unlock(&cbdt->adm_lock);

out_free_opts:
	kfree(opts);
out_free_line:
	kfree(line);
	return ret;
}
