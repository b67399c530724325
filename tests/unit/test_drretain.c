/* Unit tests: chain-aware retention of DR restore points (daemon/drretain.c) and carrying a
 * plan out on a store directory with real qcow2 chains (daemon/drprune.c, qemu-img/qemu-io). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/drlease.h"
#include "daemon/drprune.h"
#include "daemon/drretain.h"
#include "daemon/drstore.h"
#include "daemon/statefile.h"

#define DAY 86400
#define T0 1763726400 /* 2025-11-21T12:00:00Z */

static RetentionRules last(unsigned n)
{
	RetentionRules r = {0};
	r.keep[RETENTION_LAST] = n;
	return r;
}

static DrRetainPlan *plan(const DrRetainPoint *p, size_t n, RetentionRules r)
{
	DrRetainPlan *pl = NULL;
	HfError err = {0};
	if (drretain_plan(p, n, &r, NULL, &pl, &err) < 0)
		fail_msg("drretain_plan: %s", err.message);
	return pl;
}

/* One disk "vda" per point; parents[i] = the id of point i's base or NULL. */
#define CHAIN(...)                                                                                 \
	static const char *const ids[] = {__VA_ARGS__};                                            \
	enum { N = G_N_ELEMENTS(ids) };                                                            \
	DrRetainDisk dk[N];                                                                        \
	DrRetainPoint pt[N];                                                                       \
	for (size_t i = 0; i < N; i++) {                                                           \
		dk[i] = (DrRetainDisk){"vda", i ? ids[i - 1] : NULL};                              \
		pt[i] = (DrRetainPoint){.id = ids[i],                                              \
					.time = T0 + (int64_t)i * DAY,                             \
					.verified = true,                                          \
					.full_copy = i == 0,                                       \
					.disks = &dk[i],                                           \
					.n_disks = 1};                                             \
	}

static void test_all_fulls(void **state)
{
	CHAIN("p1", "p2", "p3", "p4");
	for (size_t i = 0; i < N; i++)
		dk[i].parent = NULL;
	g_autoptr(DrRetainPlan) p = plan(pt, N, last(2));
	assert_false(p->d[0].keep);
	assert_false(p->d[1].keep);
	assert_true(p->d[2].keep && p->d[3].keep);
	assert_int_equal(p->rewritten, 0);
	assert_int_equal(p->deleted, 2);
	assert_non_null(strstr(p->d[0].reason, "keep-last"));
}

/* F1 I2 I3 I4, keep-last 2: I3 loses its bases and becomes self-contained, I4 stays on I3. */
static void test_chain_consolidates(void **state)
{
	CHAIN("p1", "p2", "p3", "p4");
	g_autoptr(DrRetainPlan) p = plan(pt, N, last(2));
	assert_false(p->d[0].keep);
	assert_false(p->d[1].keep);
	assert_true(p->d[2].keep && p->d[2].rewrite);
	assert_null(p->d[2].new_parent[0]);
	assert_string_equal(p->d[2].rewrite_reason,
			    "vda: made self-contained (base p2, p1 deleted)");
	assert_true(p->d[3].keep);
	assert_false(p->d[3].rewrite);
	assert_int_equal(p->rewritten, 1);
	/* all rules absent: keep everything, rewrite nothing */
	g_autoptr(DrRetainPlan) all = plan(pt, N, last(0));
	assert_int_equal(all->deleted, 0);
	assert_int_equal(all->rewritten, 0);
}

/* keep-daily 3 with two points on day 2: the older one goes, the newer is rebased onto p1. */
static void test_rebase_onto_kept(void **state)
{
	CHAIN("p1", "p2", "p3", "p4");
	pt[2].time = pt[1].time + 3600; /* p2, p3 the same day */
	pt[3].time = pt[1].time + DAY;
	RetentionRules r = {0};
	r.keep[RETENTION_DAILY] = 3;
	g_autoptr(DrRetainPlan) p = plan(pt, N, r);
	assert_true(p->d[0].keep);
	assert_false(p->d[1].keep);
	assert_true(p->d[2].rewrite);
	assert_string_equal(p->d[2].new_parent[0], "p1");
	assert_string_equal(p->d[2].rewrite_reason, "vda: rebased onto p1 (base p2 deleted)");
	assert_false(p->d[3].rewrite);
}

/* Two disks with their own parents: vdb went full at p3, vda is incremental since p1. */
static void test_per_disk_parents(void **state)
{
	DrRetainDisk d1[] = {{"vda", NULL}, {"vdb", NULL}};
	DrRetainDisk d2[] = {{"vda", "p1"}, {"vdb", "p1"}};
	DrRetainDisk d3[] = {{"vda", "p2"}, {"vdb", NULL}};
	DrRetainPoint pt[] = {
	    {.id = "p1",
	     .time = T0,
	     .verified = true,
	     .full_copy = true,
	     .disks = d1,
	     .n_disks = 2},
	    {.id = "p2", .time = T0 + DAY, .verified = true, .disks = d2, .n_disks = 2},
	    {.id = "p3", .time = T0 + 2 * DAY, .verified = true, .disks = d3, .n_disks = 2},
	};
	g_autoptr(DrRetainPlan) p = plan(pt, 3, last(1));
	assert_true(p->d[2].keep && p->d[2].rewrite);
	assert_null(p->d[2].new_parent[0]);
	assert_null(p->d[2].new_parent[1]);
	assert_string_equal(p->d[2].rewrite_reason,
			    "vda: made self-contained (base p2, p1 deleted)");
	/* keep-last 2: p2 stays; p2's vda and vdb both lose p1 */
	g_autoptr(DrRetainPlan) q = plan(pt, 3, last(2));
	assert_false(q->d[0].keep);
	assert_true(q->d[1].rewrite);
	assert_false(q->d[2].rewrite);
	assert_string_equal(q->d[1].rewrite_reason,
			    "vda: made self-contained (base p1 deleted); vdb: made self-contained "
			    "(base p1 deleted)");
}

/* A leased point and its ancestors are kept and never rewritten; later points rebase. */
static void test_leases(void **state)
{
	CHAIN("p1", "p2", "p3", "p4");
	pt[1].leased = true;
	g_autoptr(DrRetainPlan) p = plan(pt, N, last(1));
	assert_true(p->d[0].keep && p->d[0].protect && !p->d[0].rewrite);
	assert_string_equal(p->d[0].reason, "ancestor of leased point p2");
	assert_true(p->d[1].keep && p->d[1].protect && !p->d[1].rewrite);
	assert_false(p->d[2].keep);
	assert_true(p->d[3].rewrite);
	assert_string_equal(p->d[3].new_parent[0], "p2");
	/* the newest leased: its whole chain stays as it is */
	pt[1].leased = false;
	pt[3].leased = true;
	g_autoptr(DrRetainPlan) q = plan(pt, N, last(1));
	assert_int_equal(q->deleted, 0);
	assert_int_equal(q->rewritten, 0);
}

/* The newest VERIFIED point is kept even when the tiers keep only a newer unverified one. */
static void test_newest_verified(void **state)
{
	CHAIN("p1", "p2", "p3");
	pt[2].verified = false;
	g_autoptr(DrRetainPlan) p = plan(pt, N, last(1));
	assert_false(p->d[0].keep);
	assert_true(p->d[1].keep);
	assert_string_equal(p->d[1].reason, "newest verified point");
	assert_true(p->d[1].rewrite); /* p1 goes: p2 becomes self-contained */
	assert_true(p->d[2].keep);
}

/* A chain naming a point the store does not have is kept as it is. */
static void test_broken_chain(void **state)
{
	CHAIN("p2", "p3", "p4");
	dk[0].parent = "p1"; /* gone */
	g_autoptr(DrRetainPlan) p = plan(pt, N, last(1));
	assert_true(p->d[2].broken);
	assert_false(p->d[2].rewrite);
	assert_true(p->d[0].keep && p->d[1].keep);
	assert_int_equal(p->deleted, 0);
}

/* Full points of web on h1 and h2 by turns (a1 b1 a2 b2). */
static void two_series(DrRetainPoint *pt, DrRetainDisk *dk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dk[i].parent = NULL;
		pt[i].host = i % 2 ? "h2" : "h1";
		pt[i].guest = "web";
	}
}

/* Two series in one guest directory (a clone on another host, same UUID): the tiers and the
 * newest verified point per host and guest name. */
static void test_series(void **state)
{
	CHAIN("a1", "b1", "a2", "b2");
	two_series(pt, dk, N);
	g_autoptr(DrRetainPlan) p = plan(pt, N, last(1));
	assert_false(p->d[0].keep || p->d[1].keep);
	assert_true(p->d[2].keep && p->d[3].keep); /* each series keeps its newest */
	assert_int_equal(p->deleted, 2);
	assert_int_equal(p->tier_pruned, 2);
	/* h1's newest is not verified: h1's newest verified point stays, whatever h2 has */
	pt[2].verified = false;
	g_autoptr(DrRetainPlan) q = plan(pt, N, last(1));
	assert_true(q->d[0].keep);
	assert_string_equal(q->d[0].reason, "newest verified point");
	assert_false(q->d[1].keep);
	assert_true(q->d[2].keep && q->d[3].keep);
	assert_int_equal(drretain_newest_verified(pt, N, 2), 0);
	assert_int_equal(drretain_newest_verified(pt, N, 1), 3);
	/* the same guest name on one host is one series; a NULL host (an old manifest) its own */
	pt[1].host = "h1";
	assert_true(drretain_same_series(&pt[0], &pt[1]));
	pt[1].host = NULL;
	assert_false(drretain_same_series(&pt[0], &pt[1]));
	assert_true(drretain_same_series(&pt[1], &pt[1]));
}

/* A retention run of h1/web decides h1's series only: h2's points are all kept (its own
 * retention decides them), h1 keeps its newest. */
static void test_series_own(void **state)
{
	CHAIN("a1", "b1", "a2", "b2");
	two_series(pt, dk, N);
	DrRetainSet set = {.pts = pt, .n = N};
	drretain_set_own(&set, "h1/web");
	assert_true(!pt[0].other && pt[1].other && !pt[2].other && pt[3].other);
	g_autoptr(DrRetainPlan) p = plan(pt, N, last(1));
	assert_false(p->d[0].keep);
	assert_true(p->d[1].keep && p->d[2].keep && p->d[3].keep);
	assert_string_equal(p->d[1].reason, "a point of h2/web, which its own retention decides");
	assert_int_equal(p->tier_pruned, 1);
	drretain_set_own(&set, "web"); /* a name without a host: every host's web */
	assert_false(pt[1].other || pt[3].other);
}

/* A point backed by another series' point (copied by an older version): the chain rules hold
 * across series. b2 (h2) on a1 (h1); h1's tiers drop a1: b2 is consolidated first; b2 leased:
 * a1 stays. */
static void test_series_chain(void **state)
{
	CHAIN("a1", "b1", "a2", "b2");
	two_series(pt, dk, N);
	dk[3].parent = "a1";
	g_autoptr(DrRetainPlan) p = plan(pt, N, last(1));
	assert_false(p->d[0].keep);
	assert_true(p->d[3].keep && p->d[3].rewrite);
	assert_null(p->d[3].new_parent[0]);
	assert_string_equal(p->d[3].rewrite_reason, "vda: made self-contained (base a1 deleted)");
	pt[3].leased = true;
	g_autoptr(DrRetainPlan) q = plan(pt, N, last(1));
	assert_true(q->d[0].keep && q->d[0].protect);
	assert_string_equal(q->d[0].reason, "ancestor of leased point b2");
	assert_false(q->d[3].rewrite);
	assert_false(q->d[1].keep);
	assert_int_equal(q->deleted, 1);
}

static void test_full_every(void **state)
{
	char *why = NULL;
	assert_true(drretain_next_full(NULL, 0, 3, &why));
	g_free(why);
	CHAIN("p1", "p2", "p3", "p4");
	assert_int_equal(drretain_copies_since_full(pt, 1), 1);
	assert_false(drretain_next_full(pt, 2, 3, &why));
	assert_null(why);
	assert_true(drretain_next_full(pt, 3, 3, &why));
	assert_string_equal(why, "full-every 3: 3 copies since the last full");
	g_free(why);
	/* p1 pruned, p2 consolidated with the count it had (2): p3 is the 3rd copy */
	pt[1].full_copy = false;
	pt[1].since_full = 2;
	assert_int_equal(drretain_copies_since_full(pt + 1, 2), 3);
	assert_true(drretain_next_full(pt + 1, 2, 3, &why));
	g_free(why);
	/* full-every 1: always full */
	assert_true(drretain_next_full(pt, 1, 1, &why));
	g_free(why);
}

/* Manifests: old ones without disks[].parent take the point's parent. */
static void test_set_from_manifests(void **state)
{
	g_autoptr(GPtrArray) ms = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	g_ptr_array_add(ms, cJSON_Parse("{\"point\":\"a\",\"time\":\"2025-11-21T12:00:00Z\","
					"\"kind\":\"full\",\"parent\":null,\"verified\":true,"
					"\"disks\":[{\"target\":\"vda\"}]}"));
	g_ptr_array_add(ms,
			cJSON_Parse("{\"point\":\"b\",\"time\":\"2025-11-22T12:00:00Z\","
				    "\"kind\":\"incremental\",\"parent\":\"a\",\"verified\":true,"
				    "\"disks\":[{\"target\":\"vda\"},{\"target\":\"vdb\","
				    "\"parent\":null}],\"consolidated\":{\"since_full\":4}}"));
	char *leased[] = {"b", NULL};
	g_autoptr(DrRetainSet) s = drretain_set_new(ms, leased);
	assert_int_equal(s->n, 2);
	assert_true(s->pts[0].full_copy);
	assert_int_equal(s->pts[0].time, T0);
	assert_string_equal(s->pts[1].disks[0].parent, "a");
	assert_null(s->pts[1].disks[1].parent);
	assert_false(s->pts[1].full_copy);
	assert_int_equal(s->pts[1].since_full, 4);
	assert_true(s->pts[1].leased);
	assert_false(s->pts[0].leased);
	assert_null(s->pts[0].host); /* an old manifest: no series named */
}

/* ---- on disk: real qcow2 chains ---- */

static void run(const char *cmd)
{
	int status = 0;
	g_autofree char *out = NULL, *errout = NULL;
	if (!g_spawn_command_line_sync(cmd, &out, &errout, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL))
		fail_msg("%s: %s", cmd, errout ? errout : "");
}

/* A point directory with vda.qcow2 (backed by ../PARENT/vda.qcow2) holding `pattern` at
 * offset MiB `at`, and its manifest. */
static void make_point(const char *gdir, const char *id, const char *parent, int pattern, int at,
		       int day)
{
	g_autofree char *dir = g_build_filename(gdir, id, NULL);
	g_autofree char *img = g_build_filename(dir, "vda.qcow2", NULL);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0750), ==, 0);
	g_autofree char *back =
	    parent ? g_strdup_printf(" -b ../%s/vda.qcow2 -F qcow2", parent) : g_strdup("");
	g_autofree char *c1 = g_strdup_printf("qemu-img create -q -f qcow2%s %s 8M", back, img);
	g_autofree char *c2 =
	    g_strdup_printf("qemu-io -f qcow2 -c 'write -P %d %dM 1M' %s", pattern, at, img);
	run(c1);
	run(c2);
	char hex[65];
	HfError err = {0};
	assert_int_equal(drstore_sha256(img, hex, &err), 0);
	g_autofree char *t = g_strdup_printf("2025-11-%02dT12:00:00Z", 21 + day);
	g_autofree char *pj = parent ? g_strdup_printf("\"%s\"", parent) : g_strdup("null");
	g_autofree char *json = g_strdup_printf(
	    "{\"format\":1,\"point\":\"%s\",\"time\":\"%s\",\"kind\":\"%s\",\"parent\":%s,"
	    "\"verified\":true,\"disks\":[{\"target\":\"vda\",\"file\":\"vda.qcow2\","
	    "\"parent\":%s,\"virtual_size\":8388608,\"stored_size\":1}],"
	    "\"files\":[{\"name\":\"vda.qcow2\",\"size\":1,\"sha256\":\"%s\"}]}",
	    id, t, parent ? "incremental" : "full", pj, pj, hex);
	g_autoptr(cJSON) m = cJSON_Parse(json);
	g_autofree char *mp = g_build_filename(dir, DRSTORE_MANIFEST, NULL);
	assert_int_equal(statefile_write_json(mp, m, &err), 0);
}

static char *tmpdir(void)
{
	return g_dir_make_tmp("hfdrretain-XXXXXX", NULL);
}

static void rm_rf(const char *d)
{
	g_autofree char *c = g_strdup_printf("rm -rf %s", d);
	run(c);
}

static cJSON *apply(const char *gdir, RetentionRules r, HfError *err)
{
	g_autoptr(GPtrArray) ms = NULL;
	assert_int_equal(drstore_points(gdir, &ms, err), 0);
	g_auto(GStrv) leased = drlease_points(gdir);
	g_autoptr(DrRetainSet) s = drretain_set_new(ms, leased);
	g_autoptr(DrRetainPlan) p = plan(s->pts, s->n, r);
	cJSON *res = cJSON_CreateObject();
	cJSON_AddArrayToObject(res, "pruned");
	cJSON_AddArrayToObject(res, "consolidated");
	cJSON_AddArrayToObject(res, "skipped_steps");
	if (drprune_apply(NULL, gdir, ms, s, p, res, err) < 0) {
		cJSON_Delete(res);
		return NULL;
	}
	return res;
}

/* F(20201121) I I, keep-last 1: the newest becomes self-contained with the same data, the
 * two others are deleted; its manifest says so and verifies. */
static void test_consolidate_on_disk(void **state)
{
	g_autofree char *g = tmpdir();
	make_point(g, "20251121T120000Z", NULL, 1, 0, 0);
	make_point(g, "20251122T120000Z", "20251121T120000Z", 2, 1, 1);
	make_point(g, "20251123T120000Z", "20251122T120000Z", 3, 2, 2);
	g_autofree char *top = g_build_filename(g, "20251123T120000Z", "vda.qcow2", NULL);
	g_autofree char *want = g_build_filename(g, "want.raw", NULL);
	g_autofree char *c = g_strdup_printf("qemu-img convert -O raw %s %s", top, want);
	run(c);
	HfError err = {0};
	g_autoptr(cJSON) res = apply(g, last(1), &err);
	if (!res)
		fail_msg("apply: %s", err.message);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "consolidated")), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "pruned")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "skipped_steps")), 0);
	g_autoptr(GPtrArray) ms = NULL;
	assert_int_equal(drstore_points(g, &ms, &err), 0);
	assert_int_equal(ms->len, 1);
	const cJSON *m = ms->pdata[0];
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m, "kind")), "full");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "parent")));
	const cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "disks"), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(d0, "parent")));
	const cJSON *note = cJSON_GetObjectItem(m, "consolidated");
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(note, "since_full")), 3);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(note, "copied_as")),
			    "incremental");
	g_autofree char *dir = g_build_filename(g, "20251123T120000Z", NULL);
	assert_int_equal(drstore_check_files(dir, m, &err), 0);
	g_autofree char *cmp = g_strdup_printf("qemu-img compare -f raw -F qcow2 %s %s", want, top);
	run(cmp);
	/* nothing left beside it but the reference image */
	g_autoptr(GDir) gd = g_dir_open(g, 0, NULL);
	int n = 0;
	while (g_dir_read_name(gd))
		n++;
	assert_int_equal(n, 2);
	rm_rf(g);
}

/* The same where the filesystem cannot exchange two directories: the two-rename fallback. */
static void test_consolidate_two_renames(void **state)
{
	g_setenv("HOLDFAST_TEST_NO_RENAME_EXCHANGE", "1", TRUE);
	test_consolidate_on_disk(state);
	g_unsetenv("HOLDFAST_TEST_NO_RENAME_EXCHANGE");
}

/* keep-daily with the middle point superseded: the next one is rebased onto the full. */
static void test_rebase_on_disk(void **state)
{
	g_autofree char *g = tmpdir();
	make_point(g, "20251121T120000Z", NULL, 1, 0, 0);
	make_point(g, "20251122T120000Z", "20251121T120000Z", 2, 1, 1);
	make_point(g, "20251123T120000Z", "20251122T120000Z", 3, 2, 2);
	/* p2 and p3 on the same day: rewrite p2's time */
	g_autofree char *mp = g_build_filename(g, "20251122T120000Z", DRSTORE_MANIFEST, NULL);
	g_autoptr(cJSON) m2 = NULL;
	HfError err = {0};
	assert_int_equal(statefile_read_json(mp, &m2, &err), 0);
	cJSON_ReplaceItemInObject(m2, "time", cJSON_CreateString("2025-11-23T11:00:00Z"));
	assert_int_equal(statefile_write_json(mp, m2, &err), 0);
	g_autofree char *top = g_build_filename(g, "20251123T120000Z", "vda.qcow2", NULL);
	g_autofree char *want = g_build_filename(g, "want.raw", NULL);
	g_autofree char *c = g_strdup_printf("qemu-img convert -O raw %s %s", top, want);
	run(c);
	RetentionRules r = {0};
	r.keep[RETENTION_DAILY] = 5;
	g_autoptr(cJSON) res = apply(g, r, &err);
	if (!res)
		fail_msg("apply: %s", err.message);
	g_autoptr(GPtrArray) ms = NULL;
	assert_int_equal(drstore_points(g, &ms, &err), 0);
	assert_int_equal(ms->len, 2);
	const cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItem(ms->pdata[1], "disks"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d0, "parent")),
			    "20251121T120000Z");
	g_autofree char *cmp = g_strdup_printf("qemu-img compare -f raw -F qcow2 %s %s", want, top);
	run(cmp);
	g_autofree char *info = g_strdup_printf("sh -c 'qemu-img info %s | grep -q \"backing file: "
						"../20251121T120000Z/vda.qcow2\"'",
						top);
	run(info);
	rm_rf(g);
}

/* The point's manifest says it is of host/guest. */
static void set_series(const char *gdir, const char *id, const char *host, const char *guest)
{
	g_autofree char *mp = g_build_filename(gdir, id, DRSTORE_MANIFEST, NULL);
	g_autoptr(cJSON) m = NULL;
	HfError err = {0};
	assert_int_equal(statefile_read_json(mp, &m, &err), 0);
	cJSON_AddStringToObject(m, "host", host);
	cJSON_AddStringToObject(m, "guest", guest);
	assert_int_equal(statefile_write_json(mp, m, &err), 0);
}

static size_t n_points(const char *gdir)
{
	g_autoptr(GPtrArray) ms = NULL;
	HfError err = {0};
	assert_int_equal(drstore_points(gdir, &ms, &err), 0);
	return ms->len;
}

/* On disk, two series, keep-last 1: h1 keeps a2 (consolidated: its base a1 goes), h2 keeps b2;
 * and a deletion re-checks the newest verified point of the point's own series. */
static void test_series_on_disk(void **state)
{
	g_autofree char *g = tmpdir();
	make_point(g, "20251121T120000Z", NULL, 1, 0, 0);		/* a1 */
	make_point(g, "20251122T120000Z", NULL, 2, 1, 1);		/* b1 */
	make_point(g, "20251123T120000Z", "20251121T120000Z", 3, 2, 2); /* a2 */
	make_point(g, "20251124T120000Z", NULL, 4, 3, 3);		/* b2 */
	set_series(g, "20251121T120000Z", "h1", "web");
	set_series(g, "20251122T120000Z", "h2", "web");
	set_series(g, "20251123T120000Z", "h1", "web");
	set_series(g, "20251124T120000Z", "h2", "web");
	HfError err = {0};
	g_autoptr(cJSON) res = apply(g, last(1), &err);
	if (!res)
		fail_msg("apply: %s", err.message);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "pruned")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "consolidated")), 1);
	g_autoptr(GPtrArray) ms = NULL;
	assert_int_equal(drstore_points(g, &ms, &err), 0);
	assert_int_equal(ms->len, 2);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ms->pdata[0], "point")),
			    "20251123T120000Z");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ms->pdata[1], "point")),
			    "20251124T120000Z");
	/* a plan that ignores the series (h1's only point deleted) meets the guard at deletion */
	make_point(g, "20251125T120000Z", NULL, 5, 4, 4);
	set_series(g, "20251125T120000Z", "h2", "web");
	g_autoptr(GPtrArray) ms2 = NULL;
	assert_int_equal(drstore_points(g, &ms2, &err), 0);
	g_autoptr(DrRetainSet) s = drretain_set_new(ms2, NULL);
	for (size_t i = 0; i < s->n; i++)
		s->pts[i].host = NULL;
	g_autoptr(DrRetainPlan) p = plan(s->pts, s->n, last(1));
	assert_int_equal(p->deleted, 2);
	g_autoptr(cJSON) r2 = cJSON_CreateObject();
	cJSON_AddArrayToObject(r2, "pruned");
	cJSON_AddArrayToObject(r2, "consolidated");
	cJSON_AddArrayToObject(r2, "skipped_steps");
	assert_int_equal(drprune_apply(NULL, g, ms2, s, p, r2, &err), 0);
	const cJSON *sk = cJSON_GetArrayItem(cJSON_GetObjectItem(r2, "skipped_steps"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(sk, "point")),
			    "20251123T120000Z");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(sk, "reason")),
			    "the newest verified point of its host and guest");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r2, "pruned")), 1); /* b2 */
	assert_int_equal(n_points(g), 2);
	rm_rf(g);
}

/* A point leased after the plan was made is not deleted; its child is not rewritten. */
static void test_lease_at_apply(void **state)
{
	g_autofree char *g = tmpdir();
	make_point(g, "20251121T120000Z", NULL, 1, 0, 0);
	make_point(g, "20251122T120000Z", "20251121T120000Z", 2, 1, 1);
	make_point(g, "20251123T120000Z", NULL, 3, 2, 2);
	HfError err = {0};
	g_autoptr(GPtrArray) ms = NULL;
	assert_int_equal(drstore_points(g, &ms, &err), 0);
	g_autoptr(DrRetainSet) s = drretain_set_new(ms, NULL);
	g_autoptr(DrRetainPlan) p = plan(s->pts, s->n, last(1));
	assert_int_equal(p->deleted, 2);
	drlease_take(g, "20251122T120000Z"); /* a restore started after the plan */
	g_autoptr(cJSON) res = cJSON_CreateObject();
	cJSON_AddArrayToObject(res, "pruned");
	cJSON_AddArrayToObject(res, "consolidated");
	cJSON_AddArrayToObject(res, "skipped_steps");
	assert_int_equal(drprune_apply(NULL, g, ms, s, p, res, &err), 0);
	drlease_release(g, "20251122T120000Z");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "skipped_steps")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "pruned")), 0);
	g_autoptr(GPtrArray) after = NULL;
	assert_int_equal(drstore_points(g, &after, &err), 0);
	assert_int_equal(after->len, 3);
	rm_rf(g);
}

/* What a crash leaves behind is finished or undone; nothing else is touched. */
static void test_recover(void **state)
{
	g_autofree char *g = tmpdir();
	HfError err = {0};
	/* crash between the two renames: X gone, X.hf-old and a complete X.hf-new */
	make_point(g, "20251121T120000Z", NULL, 1, 0, 0);
	g_autofree char *x = g_build_filename(g, "20251121T120000Z", NULL);
	g_autofree char *xnew = g_strconcat(x, ".hf-new", NULL);
	g_autofree char *xold = g_strconcat(x, ".hf-old", NULL);
	g_autofree char *cp = g_strdup_printf("cp -a %s %s", x, xnew);
	run(cp);
	assert_int_equal(g_rename(x, xold), 0);
	/* crash after the exchange: Y and Y.hf-new (Y's old contents) */
	make_point(g, "20251122T120000Z", NULL, 2, 0, 1);
	g_autofree char *y = g_build_filename(g, "20251122T120000Z", NULL);
	g_autofree char *cpy = g_strdup_printf("cp -a %s %s.hf-new", y, y);
	run(cpy);
	/* crash during a deletion */
	make_point(g, "20251123T120000Z", NULL, 3, 0, 2);
	g_autofree char *z = g_build_filename(g, "20251123T120000Z", NULL);
	g_autofree char *zdel = g_strconcat(z, ".hf-deleting", NULL);
	assert_int_equal(g_rename(z, zdel), 0);
	/* an incomplete rebuild without its original, the original kept as .hf-old */
	make_point(g, "20251124T120000Z", NULL, 4, 0, 3);
	g_autofree char *w = g_build_filename(g, "20251124T120000Z", NULL);
	g_autofree char *wnew = g_strconcat(w, ".hf-new", NULL);
	g_autofree char *wold = g_strconcat(w, ".hf-old", NULL);
	g_autofree char *cpw = g_strdup_printf("cp -a %s %s && rm %s/manifest.json", w, wnew, wnew);
	g_autofree char *sh = g_strdup_printf("sh -c '%s'", cpw);
	run(sh);
	assert_int_equal(g_rename(w, wold), 0);
	/* not ours: a name that is no point id, left alone */
	g_autofree char *foreign = g_build_filename(g, "notes.hf-new", NULL);
	assert_int_equal(g_mkdir(foreign, 0750), 0);

	g_autoptr(cJSON) rep = cJSON_CreateArray();
	assert_int_equal(drprune_recover(g, rep, &err), 0);
	assert_true(g_file_test(x, G_FILE_TEST_IS_DIR));
	assert_false(g_file_test(xnew, G_FILE_TEST_EXISTS));
	assert_false(g_file_test(xold, G_FILE_TEST_EXISTS));
	g_autofree char *ynew = g_strconcat(y, ".hf-new", NULL);
	assert_false(g_file_test(ynew, G_FILE_TEST_EXISTS));
	assert_true(g_file_test(y, G_FILE_TEST_IS_DIR));
	assert_false(g_file_test(zdel, G_FILE_TEST_EXISTS));
	assert_false(g_file_test(z, G_FILE_TEST_EXISTS));
	assert_true(g_file_test(w, G_FILE_TEST_IS_DIR)); /* the original put back */
	assert_false(g_file_test(wnew, G_FILE_TEST_EXISTS));
	assert_true(g_file_test(foreign, G_FILE_TEST_IS_DIR));
	g_autoptr(GPtrArray) ms = NULL;
	assert_int_equal(drstore_points(g, &ms, &err), 0);
	assert_int_equal(ms->len, 3);
	for (guint i = 0; i < ms->len; i++) {
		const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(ms->pdata[i], "dir"));
		assert_int_equal(drstore_check_files(dir, ms->pdata[i], &err), 0);
	}
	/* a directory inside a leftover is not ours: recovery stops and says so */
	g_autofree char *q = g_build_filename(g, "20251125T120000Z.hf-deleting", "sub", NULL);
	assert_int_equal(g_mkdir_with_parents(q, 0750), 0);
	error_clear(&err);
	assert_int_equal(drprune_recover(g, rep, &err), -1);
	assert_non_null(strstr(err.message, "did not make"));
	assert_true(g_file_test(q, G_FILE_TEST_IS_DIR));
	rm_rf(g);
}

static void test_simulate(void **state)
{
	g_autoptr(Calendar) cal = NULL;
	HfError err = {0};
	assert_int_equal(calendar_parse("*-*-* 02:00:00", NULL, &cal, &err), 0);
	RetentionRules r = last(3);
	g_autoptr(cJSON) s = drretain_simulate(NULL, 0, cal, &r, NULL, 3, T0, 7, &err);
	assert_non_null(s);
	const cJSON *days = cJSON_GetObjectItem(s, "days");
	assert_int_equal(cJSON_GetArraySize(days), 7);
	static const char *const kinds[] = {"full",	   "incremental", "incremental", "full",
					    "incremental", "incremental", "full"};
	for (int i = 0; i < 7; i++) {
		const cJSON *d = cJSON_GetArrayItem(days, i);
		const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "created"), 0);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c, "kind")), kinds[i]);
		const cJSON *ex = cJSON_GetObjectItem(d, "existing");
		assert_true(cJSON_IsArray(ex));
		assert_true(cJSON_GetArraySize(ex) >= 1 && cJSON_GetArraySize(ex) <= 3);
	}
	/* day 4: the first full goes, the second point is consolidated */
	const cJSON *d4 = cJSON_GetArrayItem(days, 3);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d4, "pruned")), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d4, "consolidated")), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_fulls),
	    cmocka_unit_test(test_chain_consolidates),
	    cmocka_unit_test(test_rebase_onto_kept),
	    cmocka_unit_test(test_per_disk_parents),
	    cmocka_unit_test(test_leases),
	    cmocka_unit_test(test_newest_verified),
	    cmocka_unit_test(test_broken_chain),
	    cmocka_unit_test(test_series),
	    cmocka_unit_test(test_series_own),
	    cmocka_unit_test(test_series_chain),
	    cmocka_unit_test(test_full_every),
	    cmocka_unit_test(test_series_on_disk),
	    cmocka_unit_test(test_set_from_manifests),
	    cmocka_unit_test(test_consolidate_on_disk),
	    cmocka_unit_test(test_consolidate_two_renames),
	    cmocka_unit_test(test_rebase_on_disk),
	    cmocka_unit_test(test_lease_at_apply),
	    cmocka_unit_test(test_recover),
	    cmocka_unit_test(test_simulate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
