/* driver.h - the hypervisor driver vtable (modelled on libvirt's own driver tables).
 *
 * name, open and close are mandatory; every other operation is optional: the drv_*() wrappers
 * answer "not supported by this backend" (HF_ERR_UNSUPPORTED) when it is NULL. Every operation
 * takes a flags word (0 today unless documented). Drivers return plain C structs; only the
 * daemon's method layer builds JSON. Operations are called from worker threads and may block;
 * a DrvConn must be safe for concurrent calls from several threads. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef enum {
	DRV_STATE_UNKNOWN,
	DRV_STATE_RUNNING,
	DRV_STATE_BLOCKED,
	DRV_STATE_PAUSED,
	DRV_STATE_SHUTDOWN, /* shutting down */
	DRV_STATE_SHUTOFF,
	DRV_STATE_CRASHED,
	DRV_STATE_PMSUSPENDED,
	DRV_STATE_SAVED, /* Hyper-V "saved" */
} DrvGuestState;

const char *drv_state_name(DrvGuestState s);

typedef struct {
	char *target;   /* "vda", "sda", "IDE 0:0" */
	char *device;   /* "disk", "cdrom" */
	char *path;     /* source file / block device / volume; NULL when none (empty cdrom) */
	char *format;   /* "qcow2", "raw", "vhdx", NULL when unknown */
	uint64_t capacity;   /* virtual size in bytes, 0 when unknown */
	uint64_t allocation; /* bytes used on the host, 0 when unknown */
} DrvDisk;

typedef struct {
	char *name;
	char *uuid;
	char *title;       /* may be NULL */
	char *description; /* may be NULL */
	DrvGuestState state;
	unsigned vcpus;
	uint64_t memory_kib;
	GPtrArray *disks; /* DrvDisk* */
	/* Windows Server 2008 recognition: os_id is the libosinfo id (or holdfast's own os= value),
	 * os_source says where it came from ("libosinfo", "holdfast", NULL when none). */
	char *os_id;
	char *os_source;
	char *nvram; /* UEFI variable store file (libvirt <os><nvram>), NULL when none */
	bool win2008; /* Server 2008 or 2008 R2 per os_id */
	char **tags;  /* holdfast tags from the domain metadata (NULL-terminated, may be NULL) */
	bool persistent;
} DrvGuest;

typedef enum {
	DRV_SNAP_INTERNAL, /* inside the disk images (qcow2), optionally with memory */
	DRV_SNAP_EXTERNAL, /* overlay files */
	DRV_SNAP_OTHER,
} DrvSnapKind;

typedef struct {
	char *name;
	char *description; /* may be NULL */
	char *parent;      /* may be NULL */
	int64_t creation_time; /* unix seconds */
	char *state;       /* guest state captured: "running", "shutoff", "disk-snapshot", ... */
	DrvSnapKind kind;
	bool has_memory;
	bool current;
	/* Filled by drivers that quiesce by themselves (DRV_CAP_SELF_QUIESCE) on create: what the
	 * snapshot is consistent to ("application", "filesystem", "crash") and why; else NULL. */
	char *consistency;
	char *consistency_reason;
	/* create: holdfast's DR checkpoints the driver had to drop first (libvirt refuses an
	 * internal snapshot of a shut-off guest while checkpoints exist): the next DR copy of the
	 * guest is a full */
	int dropped_checkpoints;
} DrvSnapshot;

typedef struct {
	const char *name;        /* required */
	const char *description; /* may be NULL */
	/* For DRV_CAP_SELF_QUIESCE drivers: "no", "yes" (fail unless application-consistent) or
	 * "try" (fall back, recorded in the snapshot's consistency_reason); NULL = "no". */
	const char *quiesce;
	/* Flags for snapshot_create: */
} DrvSnapshotSpec;

enum {
	DRV_SNAP_CREATE_DISK_ONLY = 1 << 0, /* no memory state even when running */
	DRV_SNAP_DELETE_METADATA_ONLY = 1 << 0,
};

/* Callbacks a connection makes on the thread that runs the default GLib main context. */
typedef struct {
	void (*guest_changed)(void *opaque, const char *guest); /* defined/started/stopped/... */
	void (*closed)(void *opaque, const char *reason);       /* the connection is gone */
	void *opaque;
} DrvCallbacks;

/* DrvDriver.caps */
enum {
	/* snapshot_create quiesces the guest itself (Hyper-V production checkpoints): the daemon
	 * skips the agent freeze, passes DrvSnapshotSpec.quiesce and records the snapshot's
	 * consistency. */
	DRV_CAP_SELF_QUIESCE = 1 << 0,
};

/* Progress of a long operation: percent 0-100 and a line for the job's progress. */
typedef void (*DrvProgressFn)(void *opaque, int pct, const char *msg);

/* A full DR copy by the hypervisor's own export (export_full). */
typedef struct {
	const char *dest_dir; /* a path on the hypervisor host; NULL = the driver's default */
	DrvProgressFn progress;
	void *opaque;
	bool (*cancelled)(void *opaque); /* polled while the export runs; the hypervisor's job is
					  * terminated when it returns true; may be NULL */
	char *exported;			 /* out: where the copy went (g_free) */
} DrvExportSpec;

/* A push-mode backup (backup_push): every disk of the guest into dir/TARGET.qcow2, with a new
 * checkpoint, full or incremental from an existing checkpoint. */
typedef struct {
	const char *dir;	 /* target directory (on the hypervisor host); must exist */
	const char *checkpoint;	 /* name of the checkpoint to create (required) */
	const char *incremental; /* only what changed since this checkpoint; NULL = full */
	bool quiesce;		 /* fs-freeze before the backup starts, thaw right after */
	int agent_timeout;	 /* bound of the freeze and the thaw, seconds */
	bool (*cancelled)(void *opaque); /* polled while the copy runs; may be NULL */
	/* With incremental: these targets (NULL-terminated; NULL = none) are copied in full
	 * (a disk added or resized since that checkpoint). */
	const char *const *full_disks;
	/* A shut-off guest started paused for the copy stays paused after a successful copy:
	 * the caller powers it off (drv_domain_destroy) when done with its checkpoints (libvirt
	 * deletes checkpoints of running guests only). On failure it is powered off here. */
	bool leave_paused;
} DrvBackupSpec;

typedef struct {
	char *target;	   /* "vda" */
	char *file;	   /* dir/vda.qcow2 */
	char *source;	   /* the guest's disk image */
	uint64_t capacity; /* virtual size, bytes */
	/* pull mode: the disk's NBD export, and its dirty-bitmap export (NULL for a full copy
	 * of the disk); the image's SHA-256 when holdfast wrote it (hashed as written) */
	char *export_name;
	char *bitmap;
	char *sha256;
} DrvBackupDisk;

/* A pull-mode backup (backup_pull): the disks exported over NBD while the job runs. */
typedef struct {
	/* transport unix (the hypervisor runs on this host): the socket's path; its directory
	 * is given to the hypervisor's QEMU user. NULL: transport tcp. */
	const char *socket;
	const char *tcp_host; /* tcp: the address to listen on, on the hypervisor host */
	int tcp_port;
	const char *scratch_dir; /* per-disk scratch files, on the hypervisor host */
	/* the NBD server with TLS (transport tcp): its certificate from the hypervisor's own
	 * configuration (libvirt: qemu.conf backup_tls_x509_cert_dir) */
	bool tls;
} DrvPullSpec;

typedef struct {
	GPtrArray *disks;	  /* DrvBackupDisk*, freed with drv_backup_disk_free */
	char *domain_xml;	  /* inactive domain XML at copy time */
	char *consistency;	  /* "filesystem" or "crash" */
	char *consistency_reason; /* why */
	double frozen_s;	  /* length of the frozen window, 0 when not frozen */
	uint64_t processed;	  /* bytes the hypervisor copied */
	/* the guest was shut off: started paused for the copy (no guest code ran), destroyed
	 * after it; its shut-off reason decides the consistency */
	bool started_paused;
	/* an incremental was asked, but its checkpoint's bitmaps were unusable: the copy is a
	 * full, and this says why (else NULL) */
	char *full_reason;
	/* the guest's disks the copy did not take, "TARGET (DEVICE SOURCE): why" (cdroms,
	 * floppies, SCSI passthrough LUNs): recorded so that a restore can say what it lacks */
	GPtrArray *skipped;
} DrvBackupResult;

void drv_backup_disk_free(DrvBackupDisk *d);
void drv_backup_result_free(DrvBackupResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrvBackupResult, drv_backup_result_free)

typedef struct DrvDriver DrvDriver;
typedef struct DrvConn {
	const DrvDriver *drv; /* first member of every driver's connection struct */
	char *uri;
} DrvConn;

struct DrvDriver {
	const char *name;
	unsigned caps; /* DRV_CAP_* */
	/* May this driver open uri? (scheme check only, no I/O) */
	bool (*probe)(const char *uri);
	/* options: the [host] section's driver-specific keys (string -> string), may be NULL. */
	int (*open)(const char *uri, GHashTable *options, const DrvCallbacks *cb, unsigned flags,
		    DrvConn **out, HfError *err);
	/* Validate one driver-specific [host] key at config time (no I/O). NULL: the driver takes
	 * no keys besides uri, guests and max-jobs. */
	int (*config_key)(const char *key, const char *value, HfError *err);
	void (*close)(DrvConn *conn);

	bool (*alive)(DrvConn *conn);
	int (*guest_list)(DrvConn *conn, unsigned flags, GPtrArray **out /* DrvGuest* */,
			  HfError *err);
	int (*guest_get)(DrvConn *conn, const char *guest, unsigned flags, DrvGuest **out,
			 HfError *err);

	int (*snapshot_list)(DrvConn *conn, const char *guest, unsigned flags,
			     GPtrArray **out /* DrvSnapshot* */, HfError *err);
	int (*snapshot_create)(DrvConn *conn, const char *guest, const DrvSnapshotSpec *spec,
			       unsigned flags, DrvSnapshot **out, HfError *err);
	int (*snapshot_revert)(DrvConn *conn, const char *guest, const char *snapshot,
			       unsigned flags, HfError *err);
	int (*snapshot_delete)(DrvConn *conn, const char *guest, const char *snapshot,
			       unsigned flags, HfError *err);

	/* Guest agent. timeout_s bounds the call; an agent that does not answer in time fails
	 * with HF_ERR_AGENT_TIMEOUT, no agent with HF_ERR_AGENT_UNAVAILABLE. */
	int (*fs_freeze)(DrvConn *conn, const char *guest, int timeout_s, unsigned flags,
			 int *frozen, HfError *err);
	int (*fs_thaw)(DrvConn *conn, const char *guest, int timeout_s, unsigned flags,
		       int *thawed, HfError *err);
	/* One raw guest-agent command (a JSON object as text); *reply is the agent's answer. */
	int (*agent_command)(DrvConn *conn, const char *guest, const char *cmd, int timeout_s,
			     unsigned flags, char **reply, HfError *err);

	/* Guest OS facts the hypervisor collects without an agent (Hyper-V KVP intrinsic items:
	 * OSVersion, CSDVersion, ProductType, ... but no revision): *items name -> value. A guest
	 * that reports none (off, no integration services) gives an empty table. */
	int (*guest_kvp)(DrvConn *conn, const char *guest, unsigned flags, GHashTable **items,
			 HfError *err);
	/* A full DR copy of a running or stopped guest (see DrvExportSpec). */
	int (*export_full)(DrvConn *conn, const char *guest, DrvExportSpec *spec, unsigned flags,
			   HfError *err);
	/* A push-mode backup of a running or paused guest with a new checkpoint; a shut-off guest
	 * is started paused for it and destroyed after it. Returns when it is complete (progress
	 * from the hypervisor's job stats). On failure the new checkpoint is removed. */
	int (*backup_push)(DrvConn *conn, const char *guest, const DrvBackupSpec *spec,
			   DrvProgressFn progress, void *opaque, unsigned flags,
			   DrvBackupResult **out, HfError *err);
	/* The guest's checkpoint names, oldest first (NULL-terminated). */
	int (*checkpoint_list)(DrvConn *conn, const char *guest, unsigned flags, char ***out,
			       HfError *err);
	int (*checkpoint_delete)(DrvConn *conn, const char *guest, const char *name,
				 unsigned flags, HfError *err);
	/* Is the checkpoint usable for an incremental (its bitmap present and consistent on every
	 * disk)? 1 yes, 0 no with *why (new string), -1 on error. */
	int (*checkpoint_check)(DrvConn *conn, const char *guest, const char *name,
				unsigned flags, char **why, HfError *err);
	/* A backup job running on the guest: its target files (push) or scratch files (pull),
	 * NULL-terminated, or *targets NULL when the guest runs none. */
	int (*backup_job_targets)(DrvConn *conn, const char *guest, unsigned flags,
				  char ***targets, HfError *err);
	/* A pull-mode backup of a running guest with a new checkpoint: returns once the disks
	 * are exported (DrvBackupDisk.export_name, .bitmap) for the caller to read; backup_abort
	 * ends the job. On failure nothing runs and the new checkpoint is removed. */
	int (*backup_pull)(DrvConn *conn, const char *guest, const DrvBackupSpec *spec,
			   const DrvPullSpec *pull, unsigned flags, DrvBackupResult **out,
			   HfError *err);
	/* Abort the guest's backup job (if it runs one) and wait until it has ended. With
	 * DRV_BACKUP_ABORT_MARKED_ONLY: no job is touched; a shut-off guest that a copy started
	 * paused (a copy that died) is powered off again. */
	int (*backup_abort)(DrvConn *conn, const char *guest, unsigned flags, HfError *err);
	/* Define a new persistent guest from its XML (left shut off); a guest of that name that
	 * exists already: HF_ERR_CONFLICT. */
	int (*domain_define)(DrvConn *conn, const char *xml, unsigned flags, HfError *err);
	/* Start a defined, shut-off guest (flags: DRV_START_PAUSED). */
	int (*domain_start)(DrvConn *conn, const char *guest, unsigned flags, HfError *err);
	/* Power a guest off at once, no guest shutdown; a guest that is off already: 0. */
	int (*domain_destroy)(DrvConn *conn, const char *guest, unsigned flags, HfError *err);
	/* Remove a shut-off guest's definition with its NVRAM file and its snapshot and checkpoint
	 * metadata; never its disk images. */
	int (*domain_undefine)(DrvConn *conn, const char *guest, unsigned flags, HfError *err);
	/* Shut down through the guest agent, else the ACPI power button, and wait up to
	 * timeout_s (HF_ERR_TIMEOUT when it still runs then); shut off already: 0. */
	int (*domain_shutdown)(DrvConn *conn, const char *guest, int timeout_s, unsigned flags,
			       HfError *err);
	/* Rename a shut-off guest. */
	int (*domain_rename)(DrvConn *conn, const char *guest, const char *new_name,
			     unsigned flags, HfError *err);
	/* *was: the autostart flag before (may be NULL); on: 1/0 sets it, -1 only reads it. */
	int (*domain_autostart)(DrvConn *conn, const char *guest, int on, unsigned flags,
				bool *was, HfError *err);
	/* holdfast's metadata element of namespace uri (persistent definition): *xml NULL when
	 * there is none. metadata_set with xml NULL removes it; key is the XML prefix. */
	int (*metadata_get)(DrvConn *conn, const char *guest, const char *uri, unsigned flags,
			    char **xml, HfError *err);
	int (*metadata_set)(DrvConn *conn, const char *guest, const char *uri, const char *key,
			    const char *xml, unsigned flags, HfError *err);
};

enum {
	DRV_START_PAUSED = 1 << 0, /* domain_start: CPUs stopped (no guest code runs) */
	/* checkpoint_delete: when the bitmaps are gone or broken, drop libvirt's metadata */
	DRV_CHECKPOINT_DELETE_BROKEN = 1 << 0,
	/* the guest's images were replaced (an in-place restore): their bitmaps are gone, only
	 * libvirt's record is left, dropped even while the guest is shut off */
	DRV_CHECKPOINT_DELETE_IMAGES_GONE = 1 << 1,
	/* backup_abort: leave any job alone, power off a guest a copy left paused */
	DRV_BACKUP_ABORT_MARKED_ONLY = 1 << 0,
	/* domain_define: replace the shut-off guest of that name and UUID (in-place restore) */
	DRV_DEFINE_REPLACE = 1 << 0,
};

/* The drivers compiled in, NULL-terminated. */
extern const DrvDriver *const drv_all[];

/* Open uri with the first driver whose probe accepts it. */
int drv_open(const char *uri, GHashTable *options, const DrvCallbacks *cb, unsigned flags,
	     DrvConn **out, HfError *err);
/* The driver that would open uri, or NULL. */
const DrvDriver *drv_for_uri(const char *uri);
/* Does the URI name this machine's hypervisor (no host part: qemu:///system, test:///...)? */
bool drv_uri_local(const char *uri);
void drv_close(DrvConn *conn);
bool drv_alive(DrvConn *conn);
int drv_guest_list(DrvConn *c, unsigned flags, GPtrArray **out, HfError *err);
int drv_guest_get(DrvConn *c, const char *guest, unsigned flags, DrvGuest **out, HfError *err);
int drv_snapshot_list(DrvConn *c, const char *guest, unsigned flags, GPtrArray **out,
		      HfError *err);
int drv_snapshot_create(DrvConn *c, const char *guest, const DrvSnapshotSpec *spec,
			unsigned flags, DrvSnapshot **out, HfError *err);
int drv_snapshot_revert(DrvConn *c, const char *guest, const char *snap, unsigned flags,
			HfError *err);
int drv_snapshot_delete(DrvConn *c, const char *guest, const char *snap, unsigned flags,
			HfError *err);
int drv_fs_freeze(DrvConn *c, const char *guest, int timeout_s, unsigned flags, int *frozen,
		  HfError *err);
int drv_fs_thaw(DrvConn *c, const char *guest, int timeout_s, unsigned flags, int *thawed,
		HfError *err);
int drv_agent_command(DrvConn *c, const char *guest, const char *cmd, int timeout_s,
		      unsigned flags, char **reply, HfError *err);
int drv_guest_kvp(DrvConn *c, const char *guest, unsigned flags, GHashTable **items,
		  HfError *err);
int drv_export_full(DrvConn *c, const char *guest, DrvExportSpec *spec, unsigned flags,
		    HfError *err);
int drv_backup_push(DrvConn *c, const char *guest, const DrvBackupSpec *spec,
		    DrvProgressFn progress, void *opaque, unsigned flags, DrvBackupResult **out,
		    HfError *err);
int drv_checkpoint_list(DrvConn *c, const char *guest, unsigned flags, char ***out,
			HfError *err);
int drv_checkpoint_delete(DrvConn *c, const char *guest, const char *name, unsigned flags,
			  HfError *err);
int drv_checkpoint_check(DrvConn *c, const char *guest, const char *name, unsigned flags,
			 char **why, HfError *err);
int drv_backup_job_targets(DrvConn *c, const char *guest, unsigned flags, char ***targets,
			   HfError *err);
int drv_backup_abort(DrvConn *c, const char *guest, unsigned flags, HfError *err);
int drv_backup_pull(DrvConn *c, const char *guest, const DrvBackupSpec *spec,
		    const DrvPullSpec *pull, unsigned flags, DrvBackupResult **out, HfError *err);

int drv_domain_define(DrvConn *c, const char *xml, unsigned flags, HfError *err);
int drv_domain_start(DrvConn *c, const char *guest, unsigned flags, HfError *err);
int drv_domain_destroy(DrvConn *c, const char *guest, unsigned flags, HfError *err);
int drv_domain_undefine(DrvConn *c, const char *guest, unsigned flags, HfError *err);
int drv_domain_shutdown(DrvConn *c, const char *guest, int timeout_s, unsigned flags,
			HfError *err);
int drv_domain_rename(DrvConn *c, const char *guest, const char *new_name, unsigned flags,
		      HfError *err);
int drv_domain_autostart(DrvConn *c, const char *guest, int on, unsigned flags, bool *was,
			 HfError *err);
int drv_metadata_get(DrvConn *c, const char *guest, const char *uri, unsigned flags, char **xml,
		     HfError *err);
int drv_metadata_set(DrvConn *c, const char *guest, const char *uri, const char *key,
		     const char *xml, unsigned flags, HfError *err);

/* Plain-struct helpers. */
DrvGuest *drv_guest_new(void);
void drv_guest_free(DrvGuest *g);
DrvDisk *drv_disk_new(void);
void drv_disk_free(DrvDisk *d);
DrvSnapshot *drv_snapshot_new(void);
void drv_snapshot_free(DrvSnapshot *s);
DrvGuest *drv_guest_copy(const DrvGuest *g);
/* True when a libosinfo id names Windows Server 2008 or 2008 R2. */
bool drv_os_is_win2008(const char *os_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrvGuest, drv_guest_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DrvSnapshot, drv_snapshot_free)
