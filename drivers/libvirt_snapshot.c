/* libvirt_snapshot.c - the libvirt driver's snapshots: list, create, revert, delete.
 *
 * holdfast takes internal snapshots (inside the qcow2 images, with memory when the guest runs):
 * libvirt 9.0 can revert those, not external ones, and mixing both kinds on one guest breaks
 * later deletes. Which snapshots holdfast owns is the daemon's business, not ours. */
#include "libvirt_priv.h"

#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

static virDomainSnapshotPtr snap_lookup(LvConn *c, virDomainPtr dom, const char *guest,
					const char *name, HfError *err)
{
	virDomainSnapshotPtr s = virDomainSnapshotLookupByName(dom, name, 0);
	if (!s)
		lv_error(err, c, guest, name, "cannot look up");
	return s;
}

/* A snapshot as a DrvSnapshot, from its XML. */
static int snap_read(LvConn *c, const char *guest, virDomainSnapshotPtr s, bool current,
		     DrvSnapshot **out, HfError *err)
{
	const char *name = virDomainSnapshotGetName(s);
	g_autofree char *xml = virDomainSnapshotGetXMLDesc(s, 0);
	if (!xml)
		return lv_error(err, c, guest, name, "cannot read");
	g_autofree char *what =
	    g_strdup_printf("snapshot '%s' of guest '%s' on host %s", name, guest, c->base.uri);
	g_autoptr(DrvSnapshot) snap = drv_snapshot_new();
	if (lv_xml_snapshot_parse(xml, what, snap, err) < 0)
		return -1;
	snap->current = current;
	*out = g_steal_pointer(&snap);
	return 0;
}

/* The name of the guest's current snapshot, or NULL when it has none. */
static char *current_name(virDomainPtr dom)
{
	char *name = NULL;
	if (virDomainHasCurrentSnapshot(dom, 0) == 1) {
		g_autoptr(virDomainSnapshot) cur = virDomainSnapshotCurrent(dom, 0);
		name = cur ? g_strdup(virDomainSnapshotGetName(cur)) : NULL;
	}
	virResetLastError();
	return name;
}

/* Oldest first; the name breaks ties (snapshots made within one second). */
static int by_time(gconstpointer a, gconstpointer b)
{
	const DrvSnapshot *x = *(DrvSnapshot *const *)a, *y = *(DrvSnapshot *const *)b;
	if (x->creation_time != y->creation_time)
		return x->creation_time < y->creation_time ? -1 : 1;
	return strcmp(x->name, y->name);
}

int lv_snapshot_list(DrvConn *dc, const char *guest, unsigned flags, GPtrArray **out, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	virDomainSnapshotPtr *snaps = NULL;
	int rc = 0;

	if (!dom)
		return -1;
	int n = virDomainListAllSnapshots(dom, &snaps, 0);
	if (n < 0)
		return lv_error(err, c, guest, NULL, "cannot list the snapshots of");
	g_autofree char *cur = current_name(dom);
	g_autoptr(GPtrArray) list =
	    g_ptr_array_new_full((guint)n, (GDestroyNotify)drv_snapshot_free);
	for (int i = 0; i < n; i++) {
		DrvSnapshot *s = NULL;
		HfError e = {0};
		bool is_cur = cur && !strcmp(cur, virDomainSnapshotGetName(snaps[i]));
		if (rc == 0 && snap_read(c, guest, snaps[i], is_cur, &s, &e) == 0)
			g_ptr_array_add(list, s);
		else if (rc == 0 && strcmp(e.code, HF_ERR_NOT_FOUND)) /* deleted meanwhile: skip */
			rc = error_set(err, e.code, "%s", e.message);
		virDomainSnapshotFree(snaps[i]);
	}
	free(snaps);
	if (rc < 0)
		return -1;
	g_ptr_array_sort(list, by_time);
	*out = g_steal_pointer(&list);
	return 0;
}

/* Why an internal snapshot of dom cannot be taken (a disk that is not qcow2), as an error. */
static int check_internal(LvConn *c, virDomainPtr dom, const char *guest, HfError *err)
{
	g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
	if (!xml)
		return lv_error(err, c, guest, NULL, "cannot read");
	g_autofree char *why = lv_xml_internal_blocker(xml);
	if (!why)
		return 0;
	return error_set(err, HF_ERR_UNSUPPORTED,
			 "cannot take an internal snapshot of guest '%s' on host %s: %s, and "
			 "internal snapshots need qcow2 images; convert the disk (qemu-img convert "
			 "-O qcow2) or exclude it from snapshots with <disk ... snapshot='no'> in "
			 "the domain XML",
			 guest, c->base.uri, why);
}

int lv_snapshot_create(DrvConn *dc, const char *guest, const DrvSnapshotSpec *spec, unsigned flags,
		       DrvSnapshot **out, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	unsigned vflags = 0;

	if (!dom)
		return -1;
	if (!spec || !spec->name || !spec->name[0])
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "a snapshot of guest '%s' needs a name", guest);
	g_autoptr(virDomainSnapshot) old = virDomainSnapshotLookupByName(dom, spec->name, 0);
	if (old)
		return error_set(err, HF_ERR_CONFLICT,
				 "snapshot '%s' of guest '%s' already exists on host %s; choose "
				 "another name",
				 spec->name, guest, c->base.uri);
	const virError *e = virGetLastError();
	if (e && e->code != VIR_ERR_NO_DOMAIN_SNAPSHOT)
		return lv_error(err, c, guest, spec->name, "cannot look up");
	virResetLastError();
	/* Disk-only of a running guest needs external overlays in libvirt 9.0; a guest that is
	 * not running has no memory to save, so its internal snapshot is disk-only already. */
	if ((flags & DRV_SNAP_CREATE_DISK_ONLY) && virDomainIsActive(dom) == 1)
		vflags = VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
	else if (check_internal(c, dom, guest, err) < 0)
		return -1;
	int dropped = 0;
	if (virDomainIsActive(dom) == 0) {
		g_autofree char *what = g_strdup_printf("take snapshot '%s'", spec->name);
		if (lv_checkpoints_drop_for(c, dom, guest, what, &dropped, err) < 0)
			return -1;
	}
	virResetLastError();
	g_autofree char *xml = lv_xml_snapshot_spec(spec);
	g_autoptr(virDomainSnapshot) snap = virDomainSnapshotCreateXML(dom, xml, vflags);
	if (!snap)
		return lv_error(err, c, guest, spec->name, "cannot create");
	if (snap_read(c, guest, snap, virDomainSnapshotIsCurrent(snap, 0) == 1, out, err) < 0)
		return -1;
	if (dropped) /* said in the snapshot's result: the next DR copy is a full */
		(*out)->dropped_checkpoints = dropped;
	return 0;
}

int lv_snapshot_revert(DrvConn *dc, const char *guest, const char *snapshot, unsigned flags,
		       HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	g_autoptr(virDomainSnapshot) snap = dom ? snap_lookup(c, dom, guest, snapshot, err) : NULL;
	g_autoptr(DrvSnapshot) s = NULL;

	if (!snap || snap_read(c, guest, snap, false, &s, err) < 0)
		return -1;
	unsigned long ver = 0;
	if (s->kind == DRV_SNAP_EXTERNAL &&
	    (virConnectGetLibVersion(c->conn, &ver) < 0 || ver < 9007000)) {
		virResetLastError();
		return error_set(
		    err, HF_ERR_UNSUPPORTED,
		    "cannot revert guest '%s' on host %s to snapshot '%s': it is an "
		    "external snapshot (overlay files), and libvirt %lu.%lu on that host "
		    "cannot revert those (9.7 and later can); shut the guest down and "
		    "point its disks back at the overlays' backing images (virsh edit), "
		    "or upgrade libvirt",
		    guest, c->base.uri, snapshot, ver / 1000000, ver / 1000 % 1000);
	}
	g_autofree char *what = g_strdup_printf("revert to snapshot '%s'", snapshot);
	if (s->kind == DRV_SNAP_INTERNAL &&
	    lv_checkpoints_drop_for(c, dom, guest, what, NULL, err) < 0)
		return -1;
	/* flags 0: the guest comes back running, paused or shut off as the snapshot recorded. */
	if (virDomainRevertToSnapshot(snap, 0) < 0)
		return lv_error(err, c, guest, snapshot, "cannot revert to");
	return 0;
}

int lv_snapshot_delete(DrvConn *dc, const char *guest, const char *snapshot, unsigned flags,
		       HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	g_autoptr(virDomainSnapshot) snap = dom ? snap_lookup(c, dom, guest, snapshot, err) : NULL;
	/* Children are kept: libvirt re-parents them onto this snapshot's parent. */
	unsigned vflags =
	    flags & DRV_SNAP_DELETE_METADATA_ONLY ? VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY : 0;

	if (!snap)
		return -1;
	if (virDomainSnapshotDelete(snap, vflags) < 0)
		return lv_error(err, c, guest, snapshot, "cannot delete");
	return 0;
}
