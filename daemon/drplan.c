/* drplan.c - what the next DR copy of a libvirt guest must be, per disk. */
#include "drplan.h"

#include <string.h>
#include <sys/statvfs.h>

#include "drstore.h"

static bool is_disk(const DrvDisk *d)
{
	return !strcmp(d->device, "disk") && d->path;
}

static void add_full(DrPlan *p, const char *target, const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "target", target);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddItemToArray(p->full_disks, o);
}

static void set_targets(DrPlan *p)
{
	GStrvBuilder *b = g_strv_builder_new();
	const cJSON *o;
	cJSON_ArrayForEach(o, p->full_disks)
	    g_strv_builder_add(b, cJSON_GetStringValue(cJSON_GetObjectItem(o, "target")));
	g_strfreev(p->full_targets);
	p->full_targets = g_strv_builder_end(b);
	g_strv_builder_unref(b);
}

void drplan_set_full(DrPlan *p, const DrvGuest *g, const char *why)
{
	g_free(p->why_full);
	p->why_full = g_strdup(why);
	p->incremental = p->parent = NULL;
	cJSON_Delete(p->full_disks);
	p->full_disks = cJSON_CreateArray();
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		if (is_disk(d))
			add_full(p, d->target, why);
	}
	set_targets(p);
}

void drplan_clear(DrPlan *p)
{
	g_free(p->why_full);
	cJSON_Delete(p->full_disks);
	g_strfreev(p->full_targets);
	memset(p, 0, sizeof(*p));
}

/* Why disk d needs a full within an incremental from point last, or NULL. */
static char *disk_reason(const DrvDisk *d, GPtrArray *points, const cJSON *last, int max_chain)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(last, "point"));
	const cJSON *ld = drstore_disk(last, d->target);
	if (!ld)
		return g_strdup_printf("disk %s was added since point %s", d->target, id);
	double vs = cJSON_GetNumberValue(cJSON_GetObjectItem(ld, "virtual_size"));
	if (d->capacity && (double)d->capacity != vs)
		return g_strdup_printf(
		    "disk %s was resized since point %s (%.0f -> %" G_GUINT64_FORMAT " bytes)",
		    d->target, id, vs, d->capacity);
	int n = drstore_chain_length(points, id, d->target);
	if (n < 0)
		return g_strdup_printf("the chain of disk %s at point %s is broken (a parent point "
				       "is missing)",
				       d->target, id);
	if (max_chain > 0 && n + 1 > max_chain)
		return g_strdup_printf("chain reached max-chain %d", max_chain);
	return NULL;
}

const cJSON *drplan_last(GPtrArray *points, const char *host, const char *guest)
{
	for (guint i = points->len; i > 0; i--) {
		const cJSON *m = points->pdata[i - 1];
		if (!g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "host")), host) &&
		    !g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest")), guest))
			return m;
	}
	return NULL;
}

/* Why there is no parent: no point at all, or only points of another host or guest name. */
static char *why_no_parent(GPtrArray *points, const char *host, const char *guest)
{
	if (!points->len)
		return g_strdup("no earlier restore point of this guest in the store");
	const cJSON *m = points->pdata[points->len - 1];
	const char *oh = cJSON_GetStringValue(cJSON_GetObjectItem(m, "host"));
	const char *og = cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest"));
	return g_strdup_printf("no earlier restore point of %s/%s in the store: the newest point "
			       "in the guest's directory is of %s/%s (the same UUID: a clone, a "
			       "failed-over copy, or this guest renamed or moved), and a point of "
			       "another host or guest name is never a parent",
			       host ? host : "?", guest, oh ? oh : "?", og ? og : "?");
}

int drplan_make(DrvConn *c, const DrvGuest *g, const char *host, GPtrArray *points, bool forced,
		int max_chain, DrPlan *p, HfError *err)
{
	const cJSON *last = drplan_last(points, host, g->name);
	memset(p, 0, sizeof(*p));
	p->full_disks = cJSON_CreateArray();
	if (forced) {
		drplan_set_full(p, g, "full copy requested (--full)");
		return 0;
	}
	if (!last) {
		g_autofree char *why = why_no_parent(points, host, g->name);
		drplan_set_full(p, g, why);
		return 0;
	}
	const char *ck = cJSON_GetStringValue(cJSON_GetObjectItem(last, "checkpoint"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(last, "point"));
	const cJSON *bad = cJSON_GetObjectItem(last, "compare_failed");
	if (bad) { /* dr verify --compare found its chain restores something else */
		g_autofree char *why = g_strdup_printf(
		    "dr verify --compare found that the chain of point %s rebuilds disk %s wrong "
		    "(first at offset %.0f, %s): no incremental stands on it",
		    id, cJSON_GetStringValue(cJSON_GetObjectItem(bad, "target")),
		    cJSON_GetNumberValue(cJSON_GetObjectItem(bad, "offset")),
		    cJSON_GetStringValue(cJSON_GetObjectItem(bad, "time")));
		drplan_set_full(p, g, why);
		return 0;
	}
	g_auto(GStrv) cks = NULL;
	if (drv_checkpoint_list(c, g->name, 0, &cks, err) < 0)
		return -1;
	if (!ck || !g_strv_contains((const char *const *)cks, ck)) {
		g_autofree char *why = g_strdup_printf(
		    "checkpoint '%s' of point %s is gone from the hypervisor (deleted outside "
		    "holdfast, or the guest was redefined)",
		    ck ? ck : "?", id);
		drplan_set_full(p, g, why);
		return 0;
	}
	g_autofree char *broken = NULL;
	int ok = drv_checkpoint_check(c, g->name, ck, 0, &broken, err);
	if (ok < 0)
		return -1;
	if (!ok) {
		g_autofree char *why = g_strdup_printf(
		    "the dirty bitmap of checkpoint '%s' (point %s) is unusable, e.g. after QEMU "
		    "stopped without saving it: %s",
		    ck, id, broken);
		drplan_set_full(p, g, why);
		p->drop_checkpoints = true;
		return 0;
	}
	guint n = 0, full = 0;
	g_autofree char *first = NULL;
	bool same = true;
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		if (!is_disk(d))
			continue;
		n++;
		g_autofree char *why = disk_reason(d, points, last, max_chain);
		if (!why)
			continue;
		full++;
		same = same && (!first || !strcmp(first, why));
		if (!first)
			first = g_strdup(why);
		add_full(p, d->target, why);
	}
	if (n && full == n) {
		g_autofree char *why =
		    same ? g_strdup(first)
			 : g_strdup_printf("every disk needs a full (%s, ...)", first);
		drplan_set_full(p, g, why);
		return 0;
	}
	p->incremental = ck;
	p->parent = id;
	set_targets(p);
	return 0;
}

int drplan_space(const DrPlan *p, const DrvGuest *g, const char *store, const char *path,
		 HfError *err)
{
	uint64_t need = 0;
	for (guint i = 0; i < g->disks->len; i++) {
		const DrvDisk *d = g->disks->pdata[i];
		if (is_disk(d) && g_strv_contains((const char *const *)p->full_targets, d->target))
			need += d->allocation ? d->allocation : d->capacity;
	}
	struct statvfs st;
	if (!need || statvfs(path, &st) < 0)
		return 0;
	uint64_t avail = (uint64_t)st.f_bavail * st.f_frsize;
	if (avail >= need)
		return 0;
	return error_set(err, HF_ERR_NO_SPACE,
			 "DR store '%s' (%s) has %" G_GUINT64_FORMAT
			 " bytes free, and the full copy "
			 "of guest '%s' needs about %" G_GUINT64_FORMAT
			 " bytes (the allocation of its disks); free space there (remove old "
			 "points of other guests, or grow the filesystem) and copy again",
			 store, path, avail, g->name, need);
}
