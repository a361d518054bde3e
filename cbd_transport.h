/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CBD transport: a DAX-capable pmem/CXL memory device registered with CBD.
 * It holds a header page, slot areas for hosts, backends and blkdevs, and
 * an area of 16 MiB segments (channels and cache segments).
 */
#ifndef _CBD_TRANSPORT_H
#define _CBD_TRANSPORT_H

#include <linux/dax.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "cbd_base.h"

#define CBD_TRANSPORT_MAGIC		0x65B05EFA96C596EFULL
#define CBD_TRANSPORT_VERSION		1

#define CBDT_INFO_F_BIGENDIAN		BIT(0)
#define CBDT_INFO_F_CRC			BIT(1)

#define CBDT_INFO_OFF			0
#define CBDT_INFO_SIZE			PAGE_SIZE
#define CBDT_HOST_INFO_SIZE		PAGE_SIZE
#define CBDT_BACKEND_INFO_SIZE		PAGE_SIZE
#define CBDT_BLKDEV_INFO_SIZE		PAGE_SIZE
#define CBDT_SEG_SIZE			(16 * CBD_MB)

/* (sic) the v2 name, kept for grep-ability against the original series */
#define CBD_TRASNPORT_SIZE_MIN		(512ULL * CBD_MB)

#ifdef CONFIG_CBD_MULTIHOST
#define CBDT_HOSTS_MAX			16
#else
#define CBDT_HOSTS_MAX			1
#endif

/**
 * struct cbd_transport_info - on-media transport header, at offset 0
 * @magic: CBD_TRANSPORT_MAGIC
 * @version: CBD_TRANSPORT_VERSION
 * @flags: CBDT_INFO_F_*
 * @hosts_registered: hosts that registered and did not unregister
 *	(informational: registration counts alive host slots instead)
 * @host_area_off: byte offset of the host slot area
 * @host_info_size: stride of a host slot
 * @host_num: number of host slots
 * @backend_area_off: byte offset of the backend slot area
 * @backend_info_size: stride of a backend slot
 * @backend_num: number of backend slots
 * @blkdev_area_off: byte offset of the blkdev slot area
 * @blkdev_info_size: stride of a blkdev slot
 * @blkdev_num: number of blkdev slots
 * @segment_area_off: byte offset of the segment area
 * @segment_size: stride of a segment (16 MiB)
 * @segment_num: number of segments
 *
 * All offsets are relative to the start of the transport.  Every field is
 * little-endian; the layout is byte-compatible with CBD v2 on x86-64.
 */
struct cbd_transport_info {
	__le64 magic;
	__le16 version;
	__le16 flags;
	__le32 hosts_registered;

	__le64 host_area_off;
	__le32 host_info_size;
	__le32 host_num;

	__le64 backend_area_off;
	__le32 backend_info_size;
	__le32 backend_num;

	__le64 blkdev_area_off;
	__le32 blkdev_info_size;
	__le32 blkdev_num;

	__le64 segment_area_off;
	__le32 segment_size;
	__le32 segment_num;
};

struct cbd_host;
struct cbd_backend;
struct cbd_blkdev;
struct cbd_host_info;
struct cbd_backend_info;
struct cbd_blkdev_info;
struct cbd_segment_info;

/**
 * struct cbd_obj_device - sysfs device of one slot (host, backend, ...)
 * @dev: the device, named e.g. "host3"; freed by its release callback
 * @cbdt: the transport the slot belongs to
 * @id: slot index
 */
struct cbd_obj_device {
	struct device dev;
	struct cbd_transport *cbdt;
	u32 id;
};

/**
 * struct cbd_obj_container - sysfs container of all slots of one kind
 * @dev: the container device, e.g. "cbd_hosts"
 * @num: number of children
 * @children: one child device per slot, used or not
 */
struct cbd_obj_container {
	struct device dev;
	u32 num;
	struct cbd_obj_device **children;
};

/**
 * struct cbd_transport - in-memory transport of this host
 * @id: local transport id (the N of transportN)
 * @device: transportN on the cbd bus; its release frees the transport
 * @state_lock: serialises writes to the adm attribute against unregister
 * @adm_enabled: adm commands are accepted (registration complete and
 *	unregister not started)
 * @adm_lock: serialises adm commands and register/unregister steps
 * @lock: protects @backends and @blkdevs
 * @backends: backends running on this host (struct cbd_backend.node)
 * @blkdevs: blkdevs running on this host (struct cbd_blkdev.node)
 * @host: this host's slot, NULL until registered
 * @hb: liveness of every slot as this host sees it (cbd_heartbeat.c)
 * @path: path of the registered pmem device
 * @bdev_file: the pmem block device, opened exclusively
 * @dax_dev: its DAX device
 * @dax_pgoff: DAX page offset of transport offset 0 (partition start)
 * @base: kernel virtual address of transport offset 0
 * @size: usable bytes from @base
 * @first_page: struct page of transport offset 0 if the pages of the
 *	whole transport are consecutive (checked at registration), so that
 *	cbdt_page() finds a page by arithmetic; else NULL, and it asks the
 *	DAX device for every page
 * @info: the on-media header (at @base)
 * @host_area_off: validated copy of the header's host_area_off
 * @backend_area_off: validated copy of backend_area_off
 * @blkdev_area_off: validated copy of blkdev_area_off
 * @segment_area_off: validated copy of segment_area_off
 * @host_info_size: validated copy of host_info_size
 * @backend_info_size: validated copy of backend_info_size
 * @blkdev_info_size: validated copy of blkdev_info_size
 * @segment_size: validated copy of segment_size
 * @host_num: validated copy of host_num
 * @backend_num: validated copy of backend_num
 * @blkdev_num: validated copy of blkdev_num
 * @segment_num: validated copy of segment_num
 * @hosts_dev: sysfs container cbd_hosts
 * @backends_dev: sysfs container cbd_backends
 * @blkdevs_dev: sysfs container cbd_blkdevs
 * @segments_dev: sysfs container cbd_segments
 * @local_queues: blkdev queues of this host by channel segment id, so that
 *	a handler on this host can ring their doorbell; readers use RCU
 * @local_handlers: backend handlers of this host by channel segment id,
 *	the doorbell of a blkdev on this host; readers use SRCU
 *	(cbd_handler_notify())
 * @debugfs_dir: fault injection files (cbd_debugfs.c)
 * @media_lock: protects @media_listeners; held while they are called
 * @media_listeners: objects of this host to tell of memory failures
 *	(struct cbdt_media_listener, cbd_media.c)
 *
 * The geometry copies are checked against the mapped size at registration;
 * all slot lookups use them, never the shared header, which any host (or
 * a crash) may have changed.
 */
struct cbd_transport {
	u16 id;
	struct device device;
	struct mutex state_lock;	/* protects adm_enabled */
	bool adm_enabled;
	struct mutex adm_lock;	/* serialises adm ops on this host */
	spinlock_t lock;	/* protects backends, blkdevs */
	struct list_head backends;
	struct list_head blkdevs;
	struct xarray local_queues;
	struct xarray local_handlers;
	struct dentry *debugfs_dir;
	struct mutex media_lock;	/* protects media_listeners */
	struct list_head media_listeners;

	struct cbd_host *host;
	/* liveness of every slot as this host sees it (cbd_heartbeat.c) */
	struct cbd_heartbeats *hb;

	char path[CBD_PATH_LEN];
	struct file *bdev_file;
	struct dax_device *dax_dev;
	pgoff_t dax_pgoff;
	void *base;
	u64 size;
	struct page *first_page;
	struct cbd_transport_info *info;

	u64 host_area_off;
	u64 backend_area_off;
	u64 blkdev_area_off;
	u64 segment_area_off;
	u32 host_info_size;
	u32 backend_info_size;
	u32 blkdev_info_size;
	u32 segment_size;
	u32 host_num;
	u32 backend_num;
	u32 blkdev_num;
	u32 segment_num;

	struct cbd_obj_container *hosts_dev;
	struct cbd_obj_container *backends_dev;
	struct cbd_obj_container *blkdevs_dev;
	struct cbd_obj_container *segments_dev;
};

static inline struct cbd_obj_device *to_cbd_obj_device(struct device *dev)
{
	return container_of(dev, struct cbd_obj_device, dev);
}

/*
 * Logging.  Every file prefixes its messages with the module name
 * (pr_fmt); a message about an object starts with the names of the object
 * and of what contains it, "cbd_transport0: backend1: handler3: ", as
 * dev_err() starts with the device's name.  One helper per object kind:
 * cbdt_log(), cbd_backend_log(), cbd_handler_log(), cbd_blkdev_log(),
 * cbd_queue_log() and cbd_cache_log(); @level is the pr_<level> suffix
 * (err, warn, info, debug, err_ratelimited, ...).  Messages that the
 * shared memory or another host can trigger use a rate-limited level.
 */
#define cbdt_log(level, cbdt, fmt, ...)					\
	pr_##level("cbd_transport%u: " fmt, (cbdt)->id, ##__VA_ARGS__)

/* cbd_transport.c: bus attribute entry points (cbd_main.c) */
int cbdt_register(const char *buf);
int cbdt_unregister(u32 transport_id);

/* Module exit: all transports are gone (each pins the module). */
void cbd_transport_exit(void);

/* cbd_layout.c: the header */
int cbdt_load_geometry(struct cbd_transport *cbdt,
		       const struct cbd_transport_info *info);
int cbdt_validate(struct cbd_transport *cbdt);
int cbdt_format(struct cbd_transport *cbdt);
void cbdt_hosts_registered_add(struct cbd_transport *cbdt, int delta);

/*
 * cbd_layout.c: slot accessors.  @id must have been checked against the slot count with
 * cbdt_*_id_valid(): ids come from users and from shared memory.
 */
bool cbdt_host_id_valid(struct cbd_transport *cbdt, u32 id);
bool cbdt_backend_id_valid(struct cbd_transport *cbdt, u32 id);
bool cbdt_blkdev_id_valid(struct cbd_transport *cbdt, u32 id);
bool cbdt_segment_id_valid(struct cbd_transport *cbdt, u32 id);

void *cbdt_slot(struct cbd_transport *cbdt, u64 area_off, u32 stride,
		u32 num, u32 id);
struct cbd_host_info *cbdt_host_info(struct cbd_transport *cbdt, u32 id);
struct cbd_backend_info *cbdt_backend_info(struct cbd_transport *cbdt, u32 id);
struct cbd_blkdev_info *cbdt_blkdev_info(struct cbd_transport *cbdt, u32 id);
struct cbd_segment_info *cbdt_segment_info(struct cbd_transport *cbdt, u32 id);

/*
 * cbd_slot.c: allocation.  Scan for a free slot and claim it atomically (state becomes
 * RUNNING); the record is zeroed (only its 16-byte header for segments)
 * and its alive_ts set to now, so that the slot is not "dead" before its
 * owner's first heartbeat.  Return 0 and the id, or -ENOENT if none is
 * free.  A claimed slot is given back by its owner's stop/exit path or,
 * once dead, by the matching *-clear adm command.
 */
int cbdt_claim_host_id(struct cbd_transport *cbdt, u32 *id);
int cbdt_claim_backend_id(struct cbd_transport *cbdt, u32 *id);
int cbdt_claim_blkdev_id(struct cbd_transport *cbdt, u32 *id);
int cbdt_claim_segment_id(struct cbd_transport *cbdt, u32 *id);

/* cbd_slot.c: the objects of this host */
void cbdt_add_backend(struct cbd_transport *cbdt, struct cbd_backend *cbdb);
void cbdt_del_backend(struct cbd_transport *cbdt, struct cbd_backend *cbdb);
struct cbd_backend *cbdt_find_backend(struct cbd_transport *cbdt, u32 id);
void cbdt_backend_call(struct cbd_transport *cbdt, u32 id,
		       void (*fn)(struct cbd_backend *cbdb, u32 arg), u32 arg);
void cbdt_add_blkdev(struct cbd_transport *cbdt, struct cbd_blkdev *blkdev);
void cbdt_del_blkdev(struct cbd_transport *cbdt, struct cbd_blkdev *blkdev);
struct cbd_blkdev *cbdt_find_blkdev(struct cbd_transport *cbdt, u32 id);
bool cbdt_has_local_objects(struct cbd_transport *cbdt);

/* cbd_sysfs.c: the containers of the slot devices */
struct cbd_obj_container *
cbd_obj_container_create(struct cbd_transport *cbdt, const char *name,
			 const struct device_type *type, u32 num,
			 const char *child_prefix,
			 const struct device_type *child_type);
void cbd_obj_container_destroy(struct cbd_obj_container *cont);

/* cbd_dax.c: the mapping */
struct dax_holder_operations;
int cbdt_dax_init(struct cbd_transport *cbdt,
		  const struct dax_holder_operations *ops);
void cbdt_dax_exit(struct cbd_transport *cbdt);

/**
 * cbdt_flush - write back a range of the transport to the persistence domain
 * @cbdt: transport
 * @addr: start of the range, inside the transport mapping
 * @size: length in bytes
 *
 * Used after every metadata update that must survive a power loss.
 */
void cbdt_flush(struct cbd_transport *cbdt, void *addr, size_t size);

/* Zero a range of the transport and flush it. */
void cbdt_zero_range(struct cbd_transport *cbdt, void *pos, size_t size);

/*
 * Page backing a transport offset (for zero-copy bios); *page_off (may be
 * NULL) gets the offset inside that page.  NULL if out of range.
 */
struct page *cbdt_page(struct cbd_transport *cbdt, u64 transport_off,
		       u32 *page_off);

/* Transport offset of a kernel address inside the mapping. */
static inline u64 cbdt_offset(struct cbd_transport *cbdt, const void *addr)
{
	return (const u8 *)addr - (const u8 *)cbdt->base;
}

#endif /* _CBD_TRANSPORT_H */
