/* hyperv.c - the Hyper-V driver: URI and [host] keys, credentials, connection check, guests and
 * their KVP data. Checkpoints and DR export are in hyperv_snapshot.c; the WS-Man client in
 * wsman.c. See hyperv.h for the keys and the duplicate-name rule. */
#include "hyperv.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define VM_FILTER "Description=\"Microsoft Virtual Machine\""
#define KNOWN_KEYS                                                                                 \
	"uri, guests, max-jobs, auth, credentials, ca-file, pinned-key, allow-unencrypted, "       \
	"job-timeout, export-path, batch"

/* ---- config ---- */

static bool probe(const char *uri)
{
	return uri && g_str_has_prefix(uri, "hyperv://");
}

static int parse_uri(const char *uri, char **host, int *port, HfError *err)
{
	const char *p = uri + strlen("hyperv://");
	const char *end = p + strcspn(p, "/?#");
	const char *colon = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			goto bad;
		*host = g_strndup(p, (size_t)(rb - p + 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		*host = g_strndup(p, (size_t)((colon ? colon : end) - p));
	}
	if (!**host || strchr(*host, '@')) {
		g_clear_pointer(host, g_free);
		goto bad;
	}
	*port = 0;
	if (colon) {
		char *e = NULL;
		long v = strtol(colon + 1, &e, 10);
		if (e != end || v < 1 || v > 65535) {
			g_clear_pointer(host, g_free);
			goto bad;
		}
		*port = (int)v;
	}
	return 0;
bad:
	return error_set(err, HF_ERR_CONFIG,
			 "bad Hyper-V URI '%s': use hyperv://HOST[:PORT] (no user name: put it in "
			 "the credentials file)",
			 uri);
}

static bool is_true(const char *v)
{
	return v && (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"));
}

static int int_key(const char *key, const char *v, long lo, long hi, long *out, HfError *err)
{
	char *e = NULL;
	long x = v ? strtol(v, &e, 10) : 0;
	if (!v || !*v || *e || x < lo || x > hi)
		return error_set(err, HF_ERR_CONFIG, "%s must be an integer %ld..%ld, not '%s'",
				 key, lo, hi, v ? v : "");
	if (out)
		*out = x;
	return 0;
}

static int config_key(const char *key, const char *v, HfError *err)
{
	if (!v)
		v = "";
	if (!strcmp(key, "auth")) {
		if (strcmp(v, "basic") && strcmp(v, "ntlm") && strcmp(v, "negotiate"))
			return error_set(err, HF_ERR_CONFIG,
					 "auth must be basic, ntlm or negotiate, not '%s'", v);
	} else if (!strcmp(key, "credentials") || !strcmp(key, "ca-file")) {
		if (v[0] != '/')
			return error_set(err, HF_ERR_CONFIG,
					 "%s must be an absolute path, not '%s'", key, v);
	} else if (!strcmp(key, "pinned-key")) {
		const char *b = v + strlen("sha256//");
		if (!g_str_has_prefix(v, "sha256//") || strlen(b) != 44 ||
		    strspn(b,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
			44)
			return error_set(
			    err, HF_ERR_CONFIG,
			    "pinned-key must be sha256// and the base64 SHA-256 of the "
			    "host's public key (44 characters), e.g. from `openssl x509 "
			    "-pubkey -noout | openssl pkey -pubin -outform der | openssl "
			    "dgst -sha256 -binary | base64`");
	} else if (!strcmp(key, "allow-unencrypted")) {
		if (strcmp(v, "true") && strcmp(v, "false"))
			return error_set(err, HF_ERR_CONFIG,
					 "allow-unencrypted must be true or false, not '%s'", v);
	} else if (!strcmp(key, "job-timeout")) {
		return int_key(key, v, 1, 86400, NULL, err);
	} else if (!strcmp(key, "batch")) {
		return int_key(key, v, 0, 1000, NULL, err);
	} else if (!strcmp(key, "export-path")) {
		if (!*v)
			return error_set(err, HF_ERR_CONFIG, "export-path must not be empty");
	} else {
		return error_set(err, HF_ERR_CONFIG, "unknown key for a Hyper-V host (known: %s)",
				 KNOWN_KEYS);
	}
	return 0;
}

/* The credentials file: `user:password` on one line, or the user and the password on two. */
static int read_credentials(const char *path, char **user, char **password, HfError *err)
{
	struct stat st;
	g_autofree char *text = NULL;
	gsize len = 0;
	if (stat(path, &st) < 0)
		return error_set(err, HF_ERR_CONFIG, "credentials file %s: %s", path,
				 g_strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error_set(err, HF_ERR_CONFIG, "credentials file %s is not a regular file",
				 path);
	if (st.st_mode & 077)
		return error_set(err, HF_ERR_CONFIG,
				 "credentials file %s is readable by group or others (mode %04o): "
				 "refusing it; run `chmod 600 %s`",
				 path, (unsigned)(st.st_mode & 07777), path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return error_set(err, HF_ERR_CONFIG,
				 "credentials file %s must be owned by root or the daemon's user "
				 "(uid %u), not uid %u",
				 path, (unsigned)geteuid(), (unsigned)st.st_uid);
	if (!g_file_get_contents(path, &text, &len, NULL) || len > 4096)
		return error_set(err, HF_ERR_CONFIG, "credentials file %s cannot be read", path);
	g_auto(GStrv) lines = g_strsplit(text, "\n", 3);
	for (char **l = lines; *l; l++)
		g_strchomp(*l); /* \r\n and trailing blanks */
	const char *first = lines[0] ? lines[0] : "";
	const char *second = lines[0] && lines[1] ? lines[1] : "";
	const char *colon = strchr(first, ':');
	if (*second) {
		*user = g_strdup(first);
		*password = g_strdup(second);
	} else if (colon && colon != first) {
		*user = g_strndup(first, (size_t)(colon - first));
		*password = g_strdup(colon + 1);
	} else {
		memset(text, 0, len);
		return error_set(err, HF_ERR_CONFIG,
				 "credentials file %s: expected `user:password` or the user and "
				 "the password on two lines",
				 path);
	}
	memset(text, 0, len);
	return 0;
}

/* ---- connection ---- */

int hyperv_fail(HvConn *c, HfError *err)
{
	if (err && !strcmp(err->code, HF_ERR_HOST_UNREACHABLE))
		g_atomic_int_set(&c->dead, 1);
	return -1;
}

static void hv_close(DrvConn *dc)
{
	HvConn *c = hv_conn(dc);
	wsman_client_free(c->ws);
	g_free(c->host);
	g_free(c->host_name);
	g_free(c->export_path);
	g_free(c->base.uri);
	g_free(c);
}

static bool hv_alive(DrvConn *dc)
{
	return !g_atomic_int_get(&hv_conn(dc)->dead);
}

static int hv_open(const char *uri, GHashTable *options, const DrvCallbacks *cb, unsigned flags,
		   DrvConn **out, HfError *err)
{
	g_autofree char *host = NULL, *user = NULL, *password = NULL, *url = NULL;
	GHashTableIter it;
	gpointer k, v;
	int port;
	long timeout = 600, batch = 100, auth = CURLAUTH_BASIC;

	if (parse_uri(uri, &host, &port, err) < 0)
		return -1;
	if (options) {
		g_hash_table_iter_init(&it, options);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (config_key(k, v, err) < 0) {
				error_prefix(err, "[host] %s", (const char *)k);
				return -1;
			}
	}
#define OPT(name) (options ? (const char *)g_hash_table_lookup(options, name) : NULL)
	bool plain = is_true(OPT("allow-unencrypted"));
	const char *creds = OPT("credentials"), *jt = OPT("job-timeout"), *b = OPT("batch");
	const char *a = OPT("auth");
	if (jt)
		timeout = strtol(jt, NULL, 10);
	if (b)
		batch = strtol(b, NULL, 10);
	if (a && !strcmp(a, "ntlm"))
		auth = CURLAUTH_NTLM;
	else if (a && !strcmp(a, "negotiate"))
		auth = CURLAUTH_NEGOTIATE;
	if (creds && read_credentials(creds, &user, &password, err) < 0)
		return -1;
	if (plain)
		hf_log("hf-hyperv", LOG_LVL_WARNING,
		       "host %s: allow-unencrypted=true: WS-Man over plain HTTP, credentials and "
		       "data are readable on the network; use HTTPS (port 5986) in production",
		       host);
	url = g_strdup_printf("%s://%s:%d/wsman", plain ? "http" : "https", host,
			      port    ? port
			      : plain ? 5985
				      : 5986);
	WsmanConfig wc = {
	    .host = host,
	    .url = url,
	    .user = user,
	    .password = password,
	    .auth = auth,
	    .cred_file = creds,
	    .ca_file = OPT("ca-file"),
	    .pinned_key = OPT("pinned-key"),
	    .batch = (unsigned)batch,
	    .timeout_s = 60,
	};
	HvConn *c = g_new0(HvConn, 1);
	c->base.drv = &drv_hyperv;
	c->base.uri = g_strdup(uri);
	c->ws = wsman_client_new(&wc);
	c->host = g_strdup(host);
	c->export_path = g_strdup(OPT("export-path"));
	c->job_timeout = (int)timeout;
#undef OPT
	if (password)
		memset(password, 0, strlen(password));

	/* Connection check: the host's own Msvm_ComputerSystem (bad password, TLS, v2 namespace).
	 */
	g_autoptr(GPtrArray) hosts = NULL;
	if (wsman_enumerate(c->ws,
			    "SELECT * FROM Msvm_ComputerSystem WHERE Description <> \"Microsoft "
			    "Virtual Machine\"",
			    "connecting", &hosts, err) < 0) {
		hv_close(&c->base);
		return -1;
	}
	const char *name = hosts->len ? wsman_inst_get(hosts->pdata[0], "Name") : NULL;
	c->host_name = g_strdup(name ? name : host);
	hf_log("hf-hyperv", LOG_LVL_INFO, "connected to Hyper-V host %s (%s) at %s as %s", host,
	       c->host_name, url, user ? user : "(no credentials)");
	*out = &c->base;
	return 0;
}

/* ---- guests ---- */

DrvGuestState hyperv_state(long long s)
{
	switch (s) {
	case 2:
		return DRV_STATE_RUNNING;
	case 3:
		return DRV_STATE_SHUTOFF;
	case 4:
		return DRV_STATE_SHUTDOWN;
	case 6:
		return DRV_STATE_SAVED;
	case 9:
		return DRV_STATE_PAUSED;
	case 10:
		return DRV_STATE_RUNNING; /* starting */
	default:
		return DRV_STATE_UNKNOWN;
	}
}

int64_t hyperv_datetime(const char *s)
{
	if (!s)
		return 0;
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(s, NULL);
	if (!dt && strlen(s) >= 14 && strspn(s, "0123456789") >= 14) { /* DMTF yyyymmddHHMMSS */
		int f[6] = {0};
		sscanf(s, "%4d%2d%2d%2d%2d%2d", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]);
		dt = g_date_time_new_utc(f[0], f[1], f[2], f[3], f[4], f[5]);
	}
	return dt ? g_date_time_to_unix(dt) : 0;
}

GHashTable *hyperv_kvp_items(const GPtrArray *items)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; items && i < items->len; i++) {
		HfError e = {0};
		if (!items->pdata[i])
			continue;
		g_autoptr(GHashTable) p = wsman_embedded_parse(items->pdata[i], NULL, &e);
		const char *name = p ? g_hash_table_lookup(p, "name") : NULL;
		if (name && *name)
			g_hash_table_replace(t, g_strdup(name),
					     g_strdup(g_hash_table_lookup(p, "data")));
	}
	return t;
}

/* OS id from KVP: 6.0 / 6.1 server products are 2008 / 2008 R2 (ProductType 1 = client). */
static void guest_os(DrvGuest *g, GHashTable *kvp)
{
	const char *ver = kvp ? g_hash_table_lookup(kvp, "OSVersion") : NULL;
	const char *pt = kvp ? g_hash_table_lookup(kvp, "ProductType") : NULL;
	if (!ver)
		return;
	bool server = !pt || strcmp(pt, "1") != 0;
	if (g_str_has_prefix(ver, "6.0."))
		g->os_id = g_strdup(server ? "http://microsoft.com/win/2k8"
					   : "http://microsoft.com/win/vista");
	else if (g_str_has_prefix(ver, "6.1."))
		g->os_id = g_strdup(server ? "http://microsoft.com/win/2k8r2"
					   : "http://microsoft.com/win/7");
	else
		g->os_id = g_strdup_printf("windows-%s", ver);
	g->os_source = g_strdup("hyperv-kvp");
	g->win2008 = drv_os_is_win2008(g->os_id);
}

static DrvGuest *guest_from(const WsmanInst *vm, GHashTable *kvp)
{
	DrvGuest *g = drv_guest_new();
	long long st = 0;
	g->name = g_strdup(wsman_inst_get(vm, "ElementName"));
	g->uuid = g_strdup(wsman_inst_get(vm, "Name"));
	g->state = wsman_inst_int(vm, "EnabledState", &st) ? hyperv_state(st) : DRV_STATE_UNKNOWN;
	g->persistent = true;
	guest_os(g, kvp);
	return g;
}

/* vCPUs and memory from the VM's own Msvm_ProcessorSettingData / Msvm_MemorySettingData
 * (VirtualQuantity: processors; MiB of startup memory). Their InstanceID is
 * "Microsoft:<VM GUID>\\..."; checkpoints' and templates' carry other GUIDs. */
static const char *rasd_vm(const WsmanInst *in)
{
	const char *iid = wsman_inst_get(in, "InstanceID");
	return iid && g_str_has_prefix(iid, "Microsoft:") ? iid + strlen("Microsoft:") : NULL;
}

static void resources_apply(DrvGuest *g, const GPtrArray *cpus, const GPtrArray *mems)
{
	g_autofree char *prefix = g_strdup_printf("%s\\", g->uuid);
	long long v;
	for (guint i = 0; cpus && i < cpus->len; i++) {
		const char *id = rasd_vm(cpus->pdata[i]);
		if (id && !g_ascii_strncasecmp(id, prefix, strlen(prefix)) &&
		    wsman_inst_int(cpus->pdata[i], "VirtualQuantity", &v) && v > 0)
			g->vcpus = (unsigned)v;
	}
	for (guint i = 0; mems && i < mems->len; i++) {
		const char *id = rasd_vm(mems->pdata[i]);
		if (id && !g_ascii_strncasecmp(id, prefix, strlen(prefix)) &&
		    wsman_inst_int(mems->pdata[i], "VirtualQuantity", &v) && v > 0)
			g->memory_kib = (uint64_t)v * 1024;
	}
}

/* The resource settings of one VM (guid) or, guid NULL, of every VM. */
static int resources_of(HvConn *c, const char *guid, GPtrArray **cpus, GPtrArray **mems,
			HfError *err)
{
	g_autofree char *like = NULL;
	if (guid) {
		g_autofree char *pat = g_strdup_printf("Microsoft:%s\\%%", guid);
		g_autofree char *q = wsman_wql_quote(pat);
		like = g_strdup_printf(" WHERE InstanceID LIKE %s", q);
	}
	g_autofree char *wc =
	    g_strdup_printf("SELECT * FROM Msvm_ProcessorSettingData%s", like ? like : "");
	g_autofree char *wm =
	    g_strdup_printf("SELECT * FROM Msvm_MemorySettingData%s", like ? like : "");
	if (wsman_enumerate(c->ws, wc, "reading the virtual processors", cpus, err) < 0 ||
	    wsman_enumerate(c->ws, wm, "reading the memory settings", mems, err) < 0)
		return hyperv_fail(c, err);
	return 0;
}

static int kvp_of(HvConn *c, const char *guid, const char *guest, GHashTable **out, HfError *err)
{
	g_autofree char *q = wsman_wql_quote(guid);
	g_autofree char *wql = g_strdup_printf(
	    "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name=%s} "
	    "WHERE AssocClass=Msvm_SystemDevice ResultClass=Msvm_KvpExchangeComponent",
	    q);
	g_autofree char *what = g_strdup_printf("reading KVP data of guest '%s'", guest);
	g_autoptr(GPtrArray) comps = NULL;
	if (wsman_enumerate(c->ws, wql, what, &comps, err) < 0)
		return hyperv_fail(c, err);
	*out = hyperv_kvp_items(
	    comps->len ? wsman_inst_values(comps->pdata[0], "GuestIntrinsicExchangeItems") : NULL);
	return 0;
}

WsmanInst *hyperv_vm(HvConn *c, const char *guest, HfError *err)
{
	g_autofree char *q = wsman_wql_quote(guest);
	g_autofree char *wql = g_strdup_printf(
	    "SELECT * FROM Msvm_ComputerSystem WHERE " VM_FILTER " AND ElementName=%s", q);
	g_autofree char *what = g_strdup_printf("looking up guest '%s'", guest);
	g_autoptr(GPtrArray) vms = NULL;
	if (wsman_enumerate(c->ws, wql, what, &vms, err) < 0) {
		hyperv_fail(c, err);
		return NULL;
	}
	/* WQL compares case-insensitively; guest names are exact. */
	for (guint i = vms->len; i-- > 0;)
		if (g_strcmp0(wsman_inst_get(vms->pdata[i], "ElementName"), guest))
			g_ptr_array_remove_index(vms, i);
	if (vms->len == 0) {
		error_set(err, HF_ERR_NOT_FOUND, "guest '%s' not found on Hyper-V host %s", guest,
			  c->host);
		return NULL;
	}
	if (vms->len > 1) {
		g_autoptr(GString) ids = g_string_new(NULL);
		for (guint i = 0; i < vms->len; i++)
			g_string_append_printf(ids, "%s%s", i ? ", " : "",
					       wsman_inst_get(vms->pdata[i], "Name"));
		error_set(
		    err, HF_ERR_CONFLICT,
		    "guest name '%s' is used by %u virtual machines on Hyper-V host %s (%s): "
		    "holdfast addresses guests by name; rename all but one in Hyper-V Manager",
		    guest, vms->len, c->host, ids->str);
		return NULL;
	}
	return g_ptr_array_steal_index(vms, 0);
}

WsmanRef *hyperv_vm_ref(HvConn *c, const char *guid, HfError *err)
{
	g_autofree char *q = wsman_wql_quote(guid);
	g_autofree char *wql =
	    g_strdup_printf("SELECT * FROM Msvm_ComputerSystem WHERE Name=%s", q);
	g_autoptr(GPtrArray) eprs = NULL;
	if (wsman_enumerate_epr(c->ws, wql, "looking up a virtual machine's reference", &eprs,
				err) < 0) {
		hyperv_fail(c, err);
		return NULL;
	}
	if (eprs->len && wsman_ref_selector(eprs->pdata[0], "Name"))
		return g_ptr_array_steal_index(eprs, 0);
	return wsman_ref_new(WSMAN_V2 "Msvm_ComputerSystem", "CreationClassName",
			     "Msvm_ComputerSystem", "Name", guid, NULL);
}

static int hv_guest_list(DrvConn *dc, unsigned flags, GPtrArray **out, HfError *err)
{
	HvConn *c = hv_conn(dc);
	g_autoptr(GPtrArray) vms = NULL, comps = NULL, cpus = NULL, mems = NULL;
	if (wsman_enumerate(c->ws, "SELECT * FROM Msvm_ComputerSystem WHERE " VM_FILTER,
			    "listing virtual machines", &vms, err) < 0 ||
	    wsman_enumerate(c->ws, "SELECT * FROM Msvm_KvpExchangeComponent",
			    "reading KVP data of the virtual machines", &comps, err) < 0)
		return hyperv_fail(c, err);
	if (resources_of(c, NULL, &cpus, &mems, err) < 0)
		return -1;
	g_autoptr(GHashTable) kvp = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							  (GDestroyNotify)g_hash_table_unref);
	for (guint i = 0; i < comps->len; i++) {
		const char *sys = wsman_inst_get(comps->pdata[i], "SystemName");
		if (sys)
			g_hash_table_replace(kvp, g_ascii_strup(sys, -1),
					     hyperv_kvp_items(wsman_inst_values(
						 comps->pdata[i], "GuestIntrinsicExchangeItems")));
	}
	g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *gs = g_ptr_array_new_with_free_func((GDestroyNotify)drv_guest_free);
	for (guint i = 0; i < vms->len; i++) {
		const char *name = wsman_inst_get(vms->pdata[i], "ElementName");
		const char *id = wsman_inst_get(vms->pdata[i], "Name");
		if (!name || !id)
			continue;
		g_autofree char *key = g_ascii_strup(id, -1);
		DrvGuest *dup = g_hash_table_lookup(by_name, name);
		if (dup) { /* see hyperv.h: listed once, operations refuse it */
			char *d = g_strdup_printf("%s, %s", dup->description, id);
			g_free(dup->description);
			dup->description = d;
			dup->state = DRV_STATE_UNKNOWN;
			continue;
		}
		DrvGuest *g = guest_from(vms->pdata[i], g_hash_table_lookup(kvp, key));
		resources_apply(g, cpus, mems);
		g->description = g_strdup_printf("Hyper-V VM %s", id);
		g_hash_table_insert(by_name, g->name, g);
		g_ptr_array_add(gs, g);
	}
	for (guint i = 0; i < gs->len; i++) {
		DrvGuest *g = gs->pdata[i];
		if (strchr(g->description, ',')) {
			char *d = g_strdup_printf("duplicate name: VMs %s share it; rename all but "
						  "one in Hyper-V Manager to manage them",
						  g->description + strlen("Hyper-V VM "));
			g_free(g->description);
			g->description = d;
		} else {
			g_clear_pointer(&g->description, g_free);
		}
	}
	*out = gs;
	return 0;
}

static int hv_guest_get(DrvConn *dc, const char *guest, unsigned flags, DrvGuest **out,
			HfError *err)
{
	HvConn *c = hv_conn(dc);
	g_autoptr(WsmanInst) vm = hyperv_vm(c, guest, err);
	g_autoptr(GHashTable) kvp = NULL;
	g_autoptr(GPtrArray) cpus = NULL, mems = NULL;
	if (!vm || kvp_of(c, wsman_inst_get(vm, "Name"), guest, &kvp, err) < 0 ||
	    resources_of(c, wsman_inst_get(vm, "Name"), &cpus, &mems, err) < 0)
		return -1;
	*out = guest_from(vm, kvp);
	resources_apply(*out, cpus, mems);
	return 0;
}

static int hv_guest_kvp(DrvConn *dc, const char *guest, unsigned flags, GHashTable **items,
			HfError *err)
{
	HvConn *c = hv_conn(dc);
	g_autoptr(WsmanInst) vm = hyperv_vm(c, guest, err);
	if (!vm)
		return -1;
	return kvp_of(c, wsman_inst_get(vm, "Name"), guest, items, err);
}

const DrvDriver drv_hyperv = {
    .name = "hyperv",
    .caps = DRV_CAP_SELF_QUIESCE,
    .probe = probe,
    .open = hv_open,
    .config_key = config_key,
    .close = hv_close,
    .alive = hv_alive,
    .guest_list = hv_guest_list,
    .guest_get = hv_guest_get,
    .snapshot_list = hyperv_snapshot_list,
    .snapshot_create = hyperv_snapshot_create,
    .snapshot_revert = hyperv_snapshot_revert,
    .snapshot_delete = hyperv_snapshot_delete,
    .guest_kvp = hv_guest_kvp,
    .export_full = hyperv_export_full,
};
