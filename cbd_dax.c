// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD media: the DAX mapping of a transport.  The pmem device is opened
 * exclusively and mapped once; the transport is then a linear range of
 * kernel addresses (cbdt->base) and, where its pages are consecutive, of
 * struct pages (cbdt_page()).  cbdt_flush() makes a range of it
 * persistent.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/dax.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/pfn_t.h>

#include "cbd_transport.h"

void cbdt_flush(struct cbd_transport *cbdt, void *addr, size_t size)
{
	dax_flush(cbdt->dax_dev, addr, size);
	/*
	 * Order the cache write-backs before any later store (e.g. the
	 * state byte that publishes a record), as dm-writecache does.
	 */
	pmem_wmb();
}

void cbdt_zero_range(struct cbd_transport *cbdt, void *pos, size_t size)
{
	memset(pos, 0, size);
	cbdt_flush(cbdt, pos, size);
}

/* The page of transport page @nr as the DAX device gives it, or NULL. */
static struct page *cbdt_dax_page(struct cbd_transport *cbdt, pgoff_t nr)
{
	long mapped;
	pfn_t pfn;
	int id;

	id = dax_read_lock();
	mapped = dax_direct_access(cbdt->dax_dev, cbdt->dax_pgoff + nr, 1,
				   DAX_ACCESS, NULL, &pfn);
	dax_read_unlock(id);
	if (mapped < 1 || !pfn_t_has_page(pfn))
		return NULL;

	return pfn_t_to_page(pfn);
}

/*
 * Set cbdt->first_page if the last mapped page is where the first one
 * plus the size says: the pages of the linear range are then consecutive
 * (as the pmem driver maps them) and no page lookup has to go through the
 * DAX device.  Otherwise every lookup does.
 */
static void cbdt_dax_map_pages(struct cbd_transport *cbdt)
{
	pgoff_t last = (cbdt->size >> PAGE_SHIFT) - 1;
	struct page *first = cbdt_dax_page(cbdt, 0);

	cbdt->first_page = NULL;
	if (first && cbdt_dax_page(cbdt, last) == nth_page(first, last))
		cbdt->first_page = first;
}

/**
 * cbdt_page - page backing a transport offset
 * @cbdt: transport
 * @transport_off: byte offset in the transport
 * @page_off: if not NULL, set to the offset of @transport_off in the page
 *
 * Return: the page, or NULL if the offset is outside the transport or the
 * DAX device refuses access.
 */
struct page *cbdt_page(struct cbd_transport *cbdt, u64 transport_off,
		       u32 *page_off)
{
	struct page *page;

	if (transport_off >= cbdt->size)
		return NULL;

	if (cbdt->first_page)
		page = nth_page(cbdt->first_page, transport_off >> PAGE_SHIFT);
	else
		page = cbdt_dax_page(cbdt, transport_off >> PAGE_SHIFT);
	if (page && page_off)
		*page_off = transport_off & ~PAGE_MASK;

	return page;
}

/**
 * cbdt_dax_init - open the pmem device of a transport and map it
 * @cbdt: transport with its path set
 * @ops: the DAX holder operations of the transport (memory failures,
 *	removal of the device)
 *
 * Opens the pmem device exclusively, takes its DAX device and maps it.  The
 * pmem driver maps a namespace as one linear range, so the address of the
 * first page is the base of the whole transport; dax_direct_access()
 * tells how much of it is mapped.
 *
 * Return: 0, or the errno of the open, -ENODEV (not DAX capable or in
 * use), or that of dax_direct_access().
 */
int cbdt_dax_init(struct cbd_transport *cbdt,
		  const struct dax_holder_operations *ops)
{
	struct block_device *bdev;
	u64 start_off = 0;
	long nr_pages, mapped;
	void *kaddr;
	int ret, id;

	cbdt->bdev_file = bdev_file_open_by_path(cbdt->path,
						 BLK_OPEN_READ | BLK_OPEN_WRITE,
						 cbdt, NULL);
	if (IS_ERR(cbdt->bdev_file)) {
		ret = PTR_ERR(cbdt->bdev_file);
		cbdt_log(err, cbdt, "failed to open %s: %d\n", cbdt->path, ret);
		goto err;
	}
	bdev = file_bdev(cbdt->bdev_file);

	cbdt->dax_dev = fs_dax_get_by_bdev(bdev, &start_off, cbdt, ops);
	if (!cbdt->dax_dev) {
		cbdt_log(err, cbdt, "%s is not DAX capable or already in use\n",
			 cbdt->path);
		ret = -ENODEV;
		goto err_close_bdev;
	}
	cbdt->dax_pgoff = start_off >> PAGE_SHIFT;

	nr_pages = bdev_nr_bytes(bdev) >> PAGE_SHIFT;
	id = dax_read_lock();
	mapped = dax_direct_access(cbdt->dax_dev, cbdt->dax_pgoff, nr_pages,
				   DAX_ACCESS, &kaddr, NULL);
	dax_read_unlock(id);
	if (mapped <= 0) {
		ret = mapped ? mapped : -EIO;
		cbdt_log(err, cbdt, "dax_direct_access failed: %d\n", ret);
		goto err_put_dax;
	}

	cbdt->base = kaddr;
	cbdt->size = (u64)min(mapped, nr_pages) << PAGE_SHIFT;
	cbdt->info = kaddr;
	cbdt_dax_map_pages(cbdt);
	return 0;

err_put_dax:
	fs_put_dax(cbdt->dax_dev, cbdt);
err_close_bdev:
	fput(cbdt->bdev_file);
err:
	cbdt->dax_dev = NULL;
	cbdt->bdev_file = NULL;
	return ret;
}

void cbdt_dax_exit(struct cbd_transport *cbdt)
{
	fs_put_dax(cbdt->dax_dev, cbdt);
	fput(cbdt->bdev_file);
}
