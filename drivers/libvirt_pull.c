/* libvirt_pull.c - pull-mode backups: the guest's disks exported over NBD for holdfast to read.
 *
 * <domainbackup mode='pull'> with a <server> (a unix socket when the hypervisor runs on this
 * host, else TCP on the hypervisor host) and a new checkpoint, like push mode; per disk an
 * export named after its target, for an incremental its dirty bitmap exported as
 * qemu:dirty-bitmap:backup-TARGET, and a scratch file (libvirt 9.0 refuses a pull backup of a
 * file disk without one: "argument key 'filename' must not have null value") that holds the
 * copy-before-write data while the export runs. QEMU creates the socket, so its directory is
 * handed to the QEMU user of the domain (its DAC label). The job runs until backup_abort. */
#include "libvirt_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

/* The uid:gid QEMU runs as for this domain (<seclabel model='dac'><label>+N:+M</label>). */
static bool qemu_owner(const char *live_xml, uid_t *uid, gid_t *gid)
{
	g_autoptr(xmlDoc) doc =
	    xmlReadMemory(live_xml, (int)strlen(live_xml), NULL, NULL,
			  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return false;
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(doc);
	g_autoptr(xmlXPathObject) o = xmlXPathEvalExpression(
	    (const xmlChar *)"string(/domain/seclabel[@model='dac']/label)", ctx);
	const char *label = o && o->stringval ? (const char *)o->stringval : "";
	unsigned long u = 0, g = 0;
	if (sscanf(label, "+%lu:+%lu", &u, &g) != 2)
		return false;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return true;
}

static void server_xml(GString *b, const DrvPullSpec *pull)
{
	if (pull->socket) {
		g_autofree char *s = g_markup_escape_text(pull->socket, -1);
		g_string_append_printf(b, "  <server transport='unix' socket='%s'/>\n", s);
	} else {
		g_autofree char *h = g_markup_escape_text(pull->tcp_host, -1);
		g_string_append_printf(b, "  <server transport='tcp' name='%s' port='%d'%s/>\n", h,
				       pull->tcp_port, pull->tls ? " tls='yes'" : "");
	}
}

/* A TLS export that could not start for want of the server certificate: libvirt's QEMU
 * driver takes it from qemu.conf's backup_tls_x509_cert_dir (default_tls_x509_cert_dir when
 * unset, itself /etc/pki/qemu by default); QEMU's tls-creds-x509 object fails with "Unable
 * to access credentials DIR/FILE: ..." when a file is missing, libvirt says "backup TLS
 * directory not configured" when no directory is. The error rewritten to say what to do. */
static void tls_hint(HfError *err, const char *guest, const char *host)
{
	const char *at = strstr(err->message, "Unable to access credentials ");
	if (!at && !strstr(err->message, "backup TLS directory not configured"))
		return;
	g_autofree char *file = NULL, *dir = NULL;
	if (at) {
		file = g_strdup(at + strlen("Unable to access credentials "));
		file[strcspn(file, ": ")] = '\0';
		dir = g_path_get_dirname(file);
	}
	g_autofree char *was = g_strdup(err->message);
	char code[sizeof err->code];
	g_strlcpy(code, err->code, sizeof code);
	error_clear(err);
	error_set(err, code,
		  "pull-mode DR copy of guest '%s' with TLS: the hypervisor %s has no TLS server "
		  "certificate for the NBD export%s%s%s: libvirt's QEMU driver takes it from "
		  "backup_tls_x509_cert_dir in /etc/libvirt/qemu.conf (unset: "
		  "default_tls_x509_cert_dir, by default /etc/pki/qemu)%s%s, which must hold "
		  "ca-cert.pem (the CA of holdfastd's client certificate in pull-tls-dir), "
		  "server-cert.pem (naming the address holdfastd connects to) and server-key.pem "
		  "(readable by QEMU's user); or pull-tls = no in the [drstore] on a trusted "
		  "network. libvirt: %s",
		  guest, host, file ? " (" : "", file ? file : "", file ? " is missing)" : "",
		  dir ? ", here " : "", dir ? dir : "", was);
}

/* <domainbackup mode='pull'>: the server, per disk its export, bitmap and scratch file. */
static char *backup_text(const DrvBackupSpec *spec, const DrvPullSpec *pull, const char *uuid,
			 const DrvBackupResult *res, GPtrArray *skip)
{
	GString *b = g_string_new("<domainbackup mode='pull'>\n");
	if (spec->incremental) {
		g_autofree char *inc = g_markup_escape_text(spec->incremental, -1);
		g_string_append_printf(b, "  <incremental>%s</incremental>\n", inc);
	}
	server_xml(b, pull);
	g_string_append(b, "  <disks>\n");
	for (guint i = 0; i < res->disks->len; i++) {
		const DrvBackupDisk *d = res->disks->pdata[i];
		g_autofree char *t = g_markup_escape_text(d->target, -1);
		/* CHECKPOINT-UUID-TARGET: guests copied into one store in the same second share
		 * the point id, and scratch-dir (or /var/tmp) is shared by all of them */
		g_autofree char *scratch = g_strdup_printf("%s/%s-%s-%s.scratch", pull->scratch_dir,
							   spec->checkpoint, uuid, d->target);
		g_autofree char *sx = g_markup_escape_text(scratch, -1);
		/* per disk (libvirt >= 7.6): a disk added or resized since the checkpoint in full
		 */
		g_string_append_printf(
		    b, "    <disk name='%s' backup='yes' type='file'%s exportname='%s'", t,
		    !d->bitmap && spec->incremental ? " backupmode='full'" : "", t);
		if (d->bitmap)
			g_string_append_printf(b, " exportbitmap='backup-%s'", t);
		g_string_append_printf(b, "><scratch file='%s'/></disk>\n", sx);
	}
	for (guint i = 0; i < skip->len; i++)
		g_string_append_printf(b, "    <disk name='%s' backup='no'/>\n",
				       (const char *)skip->pdata[i]);
	g_string_append(b, "  </disks>\n</domainbackup>\n");
	return g_string_free(b, FALSE);
}


/* The backup job of a running (or just started paused) guest: its disks, the export, the
 * checkpoint, libvirt's backup-begin with the freeze spec asks for. */
static int begin(LvConn *c, virDomainPtr dom, const char *guest, const DrvBackupSpec *spec,
		 const DrvPullSpec *pull, DrvBackupResult *res, HfError *err)
{
	g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
	if (!xml)
		return lv_error(err, c, guest, NULL, "cannot read");
	g_autofree char *what = g_strdup_printf("guest '%s' on host %s", guest, c->base.uri);
	g_autoptr(DrvGuest) g = drv_guest_new();
	if (lv_xml_guest_parse(xml, what, g, err) < 0)
		return -1;
	g_autoptr(GPtrArray) skip = g_ptr_array_new_with_free_func(g_free);
	if (lv_backup_pick_disks(c, dom, guest, g, spec, res, skip, err) < 0)
		return -1;
	char uuid[VIR_UUID_STRING_BUFLEN] = "";
	if (virDomainGetUUIDString(dom, uuid) < 0)
		return lv_error(err, c, guest, NULL, "cannot read the UUID of");
	g_autofree char *bxml = backup_text(spec, pull, uuid, res, skip);
	g_autofree char *kxml = lv_checkpoint_text(spec, res, skip);
	uid_t uid;
	gid_t gid;
	if (pull->socket && qemu_owner(xml, &uid, &gid)) {
		g_autofree char *dir = g_path_get_dirname(pull->socket);
		if (chown(dir, uid, gid) < 0)
			return error_set(err, HF_ERR_FAILED,
					 "cannot hand the NBD socket directory %s to QEMU's user "
					 "(%u:%u): %s",
					 dir, (unsigned)uid, (unsigned)gid, g_strerror(errno));
	}
	if (lv_backup_begin_quiesced(c, dom, guest, spec, bxml, kxml, res, err) < 0) {
		HfError e = {0};
		if (pull->tls)
			tls_hint(err, guest, pull->tcp_host);
		if (lv_checkpoint_delete(&c->base, guest, spec->checkpoint, 0, &e) < 0)
			virResetLastError();
		return -1;
	}
	return 0;
}

int lv_backup_pull(DrvConn *dc, const char *guest, const DrvBackupSpec *spec,
		   const DrvPullSpec *pull, unsigned flags, DrvBackupResult **out, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);

	if (!dom)
		return -1;
	if (!pull || !pull->scratch_dir || (!pull->socket && (!pull->tcp_host || pull->tcp_port <= 0)))
		return error_set(err, HF_ERR_INTERNAL,
				 "pull-mode DR copy of guest '%s': no NBD server or scratch "
				 "directory given",
				 guest);
	g_autoptr(DrvBackupResult) res = NULL;
	DrvBackupSpec sp;
	if (lv_backup_prepare(c, dom, guest, spec, &sp, &res, err) < 0)
		return -1;
	if (begin(c, dom, guest, &sp, pull, res, err) < 0)
		return lv_backup_off_again(c, dom, guest, -1, res, err);
	*out = g_steal_pointer(&res);
	return 0;
}
