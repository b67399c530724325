/* wsman_xml.c - WS-Man envelopes (building, with escaping) and responses (parsing, tolerant of
 * both reference forms, xsi:nil, any prefixes). Pure functions: unit-tested and fuzzed. */
#include "wsman.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* ---- building ---- */

char *wsman_xml_escape(const char *s)
{
	GString *o = g_string_sized_new(s ? strlen(s) + 16 : 0);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&':
			g_string_append(o, "&amp;");
			break;
		case '<':
			g_string_append(o, "&lt;");
			break;
		case '>':
			g_string_append(o, "&gt;");
			break;
		case '"':
			g_string_append(o, "&quot;");
			break;
		case '\'':
			g_string_append(o, "&apos;");
			break;
		default:
			if (*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
				g_string_append_c(o, (char)*p);
		}
	}
	return g_string_free(o, FALSE);
}

char *wsman_wql_quote(const char *s)
{
	GString *o = g_string_new("'");
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '\\' || *p == '\'')
			g_string_append_c(o, '\\');
		g_string_append_c(o, *p);
	}
	g_string_append_c(o, '\'');
	return g_string_free(o, FALSE);
}

char *wsman_envelope(const char *to, const char *resource_uri, const char *action,
		     const char *message_id, const GPtrArray *selectors, int timeout_s,
		     const char *body_xml)
{
	g_autofree char *eto = wsman_xml_escape(to);
	g_autofree char *eres = wsman_xml_escape(resource_uri);
	g_autofree char *eact = wsman_xml_escape(action);
	g_autofree char *eid = wsman_xml_escape(message_id);
	GString *o = g_string_new(NULL);
	g_string_append_printf(
	    o,
	    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
	    "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
	    "xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" "
	    "xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">"
	    "<s:Header><a:To>%s</a:To>"
	    "<w:ResourceURI s:mustUnderstand=\"true\">%s</w:ResourceURI>"
	    "<a:ReplyTo><a:Address s:mustUnderstand=\"true\">" WSMAN_ANONYMOUS "</a:Address>"
	    "</a:ReplyTo><a:Action s:mustUnderstand=\"true\">%s</a:Action>"
	    "<w:MaxEnvelopeSize s:mustUnderstand=\"true\">512000</w:MaxEnvelopeSize>"
	    "<a:MessageID>%s</a:MessageID>"
	    "<w:Locale xml:lang=\"en-US\" s:mustUnderstand=\"false\"/>"
	    "<w:OperationTimeout>PT%dS</w:OperationTimeout>",
	    eto, eres, eact, eid, timeout_s > 0 ? timeout_s : 60);
	if (selectors && selectors->len) {
		g_string_append(o, "<w:SelectorSet>");
		for (guint i = 0; i < selectors->len; i++) {
			const WsmanSelector *s = selectors->pdata[i];
			g_autofree char *n = wsman_xml_escape(s->name);
			g_autofree char *v = wsman_xml_escape(s->value);
			g_string_append_printf(o, "<w:Selector Name=\"%s\">%s</w:Selector>", n, v);
		}
		g_string_append(o, "</w:SelectorSet>");
	}
	g_string_append_printf(o, "</s:Header><s:Body>%s</s:Body></s:Envelope>",
			       body_xml ? body_xml : "");
	return g_string_free(o, FALSE);
}

char *wsman_body_enumerate(const char *wql, unsigned max, bool epr)
{
	g_autofree char *q = wsman_xml_escape(wql);
	GString *o = g_string_new("<n:Enumerate>");
	if (max)
		g_string_append_printf(
		    o, "<w:OptimizeEnumeration/><w:MaxElements>%u</w:MaxElements>", max);
	if (epr)
		g_string_append(o, "<w:EnumerationMode>EnumerateEPR</w:EnumerationMode>");
	g_string_append_printf(o,
			       "<w:Filter Dialect=\"http://schemas.microsoft.com/wbem/wsman/1/"
			       "WQL\">%s</w:Filter></n:Enumerate>",
			       q);
	return g_string_free(o, FALSE);
}

char *wsman_body_pull(const char *context, unsigned max)
{
	g_autofree char *c = wsman_xml_escape(context);
	if (!max)
		return g_strdup_printf(
		    "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext></n:Pull>", c);
	return g_strdup_printf("<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
			       "<n:MaxElements>%u</n:MaxElements></n:Pull>",
			       c, max);
}

char *wsman_body_release(const char *context)
{
	g_autofree char *c = wsman_xml_escape(context);
	return g_strdup_printf(
	    "<n:Release><n:EnumerationContext>%s</n:EnumerationContext></n:Release>", c);
}

static void append_ref(GString *o, const WsmanRef *r)
{
	g_autofree char *addr = wsman_xml_escape(r->address ? r->address : WSMAN_ANONYMOUS);
	g_autofree char *res = wsman_xml_escape(r->resource_uri);
	g_string_append_printf(o,
			       "<a:Address>%s</a:Address><a:ReferenceParameters>"
			       "<w:ResourceURI>%s</w:ResourceURI><w:SelectorSet>",
			       addr, res);
	for (guint i = 0; r->selectors && i < r->selectors->len; i++) {
		const WsmanSelector *s = r->selectors->pdata[i];
		g_autofree char *n = wsman_xml_escape(s->name);
		g_autofree char *v = wsman_xml_escape(s->value);
		g_string_append_printf(o, "<w:Selector Name=\"%s\">%s</w:Selector>", n, v);
	}
	g_string_append(o, "</w:SelectorSet></a:ReferenceParameters>");
}

char *wsman_body_invoke(const char *resource_uri, const char *method, const WsmanParam *params,
			size_t n)
{
	g_autofree char *res = wsman_xml_escape(resource_uri);
	GString *o = g_string_new(NULL);
	g_string_append_printf(o, "<p:%s_INPUT xmlns:p=\"%s\">", method, res);
	for (size_t i = 0; i < n; i++) {
		const WsmanParam *p = &params[i];
		if (p->kind == WSMAN_P_NIL) {
			g_string_append_printf(
			    o, "<p:%s xmlns:xsi=\"" NS_XSI "\" xsi:nil=\"true\"/>", p->name);
			continue;
		}
		g_string_append_printf(o, "<p:%s>", p->name);
		if (p->kind == WSMAN_P_REF) {
			append_ref(o, p->ref);
		} else {
			g_autofree char *t = wsman_xml_escape(p->text);
			g_string_append(o, t);
		}
		g_string_append_printf(o, "</p:%s>", p->name);
	}
	g_string_append_printf(o, "</p:%s_INPUT>", method);
	return g_string_free(o, FALSE);
}

char *wsman_embedded_instance(const char *cls, const char *const *props)
{
	g_autofree char *c = wsman_xml_escape(cls);
	GString *o = g_string_new(NULL);
	g_string_append_printf(o, "<INSTANCE CLASSNAME=\"%s\">", c);
	for (size_t i = 0; props && props[i] && props[i + 1] && props[i + 2]; i += 3) {
		g_autofree char *n = wsman_xml_escape(props[i]);
		g_autofree char *t = wsman_xml_escape(props[i + 1]);
		g_autofree char *v = wsman_xml_escape(props[i + 2]);
		g_string_append_printf(
		    o, "<PROPERTY NAME=\"%s\" TYPE=\"%s\"><VALUE>%s</VALUE></PROPERTY>", n, t, v);
	}
	g_string_append(o, "</INSTANCE>");
	return g_string_free(o, FALSE);
}

char *wsman_object_path(const char *host, const char *cls, const char *key, const char *value)
{
	return g_strdup_printf("\\\\%s\\root\\virtualization\\v2:%s.%s=\"%s\"", host, cls, key,
			       value);
}

/* ---- model ---- */

void wsman_ref_free(WsmanRef *r)
{
	if (!r)
		return;
	g_free(r->address);
	g_free(r->resource_uri);
	g_ptr_array_unref(r->selectors);
	g_free(r);
}

static void selector_free(gpointer p)
{
	WsmanSelector *s = p;
	g_free(s->name);
	g_free(s->value);
	g_free(s);
}

static WsmanRef *ref_new(void)
{
	WsmanRef *r = g_new0(WsmanRef, 1);
	r->selectors = g_ptr_array_new_with_free_func(selector_free);
	return r;
}

static void ref_add(WsmanRef *r, const char *name, const char *value)
{
	WsmanSelector *s = g_new0(WsmanSelector, 1);
	s->name = g_strdup(name);
	s->value = g_strdup(value);
	g_ptr_array_add(r->selectors, s);
}

WsmanRef *wsman_ref_new(const char *resource_uri, ...)
{
	WsmanRef *r = ref_new();
	va_list ap;
	r->address = g_strdup(WSMAN_ANONYMOUS);
	r->resource_uri = g_strdup(resource_uri);
	va_start(ap, resource_uri);
	for (const char *n; (n = va_arg(ap, const char *));)
		ref_add(r, n, va_arg(ap, const char *));
	va_end(ap);
	return r;
}

const char *wsman_ref_selector(const WsmanRef *r, const char *name)
{
	for (guint i = 0; r && i < r->selectors->len; i++) {
		const WsmanSelector *s = r->selectors->pdata[i];
		if (s->name && !g_ascii_strcasecmp(s->name, name))
			return s->value;
	}
	return NULL;
}

static void prop_free(gpointer p)
{
	WsmanProp *pr = p;
	g_free(pr->name);
	g_ptr_array_unref(pr->values);
	wsman_ref_free(pr->ref);
	g_free(pr);
}

static WsmanInst *inst_new(const char *cls)
{
	WsmanInst *in = g_new0(WsmanInst, 1);
	in->cls = g_strdup(cls);
	in->props = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, prop_free);
	return in;
}

void wsman_inst_free(WsmanInst *in)
{
	if (!in)
		return;
	g_free(in->cls);
	g_hash_table_unref(in->props);
	g_free(in);
}

static WsmanProp *inst_prop(const WsmanInst *in, const char *name)
{
	if (!in)
		return NULL;
	g_autofree char *k = g_ascii_strdown(name, -1);
	return g_hash_table_lookup(in->props, k);
}

const char *wsman_inst_get(const WsmanInst *in, const char *name)
{
	WsmanProp *p = inst_prop(in, name);
	return p && p->values->len ? p->values->pdata[0] : NULL;
}

GPtrArray *wsman_inst_values(const WsmanInst *in, const char *name)
{
	WsmanProp *p = inst_prop(in, name);
	return p ? p->values : NULL;
}

const WsmanRef *wsman_inst_ref(const WsmanInst *in, const char *name)
{
	WsmanProp *p = inst_prop(in, name);
	return p ? p->ref : NULL;
}

bool wsman_inst_int(const WsmanInst *in, const char *name, long long *out)
{
	const char *v = wsman_inst_get(in, name);
	char *end = NULL;
	if (!v || !*v)
		return false;
	long long x = g_ascii_strtoll(v, &end, 10);
	if (*end)
		return false;
	*out = x;
	return true;
}

bool wsman_inst_bool(const WsmanInst *in, const char *name)
{
	const char *v = wsman_inst_get(in, name);
	return v && !g_ascii_strcasecmp(v, "true");
}

void wsman_fault_free(WsmanFault *f)
{
	if (!f)
		return;
	g_free(f->code);
	g_free(f->subcode);
	g_free(f->reason);
	g_free(f->wsman_code);
	g_free(f->message);
	g_free(f);
}

void wsman_response_free(WsmanResponse *r)
{
	if (!r)
		return;
	g_free(r->action);
	g_free(r->relates_to);
	g_free(r->context);
	g_ptr_array_unref(r->items);
	g_ptr_array_unref(r->eprs);
	wsman_inst_free(r->output);
	wsman_fault_free(r->fault);
	g_free(r);
}

/* ---- parsing ---- */

static bool is(const xmlNode *n, const char *local)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, local);
}

static xmlNode *child(const xmlNode *n, const char *local)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, local))
			return c;
	return NULL;
}

static bool has_elements(const xmlNode *n)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

static char *text(const xmlNode *n)
{
	if (!n)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	char *s = g_strdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

static char *text_trim(const xmlNode *n)
{
	char *s = text(n);
	return s ? g_strstrip(s) : NULL;
}

/* A reference: n holds a:Address / a:ReferenceParameters, or an a:EndpointReference that does. */
static WsmanRef *parse_ref(const xmlNode *n)
{
	if (child(n, "EndpointReference"))
		n = child(n, "EndpointReference");
	WsmanRef *r = ref_new();
	xmlNode *rp = child(n, "ReferenceParameters");
	r->address = text_trim(child(n, "Address"));
	r->resource_uri = text_trim(child(rp, "ResourceURI"));
	for (xmlNode *s = child(child(rp, "SelectorSet"), "Selector"); s; s = s->next) {
		if (!is(s, "Selector"))
			continue;
		xmlChar *name = xmlGetProp(s, (const xmlChar *)"Name");
		g_autofree char *v = text_trim(s);
		ref_add(r, name ? (const char *)name : "", v);
		xmlFree(name);
	}
	return r;
}

static bool is_ref(const xmlNode *n)
{
	return child(n, "Address") || child(n, "ReferenceParameters") ||
	       child(n, "EndpointReference");
}

static WsmanInst *parse_inst(const xmlNode *n)
{
	WsmanInst *in = inst_new((const char *)n->name);
	for (xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		g_autofree char *k = g_ascii_strdown((const char *)c->name, -1);
		WsmanProp *p = g_hash_table_lookup(in->props, k);
		if (!p) {
			p = g_new0(WsmanProp, 1);
			p->name = g_strdup((const char *)c->name);
			p->values = g_ptr_array_new_with_free_func(g_free);
			g_hash_table_insert(in->props, g_strdup(k), p);
		}
		xmlChar *nil = xmlGetNsProp(c, (const xmlChar *)"nil", (const xmlChar *)NS_XSI);
		bool is_nil =
		    nil && (!strcmp((const char *)nil, "true") || !strcmp((const char *)nil, "1"));
		xmlFree(nil);
		if (is_nil) {
			g_ptr_array_add(p->values, NULL);
		} else if (has_elements(c) && is_ref(c)) {
			if (!p->ref)
				p->ref = parse_ref(c);
			g_ptr_array_add(p->values, NULL);
		} else if (has_elements(c)) {
			xmlNode *e = c->children;
			while (e && e->type != XML_ELEMENT_NODE)
				e = e->next;
			g_ptr_array_add(p->values, text_trim(e)); /* cim:Datetime, cim:Interval */
		} else {
			g_ptr_array_add(p->values, text(c));
		}
	}
	return in;
}

static void parse_fault(WsmanResponse *r, const xmlNode *f)
{
	WsmanFault *ft = g_new0(WsmanFault, 1);
	xmlNode *code = child(f, "Code");
	ft->code = text_trim(child(code, "Value"));
	char *sub = text_trim(child(child(code, "Subcode"), "Value"));
	if (sub && strchr(sub, ':')) {
		char *s = g_strdup(strchr(sub, ':') + 1);
		g_free(sub);
		sub = s;
	}
	ft->subcode = sub;
	ft->reason = text_trim(child(child(f, "Reason"), "Text"));
	xmlNode *wf = child(child(f, "Detail"), "WSManFault");
	if (wf) {
		xmlChar *c = xmlGetProp(wf, (const xmlChar *)"Code");
		ft->wsman_code = c ? g_strdup((const char *)c) : NULL;
		xmlFree(c);
		ft->message = text_trim(child(wf, "Message"));
	}
	r->fault = ft;
}

static void parse_items(WsmanResponse *r, const xmlNode *items)
{
	for (xmlNode *c = items ? items->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "EndpointReference"))
			g_ptr_array_add(r->eprs, parse_ref(c));
		else
			g_ptr_array_add(r->items, parse_inst(c));
	}
}

int wsman_parse_response(const char *buf, size_t len, WsmanResponse **out, HfError *err)
{
	*out = NULL;
	if (!buf || len == 0 || len > WSMAN_RESPONSE_MAX)
		return error_set(err, HF_ERR_PROTOCOL,
				 "empty or oversized WS-Man response (%zu bytes)", len);
	g_autoptr(xmlDoc) doc = xmlReadMemory(buf, (int)len, "wsman-response.xml", NULL,
					      XML_PARSE_NONET | XML_PARSE_NOERROR |
						  XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	xmlNode *env = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!env)
		return error_set(err, HF_ERR_PROTOCOL,
				 "the WS-Man response is not well-formed XML");
	if (!is(env, "Envelope") || !child(env, "Body"))
		return error_set(err, HF_ERR_PROTOCOL,
				 "the WS-Man response is not a SOAP envelope (root <%s>)",
				 (const char *)env->name);
	g_autoptr(WsmanResponse) r = g_new0(WsmanResponse, 1);
	r->items = g_ptr_array_new_with_free_func((GDestroyNotify)wsman_inst_free);
	r->eprs = g_ptr_array_new_with_free_func((GDestroyNotify)wsman_ref_free);
	xmlNode *hdr = child(env, "Header");
	r->action = text_trim(child(hdr, "Action"));
	r->relates_to = text_trim(child(hdr, "RelatesTo"));
	xmlNode *body = child(env, "Body")->children;
	while (body && body->type != XML_ELEMENT_NODE)
		body = body->next;
	if (!body) {
		*out = g_steal_pointer(&r);
		return 0;
	}
	if (is(body, "Fault")) {
		parse_fault(r, body);
	} else if (is(body, "EnumerateResponse") || is(body, "PullResponse")) {
		xmlNode *ctx = child(body, "EnumerationContext");
		r->context = ctx ? text_trim(ctx) : NULL;
		if (r->context && !*r->context)
			g_clear_pointer(&r->context, g_free);
		r->end = child(body, "EndOfSequence") != NULL;
		parse_items(r, child(body, "Items"));
	} else if (g_str_has_suffix((const char *)body->name, "_OUTPUT")) {
		r->output = parse_inst(body);
	} else {
		g_ptr_array_add(r->items, parse_inst(body)); /* Transfer Get */
	}
	*out = g_steal_pointer(&r);
	return 0;
}

GHashTable *wsman_embedded_parse(const char *xml, char **cls, HfError *err)
{
	size_t len = xml ? strlen(xml) : 0;
	if (cls)
		*cls = NULL;
	if (!len || len > 1024 * 1024) {
		error_set(err, HF_ERR_PROTOCOL, "empty or oversized embedded instance");
		return NULL;
	}
	g_autoptr(xmlDoc) doc =
	    xmlReadMemory(xml, (int)len, "embedded.xml", NULL,
			  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!is(root, "INSTANCE")) {
		error_set(err, HF_ERR_PROTOCOL, "embedded instance is not a CIM-XML <INSTANCE>");
		return NULL;
	}
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (cls) {
		xmlChar *c = xmlGetProp(root, (const xmlChar *)"CLASSNAME");
		*cls = c ? g_strdup((const char *)c) : NULL;
		xmlFree(c);
	}
	for (xmlNode *p = root->children; p; p = p->next) {
		if (!is(p, "PROPERTY") && !is(p, "PROPERTY.ARRAY"))
			continue;
		xmlChar *name = xmlGetProp(p, (const xmlChar *)"NAME");
		if (!name)
			continue;
		xmlNode *v = child(p, "VALUE");
		if (!v && child(p, "VALUE.ARRAY"))
			v = child(child(p, "VALUE.ARRAY"), "VALUE");
		g_hash_table_replace(t, g_ascii_strdown((const char *)name, -1),
				     v ? text(v) : NULL);
		xmlFree(name);
	}
	return t;
}

char *wsman_path_guid(const char *path)
{
	if (!path)
		return NULL;
	const char *p = path, *m;
	while ((m = strstr(p, "Microsoft:")) || (m = strstr(p, "microsoft:")))
		p = m + strlen("Microsoft:");
	if (p == path && strchr(path, '"'))
		p = strchr(path, '"') + 1;
	size_t n = strcspn(p, "\"\\");
	return n ? g_strndup(p, n) : NULL;
}
