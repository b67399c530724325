/* drfailover.c - dr.failover --planned / --emergency (drfailover.h). */
#include "drfailover.h"
#include "drmark.h"

#include <stdarg.h>
#include <string.h>

#include "daemon.h"
#include "drapi.h"
#include "drlease.h"
#include "drrun.h"
#include "drstore.h"
#include "drtestrun.h"
#include "drxml.h"
#include "jobcall.h"
#include "log.h"
#include "policy.h" /* g_autoptr(cJSON) */
#include "timefmt.h"

#define DEFAULT_TIMEOUT 300

static const char *or_q(const char *s)
{
	return s ? s : "?";
}

/* ---- the job ---- */

typedef struct {
	Daemon *d;
	Host *src, *to; /* referenced; src may be NULL (emergency, host not configured) */
	char *guest, *as, *store, *root, *state_dir, *dir;
	bool planned, force_off, dry_run;
	int timeout;
} FoCtx;

static void fo_ctx_free(void *p)
{
	FoCtx *f = p;
	if (f->src)
		host_unref(f->src);
	host_unref(f->to);
	g_free(f->guest);
	g_free(f->as);
	g_free(f->store);
	g_free(f->root);
	g_free(f->state_dir);
	g_free(f->dir);
	g_free(f);
}

typedef struct {
	Job *job;
	FoCtx *f;
	cJSON *res, *steps;
	gint64 t;
	char *src_name; /* the source's name now (renamed: NAME.failed-over) */
	char *point;	/* the point used */
	bool same_host; /* the DR host is the source's host (same URI) */
	bool reachable; /* the source's host answered and the guest exists */
	bool marked;	/* the source carried the mark when we started */
	bool verified;	/* the point's chain was verified in this run */
} Fo;

static void step(Fo *o, const char *name, bool ok, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void step(Fo *o, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	gint64 now = g_get_monotonic_time();
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "step", name);
	cJSON_AddBoolToObject(s, "ok", ok);
	cJSON_AddNumberToObject(s, "seconds", (double)((now - o->t) / 1000) / 1000.0);
	cJSON_AddStringToObject(s, "detail", detail);
	cJSON_AddItemToArray(o->steps, s);
	o->t = now;
	hf_log("hf-dr", ok ? LOG_LVL_INFO : LOG_LVL_ERROR, "failover of %s: %s: %s", o->f->guest,
	       name, detail);
}

/* A failed step: reported in the steps (the job's result), err (already set) says what to
 * do. */
static int fail(Fo *o, const char *name, HfError *err)
{
	step(o, name, false, "%s", err->message);
	return -1;
}

/* ---- the final copy: a dr.copy job, submitted and watched on the main thread ---- */

typedef struct {
	GMutex m;
	GCond c;
	FoCtx *f;
	Job *parent; /* the failover's job: the copy runs inside it, on the guest it holds */
	int64_t id;
	bool answered;
	cJSON *job; /* the copy job's JSON once final */
	char err[HF_ERROR_MSG_MAX];
} Sub;

static gboolean submit_main(gpointer p)
{
	Sub *s = p;
	const DrStore *st = drstore_named(s->f->d->cfg->drstores, s->f->store);
	g_mutex_lock(&s->m);
	if (st) {
		cJSON *params = cJSON_CreateObject();
		cJSON_AddStringToObject(params, "guest", s->f->guest);
		cJSON_AddStringToObject(params, "store", st->name);
		Job *j = drapi_copy_submit(s->f->d, s->f->src, s->f->guest, st, params);
		s->id = job_id(j);
		/* the failover holds the guest (no other copy or snapshot of it meanwhile) and
		 * waits for this copy: it runs inside the failover's job, not after it */
		if (!job_is_final(j) && !jobs_nest(s->f->d->jobs, j, s->parent))
			g_snprintf(s->err, sizeof s->err,
				   "copy job %" G_GINT64_FORMAT " cannot run inside the failover",
				   s->id);
	} else
		g_snprintf(s->err, sizeof s->err, "DR store '%s' is gone from the configuration",
			   s->f->store);
	s->answered = true;
	g_cond_signal(&s->c);
	g_mutex_unlock(&s->m);
	return G_SOURCE_REMOVE;
}

static gboolean poll_main(gpointer p)
{
	Sub *s = p;
	Job *j = jobs_get(s->f->d->jobs, s->id);
	g_mutex_lock(&s->m);
	if (!j)
		g_snprintf(s->err, sizeof s->err, "copy job %" G_GINT64_FORMAT " disappeared",
			   s->id);
	else if (job_is_final(j))
		s->job = job_to_json(j);
	s->answered = true;
	g_cond_signal(&s->c);
	g_mutex_unlock(&s->m);
	return G_SOURCE_REMOVE;
}

static void ask_main(Sub *s, GSourceFunc fn)
{
	g_mutex_lock(&s->m);
	s->answered = false;
	g_main_context_invoke(NULL, fn, s);
	while (!s->answered)
		g_cond_wait(&s->c, &s->m);
	g_mutex_unlock(&s->m);
}

/* The point of a successful final copy (new string), or NULL with err. */
static char *final_copy(Fo *o, HfError *err)
{
	Sub s = {.f = o->f, .parent = o->job};
	g_mutex_init(&s.m);
	g_cond_init(&s.c);
	ask_main(&s, submit_main);
	while (!s.err[0] && !s.job) {
		if (job_cancelled(o->job))
			break; /* the copy job goes on and ends by itself; we stop waiting */
		g_usleep(500 * 1000);
		ask_main(&s, poll_main);
	}
	g_mutex_clear(&s.m);
	g_cond_clear(&s.c);
	g_autoptr(cJSON) j = s.job;
	const cJSON *res = cJSON_GetObjectItem(j, "result");
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(j, "state"));
	const char *point = cJSON_GetStringValue(cJSON_GetObjectItem(res, "point"));
	if (s.err[0])
		return error_set(err, HF_ERR_FAILED, "final copy of %s: %s", o->f->guest, s.err),
		       NULL;
	if (!j)
		return error_set(err, HF_ERR_CANCELLED, "failover of %s cancelled", o->f->guest),
		       NULL;
	cJSON_AddNumberToObject(o->res, "copy_job", (double)s.id);
	if (g_strcmp0(state, "succeeded") || !point) {
		const cJSON *e = cJSON_GetObjectItem(j, "error");
		return error_set(err, HF_ERR_FAILED,
				 "the final copy of %s (job %" G_GINT64_FORMAT
				 ") %s: %s; the source "
				 "is shut off and not marked: fix that and run the failover again, "
				 "or start the source again to give up",
				 o->f->guest, s.id, state ? state : "failed",
				 or_q(cJSON_GetStringValue(cJSON_GetObjectItem(e, "message")))),
		       NULL;
	}
	return g_strdup(point);
}

/* ---- steps ---- */

/* The source: by its name, else renamed by an earlier run of this failover. */
static int find_source(Fo *o, DrvConn *c, DrvGuest **g, HfError *err)
{
	HfError e = {0};
	if (drv_guest_get(c, o->f->guest, 0, g, &e) == 0) {
		o->src_name = g_strdup(o->f->guest);
		/* the DR guest of an earlier run under the source's name is not the source */
		g_autoptr(GHashTable) rec = drrun_record(c, o->f->guest);
		const char *mode = rec ? g_hash_table_lookup(rec, "mode") : NULL;
		if (g_strcmp0(mode, "failover") || !o->same_host)
			return 0;
		drv_guest_free(*g);
		*g = NULL;
		g_clear_pointer(&o->src_name, g_free);
		error_clear(&e);
	}
	g_autofree char *renamed = g_strconcat(o->f->guest, DRFAILOVER_SUFFIX, NULL);
	if (strcmp(e.code, HF_ERR_NOT_FOUND) && e.code[0])
		return error_set(err, e.code, "%s", e.message);
	error_clear(&e);
	if (drv_guest_get(c, renamed, 0, g, &e) == 0) {
		o->src_name = g_steal_pointer(&renamed);
		return 0;
	}
	if (strcmp(e.code, HF_ERR_NOT_FOUND))
		return error_set(err, e.code, "%s", e.message);
	return error_set(err, HF_ERR_NOT_FOUND,
			 "guest '%s' is not on host %s (nor %s, as an earlier failover would "
			 "have left it)",
			 o->f->guest, host_name(o->f->src), renamed);
}

/* Shut the source down (bounded), power it off with --force-off, autostart off. */
static int stop_source(Fo *o, DrvConn *c, const DrvGuest *g, HfError *err)
{
	const char *n = o->src_name;
	bool forced = false, was = false;
	if (g->state != DRV_STATE_SHUTOFF) {
		job_progress(o->job, 5, "shutting %s down (up to %d s)", n, o->f->timeout);
		if (drv_domain_shutdown(c, n, o->f->timeout, 0, err) < 0) {
			if (strcmp(err->code, HF_ERR_TIMEOUT) || !o->f->force_off) {
				if (!strcmp(err->code, HF_ERR_TIMEOUT))
					g_strlcat(err->message,
						  "; nothing was changed at the DR host: shut it "
						  "down yourself or run again with --force-off",
						  sizeof err->message);
				return fail(o, "stop source", err);
			}
			error_clear(err);
			if (drv_domain_destroy(c, n, 0, err) < 0)
				return fail(o, "stop source", err);
			forced = true;
		}
	}
	if (drv_domain_autostart(c, n, 0, 0, &was, err) < 0)
		return fail(o, "stop source", err);
	step(o, "stop source", true, "%s %s; autostart %s", n,
	     g->state == DRV_STATE_SHUTOFF ? "was shut off already"
	     : forced			   ? "did not shut down in time: powered off (--force-off)"
					   : "shut down cleanly",
	     was ? "turned off" : "was off");
	return 0;
}

/* Mark the source (and rename it when the DR guest takes its name on the same host). */
static int mark_source(Fo *o, DrvConn *c, const char *mode, HfError *err)
{
	g_autofree char *now = timefmt_iso(g_get_real_time() / G_USEC_PER_SEC);
	g_autofree char *xml =
	    drxml_failover_mark(now, o->point, host_name(o->f->to), o->f->as, mode);
	if (drv_domain_autostart(c, o->src_name, 0, 0, NULL, err) < 0 ||
	    drv_metadata_set(c, o->src_name, DRXML_NS_FAILOVER, "hffo", xml, 0, err) < 0)
		return fail(o, "mark source", err);
	g_autofree char *renamed = g_strconcat(o->f->guest, DRFAILOVER_SUFFIX, NULL);
	bool rename = o->same_host && !strcmp(o->f->as, o->src_name);
	if (rename && drv_domain_rename(c, o->src_name, renamed, 0, err) < 0)
		return fail(o, "mark source", err);
	if (rename) {
		g_free(o->src_name);
		o->src_name = g_strdup(renamed);
		cJSON_AddStringToObject(
		    o->res, "note",
		    "the DR guest runs on the source's own host under its name, so the source was "
		    "renamed (kept, shut off, autostart off, marked) rather than undefined: its "
		    "disks and definition stay for a failback; undefine it once the DR guest is "
		    "confirmed");
	}
	step(o, "mark source", true, "%s marked as failed over to %s/%s (point %s)%s", o->src_name,
	     host_name(o->f->to), o->f->as, o->point,
	     rename ? "; renamed, as the DR guest takes its name on this host" : "");
	return 0;
}

static int wait_agent(Fo *o, DrvConn *c, HfError *err)
{
	gint64 end = g_get_monotonic_time() + (gint64)o->f->timeout * G_USEC_PER_SEC;
	HfError e = {0};
	DrvGuestState st = DRV_STATE_RUNNING;
	switch (drtestrun_wait_agent(o->job, c, o->f->as, end, 92, &e, &st)) {
	case DRTEST_AGENT_READY:
		return 0;
	case DRTEST_AGENT_CANCELLED:
		return error_set(err, HF_ERR_CANCELLED,
				 "cancelled while waiting for the guest agent of '%s' on host %s "
				 "(the DR guest runs)",
				 o->f->as, host_name(o->f->to));
	case DRTEST_AGENT_STOPPED:
		return error_set(err, HF_ERR_FAILED,
				 "guest '%s' on host %s is %s before its guest agent answered; "
				 "check the guest's console log",
				 o->f->as, host_name(o->f->to), drv_state_name(st));
	default:
		return error_set(err, HF_ERR_AGENT_TIMEOUT,
				 "guest '%s' on host %s runs, but its guest agent did not answer "
				 "within %d s (%s); check the guest's console",
				 o->f->as, host_name(o->f->to), o->f->timeout, e.message);
	}
}

/* Restore at the DR host, start, wait for the agent. */
static int bring_up(Fo *o, const char *gdir, HfError *err)
{
	DrRunSpec rs = {
	    .host = o->f->to,
	    .gdir = gdir,
	    .point = o->point,
	    .name = o->f->as,
	    .dir = o->f->dir,
	    .state_dir = o->f->state_dir,
	    .keep_uuid = !o->same_host, /* one host cannot hold two guests of one UUID */
	    .keep_mac = true,
	    .record_mode = "failover",
	    .verified = o->verified,
	    .pct0 = 40,
	    .pct1 = 85,
	};
	g_autoptr(cJSON) r = NULL;
	if (drrun_restore(o->job, &rs, &r, err) < 0)
		return fail(o, "restore", err);
	bool already = cJSON_IsTrue(cJSON_GetObjectItem(r, "already_restored"));
	step(o, "restore", true, "point %s %s as %s on %s", o->point,
	     already ? "was restored already" : "restored", o->f->as, host_name(o->f->to));
	cJSON_AddItemToObject(o->res, "restore", g_steal_pointer(&r));
	g_autoptr(HostConn) hc = host_conn_get(o->f->to, err);
	g_autoptr(DrvGuest) g = NULL;
	if (!hc || drv_guest_get(host_conn_drv(hc), o->f->as, 0, &g, err) < 0)
		return fail(o, "start", err);
	DrvConn *c = host_conn_drv(hc);
	job_progress(o->job, 88, "starting %s on %s", o->f->as, host_name(o->f->to));
	if (g->state != DRV_STATE_RUNNING && drv_domain_start(c, o->f->as, 0, err) < 0) {
		g_autofree char *note = drrun_remote_note(o->f->to, err->message);
		g_strlcat(err->message, note, sizeof err->message);
		return fail(o, "start", err);
	}
	step(o, "start", true, "%s %s on %s", o->f->as,
	     g->state == DRV_STATE_RUNNING ? "was running already" : "started",
	     host_name(o->f->to));
	job_progress(o->job, 92, "waiting for the guest agent of %s", o->f->as);
	if (wait_agent(o, c, err) < 0)
		return fail(o, "agent", err);
	step(o, "agent", true, "the guest agent of %s answers", o->f->as);
	return 0;
}

/* The newest point that verifies again; the skipped ones are reported. */
static int newest_verified(Fo *o, const char *gdir, HfError *err)
{
	g_autoptr(GPtrArray) pts = NULL;
	if (drstore_points(gdir, &pts, err) < 0)
		return fail(o, "choose point", err);
	g_autoptr(GString) skipped = g_string_new(NULL);
	for (guint i = pts->len; i-- > 0;) {
		const cJSON *m = pts->pdata[i];
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, "point"));
		if (!cJSON_IsTrue(cJSON_GetObjectItem(m, "verified")))
			continue;
		g_autoptr(cJSON) chain = cJSON_CreateArray();
		HfError e = {0};
		job_progress(o->job, 10, "verifying point %s and its chain", id);
		if (o->f->dry_run || drstore_verify_chain(pts, id, chain, &e) == 0) {
			o->point = g_strdup(id);
			o->verified = !o->f->dry_run;
			step(o, "choose point", true, "point %s (%s)%s%s", id,
			     o->f->dry_run ? "newest verified; verified again when run"
					   : "newest verified, verified again",
			     skipped->len ? "; skipped: " : "", skipped->str);
			return 0;
		}
		g_string_append_printf(skipped, "%s%s (%s)", skipped->len ? ", " : "", id,
				       e.message);
	}
	error_set(err, HF_ERR_NOT_FOUND, "no verified restore point of %s in %s verifies%s%s",
		  o->f->guest, gdir, skipped->len ? ": " : "", skipped->str);
	return fail(o, "choose point", err);
}

/* The store's record of the failover (dr status: "failed-over" instead of an aging RPO). */
static void store_mark(Fo *o, const char *gdir)
{
	g_autoptr(cJSON) m = cJSON_CreateObject();
	g_autofree char *now = timefmt_iso(g_get_real_time() / G_USEC_PER_SEC);
	HfError e = {0};
	cJSON_AddStringToObject(m, "time", now);
	cJSON_AddStringToObject(m, "point", o->point);
	cJSON_AddStringToObject(m, "host", host_name(o->f->to));
	cJSON_AddStringToObject(m, "name", o->f->as);
	cJSON_AddStringToObject(m, "mode", o->f->planned ? "planned" : "emergency");
	if (drmark_store(gdir, m, &e) < 0)
		cJSON_AddStringToObject(o->res, "warning", e.message);
}

static int64_t point_time(const char *gdir, const char *point, cJSON *res)
{
	g_autoptr(GPtrArray) pts = NULL;
	HfError e = {0};
	if (drstore_points(gdir, &pts, &e) < 0)
		return -1;
	const cJSON *m = drstore_point(pts, point);
	if (!m)
		return -1;
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(m, "time"));
	cJSON_AddStringToObject(res, "point_time", t ? t : "?");
	return timefmt_parse(t);
}

/* The source's side: find it (and its mark), stop it, final copy, verify (planned) or the
 * newest verified point (emergency), mark it. *gdir: the guest's store directory. */
static int source_side(Fo *o, char **gdir, HfError *err)
{
	FoCtx *f = o->f;
	g_autoptr(HostConn) hc = f->src ? host_conn_get(f->src, NULL) : NULL;
	g_autoptr(DrvGuest) g = NULL;
	HfError e = {0};
	DrvConn *c = hc ? host_conn_drv(hc) : NULL;
	if (c && find_source(o, c, &g, &e) == 0)
		o->reachable = true;
	else if (f->planned)
		return error_set(err, e.code[0] ? e.code : HF_ERR_HOST_UNREACHABLE,
				 "%s; a planned failover needs the source: use --emergency when it "
				 "is lost",
				 e.message[0] ? e.message : "the source's host is unreachable"),
		       fail(o, "source", err);
	g_autofree char *mark = o->reachable ? drmark_get(c, o->src_name) : NULL;
	g_autoptr(GHashTable) ma = drxml_attrs(mark);
	const char *mp = ma ? g_hash_table_lookup(ma, "point") : NULL;
	*gdir = o->reachable ? drstore_guest_dir(f->root, g->uuid)
			     : drstore_find_guest(f->root, f->guest);
	if (!*gdir || (!o->reachable && !g_file_test(*gdir, G_FILE_TEST_IS_DIR)))
		return error_set(err, HF_ERR_NOT_FOUND,
				 "no restore points of guest '%s' in the DR store at %s", f->guest,
				 f->root),
		       fail(o, "source", err);
	if (mp && o->reachable && g->state != DRV_STATE_SHUTOFF && g->state != DRV_STATE_CRASHED) {
		/* marked, but someone started it again (to give up on the failover?): going on
		 * would run the guest on both sides */
		error_set(
		    err, HF_ERR_CONFLICT,
		    "guest '%s' is %s on host %s although it is marked as failed over (point "
		    "%s): shut it down to go on with the failover, or remove the mark to give "
		    "it up (virsh metadata %s %s --config --remove)",
		    o->src_name, drv_state_name(g->state), host_name(f->src), mp, o->src_name,
		    DRXML_NS_FAILOVER);
		return fail(o, "source", err);
	}
	if (mp) { /* an earlier run got this far: go on from its point */
		o->marked = true;
		o->point = g_strdup(mp);
		step(o, "source", true,
		     "%s is marked as failed over already (point %s, %s): going on from there",
		     o->src_name, mp, or_q(g_hash_table_lookup(ma, "time")));
		return 0;
	}
	if (o->reachable && !f->planned && g->state != DRV_STATE_SHUTOFF &&
	    g->state != DRV_STATE_CRASHED) {
		error_set(err, HF_ERR_CONFLICT,
			  "guest '%s' is %s on host %s: an emergency failover would run it on both "
			  "sides; use --planned, or stop it first",
			  o->src_name, drv_state_name(g->state), host_name(f->src));
		return fail(o, "source", err);
	}
	step(o, "source", true, "%s",
	     o->reachable ? "the source answers"
			  : "the source's host or guest does not answer: it is left alone");
	if (f->dry_run) {
		if (f->planned)
			step(o, "plan", true,
			     "would shut %s down (up to %d s%s), turn autostart off, "
			     "take a final copy, verify it, mark the source%s",
			     o->src_name, f->timeout, f->force_off ? ", then power it off" : "",
			     o->same_host && !strcmp(f->as, f->guest) ? " and rename it to "
									"NAME" DRFAILOVER_SUFFIX
								      : "");
		return f->planned ? 0 : newest_verified(o, *gdir, err);
	}
	if (f->planned) {
		if (stop_source(o, c, g, err) < 0)
			return -1;
		job_progress(o->job, 15, "final copy of %s", f->guest);
		if (!(o->point = final_copy(o, err)))
			return fail(o, "final copy", err);
		step(o, "final copy", true, "point %s", o->point);
		g_autoptr(GPtrArray) pts = NULL;
		g_autoptr(cJSON) chain = cJSON_CreateArray();
		job_progress(o->job, 30, "verifying point %s", o->point);
		if (drstore_points(*gdir, &pts, err) < 0 ||
		    drstore_verify_chain(pts, o->point, chain, err) < 0)
			return fail(o, "verify", err);
		g_autofree char *v = cJSON_PrintUnformatted(chain);
		step(o, "verify", true, "checksums and qemu-img check of %s", v);
		o->verified = true;
	} else if (newest_verified(o, *gdir, err) < 0)
		return -1;
	return o->reachable ? mark_source(o, c, f->planned ? "planned" : "emergency", err) : 0;
}

static int fo_job(Job *job, HfError *err)
{
	FoCtx *f = job_ctx(job);
	g_autoptr(cJSON) res = cJSON_CreateObject();
	Fo o = {.job = job, .f = f, .res = res, .t = g_get_monotonic_time()};
	g_autofree char *gdir = NULL;
	cJSON_AddStringToObject(res, "guest", f->guest);
	cJSON_AddStringToObject(res, "mode", f->planned ? "planned" : "emergency");
	cJSON_AddBoolToObject(res, "dry_run", f->dry_run);
	cJSON *target = cJSON_AddObjectToObject(res, "target");
	cJSON_AddStringToObject(target, "host", host_name(f->to));
	cJSON_AddStringToObject(target, "name", f->as);
	o.steps = cJSON_AddArrayToObject(res, "steps");
	o.same_host = f->src && !strcmp(host_uri(f->src), host_uri(f->to));
	int rc = source_side(&o, &gdir, err);
	bool leased = rc == 0 && !f->dry_run && o.point;
	if (leased) /* retention keeps the point (and its chain) until the guest runs */
		drlease_take(gdir, o.point);
	if (rc == 0 && !f->dry_run)
		rc = bring_up(&o, gdir, err);
	if (rc == 0 && !f->dry_run)
		store_mark(&o, gdir);
	if (leased)
		drlease_release(gdir, o.point);
	if (rc == 0 && f->dry_run && o.point) {
		DrRunSpec rs = {.host = f->to,
				.gdir = gdir,
				.point = o.point,
				.name = f->as,
				.dir = f->dir,
				.state_dir = f->state_dir,
				.dry_run = true,
				.name_freed =
				    o.reachable && o.same_host && !strcmp(f->as, o.src_name)};
		cJSON *r = NULL;
		if (drrun_restore(job, &rs, &r, err) < 0)
			rc = fail(&o, "restore", err);
		else
			cJSON_AddItemToObject(res, "restore", r);
	}
	if (!f->planned && !o.reachable)
		cJSON_AddStringToObject(
		    res, "note",
		    "the source's host or guest did not answer, so holdfast could neither stop nor "
		    "mark it: make sure it is really down (fenced) before clients use the DR "
		    "guest, "
		    "and when it is back, shut off, run this failover again to mark it");
	cJSON *src = cJSON_AddObjectToObject(res, "source");
	cJSON_AddStringToObject(src, "host", f->src ? host_name(f->src) : "?");
	cJSON_AddStringToObject(src, "name", o.src_name ? o.src_name : f->guest);
	cJSON_AddBoolToObject(src, "reachable", o.reachable);
	cJSON_AddBoolToObject(src, "marked", o.reachable && !f->dry_run && rc == 0);
	if (o.point) {
		cJSON_AddStringToObject(res, "point", o.point);
		int64_t t = point_time(gdir, o.point, res);
		if (t >= 0) /* how much data a runbook lost: the age of the point used */
			cJSON_AddNumberToObject(
			    res, "rpo_s", (double)MAX(g_get_real_time() / G_USEC_PER_SEC - t, 0));
	}
	g_free(o.src_name);
	g_free(o.point);
	if (rc < 0) {
		job_set_result(job, g_steal_pointer(&res));
		return -1;
	}
	cJSON_AddStringToObject(target, "state", f->dry_run ? "unchanged" : "running");
	job_set_result(job, g_steal_pointer(&res));
	return 0;
}

/* ---- dr.failover ---- */

/* The host the guest's newest point was copied from (the source is gone from the inventory). */
static Host *store_host(Call *call, const DrStore *s, const char *guest)
{
	g_autofree char *gdir = drapi_guest_dir(call->d, s, guest);
	g_autofree char *hn = NULL;
	return drapi_point_host(call->d, gdir, &hn);
}

static int fo_params(Call *call, FoCtx *f, HfError *err)
{
	const cJSON *p = call->params;
	const char *guest = cJSON_GetStringValue(cJSON_GetObjectItem(p, "guest"));
	const char *to = cJSON_GetStringValue(cJSON_GetObjectItem(p, "to"));
	const char *as = cJSON_GetStringValue(cJSON_GetObjectItem(p, "as"));
	const char *dir = cJSON_GetStringValue(cJSON_GetObjectItem(p, "dir"));
	bool emergency = cJSON_IsTrue(cJSON_GetObjectItem(p, "emergency"));
	f->planned = cJSON_IsTrue(cJSON_GetObjectItem(p, "planned"));
	f->force_off = cJSON_IsTrue(cJSON_GetObjectItem(p, "force_off"));
	f->dry_run = cJSON_IsTrue(cJSON_GetObjectItem(p, "dry_run"));
	const cJSON *t = cJSON_GetObjectItem(p, "timeout");
	f->timeout = cJSON_IsNumber(t) ? t->valueint : DEFAULT_TIMEOUT;
	if (f->planned == emergency)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "say which failover: --planned (the source is there: stop it, "
				 "final copy) or --emergency (the source is lost)");
	if (drrun_check_names(as, dir, err) < 0)
		return -1;
	const DrStore *s = drapi_store(call, err);
	if (!s)
		return -1;
	Host *src = NULL;
	g_autofree char *name = NULL;
	HfError e = {0};
	if (hosts_resolve(call->d->hosts, guest, &src, &name, &e) < 0 && f->planned)
		return error_set(err, e.code, "%s", e.message);
	f->guest = g_strdup(name ? name : strrchr(guest, '/') ? strrchr(guest, '/') + 1 : guest);
	Host *dst = to ? hosts_find(call->d->hosts, to) : src ? src : store_host(call, s, f->guest);
	if (!dst)
		return error_set(
		    err, HF_ERR_NOT_FOUND,
		    to ? "host '%s' is not configured; add a [host %s] to %s"
		       : "guest '%s' is on no configured host: give the DR host with --to",
		    to ? to : guest, to ? to : "", call->d->cfg->path);
	f->src = src ? host_ref(src) : NULL;
	f->to = host_ref(dst);
	f->as = g_strdup(as ? as : f->guest);
	f->store = g_strdup(s->name);
	f->root = g_strdup(s->path);
	f->state_dir = g_strdup(call->d->cfg->state_dir);
	f->dir = g_strdup(dir);
	f->d = call->d;
	return jobcall_host_check(dst, err);
}

void drfailover_handle(Call *call)
{
	HfError err = {0};
	FoCtx *f = g_new0(FoCtx, 1);
	if (fo_params(call, f, &err) < 0) {
		fo_ctx_free(f);
		call_reply_error(call, &err);
		return;
	}
	/* The source guest is busy for other jobs (a scheduled copy or snapshot waits; a second
	 * failover of it queues, then goes on from the mark) and the job takes a slot on the
	 * source's host and on the DR host. The final copy runs inside it (jobs_nest). Source
	 * host unknown (emergency): the DR guest's name on the DR host. */
	JobSpec spec = {
	    .kind = call->method->name,
	    .host = host_name(f->src ? f->src : f->to),
	    .guest = f->src ? f->guest : f->as,
	    .also_host = host_name(f->to),
	    .params = cJSON_Duplicate(call->params, 1),
	    .run = fo_job,
	    .ctx = f,
	    .ctx_free = fo_ctx_free,
	};
	jobcall_submit(call, &spec);
}
