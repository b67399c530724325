/* libvirt_domain.c - guest lifecycle for DR failover: a bounded graceful shutdown, rename,
 * autostart, and holdfast's own domain <metadata> elements (one element per namespace, on the
 * persistent definition). Start, destroy and undefine are in libvirt.c. */
#include "libvirt_priv.h"

#include <string.h>

static bool inactive(virDomainPtr dom)
{
	int st = 0, reason = 0;
	return virDomainGetState(dom, &st, &reason, 0) == 0 &&
	       (st == VIR_DOMAIN_SHUTOFF || st == VIR_DOMAIN_CRASHED);
}

int lv_domain_shutdown(DrvConn *dc, const char *guest, int timeout_s, unsigned flags, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	if (inactive(dom))
		return 0;
	/* the guest agent first (Windows: a clean shutdown without the power-button policy),
	 * else the ACPI power button; libvirt tries them in that order */
	if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_GUEST_AGENT |
					    VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0 &&
	    !inactive(dom))
		return lv_error(err, c, guest, NULL, "cannot shut down");
	gint64 end = g_get_monotonic_time() + (gint64)MAX(timeout_s, 1) * G_USEC_PER_SEC;
	while (!inactive(dom)) {
		if (g_get_monotonic_time() > end)
			return error_set(err, HF_ERR_TIMEOUT,
					 "guest '%s' on host %s did not shut down within %d s of "
					 "the shutdown request (agent, then ACPI power button)",
					 guest, dc->uri, timeout_s);
		g_usleep(200 * 1000);
	}
	virResetLastError();
	return 0;
}

int lv_domain_rename(DrvConn *dc, const char *guest, const char *new_name, unsigned flags,
		     HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	if (virDomainRename(dom, new_name, 0) < 0)
		return lv_error(err, c, guest, NULL, "cannot rename");
	return 0;
}

int lv_domain_autostart(DrvConn *dc, const char *guest, int on, unsigned flags, bool *was,
			HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	int cur = 0;
	if (!dom)
		return -1;
	if (virDomainGetAutostart(dom, &cur) < 0)
		return lv_error(err, c, guest, NULL, "cannot read the autostart flag of");
	if (was)
		*was = cur != 0;
	if (on >= 0 && (cur != 0) != (on != 0) && virDomainSetAutostart(dom, on != 0) < 0)
		return lv_error(err, c, guest, NULL, "cannot change the autostart flag of");
	return 0;
}

int lv_metadata_get(DrvConn *dc, const char *guest, const char *uri, unsigned flags, char **xml,
		    HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	*xml = NULL;
	char *m =
	    virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, uri, VIR_DOMAIN_AFFECT_CONFIG);
	if (!m) {
		const virError *e = virGetLastError();
		if (e && e->code == VIR_ERR_NO_DOMAIN_METADATA) {
			virResetLastError();
			return 0;
		}
		return lv_error(err, c, guest, NULL, "cannot read the metadata of");
	}
	*xml = g_strdup(m);
	free(m);
	return 0;
}

int lv_metadata_set(DrvConn *dc, const char *guest, const char *uri, const char *key,
		    const char *xml, unsigned flags, HfError *err)
{
	LvConn *c = lv_conn(dc);
	g_autoptr(virDomain) dom = lv_domain(c, guest, err);
	if (!dom)
		return -1;
	/* the persistent definition, and the running one too when the guest runs */
	unsigned f =
	    VIR_DOMAIN_AFFECT_CONFIG | (virDomainIsActive(dom) == 1 ? VIR_DOMAIN_AFFECT_LIVE : 0);
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, xml ? key : NULL, uri, f) <
	    0)
		return lv_error(err, c, guest, NULL, "cannot write the metadata of");
	return 0;
}
