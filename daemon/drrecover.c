/* drrecover.c - leftovers of DR copies that died with holdfastd. */
#include "drrecover.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "drstore.h"
#include "hosts.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */

static GMutex lock;
static char **store_roots;     /* under lock */
static GHashTable *store_name; /* root -> store name, every one ever configured; under lock */

static void note(cJSON *report, const char *guest, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* ---- checkpoint names ---- */

static char *ck_tag(const char *store)
{
	return g_strcanon(g_strdup(store), G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS "._-", '_');
}

char *drrecover_ck_name(const char *store, const char *point)
{
	if (!store || !*store)
		return g_strconcat(DRRECOVER_CK_PREFIX, point, NULL);
	g_autofree char *tag = ck_tag(store);
	return g_strconcat(DRRECOVER_CK_PREFIX, tag, "-", point, NULL);
}

bool drrecover_ck_parse(const char *name, char **tag, char **point)
{
	if (!drckpt_ours(name))
		return false;
	const char *rest = name + strlen(DRRECOVER_CK_PREFIX);
	const char *at = drstore_point_id_valid(rest) ? rest : NULL;
	/* hf-dr-TAG-POINT: a point id holds at most one '-', followed by digits only, so one
	 * split at most leaves a valid id after it */
	for (const char *d = strchr(rest, '-'); !at && d; d = strchr(d + 1, '-'))
		if (d > rest && drstore_point_id_valid(d + 1))
			at = d + 1;
	if (!at)
		return false;
	if (tag)
		*tag = at == rest ? NULL : g_strndup(rest, (gsize)(at - 1 - rest));
	if (point)
		*point = g_strdup(at);
	return true;
}

static bool published(const char *guest_dir, const char *point)
{
	g_autofree char *m = g_build_filename(guest_dir, point, DRSTORE_MANIFEST, NULL);
	return g_file_test(m, G_FILE_TEST_EXISTS);
}

bool drrecover_ck_of_store(const char *name, const char *store, const char *guest_dir)
{
	g_autofree char *tag = NULL, *point = NULL;
	if (!drrecover_ck_parse(name, &tag, &point))
		return false;
	if (!tag) /* legacy: the store that holds its point */
		return published(guest_dir, point);
	g_autofree char *mine = store ? ck_tag(store) : NULL;
	return mine && !strcmp(tag, mine);
}

bool drrecover_ck_any(const char *name, void *opaque)
{
	(void)opaque;
	return drckpt_ours(name);
}

bool drrecover_ck_store_but(const char *name, void *opaque)
{
	const DrCkStore *k = opaque;
	return g_strcmp0(name, k->keep) && drrecover_ck_of_store(name, k->store, k->guest_dir);
}

int drrecover_ck_drop(DrvConn *c, const char *guest, DrCkWhich which, void *opaque,
		      unsigned flags, cJSON *dropped, cJSON *failed, HfError *err)
{
	g_auto(GStrv) cks = NULL;
	if (drv_checkpoint_list(c, guest, 0, &cks, err) < 0)
		return -1;
	int n = 0;
	for (char **k = cks; k && *k; k++) {
		if (!which(*k, opaque))
			continue;
		HfError e = {0};
		if (drv_checkpoint_delete(c, guest, *k, DRV_CHECKPOINT_DELETE_BROKEN | flags, &e) <
		    0) {
			if (failed)
				cJSON_AddItemToArray(failed, cJSON_CreateString(e.message));
			continue;
		}
		n++;
		if (dropped)
			cJSON_AddItemToArray(dropped, cJSON_CreateString(*k));
	}
	return n;
}

/* ---- copies that died ---- */

/* The store configured at root, or NULL. */
static char *store_of(const char *root)
{
	g_mutex_lock(&lock);
	char *s = store_name ? g_strdup(g_hash_table_lookup(store_name, root)) : NULL;
	g_mutex_unlock(&lock);
	return s;
}

/* Is point id of the guest (uuid) published in any of the stores? */
static bool published_anywhere(char **roots, const char *uuid, const char *id)
{
	for (char **r = roots; *r; r++) {
		g_autofree char *gdir = drstore_guest_dir(*r, uuid);
		if (published(gdir, id))
			return true;
	}
	return false;
}

/* Delete the checkpoint a copy into root's store that died at point id may have made: its
 * hf-dr-STORE-ID, or a legacy hf-dr-ID when no store holds point id (else it is that point's). */
static void drop_dead_ck(DrvConn *c, const char *guest, const char *root, const char *uuid,
			 const char *id, char **roots, cJSON *report)
{
	g_autofree char *store = store_of(root);
	g_autofree char *ck = store ? drrecover_ck_name(store, id) : NULL;
	g_autofree char *legacy = drrecover_ck_name(NULL, id);
	const char *names[] = {ck, published_anywhere(roots, uuid, id) ? NULL : legacy};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		HfError e = {0};
		if (names[i] && drv_checkpoint_delete(c, guest, names[i],
						      DRV_CHECKPOINT_DELETE_BROKEN, &e) == 0)
			note(report, guest, "deleted checkpoint %s of a DR copy that died",
			     names[i]);
	}
}

/* Right after the daemon started no copy of this host's guests runs: every POINT.partial of
 * the guest in a store is left by one that died (after its backup job ended); discard it with
 * its checkpoint. A guest directory whose lock is held is another host's copy in progress (a
 * guest with the same UUID): left alone. */
static void drop_partials(DrvConn *c, const DrvGuest *g, char **roots)
{
	for (char **r = roots; *r; r++) {
		g_autofree char *gdir = drstore_guest_dir(*r, g->uuid);
		g_autoptr(GPtrArray) partials = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GDir) d = g_dir_open(gdir, 0, NULL);
		const char *n;
		while (d && (n = g_dir_read_name(d)))
			if (g_str_has_suffix(n, ".partial"))
				g_ptr_array_add(partials, g_strdup(n));
		if (!partials->len)
			continue;
		g_auto(DrStoreLock) lk = DRSTORE_LOCK_INIT;
		HfError e = {0};
		if (drstore_lock(gdir, "kill -9 recovery", 0, NULL, NULL, &lk, &e) < 0) {
			hf_log("hf-dr", LOG_LVL_WARNING, "guest %s: leftovers not removed now: %s",
			       g->name, e.message);
			continue;
		}
		for (guint i = 0; i < partials->len; i++) {
			const char *pn = partials->pdata[i];
			g_autofree char *id = g_strndup(pn, strlen(pn) - strlen(".partial"));
			g_autofree char *p = g_build_filename(gdir, pn, NULL);
			if (drstore_point_id_valid(id))
				drop_dead_ck(c, g->name, *r, g->uuid, id, roots, NULL);
			drstore_discard(p);
			note(NULL, g->name, "discarded %s (a DR copy that died)", p);
		}
	}
}

static void on_connect(DrvConn *c, const GPtrArray *guests)
{
	/* once per hypervisor URI per holdfastd process: a reload makes new Host objects, whose
	 * first connect must not take copies still running for the old ones for dead ones */
	static GMutex once_lock;
	static GHashTable *done;
	g_mutex_lock(&once_lock);
	if (!done)
		done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	bool first = c->uri && g_hash_table_add(done, g_strdup(c->uri));
	g_mutex_unlock(&once_lock);
	if (!first)
		return;
	g_auto(GStrv) roots = drrecover_roots();
	for (guint i = 0; roots[0] && guests && i < guests->len; i++) {
		const DrvGuest *g = guests->pdata[i];
		HfError err = {0};
		if (drrecover_guest(c, g->name, roots, NULL, &err) < 0) {
			hf_log("hf-dr", LOG_LVL_WARNING, "%s", err.message);
			continue;
		}
		drop_partials(c, g, roots);
		/* a shut-off guest a copy started paused and could not power off again */
		if (g->state == DRV_STATE_PAUSED &&
		    drv_backup_abort(c, g->name, DRV_BACKUP_ABORT_MARKED_ONLY, &err) < 0)
			hf_log("hf-dr", LOG_LVL_WARNING, "%s", err.message);
	}
}

void drrecover_configure(const GPtrArray *drstores)
{
	GStrvBuilder *b = g_strv_builder_new();
	g_mutex_lock(&lock);
	if (!store_name)
		store_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; drstores && i < drstores->len; i++) {
		const DrStore *s = drstores->pdata[i];
		g_strv_builder_add(b, s->path);
		/* kept after a reload drops the store: a copy still running may name it */
		g_hash_table_insert(store_name, g_strdup(s->path), g_strdup(s->name));
	}
	g_strfreev(store_roots);
	store_roots = g_strv_builder_end(b);
	g_mutex_unlock(&lock);
	g_strv_builder_unref(b);
	hosts_set_connect_hook(on_connect);
}

char **drrecover_roots(void)
{
	g_mutex_lock(&lock);
	char **r = store_roots ? g_strdupv(store_roots) : g_new0(char *, 1);
	g_mutex_unlock(&lock);
	return r;
}

/* ROOT/UUID/POINT.partial/FILE -> POINT (*partial: the directory, *root, *uuid), for a root in
 * roots; else NULL. */
static char *partial_point(const char *file, char **roots, char **partial, const char **root,
			   char **uuid)
{
	for (char **r = roots; *r; r++) {
		size_t n = strlen(*r);
		if (strncmp(file, *r, n) || file[n] != '/')
			continue;
		g_auto(GStrv) parts = g_strsplit(file + n + 1, "/", -1);
		if (g_strv_length(parts) != 3 || !g_str_has_suffix(parts[1], ".partial"))
			return NULL;
		g_autofree char *id = g_strndup(parts[1], strlen(parts[1]) - strlen(".partial"));
		if (!drstore_point_id_valid(id))
			return NULL;
		*partial = g_build_filename(*r, parts[0], parts[1], NULL);
		*root = *r;
		*uuid = g_strdup(parts[0]);
		return g_steal_pointer(&id);
	}
	return NULL;
}

static void note(cJSON *report, const char *guest, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *m = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	hf_log("hf-dr", LOG_LVL_WARNING, "guest %s: %s", guest, m);
	if (report)
		cJSON_AddItemToArray(report, cJSON_CreateString(m));
}

/* DIR/hf-dr-TAG-POINT-TARGET.scratch (a pull's scratch file, libvirt_pull.c) -> its checkpoint
 * hf-dr-TAG-POINT, with *tag (NULL: legacy hf-dr-POINT) and *point; NULL when the file's name
 * is not that. */
static char *scratch_ck(const char *file, char **tag, char **point)
{
	g_autofree char *base = g_path_get_basename(file);
	if (!g_str_has_suffix(base, DRRECOVER_SCRATCH_SUFFIX))
		return NULL;
	base[strlen(base) - strlen(DRRECOVER_SCRATCH_SUFFIX)] = '\0';
	char *dash = strrchr(base, '-'); /* a disk target (vda, sdb, hdc) holds none */
	if (!dash || !dash[1])
		return NULL;
	for (const char *t = dash + 1; *t; t++)
		if (!g_ascii_isalnum(*t) && *t != '_')
			return NULL;
	*dash = '\0';
	/* CHECKPOINT-UUID-TARGET (the domain's UUID since scratch names are shared by guests);
	 * CHECKPOINT-TARGET before */
	size_t n = strlen(base);
	if (n > 37 && base[n - 37] == '-' && g_uuid_string_is_valid(base + n - 36))
		base[n - 37] = '\0';
	return drrecover_ck_parse(base, tag, point) ? g_strdup(base) : NULL;
}

/* Is tag (of a checkpoint name) one of a store this holdfastd has had since it started? */
static bool known_tag(const char *tag)
{
	bool yes = false;
	g_mutex_lock(&lock);
	GHashTableIter it;
	gpointer name;
	if (store_name)
		g_hash_table_iter_init(&it, store_name);
	while (!yes && store_name && g_hash_table_iter_next(&it, NULL, &name)) {
		g_autofree char *t = ck_tag(name);
		yes = !strcmp(t, tag);
	}
	g_mutex_unlock(&lock);
	return yes;
}

/* What a backup job's files say of it: every file in a store's POINT.partial or named as a
 * pull's scratch file, all of one point (and one checkpoint): a DR copy of holdfast's. */
typedef struct {
	char *point, *partial, *uuid, *ck, *foreign_tag;
	const char *root;
	GPtrArray *scratch; /* the scratch files (char*) */
} DeadJob;

static void dead_job_clear(DeadJob *d)
{
	g_free(d->point);
	g_free(d->partial);
	g_free(d->uuid);
	g_free(d->ck);
	g_free(d->foreign_tag);
	if (d->scratch)
		g_ptr_array_unref(d->scratch);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DeadJob, dead_job_clear)

static bool dead_job_file(DeadJob *d, const char *file, char **roots)
{
	g_autofree char *pp = NULL, *pu = NULL, *tag = NULL, *sp = NULL;
	const char *pr = NULL;
	g_autofree char *p = partial_point(file, roots, &pp, &pr, &pu);
	g_autofree char *ck = scratch_ck(file, &tag, &sp);
	if (!p && !ck)
		return false; /* a file outside holdfast's .partial dirs, not its scratch name */
	if ((p && ck && strcmp(p, sp)) || (ck && d->ck && strcmp(ck, d->ck)))
		return false;
	if (!p && tag && !known_tag(tag) && !d->foreign_tag) /* another holdfastd's store? */
		d->foreign_tag = g_strdup(tag);
	if (!p)
		p = g_steal_pointer(&sp);
	if (d->point && strcmp(p, d->point))
		return false;
	if (!d->point)
		d->point = g_steal_pointer(&p);
	if (pp && !d->partial) {
		d->partial = g_steal_pointer(&pp);
		d->uuid = g_steal_pointer(&pu);
		d->root = pr;
	}
	if (ck) {
		if (!d->ck)
			d->ck = g_steal_pointer(&ck);
		g_ptr_array_add(d->scratch, g_strdup(file));
	}
	return true;
}

/* The scratch files of an aborted job: libvirt removes those it made when the job ends; what
 * is left on this machine goes, on a remote hypervisor host it is named. */
static void drop_scratch(DrvConn *c, const char *guest, GPtrArray *files, cJSON *report)
{
	bool local = drv_uri_local(c->uri);
	for (guint i = 0; i < files->len; i++) {
		const char *f = files->pdata[i];
		if (local && g_unlink(f) == 0)
			note(report, guest, "removed scratch file %s", f);
		else if (local && errno != ENOENT)
			note(report, guest, "cannot remove scratch file %s: %s; remove it by hand",
			     f, g_strerror(errno));
		else if (!local)
			note(report, guest,
			     "scratch file %s is on the hypervisor host of %s: libvirt removes it "
			     "when the job ends; should it remain, remove it there",
			     f, c->uri);
	}
}

/* A copy that died between its fs-freeze and the thaw right after backup-begin left the
 * guest's filesystems frozen (a Linux guest's until someone thaws them): thawed, which is
 * harmless when they are not frozen. A guest that does not run has no agent to ask. */
static void thaw(DrvConn *c, const char *guest, cJSON *report)
{
	g_autoptr(DrvGuest) g = NULL;
	HfError e = {0};
	int n = 0;
	if (drv_guest_get(c, guest, 0, &g, &e) < 0 || g->state != DRV_STATE_RUNNING)
		return;
	if (drv_fs_thaw(c, guest, 10, 0, &n, &e) == 0 && n > 0)
		note(report, guest, "thawed %d filesystem(s) a DR copy that died had frozen", n);
}

int drrecover_guest(DrvConn *c, const char *guest, char **roots, cJSON *report, HfError *err)
{
	g_auto(GStrv) targets = NULL;
	if (drv_backup_job_targets(c, guest, 0, &targets, err) < 0) {
		if (!strcmp(err->code, HF_ERR_UNSUPPORTED)) {
			error_clear(err);
			return 0;
		}
		return -1;
	}
	if (!targets || !targets[0])
		return 0;
	g_auto(DeadJob) d = {.scratch = g_ptr_array_new_with_free_func(g_free)};
	for (char **t = targets; *t; t++)
		if (!dead_job_file(&d, *t, roots))
			return 0; /* not our job */
	if (d.foreign_tag) {
		note(report, guest,
		     "a backup job with holdfast's scratch files of DR store '%s', which this "
		     "holdfastd does not have, is left alone (another holdfastd's copy, or a store "
		     "since renamed: then end it with virsh domjobabort %s and delete checkpoint "
		     "%s)",
		     d.foreign_tag, guest, d.ck);
		return 0;
	}
	if (drv_backup_abort(c, guest, 0, err) < 0)
		return -1;
	g_autofree char *sdir = d.scratch->len ? g_path_get_dirname(d.scratch->pdata[0]) : NULL;
	note(report, guest,
	     "aborted the backup job of a DR copy that died with holdfastd (point %s, %s %s)",
	     d.point, d.partial ? "into" : "scratch files in", d.partial ? d.partial : sdir);
	thaw(c, guest, report);
	if (d.partial) {
		drop_dead_ck(c, guest, d.root, d.uuid, d.point, roots, report);
		drstore_discard(d.partial);
		note(report, guest, "discarded %s", d.partial);
	} else {
		/* its point was never published: the job ends before a copy publishes */
		HfError e = {0};
		if (drv_checkpoint_delete(c, guest, d.ck, DRV_CHECKPOINT_DELETE_BROKEN, &e) == 0)
			note(report, guest, "deleted checkpoint %s of a DR copy that died", d.ck);
	}
	drop_scratch(c, guest, d.scratch, report);
	/* a shut-off guest the copy had started paused: off again (after the checkpoint went:
	 * libvirt deletes checkpoints of running guests only) */
	return drv_backup_abort(c, guest, DRV_BACKUP_ABORT_MARKED_ONLY, err);
}

typedef struct {
	const char *gdir, *uuid;
	char *tag;    /* gdir's store, as in its checkpoint names (NULL: not configured) */
	char **roots; /* every configured store */
} Orphans;

static bool orphan(const char *name, void *opaque)
{
	Orphans *o = opaque;
	g_autofree char *tag = NULL, *point = NULL;
	if (!drrecover_ck_parse(name, &tag, &point))
		return false;
	if (!tag) /* legacy: an orphan when no store holds its point */
		return !published_anywhere(o->roots, o->uuid, point);
	return o->tag && !strcmp(tag, o->tag) && !published(o->gdir, point);
}

void drrecover_orphans(DrvConn *c, const char *guest, const char *guest_dir, cJSON *report)
{
	g_autofree char *root = g_path_get_dirname(guest_dir);
	g_autofree char *uuid = g_path_get_basename(guest_dir);
	g_autofree char *store = store_of(root);
	g_auto(GStrv) roots = drrecover_roots();
	Orphans o = {guest_dir, uuid, store ? ck_tag(store) : NULL, roots};
	g_autoptr(cJSON) dropped = cJSON_CreateArray();
	HfError e = {0};
	drrecover_ck_drop(c, guest, orphan, &o, 0, dropped, NULL, &e);
	g_free(o.tag);
	const cJSON *k;
	cJSON_ArrayForEach(k, dropped) note(
	    report, guest, "deleted checkpoint %s: no point of it was published (a copy that died)",
	    k->valuestring);
}
