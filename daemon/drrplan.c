/* drrplan.c - the files of a restore and its journal (drrplan.h). */
#include "drrplan.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void disk_free(DrRestoreDisk *d)
{
	g_free(d->target);
	g_free(d->from);
	g_free(d->to);
	g_free(d->tmp);
	g_free(d->before);
	g_free(d);
}

void drrplan_free(DrRestorePlan *p)
{
	if (!p)
		return;
	g_free(p->point);
	g_free(p->name);
	if (p->disks)
		g_ptr_array_unref(p->disks);
	g_free(p->nvram_from);
	g_free(p->nvram_to);
	g_free(p->nvram_tmp);
	g_free(p->nvram_before);
	g_free(p->nvram_path);
	g_free(p);
}

static const char *str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
}

char *drrplan_nvram_path(const char *src, const char *name, const char *point, bool in_place,
			 const char *now)
{
	if (!src || !g_path_is_absolute(src))
		return NULL;
	if (in_place && now && g_path_is_absolute(now))
		return g_strdup(now);
	g_autofree char *d = g_path_get_dirname(src);
	g_autofree char *base = g_strdup_printf("%s_VARS.fd", name);
	char *p = g_build_filename(d, base, NULL);
	if (in_place || (strcmp(p, src) && g_strcmp0(p, now)))
		return p;
	g_free(p);
	g_autofree char *alt = g_strdup_printf("%s-%s_VARS.fd", name, point);
	return g_build_filename(d, alt, NULL);
}

/* NVRAM: the point's copy goes to drrplan_nvram_path (in place: over the guest's own file,
 * kept as FILE.hf-before-restore-POINT). Not captured (a remote host): no file is written;
 * in place the guest keeps its own file; a new guest gets a fresh store from libvirt, at
 * NVDIR/NAME-POINT_VARS.fd when libvirt's default (NAME_VARS.fd) is the source's file. */
static void plan_nvram(DrRestorePlan *p, const cJSON *m, const char *pdir, const char *now)
{
	const cJSON *nv = cJSON_GetObjectItem(m, "nvram");
	const char *file = str(nv, "file"), *src = str(nv, "source");
	g_autofree char *to = drrplan_nvram_path(src, p->name, p->point, p->in_place, now);
	if (!to)
		return;
	if (!file || strchr(file, '/')) {
		/* new guest: only when libvirt's default name would be the source's file */
		g_autofree char *dflt = g_strdup_printf("%s_VARS.fd", p->name);
		g_autofree char *base = g_path_get_basename(to);
		if (p->in_place ? now != NULL : strcmp(base, dflt) != 0)
			p->nvram_path = g_steal_pointer(&to);
		return;
	}
	p->nvram_from = g_build_filename(pdir, file, NULL);
	p->nvram_to = g_strdup(to);
	p->nvram_path = g_steal_pointer(&to);
	if (p->in_place)
		p->nvram_before = g_strconcat(p->nvram_to, DRRPLAN_BEFORE, p->point, NULL);
	p->nvram_tmp = g_strconcat(p->nvram_to, DRRPLAN_PARTIAL, NULL);
}

/* Where disk d of the point goes; NULL with err. */
static char *disk_to(const DrRestorePlan *p, const cJSON *d, const char *dir, GHashTable *current,
		     HfError *err)
{
	const char *t = str(d, "target"), *src = str(d, "source");
	if (current) {
		const char *now = g_hash_table_lookup(current, t);
		if (!now || !g_path_is_absolute(now))
			error_set(err, HF_ERR_CONFLICT,
				  "guest '%s' has no disk image file for target %s (restore point "
				  "%s has one); an in-place restore replaces image files only: "
				  "restore with --as",
				  p->name, t, p->point);
		return now && g_path_is_absolute(now) ? g_strdup(now) : NULL;
	}
	/* next to the source image; a block device's directory (/dev/VG) is no place for one */
	if (!dir && src &&
	    (g_str_has_prefix(src, "/dev/") ||
	     (g_file_test(src, G_FILE_TEST_EXISTS) && !g_file_test(src, G_FILE_TEST_IS_REGULAR))))
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "restore point %s: disk %s came from %s, not an image file, so "
				 "there is no directory to restore it next to; give --dir DIR",
				 p->point, t, src),
		       NULL;
	g_autofree char *sdir = src ? g_path_get_dirname(src) : NULL;
	const char *into = dir ? dir : sdir;
	if (!into || !g_path_is_absolute(into))
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "restore point %s: disk %s has no source path to restore next "
				 "to; give --dir DIR",
				 p->point, t),
		       NULL;
	g_autofree char *base = g_strdup_printf("%s-%s.qcow2", p->name, t);
	return g_build_filename(into, base, NULL);
}

DrRestorePlan *drrplan_new(const cJSON *m, const char *name, const char *dir, GHashTable *current,
			   const char *nvram_now, HfError *err)
{
	g_autoptr(DrRestorePlan) p = g_new0(DrRestorePlan, 1);
	const char *pdir = str(m, "dir");
	p->point = g_strdup(str(m, "point"));
	p->name = g_strdup(name);
	p->in_place = current != NULL;
	p->disks = g_ptr_array_new_with_free_func((GDestroyNotify)disk_free);
	if (!pdir || !p->point)
		return error_set(err, HF_ERR_FAILED, "a restore point's manifest has no point id"),
		       NULL;
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *t = str(d, "target"), *f = str(d, "file");
		if (!t || !f || strchr(t, '/') || strchr(f, '/'))
			return error_set(err, HF_ERR_FAILED,
					 "restore point %s: a disk without a proper target or file "
					 "in its manifest",
					 p->point),
			       NULL;
		char *to = disk_to(p, d, dir, current, err);
		if (!to)
			return NULL;
		DrRestoreDisk *x = g_new0(DrRestoreDisk, 1);
		g_ptr_array_add(p->disks, x);
		x->target = g_strdup(t);
		x->from = g_build_filename(pdir, f, NULL);
		x->virtual_size =
		    (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(d, "virtual_size"));
		x->to = to;
		x->tmp = g_strconcat(to, DRRPLAN_PARTIAL, NULL);
		if (current)
			x->before = g_strconcat(to, DRRPLAN_BEFORE, p->point, NULL);
	}
	if (!p->disks->len)
		return error_set(err, HF_ERR_FAILED, "restore point %s has no disks", p->point),
		       NULL;
	plan_nvram(p, m, pdir, nvram_now);
	return g_steal_pointer(&p);
}

GHashTable *drrplan_files(const DrRestorePlan *p)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < p->disks->len; i++) {
		const DrRestoreDisk *d = p->disks->pdata[i];
		g_hash_table_insert(t, g_strdup(d->target), g_strdup(d->to));
	}
	return t;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

cJSON *drrplan_disks_json(const DrRestorePlan *p)
{
	cJSON *a = cJSON_CreateArray();
	for (guint i = 0; i < p->disks->len; i++) {
		const DrRestoreDisk *d = p->disks->pdata[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "target", d->target);
		cJSON_AddStringToObject(o, "from", d->from);
		cJSON_AddStringToObject(o, "to", d->to);
		cJSON_AddNumberToObject(o, "virtual_size", (double)d->virtual_size);
		add_str(o, "keep_as", d->before);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static void add_file(cJSON *arr, const char *to, const char *tmp, const char *before)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddStringToObject(o, "tmp", tmp);
	add_str(o, "before", before);
	cJSON_AddItemToArray(arr, o);
}

cJSON *drrplan_journal(const DrRestorePlan *p, const char *host, const char *step, bool keep_old)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "host", host);
	cJSON_AddStringToObject(j, "name", p->name);
	cJSON_AddStringToObject(j, "point", p->point);
	cJSON_AddBoolToObject(j, "in_place", p->in_place);
	cJSON_AddBoolToObject(j, "keep_old", keep_old);
	cJSON_AddStringToObject(j, "step", step);
	cJSON *files = cJSON_AddArrayToObject(j, "files");
	for (guint i = 0; i < p->disks->len; i++) {
		const DrRestoreDisk *d = p->disks->pdata[i];
		add_file(files, d->to, d->tmp, d->before);
	}
	if (p->nvram_to)
		add_file(files, p->nvram_to, p->nvram_tmp, p->nvram_before);
	return j;
}

char *drrplan_journal_path(const char *state_dir, const char *host, const char *name)
{
	g_autofree char *key = g_strdup_printf("%s-%s", host, name);
	g_autofree char *esc = g_uri_escape_string(key, NULL, FALSE);
	g_autofree char *base = g_strconcat(esc, ".json", NULL);
	return g_build_filename(state_dir, "drrestore", base, NULL);
}

/* RENAME_NOREPLACE, or EINVAL as from a filesystem without it (NFS, some SMB servers) when
 * HOLDFAST_TEST_NO_RENAME_NOREPLACE is set: the tests' way into the fallback. */
static int noreplace(const char *from, const char *to)
{
	if (g_getenv("HOLDFAST_TEST_NO_RENAME_NOREPLACE")) {
		errno = EINVAL;
		return -1;
	}
	return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

int drrplan_rename(const char *from, const char *to, HfError *err)
{
	int rc = noreplace(from, to);
	if (rc < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
		/* no RENAME_NOREPLACE here: link() fails when `to` exists, just as atomically */
		rc = link(from, to);
		if (rc == 0 && unlink(from) < 0) {
			int e = errno;
			unlink(to);
			errno = e;
			rc = -1;
		}
	}
	/* no hard links either (vfat, exFAT, CIFS without unix extensions): a plain rename of
	 * a `to` checked absent just before, the best that filesystem can do */
	struct stat st;
	if (rc < 0 && (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS)) {
		if (lstat(to, &st) == 0)
			errno = EEXIST;
		else
			rc = rename(from, to);
	}
	if (rc == 0)
		return 0;
	if (errno == EEXIST)
		return error_set(err, HF_ERR_CONFLICT,
				 "cannot move %s to %s: %s exists already and a restore never "
				 "replaces a file; see what it is, move it away and run again",
				 from, to, to);
	return error_set(err, HF_ERR_FAILED, "cannot rename %s to %s: %s", from, to,
			 g_strerror(errno));
}

static int gone(const char *path, GString *note, HfError *err)
{
	if (!path)
		return 0;
	if (g_unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, HF_ERR_FAILED,
				 "cannot remove %s (left by an earlier restore): %s; remove it and "
				 "retry",
				 path, g_strerror(errno));
	}
	g_string_append_printf(note, "%sremoved %s", note->len ? "; " : "", path);
	return 0;
}

/* In place, step swapping: the guest's own image back where it was. */
static int put_back(const char *to, const char *before, GString *note, HfError *err)
{
	if (!before || !g_file_test(before, G_FILE_TEST_EXISTS))
		return 0; /* not moved yet */
	if (gone(to, note, err) < 0)
		return -1;
	if (drrplan_rename(before, to, err) < 0) {
		error_prefix(err, "cannot put the guest's image %s back; rename it by hand",
			     before);
		return -1;
	}
	g_string_append_printf(note, "%sput %s back", note->len ? "; " : "", to);
	return 0;
}

static int recover_file(const cJSON *f, const char *step, bool in_place, bool keep_old,
			bool defined, GString *n, HfError *err)
{
	const char *to = str(f, "to"), *tmp = str(f, "tmp"), *before = str(f, "before");
	/* only names a restore makes: TO.hf-partial, TO.hf-before-restore-POINT */
	if (!to || !tmp || strcmp(tmp + MIN(strlen(tmp), strlen(to)), DRRPLAN_PARTIAL) ||
	    strncmp(tmp, to, strlen(to)) || (before && strncmp(before, to, strlen(to))))
		return 0;
	if (!in_place)
		return gone(tmp, n, err) < 0 || (!defined && gone(to, n, err) < 0) ? -1 : 0;
	if (!g_strcmp0(step, "writing"))
		return gone(tmp, n, err);
	if (!g_strcmp0(step, "defined"))
		return gone(tmp, n, err) < 0 || (!keep_old && gone(before, n, err) < 0) ? -1 : 0;
	return put_back(to, before, n, err) < 0 || gone(tmp, n, err) < 0 ? -1 : 0;
}

int drrplan_recover(const cJSON *j, bool guest_defined, char **note, HfError *err)
{
	g_autoptr(GString) n = g_string_new(NULL);
	const char *step = str(j, "step");
	bool in_place = cJSON_IsTrue(cJSON_GetObjectItem(j, "in_place"));
	bool keep_old = cJSON_IsTrue(cJSON_GetObjectItem(j, "keep_old"));
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(j, "files"))
	{
		if (recover_file(f, step, in_place, keep_old, guest_defined, n, err) < 0)
			return -1;
	}
	if (note)
		*note = g_string_free(g_steal_pointer(&n), FALSE);
	return 0;
}
