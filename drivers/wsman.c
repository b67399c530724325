/* wsman.c - the WS-Man client: HTTP(S) with libcurl, Enumerate/Pull, Invoke, job polling.
 *
 * Threads: a pool of curl easy handles under a mutex; each request takes one (keeping its
 * connection alive for the next). Credentials go to libcurl as CURLOPT_USERNAME/PASSWORD, never
 * into the URL; verbose output stays off; messages name the host, the user and the credentials
 * file, never the password. */
#include "wsman.h"

#include <curl/curl.h>
#include <string.h>

#include "log.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)

#define EN "http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
#define MAX_PULLS 100000
#define MAX_ITEMS 1000000

struct WsmanClient {
	char *host, *url, *user, *password, *cred_file, *ca_file, *pinned_key;
	long auth;
	unsigned batch;
	int timeout_s;
	struct curl_slist *headers;
	GMutex lock;
	GPtrArray *pool; /* idle CURL* */
	gint requests;
};

WsmanClient *wsman_client_new(const WsmanConfig *cfg)
{
	static gsize once;
	if (g_once_init_enter(&once)) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		g_once_init_leave(&once, 1);
	}
	WsmanClient *c = g_new0(WsmanClient, 1);
	c->host = g_strdup(cfg->host);
	c->url = g_strdup(cfg->url);
	c->user = g_strdup(cfg->user);
	c->password = g_strdup(cfg->password);
	c->cred_file = g_strdup(cfg->cred_file);
	c->ca_file = g_strdup(cfg->ca_file);
	c->pinned_key = g_strdup(cfg->pinned_key);
	c->auth = cfg->auth;
	c->batch = cfg->batch;
	c->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 60;
	c->headers = curl_slist_append(NULL, "Content-Type: application/soap+xml;charset=UTF-8");
	c->headers = curl_slist_append(c->headers, "Expect:");
	g_mutex_init(&c->lock);
	c->pool = g_ptr_array_new_with_free_func((GDestroyNotify)curl_easy_cleanup);
	return c;
}

void wsman_client_free(WsmanClient *c)
{
	if (!c)
		return;
	g_ptr_array_unref(c->pool);
	g_mutex_clear(&c->lock);
	curl_slist_free_all(c->headers);
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	g_free(c->host);
	g_free(c->url);
	g_free(c->user);
	g_free(c->password);
	g_free(c->cred_file);
	g_free(c->ca_file);
	g_free(c->pinned_key);
	g_free(c);
}

unsigned wsman_client_requests(WsmanClient *c)
{
	return (unsigned)g_atomic_int_get(&c->requests);
}

/* ---- transport ---- */

static size_t on_data(char *p, size_t size, size_t n, void *opaque)
{
	GString *buf = opaque;
	if (buf->len + size * n > WSMAN_RESPONSE_MAX)
		return 0; /* CURLE_WRITE_ERROR */
	g_string_append_len(buf, p, (gssize)(size * n));
	return size * n;
}

static CURL *handle_get(WsmanClient *c, bool *reused)
{
	CURL *h = NULL;
	g_mutex_lock(&c->lock);
	if (c->pool->len)
		h = g_ptr_array_steal_index(c->pool, c->pool->len - 1);
	g_mutex_unlock(&c->lock);
	*reused = h != NULL;
	if (h)
		return h;
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout_s + 30);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, c->auth);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->pinned_key) {
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->pinned_key);
		if (!c->ca_file) { /* the pinned key is the trust anchor */
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	return h;
}

static void handle_put(WsmanClient *c, CURL *h, bool keep)
{
	if (!keep) {
		curl_easy_cleanup(h);
		return;
	}
	g_mutex_lock(&c->lock);
	g_ptr_array_add(c->pool, h);
	g_mutex_unlock(&c->lock);
}

static int curl_error(WsmanClient *c, CURLcode rc, const char *msg, const char *what, HfError *err)
{
	const char *why = msg && *msg ? msg : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		return error_set(err, HF_ERR_HOST_UNREACHABLE,
				 "%s: TLS connection to Hyper-V host %s refused: %s; check that "
				 "the host's certificate is signed by %s%s",
				 what, c->host, why, c->ca_file ? "ca-file " : "a system CA",
				 c->ca_file ? c->ca_file : " (or set ca-file= / pinned-key=)");
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return error_set(err, HF_ERR_HOST_UNREACHABLE,
				 "%s: TLS connection to Hyper-V host %s refused: its public key "
				 "does not match pinned-key=%s (a different host or a new "
				 "certificate?)",
				 what, c->host, c->pinned_key);
	case CURLE_WRITE_ERROR:
		return error_set(err, HF_ERR_PROTOCOL,
				 "%s: the response of Hyper-V host %s is larger than %d MiB", what,
				 c->host, WSMAN_RESPONSE_MAX >> 20);
	default:
		return error_set(err, HF_ERR_HOST_UNREACHABLE,
				 "%s: cannot reach Hyper-V host %s at %s: %s", what, c->host,
				 c->url, why);
	}
}

static bool retryable(CURLcode rc)
{
	return rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR;
}

/* POST one envelope; *out is the parsed response (never a fault: faults become err). */
static int post(WsmanClient *c, const char *resource_uri, const char *action,
		const GPtrArray *selectors, const char *body, bool idempotent, const char *what,
		WsmanResponse **out, HfError *err)
{
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *msg_id = g_strconcat("uuid:", uuid, NULL);
	g_autofree char *env =
	    wsman_envelope(c->url, resource_uri, action, msg_id, selectors, c->timeout_s, body);
	g_autoptr(GString) buf = g_string_new(NULL);
	char ebuf[CURL_ERROR_SIZE];
	long status = 0;
	CURLcode rc;
	bool reused;

	for (int attempt = 0;; attempt++) {
		CURL *h = handle_get(c, &reused);
		g_string_truncate(buf, 0);
		ebuf[0] = '\0';
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, env);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(env));
		curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);
		g_atomic_int_inc(&c->requests);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
		handle_put(c, h, rc == CURLE_OK);
		/* A kept-alive connection the host closed meanwhile: once more on a fresh one. */
		if (rc != CURLE_OK && idempotent && reused && attempt == 0 && retryable(rc))
			continue;
		break;
	}
	if (rc != CURLE_OK)
		return curl_error(c, rc, ebuf, what, err);
	if (status == 401)
		return error_set(err, HF_ERR_HOST_UNREACHABLE,
				 "%s: authentication failed for user %s at Hyper-V host %s: check "
				 "credentials file %s (and auth=)",
				 what, c->user ? c->user : "(none)", c->host,
				 c->cred_file ? c->cred_file : "(none configured)");
	if (status != 200 && status != 500)
		return error_set(err, status >= 500 ? HF_ERR_FAILED : HF_ERR_PROTOCOL,
				 "%s: Hyper-V host %s answered HTTP %ld", what, c->host, status);
	g_autoptr(WsmanResponse) r = NULL;
	if (wsman_parse_response(buf->str, buf->len, &r, err) < 0) {
		error_prefix(err, "%s: Hyper-V host %s (HTTP %ld)", what, c->host, status);
		return -1;
	}
	if (r->fault)
		return wsman_fault_error(r->fault, c->host, what, err);
	if (status == 500)
		return error_set(err, HF_ERR_PROTOCOL,
				 "%s: Hyper-V host %s answered HTTP 500 without a SOAP fault", what,
				 c->host);
	if (r->relates_to && strcmp(r->relates_to, msg_id))
		return error_set(err, HF_ERR_PROTOCOL,
				 "%s: Hyper-V host %s answered another request (RelatesTo %s)",
				 what, c->host, r->relates_to);
	*out = g_steal_pointer(&r);
	return 0;
}

/* ---- enumeration ---- */

static int enumerate(WsmanClient *c, const char *wql, bool epr, const char *what, GPtrArray **out,
		     HfError *err)
{
	g_autofree char *body = wsman_body_enumerate(wql, c->batch, epr);
	g_autoptr(WsmanResponse) r = NULL;
	g_autoptr(GPtrArray) all =
	    epr ? g_ptr_array_new_with_free_func((GDestroyNotify)wsman_ref_free)
		: g_ptr_array_new_with_free_func((GDestroyNotify)wsman_inst_free);

	if (post(c, WSMAN_V2 "*", EN "Enumerate", NULL, body, true, what, &r, err) < 0)
		return -1;
	for (int pulls = 0;; pulls++) {
		GPtrArray *got = epr ? r->eprs : r->items;
		while (got->len)
			g_ptr_array_add(all, g_ptr_array_steal_index(got, 0));
		if (!r->context || r->end)
			break;
		if (pulls >= MAX_PULLS || all->len > MAX_ITEMS)
			return error_set(err, HF_ERR_PROTOCOL,
					 "%s: Hyper-V host %s does not end the enumeration", what,
					 c->host);
		g_autofree char *ctx = g_steal_pointer(&r->context);
		g_autofree char *pull = wsman_body_pull(ctx, c->batch);
		g_clear_pointer(&r, wsman_response_free);
		if (post(c, WSMAN_V2 "*", EN "Pull", NULL, pull, false, what, &r, err) < 0)
			return -1;
	}
	*out = g_steal_pointer(&all);
	return 0;
}

int wsman_enumerate(WsmanClient *c, const char *wql, const char *what, GPtrArray **out,
		    HfError *err)
{
	return enumerate(c, wql, false, what, out, err);
}

int wsman_enumerate_epr(WsmanClient *c, const char *wql, const char *what, GPtrArray **out,
			HfError *err)
{
	return enumerate(c, wql, true, what, out, err);
}

/* ---- jobs ---- */

/* One poll of the job: its instance. */
static int job_get(WsmanClient *c, const char *wql, const char *job_id, const WsmanCall *call,
		   GPtrArray **jobs, HfError *err)
{
	if (wsman_enumerate(c, wql, call->what, jobs, err) < 0)
		return -1;
	if ((*jobs)->len == 0)
		return error_set(err, HF_ERR_FAILED,
				 "%s on Hyper-V host %s: job %s of %s disappeared", call->what,
				 c->host, job_id, call->method);
	return 0;
}

/* Ask the host to terminate the job, wait (bounded) until it has stopped; always fails with
 * HF_ERR_CANCELLED, saying whether the host's job stopped. */
static int job_terminate(WsmanClient *c, const char *wql, const char *job_id, const WsmanCall *call,
			 HfError *err)
{
	g_autoptr(WsmanRef) ref =
	    wsman_ref_new(WSMAN_V2 "Msvm_ConcreteJob", "InstanceID", job_id, NULL);
	WsmanParam p[] = {{"RequestedState", WSMAN_P_TEXT, "4", NULL}};
	g_autofree char *what = g_strdup_printf("terminating job %s (%s)", job_id, call->method);
	WsmanCall term = {.cls = "Msvm_ConcreteJob",
			  .method = "RequestStateChange",
			  .selectors = ref->selectors,
			  .params = p,
			  .n_params = 1,
			  .what = what,
			  .job_timeout_s = 30};
	HfError terr = {0};
	long long state = 4;
	if (wsman_call(c, &term, NULL, &terr) == 0) {
		gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
		while (state >= 2 && state <= 6 && g_get_monotonic_time() < deadline) {
			g_autoptr(GPtrArray) jobs = NULL;
			error_clear(&terr);
			if (job_get(c, wql, job_id, call, &jobs, &terr) < 0 ||
			    !wsman_inst_int(jobs->pdata[0], "JobState", &state))
				break;
			if (state >= 2 && state <= 6)
				g_usleep(200 * 1000);
		}
	}
	if (state >= 7)
		return error_set(err, HF_ERR_CANCELLED,
				 "%s on Hyper-V host %s cancelled: job %s (%s) stopped with "
				 "JobState %lld",
				 call->what, c->host, job_id, call->method, state);
	return error_set(err, HF_ERR_CANCELLED,
			 "%s on Hyper-V host %s cancelled, but job %s (%s) could not be stopped "
			 "(%s): it may still run on the host; check Hyper-V Manager",
			 call->what, c->host, job_id, call->method,
			 terr.code[0] ? terr.message : "still running after 30 s");
}

static int job_wait(WsmanClient *c, const char *job_id, const WsmanCall *call, HfError *err)
{
	g_autofree char *q = wsman_wql_quote(job_id);
	g_autofree char *wql =
	    g_strdup_printf("SELECT * FROM Msvm_ConcreteJob WHERE InstanceID=%s", q);
	gint64 deadline = g_get_monotonic_time() + (gint64)call->job_timeout_s * G_USEC_PER_SEC;
	gulong delay_ms = 100;
	long long last = -1;

	for (;;) {
		g_autoptr(GPtrArray) jobs = NULL;
		long long state = 0, pct = 0;
		if (job_get(c, wql, job_id, call, &jobs, err) < 0)
			return -1;
		const WsmanInst *j = jobs->pdata[0];
		if (!wsman_inst_int(j, "JobState", &state))
			return error_set(err, HF_ERR_PROTOCOL,
					 "%s on Hyper-V host %s: job %s has no JobState",
					 call->what, c->host, job_id);
		if (state == 7) {
			if (call->progress)
				call->progress(call->opaque, call->pct_to, call->method);
			return 0;
		}
		if (state >= 8)
			return wsman_job_error(j, c->host, call->what, err);
		if (wsman_inst_int(j, "PercentComplete", &pct) && pct != last && call->progress) {
			int span = call->pct_to - call->pct_from;
			g_autofree char *m = g_strdup_printf("%s: %s %lld%%", call->method,
							     wsman_inst_get(j, "JobStatus")
								 ? wsman_inst_get(j, "JobStatus")
								 : "running",
							     pct);
			call->progress(call->opaque,
				       call->pct_from + (int)(span * CLAMP(pct, 0, 100) / 100), m);
			last = pct;
		}
		if (call->cancelled && call->cancelled(call->opaque))
			return job_terminate(c, wql, job_id, call, err);
		if (g_get_monotonic_time() >= deadline)
			return error_set(
			    err, HF_ERR_TIMEOUT,
			    "%s on Hyper-V host %s: job %s (%s) did not finish within "
			    "%d s (job-timeout), last at %lld%%; it may still complete on "
			    "the host: check Hyper-V Manager",
			    call->what, c->host, job_id, call->method, call->job_timeout_s, pct);
		g_usleep(delay_ms * 1000);
		delay_ms = MIN(delay_ms * 2, call->cancelled ? 500 : 2000);
	}
}

int wsman_call(WsmanClient *c, const WsmanCall *call, char **job_id, HfError *err)
{
	g_autofree char *res = g_strconcat(WSMAN_V2, call->cls, NULL);
	g_autofree char *action = g_strconcat(res, "/", call->method, NULL);
	g_autofree char *body = wsman_body_invoke(res, call->method, call->params, call->n_params);
	g_autoptr(WsmanRef) self = wsman_ref_new(res, "CreationClassName", call->cls, NULL);
	g_autoptr(WsmanResponse) r = NULL;
	long long rv;

	if (job_id)
		*job_id = NULL;
	hf_log("hf-hyperv", LOG_LVL_DEBUG, "%s: %s.%s on %s", call->what, call->cls, call->method,
	       c->host);
	if (post(c, res, action, call->selectors ? call->selectors : self->selectors, body, false,
		 call->what, &r, err) < 0)
		return -1;
	if (!r->output || !wsman_inst_int(r->output, "ReturnValue", &rv))
		return error_set(err, HF_ERR_PROTOCOL,
				 "%s on Hyper-V host %s: %s answered without a ReturnValue",
				 call->what, c->host, call->method);
	if (rv == 0)
		return 0;
	if (rv != 4096)
		return wsman_return_error(rv, c->host, call->method, call->what, err);
	const char *id = wsman_ref_selector(wsman_inst_ref(r->output, "Job"), "InstanceID");
	if (!id || !*id)
		return error_set(
		    err, HF_ERR_PROTOCOL,
		    "%s on Hyper-V host %s: %s started a job but gave no reference to it",
		    call->what, c->host, call->method);
	if (job_id)
		*job_id = g_strdup(id);
	return job_wait(c, id, call, err);
}
