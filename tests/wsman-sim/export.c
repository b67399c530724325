/* export.c - the files a simulated export leaves, so a client can verify a DR copy. */
#include "export.h"

#include <errno.h>
#include <string.h>

static char *slashes(const char *p)
{
	char *s = g_strdelimit(g_strdup(p), "\\", '/');
	size_t n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

char *export_map_dir(const SimState *st, const char *path, char **err)
{
	if (!st->export_root) {
		*err = g_strdup("this host has no export root (--export-root)");
		return NULL;
	}
	g_autofree char *base =
	    slashes(st->export_host_path ? st->export_host_path : st->export_root);
	g_autofree char *want = slashes(path ? path : "");
	size_t n = strlen(base);
	if (g_ascii_strncasecmp(want, base, n) != 0 || (want[n] != '/' && want[n] != '\0')) {
		*err = g_strdup_printf("'%s' is outside the export path '%s'", path, base);
		return NULL;
	}
	g_auto(GStrv) parts = g_strsplit(want + n, "/", -1);
	g_autoptr(GString) local = g_string_new(st->export_root);
	for (guint i = 0; parts[i]; i++) {
		if (!*parts[i] || strcmp(parts[i], ".") == 0)
			continue;
		if (strcmp(parts[i], "..") == 0 || strchr(parts[i], ':')) {
			*err = g_strdup_printf("'%s' is not a valid export directory", path);
			return NULL;
		}
		g_string_append_printf(local, "/%s", parts[i]);
	}
	return g_string_free(g_steal_pointer(&local), FALSE);
}

static bool setting_true(const SimJob *j, const char *name, bool def)
{
	const char *v = sim_pairs_get(j->export_settings, name);
	return v ? g_ascii_strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 : def;
}

static char *put(const char *dir, const char *name, const char *data, gsize len)
{
	g_autoptr(GError) e = NULL;
	if (g_mkdir_with_parents(dir, 0755) < 0)
		return g_strdup_printf("Failed to create folder '%s': %s", dir, g_strerror(errno));
	g_autofree char *path = g_build_filename(dir, name, NULL);
	if (!g_file_set_contents(path, data, (gssize)len, &e))
		return g_strdup_printf("Failed to write '%s': %s", path, e->message);
	return NULL;
}

/* "vhdxfile" then numbered lines: the same bytes for the same VM and point in time. */
static GString *disk_bytes(const SimState *st, const char *vm_id, const char *at)
{
	gsize size = (gsize)st->vhdx_kib * 1024;
	GString *d = g_string_sized_new(size + 128);
	g_string_append(d, "vhdxfile");
	for (guint block = 0; d->len < size; block++)
		g_string_append_printf(d, "holdfast-sim disk %s at %s block %08u\n", vm_id, at,
				       block);
	g_string_truncate(d, size);
	return d;
}

static char *config_text(const SimState *st, const SimVm *vm, const char *at)
{
	return g_strdup_printf("holdfast-sim vmcx 1\nhost=%s\nname=%s\nid=%s\nexported-from=%s\n"
			       "user-snapshot-type=%d\n",
			       st->host_name, vm->name, vm->id, at, vm->user_snapshot_type);
}

char *export_write(SimState *st, const SimJob *j, const SimVm *vm)
{
	const SimSnap *one = j->snap_id ? sim_snap_find(st, j->snap_id) : NULL;
	if (j->snap_id && !one)
		return g_strdup("The checkpoint to export no longer exists.");
	const char *at = one ? one->id : "live";
	const char *copy = sim_pairs_get(j->export_settings, "CopySnapshotConfiguration");
	int snaps_mode = copy ? atoi(copy) : 0; /* 0 all, 1 none, 2/3 one */

	g_autofree char *top = setting_true(j, "CreateVmExportSubdirectory", true)
				   ? g_build_filename(j->export_dir, vm->name, NULL)
				   : g_strdup(j->export_dir);
	g_autofree char *vmdir = g_build_filename(top, "Virtual Machines", NULL);
	g_autofree char *cfg_name = g_strdup_printf("%s.vmcx", vm->id);
	g_autofree char *cfg_path = g_build_filename(vmdir, cfg_name, NULL);
	if (g_file_test(cfg_path, G_FILE_TEST_EXISTS))
		return g_strdup_printf("Failed to export: the folder '%s' already contains an "
				       "export of '%s'.",
				       top, vm->name);

	g_autofree char *cfg = config_text(st, vm, at);
	char *err = put(vmdir, cfg_name, cfg, strlen(cfg));
	int state = one ? one->vm_state : vm->state;
	if (!err && setting_true(j, "CopyVmRuntimeInformation", true) && state != 3) {
		g_autofree char *rs_name = g_strdup_printf("%s.vmrs", vm->id);
		g_autofree char *rs =
		    g_strdup_printf("holdfast-sim vmrs 1\nid=%s\nat=%s\n", vm->id, at);
		err = put(vmdir, rs_name, rs, strlen(rs));
	}
	g_autofree char *snapdir = g_build_filename(top, "Snapshots", NULL);
	for (guint i = 0; !err && snaps_mode != 1 && i < st->snaps->len; i++) {
		const SimSnap *s = g_ptr_array_index(st->snaps, i);
		if (g_ascii_strcasecmp(s->vm_id, vm->id) != 0 || (snaps_mode >= 2 && s != one) ||
		    (snaps_mode == 0 && s->type == SIM_SNAP_RECOVERY && s != one))
			continue;
		g_autofree char *name = g_strdup_printf("%s.vmcx", s->id);
		g_autofree char *text =
		    g_strdup_printf("holdfast-sim checkpoint 1\nid=%s\nname=%s\n"
				    "parent=%s\n",
				    s->id, s->name, s->parent_id ? s->parent_id : "");
		err = put(snapdir, name, text, strlen(text));
	}
	if (!err && setting_true(j, "CopyVmStorage", true)) {
		g_autofree char *disk_dir = g_build_filename(top, "Virtual Hard Disks", NULL);
		g_autofree char *disk_name = g_strdup_printf("%s.vhdx", vm->name);
		g_autoptr(GString) disk = disk_bytes(st, vm->id, at);
		err = put(disk_dir, disk_name, disk->str, disk->len);
	}
	return err;
}
