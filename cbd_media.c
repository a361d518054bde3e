// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD media reads and media errors.
 *
 * The transport is persistent or CXL memory: a poisoned line read with a
 * plain memcpy() is a machine check in kernel mode.  Every read of
 * payload from the transport (READ data copied to a bio, cache hits, the
 * data and entry CRCs) goes through cbdt_copy_from_media(), which uses
 * copy_mc_to_kernel() and turns a short copy into -EIO for the caller to
 * fail its request with.  Ring entries and kset headers, which are read
 * before anything else of a request, use cbdt_copy_record(): the same
 * copy without the fault-injection point, which models payload reads.
 *
 * A memory failure that the DAX layer reports on the transport
 * (cbdt_media_failure()) retires every object of this host with state in
 * the failed segments: a channel stops being used (its requests get EIO),
 * a cache is marked failed.  Media listeners, registered by the blkdevs
 * and backends, do the retiring, so this layer does not call up.
 *
 * Fault injection: with CONFIG_CBD_FAULT_INJECTION the point
 * fail_media_copy (cbd_fault.c) makes the copy report a short copy, as a
 * poisoned line does.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/uaccess.h>

#include "cbd_channel.h"
#include "cbd_fault.h"
#include "cbd_media.h"
#include "cbd_segment.h"
#include "cbd_transport.h"

/**
 * cbdt_copy_record - machine-check-safe copy of a record out of the transport
 * @dst: kernel destination
 * @src: source in the transport mapping
 * @len: bytes
 *
 * For ring entries and kset headers: not subject to fail_media_copy.
 *
 * Return: 0, or -EIO if a media error stopped the copy.
 */
int cbdt_copy_record(void *dst, const void *src, size_t len)
{
	return copy_mc_to_kernel(dst, src, len) ? -EIO : 0;
}

/**
 * cbdt_copy_from_media - machine-check-safe copy out of the transport
 * @dst: kernel destination
 * @src: source in the transport mapping
 * @len: bytes
 *
 * Return: 0, or -EIO if a media error (or the fault-injection point)
 * stopped the copy; @dst is then partly written.
 */
int cbdt_copy_from_media(void *dst, const void *src, size_t len)
{
	if (unlikely(cbd_should_fail(CBD_FAULT_MEDIA_COPY, len)))
		return -EIO;

	return cbdt_copy_record(dst, src, len);
}

/**
 * cbdt_probe_record - is a record in the transport readable?
 * @src: the record in the transport mapping
 * @len: its size
 *
 * For the slot validators: the slot is read machine-check-safe, a cache
 * line at a time, before its fields are read one by one.  A slot whose
 * memory failed is then refused as corrupt rather than a machine check.
 *
 * Return: 0, or -EIO if a media error stopped the read.
 */
int cbdt_probe_record(const void *src, size_t len)
{
	u8 buf[SMP_CACHE_BYTES];
	size_t chunk;

	for (; len; src += chunk, len -= chunk) {
		chunk = min(len, sizeof(buf));
		if (cbdt_copy_record(buf, src, chunk))
			return -EIO;
	}
	return 0;
}

/**
 * cbdt_media_listener_add - tell @l of the media errors reported from now on
 * @cbdt: transport
 * @l: listener, with @failure set; stays registered until
 *	cbdt_media_listener_del()
 */
void cbdt_media_listener_add(struct cbd_transport *cbdt,
			     struct cbdt_media_listener *l)
{
	mutex_lock(&cbdt->media_lock);
	list_add_tail(&l->node, &cbdt->media_listeners);
	mutex_unlock(&cbdt->media_lock);
}

/**
 * cbdt_media_listener_del - stop telling @l; no call of @l runs on return
 * @cbdt: transport
 * @l: a registered listener
 */
void cbdt_media_listener_del(struct cbd_transport *cbdt,
			     struct cbdt_media_listener *l)
{
	mutex_lock(&cbdt->media_lock);
	list_del_init(&l->node);
	mutex_unlock(&cbdt->media_lock);
}

static void cbdt_media_retire(struct cbd_transport *cbdt, u32 first, u32 last)
{
	struct cbdt_media_listener *l;

	mutex_lock(&cbdt->media_lock);
	list_for_each_entry(l, &cbdt->media_listeners, node)
		l->failure(l, first, last);
	mutex_unlock(&cbdt->media_lock);
}

/* at most this many segments are named per failure, then a count */
#define CBDT_MEDIA_FAILURE_NAMED	8

/* Name the segment @id for the log: its type and, for a channel, its ends. */
static void cbdt_media_failure_segment(struct cbd_transport *cbdt, u32 id)
{
	struct cbd_channel_info snap;

	/* the header may be what failed: read it machine-check-safe */
	if (cbdt_copy_record(&snap, cbdt_segment_info(cbdt, id), sizeof(snap))) {
		cbdt_log(err, cbdt, "memory failure in segment%u: its header is unreadable\n", id);
		return;
	}

	switch (snap.seg_info.type) {
	case CBDS_TYPE_CHANNEL:
		cbdt_log(err, cbdt,
			 "memory failure in segment%u: channel of blkdev%u and backend%u, its I/O may fail\n",
			 id, le32_to_cpu(snap.blkdev_id), le32_to_cpu(snap.backend_id));
		break;
	case CBDS_TYPE_CACHE:
		cbdt_log(err, cbdt,
			 "memory failure in segment%u: cache segment, reads of its data may fail\n",
			 id);
		break;
	default:
		cbdt_log(err, cbdt, "memory failure in segment%u: not in use\n", id);
		break;
	}
}

/**
 * cbdt_media_failure - report a media error in a range of the transport
 * @cbdt: transport
 * @off: byte offset of the failed range in the transport
 * @len: its length
 *
 * Called for the DAX notify_failure of the memory under the transport.
 * Logs what the range holds: the transport header or the slot areas
 * (their records then fail validation, or their reads fail), and every
 * segment it overlaps, then has the media listeners retire what this
 * host runs in those segments.  A failure in the header or slot areas is
 * only logged: the records there are validated on every read.
 */
void cbdt_media_failure(struct cbd_transport *cbdt, u64 off, u64 len)
{
	u64 end, seg_end, first, last, id;

	if (!len || check_add_overflow(off, len, &end) || off >= cbdt->size) {
		cbdt_log(err, cbdt,
			 "memory failure at offset %llu len %llu: outside the transport\n",
			 off, len);
		return;
	}
	end = min(end, cbdt->size);
	cbdt_log(err, cbdt, "memory failure at offset %llu len %llu\n", off, len);

	if (off < cbdt->segment_area_off)
		cbdt_log(err, cbdt,
			 "memory failure in the transport header or slot areas (%llu..%llu)\n",
			 off, min(end, cbdt->segment_area_off) - 1);

	/* the geometry was validated: the segment area lies inside cbdt->size */
	seg_end = cbdt->segment_area_off + (u64)cbdt->segment_num * cbdt->segment_size;
	if (end <= cbdt->segment_area_off || off >= seg_end)
		return;

	first = (max(off, cbdt->segment_area_off) - cbdt->segment_area_off) /
		cbdt->segment_size;
	last = (min(end, seg_end) - 1 - cbdt->segment_area_off) / cbdt->segment_size;
	for (id = first; id <= last && id < first + CBDT_MEDIA_FAILURE_NAMED; id++)
		cbdt_media_failure_segment(cbdt, id);
	if (id <= last)
		cbdt_log(err, cbdt, "memory failure in %llu more segments, up to segment%llu\n",
			 last - id + 1, last);
	cbdt_media_retire(cbdt, first, last);
}
