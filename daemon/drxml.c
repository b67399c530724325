/* drxml.c - the domain XML of a restored or test-booted guest, from a restore point's XML. */
#include "drxml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

static bool xml_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST name);
}

static void xml_drop(xmlNode *n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* Drop the children of n named `name`. */
static void xml_drop_children(xmlNode *n, const char *name)
{
	for (xmlNode *c = n->children, *next; c; c = next) {
		next = c->next;
		if (xml_is(c, name))
			xml_drop(c);
	}
}

static xmlNode *xml_child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (xml_is(c, name))
			return c;
	return NULL;
}

/* A disk's source as a string (file, dev, pool/volume, network name), or "". */
static char *xml_disk_source(xmlNode *disk)
{
	static const char *const attrs[] = {"file", "dev", "volume", "name", "path"};
	xmlNode *src = xml_child(disk, "source");
	for (size_t i = 0; src && i < G_N_ELEMENTS(attrs); i++) {
		xmlChar *v = xmlGetProp(src, BAD_CAST attrs[i]);
		if (v) {
			char *r = g_strdup((const char *)v);
			xmlFree(v);
			return r;
		}
	}
	return g_strdup("");
}

/* 0: rewritten or left as it is; 1: to be left out of the guest (a LUN, noted); -1: err. */
static int xml_disk_rewrite(xmlNode *disk, const DrXmlOpts *o, HfError *err)
{
	GHashTable *files = o->files;
	const char *name = o->name;
	g_autofree char *device = (char *)xmlGetProp(disk, BAD_CAST "device");
	if (device && strcmp(device, "disk") && strcmp(device, "lun"))
		return 0; /* cdrom, floppy: left as they are */
	xmlNode *t = xml_child(disk, "target");
	g_autofree char *dev = t ? (char *)xmlGetProp(t, BAD_CAST "dev") : NULL;
	const char *file = dev ? g_hash_table_lookup(files, dev) : NULL;
	if (!file && !g_strcmp0(device, "lun")) {
		if (o->keep_luns)
			return 0;
		g_autofree char *src = xml_disk_source(disk);
		if (o->left_out)
			g_ptr_array_add(o->left_out,
					g_strdup_printf("%s (lun %s): a passthrough LUN is not in "
							"the restore point and is not given to "
							"guest '%s'; attach the LUN (or its "
							"replica) yourself if it needs one",
							dev ? dev : "?", src, name));
		return 1;
	}
	if (!file)
		return error_set(
		    err, HF_ERR_FAILED,
		    "disk %s of the restore point's domain XML has no image in the "
		    "point; restoring it would share the source guest's disk, so guest "
		    "'%s' is not defined: take a new full copy (dr copy --full)",
		    dev ? dev : "(no target)", name);
	xmlSetProp(disk, BAD_CAST "type", BAD_CAST "file");
	xml_drop_children(disk, "source");
	xml_drop_children(disk, "backingStore");
	xml_drop_children(disk, "mirror");
	xmlNode *drv = xml_child(disk, "driver");
	if (!drv) {
		drv = xmlNewChild(disk, NULL, BAD_CAST "driver", NULL);
		xmlSetProp(drv, BAD_CAST "name", BAD_CAST "qemu");
	}
	xmlSetProp(drv, BAD_CAST "type", BAD_CAST "qcow2");
	xmlNode *src = xmlNewChild(disk, NULL, BAD_CAST "source", NULL);
	xmlSetProp(src, BAD_CAST "file", BAD_CAST file); /* escaped by libxml2 */
	return 0;
}

/* A serial/console/parallel logging to a file: the new guest's own file, NAME-FILE next to it
 * (two guests cannot log into one file, and the source's log is not the new guest's). */
static void xml_log_rewrite(xmlNode *dev, const char *name)
{
	xmlNode *src = xml_child(dev, "source");
	g_autofree char *type = (char *)xmlGetProp(dev, BAD_CAST "type");
	g_autofree char *path = src ? (char *)xmlGetProp(src, BAD_CAST "path") : NULL;
	if (!path || g_strcmp0(type, "file"))
		return;
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *nbase = g_strdup_printf("%s-%s", name, base);
	g_autofree char *np = g_build_filename(dir, nbase, NULL);
	xmlSetProp(src, BAD_CAST "path", BAD_CAST np);
}

static bool xml_ns_is(const xmlNode *n, const char *ns)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       !xmlStrcmp(n->ns->href, BAD_CAST ns);
}

/* holdfast's DR elements of the source never carry over (a failover mark would forbid starting
 * the new guest; an old restore record is not this restore's); the new record goes in. */
static void xml_metadata(xmlNode *root, const DrXmlRecord *r)
{
	xmlNode *md = xml_child(root, "metadata");
	for (xmlNode *c = md ? md->children : NULL, *next; c; c = next) {
		next = c->next;
		if (xml_ns_is(c, DRXML_NS_RESTORE) || xml_ns_is(c, DRXML_NS_FAILOVER))
			xml_drop(c);
	}
	if (!r)
		return;
	if (!md) {
		md = xmlNewNode(NULL, BAD_CAST "metadata");
		xmlNode *after = xml_child(root, "description");
		if (!after)
			after = xml_child(root, "title");
		if (!after)
			after = xml_child(root, "uuid");
		if (!after)
			after = xml_child(root, "name");
		if (after)
			xmlAddNextSibling(after, md);
		else
			xmlAddChild(root, md);
	}
	xmlNode *e = xmlNewChild(md, NULL, BAD_CAST "restore", NULL);
	xmlNs *ns = xmlNewNs(e, BAD_CAST DRXML_NS_RESTORE, BAD_CAST "hfdr");
	xmlSetNs(e, ns);
	const char *kv[][2] = {{"point", r->point},
			       {"guest", r->guest},
			       {"uuid", r->uuid},
			       {"time", r->time},
			       {"mode", r->mode}};
	for (size_t i = 0; i < G_N_ELEMENTS(kv); i++)
		if (kv[i][1])
			xmlSetProp(e, BAD_CAST kv[i][0], BAD_CAST kv[i][1]);
}

void drxml_left_out(GPtrArray *left_out, cJSON *result)
{
	if (!left_out)
		return;
	if (left_out->len && result) {
		cJSON *a = cJSON_AddArrayToObject(result, "left_out");
		for (guint i = 0; i < left_out->len; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(left_out->pdata[i]));
	}
	g_ptr_array_unref(left_out);
}

char *drxml_restore(const char *xml, const DrXmlOpts *o, HfError *err)
{
	const char *name = o->name;
	g_autoptr(xmlDoc) doc =
	    xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
		: NULL;
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || !xml_is(root, "domain"))
		return error_set(err, HF_ERR_FAILED,
				 "the restore point's domain XML is missing or not a <domain>; "
				 "guest '%s' cannot be defined from it: take a new copy",
				 name),
		       NULL;
	if (!o->keep_uuid)
		xml_drop_children(root, "uuid");
	xmlNode *n = xml_child(root, "name");
	if (!n)
		n = xmlNewChild(root, NULL, BAD_CAST "name", NULL);
	xmlNodeSetContent(n, NULL);
	xmlNodeAddContent(n, BAD_CAST name); /* escaped */
	xmlNode *os = xml_child(root, "os");
	if (os) {
		/* never the source's NVRAM file: the point's copy, else libvirt makes a fresh one
		 */
		xmlNode *nv = xml_child(os, "nvram");
		if (nv && o->nvram) {
			xmlNodeSetContent(nv, NULL);
			xmlNodeAddContent(nv, BAD_CAST o->nvram);
		} else if (nv) {
			xml_drop(nv);
		}
	}
	xml_metadata(root, o->record);
	xmlNode *devs = xml_child(root, "devices");
	for (xmlNode *c = devs ? devs->children : NULL, *next; c; c = next) {
		next = c->next;
		int dr = xml_is(c, "disk") ? xml_disk_rewrite(c, o, err) : 0;
		if (dr < 0)
			return NULL;
		if (dr > 0) {
			xml_drop(c);
			continue;
		}
		if (xml_is(c, "interface") && o->isolate) {
			xml_drop(c); /* a test boot: no network at all */
			continue;
		}
		if (xml_is(c, "interface") && !o->keep_uuid && !o->keep_mac)
			xml_drop_children(c, "mac");
		if ((xml_is(c, "serial") || xml_is(c, "console") || xml_is(c, "parallel")) &&
		    !o->keep_uuid)
			xml_log_rewrite(c, name);
	}
	xmlChar *out = NULL;
	int len = 0;
	xmlDocDumpMemory(doc, &out, &len);
	char *r = g_strndup((const char *)out, (gsize)len);
	xmlFree(out);
	return r;
}

static xmlDoc *xml_parse(const char *xml)
{
	return xml ? xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL,
				   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
		   : NULL;
}

char *drxml_element(const char *prefix, const char *ns, const char *elem, ...)
{
	g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *e = xmlNewNode(NULL, BAD_CAST elem);
	xmlDocSetRootElement(doc, e);
	if (ns)
		xmlSetNs(e, xmlNewNs(e, BAD_CAST ns, BAD_CAST prefix));
	va_list ap;
	va_start(ap, elem);
	const char *k;
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		if (v)
			xmlSetProp(e, BAD_CAST k, BAD_CAST v);
	}
	va_end(ap);
	xmlBuffer *buf = xmlBufferCreate();
	xmlNodeDump(buf, doc, e, 0, 0);
	char *r = g_strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return r;
}

char *drxml_failover_mark(const char *time, const char *point, const char *host, const char *name,
			  const char *mode)
{
	/* no namespace: libvirt's SetMetadata puts the element into its own (uri, key) */
	return drxml_element(NULL, NULL, "failover", "time", time, "point", point, "host", host,
			     "name", name, "mode", mode, NULL);
}

GHashTable *drxml_attrs(const char *xml)
{
	g_autoptr(xmlDoc) doc = xml_parse(xml);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root)
		return NULL;
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (xmlAttr *a = root->properties; a; a = a->next) {
		xmlChar *v = xmlNodeListGetString(doc, a->children, 1);
		g_hash_table_insert(t, g_strdup((const char *)a->name),
				    g_strdup(v ? (const char *)v : ""));
		xmlFree(v);
	}
	return t;
}

char *drxml_nvram(const char *xml)
{
	g_autoptr(xmlDoc) doc = xml_parse(xml);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *os = root ? xml_child(root, "os") : NULL;
	xmlNode *nv = os ? xml_child(os, "nvram") : NULL;
	xmlChar *c = nv ? xmlNodeGetContent(nv) : NULL;
	char *r = c && *c ? g_strdup(g_strstrip((char *)c)) : NULL;
	xmlFree(c);
	return r;
}
