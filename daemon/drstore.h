/* drstore.h - DR stores: [drstore NAME] path = DIR in holdfastd.conf, and their layout.
 *
 *   DIR/GUEST-UUID/POINT-ID/manifest.json     one directory per restore point
 *   DIR/GUEST-UUID/POINT-ID/TARGET.qcow2      one image per disk; an incremental's backing file
 *                                             is ../PARENT-ID/TARGET.qcow2 (relative)
 *   DIR/GUEST-UUID/POINT-ID.partial/          a copy in progress (never listed; discarded by
 *                                             the next copy of that guest)
 * POINT-ID is the copy's UTC time, 20261121T061500Z (-2, -3 ... within one second). A point is
 * written under .partial, fsynced, checked (qemu-img check; SHA-256 once: read back, or as
 * written by a pull), then published
 * by one rename: a copy that is not complete never looks complete.
 *
 * The manifest (format 1): point, guest, uuid, host, time, kind (full|incremental), checkpoint,
 * parent (point id or null), full_reason, consistency and consistency_reason, frozen_s,
 * duration_s, processed, disks [{target, file, source, virtual_size, stored_size, parent}],
 * full_disks [{target, reason}] (disks copied in full in an incremental point), files
 * [{name, size, sha256}], verified (at copy time), domain_xml, check (the guest's cached
 * build-check verdict at copy time, checks_cached(); null when never checked), nvram (when
 * captured), tests [..] (dr test outcomes, appended later), consolidated (drprune).
 *
 * Chains are per disk: disks[].parent is the point whose image of the same disk this image is
 * backed by (../PARENT/TARGET.qcow2), null for a full image. The point's parent is the point
 * whose checkpoint the incremental started from. Manifests without disks[].parent (older
 * ones): every disk's parent is the point's parent. A point is full when every disk is.
 *
 * Filesystem work only: no libvirt. Functions block (they read whole images): call them from
 * job threads, except drstore_points/drstore_find_guest which read manifests only. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define DRSTORE_MANIFEST "manifest.json"
#define DRSTORE_FORMAT 1
#define DRSTORE_RPO_WARN (26 * 3600)
#define DRSTORE_RPO_CRITICAL (50 * 3600)
#define DRSTORE_MAX_CHAIN 14

typedef struct {
	char *name;
	char *path; /* absolute */
	int line;
	int64_t rpo_warn, rpo_critical; /* dr status thresholds, seconds (26 h and 50 h) */
	char *test_dir; /* dr test overlays, on the guests' host; NULL: PATH/.hf-test */
	char *scratch_dir; /* pull mode: copy-before-write scratch files, on the hypervisor host;
			    * NULL: the point's .partial (local hypervisor) or /var/tmp */
	int max_chain;	/* incrementals after a full before the next copy is a full; 0 = no cap */
	int mode;	/* DRSTORE_MODE_*: how copies of libvirt guests read the disks */
	int pull_port;	/* pull over TCP (remote hypervisor): the NBD port QEMU listens on */
	char *pull_host; /* ... and address (NULL: the host of the libvirt URI; set: TCP always) */
	int pull_tls;	 /* DRSTORE_TLS_*: NBD over TCP with TLS ([drstore] pull-tls) */
	/* pull-tls-dir: holdfastd's ca-cert.pem, client-cert.pem, client-key.pem (NULL: the
	 * default DRSTORE_PULL_TLS_DIR) */
	char *pull_tls_dir;
} DrStore;

DrStore *drstore_new(const char *name, int line);
void drstore_free(DrStore *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrStore, drstore_free)
/* One key of a [drstore NAME] section; err's message names the key's problem. */
int drstore_set(DrStore *s, const char *key, const char *value, HfError *err);
/* After the section: required keys present ("FILE:LINE: [drstore NAME] path: missing"). */
int drstore_finish(const DrStore *s, const char *file, HfError *err);

/* What a restore point records besides its disks (strings may be NULL). */
typedef struct {
	const char *point, *guest, *uuid, *host, *kind, *checkpoint, *parent, *full_reason;
	const char *consistency, *consistency_reason, *domain_xml;
	int64_t time;
	double duration_s, frozen_s;
	uint64_t processed;
} DrPointInfo;

/* A new point id for time t that is not taken in guest_dir. */
char *drstore_point_id(const char *guest_dir, int64_t t);
bool drstore_point_id_valid(const char *id);
char *drstore_guest_dir(const char *root, const char *uuid);

/* Create guest_dir/POINT.partial, after discarding older .partial directories of the guest
 * (copies that died). *partial: its path. */
int drstore_begin(const char *guest_dir, const char *point, char **partial, HfError *err);
/* Remove a partial point directory and everything in it. */
void drstore_discard(const char *partial);

cJSON *drstore_manifest_new(const DrPointInfo *info);
/* A disk of the point: file is a name inside the point directory. */
void drstore_manifest_add_disk(cJSON *m, const char *target, const char *file, const char *source,
			       uint64_t virtual_size, const char *parent);
/* The point the image of disk d (an entry of m's disks) is backed by, or NULL (a full image). */
const char *drstore_disk_parent(const cJSON *m, const cJSON *d);
/* The entry of m's disks for target, or NULL. */
const cJSON *drstore_disk(const cJSON *m, const char *target);
/* The points m depends on directly: every disk's parent, each once (NULL-terminated). */
char **drstore_point_deps(const cJSON *m);
/* How many incrementals back to its full the image of disk target in point has (0: the
 * image is full); -1 when the chain is broken (a parent missing or a loop). */
int drstore_chain_length(GPtrArray *points, const char *point, const char *target);

/* Fill stored_size and files[] (SHA-256 of every disk file), fsync the files, write the
 * manifest (verified = true), fsync the directory. */
int drstore_seal(const char *partial, cJSON *m, HfError *err);
/* Rename guest_dir/POINT.partial to guest_dir/POINT and fsync guest_dir. */
int drstore_publish(const char *guest_dir, const char *point, HfError *err);

/* Published points of a guest, oldest first (cJSON manifests, each with "dir" added). A
 * guest without points gives an empty array. */
int drstore_points(const char *guest_dir, GPtrArray **out, HfError *err);
/* The manifest of the newest point in guest directory gd, read alone (a new object), or NULL. */
cJSON *drstore_newest(const char *gd);
/* The uuid directory whose newest manifest names this guest ("NAME" or "HOST/NAME"), or NULL. */
char *drstore_find_guest(const char *root, const char *guest);

int drstore_sha256(const char *path, char hex[65], HfError *err);
/* Recompute every file's SHA-256 against the manifest; a mismatch names the file and point. */
int drstore_check_files(const char *dir, const cJSON *m, HfError *err);
/* qemu-img ARGV...: *code its exit status (128 when killed), *text "COMMAND failed: STDERR;
 * STDOUT" (new, for when code is not 0); -1 with err only when it cannot run. */
int drstore_qemu_img_status(const char *const *argv, int *code, char **text, HfError *err);
/* qemu-img with these arguments (NULL-terminated); failure quotes its output. */
int drstore_qemu_img(HfError *err, const char *const *argv);
/* Files, qemu-img check of every image, for the point and every point its disks' chains
 * reach back to their fulls (each point once). */
int drstore_verify_chain(GPtrArray *points, const char *point, cJSON *report, HfError *err);

/* How a copy of a libvirt guest reads its disks ([drstore] mode): push (the hypervisor writes
 * the images into the store, which it must reach), pull (holdfastd reads the disks over NBD
 * and writes the images itself, hashing them as written), or auto: pull for a running guest
 * (measured faster than push, bench/README.md) and for any guest of a remote hypervisor (a
 * URI with a host part); push for a paused or shut-off guest of this host (push starts a
 * shut-off guest paused for the copy; pull needs it running). */
enum {
	DRSTORE_MODE_AUTO,
	DRSTORE_MODE_PUSH,
	DRSTORE_MODE_PULL,
};
#define DRSTORE_PULL_PORT 10809
/* [drstore] pull-tls: auto (TLS on every pull over TCP; the unix socket of a local hypervisor
 * stays plain: it never leaves the host), yes (the same, written out: a no-op on the unix
 * socket), no (plain NBD over TCP: a trusted network only). */
enum {
	DRSTORE_TLS_AUTO,
	DRSTORE_TLS_YES,
	DRSTORE_TLS_NO,
};
#define DRSTORE_PULL_TLS_DIR "/etc/pki/holdfast/nbd"
/* [drstore] mode = auto|push|pull, pull-port = N, pull-host = ADDRESS, pull-tls = auto|yes|no
 * and pull-tls-dir = DIR. */
int drstore_set_mode(DrStore *s, const char *key, const char *value, HfError *err);
/* Does a copy of a guest (running or not) of the hypervisor at uri pull (true) or push? */
bool drstore_pulls(int mode, const char *uri, bool running);
/* The image of disk target was hashed as it was written (pull mode): drstore_seal takes this
 * SHA-256 instead of reading the file again. */
void drstore_manifest_disk_hashed(cJSON *m, const char *target, const char *sha256);
/* A point-named directory of the guest whose manifest cannot be read (I/O error, damage), or
 * NULL. drstore_points skips such a point, so retention must delete nothing beside it: a
 * parent it needs would look unreferenced. */
char *drstore_unreadable_point(const char *guest_dir);
/* The manifest of point `id` among points (drstore_points), or NULL. */
const cJSON *drstore_point(GPtrArray *points, const char *id);
/* The [drstore] called name among stores (config's drstores), or NULL. */
const DrStore *drstore_named(const GPtrArray *stores, const char *name);
/* -1 with err naming the failed I/O (what, path, errno; ENOSPC/EDQUOT: no-space, "free space
 * in the DR store"). */
int drstore_io_error(HfError *err, const char *what, const char *path);
/* fsync a file or (dir) a directory; -1 with drstore_io_error's message. */
int drstore_fsync(const char *path, bool dir, HfError *err);
/* A copy of file from at to (replaced when there), fsynced; errors name both. */
int drstore_copy_file(const char *from, const char *to, HfError *err);

/* One writer at a time in a guest's directory: GUEST_DIR/.lock (never a point: drstore_points
 * and every other listing skip names that are not point ids) is flock()ed exclusively by a
 * DR copy and by retention for as long as they write there. Two guests with the same UUID (a
 * clone, a failed-over copy beside its source) on two hosts share the directory; flock also
 * holds between holdfastd processes sharing a store on NFS (Linux emulates it with a lock of
 * the whole file there). The holder writes what it is into the file, so one that waits in vain
 * can name it. */
#define DRSTORE_LOCK_FILE ".lock"
#define DRSTORE_LOCK_WAIT 120 /* seconds a copy or a retention waits for the lock */
typedef struct {
	int fd; /* -1: not held */
} DrStoreLock;
#define DRSTORE_LOCK_INIT ((DrStoreLock){.fd = -1})
/* Take the lock of guest_dir (created when missing), waiting up to wait_s seconds (0: try
 * once) unless cancelled(opaque) (may be NULL) says stop. holder: what takes it ("dr.copy of
 * HOST/GUEST into store S"). Else HF_ERR_CONFLICT naming the directory and its holder, or
 * HF_ERR_CANCELLED. */
int drstore_lock(const char *guest_dir, const char *holder, int wait_s,
		 bool (*cancelled)(void *opaque), void *opaque, DrStoreLock *lock, HfError *err);
void drstore_unlock(DrStoreLock *lock);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DrStoreLock, drstore_unlock)
