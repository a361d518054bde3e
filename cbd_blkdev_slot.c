// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD registry: the blkdev slot.  Its validator, the attach count it
 * holds on its backend's slot, and dev-clear, which frees the slot of a
 * dead blkdev (for the adm command and for backend-stop, which clears
 * the dead blkdevs that still hold its backend).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "cbd_blkdev.h"
#include "cbd_channel.h"
#include "cbd_heartbeat.h"
#include "cbd_media.h"
#include "cbd_segment.h"
#include "cbd_transport.h"

/**
 * cbd_blkdev_info_validate - check a blkdev slot read from shared memory
 * @cbdt: transport
 * @id: valid blkdev slot index
 * @snap: the checked values, each read once from the slot
 *
 * Checks: state is an enum cbd_slot_state; in a used slot backend_id and
 * host_id are slot ids and mapped_id a possible /dev/cbdX number.  A slot
 * that fails gets one rate-limited log line naming the field.
 *
 * Return: 0, or -EIO if the slot is corrupt.
 */
int cbd_blkdev_info_validate(struct cbd_transport *cbdt, u32 id,
			     struct cbd_blkdev_snap *snap)
{
	struct cbd_blkdev_info *info = cbdt_blkdev_info(cbdt, id);
	const char *field;

	if (cbdt_probe_record(info, sizeof(*info))) {
		field = "slot (media error)";
		goto bad;
	}
	snap->state = cbd_slot_state(&info->state);
	snap->backend_id = le32_to_cpu(READ_ONCE(info->backend_id));
	snap->host_id = le32_to_cpu(READ_ONCE(info->host_id));
	snap->mapped_id = le32_to_cpu(READ_ONCE(info->mapped_id));

	if (snap->state > CBD_SLOT_STATE_REMOVING)
		field = "state";
	else if (snap->state == CBD_SLOT_STATE_NONE)
		return 0;
	else if (!cbdt_backend_id_valid(cbdt, snap->backend_id))
		field = "backend_id";
	else if (!cbdt_host_id_valid(cbdt, snap->host_id))
		field = "host_id";
	else if (snap->mapped_id >= 1U << (MINORBITS - CBD_PART_SHIFT))
		field = "mapped_id";
	else
		return 0;

bad:
	cbdt_log(err_ratelimited, cbdt, "blkdev%u slot corrupt: invalid %s\n",
		 id, field);
	return -EIO;
}

/* Attach to the backend: at most CBDB_BLKDEV_COUNT_MAX blkdevs. */
int cbd_backend_blkdev_get(struct cbd_transport *cbdt,
			   struct cbd_backend_info *info)
{
	u32 count;

	do {
		count = le32_to_cpu(READ_ONCE(info->blkdev_count));
		if (count >= CBDB_BLKDEV_COUNT_MAX)
			return -EBUSY;
		/* cmpxchg: another host may attach at the same time */
	} while (cmpxchg(&info->blkdev_count, cpu_to_le32(count),
			 cpu_to_le32(count + 1)) != cpu_to_le32(count));

	cbdt_flush(cbdt, &info->blkdev_count, sizeof(info->blkdev_count));
	return 0;
}

/* Detach from the backend. */
void cbd_backend_blkdev_put(struct cbd_transport *cbdt,
			    struct cbd_backend_info *info)
{
	u32 count;

	do {
		count = le32_to_cpu(READ_ONCE(info->blkdev_count));
		if (!count)
			return;
	} while (cmpxchg(&info->blkdev_count, cpu_to_le32(count),
			 cpu_to_le32(count - 1)) != cpu_to_le32(count));

	cbdt_flush(cbdt, &info->blkdev_count, sizeof(info->blkdev_count));
}

/*
 * The channels of a dead blkdev still say blkdev_state running.  Once its
 * slot is reused, a backend would take them for channels of the new
 * blkdev and replay their uncompleted entries: release them first.
 */
static void cbd_blkdev_release_channels(struct cbd_transport *cbdt, u32 devid)
{
	struct cbd_segment_info *seg_info;
	struct cbd_channel_info *info;
	u32 seg_id;

	for (seg_id = 0; seg_id < cbdt->segment_num; seg_id++) {
		seg_info = cbdt_segment_info(cbdt, seg_id);
		if (cbd_slot_state(&seg_info->state) != CBD_SLOT_STATE_RUNNING ||
		    READ_ONCE(seg_info->type) != CBDS_TYPE_CHANNEL)
			continue;

		info = container_of(seg_info, struct cbd_channel_info, seg_info);
		if (le32_to_cpu(READ_ONCE(info->blkdev_id)) != devid)
			continue;

		WRITE_ONCE(info->blkdev_state, CBDC_BLKDEV_STATE_NONE);
		cbdt_flush(cbdt, &info->blkdev_state, sizeof(info->blkdev_state));
	}
}

/**
 * cbd_blkdev_clear - free the slot of a dead blkdev
 * @cbdt: transport
 * @devid: blkdev slot
 *
 * Also releases its channels and detaches it from its backend, so that a
 * dead blkdev does not pin its backend forever.
 *
 * Return: 0, -EINVAL for a bad id, -EBUSY if the blkdev is alive.
 */
int cbd_blkdev_clear(struct cbd_transport *cbdt, u32 devid)
{
	struct cbd_blkdev_info *info;
	struct cbd_blkdev_snap snap;
	u32 backend_id;

	if (!cbdt_blkdev_id_valid(cbdt, devid))
		return -EINVAL;

	info = cbdt_blkdev_info(cbdt, devid);
	if (cbd_blkdev_info_is_alive(cbdt, devid)) {
		cbdt_log(err, cbdt, "blkdev%u is still alive\n", devid);
		return -EBUSY;
	}

	if (cbd_slot_state(&info->state) == CBD_SLOT_STATE_NONE)
		return 0;

	/* a corrupt slot is freed, but names no backend to detach from */
	backend_id = cbd_blkdev_info_validate(cbdt, devid, &snap) ?
		     U32_MAX : snap.backend_id;
	cbd_blkdev_release_channels(cbdt, devid);
	cbd_slot_set_state(&info->state, CBD_SLOT_STATE_NONE);
	cbdt_flush(cbdt, &info->state, sizeof(info->state));

	if (cbdt_backend_id_valid(cbdt, backend_id))
		cbd_backend_blkdev_put(cbdt, cbdt_backend_info(cbdt, backend_id));

	return 0;
}
