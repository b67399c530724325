/* libvirt_xml.c - the libvirt driver's XML: domain and snapshot descriptions in, snapshot
 * specifications out. Pure functions of their text (no hypervisor), so the unit tests cover
 * them directly. XPath with absolute paths: a snapshot embeds a whole <domain> whose <name> and
 * <description> must not be mistaken for the snapshot's own. */
#include "libvirt_priv.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <string.h>

typedef struct {
	xmlDoc *doc;
	xmlXPathContext *ctx;
} Xml;

static void xml_clear(Xml *x)
{
	g_clear_pointer(&x->ctx, xmlXPathFreeContext);
	g_clear_pointer(&x->doc, xmlFreeDoc);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Xml, xml_clear)

/* Parse text quietly (libxml2 would print to stderr) with the namespaces we query. */
static int xml_open(Xml *x, const char *text, const char *what, HfError *err)
{
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
	x->doc = text ? xmlReadMemory(text, (int)strlen(text), "libvirt.xml", NULL, opts) : NULL;
	if (!x->doc) {
		const xmlError *e = xmlGetLastError();
		g_autofree char *why = g_strdup(e && e->message ? e->message : "no document");
		g_strchomp(why);
		return error_set(err, HF_ERR_INTERNAL, "libvirt returned malformed XML for %s: %s",
				 what, why);
	}
	x->ctx = xmlXPathNewContext(x->doc);
	if (!x->ctx)
		g_error("out of memory");
	xmlXPathRegisterNs(x->ctx, BAD_CAST "lo", BAD_CAST LV_NS_LIBOSINFO);
	xmlXPathRegisterNs(x->ctx, BAD_CAST "hf", BAD_CAST LV_NS_HOLDFAST);
	return 0;
}

/* string(expr) relative to node (NULL: the document); NULL when empty. */
static char *xp_str(Xml *x, xmlNode *node, const char *expr)
{
	g_autofree char *full = g_strdup_printf("string(%s)", expr);
	x->ctx->node = node ? node : xmlDocGetRootElement(x->doc);
	g_autoptr(xmlXPathObject) o = xmlXPathEvalExpression(BAD_CAST full, x->ctx);
	if (!o || o->type != XPATH_STRING || !o->stringval || !o->stringval[0])
		return NULL;
	return g_strdup((const char *)o->stringval);
}

static int64_t xp_int(Xml *x, xmlNode *node, const char *expr, int64_t dflt)
{
	g_autofree char *s = xp_str(x, node, expr);
	char *end = NULL;
	if (!s)
		return dflt;
	gint64 v = g_ascii_strtoll(s, &end, 10);
	return end && !*end ? v : dflt;
}

/* The element nodes matching expr (a new array; empty when none). */
static GPtrArray *xp_nodes(Xml *x, const char *expr)
{
	GPtrArray *a = g_ptr_array_new();
	x->ctx->node = xmlDocGetRootElement(x->doc);
	g_autoptr(xmlXPathObject) o = xmlXPathEvalExpression(BAD_CAST expr, x->ctx);
	if (o && o->type == XPATH_NODESET && o->nodesetval)
		for (int i = 0; i < o->nodesetval->nodeNr; i++)
			g_ptr_array_add(a, o->nodesetval->nodeTab[i]);
	return a;
}

/* libvirt's memory units (virScaleInteger: b, bytes, k/KiB = 1024, KB = 1000, up to E) -> KiB. */
static uint64_t to_kib(uint64_t v, const char *unit)
{
	static const char scales[] = "kmgtpe";
	const char *p = unit ? strchr(scales, g_ascii_tolower(unit[0])) : NULL;
	uint64_t bytes = v;

	if (!unit || !unit[0] || !p)
		return unit && g_ascii_tolower(unit[0]) == 'b' ? v / 1024 : v;
	unsigned base = g_ascii_strcasecmp(unit + 1, "b") ? 1024 : 1000;
	for (const char *q = scales; q <= p; q++)
		bytes *= base;
	return bytes / 1024;
}

static uint64_t memory_kib(Xml *x)
{
	g_autofree char *cur = xp_str(x, NULL, "/domain/currentMemory");
	const char *el = cur ? "/domain/currentMemory" : "/domain/memory";
	g_autofree char *expr = g_strdup_printf("%s/@unit", el);
	g_autofree char *unit = xp_str(x, NULL, expr);
	int64_t v = xp_int(x, NULL, el, 0);
	return v > 0 ? to_kib((uint64_t)v, unit) : 0;
}

/* What a disk's <source> points at: file, block device, directory, pool/volume or a network
 * image as PROTOCOL://HOST/NAME (PROTOCOL:NAME without a host). NULL when empty (a cdrom). */
static char *disk_source(Xml *x, xmlNode *d)
{
	g_autofree char *type = xp_str(x, d, "@type");
	if (type && !strcmp(type, "volume")) {
		g_autofree char *pool = xp_str(x, d, "source/@pool");
		g_autofree char *vol = xp_str(x, d, "source/@volume");
		return vol ? g_strdup_printf("%s/%s", pool ? pool : "", vol) : NULL;
	}
	if (type && !strcmp(type, "network")) {
		g_autofree char *proto = xp_str(x, d, "source/@protocol");
		g_autofree char *name = xp_str(x, d, "source/@name");
		g_autofree char *host = xp_str(x, d, "source/host[1]/@name");
		g_autofree char *port = xp_str(x, d, "source/host[1]/@port");
		if (!proto && !name)
			return NULL;
		if (!host)
			return g_strdup_printf("%s:%s", proto ? proto : "", name ? name : "");
		return g_strdup_printf("%s://%s%s%s/%s", proto ? proto : "", host, port ? ":" : "",
				       port ? port : "", name ? name : "");
	}
	return xp_str(x, d, "source/@file | source/@dev | source/@dir | source/@path");
}

static void parse_disks(Xml *x, DrvGuest *g)
{
	g_autoptr(GPtrArray) nodes = xp_nodes(x, "/domain/devices/disk");
	for (guint i = 0; i < nodes->len; i++) {
		xmlNode *n = nodes->pdata[i];
		DrvDisk *d = drv_disk_new();
		d->target = xp_str(x, n, "target/@dev");
		d->device = xp_str(x, n, "@device");
		if (!d->device)
			d->device = g_strdup("disk");
		d->path = disk_source(x, n);
		d->format = xp_str(x, n, "driver/@type");
		g_ptr_array_add(g->disks, d);
	}
}

static char **split_tags(const char *s)
{
	g_auto(GStrv) parts = g_strsplit(s ? s : "", ",", -1);
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	for (size_t i = 0; parts[i]; i++) {
		g_strstrip(parts[i]);
		if (parts[i][0])
			g_ptr_array_add(out, g_strdup(parts[i]));
	}
	if (!out->len)
		return NULL;
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_steal(out, NULL);
}

/* holdfast's own <hf:guest os=...> wins over libosinfo; tags come only from holdfast's. */
static void parse_os(Xml *x, DrvGuest *g)
{
	g->os_id = xp_str(x, NULL, "/domain/metadata/hf:guest/@os");
	if (g->os_id)
		g->os_source = g_strdup("holdfast");
	else if ((g->os_id = xp_str(x, NULL, "/domain/metadata/lo:libosinfo/lo:os/@id")))
		g->os_source = g_strdup("libosinfo");
	g->win2008 = drv_os_is_win2008(g->os_id);
	g_autofree char *tags = xp_str(x, NULL, "/domain/metadata/hf:guest/@tags");
	g->tags = split_tags(tags);
}

int lv_xml_guest_parse(const char *xml, const char *what, DrvGuest *g, HfError *err)
{
	g_auto(Xml) x = {0};
	if (xml_open(&x, xml, what, err) < 0)
		return -1;
	g->name = xp_str(&x, NULL, "/domain/name");
	if (!g->name)
		return error_set(err, HF_ERR_INTERNAL,
				 "libvirt returned XML without a domain name for %s", what);
	g->uuid = xp_str(&x, NULL, "/domain/uuid");
	g->title = xp_str(&x, NULL, "/domain/title");
	g->description = xp_str(&x, NULL, "/domain/description");
	g->vcpus = (unsigned)xp_int(&x, NULL, "/domain/vcpu/@current",
				    xp_int(&x, NULL, "/domain/vcpu", 0));
	g->memory_kib = memory_kib(&x);
	g->nvram = xp_str(&x, NULL, "/domain/os/nvram");
	parse_disks(&x, g);
	parse_os(&x, g);
	return 0;
}

/* Internal (in the qcow2 images, maybe with memory), external (overlays / memory file) or
 * neither captured. Old snapshot XML has no <memory>: a running/paused state means memory. */
static void snapshot_kind(Xml *x, DrvSnapshot *s)
{
	g_autofree char *mem = xp_str(x, NULL, "/domainsnapshot/memory/@snapshot");
	g_autoptr(GPtrArray) ext = xp_nodes(x, "/domainsnapshot/disks/disk[@snapshot='external']");
	g_autoptr(GPtrArray) in = xp_nodes(x, "/domainsnapshot/disks/disk[@snapshot='internal']");
	g_autoptr(GPtrArray) disks = xp_nodes(x, "/domainsnapshot/disks/disk");
	bool disk_state = s->state && !strcmp(s->state, "disk-snapshot");

	if (mem)
		s->has_memory = !strcmp(mem, "internal") || !strcmp(mem, "external");
	else
		s->has_memory =
		    s->state && (!strcmp(s->state, "running") || !strcmp(s->state, "paused"));
	if (ext->len || (mem && !strcmp(mem, "external")) || (disk_state && !in->len))
		s->kind = DRV_SNAP_EXTERNAL;
	else if (in->len || (mem && !strcmp(mem, "internal")) || !disks->len)
		s->kind = DRV_SNAP_INTERNAL;
	else
		s->kind = DRV_SNAP_OTHER; /* every disk snapshot='no' and no memory */
}

int lv_xml_snapshot_parse(const char *xml, const char *what, DrvSnapshot *s, HfError *err)
{
	g_auto(Xml) x = {0};
	if (xml_open(&x, xml, what, err) < 0)
		return -1;
	s->name = xp_str(&x, NULL, "/domainsnapshot/name");
	if (!s->name)
		return error_set(err, HF_ERR_INTERNAL,
				 "libvirt returned snapshot XML without a "
				 "name for %s",
				 what);
	s->description = xp_str(&x, NULL, "/domainsnapshot/description");
	s->parent = xp_str(&x, NULL, "/domainsnapshot/parent/name");
	s->creation_time = xp_int(&x, NULL, "/domainsnapshot/creationTime", 0);
	s->state = xp_str(&x, NULL, "/domainsnapshot/state");
	snapshot_kind(&x, s);
	return 0;
}

char *lv_xml_snapshot_spec(const DrvSnapshotSpec *spec)
{
	g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *root = xmlNewNode(NULL, BAD_CAST "domainsnapshot");
	xmlChar *buf = NULL;
	int len = 0;

	xmlDocSetRootElement(doc, root);
	/* xmlNewTextChild escapes &, <, > and quotes in the content. */
	xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST spec->name);
	if (spec->description)
		xmlNewTextChild(root, NULL, BAD_CAST "description", BAD_CAST spec->description);
	xmlDocDumpFormatMemory(doc, &buf, &len, 0);
	if (!buf)
		g_error("out of memory");
	char *out = g_strndup((const char *)buf, (gsize)len);
	xmlFree(buf);
	return out;
}

char *lv_xml_internal_blocker(const char *domain_xml)
{
	g_auto(Xml) x = {0};
	HfError ignore = {0};
	if (xml_open(&x, domain_xml, "the guest", &ignore) < 0)
		return NULL; /* let libvirt judge */
	/* The disks libvirt would snapshot internally: writable, not excluded, not network. */
	g_autoptr(GPtrArray) nodes = xp_nodes(
	    &x, "/domain/devices/disk[(not(@device) or @device='disk') and not(readonly) and "
		"not(@snapshot='no') and not(@type='network') and driver/@type]");
	for (guint i = 0; i < nodes->len; i++) {
		g_autofree char *fmt = xp_str(&x, nodes->pdata[i], "driver/@type");
		if (!strcmp(fmt, "qcow2"))
			continue;
		g_autofree char *dev = xp_str(&x, nodes->pdata[i], "target/@dev");
		g_autofree char *src = disk_source(&x, nodes->pdata[i]);
		return g_strdup_printf("disk '%s' (%s) is %s", dev ? dev : "?",
				       src ? src : "no source", fmt);
	}
	return NULL;
}
