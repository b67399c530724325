/* drpull.c - push or pull the disks of a libvirt guest into a DR store point (see drpull.h).
 *
 * Pull, per disk: one NBD connection to the export (libnbd); block status gives the clusters
 * to store (base:allocation for a full; for an incremental the dirty bitmap, and
 * base:allocation to tell dirty clusters that read as zero); the qcow2 writer lays the image
 * out from that map; then a pipeline of three threads over NBUF buffers, in order: a reader
 * keeps INFLIGHT reads in flight, a hasher feeds what arrived to SHA-256, the job's thread
 * writes it (O_DIRECT where the store has it), so reading, hashing and writing overlap. */
#include "drpull.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libnbd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drstore.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */
#include "qcow2w.h"

#define CS QCOW2W_CLUSTER
#define CHUNK ((size_t)2 << 20)		  /* bytes per NBD read */
#define INFLIGHT 8			  /* reads in flight */
#define NBUF (INFLIGHT + 4)		  /* buffers between the threads */
#define STATUS_SPAN (UINT64_C(1) << 30)	  /* bytes per block status request */
#define DIRTY_PREFIX "qemu:dirty-bitmap:" /* QEMU's meta context of an exported bitmap */
#define SOCKET_DIR_PREFIX "hf-nbd-"
#define STALE_S 3600	    /* a socket directory this old and empty is a dead copy's */
#define PORT_TRIES 16	    /* pull-port, pull-port + 1, ... */
#define TLS_ID "hf-nbd-tls" /* qemu-img's tls-creds-x509 object (dr verify --compare) */

typedef struct nbd_handle NbdHandle;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NbdHandle, nbd_close)

typedef struct {
	const char *guest;
	const DrvBackupSpec *spec;
	const DrvPullSpec *server;
	const char *tls_dir; /* TLS: holdfastd's CA and client certificate (else NULL) */
	const char *parent;
	DrvProgressFn progress;
	void *opaque;
	guint disk, ndisks;
	int last_pct;
	uint64_t read; /* bytes read over NBD, all disks */
} Pull;

static int nbd_fail(HfError *err, const Pull *p, const DrvBackupDisk *d, const char *what,
		    const char *why)
{
	return error_set(err, HF_ERR_FAILED,
			 "pull-mode DR copy of guest '%s', disk %s: %s: %s; check the libvirtd "
			 "log and that holdfastd can reach the hypervisor's NBD server",
			 p->guest, d->target, what, why ? why : "unknown error");
}

/* ---- which clusters to store ---- */

typedef struct {
	uint64_t ncl;
	uint8_t *data;	/* per cluster: some byte of it does not read as zero */
	uint8_t *dirty; /* per cluster: dirty in the exported bitmap */
	uint64_t reach_alloc, reach_dirty;
} Scan;

static void mark(uint8_t *a, uint64_t ncl, uint64_t off, uint64_t len)
{
	for (uint64_t c = off / CS; c < ncl && c * CS < off + len; c++)
		a[c] = 1;
}

static int extent_cb(void *user, const char *ctx, uint64_t offset, uint32_t *e, size_t n,
		     int *error)
{
	Scan *s = user;
	bool alloc = !strcmp(ctx, LIBNBD_CONTEXT_BASE_ALLOCATION);
	uint64_t o = offset;
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (alloc ? !(e[i + 1] & LIBNBD_STATE_ZERO) : (e[i + 1] & 1))
			mark(alloc ? s->data : s->dirty, s->ncl, o, e[i]);
		o += e[i];
	}
	*(alloc ? &s->reach_alloc : &s->reach_dirty) = o;
	return 0;
}

/* The cluster map of the disk: full -> data or unallocated; incremental -> dirty clusters as
 * data or zero, clean ones unallocated (read through the backing file). */
static uint8_t *scan(NbdHandle *h, const Pull *p, const DrvBackupDisk *d, uint64_t size,
		     HfError *err)
{
	Scan s = {.ncl = qcow2w_clusters(size)};
	g_autofree uint8_t *data = g_malloc0(s.ncl + 1), *dirty = g_malloc0(s.ncl + 1);
	s.data = data;
	s.dirty = dirty;
	for (uint64_t off = 0; off < size;) {
		s.reach_alloc = s.reach_dirty = off;
		nbd_extent_callback cb = {.callback = extent_cb, .user_data = &s};
		if (nbd_block_status(h, MIN(size - off, STATUS_SPAN), off, cb, 0) < 0)
			return nbd_fail(err, p, d, "NBD block status failed", nbd_get_error()),
			       NULL;
		uint64_t r = d->bitmap ? MIN(s.reach_alloc, s.reach_dirty) : s.reach_alloc;
		if (r <= off)
			return nbd_fail(err, p, d, "NBD block status made no progress",
					"the server answered no extents"),
			       NULL;
		off = r;
	}
	uint8_t *map = g_malloc0(s.ncl + 1);
	for (uint64_t c = 0; c < s.ncl; c++) {
		if (!d->bitmap)
			map[c] = data[c] ? QCOW2W_DATA : QCOW2W_UNALLOC;
		else if (dirty[c])
			map[c] = data[c] ? QCOW2W_DATA : QCOW2W_ZERO;
	}
	return map;
}

/* ---- reading (reader thread), hashing (hasher thread) ---- */

typedef struct {
	uint64_t off;
	size_t len;
	uint8_t *buf;
} Chunk;

typedef struct {
	NbdHandle *h;
	Qcow2w *w;    /* the hasher hashes (qcow2w_hash), the consumer writes (qcow2w_append) */
	GArray *runs; /* Chunk (off, len): what to read, in order */
	/* free -> reader -> full -> hasher -> hashed -> consumer -> free */
	GAsyncQueue *free_q, *full_q, *hashed_q;
	gint stop;
	bool failed, hash_failed; /* each written by its own thread */
	gint64 hash_waited;	  /* µs the hasher waited for the reader */
	char why[512], hash_why[512];
} Reader;

static Chunk end_mark;

static void reader_error(Reader *r, const char *why)
{
	if (!r->failed)
		g_strlcpy(r->why, why ? why : "read failed", sizeof(r->why));
	r->failed = true;
}

static gpointer reader_main(gpointer arg)
{
	Reader *r = arg;
	Chunk *ring[INFLIGHT];
	int64_t cookie[INFLIGHT];
	guint issued = 0, done = 0, n = r->runs->len;
	for (;;) {
		while (issued < n && issued - done < INFLIGHT && !r->failed &&
		       !g_atomic_int_get(&r->stop)) {
			Chunk *ch = g_async_queue_pop(r->free_q);
			const Chunk *want = &g_array_index(r->runs, Chunk, issued);
			ch->off = want->off;
			ch->len = want->len;
			int64_t ck =
			    nbd_aio_pread(r->h, ch->buf, ch->len, ch->off, NBD_NULL_COMPLETION, 0);
			if (ck < 0) {
				reader_error(r, nbd_get_error());
				g_async_queue_push(r->free_q, ch);
				break;
			}
			ring[issued % INFLIGHT] = ch;
			cookie[issued % INFLIGHT] = ck;
			issued++;
		}
		if (done == issued)
			break;
		int rc;
		while ((rc = nbd_aio_command_completed(r->h, (uint64_t)cookie[done % INFLIGHT])) ==
		       0)
			if (nbd_poll(r->h, -1) < 0) {
				rc = -1;
				break;
			}
		Chunk *ch = ring[done % INFLIGHT];
		done++;
		if (rc < 0)
			reader_error(r, nbd_get_error());
		g_async_queue_push(r->failed ? r->free_q : r->full_q, ch);
	}
	g_async_queue_push(r->full_q, &end_mark);
	return NULL;
}

static gpointer hasher_main(gpointer arg)
{
	Reader *r = arg;
	for (;;) {
		gint64 t = g_get_monotonic_time();
		Chunk *ch = g_async_queue_pop(r->full_q);
		r->hash_waited += g_get_monotonic_time() - t;
		if (ch == &end_mark)
			break;
		HfError herr = {0};
		if (!r->hash_failed && qcow2w_hash(r->w, ch->off, ch->buf, ch->len, &herr) < 0) {
			g_strlcpy(r->hash_why, herr.message, sizeof(r->hash_why));
			r->hash_failed = true;
			g_atomic_int_set(&r->stop, 1);
		}
		g_async_queue_push(r->hash_failed ? r->free_q : r->hashed_q, ch);
	}
	g_async_queue_push(r->hashed_q, &end_mark);
	return NULL;
}

/* Runs of DATA clusters cut into reads of at most CHUNK bytes. */
static GArray *data_runs(const uint8_t *map, uint64_t size)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(Chunk));
	uint64_t ncl = qcow2w_clusters(size);
	for (uint64_t c = 0; c < ncl;) {
		if (map[c] != QCOW2W_DATA) {
			c++;
			continue;
		}
		Chunk ch = {.off = c * CS};
		while (c < ncl && map[c] == QCOW2W_DATA && ch.len + CS <= CHUNK) {
			ch.len += (size_t)MIN(CS, size - c * CS);
			c++;
		}
		g_array_append_val(a, ch);
	}
	return a;
}

static void report(Pull *p, const DrvBackupDisk *d, uint64_t done, uint64_t total)
{
	int pct = (int)((p->disk * 100 + (total ? done * 100 / total : 100)) / p->ndisks);
	if (!p->progress || pct == p->last_pct)
		return;
	p->last_pct = pct;
	g_autofree char *m = g_strdup_printf("reading disk %s over NBD: %" G_GUINT64_FORMAT
					     " of %" G_GUINT64_FORMAT " MiB",
					     d->target, done >> 20, total >> 20);
	p->progress(p->opaque, pct, m);
}

/* Write what the reader delivers; on an error or a cancel, stop the reader and drain. */
static int consume(Pull *p, const DrvBackupDisk *d, Reader *r, Qcow2w *w, HfError *err)
{
	uint64_t total = qcow2w_data_bytes(w), done = 0;
	int rc = 0;
	gint64 t0 = g_get_monotonic_time(), waited = 0;
	for (;;) {
		gint64 tw = g_get_monotonic_time();
		Chunk *ch = g_async_queue_pop(r->hashed_q);
		waited += g_get_monotonic_time() - tw;
		if (ch == &end_mark)
			break;
		if (rc == 0 && p->spec->cancelled && p->spec->cancelled(p->opaque))
			rc = error_set(err, HF_ERR_CANCELLED, "DR copy of guest '%s' cancelled",
				       p->guest);
		else if (rc == 0)
			rc = qcow2w_append(w, ch->off, ch->buf, ch->len, err);
		if (rc < 0)
			g_atomic_int_set(&r->stop, 1);
		done += ch->len;
		p->read += ch->len;
		if (rc == 0)
			report(p, d, done, total);
		g_async_queue_push(r->free_q, ch);
	}
	if (rc == 0 && r->failed)
		rc = nbd_fail(err, p, d, "reading the NBD export failed", r->why);
	if (rc == 0 && r->hash_failed)
		rc = error_set(err, HF_ERR_INTERNAL, "%s", r->hash_why);
	double s = (double)(g_get_monotonic_time() - t0) / 1e6;
	hf_log("hf-dr", LOG_LVL_DEBUG,
	       "disk %s: %" G_GUINT64_FORMAT " bytes over NBD in %.2f s (%.0f MB/s); the hasher "
	       "waited for the reader %.2f s, the writer for the hasher %.2f s",
	       d->target, done, s, s > 0 ? (double)done / s / 1e6 : 0, (double)r->hash_waited / 1e6,
	       (double)waited / 1e6);
	return rc;
}

static int copy_data(Pull *p, NbdHandle *h, const DrvBackupDisk *d, const uint8_t *map,
		     uint64_t size, Qcow2w *w, HfError *err)
{
	Reader r = {.h = h, .w = w, .runs = data_runs(map, size)};
	r.free_q = g_async_queue_new();
	r.full_q = g_async_queue_new();
	r.hashed_q = g_async_queue_new();
	Chunk bufs[NBUF];
	for (int i = 0; i < NBUF; i++) {
		bufs[i].buf = aligned_alloc(4096, CHUNK); /* O_DIRECT writes (qcow2w) */
		if (!bufs[i].buf)
			g_error("out of memory");
		g_async_queue_push(r.free_q, &bufs[i]);
	}
	GThread *t = g_thread_new("hf-nbd-read", reader_main, &r);
	GThread *th = g_thread_new("hf-sha256", hasher_main, &r);
	int rc = consume(p, d, &r, w, err);
	g_thread_join(t);
	g_thread_join(th);
	for (int i = 0; i < NBUF; i++)
		free(bufs[i].buf);
	g_async_queue_unref(r.free_q);
	g_async_queue_unref(r.full_q);
	g_async_queue_unref(r.hashed_q);
	g_array_unref(r.runs);
	return rc;
}

static NbdHandle *nbd_open(const Pull *p, const DrvBackupDisk *d, HfError *err)
{
	g_autoptr(NbdHandle) h = nbd_create();
	g_autofree char *dirty = d->bitmap ? g_strconcat(DIRTY_PREFIX, d->bitmap, NULL) : NULL;
	g_autofree char *port = g_strdup_printf("%d", p->server->tcp_port);
	if (!h || nbd_set_export_name(h, d->export_name) < 0 ||
	    nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) < 0 ||
	    (dirty && nbd_add_meta_context(h, dirty) < 0))
		return nbd_fail(err, p, d, "cannot set up libnbd", nbd_get_error()), NULL;
	/* TLS or nothing: a server that offers no TLS fails the connection */
	if (p->tls_dir &&
	    (nbd_set_tls(h, LIBNBD_TLS_REQUIRE) < 0 || nbd_set_tls_certificates(h, p->tls_dir) < 0))
		return nbd_fail(err, p, d, "cannot set up TLS in libnbd", nbd_get_error()), NULL;
	int rc = p->server->socket ? nbd_connect_unix(h, p->server->socket)
				   : nbd_connect_tcp(h, p->server->tcp_host, port);
	if (rc < 0) {
		g_autofree char *what = g_strdup_printf(
		    "cannot connect to the NBD export '%s' at %s%s%s%s", d->export_name,
		    p->server->socket ? p->server->socket : p->server->tcp_host,
		    p->server->socket ? "" : ":", p->server->socket ? "" : port,
		    p->tls_dir ? " with TLS (the hypervisor's server certificate must be signed by "
				 "the CA in pull-tls-dir's ca-cert.pem and name that address; "
				 "holdfastd's client-cert.pem by the CA in the hypervisor's "
				 "backup_tls_x509_cert_dir)"
			       : "");
		return nbd_fail(err, p, d, what, nbd_get_error()), NULL;
	}
	if (nbd_can_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) != 1 ||
	    (dirty && nbd_can_meta_context(h, dirty) != 1))
		return nbd_fail(err, p, d, "the NBD export lacks a block status context",
				dirty ? dirty : LIBNBD_CONTEXT_BASE_ALLOCATION),
		       NULL;
	return g_steal_pointer(&h);
}

static int pull_disk(Pull *p, DrvBackupDisk *d, HfError *err)
{
	g_autoptr(NbdHandle) h = nbd_open(p, d, err);
	if (!h)
		return -1;
	int64_t size = nbd_get_size(h);
	if (size < 0)
		return nbd_fail(err, p, d, "cannot read the export's size", nbd_get_error());
	if (!d->capacity)
		d->capacity = (uint64_t)size;
	g_autofree uint8_t *map = scan(h, p, d, (uint64_t)size, err);
	if (!map)
		return -1;
	if (d->bitmap && !p->parent)
		return error_set(err, HF_ERR_INTERNAL,
				 "incremental pull of disk %s without a parent point", d->target);
	g_autofree char *base = g_path_get_basename(d->file);
	/* the same disk's image in the parent point, as the DR store lays it out (drstore.h) */
	g_autofree char *backing = d->bitmap ? g_strdup_printf("../%s/%s", p->parent, base) : NULL;
	g_autoptr(Qcow2w) w = qcow2w_new((uint64_t)size, backing, map);
	char hex[65];
	if (qcow2w_create(w, d->file, err) < 0 ||
	    copy_data(p, h, d, map, (uint64_t)size, w, err) < 0 || qcow2w_finish(w, hex, err) < 0)
		return -1;
	d->sha256 = g_strdup(hex);
	nbd_shutdown(h, 0);
	return 0;
}

/* qemu-img's name for an export of the pull's NBD server (json: escapes what needs it). */
static char *export_name_json(const DrvPullSpec *s, const char *export_name, bool tls)
{
	g_autoptr(cJSON) j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "driver", "raw");
	cJSON *f = cJSON_AddObjectToObject(j, "file");
	cJSON_AddStringToObject(f, "driver", "nbd");
	cJSON_AddStringToObject(f, "export", export_name);
	cJSON *srv = cJSON_AddObjectToObject(f, "server");
	g_autofree char *port = g_strdup_printf("%d", s->tcp_port);
	cJSON_AddStringToObject(srv, "type", s->socket ? "unix" : "inet");
	cJSON_AddStringToObject(srv, s->socket ? "path" : "host",
				s->socket ? s->socket : s->tcp_host);
	if (!s->socket)
		cJSON_AddStringToObject(srv, "port", port);
	if (tls) /* qemu-img --object tls-creds-x509,id=TLS_ID,... (compare_disk) */
		cJSON_AddStringToObject(f, "tls-creds", TLS_ID);
	char *t = cJSON_PrintUnformatted(j);
	char *r = g_strconcat("json:", t, NULL);
	cJSON_free(t);
	return r;
}

/* qemu-img's --object of holdfastd's TLS client certificate in dir (NULL: no TLS); a ',' in
 * an option value is written ',,'. */
static char *tls_object(const char *dir)
{
	if (!dir)
		return NULL;
	g_auto(GStrv) parts = g_strsplit(dir, ",", -1);
	g_autofree char *d = g_strjoinv(",,", parts);
	return g_strdup_printf("tls-creds-x509,id=%s,endpoint=client,verify-peer=on,dir=%s", TLS_ID,
			       d);
}

/* TLS asked: holdfastd's files in dir, checked before a backup job starts (libnbd and QEMU
 * would only say that the handshake failed). */
static int tls_files(const char *guest, const char *dir, HfError *err)
{
	static const char *const need[][2] = {
	    {"ca-cert.pem", "the CA certificate (PEM) that signed the hypervisor's NBD server "
			    "certificate (libvirt: ca-cert.pem in qemu.conf's "
			    "backup_tls_x509_cert_dir, by default /etc/pki/qemu)"},
	    {"client-cert.pem",
	     "holdfastd's client certificate (PEM), signed by the CA the "
	     "hypervisor's QEMU trusts (its backup_tls_x509_cert_dir/ca-cert.pem: "
	     "backup_tls_x509_verify asks for it)"},
	    {"client-key.pem", "the private key of client-cert.pem (PEM, unencrypted)"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(need); i++) {
		g_autofree char *f = g_build_filename(dir, need[i][0], NULL);
		if (g_access(f, R_OK) < 0)
			return error_set(
			    err, HF_ERR_CONFIG,
			    "pull-mode DR copy of guest '%s' over TCP with TLS ([drstore] "
			    "pull-tls): %s: %s; it must hold %s. Put it into pull-tls-dir "
			    "(%s), or set pull-tls = no for plain NBD on a trusted network",
			    guest, f, g_strerror(errno), need[i][1], dir);
	}
	return 0;
}

/* The disk as the store will restore it (the new image and its backing chain) against the
 * export: the whole disk at the copy's instant, a fresh full read while the job holds it. */
static int compare_disk(const Pull *p, const DrvBackupDisk *d, cJSON *out, HfError *err)
{
	g_autofree char *src = export_name_json(p->server, d->export_name, p->tls_dir != NULL);
	g_autofree char *obj = tls_object(p->tls_dir);
	const char *plain[] = {"compare", "-F", "qcow2", src, d->file, NULL};
	const char *tls[] = {"compare", "--object", obj, "-F", "qcow2", src, d->file, NULL};
	const char *const *argv = obj ? tls : plain;
	gint64 t0 = g_get_monotonic_time();
	if (p->progress)
		p->progress(p->opaque, 100,
			    d->bitmap ? "comparing the rebuilt disk (image + backing chain) "
					"with a fresh full read of the guest"
				      : "comparing the image with a fresh full read of the guest");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "target", d->target);
	cJSON_AddNumberToObject(o, "bytes", (double)d->capacity);
	cJSON_AddItemToArray(out, o);
	int code = 0;
	g_autofree char *text = NULL;
	if (drstore_qemu_img_status(argv, &code, &text, err) < 0)
		return -1;
	cJSON_AddNumberToObject(o, "seconds", (double)(g_get_monotonic_time() - t0) / 1e6);
	if (code == 0) {
		cJSON_AddBoolToObject(o, "identical", 1);
		return 0;
	}
	/* qemu-img compare: 1 = the images differ ("Content mismatch at offset N!" on stdout),
	 * 2 and more = it could not compare */
	const char *at = code == 1 ? strstr(text, "Content mismatch at offset ") : NULL;
	unsigned long long off = 0;
	if (!at || sscanf(at, "Content mismatch at offset %llu", &off) != 1)
		return error_set(
		    err, HF_ERR_FAILED,
		    "guest '%s', disk %s: the byte comparison with the guest could not "
		    "run: %s",
		    p->guest, d->target, text);
	cJSON_AddBoolToObject(o, "identical", 0);
	cJSON_AddNumberToObject(o, "offset", (double)off);
	return error_set(err, HF_ERR_FAILED,
			 "guest '%s', disk %s: the disk the DR store rebuilds (the new image%s%s) "
			 "differs from the guest's disk at the copy's instant, first at offset "
			 "%llu: this chain does not restore the guest; nothing was published and "
			 "the guest's DR checkpoints are dropped, so the next copy is a full; run "
			 "dr verify --compare again after it",
			 p->guest, d->target, d->bitmap ? " backed by point " : "",
			 d->bitmap ? p->parent : "", off);
}

/* backup_pull; over TCP the next port while the one asked for is in use (another copy from
 * the same hypervisor runs). */
static int begin(DrvConn *c, const char *guest, const DrvBackupSpec *spec, DrvPullSpec *server,
		 DrvBackupResult **res, HfError *err)
{
	for (int i = 1;; i++) {
		int rc = drv_backup_pull(c, guest, spec, server, 0, res, err);
		if (rc == 0 || server->socket || i == PORT_TRIES || server->tcp_port == 65535 ||
		    !strstr(err->message, "in use"))
			return rc;
		error_clear(err);
		server->tcp_port++;
	}
}

/* Socket directories of copies that died with holdfastd: empty (QEMU removes its socket when
 * the job ends) and older than any copy waits before its export is up. */
static void sweep_socket_dirs(void)
{
	const char *tmp = g_get_tmp_dir();
	g_autoptr(GDir) d = g_dir_open(tmp, 0, NULL);
	const char *n;
	gint64 old = g_get_real_time() / G_USEC_PER_SEC - STALE_S;
	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(tmp, n, NULL);
		GStatBuf st;
		if (g_str_has_prefix(n, SOCKET_DIR_PREFIX) && g_lstat(p, &st) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_mtime < old)
			g_rmdir(p); /* fails, as it should, when not empty */
	}
}

static int pull(DrvConn *c, const char *guest, const DrvBackupSpec *spec, const DrPullOpts *o,
		DrvProgressFn progress, void *opaque, DrvBackupResult **out, HfError *err)
{
	g_autoptr(GUri) u = g_uri_parse(c->uri, G_URI_FLAGS_NONE, NULL);
	const char *host = u ? g_uri_get_host(u) : NULL;
	g_autoptr(GError) gerr = NULL;
	/* the socket (local hypervisor): a directory of holdfast's own, handed to QEMU's user */
	sweep_socket_dirs();
	g_autofree char *tmp = g_dir_make_tmp(SOCKET_DIR_PREFIX "XXXXXX", &gerr);
	if (!tmp)
		return error_set(err, HF_ERR_FAILED,
				 "cannot create a directory for the NBD socket: %s", gerr->message);
	g_autofree char *sock = g_build_filename(tmp, "nbd.sock", NULL);
	/* scratch files (hf-dr-STORE-POINT-UUID-TARGET.scratch: a copy that died with holdfastd is
	 * found by their names, drrecover.h) in scratch-dir, else the point's .partial, or
	 * /var/tmp on a remote hypervisor host */
	DrvPullSpec server = {.scratch_dir = spec->dir, .tcp_port = o->port};
	if (host && *host)
		server.scratch_dir = "/var/tmp";
	if (o->scratch_dir)
		server.scratch_dir = o->scratch_dir;
	/* unix socket for this machine's hypervisor, else TCP (with TLS unless the store says
	 * no): drpull_transport, which dr copy --dry-run reports */
	const char *t = drpull_transport(o, c->uri, true);
	if (!strcmp(t, "unix"))
		server.socket = sock;
	else
		server.tcp_host = o->host ? o->host : host;
	server.tls = !strcmp(t, "tcp+tls");
	const char *tls_dir = o->tls_dir ? o->tls_dir : DRSTORE_PULL_TLS_DIR;
	if (server.tls && tls_files(guest, tls_dir, err) < 0) {
		drstore_discard(tmp);
		return -1;
	}
	if (progress)
		progress(opaque, 0,
			 spec->incremental ? "starting an incremental copy (pull mode, NBD)"
					   : "starting a full copy (pull mode, NBD)");
	g_autoptr(DrvBackupResult) res = NULL;
	int rc = begin(c, guest, spec, &server, &res, err);
	DrvBackupSpec full = *spec;
	g_autofree char *why_full = NULL;
	/* libvirt's VIR_ERR_CHECKPOINT_INCONSISTENT (the bitmap went with an unclean stop of
	 * QEMU): a full instead, with the reason, as a push does */
	if (rc < 0 && spec->incremental && strstr(err->message, "checkpoint inconsistent")) {
		why_full = g_strdup_printf("checkpoint '%s' is unusable: %s", spec->incremental,
					   err->message);
		error_clear(err);
		full.incremental = NULL;
		spec = &full;
		rc = begin(c, guest, spec, &server, &res, err);
	}
	if (rc < 0) {
		drstore_discard(tmp);
		return -1;
	}
	res->full_reason = g_steal_pointer(&why_full);
	Pull p = {.guest = guest,
		  .spec = spec,
		  .server = &server,
		  .tls_dir = server.tls ? tls_dir : NULL,
		  .parent = o->parent,
		  .progress = progress,
		  .opaque = opaque,
		  .ndisks = res->disks->len,
		  .last_pct = -1};
	for (p.disk = 0; rc == 0 && p.disk < res->disks->len; p.disk++)
		rc = pull_disk(&p, res->disks->pdata[p.disk], err);
	for (guint i = 0; rc == 0 && o->compare && i < res->disks->len; i++)
		rc = compare_disk(&p, res->disks->pdata[i], o->compare, err);
	HfError e = {0};
	if (drv_backup_abort(c, guest, 0, &e) < 0 && rc == 0)
		rc = error_set(err, e.code, "%s", e.message);
	drstore_discard(tmp);
	if (rc < 0) {
		error_clear(&e);
		drv_checkpoint_delete(c, guest, spec->checkpoint, 0, &e);
		error_clear(&e);
		if (res->started_paused && o->left_paused)
			*o->left_paused = true;
		else if (res->started_paused && drv_domain_destroy(c, guest, 0, &e) < 0)
			hf_log("hf-dr", LOG_LVL_ERROR,
			       "guest %s was started paused for a DR copy and stays paused: %s",
			       guest, e.message);
		for (guint i = 0; i < res->disks->len; i++)
			g_unlink(((DrvBackupDisk *)res->disks->pdata[i])->file);
		return -1;
	}
	res->processed = p.read;
	g_autofree char *where = server.socket
				     ? g_strdup(server.socket)
				     : g_strdup_printf("%s:%d", server.tcp_host, server.tcp_port);
	hf_log("hf-dr", LOG_LVL_INFO,
	       "pull-mode copy of %s: %u disk(s), %" G_GUINT64_FORMAT
	       " bytes read over NBD (%s), transport %s",
	       guest, res->disks->len, p.read, where, t);
	if (o->transport)
		*o->transport = t;
	*out = g_steal_pointer(&res);
	return 0;
}

const char *drpull_transport(const DrPullOpts *o, const char *uri, bool running)
{
	if (!o->compare && !drstore_pulls(o->mode, uri, running))
		return "push";
	if (!o->host && drv_uri_local(uri))
		return "unix";
	return o->tls != DRSTORE_TLS_NO ? "tcp+tls" : "tcp";
}

int drpull_backup(DrvConn *c, const char *guest, const DrvBackupSpec *spec, const DrPullOpts *o,
		  DrvProgressFn progress, void *opaque, DrvBackupResult **out, HfError *err)
{
	g_autoptr(DrvGuest) g = NULL;
	if (o->mode == DRSTORE_MODE_AUTO && drv_guest_get(c, guest, 0, &g, err) < 0)
		return -1;
	if (!o->compare && !drstore_pulls(o->mode, c->uri, g && g->state == DRV_STATE_RUNNING))
		return drv_backup_push(c, guest, spec, progress, opaque, 0, out, err);
	return pull(c, guest, spec, o, progress, opaque, out, err);
}
