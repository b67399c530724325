/* libvirt.c - the libvirt driver: connection and events, error mapping, guests, guest agent.
 * Snapshots are in libvirt_snapshot.c, XML in libvirt_xml.c.
 *
 * Threads: libvirt connections are thread-safe and libvirt keeps its last error per thread, so
 * every operation can run on any worker thread. Events are dispatched by the default GLib main
 * context (the daemon calls virEventRegisterDefaultImpl() before the first open). */
#include "libvirt_priv.h"
#include "log.h"

#include <cJSON.h>
#include <errno.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

static void silent(void *opaque, virErrorPtr e)
{
	/* We report libvirt's errors ourselves, through HfError. */
}

static bool has(const char *msg, const char *word)
{
	return msg && strstr(msg, word);
}

const char *lv_error_code(const virError *e, virConnectPtr conn, const char **hint)
{
	const char *m = e->message;
	*hint = "";
	if (e->code == VIR_ERR_NO_DOMAIN || e->code == VIR_ERR_NO_DOMAIN_SNAPSHOT)
		return HF_ERR_NOT_FOUND;
	if ((e->code == VIR_ERR_SYSTEM_ERROR && e->int1 == ENOSPC) ||
	    has(m, "No space left on device")) {
		*hint = "; free space on the host storage that holds the guest's disk images";
		return HF_ERR_NO_SPACE;
	}
	if (e->code == VIR_ERR_AGENT_UNRESPONSIVE || e->code == VIR_ERR_AGENT_UNSYNCED ||
	    (e->code == VIR_ERR_ARGUMENT_UNSUPPORTED && has(m, "agent"))) {
		if (has(m, "not connected") || has(m, "not configured")) {
			*hint =
			    "; install and start the QEMU guest agent in the guest and check that "
			    "the domain has the virtio-serial channel org.qemu.guest_agent.0";
			return HF_ERR_AGENT_UNAVAILABLE;
		}
		*hint = "; the guest agent did not answer in time: check that the QEMU Guest Agent "
			"service runs in the guest and is not hung (restart it)";
		return HF_ERR_AGENT_TIMEOUT;
	}
	switch (e->code) {
	case VIR_ERR_NO_SUPPORT:
	case VIR_ERR_OPERATION_UNSUPPORTED:
	case VIR_ERR_CONFIG_UNSUPPORTED:
		return HF_ERR_UNSUPPORTED;
	case VIR_ERR_INVALID_ARG:
		return has(m, "unsupported flags") ? HF_ERR_UNSUPPORTED : HF_ERR_INVALID_PARAMS;
	case VIR_ERR_XML_ERROR:
	case VIR_ERR_XML_DETAIL:
		return HF_ERR_INVALID_PARAMS;
	case VIR_ERR_OPERATION_INVALID:
	case VIR_ERR_SNAPSHOT_REVERT_RISKY:
		return HF_ERR_CONFLICT;
	case VIR_ERR_OPERATION_TIMEOUT:
		*hint = "; another operation holds the guest (a job in progress?): retry later";
		return HF_ERR_TIMEOUT;
	case VIR_ERR_OPERATION_FAILED:
		if (has(m, "already exists"))
			return HF_ERR_CONFLICT;
		break;
	default:
		break;
	}
	if (e->code == VIR_ERR_RPC || e->code == VIR_ERR_NO_CONNECT ||
	    e->code == VIR_ERR_INVALID_CONN || e->domain == VIR_FROM_RPC ||
	    e->domain == VIR_FROM_REMOTE ||
	    (e->code == VIR_ERR_SYSTEM_ERROR && conn && virConnectIsAlive(conn) != 1))
		return HF_ERR_HOST_UNREACHABLE;
	return HF_ERR_FAILED;
}

/* The advice for an unreachable host, the same from open() and from a failed call. */
static char *unreachable_hint(const char *uri)
{
	return g_strdup_printf("; is libvirtd running? check `virsh -c %s version`", uri);
}

int lv_error(HfError *err, LvConn *c, const char *guest, const char *snap, const char *action)
{
	/* a copy: lv_error_code may call the API (virConnectIsAlive), which resets the error */
	g_autoptr(virError) e = virSaveLastError();
	const char *uri = c->base.uri;
	const char *hint = "";
	const char *code = e ? lv_error_code(e, c->conn, &hint) : HF_ERR_FAILED;
	const char *why = e && e->message ? e->message : "unknown libvirt error";
	g_autofree char *h =
	    !strcmp(code, HF_ERR_HOST_UNREACHABLE) ? unreachable_hint(uri) : g_strdup(hint);

	if (!strcmp(code, HF_ERR_NOT_FOUND) && e->code == VIR_ERR_NO_DOMAIN && guest)
		error_set(err, code, "guest '%s' not found on host %s", guest, uri);
	else if (!strcmp(code, HF_ERR_NOT_FOUND) && snap)
		error_set(err, code, "snapshot '%s' of guest '%s' not found on host %s", snap,
			  guest, uri);
	else if (snap)
		error_set(err, code, "%s snapshot '%s' of guest '%s' on host %s: %s%s", action,
			  snap, guest, uri, why, h);
	else if (guest)
		error_set(err, code, "%s guest '%s' on host %s: %s%s", action, guest, uri, why, h);
	else
		error_set(err, code, "%s on host %s: %s%s", action, uri, why, h);
	virResetLastError();
	return -1;
}

/* ---- connection ---- */

static LvEvents *events_ref(LvEvents *ev)
{
	g_atomic_int_inc(&ev->ref);
	return ev;
}

static void events_unref(void *p)
{
	LvEvents *ev = p;
	if (ev && g_atomic_int_dec_and_test(&ev->ref)) {
		g_rec_mutex_clear(&ev->lock);
		g_free(ev->uri);
		g_free(ev);
	}
}

/* Call the daemon unless close() has begun (the lock makes close() wait for a running call).
 * guest: a guest changed; else the connection closed for reason. Main thread only. */
static void events_notify(LvEvents *ev, const char *guest, const char *reason)
{
	g_rec_mutex_lock(&ev->lock);
	if (!ev->closing) {
		if (guest && ev->cb.guest_changed)
			ev->cb.guest_changed(ev->cb.opaque, guest);
		else if (!guest && ev->cb.closed)
			ev->cb.closed(ev->cb.opaque, reason);
	}
	g_rec_mutex_unlock(&ev->lock);
}

/* Domain events arrive on the GLib main loop (libvirt's default event implementation). */
static void on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	events_notify(opaque, virDomainGetName(dom), NULL);
}

static void on_metadata(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri,
			void *opaque)
{
	events_notify(opaque, virDomainGetName(dom), NULL);
}

static void on_device(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
	events_notify(opaque, virDomainGetName(dom), NULL);
}

typedef struct {
	LvEvents *ev;
	char *msg;
} Closed;

static void closed_free(void *p)
{
	Closed *cl = p;
	events_unref(cl->ev);
	g_free(cl->msg);
	g_free(cl);
}

static gboolean closed_deliver(void *p)
{
	Closed *cl = p;
	events_notify(cl->ev, NULL, cl->msg);
	return G_SOURCE_REMOVE;
}

/* libvirt may call this on any thread with its own locks held (a failing RPC on a worker): the
 * daemon hears of it from the main loop, where it may close the connection safely. */
static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	static const char *const why[] = {
	    [VIR_CONNECT_CLOSE_REASON_ERROR] = "connection error",
	    [VIR_CONNECT_CLOSE_REASON_EOF] = "libvirtd closed the connection",
	    [VIR_CONNECT_CLOSE_REASON_KEEPALIVE] = "keepalive timeout (host or network down?)",
	    [VIR_CONNECT_CLOSE_REASON_CLIENT] = "closed by the client",
	};
	Closed *cl = g_new0(Closed, 1);
	cl->ev = events_ref(opaque);
	g_autofree char *hint = unreachable_hint(cl->ev->uri);
	cl->msg = g_strdup_printf(
	    "connection to %s lost: %s%s", cl->ev->uri,
	    (unsigned)reason < G_N_ELEMENTS(why) ? why[reason] : "unknown reason", hint);
	g_idle_add_full(G_PRIORITY_DEFAULT, closed_deliver, cl, closed_free);
}

static bool probe(const char *uri)
{
	/* libvirt's hypervisor drivers; hyperv:// belongs to holdfast's own Hyper-V driver. */
	static const char *const drivers[] = {
	    "qemu",	    "test",	"xen",		"libxl", "lxc", "bhyve", "ch", "vbox",
	    "vmwareplayer", "vmwarews", "vmwarefusion", "esx",	 "gsx", "vpx",	 "vz", "openvz"};
	g_autofree char *scheme = uri ? g_strdup(g_uri_peek_scheme(uri)) : NULL;
	if (!scheme || !g_str_has_prefix(uri + strlen(scheme), "://"))
		return false;
	char *plus = strchr(scheme, '+');
	if (plus)
		*plus = '\0';
	for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++)
		if (!strcmp(scheme, drivers[i]))
			return true;
	return false;
}

static void conn_free(LvConn *c)
{
	if (!c)
		return;
	if (c->ev) {
		g_rec_mutex_lock(&c->ev->lock);
		c->ev->closing = true;
		g_rec_mutex_unlock(&c->ev->lock);
	}
	for (size_t i = 0; i < c->n_ev_ids; i++)
		virConnectDomainEventDeregisterAny(c->conn, c->ev_ids[i]);
	if (c->close_cb)
		virConnectUnregisterCloseCallback(c->conn, on_close);
	if (c->conn)
		virConnectClose(c->conn);
	virResetLastError();
	events_unref(c->ev);
	g_free(c->base.uri);
	g_free(c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvConn, conn_free)

static void lv_close(DrvConn *dc)
{
	conn_free(lv_conn(dc));
}

static int register_events(LvConn *c, HfError *err)
{
	static const struct {
		int id;
		virConnectDomainEventGenericCallback fn;
	} evs[] = {
	    {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle)},
	    {VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata)},
	    {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device)},
	    {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device)},
	};
	G_STATIC_ASSERT(G_N_ELEMENTS(evs) == G_N_ELEMENTS(c->ev_ids));
	for (size_t i = 0; i < G_N_ELEMENTS(evs); i++) {
		int id = virConnectDomainEventRegisterAny(c->conn, NULL, evs[i].id, evs[i].fn,
							  events_ref(c->ev), events_unref);
		if (id < 0) {
			events_unref(c->ev);
			return lv_error(err, c, NULL, NULL,
					"cannot subscribe to guest events (did the program call "
					"virEventRegisterDefaultImpl()?)");
		}
		c->ev_ids[c->n_ev_ids++] = id;
	}
	/* Only connections through libvirtd (remote driver) can be closed under us. libvirt gets
	 * no reference: drivers without close callbacks accept and forget the free function. Our
	 * own reference outlives the registration (conn_free unregisters first), and a delivery
	 * queued by on_close holds one of its own. */
	c->close_cb = virConnectRegisterCloseCallback(c->conn, on_close, c->ev, NULL) == 0;
	virResetLastError();
	return 0;
}

static int lv_open(const char *uri, GHashTable *options, const DrvCallbacks *cb, unsigned flags,
		   DrvConn **out, HfError *err)
{
	static gsize once;
	if (g_once_init_enter(&once)) {
		virSetErrorFunc(NULL, silent);
		g_once_init_leave(&once, 1);
	}
	g_autoptr(LvConn) c = g_new0(LvConn, 1);
	c->base.drv = &drv_libvirt;
	c->base.uri = g_strdup(uri);
	c->ev = g_new0(LvEvents, 1);
	c->ev->ref = 1;
	g_rec_mutex_init(&c->ev->lock);
	c->ev->uri = g_strdup(uri);
	if (cb)
		c->ev->cb = *cb;

	/* The test driver would print libxml2's "failed to load external entity" to stderr. */
	const char *fleet = g_str_has_prefix(uri, "test://") ? uri + strlen("test://") : NULL;
	if (fleet && strcmp(fleet, "/default") && !g_file_test(fleet, G_FILE_TEST_IS_REGULAR))
		return error_set(err, HF_ERR_HOST_UNREACHABLE,
				 "cannot connect to libvirt at %s: the test driver's fleet file %s "
				 "does not exist",
				 uri, fleet);
	c->conn = virConnectOpen(uri);
	if (!c->conn) {
		const virError *e = virGetLastError();
		g_autofree char *hint = unreachable_hint(uri);
		error_set(err, HF_ERR_HOST_UNREACHABLE, "cannot connect to libvirt at %s: %s%s",
			  uri, e && e->message ? e->message : "unknown error", hint);
		virResetLastError();
		return -1;
	}
	virConnSetErrorFunc(c->conn, NULL, silent);
	if (!g_str_has_prefix(uri, "test:") && virConnectSetKeepAlive(c->conn, 5, 3) < 0)
		virResetLastError(); /* a local driver without keepalive: nothing to watch */
	if (register_events(c, err) < 0)
		return -1;
	*out = &g_steal_pointer(&c)->base;
	return 0;
}

static bool lv_alive(DrvConn *dc)
{
	return virConnectIsAlive(lv_conn(dc)->conn) == 1;
}

virDomainPtr lv_domain(LvConn *c, const char *guest, HfError *err)
{
	virDomainPtr d = virDomainLookupByName(c->conn, guest);
	if (!d)
		lv_error(err, c, guest, NULL, "cannot look up");
	return d;
}

/* ---- guests ---- */

static DrvGuestState map_state(int s)
{
	switch (s) {
	case VIR_DOMAIN_RUNNING:
		return DRV_STATE_RUNNING;
	case VIR_DOMAIN_BLOCKED:
		return DRV_STATE_BLOCKED;
	case VIR_DOMAIN_PAUSED:
		return DRV_STATE_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:
		return DRV_STATE_SHUTDOWN;
	case VIR_DOMAIN_SHUTOFF:
		return DRV_STATE_SHUTOFF;
	case VIR_DOMAIN_CRASHED:
		return DRV_STATE_CRASHED;
	case VIR_DOMAIN_PMSUSPENDED:
		return DRV_STATE_PMSUSPENDED;
	default:
		return DRV_STATE_UNKNOWN;
	}
}

/* One guest from its domain: one XMLDesc, its state, and sizes for disks with a source. */
static int guest_build(LvConn *c, virDomainPtr dom, DrvGuest **out, HfError *err)
{
	const char *name = virDomainGetName(dom);
	g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
	g_autoptr(DrvGuest) g = drv_guest_new();
	int state = VIR_DOMAIN_NOSTATE, reason;

	if (!xml || virDomainGetState(dom, &state, &reason, 0) < 0)
		return lv_error(err, c, name, NULL, "cannot read");
	g_autofree char *what = g_strdup_printf("guest '%s' on host %s", name, c->base.uri);
	if (lv_xml_guest_parse(xml, what, g, err) < 0)
		return -1;
	g->state = map_state(state);
	g->persistent = virDomainIsPersistent(dom) == 1;
	for (guint i = 0; i < g->disks->len; i++) {
		DrvDisk *d = g->disks->pdata[i];
		virDomainBlockInfo bi;
		/* Sizes are best effort: a missing image or a busy guest leaves them 0. */
		if (d->path && d->target && virDomainGetBlockInfo(dom, d->target, &bi, 0) == 0) {
			d->capacity = bi.capacity;
			d->allocation = bi.allocation;
		}
	}
	virResetLastError();
	*out = g_steal_pointer(&g);
	return 0;
}

static int by_name(gconstpointer a, gconstpointer b)
{
	const DrvGuest *x = *(DrvGuest *const *)a, *y = *(DrvGuest *const *)b;
	return strcmp(x->name, y->name);
}

static int lv_guest_list(DrvConn *dc, unsigned flags, GPtrArray **out, HfError *err)
{
	LvConn *c = lv_conn(dc);
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(c->conn, &doms, 0);
	int rc = 0;

	if (n < 0)
		return lv_error(err, c, NULL, NULL, "cannot list the guests");
	g_autoptr(GPtrArray) list = g_ptr_array_new_full((guint)n, (GDestroyNotify)drv_guest_free);
	for (int i = 0; i < n; i++) {
		DrvGuest *g = NULL;
		HfError e = {0};
		if (rc == 0 && guest_build(c, doms[i], &g, &e) == 0)
			g_ptr_array_add(list, g);
		else if (rc == 0 && !strcmp(e.code, HF_ERR_HOST_UNREACHABLE))
			rc = error_set(err, e.code, "%s", e.message);
		else if (rc == 0 && strcmp(e.code, HF_ERR_NOT_FOUND))
			/* one unreadable guest must not hide the others (gone since the list: skip)
			 */
			hf_log("hf-libvirt", LOG_LVL_WARNING, "%s: guest skipped: %s", c->base.uri,
			       e.message);
		virDomainFree(doms[i]);
	}
	free(doms);
	if (rc < 0)
		return -1;
	g_ptr_array_sort(list, by_name);
	*out = g_steal_pointer(&list);
	return 0;
}

static int lv_guest_get(DrvConn *dc, const char *guest, unsigned flags, DrvGuest **out,
			HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	if (guest_build(c, dom, out, err) < 0)
		return -1;
	return 0;
}

/* ---- guest agent ---- */

typedef enum { AGENT_FREEZE, AGENT_THAW } AgentOp;

/* fs-freeze / fs-thaw of every filesystem, the agent's answer bounded by timeout_s. */
static int agent_fs(LvConn *c, const char *guest, AgentOp op, int timeout_s, int *count,
		    HfError *err)
{
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	/* Per-domain setting: other callers on this guest share it until we restore it. Drivers
	 * without it (the test driver) answer at once anyway. */
	bool timed = timeout_s > 0 && virDomainAgentSetResponseTimeout(dom, timeout_s, 0) == 0;
	virResetLastError();
	int n = op == AGENT_FREEZE ? virDomainFSFreeze(dom, NULL, 0, 0)
				   : virDomainFSThaw(dom, NULL, 0, 0);
	if (n < 0)
		lv_error(err, c, guest, NULL,
			 op == AGENT_FREEZE ? "cannot freeze the filesystems of"
					    : "cannot thaw the filesystems of");
	if (timed)
		virDomainAgentSetResponseTimeout(dom, VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_DEFAULT, 0);
	virResetLastError();
	if (n < 0)
		return -1;
	if (count)
		*count = n;
	return 0;
}

static int lv_fs_freeze(DrvConn *dc, const char *guest, int timeout_s, unsigned flags, int *frozen,
			HfError *err)
{
	return agent_fs(lv_conn(dc), guest, AGENT_FREEZE, timeout_s, frozen, err);
}

static int lv_fs_thaw(DrvConn *dc, const char *guest, int timeout_s, unsigned flags, int *thawed,
		      HfError *err)
{
	return agent_fs(lv_conn(dc), guest, AGENT_THAW, timeout_s, thawed, err);
}

static int lv_agent_command(DrvConn *dc, const char *guest, const char *cmd, int timeout_s,
			    unsigned flags, char **reply, HfError *err)
{
	LvConn *c = lv_conn(dc);
	cJSON *j = cJSON_Parse(cmd);
	const char *exec = cJSON_GetStringValue(cJSON_GetObjectItem(j, "execute"));
	bool bad = !exec, sync = exec && !strcmp(exec, "guest-sync-delimited");
	cJSON_Delete(j);
	if (bad)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "guest agent command for guest '%s' is not a JSON object with "
				 "\"execute\": %.200s",
				 guest, cmd);
	/* libvirt cannot parse the 0xFF it causes; the agent stays broken until a restart. */
	if (sync || strstr(cmd, "guest-sync-delimited"))
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "refusing guest-sync-delimited for guest '%s': it breaks "
				 "libvirt's agent channel until the guest restarts; libvirt "
				 "synchronises the agent itself",
				 guest);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	int t = timeout_s > 0 ? timeout_s : VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT;
	char *r = virDomainQemuAgentCommand(dom, cmd, t, 0);
	if (!r)
		return lv_error(err, c, guest, NULL, "guest agent command failed for");
	*reply = g_strdup(r);
	free(r);
	return 0;
}

/* ---- defining guests (DR restores) ---- */

static int lv_domain_define(DrvConn *dc, const char *xml, unsigned flags, HfError *err)
{
	LvConn *c = lv_conn(dc);
	/* the name as libvirt will see it (parsed: '&', '<' and quotes are escaped in the text) */
	g_autoptr(DrvGuest) g = drv_guest_new();
	if (lv_xml_guest_parse(xml, "the domain XML to define", g, err) < 0)
		return -1;
	const char *name = g->name;
	if (!name || !*name)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "the domain XML to define has no <name>");
	virDomainPtr old = virDomainLookupByName(c->conn, name);
	virResetLastError();
	bool replace = old && (flags & DRV_DEFINE_REPLACE) && virDomainIsActive(old) == 0;
	if (old && !replace) {
		virDomainFree(old);
		return error_set(err, HF_ERR_CONFLICT,
				 "guest '%s' already exists on host %s; choose another name or "
				 "remove that guest first",
				 name, dc->uri);
	}
	if (old)
		virDomainFree(old);
	g_autoptr(virDomain) dom = virDomainDefineXML(c->conn, xml);
	if (!dom)
		return lv_error(err, c, name, NULL, "cannot define");
	return 0;
}

static int lv_domain_start(DrvConn *dc, const char *guest, unsigned flags, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	unsigned f = flags & DRV_START_PAUSED ? VIR_DOMAIN_START_PAUSED : 0;
	if (!dom)
		return -1;
	if (virDomainCreateWithFlags(dom, f) < 0)
		return lv_error(err, c, guest, NULL, "cannot start");
	return 0;
}

static int lv_domain_destroy(DrvConn *dc, const char *guest, unsigned flags, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	if (virDomainIsActive(dom) == 0)
		return 0;
	if (virDomainDestroy(dom) < 0 && virDomainIsActive(dom) != 0)
		return lv_error(err, c, guest, NULL, "cannot power off");
	virResetLastError();
	return 0;
}

static int lv_domain_undefine(DrvConn *dc, const char *guest, unsigned flags, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	unsigned f = VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
		     VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
		     VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_TPM;
	if (!dom)
		return -1;
	/* an older libvirt (or driver) rejects flags it does not know: TPM (libvirt < 8.9), then
	 * NVRAM and checkpoint metadata, dropped in that order; a guest that needs one of them
	 * gets libvirt's own refusal naming it */
	const unsigned drop[] = {0, VIR_DOMAIN_UNDEFINE_TPM, VIR_DOMAIN_UNDEFINE_NVRAM,
				 VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA};
	int rc = -1;
	for (size_t i = 0; i < G_N_ELEMENTS(drop); i++) {
		f &= ~drop[i];
		if ((rc = virDomainUndefineFlags(dom, f)) == 0 ||
		    virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
			break;
		if (i + 1 < G_N_ELEMENTS(drop))
			virResetLastError();
	}
	if (rc < 0)
		return lv_error(err, c, guest, NULL, "cannot undefine");
	return 0;
}

const DrvDriver drv_libvirt = {
    .name = "libvirt",
    .probe = probe,
    .open = lv_open,
    .close = lv_close,
    .alive = lv_alive,
    .guest_list = lv_guest_list,
    .guest_get = lv_guest_get,
    .snapshot_list = lv_snapshot_list,
    .snapshot_create = lv_snapshot_create,
    .snapshot_revert = lv_snapshot_revert,
    .snapshot_delete = lv_snapshot_delete,
    .fs_freeze = lv_fs_freeze,
    .fs_thaw = lv_fs_thaw,
    .agent_command = lv_agent_command,
    .backup_push = lv_backup_push,
    .checkpoint_list = lv_checkpoint_list,
    .checkpoint_delete = lv_checkpoint_delete,
    .checkpoint_check = lv_checkpoint_check,
    .backup_job_targets = lv_backup_job_targets,
    .backup_abort = lv_backup_abort,
    .backup_pull = lv_backup_pull,
    .domain_define = lv_domain_define,
    .domain_start = lv_domain_start,
    .domain_destroy = lv_domain_destroy,
    .domain_undefine = lv_domain_undefine,
    .domain_shutdown = lv_domain_shutdown,
    .domain_rename = lv_domain_rename,
    .domain_autostart = lv_domain_autostart,
    .metadata_get = lv_metadata_get,
    .metadata_set = lv_metadata_set,
};
