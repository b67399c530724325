/* hosts.c - host connections, reconnects and the guest inventory cache. */
#include "hosts.h"

#include <gio/gio.h>
#include <string.h>

#include "log.h"

#define HOSTS_REFRESH_S 30
#define HOSTS_BACKOFF_MAX_S 60

struct HostConn {
	gint ref;
	Host *host;
	DrvConn *drv;
	DrvCallbacks cb;
};

struct Host {
	gint ref;
	char *name, *uri;
	CfgHost filter; /* name, uri unused; globs, tag, max_jobs */
	GHashTable *options; /* driver-specific [host] keys */
	GMutex lock;    /* protects state, error, conn, guests */
	HostState state;
	char *error;
	HostConn *conn;
	GHashTable *guests; /* name -> DrvGuest* */
	/* main thread only */
	bool removed, connecting, refreshing, full_refresh;
	bool connected_once; /* set on the main thread, read by the (sequential) connect thread */
	guint retry_source, periodic_source, backoff;
	GHashTable *dirty; /* guest names to refresh */
};

struct Hosts {
	GPtrArray *list; /* Host* */
};

static void host_connect(Host *h);
static HostsConnectHook connect_hook;

void hosts_set_connect_hook(HostsConnectHook fn)
{
	connect_hook = fn;
}

Host *host_ref(Host *h)
{
	g_atomic_int_inc(&h->ref);
	return h;
}

void host_unref(Host *h)
{
	if (!g_atomic_int_dec_and_test(&h->ref))
		return;
	g_free(h->name);
	g_free(h->uri);
	g_strfreev(h->filter.globs);
	g_free(h->filter.tag);
	if (h->options)
		g_hash_table_unref(h->options);
	g_free(h->error);
	g_hash_table_unref(h->guests);
	g_hash_table_unref(h->dirty);
	g_mutex_clear(&h->lock);
	g_free(h);
}

HostConn *host_conn_get(Host *h, HfError *err)
{
	HostConn *hc = NULL;
	g_mutex_lock(&h->lock);
	if (h->conn && h->state == HOST_CONNECTED) {
		hc = h->conn;
		g_atomic_int_inc(&hc->ref);
	} else
		error_set(err, HF_ERR_HOST_UNREACHABLE,
			  "host '%s' (%s) is unreachable%s%s; holdfastd keeps reconnecting",
			  h->name, h->uri, h->error ? ": " : "", h->error ? h->error : "");
	g_mutex_unlock(&h->lock);
	return hc;
}

DrvConn *host_conn_drv(HostConn *hc)
{
	return hc->drv;
}

void host_conn_put(HostConn *hc)
{
	if (!hc || !g_atomic_int_dec_and_test(&hc->ref))
		return;
	drv_close(hc->drv);
	host_unref(hc->host);
	g_free(hc);
}

const char *host_name(const Host *h)
{
	return h->name;
}
const char *host_uri(const Host *h)
{
	return h->uri;
}
int host_max_jobs(const Host *h)
{
	return h->filter.max_jobs;
}

const char *host_state_name(HostState s)
{
	return s == HOST_CONNECTED ? "connected" : s == HOST_CONNECTING ? "connecting"
									   : "unreachable";
}

HostState host_state(Host *h, char **error)
{
	g_mutex_lock(&h->lock);
	HostState s = h->state;
	if (error)
		*error = g_strdup(h->error);
	g_mutex_unlock(&h->lock);
	return s;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	const DrvGuest *x = *(DrvGuest *const *)a, *y = *(DrvGuest *const *)b;
	return strcmp(x->name, y->name);
}

GPtrArray *host_guests(Host *h)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)drv_guest_free);
	GHashTableIter it;
	gpointer v;
	g_mutex_lock(&h->lock);
	g_hash_table_iter_init(&it, h->guests);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(out, drv_guest_copy(v));
	g_mutex_unlock(&h->lock);
	g_ptr_array_sort(out, by_name);
	return out;
}

DrvGuest *host_guest(Host *h, const char *name)
{
	g_mutex_lock(&h->lock);
	DrvGuest *g = g_hash_table_lookup(h->guests, name);
	DrvGuest *c = g ? drv_guest_copy(g) : NULL;
	g_mutex_unlock(&h->lock);
	return c;
}

/* ---- state changes (main thread) ---- */

static gboolean retry_cb(gpointer data)
{
	Host *h = data;
	h->retry_source = 0;
	host_connect(h);
	return G_SOURCE_REMOVE;
}

static void schedule_retry(Host *h)
{
	if (h->removed || h->retry_source)
		return;
	h->retry_source = g_timeout_add_seconds(h->backoff, retry_cb, h);
	h->backoff = MIN(h->backoff * 2, HOSTS_BACKOFF_MAX_S);
}

static void set_unreachable(Host *h, const char *why)
{
	g_mutex_lock(&h->lock);
	HostConn *old = h->conn;
	bool changed = h->state != HOST_UNREACHABLE || g_strcmp0(h->error, why);
	h->conn = NULL;
	h->state = HOST_UNREACHABLE;
	g_free(h->error);
	h->error = g_strdup(why);
	g_mutex_unlock(&h->lock);
	host_conn_put(old);
	hf_log("hf-hosts", changed ? LOG_LVL_WARNING : LOG_LVL_DEBUG,
	       "host %s (%s) unreachable: %s; retrying in %u s", h->name, h->uri, why, h->backoff);
	schedule_retry(h);
}

static bool selected(Host *h, const DrvGuest *g)
{
	return config_host_selects(&h->filter, g->name, g->tags);
}

/* Replace the whole cache (full listing) or update entries (per-guest refresh). */
static void apply_guests(Host *h, GPtrArray *guests, GPtrArray *gone, bool full)
{
	g_mutex_lock(&h->lock);
	if (full)
		g_hash_table_remove_all(h->guests);
	for (guint i = 0; gone && i < gone->len; i++)
		g_hash_table_remove(h->guests, gone->pdata[i]);
	for (guint i = 0; guests && i < guests->len; i++) {
		DrvGuest *g = guests->pdata[i];
		if (!selected(h, g)) {
			g_hash_table_remove(h->guests, g->name);
			continue;
		}
		guests->pdata[i] = NULL;
		g_hash_table_replace(h->guests, g->name, g);
	}
	g_mutex_unlock(&h->lock);
}

/* ---- driver callbacks (main thread) ---- */

static void refresh(Host *h);

static void ev_guest_changed(void *opaque, const char *guest)
{
	HostConn *hc = opaque;
	Host *h = hc->host;
	if (h->conn != hc)
		return;
	g_hash_table_add(h->dirty, g_strdup(guest));
	refresh(h);
}

static void ev_closed(void *opaque, const char *reason)
{
	HostConn *hc = opaque;
	Host *h = hc->host;
	if (h->conn != hc || h->removed)
		return;
	h->backoff = 1;
	set_unreachable(h, reason);
}

/* ---- connect ---- */

typedef struct {
	HostConn *hc;
	GPtrArray *guests;
	GPtrArray *gone;
	bool full;
	HfError err;
	int rc;
} Op;

static void op_free(Op *op)
{
	host_conn_put(op->hc);
	if (op->guests)
		g_ptr_array_unref(op->guests);
	if (op->gone)
		g_ptr_array_unref(op->gone);
	g_free(op);
}

static void connect_thread(GTask *t, gpointer src, gpointer data, GCancellable *c)
{
	Op *op = data;
	DrvConn *conn = NULL;
	op->rc = drv_open(op->hc->host->uri, op->hc->host->options, &op->hc->cb, 0, &conn, &op->err);
	op->hc->drv = conn;
	if (op->rc == 0)
		op->rc = drv_guest_list(conn, 0, &op->guests, &op->err);
	if (op->rc == 0 && connect_hook && !op->hc->host->connected_once) {
		/* the hook (kill -9 recovery of DR copies) sees this host's guests only: a guest
		 * the [host] does not select may be another holdfastd's */
		g_autoptr(GPtrArray) mine = g_ptr_array_new();
		for (guint i = 0; i < op->guests->len; i++)
			if (selected(op->hc->host, op->guests->pdata[i]))
				g_ptr_array_add(mine, op->guests->pdata[i]);
		connect_hook(conn, mine);
	}
}

static void connect_done(GObject *src, GAsyncResult *res, gpointer data)
{
	Host *h = data;
	Op *op = g_task_get_task_data(G_TASK(res));

	h->connecting = false;
	if (h->removed) {
		host_unref(h);
		return;
	}
	if (op->rc < 0) {
		set_unreachable(h, op->err.message);
		host_unref(h);
		return;
	}
	g_mutex_lock(&h->lock);
	HostConn *old = h->conn;
	h->conn = op->hc;
	op->hc = NULL;
	h->state = HOST_CONNECTED;
	h->connected_once = true;
	g_clear_pointer(&h->error, g_free);
	g_mutex_unlock(&h->lock);
	host_conn_put(old);
	apply_guests(h, op->guests, NULL, true);
	hf_log("hf-hosts", LOG_LVL_INFO, "host %s connected (%s, %u guests managed)", h->name,
	       h->uri, g_hash_table_size(h->guests));
	h->backoff = 1;
	refresh(h); /* events that came in while connecting */
	host_unref(h);
}

static void host_connect(Host *h)
{
	if (h->removed || h->connecting)
		return;
	h->connecting = true;
	Op *op = g_new0(Op, 1);
	op->hc = g_new0(HostConn, 1);
	op->hc->ref = 1;
	op->hc->host = host_ref(h);
	op->hc->cb = (DrvCallbacks){ev_guest_changed, ev_closed, op->hc};
	GTask *t = g_task_new(NULL, NULL, connect_done, host_ref(h));
	g_task_set_task_data(t, op, (GDestroyNotify)op_free);
	g_task_run_in_thread(t, connect_thread);
	g_object_unref(t);
}

/* ---- refresh ---- */

static void refresh_thread(GTask *t, gpointer src, gpointer data, GCancellable *c)
{
	Op *op = data;
	DrvConn *conn = op->hc->drv;

	if (!drv_alive(conn)) {
		op->rc = error_set(&op->err, HF_ERR_HOST_UNREACHABLE, "connection lost");
		return;
	}
	if (op->full) {
		op->rc = drv_guest_list(conn, 0, &op->guests, &op->err);
		return;
	}
	GPtrArray *names = op->gone;
	op->gone = g_ptr_array_new_with_free_func(g_free);
	op->guests = g_ptr_array_new_with_free_func((GDestroyNotify)drv_guest_free);
	for (guint i = 0; i < names->len && op->rc == 0; i++) {
		DrvGuest *g = NULL;
		HfError e = {0};
		if (drv_guest_get(conn, names->pdata[i], 0, &g, &e) == 0)
			g_ptr_array_add(op->guests, g);
		else if (!strcmp(e.code, HF_ERR_NOT_FOUND))
			g_ptr_array_add(op->gone, g_strdup(names->pdata[i]));
		else if (!strcmp(e.code, HF_ERR_HOST_UNREACHABLE))
			op->rc = error_set(&op->err, e.code, "%s", e.message);
	}
	g_ptr_array_unref(names);
}

static void refresh_done(GObject *src, GAsyncResult *res, gpointer data)
{
	Host *h = data;
	Op *op = g_task_get_task_data(G_TASK(res));

	h->refreshing = false;
	if (!h->removed && h->conn == op->hc) {
		if (op->rc < 0 && !strcmp(op->err.code, HF_ERR_HOST_UNREACHABLE))
			set_unreachable(h, op->err.message);
		else if (op->rc == 0)
			apply_guests(h, op->guests, op->gone, op->full);
		refresh(h);
	}
	host_unref(h);
}

static void refresh(Host *h)
{
	if (h->refreshing || h->removed || h->state != HOST_CONNECTED)
		return;
	if (!h->full_refresh && g_hash_table_size(h->dirty) == 0)
		return;
	Op *op = g_new0(Op, 1);
	op->hc = host_conn_get(h, NULL);
	if (!op->hc) {
		g_free(op);
		return;
	}
	op->full = h->full_refresh;
	op->gone = g_ptr_array_new_with_free_func(g_free); /* names to look up */
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, h->dirty);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(op->gone, g_strdup(k));
	g_hash_table_remove_all(h->dirty);
	if (op->full)
		g_clear_pointer(&op->gone, g_ptr_array_unref);
	h->full_refresh = false;
	h->refreshing = true;
	GTask *t = g_task_new(NULL, NULL, refresh_done, host_ref(h));
	g_task_set_task_data(t, op, (GDestroyNotify)op_free);
	g_task_run_in_thread(t, refresh_thread);
	g_object_unref(t);
}

static gboolean periodic_cb(gpointer data)
{
	Host *h = data;
	h->full_refresh = true;
	refresh(h);
	return G_SOURCE_CONTINUE;
}

/* ---- reports from workers ---- */

typedef struct {
	Host *h;
	char *guest;
	HfError err;
} Report;

static gboolean report_main(gpointer data)
{
	Report *r = data;
	Host *h = r->h;
	if (!h->removed) {
		if (!strcmp(r->err.code, HF_ERR_HOST_UNREACHABLE) && h->state == HOST_CONNECTED) {
			h->backoff = 1;
			set_unreachable(h, r->err.message);
		} else if (r->guest) {
			g_hash_table_add(h->dirty, g_strdup(r->guest));
			refresh(h);
		}
	}
	host_unref(h);
	g_free(r->guest);
	g_free(r);
	return G_SOURCE_REMOVE;
}

void host_report(Host *h, const char *guest, const HfError *err)
{
	Report *r = g_new0(Report, 1);
	r->h = host_ref(h);
	r->guest = g_strdup(guest);
	if (err)
		r->err = *err;
	g_main_context_invoke(NULL, report_main, r);
}

void host_guest_changed(Host *h, const char *guest)
{
	host_report(h, guest, NULL);
}

/* ---- the set ---- */

Hosts *hosts_new(void)
{
	Hosts *hs = g_new0(Hosts, 1);
	hs->list = g_ptr_array_new();
	return hs;
}

static void host_remove(Host *h)
{
	h->removed = true;
	if (h->retry_source)
		g_source_remove(h->retry_source);
	if (h->periodic_source)
		g_source_remove(h->periodic_source);
	h->retry_source = h->periodic_source = 0;
	g_mutex_lock(&h->lock);
	HostConn *old = h->conn;
	h->conn = NULL;
	g_mutex_unlock(&h->lock);
	host_conn_put(old);
	host_unref(h);
}

void hosts_free(Hosts *hs)
{
	if (!hs)
		return;
	for (guint i = 0; i < hs->list->len; i++)
		host_remove(hs->list->pdata[i]);
	g_ptr_array_unref(hs->list);
	g_free(hs);
}

static void set_filter(Host *h, const CfgHost *c)
{
	g_strfreev(h->filter.globs);
	g_free(h->filter.tag);
	h->filter.globs = g_strdupv(c->globs);
	h->filter.tag = g_strdup(c->tag);
	h->filter.max_jobs = c->max_jobs;
	h->full_refresh = true;
}

static bool same_options(GHashTable *a, GHashTable *b)
{
	GHashTableIter it;
	gpointer k, v;
	if (g_hash_table_size(a) != g_hash_table_size(b))
		return false;
	g_hash_table_iter_init(&it, a);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (g_strcmp0(v, g_hash_table_lookup(b, k)))
			return false;
	return true;
}

static GHashTable *copy_options(GHashTable *o)
{
	GHashTable *c = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, o);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_insert(c, g_strdup(k), g_strdup(v));
	return c;
}

void hosts_apply(Hosts *hs, const HfConfig *cfg)
{
	for (guint i = 0; i < hs->list->len;) {
		Host *h = hs->list->pdata[i];
		const CfgHost *c = config_host(cfg, h->name);
		if (c && !strcmp(c->uri, h->uri) && same_options(c->options, h->options)) {
			set_filter(h, c);
			refresh(h);
			i++;
			continue;
		}
		hf_log("hf-hosts", LOG_LVL_INFO, "host %s removed from the configuration", h->name);
		g_ptr_array_remove_index(hs->list, i);
		host_remove(h);
	}
	for (guint i = 0; i < cfg->hosts->len; i++) {
		const CfgHost *c = cfg->hosts->pdata[i];
		if (hosts_find(hs, c->name))
			continue;
		Host *h = g_new0(Host, 1);
		h->ref = 1;
		h->name = g_strdup(c->name);
		h->uri = g_strdup(c->uri);
		h->options = copy_options(c->options);
		set_filter(h, c);
		h->full_refresh = false;
		g_mutex_init(&h->lock);
		h->state = HOST_CONNECTING;
		h->guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
						  (GDestroyNotify)drv_guest_free);
		h->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		h->backoff = 1;
		h->periodic_source = g_timeout_add_seconds(HOSTS_REFRESH_S, periodic_cb, h);
		g_ptr_array_add(hs->list, h);
		host_connect(h);
	}
}

guint hosts_count(Hosts *hs)
{
	return hs->list->len;
}

Host *hosts_nth(Hosts *hs, guint i)
{
	return hs->list->pdata[i];
}

Host *hosts_find(Hosts *hs, const char *name)
{
	for (guint i = 0; i < hs->list->len; i++)
		if (!strcmp(((Host *)hs->list->pdata[i])->name, name))
			return hs->list->pdata[i];
	return NULL;
}

static bool has_guest(Host *h, const char *name)
{
	g_mutex_lock(&h->lock);
	bool r = g_hash_table_contains(h->guests, name);
	g_mutex_unlock(&h->lock);
	return r;
}

int hosts_resolve(Hosts *hs, const char *address, Host **host, char **guest, HfError *err)
{
	const char *slash = strchr(address, '/');
	g_autoptr(GString) found = g_string_new(NULL), down = g_string_new(NULL);
	Host *match = NULL;

	if (slash) {
		g_autofree char *hn = g_strndup(address, (gsize)(slash - address));
		Host *h = hosts_find(hs, hn);
		if (!h)
			return error_set(err, HF_ERR_NOT_FOUND,
					 "host '%s' is not in the configuration", hn);
		if (!has_guest(h, slash + 1)) {
			if (host_state(h, NULL) != HOST_CONNECTED)
				return error_set(err, HF_ERR_HOST_UNREACHABLE,
						 "host '%s' (%s) is unreachable, so guest '%s' cannot "
						 "be looked up; holdfastd keeps reconnecting",
						 h->name, h->uri, slash + 1);
			return error_set(err, HF_ERR_NOT_FOUND,
					 "guest '%s' not found on host '%s' (or not selected by its "
					 "guests= setting); see `holdfast guests --all`",
					 slash + 1, h->name);
		}
		*host = h;
		*guest = g_strdup(slash + 1);
		return 0;
	}
	for (guint i = 0; i < hs->list->len; i++) {
		Host *h = hs->list->pdata[i];
		if (has_guest(h, address)) {
			g_string_append_printf(found, "%s%s", found->len ? ", " : "", h->name);
			match = h;
		} else if (host_state(h, NULL) != HOST_CONNECTED)
			g_string_append_printf(down, "%s%s", down->len ? ", " : "", h->name);
	}
	if (strchr(found->str, ','))
		return error_set(err, HF_ERR_CONFLICT,
				 "guest name '%s' exists on hosts %s: address it as HOST/NAME",
				 address, found->str);
	if (!match)
		return error_set(err, down->len ? HF_ERR_HOST_UNREACHABLE : HF_ERR_NOT_FOUND,
				 "guest '%s' not found%s%s%s; see `holdfast guests --all`", address,
				 down->len ? " (unreachable hosts, where it may be: " : "", down->str,
				 down->len ? ")" : "");
	*host = match;
	*guest = g_strdup(address);
	return 0;
}
