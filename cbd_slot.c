// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD registry: slot claims and the objects of this host.  A slot is
 * claimed with cmpxchg() on its state byte, so two hosts allocating at
 * once never take the same one; the backends and blkdevs running on this
 * host are on the transport's lists, under cbdt->lock.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>

#include "cbd_backend.h"
#include "cbd_blkdev.h"
#include "cbd_heartbeat.h"
#include "cbd_host.h"
#include "cbd_segment.h"
#include "cbd_transport.h"

/*
 * Find a free slot and claim it with cmpxchg() on its state byte, so two
 * hosts allocating at once never take the same one.  The rest of the
 * first @size bytes is then zeroed and the heartbeat set, so that nobody
 * clears the slot as dead before its owner's first heartbeat.
 */
static int cbdt_claim_slot(struct cbd_transport *cbdt, u64 area_off,
			   u32 stride, u32 num, size_t size,
			   size_t alive_ts_off, u32 *id)
{
	void *slot;
	u32 i;

	for (i = 0; i < num; i++) {
		slot = cbdt_slot(cbdt, area_off, stride, num, i);
		if (!cbd_slot_claim(slot))
			continue;

		memset(slot + 1, 0, size - 1);
		cbd_alive_ts_update(slot + alive_ts_off);
		cbdt_flush(cbdt, slot, size);
		*id = i;
		return 0;
	}

	return -ENOENT;
}

int cbdt_claim_host_id(struct cbd_transport *cbdt, u32 *id)
{
	return cbdt_claim_slot(cbdt, cbdt->host_area_off,
				   cbdt->host_info_size, cbdt->host_num,
				   cbdt->host_info_size,
				   offsetof(struct cbd_host_info, alive_ts), id);
}

int cbdt_claim_backend_id(struct cbd_transport *cbdt, u32 *id)
{
	return cbdt_claim_slot(cbdt, cbdt->backend_area_off,
				   cbdt->backend_info_size, cbdt->backend_num,
				   cbdt->backend_info_size,
				   offsetof(struct cbd_backend_info, alive_ts), id);
}

int cbdt_claim_blkdev_id(struct cbd_transport *cbdt, u32 *id)
{
	return cbdt_claim_slot(cbdt, cbdt->blkdev_area_off,
				   cbdt->blkdev_info_size, cbdt->blkdev_num,
				   cbdt->blkdev_info_size,
				   offsetof(struct cbd_blkdev_info, alive_ts), id);
}

/* Only the 16-byte header is zeroed (no 16 MiB memset in the I/O path). */
int cbdt_claim_segment_id(struct cbd_transport *cbdt, u32 *id)
{
	return cbdt_claim_slot(cbdt, cbdt->segment_area_off,
				   cbdt->segment_size, cbdt->segment_num,
				   sizeof(struct cbd_segment_info),
				   offsetof(struct cbd_segment_info, alive_ts), id);
}

void cbdt_add_backend(struct cbd_transport *cbdt, struct cbd_backend *cbdb)
{
	spin_lock(&cbdt->lock);
	list_add(&cbdb->node, &cbdt->backends);
	spin_unlock(&cbdt->lock);
}

void cbdt_del_backend(struct cbd_transport *cbdt, struct cbd_backend *cbdb)
{
	spin_lock(&cbdt->lock);
	list_del_init(&cbdb->node);
	spin_unlock(&cbdt->lock);
}

/*
 * Call @fn on the backend @id if it runs on this host.  Under cbdt->lock:
 * a backend leaves the list before it is freed, so a blkdev on this host
 * can reach its backend by id without holding a pointer that a stop or a
 * crash would leave dangling.
 */
void cbdt_backend_call(struct cbd_transport *cbdt, u32 id,
		       void (*fn)(struct cbd_backend *cbdb, u32 arg), u32 arg)
{
	struct cbd_backend *cbdb;

	spin_lock(&cbdt->lock);
	list_for_each_entry(cbdb, &cbdt->backends, node) {
		if (cbdb->backend_id == id) {
			fn(cbdb, arg);
			break;
		}
	}
	spin_unlock(&cbdt->lock);
}

/*
 * The local backend or blkdev with slot @id, or NULL.  Only adm
 * operations (under adm_lock) and unregister (after adm is disabled)
 * start and stop them, so the result stays valid for such a caller.
 */
struct cbd_backend *cbdt_find_backend(struct cbd_transport *cbdt, u32 id)
{
	struct cbd_backend *cbdb, *found = NULL;

	spin_lock(&cbdt->lock);
	list_for_each_entry(cbdb, &cbdt->backends, node) {
		if (cbdb->backend_id == id) {
			found = cbdb;
			break;
		}
	}
	spin_unlock(&cbdt->lock);

	return found;
}

void cbdt_add_blkdev(struct cbd_transport *cbdt, struct cbd_blkdev *blkdev)
{
	spin_lock(&cbdt->lock);
	list_add(&blkdev->node, &cbdt->blkdevs);
	spin_unlock(&cbdt->lock);
}

void cbdt_del_blkdev(struct cbd_transport *cbdt, struct cbd_blkdev *blkdev)
{
	spin_lock(&cbdt->lock);
	list_del_init(&blkdev->node);
	spin_unlock(&cbdt->lock);
}

struct cbd_blkdev *cbdt_find_blkdev(struct cbd_transport *cbdt, u32 id)
{
	struct cbd_blkdev *blkdev, *found = NULL;

	spin_lock(&cbdt->lock);
	list_for_each_entry(blkdev, &cbdt->blkdevs, node) {
		if (blkdev->blkdev_id == id) {
			found = blkdev;
			break;
		}
	}
	spin_unlock(&cbdt->lock);

	return found;
}

bool cbdt_has_local_objects(struct cbd_transport *cbdt)
{
	bool busy;

	spin_lock(&cbdt->lock);
	busy = !list_empty(&cbdt->backends) || !list_empty(&cbdt->blkdevs);
	spin_unlock(&cbdt->lock);

	return busy;
}
