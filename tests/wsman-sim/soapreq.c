/* soapreq.c - headers, enumeration bodies and Invoke parameters of a request envelope. */
#include "soapreq.h"

#include <libxml/parser.h>
#include <string.h>

#define NS_S "http://www.w3.org/2003/05/soap-envelope"
#define NS_A "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define NS_N "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define NS_W "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

static bool is(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0 &&
	       (!ns || (n->ns && xmlStrcmp(n->ns->href, BAD_CAST ns) == 0));
}

static xmlNode *child(const xmlNode *parent, const char *ns, const char *name)
{
	for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
		if (is(c, ns, name))
			return c;
	return NULL;
}

static char *content(const xmlNode *n)
{
	if (!n)
		return NULL;
	xmlChar *x = xmlNodeGetContent(n);
	char *s = g_strstrip(g_strdup(x ? (const char *)x : ""));
	xmlFree(x);
	return s;
}

static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *x = xmlGetProp(n, BAD_CAST name);
	char *s = x ? g_strdup((const char *)x) : NULL;
	xmlFree(x);
	return s;
}

static GPtrArray *selector_set(const xmlNode *set)
{
	GPtrArray *sel = g_ptr_array_new_with_free_func(sim_pair_free);
	for (xmlNode *c = set ? set->children : NULL; c; c = c->next) {
		if (!is(c, NS_W, "Selector"))
			continue;
		g_autofree char *name = attr(c, "Name");
		g_autofree char *value = content(c);
		if (name)
			g_ptr_array_add(sel, sim_pair_new(name, value));
	}
	return sel;
}

static void parse_enumeration(SoapReq *rq)
{
	xmlNode *b = rq->body;
	if (is(b, NS_N, "Enumerate")) {
		xmlNode *f = child(b, NS_W, "Filter");
		xmlNode *max = child(b, NS_W, "MaxElements");
		g_autofree char *mode = content(child(b, NS_W, "EnumerationMode"));
		rq->filter = content(f);
		rq->dialect = f ? attr(f, "Dialect") : NULL;
		rq->optimize = child(b, NS_W, "OptimizeEnumeration") != NULL;
		if (max) {
			g_autofree char *m = content(max);
			rq->max_elements = atoi(m);
		}
		rq->epr_mode = mode && strcmp(mode, "EnumerateEPR") == 0;
	} else if (is(b, NS_N, "Pull") || is(b, NS_N, "Release")) {
		xmlNode *max = child(b, NS_N, "MaxElements");
		rq->context = content(child(b, NS_N, "EnumerationContext"));
		if (max) {
			g_autofree char *m = content(max);
			rq->max_elements = atoi(m);
		}
	}
}

int soapreq_parse(SoapReq *rq, const char *buf, size_t len, char **err)
{
	memset(rq, 0, sizeof(*rq));
	rq->doc = xmlReadMemory(buf, (int)len, "request.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *env = rq->doc ? xmlDocGetRootElement(rq->doc) : NULL;
	if (!is(env, NS_S, "Envelope")) {
		*err = g_strdup("the request is not a SOAP 1.2 envelope");
		return -1;
	}
	xmlNode *hdr = child(env, NS_S, "Header");
	xmlNode *body = child(env, NS_S, "Body");
	rq->action = content(child(hdr, NS_A, "Action"));
	rq->message_id = content(child(hdr, NS_A, "MessageID"));
	rq->resource_uri = content(child(hdr, NS_W, "ResourceURI"));
	rq->selectors = selector_set(child(hdr, NS_W, "SelectorSet"));
	g_autofree char *env_max = content(child(hdr, NS_W, "MaxEnvelopeSize"));
	rq->max_envelope = env_max ? atol(env_max) : 0;
	for (xmlNode *c = body ? body->children : NULL; c && !rq->body; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			rq->body = c;
	if (!rq->action || !body) {
		*err = g_strdup("the request has no a:Action or no s:Body");
		return -1;
	}
	parse_enumeration(rq);
	return 0;
}

void soapreq_clear(SoapReq *rq)
{
	if (rq->doc)
		xmlFreeDoc(rq->doc);
	g_free(rq->action);
	g_free(rq->message_id);
	g_free(rq->resource_uri);
	if (rq->selectors)
		g_ptr_array_unref(rq->selectors);
	g_free(rq->filter);
	g_free(rq->dialect);
	g_free(rq->context);
	memset(rq, 0, sizeof(*rq));
}

const char *soapreq_op(const SoapReq *rq)
{
	const char *slash = rq->action ? strrchr(rq->action, '/') : NULL;
	return slash && slash[1] ? slash + 1 : "-";
}

static xmlNode *param_node(const SoapReq *rq, const char *name)
{
	for (xmlNode *c = rq->body ? rq->body->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    g_ascii_strcasecmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

char *soapreq_param(const SoapReq *rq, const char *name, bool *present)
{
	xmlNode *n = param_node(rq, name);
	*present = n != NULL;
	if (!n)
		return NULL;
	xmlChar *nil = xmlGetNsProp(n, BAD_CAST "nil", BAD_CAST NS_XSI);
	bool is_nil = nil && xmlStrcmp(nil, BAD_CAST "true") == 0;
	xmlFree(nil);
	return is_nil ? NULL : content(n);
}

int soapreq_param_ref(const SoapReq *rq, const char *name, char **cls, GPtrArray **sel)
{
	xmlNode *n = param_node(rq, name);
	xmlNode *wrapped = child(n, NS_A, "EndpointReference");
	xmlNode *refp = child(wrapped ? wrapped : n, NS_A, "ReferenceParameters");
	g_autofree char *uri = content(child(refp, NS_W, "ResourceURI"));
	if (!uri || !g_str_has_prefix(uri, SIM_V2))
		return -1;
	*cls = g_strdup(uri + strlen(SIM_V2));
	*sel = selector_set(child(refp, NS_W, "SelectorSet"));
	return 0;
}

GPtrArray *soapreq_embedded(const char *text, char **classname, char **err)
{
	xmlDoc *doc = xmlReadMemory(text, (int)strlen(text), "instance.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!is(root, NULL, "INSTANCE")) {
		*err = g_strdup("the embedded instance is not CIM-XML <INSTANCE>");
		if (doc)
			xmlFreeDoc(doc);
		return NULL;
	}
	*classname = attr(root, "CLASSNAME");
	GPtrArray *props = g_ptr_array_new_with_free_func(sim_pair_free);
	for (xmlNode *c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    g_ascii_strncasecmp((const char *)c->name, "PROPERTY", 8) != 0)
			continue;
		g_autofree char *pname = attr(c, "NAME");
		xmlNode *v = child(c, NULL, "VALUE");
		if (!v)
			v = child(child(c, NULL, "VALUE.ARRAY"), NULL, "VALUE");
		g_autofree char *value = content(v);
		if (pname)
			g_ptr_array_add(props, sim_pair_new(pname, value));
	}
	xmlFreeDoc(doc);
	return props;
}
