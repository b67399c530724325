/* libvirt_priv.h - internals shared by the libvirt driver's files (libvirt.c: connection, guests,
 * guest agent, error mapping; libvirt_xml.c: domain and snapshot XML; libvirt_snapshot.c:
 * snapshots). Nothing here is used outside drivers/ except by the driver's own tests. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "driver.h"

/* libvirt and libxml2 do not ship g_autoptr cleanups for their public types. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virError, virFreeError)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomainSnapshot, virDomainSnapshotFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

/* Namespaces of the domain <metadata> elements that mark a Windows Server 2008 guest. */
#define LV_NS_LIBOSINFO "http://libosinfo.org/xmlns/libvirt/domain/1.0"
#define LV_NS_HOLDFAST "https://holdfast.dev/xmlns/guest/1"

/* Event state shared with libvirt's callbacks. It is reference counted (libvirt drops its
 * references through the free callbacks) so a callback running on the main loop never sees
 * freed memory, and `closing` (under the recursive lock) guarantees that the daemon's
 * callbacks are not called once close() has returned. */
typedef struct {
	gint ref;
	GRecMutex lock;
	bool closing;
	DrvCallbacks cb;
	char *uri;
} LvEvents;

typedef struct {
	DrvConn base; /* first: a LvConn is a DrvConn */
	virConnectPtr conn;
	LvEvents *ev;
	int ev_ids[4];
	size_t n_ev_ids;
	bool close_cb; /* the close callback is registered */
} LvConn;

extern const DrvDriver drv_libvirt;

static inline LvConn *lv_conn(DrvConn *c)
{
	return (LvConn *)c;
}

/* Fill err from this thread's last libvirt error, once, mapped to holdfast's codes. The message
 * reads "<action> <object> on host <uri>: <libvirt's reason>; <what to do>", where the object is
 * "snapshot 'S' of guest 'G'", "guest 'G'" or nothing (snap and guest may be NULL). Returns -1. */
int lv_error(HfError *err, LvConn *c, const char *guest, const char *snap, const char *action);
/* holdfast's code for a libvirt error, and in *hint what the admin can do ("; ..." or ""). conn
 * (may be NULL) tells a dead connection's system errors from a host-side failure. */
const char *lv_error_code(const virError *e, virConnectPtr conn, const char **hint);
/* Look a guest up by name; HF_ERR_NOT_FOUND "guest 'X' not found on host URI". */
virDomainPtr lv_domain(LvConn *c, const char *guest, HfError *err);

/* libvirt_xml.c: parsing. `what` names the object in error messages ("guest 'X' on host Y"). */
/* Fill name, uuid, title, description, vcpus, memory, disks (no sizes) and the OS / tags from
 * the domain <metadata>. State and persistence come from the API, not from here. */
int lv_xml_guest_parse(const char *xml, const char *what, DrvGuest *g, HfError *err);
int lv_xml_snapshot_parse(const char *xml, const char *what, DrvSnapshot *s, HfError *err);
/* <domainsnapshot> for virDomainSnapshotCreateXML, every value XML-escaped. */
char *lv_xml_snapshot_spec(const DrvSnapshotSpec *spec);
/* A disk that cannot hold an internal snapshot ("disk 'vda' (/p/x.img) is raw"), or NULL. */
char *lv_xml_internal_blocker(const char *domain_xml);

/* libvirt_snapshot.c: the snapshot operations of the vtable. */
int lv_snapshot_list(DrvConn *conn, const char *guest, unsigned flags, GPtrArray **out,
		     HfError *err);
int lv_snapshot_create(DrvConn *conn, const char *guest, const DrvSnapshotSpec *spec,
		       unsigned flags, DrvSnapshot **out, HfError *err);
int lv_snapshot_revert(DrvConn *conn, const char *guest, const char *snapshot, unsigned flags,
		       HfError *err);
int lv_snapshot_delete(DrvConn *conn, const char *guest, const char *snapshot, unsigned flags,
		       HfError *err);

/* libvirt_backup.c: push-mode backups with checkpoints (DR copies). */
int lv_backup_push(DrvConn *conn, const char *guest, const DrvBackupSpec *spec,
		   DrvProgressFn progress, void *opaque, unsigned flags, DrvBackupResult **out,
		   HfError *err);
int lv_checkpoint_list(DrvConn *conn, const char *guest, unsigned flags, char ***out,
		       HfError *err);
int lv_checkpoint_delete(DrvConn *conn, const char *guest, const char *name, unsigned flags,
			 HfError *err);
int lv_checkpoint_check(DrvConn *conn, const char *guest, const char *name, unsigned flags,
			char **why, HfError *err);
int lv_backup_job_targets(DrvConn *conn, const char *guest, unsigned flags, char ***targets,
			  HfError *err);
int lv_backup_abort(DrvConn *conn, const char *guest, unsigned flags, HfError *err);
/* Before reverting to an internal snapshot: drop holdfast's DR checkpoints, refuse others'. */
int lv_checkpoints_drop_for(LvConn *c, virDomainPtr dom, const char *guest, const char *what,
			    int *dropped, HfError *err);
/* Freeze (when spec asks), virDomainBackupBegin, thaw; fills res's consistency and frozen_s
 * (libvirt_backup.c; push and pull modes). */
int lv_backup_begin_quiesced(LvConn *c, virDomainPtr dom, const char *guest,
			     const DrvBackupSpec *spec, const char *bxml, const char *kxml,
			     DrvBackupResult *res, HfError *err);
/* The guest's state before a copy (libvirt_backup.c): a shut-off guest started paused, a
 * paused one not frozen; and powered off again after it when the copy started it. */
int lv_backup_prepare(LvConn *c, virDomainPtr dom, const char *guest, const DrvBackupSpec *spec,
		      DrvBackupSpec *sp, DrvBackupResult **out, HfError *err);
int lv_backup_off_again(LvConn *c, virDomainPtr dom, const char *guest, int rc,
			const DrvBackupResult *res, HfError *err);
/* The disks a copy takes (qcow2 images) into res->disks, the targets of the others into skip
 * and why into res->skipped; a disk that must be copied but cannot is an error. And the
 * <domaincheckpoint> of a copy: a bitmap on every disk taken. (libvirt_backup.c) */
int lv_backup_pick_disks(LvConn *c, virDomainPtr dom, const char *guest, const DrvGuest *g,
			 const DrvBackupSpec *spec, DrvBackupResult *res, GPtrArray *skip,
			 HfError *err);
char *lv_checkpoint_text(const DrvBackupSpec *spec, const DrvBackupResult *res, GPtrArray *skip);
/* libvirt_pull.c: pull-mode backups (NBD export). */
int lv_backup_pull(DrvConn *conn, const char *guest, const DrvBackupSpec *spec,
		   const DrvPullSpec *pull, unsigned flags, DrvBackupResult **out, HfError *err);

/* libvirt_domain.c: shutdown, rename, autostart, holdfast's metadata elements (driver.h). */
int lv_domain_shutdown(DrvConn *conn, const char *guest, int timeout_s, unsigned flags,
		       HfError *err);
int lv_domain_rename(DrvConn *conn, const char *guest, const char *new_name, unsigned flags,
		     HfError *err);
int lv_domain_autostart(DrvConn *conn, const char *guest, int on, unsigned flags, bool *was,
			HfError *err);
int lv_metadata_get(DrvConn *conn, const char *guest, const char *uri, unsigned flags, char **xml,
		    HfError *err);
int lv_metadata_set(DrvConn *conn, const char *guest, const char *uri, const char *key,
		    const char *xml, unsigned flags, HfError *err);
