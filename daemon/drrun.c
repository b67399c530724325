/* drrun.c - carrying out a restore (drrun.h). */
#include "drrun.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drlease.h"
#include "drmark.h"
#include "drrecover.h"
#include "drrplan.h"
#include "drstore.h"
#include "drxml.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */
#include "statefile.h"
#include "timefmt.h"

char *drrun_remote_note(Host *h, const char *why)
{
	static const char *const path_trouble[] = {"No such file", "Permission denied",
						   "Cannot access storage", "Could not open",
						   "cannot open"};
	const char *uri = host_uri(h);
	bool local = drv_uri_local(uri);
	bool paths = false;
	for (size_t i = 0; why && i < G_N_ELEMENTS(path_trouble); i++)
		paths = paths || strstr(why, path_trouble[i]);
	return local || !paths ? g_strdup("")
		     : g_strdup_printf("; host %s (%s) is not this machine: holdfastd writes the "
				       "restored images here, so the store and the image "
				       "directory (--dir) must be paths host %s sees the same way "
				       "(shared storage)",
				       host_name(h), uri, host_name(h));
}

GHashTable *drrun_record(DrvConn *c, const char *name)
{
	g_autofree char *xml = NULL;
	HfError e = {0};
	if (drv_metadata_get(c, name, DRXML_NS_RESTORE, 0, &xml, &e) < 0 || !xml)
		return NULL;
	return drxml_attrs(xml);
}

char *drrun_restored_point(DrvConn *c, const char *name, const char *uuid)
{
	g_autoptr(GHashTable) a = drrun_record(c, name);
	const char *u = a ? g_hash_table_lookup(a, "uuid") : NULL;
	const char *p = a ? g_hash_table_lookup(a, "point") : NULL;
	return p && !g_strcmp0(u, uuid) ? g_strdup(p) : NULL;
}

int drrun_check_names(const char *as, const char *dir, HfError *err)
{
	if (as && (!*as || strchr(as, '/') || strlen(as) > 200))
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "'%s' is not a guest name for --as (1-200 characters, no '/')",
				 as);
	if (dir && !g_path_is_absolute(dir))
		return error_set(err, HF_ERR_INVALID_PARAMS, "--dir '%s' is not an absolute path",
				 dir);
	return 0;
}

static void die_with_parent(gpointer unused)
{
	(void)unused;
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* holdfastd killed: no convert goes on writing */
}

/* qemu-img convert of one disk's chain, cancellable (the job's cancel kills it). */
static int convert(Job *job, const char *from, const char *to, HfError *err)
{
	const char *argv[] = {"qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", from, to, NULL};
	GPid pid = 0;
	int efd = -1, status = 0;
	g_autoptr(GError) ge = NULL;
	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
					  G_SPAWN_STDOUT_TO_DEV_NULL,
				      die_with_parent, NULL, &pid, NULL, NULL, &efd, &ge))
		return error_set(err, HF_ERR_FAILED, "cannot run qemu-img: %s; install qemu-utils",
				 ge->message);
	fcntl(efd, F_SETFL, O_NONBLOCK);
	g_autoptr(GString) msg = g_string_new(NULL);
	bool killed = false;
	for (;;) {
		char buf[1024];
		ssize_t n;
		while ((n = read(efd, buf, sizeof buf)) > 0)
			if (msg->len < 4096)
				g_string_append_len(msg, buf, n);
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (!killed && job_cancelled(job)) {
			kill(pid, SIGTERM);
			killed = true;
		}
		g_usleep(100 * 1000);
	}
	close(efd);
	g_spawn_close_pid(pid);
	if (killed)
		return error_set(err, HF_ERR_CANCELLED, "restore cancelled while writing %s", to);
	bool full = strstr(msg->str, "No space left on device") != NULL;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return error_set(err, full ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
				 "qemu-img convert %s -> %s failed: %s%s", from, to,
				 g_strstrip(msg->str),
				 full ? "; free space there or give --dir" : "");
	return 0;
}

typedef struct {
	const DrRunSpec *s;
	DrRestorePlan *plan;
	char *journal;
	cJSON *result;
} Run;

static int journal(Run *r, const char *step, HfError *err)
{
	g_autoptr(cJSON) j = drrplan_journal(r->plan, host_name(r->s->host), step, r->s->keep_old);
	g_autofree char *dir = g_path_get_dirname(r->journal);
	if (statefile_mkdirs(dir, err) < 0)
		return -1;
	return statefile_write_json(r->journal, j, err);
}

/* Journals of the restores running in this holdfastd; any other journal in STATE_DIR/drrestore
 * is one of a restore that died with an earlier holdfastd (kill -9, power loss). */
static GMutex active_lock;
static GHashTable *active;

/* false: a restore of this journal runs already */
static bool claim(const char *journal)
{
	g_mutex_lock(&active_lock);
	if (!active)
		active = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	bool ok = g_hash_table_add(active, g_strdup(journal));
	g_mutex_unlock(&active_lock);
	return ok;
}

static void release(const char *journal)
{
	g_mutex_lock(&active_lock);
	if (active && g_hash_table_remove(active, journal) && !g_hash_table_size(active))
		g_clear_pointer(&active, g_hash_table_unref);
	g_mutex_unlock(&active_lock);
}

/* Undo the dead restore of one journal of this host (journals of other hosts are left to
 * restores there); its note goes into *notes. */
static int recover_one(const char *path, Run *r, DrvConn *c, GString *notes, HfError *err)
{
	g_autoptr(cJSON) j = NULL;
	HfError e = {0};
	if (statefile_read_json(path, &j, &e) < 0 || !j)
		return error_set(err, HF_ERR_FAILED,
				 "the journal %s of an earlier restore cannot be read (%s); check "
				 "the files it lists, then remove it",
				 path, e.message);
	const char *host = cJSON_GetStringValue(cJSON_GetObjectItem(j, "host"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(j, "name"));
	if (g_strcmp0(host, host_name(r->s->host)) || !name)
		return 0;
	g_autoptr(DrvGuest) g = NULL;
	bool defined = drv_guest_get(c, name, 0, &g, &e) == 0;
	g_autofree char *note = NULL;
	if (drrplan_recover(j, defined, &note, err) < 0)
		return -1;
	g_unlink(path);
	hf_log("hf-dr", LOG_LVL_WARNING, "restore of %s had died (step %s): %s", name,
	       cJSON_GetStringValue(cJSON_GetObjectItem(j, "step")),
	       *note ? note : "nothing left to undo");
	g_string_append_printf(notes, "%s%s: %s", notes->len ? "; " : "", name,
			       *note ? note : "nothing left to undo");
	return 0;
}

/* Restores that died on this host: undo them first (this name's first of all). */
static int recover(Run *r, DrvConn *c, HfError *err)
{
	g_autofree char *dir = g_path_get_dirname(r->journal);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GString) notes = g_string_new(NULL);
	const char *n;
	int rc = g_file_test(r->journal, G_FILE_TEST_EXISTS)
		     ? recover_one(r->journal, r, c, notes, err)
		     : 0;
	while (rc == 0 && d && (n = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, n, NULL);
		if (!g_str_has_suffix(n, ".json") || !strcmp(p, r->journal) || !claim(p))
			continue; /* not a journal, ours, or a restore running now */
		rc = recover_one(p, r, c, notes, err);
		release(p);
	}
	if (notes->len)
		cJSON_AddStringToObject(r->result, "recovered", notes->str);
	return rc;
}

/* Free space where the first image goes (the flattened images are at most this big). */
static cJSON *space_check(const DrRestorePlan *p)
{
	const DrRestoreDisk *d = p->disks->pdata[0];
	g_autofree char *dir = g_path_get_dirname(d->to);
	uint64_t need = 0;
	for (guint i = 0; i < p->disks->len; i++)
		need += ((DrRestoreDisk *)p->disks->pdata[i])->virtual_size;
	struct statvfs v;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "check", "free space");
	if (statvfs(dir, &v) < 0) {
		cJSON_AddBoolToObject(o, "ok", 0);
		cJSON_AddStringToObject(o, "detail", g_strerror(errno));
		return o;
	}
	uint64_t free_b = (uint64_t)v.f_bavail * v.f_frsize;
	cJSON_AddBoolToObject(o, "ok", free_b >= need);
	g_autofree char *det = g_strdup_printf("%s: %" G_GUINT64_FORMAT
					       " bytes free, at most %" G_GUINT64_FORMAT " needed",
					       dir, free_b, need);
	cJSON_AddStringToObject(o, "detail", det);
	return o;
}

static void check_row(cJSON *arr, const char *what, bool ok, const char *detail)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "check", what);
	cJSON_AddBoolToObject(o, "ok", ok);
	cJSON_AddStringToObject(o, "detail", detail);
	cJSON_AddItemToArray(arr, o);
}

static bool exists(const char *path)
{
	return path && g_file_test(path, G_FILE_TEST_EXISTS);
}

/* A file the plan would write that exists already (d NULL: the NVRAM), or NULL. */
static const char *busy_file(const DrRestorePlan *p, const DrRestoreDisk *d)
{
	if (!d) /* a new guest's NVRAM file, written by us or made by libvirt */
		return !p->in_place && exists(p->nvram_path) ? p->nvram_path : NULL;
	if (!p->in_place && exists(d->to))
		return d->to;
	return exists(d->before) ? d->before : NULL;
}

/* Every file the plan would write is free (leftovers of ours were removed by recover()). */
static int files_free(const DrRestorePlan *p, bool dry_run, cJSON *checks, HfError *err)
{
	for (guint i = 0; i <= p->disks->len; i++) {
		const DrRestoreDisk *d = i < p->disks->len ? p->disks->pdata[i] : NULL;
		if (d && !dry_run)
			g_unlink(d->tmp); /* ours by its name, from a restore without a journal */
		const char *busy = busy_file(p, d);
		if (busy) {
			check_row(checks, "target files free", false, busy);
			return error_set(err, HF_ERR_CONFLICT,
					 "%s exists already and no restore of holdfast's left it "
					 "unfinished; remove it or restore with another name or "
					 "--dir",
					 busy);
		}
	}
	check_row(checks, "target files free", true, "no file of the plan exists");
	/* the image directories (--dir, or the source's): made when missing */
	for (guint i = 0; i < p->disks->len; i++) {
		g_autofree char *dir = g_path_get_dirname(((DrRestoreDisk *)p->disks->pdata[i])->to);
		if (g_file_test(dir, G_FILE_TEST_IS_DIR))
			continue;
		if (dry_run) {
			g_autofree char *d = g_strdup_printf("%s will be created", dir);
			check_row(checks, "image directory", true, d);
		} else if (g_mkdir_with_parents(dir, 0755) < 0) {
			check_row(checks, "image directory", false, dir);
			return error_set(err, HF_ERR_FAILED,
					 "cannot create the image directory %s: %s; create it or "
					 "choose another with --dir",
					 dir, g_strerror(errno));
		}
	}
	return 0;
}

/* The guest to restore in place: shut off, the point's own guest; target -> image now. */
/* The shut-off guest's disk images by target, and its NVRAM file now (*nvram, or NULL). */
static GHashTable *in_place_disks(DrvConn *c, const DrRunSpec *s, const cJSON *m, char **nvram,
				  HfError *err)
{
	g_autoptr(DrvGuest) g = NULL;
	/* a failed-over source: its definition would be replaced without the mark */
	if (drmark_refuse(c, s->name, "in-place restores", err) < 0 ||
	    drv_guest_get(c, s->name, 0, &g, err) < 0)
		return NULL;
	const char *uuid = cJSON_GetStringValue(cJSON_GetObjectItem(m, "uuid"));
	if (g_strcmp0(g->uuid, uuid))
		return error_set(
			   err, HF_ERR_CONFLICT,
			   "guest '%s' (UUID %s) is not the guest restore point %s was copied "
			   "from (UUID %s); restore it as a new guest with --as",
			   s->name, g->uuid, s->point, uuid ? uuid : "?"),
		       NULL;
	if (g->state != DRV_STATE_SHUTOFF)
		return error_set(err, HF_ERR_CONFLICT,
				 "guest '%s' is %s: an in-place restore replaces its disks and "
				 "needs it shut off; shut it down first (or restore with --as)",
				 s->name, drv_state_name(g->state)),
		       NULL;
	*nvram = g_strdup(g->nvram);
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		if (!d->path || strcmp(d->device, "disk"))
			continue;
		/* image files only: a block device (LVM, /dev/...) must never be renamed or get
		 * a qcow2 file written beside it */
		if (!g_file_test(d->path, G_FILE_TEST_IS_REGULAR) ||
		    g_file_test(d->path, G_FILE_TEST_IS_SYMLINK)) {
			g_hash_table_unref(t);
			return error_set(
				   err, HF_ERR_CONFLICT,
				   "disk %s of guest '%s' is %s, not an image file on this "
				   "host: an in-place restore replaces image files only; restore "
				   "with --as NAME --dir DIR",
				   d->target, s->name, d->path),
			       NULL;
		}
		g_hash_table_insert(t, g_strdup(d->target), g_strdup(d->path));
	}
	return t;
}

static int write_images(Job *job, Run *r, HfError *err)
{
	const DrRestorePlan *p = r->plan;
	int span = r->s->pct1 - r->s->pct0, n = (int)p->disks->len;
	for (int i = 0; i < n; i++) {
		const DrRestoreDisk *d = p->disks->pdata[i];
		job_progress(job, r->s->pct0 + span / 4 + span / 2 * i / n,
			     "flattening disk %s of point %s into %s", d->target, p->point, d->tmp);
		const char *chk[] = {"check", "-q", "-f", "qcow2", d->tmp, NULL};
		if (convert(job, d->from, d->tmp, err) < 0 || drstore_qemu_img(err, chk) < 0 ||
		    drstore_fsync(d->tmp, false, err) < 0)
			return -1;
	}
	if (p->nvram_from && drstore_copy_file(p->nvram_from, p->nvram_tmp, err) < 0)
		return -1;
	return 0;
}

/* tmp -> to (in place: to -> before first); journal "swapping" covers it. Neither rename
 * replaces a file: one that appeared since files_free stops the restore (undone), never
 * lost. Two renames, not RENAME_EXCHANGE: after an exchange the guest's own image would sit
 * under the temporary name, which the journal's recovery removes. */
static int swap_in(const DrRestorePlan *p, HfError *err)
{
	for (guint i = 0; i <= p->disks->len; i++) {
		const DrRestoreDisk *d = i < p->disks->len ? p->disks->pdata[i] : NULL;
		const char *to = d ? d->to : p->nvram_to, *tmp = d ? d->tmp : p->nvram_tmp;
		const char *before = d ? d->before : p->nvram_before;
		if (!to)
			continue;
		if (before && g_file_test(to, G_FILE_TEST_EXISTS) &&
		    drrplan_rename(to, before, err) < 0)
			return -1;
		if (drrplan_rename(tmp, to, err) < 0)
			return -1;
	}
	return 0;
}

static int define(Job *job, Run *r, DrvConn *c, const cJSON *m, HfError *err)
{
	const DrRunSpec *s = r->s;
	g_autoptr(GHashTable) files = drrplan_files(r->plan);
	g_autofree char *now = timefmt_iso(g_get_real_time() / G_USEC_PER_SEC);
	DrXmlRecord rec = {
	    .point = s->point,
	    .guest = cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest")),
	    .uuid = cJSON_GetStringValue(cJSON_GetObjectItem(m, "uuid")),
	    .time = now,
	    .mode = s->record_mode ? s->record_mode
		    : s->in_place  ? "in-place"
				   : "restore",
	};
	DrXmlOpts xo = {
	    .name = s->name,
	    .files = files,
	    .keep_uuid = s->in_place || s->keep_uuid,
	    .keep_mac = s->keep_mac,
	    .nvram = r->plan->nvram_path,
	    .record = &rec,
	    .keep_luns = s->in_place,
	    .left_out = g_ptr_array_new_with_free_func(g_free),
	};
	g_autofree char *xml =
	    drxml_restore(cJSON_GetStringValue(cJSON_GetObjectItem(m, "domain_xml")), &xo, err);
	drxml_left_out(xo.left_out, r->result);
	if (!xml)
		return -1;
	job_progress(job, s->pct1 - 2, "defining guest %s", s->name);
	if (drv_domain_define(c, xml, s->in_place ? DRV_DEFINE_REPLACE : 0, err) < 0) {
		g_autofree char *note = drrun_remote_note(s->host, err->message);
		if (*note)
			g_strlcat(err->message, note, sizeof err->message);
		return -1;
	}
	return 0;
}

/* Undo after a failure in this process: the journal's own recovery. */
static void undo(Run *r, DrvConn *c, const char *step)
{
	g_autoptr(cJSON) j = drrplan_journal(r->plan, host_name(r->s->host), step, r->s->keep_old);
	HfError e = {0};
	g_autoptr(DrvGuest) g = NULL;
	bool defined = !r->plan->in_place && drv_guest_get(c, r->s->name, 0, &g, &e) == 0;
	g_autofree char *note = NULL;
	error_clear(&e);
	if (drrplan_recover(j, defined, &note, &e) < 0)
		hf_log("hf-dr", LOG_LVL_ERROR, "restore of %s: undoing failed: %s", r->s->name,
		       e.message);
	else
		g_unlink(r->journal);
}

/* In place: the guest's DR checkpoints (of every store) named bitmaps of images that are gone
 * now; the next DR copy to each store is a full (libvirt's record only: the new images carry
 * no bitmaps). */
static void drop_checkpoints(DrvConn *c, const char *name, cJSON *res)
{
	g_autoptr(cJSON) failed = cJSON_CreateArray();
	cJSON *dropped = cJSON_CreateArray();
	HfError e = {0};
	if (drrecover_ck_drop(c, name, drrecover_ck_any, NULL, DRV_CHECKPOINT_DELETE_IMAGES_GONE,
			      dropped, failed, &e) < 0) {
		cJSON_Delete(dropped);
		return;
	}
	cJSON_AddItemToObject(res, "checkpoints_dropped", dropped);
	g_autoptr(GString) w = g_string_new(NULL);
	const cJSON *f;
	cJSON_ArrayForEach(f, failed)
	    g_string_append_printf(w, "%s%s", w->len ? "; " : "", f->valuestring);
	if (w->len)
		cJSON_AddStringToObject(res, "warning", w->str);
}

static int run_steps(Job *job, Run *r, DrvConn *c, const cJSON *m, GPtrArray *pts, HfError *err)
{
	const DrRunSpec *s = r->s;
	g_autoptr(cJSON) chain = cJSON_CreateArray();
	job_progress(job, s->pct0, "verifying point %s and its chain", s->point);
	if (!s->verified && drstore_verify_chain(pts, s->point, chain, err) < 0)
		return -1;
	if (s->verified)
		cJSON_AddStringToObject(r->result, "verified", "just before, by the caller");
	else
		cJSON_AddItemToObject(r->result, "verified", g_steal_pointer(&chain));
	if (journal(r, "writing", err) < 0)
		return -1;
	if (write_images(job, r, err) < 0) {
		g_autofree char *note = drrun_remote_note(s->host, err->message);
		g_strlcat(err->message, note, sizeof err->message);
		undo(r, c, "writing");
		return -1;
	}
	if (job_cancelled(job)) {
		undo(r, c, "writing");
		return error_set(err, HF_ERR_CANCELLED, "restore of %s cancelled", s->name);
	}
	const char *step = s->in_place ? "swapping" : "writing";
	if ((s->in_place && journal(r, step, err) < 0) || swap_in(r->plan, err) < 0 ||
	    define(job, r, c, m, err) < 0) {
		undo(r, c, step);
		return -1;
	}
	if (s->in_place) { /* the new definition is in place: the old images go (or stay) */
		HfError e = {0};
		g_autoptr(cJSON) j =
		    drrplan_journal(r->plan, host_name(s->host), "defined", s->keep_old);
		if (journal(r, "defined", &e) < 0 || drrplan_recover(j, true, NULL, &e) < 0)
			cJSON_AddStringToObject(r->result, "warning", e.message);
		drop_checkpoints(c, s->name, r->result);
	}
	g_unlink(r->journal);
	return 0;
}

static void add_result(Run *r, const cJSON *m)
{
	cJSON *res = r->result;
	cJSON_AddStringToObject(res, "name", r->s->name);
	cJSON_AddStringToObject(res, "host", host_name(r->s->host));
	cJSON_AddStringToObject(res, "source",
				cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest")));
	cJSON_AddStringToObject(res, "point", r->s->point);
	cJSON_AddStringToObject(res, "time", cJSON_GetStringValue(cJSON_GetObjectItem(m, "time")));
	cJSON_AddBoolToObject(res, "in_place", r->s->in_place);
	cJSON_AddBoolToObject(res, "dry_run", r->s->dry_run);
}

/* The restore once its journal is ours (drrun_restore). */
static int restore_claimed(Job *job, Run *r, DrvConn *c, const cJSON *m, GPtrArray *pts,
			   HfError *err)
{
	const DrRunSpec *s = r->s;
	cJSON *res = r->result;
	cJSON *checks = cJSON_AddArrayToObject(res, "checks");
	g_autoptr(GHashTable) cur = NULL;
	g_autofree char *nvram_now = NULL;
	const char *uuid = cJSON_GetStringValue(cJSON_GetObjectItem(m, "uuid"));
	if (s->in_place) {
		if (!(cur = in_place_disks(c, s, m, &nvram_now, err)))
			return -1;
		check_row(checks, "guest shut off and the point's own", true, s->name);
	} else {
		g_autoptr(DrvGuest) old = NULL;
		HfError e = {0};
		if (s->dry_run && s->name_freed)
			check_row(checks, "name free", true, "the source is renamed first");
		else if (drv_guest_get(c, s->name, 0, &old, &e) == 0) {
			g_autofree char *done = drrun_restored_point(c, s->name, uuid);
			if (!done || strcmp(done, s->point))
				return error_set(
				    err, HF_ERR_CONFLICT,
				    "guest '%s' already exists on host %s; choose "
				    "another name with --as or remove that guest first",
				    s->name, host_name(s->host));
			cJSON_AddBoolToObject(res, "already_restored", 1);
			cJSON_AddStringToObject(res, "state", drv_state_name(old->state));
			return 0;
		} else if (strcmp(e.code, HF_ERR_NOT_FOUND))
			return error_set(err, e.code, "%s", e.message);
		else
			check_row(checks, "name free", true, s->name);
	}
	/* in place: the guest's NVRAM file now, never the manifest's path (drrplan_nvram_path) */
	g_autoptr(DrRestorePlan) plan = drrplan_new(m, s->name, s->dir, cur, nvram_now, err);
	if (!plan || files_free(plan, s->dry_run, checks, err) < 0)
		return -1;
	r->plan = plan;
	cJSON_AddItemToObject(res, "plan", drrplan_disks_json(plan));
	cJSON_AddItemToArray(checks, space_check(plan));
	if (plan->nvram_path)
		cJSON_AddStringToObject(res, "nvram", plan->nvram_path);
	if (s->dry_run) {
		check_row(checks, "chain", true, "verified (checksums, qemu-img check) when run");
		return 0;
	}
	drlease_take(s->gdir, s->point);
	int rc = run_steps(job, r, c, m, pts, err);
	drlease_release(s->gdir, s->point);
	if (rc < 0)
		return -1;
	cJSON *disks = cJSON_AddObjectToObject(res, "disks");
	cJSON *kept = s->in_place && s->keep_old ? cJSON_AddArrayToObject(res, "kept") : NULL;
	for (guint i = 0; i < plan->disks->len; i++) {
		const DrRestoreDisk *d = plan->disks->pdata[i];
		cJSON_AddStringToObject(disks, d->target, d->to);
		if (kept)
			cJSON_AddItemToArray(kept, cJSON_CreateString(d->before));
	}
	cJSON_AddBoolToObject(res, "already_restored", 0);
	cJSON_AddStringToObject(res, "state", "shutoff");
	hf_log("hf-dr", LOG_LVL_INFO, "restored point %s as guest %s on %s%s", s->point, s->name,
	       host_name(s->host), s->in_place ? " (in place)" : "");
	return 0;
}

int drrun_restore(Job *job, const DrRunSpec *s, cJSON **result, HfError *err)
{
	g_autoptr(GPtrArray) pts = NULL;
	g_autoptr(cJSON) res = cJSON_CreateObject();
	Run r = {.s = s, .result = res};
	if (drstore_points(s->gdir, &pts, err) < 0)
		return -1;
	const cJSON *m = drstore_point(pts, s->point);
	if (!m)
		return error_set(err, HF_ERR_NOT_FOUND,
				 "restore point %s not found in %s; see holdfast dr list", s->point,
				 s->gdir);
	add_result(&r, m);
	g_autoptr(HostConn) hc = host_conn_get(s->host, err);
	if (!hc)
		return -1;
	DrvConn *c = host_conn_drv(hc);
	g_autofree char *jpath = drrplan_journal_path(s->state_dir, host_name(s->host), s->name);
	r.journal = jpath;
	if (!s->dry_run && !claim(jpath))
		return error_set(err, HF_ERR_CONFLICT,
				 "a restore of '%s' on host %s runs already; wait for its job",
				 s->name, host_name(s->host));
	int rc = s->dry_run ? 0 : recover(&r, c, err);
	if (rc == 0)
		rc = restore_claimed(job, &r, c, m, pts, err);
	if (!s->dry_run)
		release(jpath);
	if (rc == 0)
		*result = g_steal_pointer(&res);
	return rc;
}
