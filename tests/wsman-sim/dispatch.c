/* dispatch.c - route a request to enumeration or methods, apply misbehaviour, log it. */
#include "dispatch.h"
#include "control.h"
#include "enumeration.h"
#include "methods.h"
#include "reply.h"

#include <string.h>

#define ACT_ENUM "http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
#define ACT_GET "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"

typedef int (*Handler)(SimState *st, SoapReq *rq, GString **out, GString *log);

static const struct {
	const char *action;
	Handler fn;
} handlers[] = {
    {ACT_ENUM "Enumerate", enum_enumerate},
    {ACT_ENUM "Pull", enum_pull},
    {ACT_ENUM "Release", enum_release},
    {ACT_GET, enum_get},
};

static int route(SimState *st, SoapReq *rq, GString **out, GString *log)
{
	for (size_t i = 0; i < G_N_ELEMENTS(handlers); i++)
		if (strcmp(rq->action, handlers[i].action) == 0)
			return handlers[i].fn(st, rq, out, log);
	if (g_str_has_prefix(rq->action, SIM_V2))
		return methods_invoke(st, rq, out, log);
	*out = reply_fault(st, rq->message_id, FAULT_ACTION_NOT_SUPPORTED, NULL);
	return 500;
}

/* Cut the envelope in the middle of a tag: never well-formed. */
static void mangle(GString *body)
{
	g_string_truncate(body, body->len / 2);
	g_string_append(body, "<s:Bo");
}

static void log_line(SimState *st, const char *line)
{
	FILE *f = st->log;
	if (!f)
		f = stderr;
	fprintf(f, "%s\n", line);
	fflush(f);
}

void dispatch_log(SimState *st, const char *what, int status)
{
	g_autofree char *line = g_strdup_printf("wsman op=- %s status=%d", what, status);
	g_mutex_lock(&st->lock);
	log_line(st, line);
	g_mutex_unlock(&st->lock);
}

/* " fault=w:QuotaLimit" for the request log. */
static void log_fault(GString *log, const GString *body)
{
	const char *tag = "<s:Subcode><s:Value>";
	const char *at = strstr(body->str, tag);
	if (at) {
		at += strlen(tag);
		g_string_append_printf(log, " fault=%.*s", (int)strcspn(at, "<"), at);
	}
}

void dispatch_wsman(SimState *st, const char *buf, size_t len, DispatchOut *out)
{
	SoapReq rq;
	g_autofree char *perr = NULL;
	int parsed = soapreq_parse(&rq, buf, len, &perr);
	const char *op = parsed == 0 ? soapreq_op(&rq) : "-";
	g_autoptr(GString) log = g_string_new(NULL);

	g_mutex_lock(&st->lock);
	int delay = st->knobs.delay_ms;
	g_mutex_unlock(&st->lock);
	if (delay > 0)
		g_usleep((gulong)delay * 1000);

	g_mutex_lock(&st->lock);
	sim_count_op(st, op);
	memset(out, 0, sizeof(*out));
	if (parsed < 0) {
		out->body = reply_fault(st, NULL, FAULT_SCHEMA, perr);
		out->status = 500;
	} else if (ctl_fire(&st->knobs.drop, op)) {
		out->drop = true;
		g_string_append(log, " dropped");
	} else if (ctl_fire(&st->knobs.quota, op)) {
		out->body = reply_fault(st, rq.message_id, FAULT_QUOTA, NULL);
		out->status = 500;
	} else if (ctl_fire(&st->knobs.timeout, op)) {
		out->body = reply_fault(st, rq.message_id, FAULT_TIMED_OUT, NULL);
		out->status = 500;
	} else {
		out->status = route(st, &rq, &out->body, log);
	}
	if (out->body && out->status == 500)
		log_fault(log, out->body);
	if (out->body && ctl_fire(&st->knobs.malformed, op)) {
		mangle(out->body);
		g_string_append(log, " malformed");
	}
	g_autofree char *line =
	    g_strdup_printf("wsman op=%s%s status=%d", op, log->str, out->drop ? 0 : out->status);
	log_line(st, line);
	g_mutex_unlock(&st->lock);
	soapreq_clear(&rq);
}
