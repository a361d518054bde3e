// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD transport: registration and unregistration of a DAX-capable pmem
 * device as a transport, its transportN sysfs tree and the DAX holder
 * callbacks.  The layers below: the DAX mapping (cbd_dax.c), the
 * on-media layout (cbd_layout.c), slot claims and local objects
 * (cbd_slot.c), the sysfs containers (cbd_sysfs.c).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/parser.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cbd_adm.h"
#include "cbd_backend.h"
#include "cbd_blkdev.h"
#include "cbd_channel.h"
#include "cbd_debugfs.h"
#include "cbd_heartbeat.h"
#include "cbd_host.h"
#include "cbd_media.h"
#include "cbd_segment.h"
#include "cbd_transport.h"

/* Local transport ids; cbd_transports[] is indexed by them. */
static DEFINE_IDA(cbd_transport_ida);
/* Protects cbd_transports[] and serialises register against unregister. */
static DEFINE_MUTEX(cbd_transports_lock);
static struct cbd_transport *cbd_transports[CBD_TRANSPORT_MAX];

static void cbdt_remove(struct cbd_transport *cbdt);

/*
 * The pmem device is going away (driver unbind, namespace disable, CXL
 * region teardown): its memory is unmapped once this returns, so stop
 * everything that could touch it and unregister, as a forced
 * transport_unregister would.  Called in a dax SRCU read section.
 *
 * A memory error in a registered transport is reported with the objects
 * in the failed range (cbdt_media_failure()); reads of the failed lines
 * fail their requests with EIO.  -EOPNOTSUPP lets memory_failure() go on
 * with its generic handling of the pages.
 */
static int cbdt_notify_failure(struct dax_device *dax_dev, u64 offset,
			       u64 len, int mf_flags)
{
	struct cbd_transport *cbdt = dax_holder(dax_dev);
	u64 base = (u64)cbdt->dax_pgoff << PAGE_SHIFT;

	if (mf_flags & MF_MEM_PRE_REMOVE) {
		cbdt_remove(cbdt);
		return 0;
	}

	/* @offset is in the dax device; the transport starts at dax_pgoff */
	if (offset < base) {
		if (len <= base - offset) {
			cbdt_log(err, cbdt,
				 "memory failure at dax offset %llu len %llu: before the transport\n",
				 offset, len);
			return -EOPNOTSUPP;
		}
		len -= base - offset;
		offset = base;
	}
	cbdt_media_failure(cbdt, offset - base, len);
	return -EOPNOTSUPP;
}

static const struct dax_holder_operations cbdt_dax_ops = {
	.notify_failure = cbdt_notify_failure,
};

/* ------------------------------------------------------------------ */
/* format policy                                                      */
/* ------------------------------------------------------------------ */

/*
 * Host slots in use on a formatted transport, 0 if its header is not
 * valid.  Nothing watches the heartbeats before registration, so a slot
 * that a crashed host left counts as well: force=1 formats anyway.
 */
static u32 cbdt_hosts_before_format(struct cbd_transport *cbdt)
{
	if (le64_to_cpu(cbdt->info->magic) != CBD_TRANSPORT_MAGIC ||
	    cbdt_load_geometry(cbdt, cbdt->info))
		return 0;

	return cbd_hosts_in_use(cbdt);
}

static int cbdt_format_allowed(struct cbd_transport *cbdt, bool force)
{
	u32 used;

	if (le64_to_cpu(cbdt->info->magic) == CBD_TRANSPORT_MAGIC && !force) {
		used = cbdt_hosts_before_format(cbdt);
		if (used) {
			cbdt_log(err, cbdt,
				 "%u host slot(s) in use (a host may be alive), use force=1 to format\n",
				 used);
			return -EBUSY;
		}
		cbdt_log(err, cbdt, "transport already formatted, use force=1 to format\n");
		return -EEXIST;
	}

	if (cbdt->size < CBD_TRASNPORT_SIZE_MIN) {
		cbdt_log(err, cbdt, "device too small: %llu bytes, at least %llu needed\n",
			 cbdt->size, CBD_TRASNPORT_SIZE_MIN);
		return -ENOSPC;
	}

	return 0;
}

/* ------------------------------------------------------------------ */
/* sysfs: transportN attributes                                       */
/* ------------------------------------------------------------------ */

static inline struct cbd_transport *to_cbdt(struct device *dev)
{
	return container_of(dev, struct cbd_transport, device);
}

static ssize_t adm_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct cbd_transport *cbdt = to_cbdt(dev);
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	/* cbd_adm_run() takes adm_lock itself; state_lock fences unregister. */
	mutex_lock(&cbdt->state_lock);
	if (cbdt->adm_enabled)
		ret = cbd_adm_run(cbdt, buf, count);
	else
		ret = -ENODEV;
	mutex_unlock(&cbdt->state_lock);

	return ret < 0 ? ret : count;
}
static DEVICE_ATTR_WO(adm);

static ssize_t info_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct cbd_transport *cbdt = to_cbdt(dev);
	struct cbd_transport_info *info = cbdt->info;

	return sysfs_emit(buf,
			  "magic: 0x%llx\nversion: %u\nflags: %x\n\n"
			  "hosts_registered: %u\nhost_area_off: %llu\n"
			  "bytes_per_host_info: %u\nhost_num: %u\n\n"
			  "backend_area_off: %llu\nbytes_per_backend_info: %u\n"
			  "backend_num: %u\n\n"
			  "blkdev_area_off: %llu\nbytes_per_blkdev_info: %u\n"
			  "blkdev_num: %u\n\n"
			  "segment_area_off: %llu\nbytes_per_segment: %u\n"
			  "segment_num: %u\n",
			  le64_to_cpu(READ_ONCE(info->magic)),
			  le16_to_cpu(READ_ONCE(info->version)),
			  le16_to_cpu(READ_ONCE(info->flags)),
			  le32_to_cpu(READ_ONCE(info->hosts_registered)),
			  cbdt->host_area_off, cbdt->host_info_size, cbdt->host_num,
			  cbdt->backend_area_off, cbdt->backend_info_size,
			  cbdt->backend_num,
			  cbdt->blkdev_area_off, cbdt->blkdev_info_size,
			  cbdt->blkdev_num,
			  cbdt->segment_area_off, cbdt->segment_size,
			  cbdt->segment_num);
}
static DEVICE_ATTR_ADMIN_RO(info);

static ssize_t my_host_id_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct cbd_transport *cbdt = to_cbdt(dev);
	ssize_t ret = 0;

	/* cbdt->host exists exactly while adm is enabled. */
	mutex_lock(&cbdt->state_lock);
	if (cbdt->adm_enabled)
		ret = sysfs_emit(buf, "%u\n", cbdt->host->host_id);
	mutex_unlock(&cbdt->state_lock);

	return ret;
}
static DEVICE_ATTR_ADMIN_RO(my_host_id);

/* v3/cbdctrl name of my_host_id */
static struct device_attribute dev_attr_host_id =
	__ATTR(host_id, 0400, my_host_id_show, NULL);

static ssize_t path_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_cbdt(dev)->path);
}
static DEVICE_ATTR_ADMIN_RO(path);

static struct attribute *cbd_transport_attrs[] = {
	&dev_attr_adm.attr,
	&dev_attr_info.attr,
	&dev_attr_my_host_id.attr,
	&dev_attr_host_id.attr,
	&dev_attr_path.attr,
	NULL,
};
ATTRIBUTE_GROUPS(cbd_transport);

static const struct device_type cbd_transport_type = {
	.name	= "cbd_transport",
	.groups	= cbd_transport_groups,
};

static int cbdt_sysfs_init(struct cbd_transport *cbdt)
{
	struct cbd_obj_container *cont;
	int ret;

	cont = cbd_obj_container_create(cbdt, "cbd_hosts", &cbd_hosts_type,
					cbdt->host_num, "host", &cbd_host_type);
	if (IS_ERR(cont))
		return PTR_ERR(cont);
	cbdt->hosts_dev = cont;

	cont = cbd_obj_container_create(cbdt, "cbd_backends", &cbd_backends_type,
					cbdt->backend_num, "backend",
					&cbd_backend_type);
	if (IS_ERR(cont)) {
		ret = PTR_ERR(cont);
		goto err_destroy_hosts;
	}
	cbdt->backends_dev = cont;

	cont = cbd_obj_container_create(cbdt, "cbd_segments", &cbd_segments_type,
					cbdt->segment_num, "segment",
					&cbd_segment_type);
	if (IS_ERR(cont)) {
		ret = PTR_ERR(cont);
		goto err_destroy_backends;
	}
	cbdt->segments_dev = cont;

	cont = cbd_obj_container_create(cbdt, "cbd_blkdevs", &cbd_blkdevs_type,
					cbdt->blkdev_num, "blkdev",
					&cbd_blkdev_type);
	if (IS_ERR(cont)) {
		ret = PTR_ERR(cont);
		goto err_destroy_segments;
	}
	cbdt->blkdevs_dev = cont;

	return 0;

err_destroy_segments:
	cbd_obj_container_destroy(cbdt->segments_dev);
err_destroy_backends:
	cbd_obj_container_destroy(cbdt->backends_dev);
err_destroy_hosts:
	cbd_obj_container_destroy(cbdt->hosts_dev);
	return ret;
}

static void cbdt_sysfs_exit(struct cbd_transport *cbdt)
{
	cbd_obj_container_destroy(cbdt->blkdevs_dev);
	cbd_obj_container_destroy(cbdt->segments_dev);
	cbd_obj_container_destroy(cbdt->backends_dev);
	cbd_obj_container_destroy(cbdt->hosts_dev);
}

/* ------------------------------------------------------------------ */
/* register / unregister                                              */
/* ------------------------------------------------------------------ */

struct cbdt_register_options {
	char path[CBD_PATH_LEN];
	char hostname[CBD_NAME_LEN];
	bool force;
	bool format;
};

enum {
	CBDT_REG_OPT_ERR,
	CBDT_REG_OPT_PATH,
	CBDT_REG_OPT_HOSTNAME,
	CBDT_REG_OPT_FORCE,
	CBDT_REG_OPT_FORMAT,
};

static const match_table_t cbdt_register_opt_tokens = {
	{ CBDT_REG_OPT_PATH,		"path=%s"	},
	{ CBDT_REG_OPT_HOSTNAME,	"hostname=%s"	},
	{ CBDT_REG_OPT_FORCE,		"force=%u"	},
	{ CBDT_REG_OPT_FORMAT,		"format=%u"	},
	{ CBDT_REG_OPT_ERR,		NULL		},
};

/* Copy a %s argument; it must be non-empty and fit with its NUL. */
static int cbdt_opt_str(substring_t *arg, char *dst, size_t size)
{
	if (arg->to - arg->from >= size)
		return -EINVAL;

	match_strlcpy(dst, arg, size);
	return 0;
}

static int cbdt_opt_bool(substring_t *arg, bool *dst)
{
	unsigned int val;

	if (match_uint(arg, &val))
		return -EINVAL;

	*dst = val;
	return 0;
}

static int cbdt_parse_option(char *p, struct cbdt_register_options *opts,
			     unsigned long *seen)
{
	substring_t args[MAX_OPT_ARGS];
	int token;

	token = match_token(p, cbdt_register_opt_tokens, args);
	if (token == CBDT_REG_OPT_ERR || __test_and_set_bit(token, seen)) {
		pr_err("invalid or duplicate option '%s'\n", p);
		return -EINVAL;
	}

	switch (token) {
	case CBDT_REG_OPT_PATH:
		return cbdt_opt_str(&args[0], opts->path, sizeof(opts->path));
	case CBDT_REG_OPT_HOSTNAME:
		return cbdt_opt_str(&args[0], opts->hostname,
				    sizeof(opts->hostname));
	case CBDT_REG_OPT_FORCE:
		return cbdt_opt_bool(&args[0], &opts->force);
	case CBDT_REG_OPT_FORMAT:
		return cbdt_opt_bool(&args[0], &opts->format);
	}

	return -EINVAL;
}

static int cbdt_parse_options(const char *buf,
			      struct cbdt_register_options *opts)
{
	unsigned long seen = 0;
	char *options, *orig, *p;
	int ret = 0;

	orig = kstrndup(buf, PAGE_SIZE, GFP_KERNEL);
	if (!orig)
		return -ENOMEM;

	options = orig;
	while ((p = strsep(&options, ",\n")) != NULL) {
		if (!*p)
			continue;
		ret = cbdt_parse_option(p, opts, &seen);
		if (ret)
			goto out;
	}

	if (!test_bit(CBDT_REG_OPT_PATH, &seen) ||
	    !test_bit(CBDT_REG_OPT_HOSTNAME, &seen)) {
		pr_err("path= and hostname= are required\n");
		ret = -EINVAL;
	}
out:
	kfree(orig);
	return ret;
}

static struct cbd_transport *cbdt_alloc(const char *path)
{
	struct cbd_transport *cbdt;
	int id;

	cbdt = kzalloc(sizeof(*cbdt), GFP_KERNEL);
	if (!cbdt)
		return ERR_PTR(-ENOMEM);

	id = ida_alloc_max(&cbd_transport_ida, CBD_TRANSPORT_MAX - 1, GFP_KERNEL);
	if (id < 0) {
		kfree(cbdt);
		return ERR_PTR(id);
	}

	cbdt->id = id;
	strscpy(cbdt->path, path, sizeof(cbdt->path));
	mutex_init(&cbdt->state_lock);
	mutex_init(&cbdt->adm_lock);
	spin_lock_init(&cbdt->lock);
	INIT_LIST_HEAD(&cbdt->backends);
	INIT_LIST_HEAD(&cbdt->blkdevs);
	mutex_init(&cbdt->media_lock);
	INIT_LIST_HEAD(&cbdt->media_listeners);
	xa_init(&cbdt->local_queues);
	xa_init(&cbdt->local_handlers);
	return cbdt;
}

/* Only for a transport whose device was never initialised. */
static void cbdt_free(struct cbd_transport *cbdt)
{
	/* every queue removed itself at dev-stop */
	WARN_ON_ONCE(!xa_empty(&cbdt->local_queues));
	xa_destroy(&cbdt->local_queues);
	/* and every handler at backend-stop */
	WARN_ON_ONCE(!xa_empty(&cbdt->local_handlers));
	xa_destroy(&cbdt->local_handlers);
	ida_free(&cbd_transport_ida, cbdt->id);
	kfree(cbdt);
}

/* Last reference to transportN: the IDA id goes with the memory. */
static void cbdt_release(struct device *dev)
{
	cbdt_free(to_cbdt(dev));
}

static int cbdt_device_add(struct cbd_transport *cbdt)
{
	struct device *dev = &cbdt->device;
	int ret;

	device_initialize(dev);
	dev->bus = &cbd_bus_type;
	dev->type = &cbd_transport_type;
	dev->parent = cbd_root_dev;
	dev->release = cbdt_release;

	ret = dev_set_name(dev, "transport%u", cbdt->id);
	if (!ret)
		ret = device_add(dev);
	return ret;
}

/* Refuse a new host when the transport already has its maximum alive. */
static int cbdt_check_hosts(struct cbd_transport *cbdt)
{
	unsigned long deadline = jiffies + CBD_HB_INTERVAL +
				 msecs_to_jiffies(CBD_HB_TIMEOUT_MS);
	u32 alive;
	int ret;

	/*
	 * A host slot left by a crash counts as alive until this host has
	 * watched it unchanged for CBD_HB_TIMEOUT_MS, while a running host
	 * is seen beating within a scan or two: wait, bounded, for either.
	 */
	while ((alive = cbd_hosts_alive(cbdt)) >= CBDT_HOSTS_MAX) {
		if (cbd_hosts_beating(cbdt) >= CBDT_HOSTS_MAX ||
		    time_after(jiffies, deadline))
			goto err_busy;
		ret = cbd_heartbeats_wait_scan(cbdt);
		if (ret)
			return ret;
	}
	return 0;

err_busy:
	cbdt_log(err, cbdt, "%u host(s) alive, at most %u allowed%s\n",
		 alive, CBDT_HOSTS_MAX,
		 IS_ENABLED(CONFIG_CBD_MULTIHOST) ? "" :
		 " (CONFIG_CBD_MULTIHOST is off)");
	return -EBUSY;
}

/* Everything up to the validated geometry: no shared state written yet. */
static int cbdt_open(struct cbd_transport *cbdt,
		     struct cbdt_register_options *opts)
{
	int ret;

	ret = cbdt_dax_init(cbdt, &cbdt_dax_ops);
	if (ret)
		return ret;

	if (opts->format) {
		ret = cbdt_format_allowed(cbdt, opts->force);
		if (!ret)
			ret = cbdt_format(cbdt);
		if (ret)
			goto err_dax_exit;
	}

	ret = cbdt_validate(cbdt);
	if (ret)
		goto err_dax_exit;

	ret = cbd_heartbeats_init(cbdt);
	if (ret)
		goto err_dax_exit;

	ret = cbdt_check_hosts(cbdt);
	if (ret)
		goto err_heartbeats_exit;

	return 0;

err_heartbeats_exit:
	cbd_heartbeats_exit(cbdt);
err_dax_exit:
	cbdt_dax_exit(cbdt);
	return ret;
}

static int cbdt_register_locked(struct cbdt_register_options *opts)
{
	struct cbd_transport *cbdt;
	int ret;

	lockdep_assert_held(&cbd_transports_lock);

	cbdt = cbdt_alloc(opts->path);
	if (IS_ERR(cbdt))
		return PTR_ERR(cbdt);

	ret = cbdt_open(cbdt, opts);
	if (ret) {
		cbdt_free(cbdt);
		return ret;
	}

	ret = cbdt_device_add(cbdt);
	if (ret)
		goto err_put_device;

	ret = cbd_host_register(cbdt, opts->hostname);
	if (ret)
		goto err_del_device;

	ret = cbdt_sysfs_init(cbdt);
	if (ret)
		goto err_unregister_host;

	cbdt_hosts_registered_add(cbdt, 1);

	cbd_transports[cbdt->id] = cbdt;

	mutex_lock(&cbdt->state_lock);
	cbdt->adm_enabled = true;
	mutex_unlock(&cbdt->state_lock);
	cbdt_debugfs_add(cbdt);

	cbdt_log(info, cbdt, "registered %s as host %u\n", cbdt->path,
		 cbdt->host->host_id);
	return 0;

err_unregister_host:
	cbd_host_unregister(cbdt);
err_del_device:
	device_del(&cbdt->device);
err_put_device:
	cbd_heartbeats_exit(cbdt);
	/* The DAX mapping goes before the last reference frees cbdt. */
	cbdt_dax_exit(cbdt);
	put_device(&cbdt->device);
	return ret;
}

/**
 * cbdt_register - register a pmem device as a CBD transport
 * @buf: NUL-terminated option string written to transport_register
 *
 * Return: 0 or a negative errno; on failure nothing is left behind.
 */
int cbdt_register(const char *buf)
{
	struct cbdt_register_options *opts;
	int ret;

	/* Each transport pins the module until it is unregistered. */
	if (!try_module_get(THIS_MODULE))
		return -ENODEV;

	opts = kzalloc(sizeof(*opts), GFP_KERNEL);
	if (!opts) {
		ret = -ENOMEM;
		goto err_module_put;
	}

	ret = cbdt_parse_options(buf, opts);
	if (ret)
		goto err_free_opts;

	if (!strstr(opts->path, "/dev/pmem")) {
		pr_err("%s is not a pmem device (/dev/pmem*)\n", opts->path);
		ret = -EINVAL;
		goto err_free_opts;
	}

	/* before the transport is touched: a bad name must not format it */
	if (!cbd_host_name_valid(opts->hostname)) {
		pr_err("hostname must be printable ASCII\n");
		ret = -EINVAL;
		goto err_free_opts;
	}

	mutex_lock(&cbd_transports_lock);
	ret = cbdt_register_locked(opts);
	mutex_unlock(&cbd_transports_lock);
	if (ret)
		goto err_free_opts;

	kfree(opts);
	return 0;

err_free_opts:
	kfree(opts);
err_module_put:
	module_put(THIS_MODULE);
	return ret;
}

/*
 * Exactly the reverse of cbdt_register_locked(); the caller has disabled
 * adm and fault injection, and stopped every local object.
 */
static void cbdt_unregister_locked(struct cbd_transport *cbdt)
{
	lockdep_assert_held(&cbd_transports_lock);

	cbd_transports[cbdt->id] = NULL;
	cbdt_hosts_registered_add(cbdt, -1);
	cbdt_sysfs_exit(cbdt);
	cbd_host_unregister(cbdt);
	device_del(&cbdt->device);
	cbd_heartbeats_exit(cbdt);
	cbdt_dax_exit(cbdt);
	put_device(&cbdt->device);
	module_put(THIS_MODULE);
}

/**
 * cbdt_unregister - unregister a transport of this host
 * @transport_id: local transport id (N of transportN)
 *
 * Return: 0, -EINVAL if there is no such transport, or -EBUSY while
 * backends or blkdevs of this host still use it.
 */
int cbdt_unregister(u32 transport_id)
{
	struct cbd_transport *cbdt;
	int ret = 0;

	if (transport_id >= CBD_TRANSPORT_MAX)
		return -EINVAL;

	mutex_lock(&cbd_transports_lock);
	cbdt = cbd_transports[transport_id];
	if (!cbdt) {
		ret = -EINVAL;
		goto out_unlock;
	}

	/*
	 * adm commands start objects under state_lock: checked under it, the
	 * transport stays empty until cbdt_unregister_locked() disables adm.
	 */
	mutex_lock(&cbdt->state_lock);
	if (cbdt_has_local_objects(cbdt)) {
		mutex_unlock(&cbdt->state_lock);
		cbdt_log(err, cbdt, "backends or blkdevs still running\n");
		ret = -EBUSY;
		goto out_unlock;
	}
	cbdt->adm_enabled = false;
	mutex_unlock(&cbdt->state_lock);
	cbdt_debugfs_remove(cbdt);
	cbdt_unregister_locked(cbdt);

out_unlock:
	mutex_unlock(&cbd_transports_lock);
	return ret;
}

/* Some local blkdev or backend id, or false when there is none left. */
static bool cbdt_first_blkdev_id(struct cbd_transport *cbdt, u32 *id)
{
	struct cbd_blkdev *blkdev;

	spin_lock(&cbdt->lock);
	blkdev = list_first_entry_or_null(&cbdt->blkdevs, struct cbd_blkdev,
					  node);
	if (blkdev)
		*id = blkdev->blkdev_id;
	spin_unlock(&cbdt->lock);

	return blkdev;
}

static bool cbdt_first_backend_id(struct cbd_transport *cbdt, u32 *id)
{
	struct cbd_backend *cbdb;

	spin_lock(&cbdt->lock);
	cbdb = list_first_entry_or_null(&cbdt->backends, struct cbd_backend,
					node);
	if (cbdb)
		*id = cbdb->backend_id;
	spin_unlock(&cbdt->lock);

	return cbdb;
}

/*
 * Stop every local object: blkdevs as dev-stop force=1 does (their I/O
 * fails with EIO), then backends as backend-stop does, which writes the
 * dirty cache data back while the memory is still there.  A backend that
 * cannot stop cleanly (a blkdev on another host still uses it, or the
 * writeback fails) is torn down as if its host had died: its state stays
 * in the memory and a re-attach continues from it.
 */
static void cbdt_stop_local_objects(struct cbd_transport *cbdt)
{
	u32 id;
	int ret;

	lockdep_assert_held(&cbd_transports_lock);

	while (cbdt_first_blkdev_id(cbdt, &id))
		cbd_blkdev_stop(cbdt, id, true);

	while (cbdt_first_backend_id(cbdt, &id)) {
		ret = cbd_backend_stop(cbdt, id);
		if (!ret)
			continue;
		cbdt_log(err, cbdt, "backend%u: stop failed (%d), abandoning it\n",
			 id, ret);
		cbd_backend_crash(cbdt, id);
	}
}

/*
 * The pmem device under @cbdt is being removed.  @cbdt may be in the
 * middle of cbdt_unregister(), which drops the DAX holder without
 * waiting for readers: only a transport still in cbd_transports[] is
 * known to be alive, and it is compared before it is dereferenced.
 */
static void cbdt_remove(struct cbd_transport *cbdt)
{
	u32 i;

	mutex_lock(&cbd_transports_lock);
	for (i = 0; i < CBD_TRANSPORT_MAX; i++)
		if (cbd_transports[i] == cbdt)
			break;
	if (i == CBD_TRANSPORT_MAX)
		goto out_unlock;

	cbdt_log(err, cbdt,
		 "%s is going away: stopping its blkdevs and backends and unregistering\n",
		 cbdt->path);

	/* no adm command or fault injection runs or starts from here on */
	mutex_lock(&cbdt->state_lock);
	cbdt->adm_enabled = false;
	mutex_unlock(&cbdt->state_lock);
	cbdt_debugfs_remove(cbdt);

	cbdt_stop_local_objects(cbdt);
	cbdt_unregister_locked(cbdt);

out_unlock:
	mutex_unlock(&cbd_transports_lock);
}

void cbd_transport_exit(void)
{
	ida_destroy(&cbd_transport_ida);
}
