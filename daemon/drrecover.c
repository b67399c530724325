/* drrecover.c - leftovers of DR copies that died with holdfastd. */
#include "drrecover.h"

#include <string.h>

#include "drstore.h"
#include "hosts.h"
#include "log.h"

static GMutex lock;
static char **store_roots; /* under lock */

static void note(cJSON *report, const char *guest, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Right after the daemon started no copy runs: every POINT.partial of the guest in a store is
 * left by one that died (after its backup job ended); discard it with its checkpoint. */
static void drop_partials(DrvConn *c, const DrvGuest *g, char **roots)
{
	for (char **r = roots; *r; r++) {
		g_autofree char *gdir = drstore_guest_dir(*r, g->uuid);
		g_autoptr(GDir) d = g_dir_open(gdir, 0, NULL);
		const char *n;
		while (d && (n = g_dir_read_name(d))) {
			if (!g_str_has_suffix(n, ".partial"))
				continue;
			g_autofree char *id = g_strndup(n, strlen(n) - strlen(".partial"));
			g_autofree char *p = g_build_filename(gdir, n, NULL);
			g_autofree char *ck = g_strconcat(DRRECOVER_CK_PREFIX, id, NULL);
			HfError e = {0};
			if (drstore_point_id_valid(id) &&
			    drv_checkpoint_delete(c, g->name, ck, DRV_CHECKPOINT_DELETE_BROKEN,
						  &e) == 0)
				note(NULL, g->name, "deleted checkpoint %s of a DR copy that died",
				     ck);
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
	for (guint i = 0; drstores && i < drstores->len; i++)
		g_strv_builder_add(b, ((const DrStore *)drstores->pdata[i])->path);
	g_mutex_lock(&lock);
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

/* ROOT/UUID/POINT.partial/FILE -> POINT, for a root in roots; else NULL. */
static char *partial_point(const char *file, char **roots, char **partial)
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
	g_autofree char *point = NULL, *partial = NULL;
	for (char **t = targets; *t; t++) {
		g_autofree char *pp = NULL;
		g_autofree char *p = partial_point(*t, roots, &pp);
		if (!p || (point && strcmp(p, point)))
			return 0; /* a target outside holdfast's .partial dirs: not our job */
		if (!point) {
			point = g_steal_pointer(&p);
			partial = g_steal_pointer(&pp);
		}
	}
	if (drv_backup_abort(c, guest, 0, err) < 0)
		return -1;
	note(report, guest,
	     "aborted the backup job of a DR copy that died with holdfastd (point %s, into %s)",
	     point, partial);
	g_autofree char *ck = g_strconcat(DRRECOVER_CK_PREFIX, point, NULL);
	HfError e = {0};
	if (drv_checkpoint_delete(c, guest, ck, DRV_CHECKPOINT_DELETE_BROKEN, &e) == 0)
		note(report, guest, "deleted its half-made checkpoint %s", ck);
	drstore_discard(partial);
	note(report, guest, "discarded %s", partial);
	/* a shut-off guest the copy had started paused: off again (after the checkpoint went:
	 * libvirt deletes checkpoints of running guests only) */
	return drv_backup_abort(c, guest, DRV_BACKUP_ABORT_MARKED_ONLY, err);
}

void drrecover_orphans(DrvConn *c, const char *guest, const char *guest_dir, cJSON *report)
{
	g_auto(GStrv) cks = NULL;
	HfError e = {0};
	if (drv_checkpoint_list(c, guest, 0, &cks, &e) < 0)
		return;
	for (char **k = cks; *k; k++) {
		if (!g_str_has_prefix(*k, DRRECOVER_CK_PREFIX))
			continue;
		const char *id = *k + strlen(DRRECOVER_CK_PREFIX);
		g_autofree char *dir = g_build_filename(guest_dir, id, DRSTORE_MANIFEST, NULL);
		if (!drstore_point_id_valid(id) || g_file_test(dir, G_FILE_TEST_EXISTS))
			continue;
		error_clear(&e);
		if (drv_checkpoint_delete(c, guest, *k, DRV_CHECKPOINT_DELETE_BROKEN, &e) == 0)
			note(report, guest,
			     "deleted checkpoint %s: no point of it was published (a copy that "
			     "died)",
			     *k);
	}
}
