/* fakedrv.h - for the DR unit tests: a test double at the driver boundary (a DrvDriver that
 * keeps one guest's checkpoint names in a list, every bitmap usable) and a DR store on disk
 * with published points (manifests only). Include after cmocka.h and the daemon headers. */
#pragma once

#include <glib.h>
#include <string.h>

#include "daemon/drretain.h" /* g_autoptr(cJSON) */
#include "daemon/drstore.h"
#include "daemon/statefile.h"
#include "drivers/driver.h"

/* ---- the test double: one guest's checkpoints, oldest first ---- */

typedef struct {
	DrvConn base;
	GPtrArray *cks; /* char* */
} FakeConn;

static inline int fake_list(DrvConn *c, const char *guest, unsigned flags, char ***out,
			    HfError *err)
{
	FakeConn *f = (FakeConn *)c;
	GStrvBuilder *b = g_strv_builder_new();
	for (guint i = 0; i < f->cks->len; i++)
		g_strv_builder_add(b, f->cks->pdata[i]);
	*out = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return 0;
}

static inline int fake_delete(DrvConn *c, const char *guest, const char *name, unsigned flags,
			      HfError *err)
{
	FakeConn *f = (FakeConn *)c;
	for (guint i = 0; i < f->cks->len; i++)
		if (!strcmp(f->cks->pdata[i], name)) {
			g_ptr_array_remove_index(f->cks, i);
			return 0;
		}
	return error_set(err, HF_ERR_NOT_FOUND, "no checkpoint %s", name);
}

static inline int fake_check(DrvConn *c, const char *guest, const char *name, unsigned flags,
			     char **why, HfError *err)
{
	return 1;
}

static const DrvDriver fake_drv = {
    .name = "fake",
    .checkpoint_list = fake_list,
    .checkpoint_delete = fake_delete,
    .checkpoint_check = fake_check,
};

static inline FakeConn *fake_new(const char *const *names)
{
	FakeConn *f = g_new0(FakeConn, 1);
	f->base.drv = &fake_drv;
	f->base.uri = g_strdup("fake:///");
	f->cks = g_ptr_array_new_with_free_func(g_free);
	for (; names && *names; names++)
		g_ptr_array_add(f->cks, g_strdup(*names));
	return f;
}

static inline void fake_free(FakeConn *f)
{
	g_ptr_array_unref(f->cks);
	g_free(f->base.uri);
	g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeConn, fake_free)

static inline char *fake_names(FakeConn *f)
{
	g_ptr_array_add(f->cks, NULL);
	char *s = g_strjoinv(",", (char **)f->cks->pdata);
	g_ptr_array_remove_index(f->cks, f->cks->len - 1);
	return s;
}

/* ---- a store on disk ---- */

#define UUID "6f1c2a7e-0000-4000-8000-000000000001"

/* A published point of host/guest in root/UUID. */
static inline void point(const char *root, const char *id, const char *host, const char *guest,
			 const char *ck)
{
	g_autofree char *dir = g_build_filename(root, UUID, id, NULL);
	assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
	DrPointInfo info = {.point = id,
			    .guest = guest,
			    .uuid = UUID,
			    .host = host,
			    .kind = "full",
			    .checkpoint = ck,
			    .time = 1763726400};
	g_autoptr(cJSON) m = drstore_manifest_new(&info);
	drstore_manifest_add_disk(m, "vda", "vda.qcow2", "/img/vda.qcow2", 1 << 20, NULL);
	g_autofree char *mp = g_build_filename(dir, DRSTORE_MANIFEST, NULL);
	HfError e = {0};
	assert_int_equal(statefile_write_json(mp, m, &e), 0);
}

static inline char *tmpdir(void)
{
	return g_dir_make_tmp("hf-drrecover-XXXXXX", NULL);
}

static inline void rm_rf(const char *p)
{
	g_autofree char *q = g_shell_quote(p);
	g_autofree char *cmd = g_strdup_printf("rm -rf %s", q);
	assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
}
