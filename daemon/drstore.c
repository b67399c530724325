/* drstore.c - DR store configuration, layout, manifests, sealing, publishing and checks. */
#include "drstore.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/driver.h" /* drv_uri_local */
#include "policy.h"           /* g_autoptr(cJSON) */
#include "statefile.h"
#include "timefmt.h"

#define PARTIAL_SUFFIX ".partial"
#define SHA_BUF (4 << 20)

DrStore *drstore_new(const char *name, int line)
{
	DrStore *s = g_new0(DrStore, 1);
	s->name = g_strdup(name);
	s->line = line;
	s->rpo_warn = DRSTORE_RPO_WARN;
	s->rpo_critical = DRSTORE_RPO_CRITICAL;
	s->pull_port = DRSTORE_PULL_PORT;
	s->max_chain = DRSTORE_MAX_CHAIN;
	return s;
}

void drstore_free(DrStore *s)
{
	if (!s)
		return;
	g_free(s->name);
	g_free(s->path);
	g_free(s->test_dir);
	g_free(s->scratch_dir);
	g_free(s->pull_host);
	g_free(s->pull_tls_dir);
	g_free(s);
}

int drstore_set(DrStore *s, const char *key, const char *value, HfError *err)
{
	if (!strcmp(key, "mode") || !strcmp(key, "pull-port") || !strcmp(key, "pull-host") ||
	    !strcmp(key, "pull-tls") || !strcmp(key, "pull-tls-dir"))
		return drstore_set_mode(s, key, value, err);
	if (!strcmp(key, "rpo-warn") || !strcmp(key, "rpo-critical")) {
		char *end = NULL;
		gint64 v = g_ascii_strtoll(value, &end, 10);
		if (!*value || *end || v <= 0 || v > G_MAXINT32)
			return error_set(
			    err, HF_ERR_CONFIG, "'%s' is not a number of seconds (e.g. %s = %d)",
			    value, key, key[4] == 'w' ? DRSTORE_RPO_WARN : DRSTORE_RPO_CRITICAL);
		*(key[4] == 'w' ? &s->rpo_warn : &s->rpo_critical) = v;
		return 0;
	}
	if (!strcmp(key, "max-chain")) {
		char *end = NULL;
		gint64 v = g_ascii_strtoll(value, &end, 10);
		if (!*value || *end || v < 0 || v > 10000)
			return error_set(err, HF_ERR_CONFIG,
					 "'%s' is not a number of incrementals from 0 (no cap) to "
					 "10000 (e.g. max-chain = %d)",
					 value, DRSTORE_MAX_CHAIN);
		s->max_chain = (int)v;
		return 0;
	}
	if (!strcmp(key, "test-dir") || !strcmp(key, "scratch-dir")) {
		bool test = key[0] == 't';
		if (!g_path_is_absolute(value) || strlen(value) > 3000)
			return error_set(
			    err, HF_ERR_CONFIG,
			    "'%s' is not an absolute directory path (e.g. %s = %s)", value, key,
			    test ? "/var/lib/holdfast/drtest" : "/var/lib/holdfast/scratch");
		char **to = test ? &s->test_dir : &s->scratch_dir;
		g_free(*to);
		*to = g_strdup(value);
		return 0;
	}
	if (strcmp(key, "path"))
		return error_set(err, HF_ERR_CONFIG,
				 "unknown key (known: path, rpo-warn, rpo-critical, max-chain, "
				 "mode, pull-port, pull-host, pull-tls, pull-tls-dir, test-dir, "
				 "scratch-dir)");
	if (!g_path_is_absolute(value) || strlen(value) > 3000)
		return error_set(err, HF_ERR_CONFIG,
				 "'%s' is not an absolute directory path (e.g. /srv/holdfast-dr)",
				 value);
	g_free(s->path);
	s->path = g_strdup(value);
	/* no trailing '/': paths built from it are compared with it (kill -9 recovery) */
	for (size_t n = strlen(s->path); n > 1 && s->path[n - 1] == '/'; n--)
		s->path[n - 1] = '\0';
	return 0;
}

int drstore_finish(const DrStore *s, const char *file, HfError *err)
{
	if (!s->path)
		return error_set(err, HF_ERR_CONFIG,
				 "%s:%d: [drstore %s] path: missing (e.g. path = /srv/holdfast-dr)",
				 file, s->line, s->name);
	if (s->rpo_warn > s->rpo_critical)
		return error_set(err, HF_ERR_CONFIG,
				 "%s:%d: [drstore %s] rpo-warn (%lld s) is above rpo-critical "
				 "(%lld s): make rpo-warn the smaller one",
				 file, s->line, s->name, (long long)s->rpo_warn,
				 (long long)s->rpo_critical);
	return 0;
}

char *drstore_guest_dir(const char *root, const char *uuid)
{
	return g_build_filename(root, uuid, NULL);
}

bool drstore_point_id_valid(const char *id)
{
	/* 20261121T061500Z, optionally -N */
	if (!id || strlen(id) < 16 || strlen(id) > 24 || id[8] != 'T' || id[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && !g_ascii_isdigit(id[i]))
			return false;
	if (!id[16])
		return true;
	if (id[16] != '-' || !id[17])
		return false;
	for (const char *p = id + 17; *p; p++)
		if (!g_ascii_isdigit(*p))
			return false;
	return true;
}

char *drstore_point_id(const char *guest_dir, int64_t t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	g_autofree char *base = g_date_time_format(dt, "%Y%m%dT%H%M%SZ");
	for (int n = 1;; n++) {
		g_autofree char *id = n == 1 ? g_strdup(base) : g_strdup_printf("%s-%d", base, n);
		g_autofree char *p = g_build_filename(guest_dir, id, NULL);
		g_autofree char *pp = g_strconcat(p, PARTIAL_SUFFIX, NULL);
		if (!g_file_test(p, G_FILE_TEST_EXISTS) && !g_file_test(pp, G_FILE_TEST_EXISTS))
			return g_steal_pointer(&id);
	}
}

void drstore_discard(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, n, NULL);
		g_unlink(p);
	}
	g_rmdir(dir);
}

int drstore_begin(const char *guest_dir, const char *point, char **partial, HfError *err)
{
	/* 0755: the hypervisor (qemu's user) writes the images into the point directory */
	if (g_mkdir_with_parents(guest_dir, 0755) < 0)
		return error_set(err, errno == ENOSPC ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
				 "cannot create DR store directory %s: %s; check the store's "
				 "path and permissions",
				 guest_dir, g_strerror(errno));
	g_autoptr(GDir) d = g_dir_open(guest_dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		if (!g_str_has_suffix(n, PARTIAL_SUFFIX))
			continue;
		g_autofree char *p = g_build_filename(guest_dir, n, NULL);
		drstore_discard(p);
	}
	g_autofree char *p = g_strdup_printf("%s/%s" PARTIAL_SUFFIX, guest_dir, point);
	if (g_mkdir(p, 0755) < 0)
		return error_set(err, errno == ENOSPC ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
				 "cannot create %s: %s", p, g_strerror(errno));
	chmod(p, 0755); /* whatever the umask */
	*partial = g_steal_pointer(&p);
	return 0;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

cJSON *drstore_manifest_new(const DrPointInfo *i)
{
	cJSON *m = cJSON_CreateObject();
	g_autofree char *t = timefmt_iso(i->time);
	cJSON_AddNumberToObject(m, "format", DRSTORE_FORMAT);
	add_str(m, "point", i->point);
	add_str(m, "guest", i->guest);
	add_str(m, "uuid", i->uuid);
	add_str(m, "host", i->host);
	add_str(m, "time", t);
	add_str(m, "kind", i->kind);
	add_str(m, "checkpoint", i->checkpoint);
	add_str(m, "parent", i->parent);
	add_str(m, "full_reason", i->full_reason);
	add_str(m, "consistency", i->consistency);
	add_str(m, "consistency_reason", i->consistency_reason);
	cJSON_AddNumberToObject(m, "frozen_s", i->frozen_s);
	cJSON_AddNumberToObject(m, "duration_s", i->duration_s);
	cJSON_AddNumberToObject(m, "processed", (double)i->processed);
	cJSON_AddArrayToObject(m, "disks");
	cJSON_AddArrayToObject(m, "files");
	cJSON_AddBoolToObject(m, "verified", 0);
	add_str(m, "domain_xml", i->domain_xml);
	return m;
}

void drstore_manifest_add_disk(cJSON *m, const char *target, const char *file, const char *source,
			       uint64_t virtual_size, const char *parent)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "target", target);
	cJSON_AddStringToObject(d, "file", file);
	add_str(d, "source", source);
	cJSON_AddNumberToObject(d, "virtual_size", (double)virtual_size);
	cJSON_AddNumberToObject(d, "stored_size", 0);
	add_str(d, "parent", parent);
	cJSON_AddItemToArray(cJSON_GetObjectItem(m, "disks"), d);
}

const char *drstore_disk_parent(const cJSON *m, const cJSON *d)
{
	const cJSON *p = cJSON_GetObjectItem(d, "parent");
	if (!p) /* a manifest from before per-disk chains */
		p = cJSON_GetObjectItem(m, "parent");
	return cJSON_GetStringValue(p);
}

const cJSON *drstore_disk(const cJSON *m, const char *target)
{
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		if (!g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(d, "target")), target))
			return d;
	}
	return NULL;
}

char **drstore_point_deps(const cJSON *m)
{
	GStrvBuilder *b = g_strv_builder_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *p = drstore_disk_parent(m, d);
		if (p && g_hash_table_add(seen, (char *)p))
			g_strv_builder_add(b, p);
	}
	char **out = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return out;
}

int drstore_io_error(HfError *err, const char *what, const char *path)
{
	int e = errno;
	return error_set(err, e == ENOSPC || e == EDQUOT ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
			 "cannot %s %s: %s%s", what, path, g_strerror(e),
			 e == ENOSPC || e == EDQUOT ? "; free space in the DR store" : "");
}

int drstore_sha256(const char *path, char hex[65], HfError *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return drstore_io_error(err, "read", path);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	g_autofree unsigned char *buf = g_malloc(SHA_BUF);
	int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
	ssize_t n;
	while (rc == 0 && (n = read(fd, buf, SHA_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = drstore_io_error(err, "read", path);
			break;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			rc = -1;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		rc = -1;
	EVP_MD_CTX_free(ctx);
	close(fd);
	if (rc < 0)
		return error_set(err, HF_ERR_INTERNAL, "SHA-256 of %s failed in libcrypto", path);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int drstore_fsync(const char *path, bool dir, HfError *err)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return drstore_io_error(err, "open", path);
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc < 0 ? drstore_io_error(err, "fsync", path) : 0;
}

int drstore_copy_file(const char *from, const char *to, HfError *err)
{
	g_autoptr(GFile) a = g_file_new_for_path(from);
	g_autoptr(GFile) b = g_file_new_for_path(to);
	g_autoptr(GError) ge = NULL;
	if (!g_file_copy(a, b, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &ge))
		return error_set(err, HF_ERR_FAILED, "cannot copy %s to %s: %s", from, to,
				 ge->message);
	return drstore_fsync(to, false, err);
}

int drstore_seal(const char *partial, cJSON *m, HfError *err)
{
	cJSON *files = cJSON_GetObjectItem(m, "files"), *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		g_autofree char *p = g_build_filename(partial, f, NULL);
		char hex[65] = "";
		GStatBuf st;
		const char *known = cJSON_GetStringValue(cJSON_GetObjectItem(d, "sha256"));
		if (known) /* drstore_manifest_disk_hashed */
			g_strlcpy(hex, known, sizeof(hex));
		if (drstore_fsync(p, false, err) < 0 || g_stat(p, &st) < 0 ||
		    (!known && drstore_sha256(p, hex, err) < 0))
			return err->code[0] ? -1 : drstore_io_error(err, "stat", p);
		cJSON_DeleteItemFromObject(d, "sha256");
		cJSON_ReplaceItemInObject(d, "stored_size", cJSON_CreateNumber((double)st.st_size));
		cJSON *fo = cJSON_CreateObject();
		cJSON_AddStringToObject(fo, "name", f);
		cJSON_AddNumberToObject(fo, "size", (double)st.st_size);
		cJSON_AddStringToObject(fo, "sha256", hex);
		cJSON_AddItemToArray(files, fo);
	}
	cJSON_ReplaceItemInObject(m, "verified", cJSON_CreateBool(1));
	g_autofree char *mp = g_build_filename(partial, DRSTORE_MANIFEST, NULL);
	/* statefile_write: temp file, fsync, rename, fsync of the directory */
	return statefile_write_json(mp, m, err);
}

int drstore_publish(const char *guest_dir, const char *point, HfError *err)
{
	g_autofree char *from = g_strdup_printf("%s/%s" PARTIAL_SUFFIX, guest_dir, point);
	g_autofree char *to = g_build_filename(guest_dir, point, NULL);
	if (g_rename(from, to) < 0)
		return drstore_io_error(err, "publish (rename)", from);
	return drstore_fsync(guest_dir, true, err);
}

/* Point ids sort by time; "-N" suffixes within one second by length, then text. */
static int id_cmp(const char *p, const char *q)
{
	if (strlen(p) != strlen(q))
		return strncmp(p, q, 16) ? strncmp(p, q, 16) : (int)strlen(p) - (int)strlen(q);
	return strcmp(p, q);
}

static int by_time(gconstpointer a, gconstpointer b)
{
	const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
	return id_cmp(cJSON_GetStringValue(cJSON_GetObjectItem(x, "point")),
		      cJSON_GetStringValue(cJSON_GetObjectItem(y, "point")));
}

int drstore_points(const char *guest_dir, GPtrArray **out, HfError *err)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
	g_autoptr(GDir) d = g_dir_open(guest_dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		if (!drstore_point_id_valid(n)) /* .partial and anything else */
			continue;
		g_autofree char *dir = g_build_filename(guest_dir, n, NULL);
		g_autofree char *mp = g_build_filename(dir, DRSTORE_MANIFEST, NULL);
		cJSON *m = NULL;
		HfError e = {0};
		if (statefile_read_json(mp, &m, &e) < 0 || !m)
			continue; /* not a point (listed by dr verify as missing when a parent) */
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, "point"));
		if (!id || strcmp(id, n)) {
			cJSON_Delete(m);
			continue;
		}
		cJSON_AddStringToObject(m, "dir", dir);
		g_ptr_array_add(list, m);
	}
	g_ptr_array_sort(list, by_time);
	*out = g_steal_pointer(&list);
	(void)err;
	return 0;
}

static gint by_name_desc(gconstpointer a, gconstpointer b)
{
	return id_cmp(*(char *const *)b, *(char *const *)a);
}

/* The manifest of the newest point in a guest directory, read alone: point ids sort as their
 * times, so the names are sorted and manifests read newest first until one is a point's. */
cJSON *drstore_newest(const char *gd)
{
	g_autoptr(GDir) d = g_dir_open(gd, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while (d && (n = g_dir_read_name(d)))
		if (drstore_point_id_valid(n))
			g_ptr_array_add(names, g_strdup(n));
	g_ptr_array_sort(names, by_name_desc);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *mp = g_build_filename(gd, names->pdata[i], DRSTORE_MANIFEST, NULL);
		cJSON *m = NULL;
		HfError e = {0};
		if (!g_file_test(mp, G_FILE_TEST_IS_REGULAR) || statefile_read_json(mp, &m, &e) < 0 ||
		    !m)
			continue;
		if (!g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "point")), names->pdata[i]))
			return m;
		cJSON_Delete(m);
	}
	return NULL;
}

/* Runs where requests are answered: one directory listing per guest and one manifest read
 * (the newest point's), not every point's. */
char *drstore_find_guest(const char *root, const char *guest)
{
	g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *gd = g_build_filename(root, n, NULL);
		if (n[0] == '.' || !g_file_test(gd, G_FILE_TEST_IS_DIR))
			continue;
		if (!strcmp(n, guest))
			return g_steal_pointer(&gd); /* asked for by UUID */
		g_autoptr(cJSON) m = drstore_newest(gd);
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(m, "guest"));
		const char *host = cJSON_GetStringValue(cJSON_GetObjectItem(m, "host"));
		g_autofree char *addr =
		    g_strdup_printf("%s/%s", host ? host : "", name ? name : "");
		if (m && ((name && !strcmp(name, guest)) || !strcmp(addr, guest)))
			return g_steal_pointer(&gd);
	}
	return NULL;
}

int drstore_check_files(const char *dir, const cJSON *m, HfError *err)
{
	const char *point = cJSON_GetStringValue(cJSON_GetObjectItem(m, "point"));
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(m, "files"))
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(f, "name"));
		const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(f, "sha256"));
		g_autofree char *p = g_build_filename(dir, name ? name : "?", NULL);
		char hex[65] = "";
		if (!name || !want)
			return error_set(err, HF_ERR_FAILED,
					 "restore point %s: manifest %s/%s lists a file without "
					 "name or sha256",
					 point, dir, DRSTORE_MANIFEST);
		if (drstore_sha256(p, hex, err) < 0)
			return -1;
		if (strcmp(hex, want))
			return error_set(
			    err, HF_ERR_FAILED,
			    "restore point %s: file %s is corrupt (SHA-256 %s, the "
			    "manifest says %s); this point and the incrementals after "
			    "it cannot be restored: take a new full copy (dr copy --full)",
			    point, p, hex, want);
	}
	return 0;
}

int drstore_qemu_img_status(const char *const *argv, int *code, char **text, HfError *err)
{
	g_autoptr(GPtrArray) a = g_ptr_array_new();
	g_ptr_array_add(a, (char *)"qemu-img");
	for (const char *const *p = argv; *p; p++)
		g_ptr_array_add(a, (char *)*p);
	g_ptr_array_add(a, NULL);
	g_autofree char *out = NULL, *errout = NULL;
	g_autoptr(GError) gerr = NULL;
	int status = 0;
	if (!g_spawn_sync(NULL, (char **)a->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
			  &errout, &status, &gerr))
		return error_set(err, HF_ERR_FAILED, "cannot run qemu-img: %s; install qemu-utils",
				 gerr->message);
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	g_autofree char *cmd = g_strjoinv(" ", (char **)a->pdata);
	*text = g_strdup_printf("%s failed: %s%s%s", cmd, g_strstrip(errout),
				*out && *errout ? "; " : "", g_strstrip(out));
	return 0;
}

int drstore_qemu_img(HfError *err, const char *const *argv)
{
	int code = 0;
	g_autofree char *text = NULL;
	if (drstore_qemu_img_status(argv, &code, &text, err) < 0)
		return -1;
	return code ? error_set(err, HF_ERR_FAILED, "%s", text) : 0;
}

const cJSON *drstore_point(GPtrArray *points, const char *id)
{
	for (guint i = 0; id && i < points->len; i++) {
		const cJSON *m = points->pdata[i];
		if (!g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "point")), id))
			return m;
	}
	return NULL;
}

/* Files of point m, and qemu-img check of the images of disks `targets` (the disks a chain
 * being verified needs from this point). */
static int verify_one(const cJSON *m, GPtrArray *targets, cJSON *report, HfError *err)
{
	const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(m, "dir"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, "point"));
	if (drstore_check_files(dir, m, err) < 0)
		return -1;
	for (guint i = 0; i < targets->len; i++) {
		const cJSON *d = drstore_disk(m, targets->pdata[i]);
		const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(d, "file"));
		g_autofree char *p = g_build_filename(dir, f ? f : "?", NULL);
		const char *argv[] = {"check", "-q", "-f", "qcow2", p, NULL};
		HfError e = {0};
		if (drstore_qemu_img(&e, argv) < 0)
			return error_set(err, HF_ERR_FAILED, "restore point %s: image %s: %s", id,
					 p, e.message);
		/* the chain as qemu sees it: every backing file resolves */
		const char *argv2[] = {"info", "--backing-chain", "-f", "qcow2", p, NULL};
		if (drstore_qemu_img(&e, argv2) < 0)
			return error_set(err, HF_ERR_FAILED,
					 "restore point %s: the backing chain of %s is broken: %s",
					 id, p, e.message);
	}
	cJSON_AddItemToArray(report, cJSON_CreateString(id));
	return 0;
}

int drstore_chain_length(GPtrArray *points, const char *point, const char *target)
{
	const cJSON *m = drstore_point(points, point);
	for (int n = 0; m && n <= (int)points->len; n++) {
		const cJSON *d = drstore_disk(m, target);
		if (!d)
			return -1;
		const char *parent = drstore_disk_parent(m, d);
		if (!parent)
			return n;
		m = drstore_point(points, parent);
	}
	return -1;
}

int drstore_verify_chain(GPtrArray *points, const char *point, cJSON *report, HfError *err)
{
	const cJSON *m = drstore_point(points, point);
	if (!m)
		return error_set(err, HF_ERR_NOT_FOUND, "restore point %s not found", point);
	/* the points each disk's chain reaches, with the disks needed from each (in order) */
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	g_autoptr(GHashTable) need =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(d, "target"));
		const cJSON *x = m;
		for (guint n = 0; t && x && n <= points->len; n++) {
			const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(x, "point"));
			GPtrArray *ts = g_hash_table_lookup(need, id);
			if (!ts) {
				ts = g_ptr_array_new();
				g_hash_table_insert(need, (char *)id, ts);
				g_ptr_array_add(order, (gpointer)x);
			}
			g_ptr_array_add(ts, (char *)t);
			const cJSON *xd = drstore_disk(x, t);
			const char *parent = xd ? drstore_disk_parent(x, xd) : NULL;
			if (!xd)
				return error_set(
				    err, HF_ERR_FAILED,
				    "restore point %s: disk %s is not in point %s, which "
				    "the chain names as its parent",
				    point, t, id);
			if (!parent)
				break;
			x = drstore_point(points, parent);
			if (!x)
				return error_set(
				    err, HF_ERR_FAILED,
				    "restore point %s: its parent point %s (disk %s) is missing "
				    "from the store; the chain cannot be restored: take a new full "
				    "copy",
				    id, parent, t);
		}
	}
	for (guint i = 0; i < order->len; i++) {
		const cJSON *x = order->pdata[i];
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(x, "point"));
		if (verify_one(x, g_hash_table_lookup(need, id), report, err) < 0)
			return -1;
	}
	return 0;
}

int drstore_set_mode(DrStore *s, const char *key, const char *value, HfError *err)
{
	static const char *const modes[] = {"auto", "push", "pull"};
	static const char *const tls[] = {"auto", "yes", "no"}; /* DRSTORE_TLS_* */
	if (!strcmp(key, "pull-tls")) {
		for (int i = 0; i < (int)G_N_ELEMENTS(tls); i++)
			if (!strcmp(value, tls[i]))
				return s->pull_tls = i, 0;
		return error_set(
		    err, HF_ERR_CONFIG,
		    "'%s' is not auto (TLS whenever the NBD export is on TCP), yes (the "
		    "same) or no (plain TCP: a trusted network only)",
		    value);
	}
	if (!strcmp(key, "pull-tls-dir")) {
		if (!g_path_is_absolute(value) || strlen(value) > 3000)
			return error_set(
			    err, HF_ERR_CONFIG,
			    "'%s' is not an absolute directory path (e.g. pull-tls-dir "
			    "= %s)",
			    value, DRSTORE_PULL_TLS_DIR);
		g_free(s->pull_tls_dir);
		s->pull_tls_dir = g_strdup(value);
		return 0;
	}
	if (!strcmp(key, "pull-host")) {
		if (!*value || strlen(value) > 255 || strpbrk(value, " /'\"<>&"))
			return error_set(err, HF_ERR_CONFIG,
					 "'%s' is not a host name or address (e.g. pull-host = "
					 "10.0.0.5)",
					 value);
		g_free(s->pull_host);
		s->pull_host = g_strdup(value);
		return 0;
	}
	if (!strcmp(key, "pull-port")) {
		char *end = NULL;
		gint64 v = g_ascii_strtoll(value, &end, 10);
		if (!*value || *end || v < 1 || v > 65535)
			return error_set(err, HF_ERR_CONFIG,
					 "'%s' is not a TCP port (1-65535, e.g. pull-port = %d)",
					 value, DRSTORE_PULL_PORT);
		s->pull_port = (int)v;
		return 0;
	}
	for (int i = 0; i < (int)G_N_ELEMENTS(modes); i++)
		if (!strcmp(value, modes[i])) {
			s->mode = i;
			return 0;
		}
	return error_set(err, HF_ERR_CONFIG,
			 "'%s' is not a copy mode: auto (push for guests on this host, pull "
			 "for remote ones), push or pull",
			 value);
}

bool drstore_pulls(int mode, const char *uri, bool running)
{
	if (mode != DRSTORE_MODE_AUTO)
		return mode == DRSTORE_MODE_PULL;
	return running || !drv_uri_local(uri);
}

void drstore_manifest_disk_hashed(cJSON *m, const char *target, const char *sha256)
{
	cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(m, "disks"))
	{
		if (!g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(d, "target")), target))
			cJSON_AddStringToObject(d, "sha256", sha256);
	}
}

char *drstore_unreadable_point(const char *guest_dir)
{
	g_autoptr(GDir) d = g_dir_open(guest_dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		if (!drstore_point_id_valid(n))
			continue;
		g_autofree char *mp = g_build_filename(guest_dir, n, DRSTORE_MANIFEST, NULL);
		cJSON *m = NULL;
		HfError e = {0};
		if (statefile_read_json(mp, &m, &e) < 0 || !m)
			return g_strdup(n);
		cJSON_Delete(m);
	}
	return NULL;
}

const DrStore *drstore_named(const GPtrArray *stores, const char *name)
{
	for (guint i = 0; stores && name && i < stores->len; i++)
		if (!strcmp(((const DrStore *)stores->pdata[i])->name, name))
			return stores->pdata[i];
	return NULL;
}

/* What the lock file says about its holder (one line), or a note that it says nothing. */
static char *lock_holder(int fd)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return g_strdup("a holder that did not say what it is");
	buf[n] = '\0';
	return g_strdup(g_strstrip(buf));
}

int drstore_lock(const char *guest_dir, const char *holder, int wait_s,
		 bool (*cancelled)(void *opaque), void *opaque, DrStoreLock *lock, HfError *err)
{
	g_autofree char *p = g_build_filename(guest_dir, DRSTORE_LOCK_FILE, NULL);
	lock->fd = -1;
	if (g_mkdir_with_parents(guest_dir, 0755) < 0)
		return drstore_io_error(err, "create the DR store directory", guest_dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return drstore_io_error(err, "open the lock file", p);
	gint64 end = g_get_monotonic_time() + (gint64)wait_s * G_USEC_PER_SEC;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e == EINTR)
			continue;
		if (e != EWOULDBLOCK) {
			close(fd);
			errno = e;
			return drstore_io_error(err, "lock", p);
		}
		if (cancelled && cancelled(opaque)) {
			close(fd);
			return error_set(err, HF_ERR_CANCELLED,
					 "cancelled while waiting for the guest directory %s",
					 guest_dir);
		}
		if (g_get_monotonic_time() >= end) {
			g_autofree char *who = lock_holder(fd);
			close(fd);
			return error_set(
			    err, HF_ERR_CONFLICT,
			    "the DR store directory %s is in use by %s (waited %d s for "
			    "its lock %s): two guests with the same UUID (a clone, a "
			    "failed-over copy beside its source) share it; try again "
			    "when that is done",
			    guest_dir, who, wait_s, p);
		}
		g_usleep(100 * 1000);
	}
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *t = g_date_time_format_iso8601(now);
	g_autofree char *line = g_strdup_printf("%s (holdfastd pid %d on %s, since %s)\n", holder,
						(int)getpid(), g_get_host_name(), t);
	/* best effort: the note only names the holder to a waiter */
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, strlen(line), 0) < 0)
		errno = 0;
	lock->fd = fd;
	return 0;
}

void drstore_unlock(DrStoreLock *lock)
{
	if (lock->fd < 0)
		return;
	if (ftruncate(lock->fd, 0) < 0) /* no stale holder note; close releases the lock */
		errno = 0;
	close(lock->fd);
	lock->fd = -1;
}
