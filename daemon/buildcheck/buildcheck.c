/* buildcheck.c - the classifier: evidence -> verdict. This file decides what the machine is
 * (version, build, revision, arch, role, edition, product, ESU eligibility, Server Core);
 * bcesu.c decides how current it is and what it has of ESU. Pure: no I/O, no clock. */
#include "bcclassify.h"
#include "bcutil.h"

#include <stdio.h>
#include <string.h>

/* Values of one fact from several sources: the first in trust order wins; another value marks
 * the fact as conflicting and is reported as a contradiction naming both sources. */
typedef struct {
	bool have;
	int value;
	BcSource src;
	char field[24];
	char shown[BC_STR_MAX];
} Pick;

static void observe(BcCtx *c, BcFactId f, Pick *pk, BcSource s, const char *field, int value,
		    const char *shown)
{
	char num[16];
	snprintf(num, sizeof num, "%d", value);
	shown = shown ? shown : num;
	buildcheck_verdict_cite(c->v, f, s, field, "%s", shown);
	if (!pk->have) {
		*pk = (Pick){.have = true, .value = value, .src = s};
		snprintf(pk->field, sizeof pk->field, "%s", field);
		snprintf(pk->shown, sizeof pk->shown, "%s", shown);
	} else if (pk->value != value && !c->v->facts[f].conflict) {
		c->v->facts[f].conflict = true;
		buildcheck_verdict_contradiction(
		    c->v, "sources disagree on the %s: %s %s %s, %s %s %s", buildcheck_fact_name(f),
		    buildcheck_source_name(pk->src), pk->field, pk->shown,
		    buildcheck_source_name(s), field, shown);
	}
}

typedef struct {
	Pick version, build, revision, arch, ws;
	BcRole role;		  /* the first explicit role */
	const char *edition_id;	  /* the first EditionID */
	const char *product_name; /* the first product name */
	const char *itype;	  /* the first InstallationType */
	BcSource edition_src, itype_src;
} Seen;

static void observe_role(BcCtx *c, Seen *seen, BcSource s, const BcItem *it)
{
	const char *pn = it->product_name, *ov = it->os_version_id, *ed = it->edition_id;
	if (it->role) {
		observe(c, BC_FACT_ROLE, &seen->ws, s, "role", it->role == BC_ROLE_WORKSTATION,
			bcutil_role_name(it->role));
		seen->role = seen->role ? seen->role : it->role;
	}
	if (ov && (!strcmp(ov, "vista") || !strcmp(ov, "2008") || !strcmp(ov, "2008r2")))
		observe(c, BC_FACT_ROLE, &seen->ws, s, "os-version-id", !strcmp(ov, "vista"), ov);
	if (ed && g_ascii_strncasecmp(ed, "Server", 6) == 0)
		observe(c, BC_FACT_ROLE, &seen->ws, s, "edition-id", 0, ed);
	if (pn && (strstr(pn, "Vista") || strstr(pn, "Server")))
		observe(c, BC_FACT_ROLE, &seen->ws, s, "product-name", strstr(pn, "Vista") != NULL,
			pn);
	if (ed) {
		buildcheck_verdict_cite(c->v, BC_FACT_EDITION, s, "edition-id", "%s", ed);
		if (!seen->edition_id) {
			seen->edition_id = ed;
			seen->edition_src = s;
		}
	}
	if (it->installation_type && !seen->itype) {
		seen->itype = it->installation_type;
		seen->itype_src = s;
	}
	if (pn) {
		buildcheck_verdict_cite(c->v, BC_FACT_EDITION, s, "product-name", "%s", pn);
		seen->product_name = seen->product_name ? seen->product_name : pn;
	}
}

static int observe_lab(BcCtx *c, Seen *seen, BcSource s, const char *raw, bool ex, HfError *err)
{
	BcBuildLab lab;
	const char *field = ex ? "buildlabex" : "buildlab";
	if (!raw)
		return 0;
	if ((ex ? bcparse_buildlabex : bcparse_buildlab)(raw, strlen(raw), &lab, err) < 0) {
		error_prefix(err, "evidence %s", buildcheck_source_name(s));
		return -1;
	}
	observe(c, BC_FACT_BUILD, &seen->build, s, field, lab.build, raw);
	if (ex) {
		observe(c, BC_FACT_REVISION, &seen->revision, s, field, lab.revision, raw);
		observe(c, BC_FACT_ARCH, &seen->arch, s, field, (int)lab.arch, raw);
	}
	return 0;
}

static int gather(BcCtx *c, Seen *seen, HfError *err)
{
	char ver[32];
	for (int s = 0; s < BC_SRC_COUNT; s++) {
		const BcItem *it = &c->ev->items[s];
		if (!it->present || it->unavailable)
			continue;
		if (it->major >= 0 && it->minor >= 0) {
			snprintf(ver, sizeof ver, "%d.%d", it->major, it->minor);
			observe(c, BC_FACT_VERSION, &seen->version, s, "version",
				it->major * 1000 + it->minor, ver);
		}
		if (it->build >= 0)
			observe(c, BC_FACT_BUILD, &seen->build, s, "build", it->build, NULL);
		if (it->revision >= 0)
			observe(c, BC_FACT_REVISION, &seen->revision, s, "revision", it->revision,
				NULL);
		if (it->arch)
			observe(c, BC_FACT_ARCH, &seen->arch, s, "arch", (int)it->arch,
				bcutil_arch_name(it->arch));
		if (observe_lab(c, seen, s, it->buildlabex, true, err) < 0 ||
		    observe_lab(c, seen, s, it->buildlab, false, err) < 0)
			return -1;
		observe_role(c, seen, s, it);
	}
	return 0;
}

static const BcSource version_srcs[] = {BC_SRC_FILE_VERSION, BC_SRC_REGISTRY, BC_SRC_WMI,
					BC_SRC_SYSTEMINFO,   BC_SRC_VER,      BC_SRC_AGENT_OSINFO,
					BC_SRC_HYPERV_KVP};

static void unknown(BcCtx *c, BcFactId f, const char *what)
{
	g_autofree char *why = bcesu_why_unknown(c, version_srcs, G_N_ELEMENTS(version_srcs));
	buildcheck_verdict_note(c->v, f, "no source gave the %s: %s", what, why);
}

/* version + build + role -> product */
static void product(BcCtx *c, const Seen *seen)
{
	BcVerdict *v = c->v;
	bool ws = seen->ws.have && seen->ws.value, role_known = seen->ws.have;
	if (!seen->build.have && !seen->version.have) {
		unknown(c, BC_FACT_PRODUCT, "Windows version");
		return;
	}
	if (seen->version.have) {
		c->major = seen->version.value / 1000;
		c->minor = seen->version.value % 1000;
	} else {
		for (size_t i = 0; i < facts_builds_len; i++)
			if (facts_builds[i].build == seen->build.value) {
				c->major = facts_builds[i].major;
				c->minor = facts_builds[i].minor;
				buildcheck_verdict_note(v, BC_FACT_PRODUCT,
							"version %d.%d taken from the build number",
							c->major, c->minor);
			}
	}
	if (seen->build.have && c->major >= 0)
		c->brow = facts_build_lookup(c->major, c->minor, seen->build.value);
	if (c->major != 6 || (c->minor != 0 && c->minor != 1))
		v->product = c->major < 0 ? BC_PRODUCT_UNKNOWN : BC_PRODUCT_OTHER;
	else if (!role_known)
		buildcheck_verdict_note(
		    v, BC_FACT_PRODUCT,
		    "NT %d.%d is %s: no source gave the ProductType, EditionID or "
		    "product name to tell which",
		    c->major, c->minor,
		    c->minor ? "Server 2008 R2 or Windows 7" : "Server 2008 or Vista");
	else if (ws)
		v->product = c->minor == 0 ? BC_PRODUCT_VISTA : BC_PRODUCT_OTHER;
	else if (!seen->build.have)
		unknown(c, BC_FACT_PRODUCT, "build number");
	else
		v->product = c->brow ? c->brow->server : BC_PRODUCT_OTHER;
	if (v->product != BC_PRODUCT_UNKNOWN) {
		buildcheck_verdict_set(v, BC_FACT_PRODUCT, "%s",
				       buildcheck_product_name(v->product));
		if (c->brow && !ws)
			buildcheck_verdict_note(v, BC_FACT_PRODUCT, "%s [%s, %s]", c->brow->meaning,
						facts_conf_name(c->brow->conf), c->brow->src);
	}
	c->esu_product = c->brow && c->brow->esu_capable && role_known && !ws;
	if (ws && c->minor == 0 && seen->build.have && seen->build.value == 6003)
		buildcheck_verdict_contradiction(v, "a workstation (Vista) reporting build 6003: "
						    "Vista never officially got 6003, Server 2008 "
						    "updates were forced onto it [M]");
}

/* Copy the picked values into the verdict's typed fields and fact values. */
static void identity(BcCtx *c, const Seen *seen)
{
	BcVerdict *v = c->v;
	if (seen->version.have)
		buildcheck_verdict_set(v, BC_FACT_VERSION, "%s", seen->version.shown);
	else
		unknown(c, BC_FACT_VERSION, "version");
	if (seen->build.have) {
		v->build = seen->build.value;
		buildcheck_verdict_set(v, BC_FACT_BUILD, "%d", v->build);
	} else {
		unknown(c, BC_FACT_BUILD, "build");
	}
	if (seen->revision.have) {
		v->revision = seen->revision.value;
		buildcheck_verdict_set(v, BC_FACT_REVISION, "%d", v->revision);
	} else {
		static const BcSource rev_srcs[] = {BC_SRC_FILE_VERSION, BC_SRC_REGISTRY};
		g_autofree char *why = bcesu_why_unknown(c, rev_srcs, G_N_ELEMENTS(rev_srcs));
		buildcheck_verdict_note(
		    v, BC_FACT_REVISION,
		    "only the ntoskrnl.exe file version and the registry "
		    "BuildLabEx give the revision (agent-osinfo, hyperv-kvp, ver, "
		    "systeminfo and wmi give the build only): %s",
		    why);
	}
	if (seen->arch.have) {
		v->arch = (BcArch)seen->arch.value;
		buildcheck_verdict_set(v, BC_FACT_ARCH, "%s", bcutil_arch_name(v->arch));
	} else {
		unknown(c, BC_FACT_ARCH, "architecture");
	}
	if (seen->ws.have)
		buildcheck_verdict_set(v, BC_FACT_ROLE, "%s",
				       seen->role	? bcutil_role_name(seen->role)
				       : seen->ws.value ? "workstation"
							: "server");
	else
		unknown(c, BC_FACT_ROLE, "role (ProductType, EditionID or product name)");
	if (c->brow && seen->revision.have &&
	    ((c->brow->rev_min >= 0 && v->revision < c->brow->rev_min) ||
	     (c->brow->rev_max >= 0 && v->revision > c->brow->rev_max)))
		buildcheck_verdict_contradiction(v,
						 "revision %d is outside the range of build %d "
						 "kernels (%d-%d) [%s]",
						 v->revision, v->build, MAX(c->brow->rev_min, 0),
						 c->brow->rev_max, c->brow->src);
}

/* Edition, Server Core and ESU eligibility. */
static void edition(BcCtx *c, const Seen *seen)
{
	BcVerdict *v = c->v;
	const FactsEdition *e = facts_edition_lookup(seen->edition_id, seen->product_name);

	if (seen->edition_id || e)
		buildcheck_verdict_set(v, BC_FACT_EDITION, "%s",
				       seen->edition_id ? seen->edition_id : e->family);
	else
		unknown(c, BC_FACT_EDITION, "EditionID or product name");
	if (seen->itype) {
		v->server_core = g_ascii_strcasecmp(seen->itype, "Server Core") == 0;
		buildcheck_verdict_cite(v, BC_FACT_SERVER_CORE, seen->itype_src,
					"installation-type", "%s", seen->itype);
	} else if (e && !e->by_name) {
		v->server_core = e->core;
		buildcheck_verdict_cite(v, BC_FACT_SERVER_CORE, seen->edition_src, "edition-id",
					"%s", seen->edition_id);
	} else {
		buildcheck_verdict_note(v, BC_FACT_SERVER_CORE,
					"needs the EditionID (...Core) or InstallationType");
	}
	if (v->server_core != BC_TRI_UNKNOWN)
		buildcheck_verdict_set(v, BC_FACT_SERVER_CORE, "%s", v->server_core ? "yes" : "no");

	const char *why = NULL;
	BcTri elig = BC_TRI_UNKNOWN;
	if (v->product == BC_PRODUCT_UNKNOWN)
		why = "the product is unknown";
	else if (v->product == BC_PRODUCT_VISTA || v->product == BC_PRODUCT_OTHER)
		elig = BC_TRI_NO, why = "ESU (this kind) is for Server 2008 / 2008 R2 only";
	else if (!c->brow->esu_capable)
		elig = BC_TRI_NO, why = "an RTM build: ESU packages and their prerequisite rollups "
					"install only on SP2 (2008) / SP1 (2008 R2)";
	else if (v->arch == BC_ARCH_IA64)
		elig = BC_TRI_NO, why = "IA-64: no evidence that Itanium got ESU packages [M]";
	else if (e)
		elig = e->eligible ? BC_TRI_YES : BC_TRI_NO;
	else if (seen->edition_id)
		elig = BC_TRI_NO, why = "the EditionID is not in the list of eligible editions [M]";
	else
		why = "the edition is unknown";
	v->esu_eligible = elig;
	if (elig != BC_TRI_UNKNOWN)
		buildcheck_verdict_set(v, BC_FACT_ESU_ELIGIBLE, "%s", elig ? "yes" : "no");
	if (why)
		buildcheck_verdict_note(v, BC_FACT_ESU_ELIGIBLE, "%s", why);
	else
		buildcheck_verdict_note(v, BC_FACT_ESU_ELIGIBLE, "edition '%s' (%s) %s [%s, %s]",
					e->match, e->family,
					e->eligible ? "is eligible" : "is not eligible",
					facts_conf_name(e->conf), e->src);
	if (v->product == BC_PRODUCT_2008_RTM_6001 || v->product == BC_PRODUCT_2008R2_7600)
		buildcheck_verdict_reason(v, BC_STATUS_CRITICAL,
					  "%s has no service pack and gets no updates: install "
					  "%s",
					  buildcheck_product_name(v->product),
					  v->product == BC_PRODUCT_2008R2_7600 ? "SP1" : "SP2");
	else if (v->product == BC_PRODUCT_UNKNOWN)
		buildcheck_verdict_reason(v, BC_STATUS_ATTENTION, "product unknown: %s",
					  v->facts[BC_FACT_PRODUCT].note);
}

static void collected(BcCtx *c)
{
	int64_t oldest = 0;
	for (int s = 0; s < BC_SRC_COUNT; s++) {
		const BcItem *it = &c->ev->items[s];
		if (!it->present || !it->collected_at)
			continue;
		oldest = oldest && oldest < it->collected_at ? oldest : it->collected_at;
		buildcheck_verdict_cite(c->v, BC_FACT_COLLECTED, (BcSource)s, "collected-at",
					"%" G_GINT64_FORMAT, it->collected_at);
	}
	if (!oldest) {
		buildcheck_verdict_note(c->v, BC_FACT_COLLECTED,
					"no source gave a collection time");
		return;
	}
	buildcheck_verdict_set(c->v, BC_FACT_COLLECTED, "%" G_GINT64_FORMAT, oldest);
	buildcheck_verdict_note(c->v, BC_FACT_COLLECTED,
				"unix seconds; %" G_GINT64_FORMAT " seconds before now",
				(int64_t)c->now - oldest);
}

int buildcheck_classify(const BcEvidence *ev, time_t now, BcVerdict *v, HfError *err)
{
	Seen seen = {0};
	struct tm tm;
	buildcheck_verdict_init(v);
	BcCtx c = {.ev = ev, .v = v, .now = now, .major = -1, .minor = -1};
	if (!gmtime_r(&now, &tm))
		return error_set(err, HF_ERR_INVALID_PARAMS, "classify: 'now' is out of range");
	/* Patch Tuesday: the second Tuesday; before it, last month's updates are the newest */
	int first_wday = ((tm.tm_wday - (tm.tm_mday - 1)) % 7 + 7) % 7;
	int patch_day = 1 + (2 - first_wday + 7) % 7 + 7;
	c.released = (tm.tm_year + 1900) * 12 + tm.tm_mon - (tm.tm_mday < patch_day);

	if (gather(&c, &seen, err) < 0) {
		buildcheck_verdict_clear(v);
		buildcheck_verdict_init(v);
		return -1;
	}
	product(&c, &seen);
	identity(&c, &seen);
	edition(&c, &seen);
	static const BcFactId product_from[] = {BC_FACT_VERSION, BC_FACT_BUILD, BC_FACT_ROLE};
	for (size_t i = 0; i < G_N_ELEMENTS(product_from); i++)
		buildcheck_verdict_copy_cites(v, BC_FACT_PRODUCT, product_from[i]);
	buildcheck_verdict_copy_cites(v, BC_FACT_ESU_ELIGIBLE, BC_FACT_EDITION);
	bcesu_classify(&c);
	collected(&c);
	return 0;
}

const char *buildcheck_esu_activation_id(int year)
{
	for (size_t i = 0; i < facts_activations_len; i++)
		if (facts_activations[i].year == year)
			return facts_activations[i].id;
	return NULL;
}
