/* drpull.h - the disks of a libvirt guest copied into a DR store point, in push or pull mode.
 *
 * Push: the hypervisor writes spec->dir/TARGET.qcow2 (drv_backup_push); the seal reads them
 * back to hash them. Pull: a pull-mode backup exports the disks over NBD; holdfastd reads
 * them with libnbd (several requests in flight), writes each image with the streaming qcow2
 * writer (qcow2w.h) and hashes it as written, once (reader, hasher and writer threads); an
 * incremental disk's
 * image is backed by ../PARENT/TARGET.qcow2 from the start (no rebase), its dirty clusters
 * stored (zero ones as zero clusters), the clean ones left to the backing file. The result has
 * the push path's shape, with each DrvBackupDisk.sha256 set. On any failure the backup job is
 * ended, the new checkpoint removed and nothing is left in spec->dir by the pull itself; a
 * shut-off guest that the pull started paused is powered off again.
 *
 * TLS (over TCP unless pull-tls = no): libvirt's <server tls='yes'>, QEMU's server certificate
 * from the hypervisor's qemu.conf (backup_tls_x509_cert_dir); holdfastd requires TLS (libnbd)
 * with tls_dir's ca-cert.pem, client-cert.pem and client-key.pem (QEMU verifies the client
 * certificate: backup_tls_x509_verify defaults to on), checked before the backup starts; the
 * --compare read (qemu-img) gets a tls-creds-x509 object of the same directory. */
#pragma once

#include <cjson/cJSON.h>

#include "drivers/driver.h"

typedef struct {
	int mode;	  /* DRSTORE_MODE_* ([drstore] mode) */
	int port;	  /* [drstore] pull-port: NBD over TCP to a remote hypervisor */
	const char *host; /* [drstore] pull-host: its address (NULL: the URI's host) */
	/* [drstore] pull-tls (DRSTORE_TLS_*): auto and yes: TLS on TCP (the unix socket of a
	 * local hypervisor stays plain), no: plain TCP */
	int tls;
	const char *tls_dir; /* [drstore] pull-tls-dir (NULL: DRSTORE_PULL_TLS_DIR) */
	/* out (may be NULL): "unix", "tcp" or "tcp+tls" when the copy pulled, else untouched */
	const char **transport;
	/* [drstore] scratch-dir: the scratch files' directory on the hypervisor host (NULL: the
	 * point's .partial for a local hypervisor, /var/tmp on a remote one) */
	const char *scratch_dir;
	const char *parent; /* the point incremental images are backed by (NULL for a full) */
	/* non-NULL: pull mode whatever the guest's state, and after the pull each disk's image
	 * with its backing chain (the disk as the store will restore it) is compared byte for
	 * byte with the export (the whole disk at the copy's instant: a fresh full) while the
	 * backup job still holds that instant; an object per disk appended; a difference fails
	 * the copy naming the disk and the first differing offset */
	cJSON *compare;
	/* non-NULL: a failed pull leaves a guest it started paused paused, *left_paused set, for
	 * the caller to power off once it is done with the guest's checkpoints (libvirt deletes
	 * checkpoints of running guests only); NULL: powered off by the pull */
	bool *left_paused;
} DrPullOpts;

/* Copy the guest's disks for one restore point: push or pull as o, the host's URI and the
 * guest's state say (drstore_pulls). */
int drpull_backup(DrvConn *c, const char *guest, const DrvBackupSpec *spec, const DrPullOpts *o,
		  DrvProgressFn progress, void *opaque, DrvBackupResult **out, HfError *err);
/* How a copy with these options would read a guest of the host at uri: "push", or a pull's
 * "unix" (this machine's hypervisor), "tcp" or "tcp+tls" (dr copy --dry-run). */
const char *drpull_transport(const DrPullOpts *o, const char *uri, bool running);
