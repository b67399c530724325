/* drmark.c - the failover mark on a source guest (drmark.h). */
#include "drmark.h"

#include "drxml.h"

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
