// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD host: the slot of each host that registered the transport, its
 * heartbeat and the hostN sysfs directories.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cbd_heartbeat.h"
#include "cbd_host.h"
#include "cbd_media.h"

/**
 * cbd_host_info_is_alive - liveness of a host slot
 * @cbdt: transport
 * @id: valid host slot index
 *
 * Return: true if the slot is in use and its heartbeat changed lately.
 */
bool cbd_host_info_is_alive(struct cbd_transport *cbdt, u32 id)
{
	struct cbd_host_info *info = cbdt_host_info(cbdt, id);

	return cbd_slot_state(&info->state) != CBD_SLOT_STATE_NONE &&
	       cbd_heartbeat_within(cbdt, CBD_HB_HOST, id, &info->alive_ts,
				    CBD_HB_TIMEOUT_MS);
}

/**
 * cbd_hosts_alive - count the alive host slots of a transport
 * @cbdt: transport with validated geometry
 *
 * Return: the number of hosts whose heartbeat is alive, including this one.
 */
u32 cbd_hosts_alive(struct cbd_transport *cbdt)
{
	u32 i, alive = 0;

	for (i = 0; i < cbdt->host_num; i++) {
		if (cbd_host_info_is_alive(cbdt, i))
			alive++;
	}

	return alive;
}

/**
 * cbd_hosts_in_use - count the host slots in use, on a transport not watched
 * @cbdt: transport with validated geometry, not registered (no heartbeat
 *	observation running)
 *
 * One look at the slots cannot tell a live host from a crashed one: a slot
 * that its host did not release counts.
 *
 * Return: the number of host slots whose state is not none.
 */
u32 cbd_hosts_in_use(struct cbd_transport *cbdt)
{
	u32 i, used = 0;

	for (i = 0; i < cbdt->host_num; i++) {
		if (cbd_slot_state(&cbdt_host_info(cbdt, i)->state) !=
		    CBD_SLOT_STATE_NONE)
			used++;
	}

	return used;
}

/**
 * cbd_hosts_beating - count the host slots seen beating since registration
 * @cbdt: transport with validated geometry
 *
 * Unlike cbd_hosts_alive(), a slot left by a crashed host is not counted
 * while this host cannot tell it from a live one yet.
 *
 * Return: the number of hosts known to be alive.
 */
u32 cbd_hosts_beating(struct cbd_transport *cbdt)
{
	u32 i, beating = 0;

	for (i = 0; i < cbdt->host_num; i++) {
		if (cbd_slot_state(&cbdt_host_info(cbdt, i)->state) !=
		    CBD_SLOT_STATE_NONE &&
		    cbd_heartbeat_beating(cbdt, CBD_HB_HOST, i))
			beating++;
	}

	return beating;
}

static void cbd_host_hb(struct cbd_host *host)
{
	struct cbd_host_info *info = host->host_info;

	cbd_alive_ts_update(&info->alive_ts);
	cbdt_flush(host->cbdt, &info->alive_ts, sizeof(info->alive_ts));
}

static void cbd_host_hb_workfn(struct work_struct *work)
{
	struct cbd_host *host = container_of(to_delayed_work(work),
					     struct cbd_host, hb_work);

	cbd_host_hb(host);
	queue_delayed_work(cbd_wq, &host->hb_work, CBD_HB_INTERVAL);
}

/*
 * Free a slot: everything but the state byte first, then the state, so
 * that a host claiming the slot as soon as it is free sees a clean record.
 */
static void cbd_host_info_free(struct cbd_transport *cbdt,
			       struct cbd_host_info *info)
{
	memset(info->hostname, 0, sizeof(info->hostname));
	cbd_alive_ts_clear(&info->alive_ts);
	cbdt_flush(cbdt, info, sizeof(*info));

	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_NONE);
	cbdt_flush(cbdt, &info->state, sizeof(info->state));
}

/**
 * cbd_host_name_valid - check a host name given to transport_register
 * @hostname: NUL-terminated name
 *
 * Host names are shown by every host that maps the transport (sysfs,
 * cbdctrl, the kernel log): printable ASCII only, no control bytes that
 * could garble a terminal or a log line, no bytes of some unknown charset.
 *
 * Return: true if @hostname is 1 to CBD_NAME_LEN - 1 printable ASCII bytes.
 */
bool cbd_host_name_valid(const char *hostname)
{
	size_t len = strnlen(hostname, CBD_NAME_LEN);
	size_t i;

	if (!len || len >= CBD_NAME_LEN)
		return false;

	for (i = 0; i < len; i++) {
		if (!isascii(hostname[i]) || !isprint(hostname[i]))
			return false;
	}

	return true;
}

/**
 * cbd_host_register - take a host slot for this host
 * @cbdt: transport
 * @hostname: non-empty printable ASCII name, shorter than CBD_NAME_LEN
 *
 * Return: 0, -EEXIST if this host is already registered on @cbdt,
 * -EINVAL for a bad name, -ENOENT if no slot is free, -ENOMEM.
 */
int cbd_host_register(struct cbd_transport *cbdt, const char *hostname)
{
	struct cbd_host *host;
	u32 host_id;
	int ret;

	if (cbdt->host)
		return -EEXIST;

	if (!cbd_host_name_valid(hostname))
		return -EINVAL;

	host = kzalloc(sizeof(*host), GFP_KERNEL);
	if (!host)
		return -ENOMEM;

	ret = cbdt_claim_host_id(cbdt, &host_id);
	if (ret) {
		cbdt_log(err, cbdt, "no free host slot\n");
		kfree(host);
		return ret;
	}

	host->host_id = host_id;
	host->cbdt = cbdt;
	host->host_info = cbdt_host_info(cbdt, host_id);
	/* The slot is ours and zeroed: the name needs no padding. */
	strscpy(host->host_info->hostname, hostname, CBD_NAME_LEN);
	cbdt_flush(cbdt, host->host_info, sizeof(*host->host_info));

	INIT_DELAYED_WORK(&host->hb_work, cbd_host_hb_workfn);
	queue_delayed_work(cbd_wq, &host->hb_work, 0);

	cbdt->host = host;
	return 0;
}

/**
 * cbd_host_unregister - give back this host's slot
 * @cbdt: transport the host registered on
 */
void cbd_host_unregister(struct cbd_transport *cbdt)
{
	struct cbd_host *host = cbdt->host;

	if (!host)
		return;

	cbd_slot_set_state(&host->host_info->state, CBD_SLOT_STATE_REMOVING);
	cbdt_flush(cbdt, &host->host_info->state, sizeof(u8));
	cancel_delayed_work_sync(&host->hb_work);

	cbd_host_info_free(cbdt, host->host_info);

	cbdt->host = NULL;
	kfree(host);
}

/**
 * cbd_host_clear - free the slot of a dead host
 * @cbdt: transport
 * @host_id: slot index, from the user
 *
 * Return: 0 (also if the slot is already free), -EINVAL for an invalid id,
 * -EBUSY if the host is alive (which includes this host).
 */
int cbd_host_clear(struct cbd_transport *cbdt, u32 host_id)
{
	struct cbd_host_info *info;

	if (!cbdt_host_id_valid(cbdt, host_id))
		return -EINVAL;

	if (cbdt->host && cbdt->host->host_id == host_id)
		return -EBUSY;

	info = cbdt_host_info(cbdt, host_id);
	if (cbd_host_info_is_alive(cbdt, host_id))
		return -EBUSY;

	if (cbd_slot_state(&info->state) == CBD_SLOT_STATE_NONE)
		return 0;

	cbd_host_info_free(cbdt, info);
	return 0;
}

/* sysfs: cbd_hosts/hostN */

static struct cbd_host_info *cbd_host_info_of(struct device *dev)
{
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);

	return cbdt_host_info(obj->cbdt, obj->id);
}

static ssize_t hostname_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct cbd_host_info *info = cbd_host_info_of(dev);
	char name[CBD_NAME_LEN];

	if (cbd_slot_state(&info->state) == CBD_SLOT_STATE_NONE)
		return 0;

	/* Written by any host: take a bounded, NUL-terminated copy. */
	if (cbdt_copy_record(name, info->hostname, sizeof(name)))
		return -EIO;
	name[sizeof(name) - 1] = '\0';

	return sysfs_emit(buf, "%s\n", name);
}
static DEVICE_ATTR_ADMIN_RO(hostname);

static ssize_t alive_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct cbd_obj_device *obj = to_cbd_obj_device(dev);
	bool alive = cbd_host_info_is_alive(obj->cbdt, obj->id);

	return sysfs_emit(buf, "%s\n", alive ? "true" : "false");
}
static DEVICE_ATTR_ADMIN_RO(alive);

static struct attribute *cbd_host_attrs[] = {
	&dev_attr_hostname.attr,
	&dev_attr_alive.attr,
	NULL,
};
ATTRIBUTE_GROUPS(cbd_host);

const struct device_type cbd_host_type = {
	.name	= "cbd_host",
	.groups	= cbd_host_groups,
};

const struct device_type cbd_hosts_type = {
	.name	= "cbd_hosts",
};
