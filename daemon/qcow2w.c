/* qcow2w.c - the streaming qcow2 v3 writer (see qcow2w.h for the layout). */
#include "qcow2w.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CS QCOW2W_CLUSTER
#define L2_ENTRIES (CS / 8) /* 64-bit L1/L2 entries per cluster */
#define RB_ENTRIES (CS / 2) /* 16-bit refcounts (refcount_order 4) per refcount block */
#define META_BATCH 64	    /* metadata clusters per write */
#define OFLAG_COPIED (UINT64_C(1) << 63)
#define OFLAG_ZERO UINT64_C(1)
#define QCOW_MAGIC 0x514649fbu
#define EXT_BACKING_FORMAT 0xe2792acau
#define HEADER_LENGTH 104
#define WRITEBACK_STEP ((uint64_t)32 << 20)
#define ALIGN 4096		 /* O_DIRECT memory alignment */
#define BOUNCE ((size_t)1 << 20) /* >= one cluster */

struct Qcow2w {
	uint64_t size, ncl; /* virtual size, guest clusters */
	uint8_t *map;
	char *backing;
	uint64_t l1_entries;
	int64_t *l2_of; /* per L1 entry: index of its L2 table, -1 = none */
	uint64_t rt, rb, l1c, nl2, ndata, total;	   /* cluster counts */
	uint64_t rt_off, rb_off, l1_off, l2_off, data_off; /* cluster indexes in the file */
	uint64_t gen_rank;	  /* data rank reached by the L2 tables generated so far */
	uint64_t next;		  /* guest cluster index of the next DATA cluster to write */
	uint64_t hnext;		  /* ... and to hash */
	uint64_t written, kicked; /* bytes written; bytes handed to writeback */
	bool direct;		  /* the file is open with O_DIRECT */
	uint8_t *bounce;	  /* BOUNCE bytes, ALIGN-aligned */
	int fd;
	char *path;
	EVP_MD_CTX *md;
};

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

uint64_t qcow2w_clusters(uint64_t size)
{
	return div_up(size, CS);
}

static uint64_t next_data(const Qcow2w *w, uint64_t from)
{
	while (from < w->ncl && w->map[from] != QCOW2W_DATA)
		from++;
	return from;
}

Qcow2w *qcow2w_new(uint64_t size, const char *backing, const uint8_t *map)
{
	Qcow2w *w = g_new0(Qcow2w, 1);
	w->fd = -1;
	w->size = size;
	w->ncl = qcow2w_clusters(size);
	w->map = g_memdup2(map, w->ncl ? w->ncl : 1);
	w->backing = g_strdup(backing);
	w->l1_entries = div_up(w->ncl, L2_ENTRIES);
	w->l1c = div_up(w->l1_entries, L2_ENTRIES);
	w->l2_of = g_new(int64_t, w->l1_entries ? w->l1_entries : 1);
	for (uint64_t k = 0; k < w->l1_entries; k++) {
		bool used = false;
		for (uint64_t c = k * L2_ENTRIES; c < w->ncl && c < (k + 1) * L2_ENTRIES; c++) {
			used |= w->map[c] != QCOW2W_UNALLOC;
			w->ndata += w->map[c] == QCOW2W_DATA;
		}
		w->l2_of[k] = used ? (int64_t)w->nl2++ : -1;
	}
	/* the refcount structures count themselves: iterate to the fixed point */
	uint64_t fixed = 1 + w->l1c + w->nl2 + w->ndata;
	w->rt = w->rb = 1;
	for (;;) {
		uint64_t rb = div_up(fixed + w->rt + w->rb, RB_ENTRIES);
		uint64_t rt = div_up(rb, L2_ENTRIES);
		if (rb == w->rb && rt == w->rt)
			break;
		w->rb = rb;
		w->rt = rt;
	}
	w->total = fixed + w->rt + w->rb;
	w->rt_off = 1;
	w->rb_off = w->rt_off + w->rt;
	w->l1_off = w->rb_off + w->rb;
	w->l2_off = w->l1_off + w->l1c;
	w->data_off = w->l2_off + w->nl2;
	w->next = w->hnext = next_data(w, 0);
	return w;
}

void qcow2w_free(Qcow2w *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	EVP_MD_CTX_free(w->md);
	free(w->bounce);
	g_free(w->map);
	g_free(w->l2_of);
	g_free(w->backing);
	g_free(w->path);
	g_free(w);
}

uint64_t qcow2w_data_bytes(const Qcow2w *w)
{
	uint64_t n = w->ndata * CS;
	if (w->ncl && w->map[w->ncl - 1] == QCOW2W_DATA && w->size % CS)
		n -= CS - w->size % CS;
	return n;
}

uint64_t qcow2w_file_size(const Qcow2w *w)
{
	return w->total * CS;
}

uint64_t qcow2w_next(const Qcow2w *w)
{
	return w->next < w->ncl ? w->next * CS : w->size;
}

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void fill_header(const Qcow2w *w, uint8_t *h)
{
	be32(h, QCOW_MAGIC);
	be32(h + 4, 3);
	be32(h + 20, QCOW2W_CLUSTER_BITS);
	be64(h + 24, w->size);
	be32(h + 36, (uint32_t)w->l1_entries);
	be64(h + 40, w->l1_off * CS);
	be64(h + 48, w->rt_off * CS);
	be32(h + 56, (uint32_t)w->rt);
	be32(h + 96, 4); /* refcount_order: 16-bit refcounts */
	be32(h + 100, HEADER_LENGTH);
	size_t p = HEADER_LENGTH;
	if (w->backing) {
		be32(h + p, EXT_BACKING_FORMAT);
		be32(h + p + 4, 5);
		memcpy(h + p + 8, "qcow2", 5);
		p += 16;
	}
	p += 8; /* end of the header extensions: type 0, length 0 */
	if (w->backing) {
		size_t n = strlen(w->backing);
		be64(h + 8, p);
		be32(h + 16, (uint32_t)n);
		memcpy(h + p, w->backing, n);
	}
}

/* One L2 table (the next one in file order): data clusters get the next ranks. */
static void fill_l2(Qcow2w *w, uint64_t table, uint8_t *c)
{
	uint64_t k = 0;
	while (w->l2_of[k] != (int64_t)table)
		k++;
	for (uint64_t i = 0; i < L2_ENTRIES; i++) {
		uint64_t g = k * L2_ENTRIES + i, e = 0;
		if (g >= w->ncl)
			break;
		if (w->map[g] == QCOW2W_DATA)
			e = (w->data_off + w->gen_rank++) * CS | OFLAG_COPIED;
		else if (w->map[g] == QCOW2W_ZERO)
			e = OFLAG_ZERO;
		be64(c + 8 * i, e);
	}
}

/* The content of metadata cluster idx (idx < data_off), generated in file order. */
static void fill_meta(Qcow2w *w, uint64_t idx, uint8_t *c)
{
	memset(c, 0, CS);
	if (idx == 0) {
		fill_header(w, c);
	} else if (idx < w->rb_off) {
		uint64_t j = idx - w->rt_off;
		for (uint64_t i = 0; i < L2_ENTRIES && j * L2_ENTRIES + i < w->rb; i++)
			be64(c + 8 * i, (w->rb_off + j * L2_ENTRIES + i) * CS);
	} else if (idx < w->l1_off) {
		uint64_t first = (idx - w->rb_off) * RB_ENTRIES;
		for (uint64_t i = 0; i < RB_ENTRIES && first + i < w->total; i++)
			c[2 * i + 1] = 1;
	} else if (idx < w->l2_off) {
		uint64_t first = (idx - w->l1_off) * L2_ENTRIES;
		for (uint64_t i = 0; i < L2_ENTRIES && first + i < w->l1_entries; i++)
			if (w->l2_of[first + i] >= 0)
				be64(c + 8 * i, (w->l2_off + (uint64_t)w->l2_of[first + i]) * CS |
						    OFLAG_COPIED);
	} else {
		fill_l2(w, idx - w->l2_off, c);
	}
}

static int digest(Qcow2w *w, const void *buf, size_t len, HfError *err)
{
	if (EVP_DigestUpdate(w->md, buf, len) == 1)
		return 0;
	return error_set(err, HF_ERR_INTERNAL, "SHA-256 of %s failed in libcrypto", w->path);
}

static int put_raw(Qcow2w *w, const void *buf, size_t len, HfError *err);

/* O_DIRECT wants aligned memory: a caller's unaligned buffer goes through the bounce buffer. */
static int put_bounced(Qcow2w *w, const uint8_t *p, size_t len, HfError *err)
{
	while (len) {
		size_t n = MIN(len, BOUNCE);
		memcpy(w->bounce, p, n);
		if (put_raw(w, w->bounce, n, err) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int put_raw(Qcow2w *w, const void *buf, size_t len, HfError *err)
{
	const uint8_t *p = buf;
	if (w->direct && ((uintptr_t)p % ALIGN) && p != w->bounce)
		return put_bounced(w, p, len, err);
	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			bool full = e == ENOSPC || e == EDQUOT;
			return error_set(err, full ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
					 "cannot write %s: %s%s", w->path, g_strerror(e),
					 full ? "; free space in the DR store" : "");
		}
		p += n;
		len -= (size_t)n;
		w->written += (uint64_t)n;
	}
	/* buffered (no O_DIRECT here): start the writeback of what is written so far, so the
	 * disk works while the copy goes on and the fsync at the end has little left to do */
	if (!w->direct && w->written - w->kicked >= WRITEBACK_STEP) {
		if (sync_file_range(w->fd, (off_t)w->kicked, (off_t)(w->written - w->kicked),
				    SYNC_FILE_RANGE_WRITE) == 0)
			w->kicked = w->written;
	}
	return 0;
}

static int put(Qcow2w *w, const void *buf, size_t len, HfError *err)
{
	return digest(w, buf, len, err) < 0 ? -1 : put_raw(w, buf, len, err);
}

int qcow2w_create(Qcow2w *w, const char *path, HfError *err)
{
	if (w->backing && strlen(w->backing) > 1023)
		return error_set(err, HF_ERR_INTERNAL, "backing file name of %s too long", path);
	g_free(w->path);
	w->path = g_strdup(path);
	w->md = EVP_MD_CTX_new();
	if (!w->md || EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1)
		return error_set(err, HF_ERR_INTERNAL, "SHA-256 unavailable in libcrypto");
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return error_set(err, errno == ENOSPC ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
				 "cannot create %s: %s", path, g_strerror(errno));
	/* O_DIRECT where the filesystem has it: a DR image does not push the hypervisor's
	 * page cache out, and the writes are not held up by its reclaim */
	int fl = fcntl(w->fd, F_GETFL);
	w->direct = fl >= 0 && fcntl(w->fd, F_SETFL, fl | O_DIRECT) == 0;
	w->bounce = aligned_alloc(ALIGN, BOUNCE);
	g_autofree uint8_t *buf = aligned_alloc(ALIGN, META_BATCH * CS);
	if (!w->bounce || !buf)
		return error_set(err, HF_ERR_INTERNAL, "out of memory for %s", path);
	for (uint64_t i = 0; i < w->data_off; i += META_BATCH) {
		uint64_t n = MIN(META_BATCH, w->data_off - i);
		for (uint64_t j = 0; j < n; j++)
			fill_meta(w, i + j, buf + j * CS);
		if (put(w, buf, n * CS, err) < 0)
			return -1;
	}
	return 0;
}

/* Is [offset, offset+len) the next span of DATA clusters after cluster index `next`? */
static int check_span(const Qcow2w *w, uint64_t next, uint64_t offset, size_t len, HfError *err)
{
	uint64_t at = next < w->ncl ? next * CS : w->size;
	if (w->fd < 0 || offset != at || offset >= w->size || !len)
		return error_set(err, HF_ERR_INTERNAL,
				 "qcow2 writer of %s: data at %" G_GUINT64_FORMAT
				 " (+%zu) out of order (next %" G_GUINT64_FORMAT ")",
				 w->path, offset, len, at);
	uint64_t c = offset / CS, end = offset + len;
	for (uint64_t o = offset; o < end; o += CS, c++)
		if (c >= w->ncl || w->map[c] != QCOW2W_DATA)
			return error_set(err, HF_ERR_INTERNAL,
					 "qcow2 writer of %s: cluster at %" G_GUINT64_FORMAT
					 " is not a data cluster",
					 w->path, o);
	if (end % CS && end != w->size)
		return error_set(
		    err, HF_ERR_INTERNAL,
		    "qcow2 writer of %s: data ends inside a cluster (%" G_GUINT64_FORMAT ")",
		    w->path, end);
	return 0;
}

static const uint8_t zero_pad[4096];

int qcow2w_hash(Qcow2w *w, uint64_t offset, const void *buf, size_t len, HfError *err)
{
	if (check_span(w, w->hnext, offset, len, err) < 0 || digest(w, buf, len, err) < 0)
		return -1;
	uint64_t end = offset + len;
	for (uint64_t pad = end % CS ? CS - end % CS : 0; pad;) { /* the disk's short end */
		size_t n = MIN(pad, sizeof(zero_pad));
		if (digest(w, zero_pad, n, err) < 0)
			return -1;
		pad -= n;
	}
	w->hnext = next_data(w, (end + CS - 1) / CS);
	return 0;
}

int qcow2w_append(Qcow2w *w, uint64_t offset, const void *buf, size_t len, HfError *err)
{
	uint64_t end = offset + len, tail = end % CS;
	if (check_span(w, w->next, offset, len, err) < 0 ||
	    (len > tail && put_raw(w, buf, len - tail, err) < 0))
		return -1;
	if (tail) { /* the disk's short last cluster, written whole with zero padding */
		memcpy(w->bounce, (const uint8_t *)buf + len - tail, tail);
		memset(w->bounce + tail, 0, CS - tail);
		if (put_raw(w, w->bounce, CS, err) < 0)
			return -1;
	}
	w->next = next_data(w, (end + CS - 1) / CS);
	return 0;
}

int qcow2w_write(Qcow2w *w, uint64_t offset, const void *buf, size_t len, HfError *err)
{
	if (qcow2w_hash(w, offset, buf, len, err) < 0)
		return -1;
	return qcow2w_append(w, offset, buf, len, err);
}

int qcow2w_finish(Qcow2w *w, char sha256[65], HfError *err)
{
	if (w->fd < 0 || w->next < w->ncl || w->hnext < w->ncl)
		return error_set(err, HF_ERR_INTERNAL,
				 "qcow2 writer of %s: finished before all data was written",
				 w->path);
	if (fsync(w->fd) < 0) {
		int e = errno;
		return error_set(err, e == ENOSPC ? HF_ERR_NO_SPACE : HF_ERR_FAILED,
				 "cannot fsync %s: %s", w->path, g_strerror(e));
	}
	int rc = close(w->fd);
	w->fd = -1;
	if (rc < 0)
		return error_set(err, HF_ERR_FAILED, "cannot close %s: %s", w->path,
				 g_strerror(errno));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (EVP_DigestFinal_ex(w->md, md, &n) != 1 || n != 32)
		return error_set(err, HF_ERR_INTERNAL, "SHA-256 of %s failed in libcrypto",
				 w->path);
	for (unsigned i = 0; i < n; i++)
		g_snprintf(sha256 + 2 * i, 3, "%02x", md[i]);
	return 0;
}
