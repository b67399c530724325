/* drxml.c - the domain XML of a restored or test-booted guest, from a restore point's XML. */
#include "drxml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
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

static int xml_disk_rewrite(xmlNode *disk, GHashTable *files, const char *name, HfError *err)
{
	g_autofree char *device = (char *)xmlGetProp(disk, BAD_CAST "device");
	if (device && strcmp(device, "disk") && strcmp(device, "lun"))
		return 0; /* cdrom, floppy: left as they are */
	xmlNode *t = xml_child(disk, "target");
	g_autofree char *dev = t ? (char *)xmlGetProp(t, BAD_CAST "dev") : NULL;
	const char *file = dev ? g_hash_table_lookup(files, dev) : NULL;
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

char *drxml_restore(const char *xml, const DrXmlOpts *o, HfError *err)
{
	const char *name = o->name;
	GHashTable *files = o->files;
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
	xmlNode *devs = xml_child(root, "devices");
	for (xmlNode *c = devs ? devs->children : NULL, *next; c; c = next) {
		next = c->next;
		if (xml_is(c, "disk") && xml_disk_rewrite(c, files, name, err) < 0)
			return NULL;
		if (xml_is(c, "interface") && o->isolate) {
			xml_drop(c); /* a test boot: no network at all */
			continue;
		}
		if (xml_is(c, "interface") && !o->keep_uuid)
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
