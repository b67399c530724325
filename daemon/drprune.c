/* drprune.c - consolidation and deletion of DR restore points, crash-safe (drprune.h). */
#include "drprune.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drlease.h"
#include "drstore.h"
#include "log.h"
#include "statefile.h"
#include "timefmt.h"

#define SFX_NEW ".hf-new"
#define SFX_OLD ".hf-old"
#define SFX_DEL ".hf-deleting"

/* Remove a directory of plain files. A subdirectory is not ours: stop with an error. */
static int remove_dir(const char *dir, HfError *err)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, n, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			return error_set(err, HF_ERR_CONFLICT,
					 "%s holds a directory (%s) that holdfast did not make; "
					 "left alone: remove it by hand",
					 dir, n);
		if (g_unlink(p) < 0)
			return drstore_io_error(err, "remove", p);
	}
	if (g_rmdir(dir) < 0)
		return drstore_io_error(err, "remove", dir);
	return 0;
}

/* ---- guarding by leases and manifests ---- */

/* Is point `id` leased now, or an ancestor (on any disk) of a point leased now? */
static bool leased_now(const char *gdir, const DrRetainSet *s, const char *id)
{
	g_auto(GStrv) leased = drlease_points(gdir);
	for (char **l = leased; l && *l; l++) {
		if (!strcmp(*l, id))
			return true;
		ssize_t i = drretain_find(s->pts, s->n, *l);
		for (size_t k = 0; i >= 0 && k < s->pts[i].n_disks; k++) {
			const char *t = s->pts[i].disks[k].target, *par = s->pts[i].disks[k].parent;
			for (size_t guard = 0; par && guard <= s->n; guard++) {
				if (!strcmp(par, id))
					return true;
				ssize_t j = drretain_find(s->pts, s->n, par);
				par = j < 0 ? NULL : drretain_disk_parent(&s->pts[j], t);
			}
		}
	}
	return false;
}

static bool holdfast_point(const cJSON *m, const char *id)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(m, "format")) == DRSTORE_FORMAT &&
	       !g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "point")), id);
}

static void skipped(cJSON *res, const char *id, const char *what, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "point", id);
	cJSON_AddStringToObject(o, "step", what);
	cJSON_AddStringToObject(o, "reason", why);
	cJSON_AddItemToArray(cJSON_GetObjectItem(res, "skipped_steps"), o);
	hf_log("hf-dr", LOG_LVL_WARNING, "retention: %s of point %s skipped: %s", what, id, why);
}

/* ---- swapping a rebuilt point in ---- */

/* renameat2(RENAME_EXCHANGE), or EINVAL as from a filesystem without it (NFS, some SMB
 * servers) when HOLDFAST_TEST_NO_RENAME_EXCHANGE is set: the tests' way into the fallback. */
static int exchange(const char *a, const char *b)
{
	if (g_getenv("HOLDFAST_TEST_NO_RENAME_EXCHANGE")) {
		errno = EINVAL;
		return -1;
	}
	return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

static int swap_in(const char *gdir, const char *dir, const char *tmp, HfError *err)
{
	if (exchange(tmp, dir) == 0) {
		if (drstore_fsync(gdir, true, err) < 0)
			return -1;
		return remove_dir(tmp, err); /* X's old contents */
	}
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return drstore_io_error(err, "exchange", dir);
	/* no atomic exchange here: two renames, finished by drprune_recover after a crash */
	hf_log("hf-dr", LOG_LVL_DEBUG,
	       "%s: no RENAME_EXCHANGE on this filesystem (%s): two renames", dir,
	       g_strerror(errno));
	g_autofree char *old = g_strconcat(dir, SFX_OLD, NULL);
	if (g_rename(dir, old) < 0)
		return drstore_io_error(err, "rename", dir);
	if (g_rename(tmp, dir) < 0) {
		int e = errno;
		if (g_rename(old, dir) < 0)
			hf_log("hf-dr", LOG_LVL_ERROR, "cannot put %s back: %s", dir,
			       g_strerror(errno));
		errno = e;
		return drstore_io_error(err, "rename", tmp);
	}
	if (drstore_fsync(gdir, true, err) < 0)
		return -1;
	return remove_dir(old, err);
}

/* ---- consolidation ---- */

static cJSON *file_entry(cJSON *m, const char *name)
{
	cJSON *f;
	cJSON_ArrayForEach(
	    f, cJSON_GetObjectItem(
		   m, "files")) if (!g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(f, "name")),
					       name)) return f;
	return NULL;
}

/* Rebuild one disk image of X in tmp onto new parent np (NULL = self-contained). */
static int rebuild_disk(const char *dir, const char *tmp, const char *file, const char *np,
			const char *np_file, HfError *err)
{
	g_autofree char *src = g_build_filename(dir, file, NULL);
	g_autofree char *dst = g_build_filename(tmp, file, NULL);
	if (!np) {
		const char *argv[] = {"convert", "-q", "-f", "qcow2", "-O",
				      "qcow2",	 src,  dst,  NULL};
		if (drstore_qemu_img(err, argv) < 0)
			return -1;
	} else {
		g_autofree char *back = g_strdup_printf("../%s/%s", np, np_file);
		const char *argv[] = {"rebase", "-q", "-f",    "qcow2", "-b",
				      back,	"-F", "qcow2", dst,	NULL};
		if (drstore_copy_file(src, dst, err) < 0 || drstore_qemu_img(err, argv) < 0)
			return -1;
	}
	const char *check[] = {"check", "-q", "-f", "qcow2", dst, NULL};
	const char *cmp[] = {"compare", "-q", "-f", "qcow2", "-F", "qcow2", src, dst, NULL};
	if (drstore_fsync(dst, false, err) < 0 || drstore_qemu_img(err, check) < 0 ||
	    drstore_qemu_img(err, cmp) < 0)
		return -1;
	return 0;
}

/* The new manifest of X: disks' parents, files' checksums, kind, the consolidation note. */
static cJSON *new_manifest(const cJSON *m, const char *tmp, const DrRetainPoint *pt,
			   const DrRetainDecision *d, int since_full, HfError *err)
{
	g_autoptr(cJSON) nm = cJSON_Duplicate(m, 1);
	cJSON_DeleteItemFromObject(nm, "dir");
	cJSON_DeleteItemFromObject(nm, "consolidated");
	cJSON *note = cJSON_CreateObject(), *dn;
	g_autofree char *now = timefmt_iso(g_get_real_time() / G_USEC_PER_SEC);
	const cJSON *old = cJSON_GetObjectItem(m, "consolidated");
	cJSON_AddStringToObject(note, "time", now);
	cJSON_AddStringToObject(note, "reason", d->rewrite_reason);
	cJSON_AddItemToObject(note, "copied_as",
			      cJSON_Duplicate(old ? cJSON_GetObjectItem(old, "copied_as")
						  : cJSON_GetObjectItem(m, "kind"),
					      1));
	cJSON_AddNumberToObject(note, "since_full", since_full);
	dn = cJSON_AddObjectToObject(note, "disks");
	const char *first = NULL;
	bool full = true;
	for (size_t k = 0; k < pt->n_disks; k++) {
		const char *t = pt->disks[k].target, *np = d->new_parent[k];
		cJSON *disk = (cJSON *)drstore_disk(nm, t);
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(disk, "file"));
		full = full && !np;
		first = first ? first : np;
		if (!disk || !f || !g_strcmp0(np, pt->disks[k].parent))
			continue;
		g_autofree char *p = g_build_filename(tmp, f, NULL);
		char hex[65] = "";
		GStatBuf st;
		if (drstore_sha256(p, hex, err) < 0 || g_stat(p, &st) < 0)
			return err->code[0] ? NULL : (drstore_io_error(err, "stat", p), NULL);
		cJSON *o = cJSON_AddObjectToObject(dn, t);
		cJSON_AddItemToObject(o, "from",
				      pt->disks[k].parent ? cJSON_CreateString(pt->disks[k].parent)
							  : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "to", np ? cJSON_CreateString(np) : cJSON_CreateNull());
		cJSON_DeleteItemFromObject(disk, "parent");
		cJSON_AddItemToObject(disk, "parent",
				      np ? cJSON_CreateString(np) : cJSON_CreateNull());
		cJSON_ReplaceItemInObject(disk, "stored_size",
					  cJSON_CreateNumber((double)st.st_size));
		cJSON *fe = file_entry(nm, f);
		if (!fe)
			return error_set(err, HF_ERR_FAILED,
					 "restore point %s: manifest lists no checksum of %s",
					 pt->id, f),
			       NULL;
		cJSON_ReplaceItemInObject(fe, "sha256", cJSON_CreateString(hex));
		cJSON_ReplaceItemInObject(fe, "size", cJSON_CreateNumber((double)st.st_size));
	}
	cJSON_ReplaceItemInObject(nm, "kind", cJSON_CreateString(full ? "full" : "incremental"));
	cJSON_ReplaceItemInObject(nm, "parent",
				  first ? cJSON_CreateString(first) : cJSON_CreateNull());
	cJSON_AddItemToObject(nm, "consolidated", note);
	return g_steal_pointer(&nm);
}

/* Link (or copy) the files of X that stay as they are into tmp. */
static int link_rest(const char *dir, const char *tmp, const cJSON *m, const DrRetainPoint *pt,
		     const DrRetainDecision *d, HfError *err)
{
	g_autoptr(GDir) gd = g_dir_open(dir, 0, NULL);
	const char *n;
	while (gd && (n = g_dir_read_name(gd))) {
		bool rebuilt = !strcmp(n, DRSTORE_MANIFEST);
		for (size_t k = 0; k < pt->n_disks && !rebuilt; k++) {
			const cJSON *disk = drstore_disk(m, pt->disks[k].target);
			rebuilt =
			    g_strcmp0(d->new_parent[k], pt->disks[k].parent) &&
			    !g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(disk, "file")), n);
		}
		if (rebuilt)
			continue;
		g_autofree char *a = g_build_filename(dir, n, NULL);
		g_autofree char *b = g_build_filename(tmp, n, NULL);
		if (g_file_test(a, G_FILE_TEST_IS_DIR))
			return error_set(err, HF_ERR_CONFLICT,
					 "restore point directory %s holds a directory (%s): not "
					 "consolidated",
					 dir, n);
		if (link(a, b) < 0 && drstore_copy_file(a, b, err) < 0)
			return -1;
	}
	return 0;
}

static int consolidate(const char *gdir, const cJSON *m, const DrRetainSet *s, size_t i,
		       const DrRetainDecision *d, GPtrArray *manifests, cJSON *res, HfError *err)
{
	const DrRetainPoint *pt = &s->pts[i];
	g_autofree char *dir = g_build_filename(gdir, pt->id, NULL);
	g_autofree char *tmp = g_strconcat(dir, SFX_NEW, NULL);
	int since = drretain_copies_since_full(s->pts, i + 1);
	g_autoptr(cJSON) nm = NULL;
	g_autofree char *mp = g_build_filename(tmp, DRSTORE_MANIFEST, NULL);

	if (!holdfast_point(m, pt->id)) {
		skipped(res, pt->id, "consolidation",
			"not a holdfast restore point (manifest format)");
		return 0;
	}
	if (g_file_test(tmp, G_FILE_TEST_EXISTS) && remove_dir(tmp, err) < 0)
		return -1;
	if (g_mkdir(tmp, 0750) < 0)
		return drstore_io_error(err, "create", tmp);
	for (size_t k = 0; k < pt->n_disks; k++) {
		const char *np = d->new_parent[k];
		if (!g_strcmp0(np, pt->disks[k].parent))
			continue;
		const char *f = cJSON_GetStringValue(
		    cJSON_GetObjectItem(drstore_disk(m, pt->disks[k].target), "file"));
		ssize_t j = drretain_find(s->pts, s->n, np);
		const char *npf =
		    j < 0 ? NULL
			  : cJSON_GetStringValue(cJSON_GetObjectItem(
				drstore_disk(manifests->pdata[j], pt->disks[k].target), "file"));
		if (!f || (np && !npf)) {
			error_set(err, HF_ERR_FAILED,
				  "restore point %s: disk %s has no image file in the manifest",
				  pt->id, pt->disks[k].target);
			goto fail;
		}
		if (rebuild_disk(dir, tmp, f, np, npf, err) < 0)
			goto fail;
	}
	if (link_rest(dir, tmp, m, pt, d, err) < 0)
		goto fail;
	nm = new_manifest(m, tmp, pt, d, since, err);
	if (!nm || statefile_write_json(mp, nm, err) < 0 || drstore_check_files(tmp, nm, err) < 0)
		goto fail;
	if (leased_now(gdir, s, pt->id)) {
		remove_dir(tmp, err);
		error_clear(err);
		skipped(res, pt->id, "consolidation", "leased (or a base of a leased point) now");
		return 0;
	}
	if (swap_in(gdir, dir, tmp, err) < 0)
		return -1;
	hf_log("hf-dr", LOG_LVL_INFO, "retention: consolidated point %s in %s: %s", pt->id, gdir,
	       d->rewrite_reason);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "point", pt->id);
	cJSON_AddStringToObject(o, "reason", d->rewrite_reason);
	cJSON_AddItemToArray(cJSON_GetObjectItem(res, "consolidated"), o);
	return 0;
fail:;
	HfError e = {0};
	remove_dir(tmp, &e);
	return -1;
}

/* ---- deletion ---- */

static int delete_point(const char *gdir, const char *id, const char *reason, cJSON *res,
			HfError *err)
{
	g_autoptr(GPtrArray) now = NULL;
	if (drstore_points(gdir, &now, err) < 0)
		return -1;
	g_autoptr(DrRetainSet) s = drretain_set_new(now, NULL);
	ssize_t i = drretain_find(s->pts, s->n, id);
	if (i < 0 || !holdfast_point(now->pdata[i], id)) {
		skipped(res, id, "deletion", "no longer a holdfast restore point here");
		return 0;
	}
	for (size_t j = 0; j < s->n; j++)
		for (size_t k = 0; k < s->pts[j].n_disks; k++)
			if (!g_strcmp0(s->pts[j].disks[k].parent, id)) {
				g_autofree char *why =
				    g_strdup_printf("disk %s of point %s is still backed by it",
						    s->pts[j].disks[k].target, s->pts[j].id);
				skipped(res, id, "deletion", why);
				return 0;
			}
	if (drretain_newest_verified(s->pts, s->n, (size_t)i) == i) {
		skipped(res, id, "deletion", "the newest verified point of its host and guest");
		return 0;
	}
	if (leased_now(gdir, s, id)) {
		skipped(res, id, "deletion", "leased now");
		return 0;
	}
	g_autofree char *dir = g_build_filename(gdir, id, NULL);
	g_autofree char *del = g_strconcat(dir, SFX_DEL, NULL);
	if (g_rename(dir, del) < 0)
		return drstore_io_error(err, "rename", dir);
	if (drstore_fsync(gdir, true, err) < 0 || remove_dir(del, err) < 0)
		return -1;
	hf_log("hf-dr", LOG_LVL_INFO, "retention: deleted point %s in %s: %s", id, gdir, reason);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "point", id);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddItemToArray(cJSON_GetObjectItem(res, "pruned"), o);
	return 0;
}

/* Between two steps (each complete on its own): progress, and stop when cancelled. */
static int step(Job *job, size_t done, const DrRetainPlan *plan, const char *what, const char *id,
		HfError *err)
{
	if (!job)
		return 0;
	if (job_cancelled(job))
		return error_set(err, HF_ERR_CANCELLED,
				 "cancelled after %zu of %zu retention step(s); every step done is "
				 "complete, the rest comes with the next run",
				 done, plan->rewritten + plan->deleted);
	size_t total = MAX(plan->rewritten + plan->deleted, 1);
	job_progress(job, (int)(20 + 75 * done / total), "%s %s", what, id);
	return 0;
}

int drprune_apply(Job *job, const char *gdir, GPtrArray *manifests, const DrRetainSet *set,
		  const DrRetainPlan *plan, cJSON *res, HfError *err)
{
	size_t done = 0;
	for (size_t i = 0; i < set->n; i++)
		if (plan->d[i].keep && plan->d[i].rewrite &&
		    (step(job, done++, plan, "consolidating", set->pts[i].id, err) < 0 ||
		     consolidate(gdir, manifests->pdata[i], set, i, &plan->d[i], manifests, res,
				 err) < 0))
			return -1;
	for (size_t i = set->n; i-- > 0;) /* newest first: a child goes before its base */
		if (!plan->d[i].keep &&
		    (step(job, done++, plan, "deleting", set->pts[i].id, err) < 0 ||
		     delete_point(gdir, set->pts[i].id, plan->d[i].reason, res, err) < 0))
			return -1;
	return 0;
}

/* ---- recovery ---- */

static void recovered(cJSON *report, const char *dir, const char *action)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "dir", dir);
	cJSON_AddStringToObject(o, "action", action);
	cJSON_AddItemToArray(report, o);
	hf_log("hf-dr", LOG_LVL_WARNING, "retention recovery: %s: %s", dir, action);
}

/* A rebuilt point without its original: complete (manifest and checksums) or not? */
static bool rebuilt_ok(const char *tmp, const char *id)
{
	g_autofree char *mp = g_build_filename(tmp, DRSTORE_MANIFEST, NULL);
	g_autoptr(cJSON) m = NULL;
	HfError e = {0};
	return statefile_read_json(mp, &m, &e) == 0 && m && holdfast_point(m, id) &&
	       drstore_check_files(tmp, m, &e) == 0;
}

static int recover_one(const char *gdir, const char *name, const char *sfx, cJSON *report,
		       HfError *err)
{
	g_autofree char *id = g_strndup(name, strlen(name) - strlen(sfx));
	g_autofree char *dir = g_build_filename(gdir, id, NULL);
	g_autofree char *it = g_build_filename(gdir, name, NULL);
	g_autofree char *old = g_strconcat(dir, SFX_OLD, NULL);
	bool have = g_file_test(dir, G_FILE_TEST_IS_DIR);
	if (!drstore_point_id_valid(id))
		return 0;
	if (!strcmp(sfx, SFX_DEL) || have) {
		if (remove_dir(it, err) < 0)
			return -1;
		recovered(report, it, "removed (left by an interrupted consolidation/deletion)");
		return 0;
	}
	if (!strcmp(sfx, SFX_NEW) && rebuilt_ok(it, id)) {
		if (g_rename(it, dir) < 0)
			return drstore_io_error(err, "rename", it);
		recovered(report, dir, "consolidated point put in place (verified)");
	} else if (!strcmp(sfx, SFX_NEW)) {
		if (remove_dir(it, err) < 0)
			return -1;
		recovered(report, it, "incomplete consolidation removed");
		if (g_file_test(old, G_FILE_TEST_IS_DIR) && g_rename(old, dir) == 0)
			recovered(report, dir, "original point put back");
	} else {
		if (g_rename(it, dir) < 0)
			return drstore_io_error(err, "rename", it);
		recovered(report, dir, "original point put back");
	}
	return drstore_fsync(gdir, true, err);
}

int drprune_recover(const char *gdir, cJSON *report, HfError *err)
{
	static const char *const sfx[] = {SFX_NEW, SFX_OLD, SFX_DEL};
	for (size_t s = 0; s < G_N_ELEMENTS(sfx); s++) {
		g_autoptr(GDir) d = g_dir_open(gdir, 0, NULL);
		g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
		const char *n;
		while (d && (n = g_dir_read_name(d)))
			if (g_str_has_suffix(n, sfx[s]))
				g_ptr_array_add(names, g_strdup(n));
		for (guint i = 0; i < names->len; i++)
			if (recover_one(gdir, names->pdata[i], sfx[s], report, err) < 0)
				return -1;
	}
	return 0;
}

/* ---- the job ---- */

DrPruneCtx *drprune_ctx_new(void)
{
	return g_new0(DrPruneCtx, 1);
}

void drprune_ctx_free(void *p)
{
	DrPruneCtx *c = p;
	g_free(c->root);
	g_free(c->store);
	g_free(c->policy);
	g_free(c->gdir);
	if (c->tz)
		g_time_zone_unref(c->tz);
	g_free(c->rules_hash);
	g_free(c->applied_hash);
	g_free(c);
}

/* The plan under the policy's rules, or under the rules applied before when a change would
 * prune more than prune-limit percent and was not approved (held back, as for snapshots). */
static DrRetainPlan *plan_for(Job *job, DrPruneCtx *c, const DrRetainSet *s, cJSON *res,
			      HfError *err)
{
	DrRetainPlan *p = NULL;
	const RetentionRules *rules = &c->rules;
	bool changed = g_strcmp0(c->rules_hash, c->applied_hash) != 0;
	if (drretain_plan(s->pts, s->n, rules, c->tz, &p, err) < 0)
		return NULL;
	double share = s->n ? (double)p->tier_pruned / (double)s->n : 0;
	if (changed && !c->approved && share * 100.0 > c->prune_limit) {
		g_autofree char *text = retention_rules_format(&c->rules);
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "rules", text);
		cJSON_AddNumberToObject(h, "owned", (double)s->n);
		cJSON_AddNumberToObject(h, "would_prune", (double)p->tier_pruned);
		cJSON_AddNumberToObject(h, "share", share);
		cJSON_ReplaceItemInObject(res, "held", h);
		hf_log("hf-sched", LOG_LVL_WARNING,
		       "%s/%s: policy %s: new rules (%s) would prune %zu of %zu restore points "
		       "(> %d%%): held back until `holdfast policy apply %s`",
		       job_host(job), job_guest(job), c->policy, text, p->tier_pruned, s->n,
		       c->prune_limit, c->policy);
		drretain_plan_free(p);
		p = NULL;
		rules = &c->applied_rules;
		if (drretain_plan(s->pts, s->n, rules, c->tz, &p, err) < 0)
			return NULL;
	} else
		cJSON_ReplaceItemInObject(res, "applied", cJSON_CreateTrue());
	g_autofree char *used = retention_rules_format(rules);
	cJSON_ReplaceItemInObject(res, "rules", cJSON_CreateString(used));
	return p;
}

static bool lock_cancelled(void *job)
{
	return job_cancelled(job);
}

int drprune_job(Job *job, HfError *err)
{
	DrPruneCtx *c = job_ctx(job);
	g_autofree char *addr = g_strdup_printf("%s/%s", job_host(job), job_guest(job));
	g_autofree char *gdir = c->gdir ? g_strdup(c->gdir) : drstore_find_guest(c->root, addr);
	g_autoptr(cJSON) res = cJSON_CreateObject();
	g_autoptr(GPtrArray) pts = NULL;

	cJSON_AddStringToObject(res, "store", c->store);
	cJSON_AddItemToObject(res, "dir", gdir ? cJSON_CreateString(gdir) : cJSON_CreateNull());
	cJSON_AddArrayToObject(res, "pruned");
	cJSON_AddArrayToObject(res, "consolidated");
	cJSON_AddNumberToObject(res, "kept", 0);
	cJSON *rec = cJSON_AddArrayToObject(res, "recovered");
	cJSON_AddArrayToObject(res, "skipped_steps");
	cJSON_AddBoolToObject(res, "applied", 0);
	cJSON_AddNullToObject(res, "rules");
	cJSON_AddNullToObject(res, "held");
	if (!gdir) { /* no point of this guest in the store: nothing to keep or prune */
		cJSON_ReplaceItemInObject(res, "applied", cJSON_CreateTrue());
		job_set_result(job, g_steal_pointer(&res));
		return 0;
	}
	job_progress(job, 5, "retention of %s in %s", addr, gdir);
	/* no copy writes there meanwhile (a guest with the same UUID on another host) */
	g_autofree char *holder = g_strdup_printf("retention of %s in DR store '%s' (policy %s)",
						  addr, c->store, c->policy);
	g_auto(DrStoreLock) lk = DRSTORE_LOCK_INIT;
	if (drstore_lock(gdir, holder, DRSTORE_LOCK_WAIT, lock_cancelled, job, &lk, err) < 0)
		return -1;
	if (drprune_recover(gdir, rec, err) < 0 || drstore_points(gdir, &pts, err) < 0)
		return -1;
	g_autofree char *hidden = drstore_unreadable_point(gdir);
	if (hidden)
		return error_set(err, HF_ERR_FAILED,
				 "retention of %s deletes nothing: restore point %s in %s has a "
				 "manifest that cannot be read, so the points it depends on cannot "
				 "be known; repair it or move that directory away",
				 addr, hidden, gdir);
	g_auto(GStrv) leased = drlease_points(gdir);
	g_autoptr(DrRetainSet) s = drretain_set_new(pts, leased);
	drretain_set_own(s, addr); /* a clone's points (same UUID) are its own retention's */
	g_autoptr(DrRetainPlan) plan = plan_for(job, c, s, res, err);
	if (!plan)
		return -1;
	if (job_cancelled(job))
		return error_set(err, HF_ERR_CANCELLED, "cancelled before retention was applied");
	job_progress(job, 20, "%zu kept, %zu to consolidate, %zu to delete", plan->kept,
		     plan->rewritten, plan->deleted);
	if (drprune_apply(job, gdir, pts, s, plan, res, err) < 0)
		return -1;
	g_autoptr(GPtrArray) after = NULL;
	if (drstore_points(gdir, &after, err) < 0)
		return -1;
	cJSON_ReplaceItemInObject(res, "kept", cJSON_CreateNumber(after->len));
	job_set_result(job, g_steal_pointer(&res));
	return 0;
}

cJSON *drprune_preview(const char *gdir, const char *addr, const RetentionRules *rules,
			GTimeZone *tz, HfError *err)
{
	g_autoptr(GPtrArray) pts = NULL;
	g_autoptr(cJSON) o = cJSON_CreateObject();
	cJSON *prune = cJSON_AddArrayToObject(o, "pruned");
	cJSON *cons = cJSON_AddArrayToObject(o, "consolidated");
	if (!gdir) /* no point of the guest in the store */
		pts = g_ptr_array_new();
	else if (drstore_points(gdir, &pts, err) < 0)
		return NULL;
	g_auto(GStrv) leased = gdir ? drlease_points(gdir) : NULL;
	g_autoptr(DrRetainSet) s = drretain_set_new(pts, leased);
	drretain_set_own(s, addr);
	g_autoptr(DrRetainPlan) p = NULL;
	if (drretain_plan(s->pts, s->n, rules, tz, &p, err) < 0)
		return NULL;
	cJSON_AddNumberToObject(o, "points", (double)s->n);
	for (size_t i = 0; i < s->n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", s->pts[i].id);
		cJSON_AddStringToObject(e, "reason",
					p->d[i].keep ? p->d[i].rewrite_reason : p->d[i].reason);
		if (!p->d[i].keep)
			cJSON_AddItemToArray(prune, e);
		else if (p->d[i].rewrite)
			cJSON_AddItemToArray(cons, e);
		else
			cJSON_Delete(e);
	}
	return g_steal_pointer(&o);
}
