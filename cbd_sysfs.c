// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CBD sysfs object model: a container device per kind of slot below the
 * transport (cbd_hosts/, cbd_backends/, ...) with one child device per
 * slot (host0, backend0, ...), whose attributes the object's file gives
 * through its device type.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/slab.h>

#include "cbd_transport.h"

static void cbd_obj_device_release(struct device *dev)
{
	kfree(to_cbd_obj_device(dev));
}

static void cbd_obj_container_release(struct device *dev)
{
	struct cbd_obj_container *cont =
		container_of(dev, struct cbd_obj_container, dev);

	kfree(cont->children);
	kfree(cont);
}

static int cbd_obj_child_add(struct cbd_transport *cbdt,
			     struct cbd_obj_container *cont, u32 id,
			     const char *prefix, const struct device_type *type)
{
	struct cbd_obj_device *obj;
	int ret;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return -ENOMEM;

	obj->cbdt = cbdt;
	obj->id = id;
	device_initialize(&obj->dev);
	obj->dev.parent = &cont->dev;
	obj->dev.type = type;
	obj->dev.release = cbd_obj_device_release;

	ret = dev_set_name(&obj->dev, "%s%u", prefix, id);
	if (!ret)
		ret = device_add(&obj->dev);
	if (ret) {
		put_device(&obj->dev);
		return ret;
	}

	cont->children[id] = obj;
	return 0;
}

void cbd_obj_container_destroy(struct cbd_obj_container *cont)
{
	u32 i;

	for (i = cont->num; i-- > 0;) {
		if (cont->children[i])
			device_unregister(&cont->children[i]->dev);
	}
	device_unregister(&cont->dev);
}

struct cbd_obj_container *
cbd_obj_container_create(struct cbd_transport *cbdt, const char *name,
			 const struct device_type *type, u32 num,
			 const char *child_prefix,
			 const struct device_type *child_type)
{
	struct cbd_obj_container *cont;
	int ret;
	u32 i;

	cont = kzalloc(sizeof(*cont), GFP_KERNEL);
	if (!cont)
		return ERR_PTR(-ENOMEM);

	cont->children = kcalloc(num, sizeof(*cont->children), GFP_KERNEL);
	if (!cont->children) {
		kfree(cont);
		return ERR_PTR(-ENOMEM);
	}
	cont->num = num;

	device_initialize(&cont->dev);
	cont->dev.parent = &cbdt->device;
	cont->dev.type = type;
	cont->dev.release = cbd_obj_container_release;
	ret = dev_set_name(&cont->dev, "%s", name);
	if (!ret)
		ret = device_add(&cont->dev);
	if (ret) {
		put_device(&cont->dev);
		return ERR_PTR(ret);
	}

	for (i = 0; i < num; i++) {
		ret = cbd_obj_child_add(cbdt, cont, i, child_prefix, child_type);
		if (ret) {
			cbd_obj_container_destroy(cont);
			return ERR_PTR(ret);
		}
	}

	return cont;
}
