/* drmark.c - the failover mark on a source guest (drmark.h). */
#include "drmark.h"

#include "drxml.h"
#include "statefile.h"

#define STORE_MARK "failed-over.json"

static const char *or_q(const char *s)
{
	return s ? s : "?";
}

char *drmark_get(DrvConn *c, const char *guest)
{
	char *xml = NULL;
	HfError e = {0};
	if (drv_metadata_get(c, guest, DRXML_NS_FAILOVER, 0, &xml, &e) < 0)
		return NULL;
	return xml;
}

int drmark_refuse(DrvConn *c, const char *guest, const char *what, HfError *err)
{
	g_autofree char *xml = drmark_get(c, guest);
	g_autoptr(GHashTable) a = drxml_attrs(xml);
	if (!a)
		return 0;
	const char *h = g_hash_table_lookup(a, "host"), *n = g_hash_table_lookup(a, "name");
	return error_set(err, HF_ERR_CONFLICT,
			 "guest '%s' was failed over to %s/%s at %s (point %s): holdfast makes "
			 "no %s of it any more, and it must not be started; the guest runs at "
			 "the DR host now. To use this copy again (failback), remove the mark: "
			 "virsh metadata %s %s --config --remove",
			 guest, h ? h : "?", n ? n : "?", or_q(g_hash_table_lookup(a, "time")),
			 or_q(g_hash_table_lookup(a, "point")), what, guest, DRXML_NS_FAILOVER);
}

int drmark_store(const char *gdir, const cJSON *mark, HfError *err)
{
	g_autofree char *p = g_build_filename(gdir, STORE_MARK, NULL);
	return statefile_write_json(p, mark, err);
}

cJSON *drmark_store_get(const char *gdir, const char *newest)
{
	g_autofree char *p = g_build_filename(gdir, STORE_MARK, NULL);
	cJSON *m = NULL;
	HfError e = {0};
	if (!g_file_test(p, G_FILE_TEST_EXISTS) || statefile_read_json(p, &m, &e) < 0 || !m)
		return NULL;
	if (g_strcmp0(cJSON_GetStringValue(cJSON_GetObjectItem(m, "point")), newest)) {
		cJSON_Delete(m); /* copies went on into this directory after the failover */
		return NULL;
	}
	return m;
}
