/* enumeration.c - WQL enumerations with contexts, batching and expiry; Get by selectors. */
#include "enumeration.h"
#include "classes.h"
#include "reply.h"
#include "wql.h"

#include <string.h>

#define WQL_DIALECT "http://schemas.microsoft.com/wbem/wsman/1/WQL"
#define ACT_ENUM "http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
#define ACT_GET_RESPONSE "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
#define DEFAULT_MAX_ENVELOPE 512000

typedef struct {
	GPtrArray *items; /* SimInst */
	guint pos;
	bool epr;
	char *filter;
	gint64 touched;
} SimEnum;

void enum_free(gpointer p)
{
	SimEnum *e = p;
	g_ptr_array_unref(e->items);
	g_free(e->filter);
	g_free(e);
}

static int fault(SimState *st, SoapReq *rq, GString **out, ReplyFault kind, const char *detail)
{
	*out = reply_fault(st, rq->message_id, kind, detail);
	return 500;
}

/* Items for a WQL filter; NULL with a fault in *OUT when it cannot be run. */
static GPtrArray *run_wql(SimState *st, SoapReq *rq, GString **out)
{
	g_autofree char *errmsg = NULL;
	if (!rq->filter || !rq->dialect || strcmp(rq->dialect, WQL_DIALECT) != 0) {
		fault(st, rq, out, FAULT_CANNOT_PROCESS_FILTER,
		      "The v2/* resource URI needs a wsman:Filter in the WQL dialect.");
		return NULL;
	}
	g_autoptr(WqlQuery) q = wql_parse(rq->filter, &errmsg);
	if (!q) {
		g_autofree char *d = g_strdup_printf("Invalid WQL query: %s.", errmsg);
		fault(st, rq, out, FAULT_CANNOT_PROCESS_FILTER, d);
		return NULL;
	}
	const char *names[] = {q->cls, q->assoc_class, q->result_class};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (names[i] && !cls_known(names[i])) {
			g_autofree char *d = g_strdup_printf(
			    "The class %s does not exist in the " SIM_NAMESPACE " namespace.",
			    names[i]);
			fault(st, rq, out, FAULT_CANNOT_PROCESS_FILTER, d);
			return NULL;
		}
	}
	if (q->kind == WQL_ASSOCIATORS)
		return cls_associators(st, q);
	if (!cls_find(q->cls)) {
		fault(st, rq, out, FAULT_CANNOT_PROCESS_FILTER,
		      "Select from an association class.");
		return NULL;
	}
	GPtrArray *all = cls_instances(st, cls_find(q->cls));
	for (guint i = 0; i < all->len; i++) {
		const char *bad = NULL;
		int m = wql_match(q, g_ptr_array_index(all, i), &bad);
		if (m < 0) {
			g_autofree char *d =
			    g_strdup_printf("The class %s has no property %s.", q->cls, bad);
			fault(st, rq, out, FAULT_CANNOT_PROCESS_FILTER, d);
			g_ptr_array_unref(all);
			return NULL;
		}
		if (m == 0)
			g_ptr_array_remove_index(all, i--);
	}
	return all;
}

/* Write up to MAX items of E (at least one, and while the envelope stays under LIMIT). */
static guint write_items(SimState *st, SimEnum *e, GString *out, int max, long limit)
{
	guint n = 0;
	while (e->pos < e->items->len && (max <= 0 ? n < 1 : n < (guint)max)) {
		gsize before = out->len;
		SimInst *in = g_ptr_array_index(e->items, e->pos);
		if (e->epr) {
			g_autoptr(GPtrArray) sel = cls_selectors(in);
			reply_ref(out, NULL, in->cls, sel, false);
		} else {
			reply_instance(out, in, st->knobs.epr_wrapper);
		}
		if (n > 0 && (long)out->len > limit) {
			g_string_truncate(out, before);
			break;
		}
		e->pos++;
		n++;
	}
	return n;
}

static void expire(SimState *st)
{
	GHashTableIter it;
	gpointer v;
	gint64 cutoff = sim_now() - (gint64)st->knobs.enum_expiry_ms * 1000;
	g_hash_table_iter_init(&it, st->enums);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((SimEnum *)v)->touched < cutoff)
			g_hash_table_iter_remove(&it);
}

static long envelope_limit(const SoapReq *rq)
{
	return (rq->max_envelope > 0 ? rq->max_envelope : DEFAULT_MAX_ENVELOPE) - 1024;
}

int enum_enumerate(SimState *st, SoapReq *rq, GString **out, GString *log)
{
	const char *uri = rq->resource_uri ? rq->resource_uri : "";
	g_string_append_printf(log, " resource=%s", uri);
	if (rq->filter)
		g_string_append_printf(log, " filter=\"%s\"", rq->filter);
	if (!g_str_has_prefix(uri, SIM_V2))
		return fault(st, rq, out, FAULT_DEST_UNREACHABLE,
			     "The resource URI is not in the " SIM_NAMESPACE " namespace.");
	const char *cls = uri + strlen(SIM_V2);
	GPtrArray *items;
	if (strcmp(cls, "*") == 0) {
		if (!(items = run_wql(st, rq, out)))
			return 500;
	} else if (!cls_find(cls)) {
		g_autofree char *d = g_strdup_printf(
		    "The class %s does not exist in the " SIM_NAMESPACE " namespace.", cls);
		return fault(st, rq, out, FAULT_DEST_UNREACHABLE, d);
	} else if (rq->filter) {
		return fault(st, rq, out, FAULT_CANNOT_PROCESS_FILTER,
			     "A WQL filter is only accepted with the resource URI " SIM_V2 "*.");
	} else {
		items = cls_instances(st, cls_find(cls));
	}

	expire(st);
	SimEnum *e = g_new0(SimEnum, 1);
	e->items = items;
	e->epr = rq->epr_mode;
	e->filter = g_strdup(rq->filter);
	e->touched = sim_now();
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *id = g_ascii_strup(uuid, -1);
	char *ctx = g_strdup_printf("uuid:%s", id);
	g_hash_table_insert(st->enums, ctx, e);

	g_autoptr(GString) items_xml = g_string_new(NULL);
	guint n =
	    rq->optimize ? write_items(st, e, items_xml, rq->max_elements, envelope_limit(rq)) : 0;
	bool done = rq->optimize && e->pos >= e->items->len;
	*out = reply_begin(st, ACT_ENUM "EnumerateResponse", rq->message_id);
	g_string_append(*out, "<n:EnumerateResponse>");
	if (!done)
		g_string_append_printf(*out, "<n:EnumerationContext>%s</n:EnumerationContext>",
				       ctx);
	if (rq->optimize)
		g_string_append_printf(*out, "<w:Items>%s</w:Items>", items_xml->str);
	if (done)
		g_string_append(*out, "<w:EndOfSequence/>");
	g_string_append(*out, "</n:EnumerateResponse>");
	reply_finish(*out);
	g_string_append_printf(log, " total=%u items=%u%s", e->items->len, n, done ? " end" : "");
	if (done)
		g_hash_table_remove(st->enums, ctx);
	return 200;
}

int enum_pull(SimState *st, SoapReq *rq, GString **out, GString *log)
{
	SimEnum *e = rq->context ? g_hash_table_lookup(st->enums, rq->context) : NULL;
	gint64 now = sim_now();
	if (e && e->touched < now - (gint64)st->knobs.enum_expiry_ms * 1000) {
		g_hash_table_remove(st->enums, rq->context);
		e = NULL;
	}
	if (!e) {
		g_string_append_printf(log, " context=%s invalid", rq->context ? rq->context : "-");
		return fault(st, rq, out, FAULT_INVALID_CONTEXT,
			     "The enumeration context is not valid: it expired, was released or "
			     "finished.");
	}
	if (e->filter)
		g_string_append_printf(log, " filter=\"%s\"", e->filter);
	e->touched = now;
	g_autoptr(GString) items = g_string_new(NULL);
	guint n = write_items(st, e, items, rq->max_elements, envelope_limit(rq));
	bool done = e->pos >= e->items->len;
	*out = reply_begin(st, ACT_ENUM "PullResponse", rq->message_id);
	g_string_append(*out, "<n:PullResponse>");
	if (!done)
		g_string_append_printf(*out, "<n:EnumerationContext>%s</n:EnumerationContext>",
				       rq->context);
	g_string_append_printf(*out, "<n:Items>%s</n:Items>%s</n:PullResponse>", items->str,
			       done ? "<n:EndOfSequence/>" : "");
	reply_finish(*out);
	g_string_append_printf(log, " items=%u%s", n, done ? " end" : "");
	if (done)
		g_hash_table_remove(st->enums, rq->context);
	return 200;
}

int enum_release(SimState *st, SoapReq *rq, GString **out, GString *log)
{
	if (!rq->context || !g_hash_table_remove(st->enums, rq->context))
		return fault(st, rq, out, FAULT_INVALID_CONTEXT,
			     "The enumeration context is not valid.");
	*out = reply_begin(st, ACT_ENUM "ReleaseResponse", rq->message_id);
	reply_finish(*out);
	return 200;
}

int enum_get(SimState *st, SoapReq *rq, GString **out, GString *log)
{
	const char *uri = rq->resource_uri ? rq->resource_uri : "";
	g_string_append_printf(log, " resource=%s", uri);
	const char *cls = g_str_has_prefix(uri, SIM_V2) ? uri + strlen(SIM_V2) : NULL;
	if (!cls || !cls_find(cls))
		return fault(st, rq, out, FAULT_DEST_UNREACHABLE,
			     "The resource URI does not name a class of " SIM_NAMESPACE ".");
	g_autofree char *err = NULL;
	g_autoptr(SimInst) in = cls_lookup(st, cls, rq->selectors, &err);
	if (!in)
		return fault(st, rq, out, FAULT_INVALID_SELECTORS, err);
	*out = reply_begin(st, ACT_GET_RESPONSE, rq->message_id);
	reply_instance(*out, in, st->knobs.epr_wrapper);
	reply_finish(*out);
	return 200;
}
