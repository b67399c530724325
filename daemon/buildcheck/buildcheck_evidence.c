/* buildcheck_evidence.c - the evidence struct and its JSON form (both directions).
 * The schema is documented at buildcheck_evidence_from_json() in buildcheck.h. */
#include "bcutil.h"
#include "timefmt.h"

#include <stddef.h>
#include <string.h>

static const char *const source_names[BC_SRC_COUNT] = {
    [BC_SRC_FILE_VERSION] = "file-version",
    [BC_SRC_REGISTRY] = "registry",
    [BC_SRC_WMI] = "wmi",
    [BC_SRC_SYSTEMINFO] = "systeminfo",
    [BC_SRC_VER] = "ver",
    [BC_SRC_AGENT_OSINFO] = "agent-osinfo",
    [BC_SRC_HYPERV_KVP] = "hyperv-kvp",
    [BC_SRC_UPDATE_LIST] = "update-list",
    [BC_SRC_LICENCE_QUERY] = "licence-query",
};

typedef enum { F_INT, F_STR, F_ROLE, F_ARCH } FieldType;
static const struct {
	const char *key;
	FieldType type;
	size_t off;
	int max;
} fields[] = {
    {"major", F_INT, offsetof(BcItem, major), 255},
    {"minor", F_INT, offsetof(BcItem, minor), 255},
    {"build", F_INT, offsetof(BcItem, build), 65535},
    {"revision", F_INT, offsetof(BcItem, revision), 65535},
    {"service-pack", F_INT, offsetof(BcItem, service_pack), 99},
    {"role", F_ROLE, offsetof(BcItem, role), 0},
    {"arch", F_ARCH, offsetof(BcItem, arch), 0},
    {"product-name", F_STR, offsetof(BcItem, product_name), 0},
    {"edition-id", F_STR, offsetof(BcItem, edition_id), 0},
    {"installation-type", F_STR, offsetof(BcItem, installation_type), 0},
    {"csd-version", F_STR, offsetof(BcItem, csd_version), 0},
    {"buildlab", F_STR, offsetof(BcItem, buildlab), 0},
    {"buildlabex", F_STR, offsetof(BcItem, buildlabex), 0},
    {"os-version-id", F_STR, offsetof(BcItem, os_version_id), 0},
};
#define FIELD(it, i, T) ((T *)((char *)(it) + fields[i].off))

const char *buildcheck_source_name(BcSource src)
{
	return src < BC_SRC_COUNT ? source_names[src] : "?";
}

static void item_init(BcItem *it)
{
	memset(it, 0, sizeof *it);
	it->major = it->minor = it->build = it->revision = it->service_pack = -1;
}

void buildcheck_evidence_init(BcEvidence *ev)
{
	for (int s = 0; s < BC_SRC_COUNT; s++)
		item_init(&ev->items[s]);
}

void buildcheck_evidence_clear(BcEvidence *ev)
{
	for (int s = 0; s < BC_SRC_COUNT; s++) {
		BcItem *it = &ev->items[s];
		g_free(it->unavailable);
		for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
			if (fields[i].type == F_STR)
				g_free(*FIELD(it, i, char *));
		if (it->updates)
			g_ptr_array_unref(it->updates);
		if (it->licences)
			g_array_unref(it->licences);
	}
	buildcheck_evidence_init(ev);
}

BcItem *buildcheck_evidence_item(BcEvidence *ev, BcSource src, int64_t collected_at)
{
	BcItem *it = &ev->items[src];
	it->present = true;
	if (collected_at)
		it->collected_at = collected_at;
	return it;
}

void buildcheck_evidence_unavailable(BcEvidence *ev, BcSource src, int64_t collected_at,
				     const char *reason)
{
	BcItem *it = buildcheck_evidence_item(ev, src, collected_at);
	g_free(it->unavailable);
	it->unavailable = g_strndup(reason ? reason : "no reason given", BC_STR_MAX);
}

static int bad(HfError *err, int idx, const char *key, const char *want)
{
	return error_set(err, HF_ERR_INVALID_PARAMS, "evidence sources[%d].%s: expected %s", idx,
			 key, want);
}

static int json_str(const cJSON *j, int idx, const char *key, char **dst, HfError *err)
{
	if (!cJSON_IsString(j))
		return bad(err, idx, key, "a string");
	g_autofree char *what = g_strdup_printf("evidence sources[%d].%s", idx, key);
	return bcutil_set_str(dst, j->valuestring, strlen(j->valuestring), what, err);
}

static int json_int(const cJSON *j, int idx, const char *key, int min, int max, int *dst,
		    HfError *err)
{
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= min && j->valuedouble <= max) ||
	    j->valuedouble != (int)j->valuedouble) {
		g_autofree char *want = g_strdup_printf("an integer %d-%d", min, max);
		return bad(err, idx, key, want);
	}
	*dst = (int)j->valuedouble;
	return 0;
}

static int json_enum(const cJSON *j, int idx, const char *key, const char *(*name)(int),
		     const char *want, int *dst, HfError *err)
{
	for (int v = 1; cJSON_IsString(j) && name(v); v++)
		if (strcmp(j->valuestring, name(v)) == 0) {
			*dst = v;
			return 0;
		}
	return bad(err, idx, key, want);
}

static const char *arch_name(int a)
{
	return a <= BC_ARCH_IA64 ? bcutil_arch_name((BcArch)a) : NULL;
}

static const char *role_name(int r)
{
	return r <= BC_ROLE_SERVER ? bcutil_role_name((BcRole)r) : NULL;
}

static int json_lists(const cJSON *j, int idx, BcItem *it, HfError *err)
{
	const cJSON *e;
	if (strcmp(j->string, "updates") == 0) {
		if (!cJSON_IsArray(j))
			return bad(err, idx, "updates", "an array of strings");
		it->updates = g_ptr_array_new_with_free_func(g_free);
		cJSON_ArrayForEach(e, j)
		{
			if (!cJSON_IsString(e))
				return bad(err, idx, "updates", "an array of strings");
			if (bcutil_add_update(it, e->valuestring, strlen(e->valuestring), err) < 0)
				return -1;
		}
		return 0;
	}
	if (!cJSON_IsArray(j))
		return bad(err, idx, "licences", "an array of {\"id\",\"status\"}");
	it->licences = g_array_new(FALSE, TRUE, sizeof(BcLicence));
	cJSON_ArrayForEach(e, j)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
		int status;
		if (!cJSON_IsObject(e) || !cJSON_IsString(id) || cJSON_GetArraySize(e) != 2)
			return bad(err, idx, "licences", "an array of {\"id\",\"status\"}");
		if (json_int(cJSON_GetObjectItemCaseSensitive(e, "status"), idx, "licences.status",
			     -1, 6, &status, err) < 0 ||
		    bcutil_add_licence(it, id->valuestring, strlen(id->valuestring), status, err) <
			0)
			return -1;
	}
	return 0;
}

static int json_field(const cJSON *j, int idx, BcItem *it, HfError *err)
{
	BcBuildLab lab;
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (strcmp(j->string, fields[i].key) != 0)
			continue;
		switch (fields[i].type) {
		case F_INT:
			return json_int(j, idx, j->string, 0, fields[i].max, FIELD(it, i, int),
					err);
		case F_ROLE:
			return json_enum(j, idx, j->string, role_name,
					 "workstation, domain-controller or server",
					 (int *)FIELD(it, i, BcRole), err);
		case F_ARCH:
			return json_enum(j, idx, j->string, arch_name, "x86, amd64 or ia64",
					 (int *)FIELD(it, i, BcArch), err);
		case F_STR:
			if (json_str(j, idx, j->string, FIELD(it, i, char *), err) < 0)
				return -1;
			if (strcmp(j->string, "buildlabex") == 0 &&
			    bcparse_buildlabex(it->buildlabex, strlen(it->buildlabex), &lab, err) <
				0)
				return -1;
			if (strcmp(j->string, "buildlab") == 0 &&
			    bcparse_buildlab(it->buildlab, strlen(it->buildlab), &lab, err) < 0)
				return -1;
			return 0;
		}
	}
	if (strcmp(j->string, "updates") == 0 || strcmp(j->string, "licences") == 0)
		return json_lists(j, idx, it, err);
	return error_set(err, HF_ERR_INVALID_PARAMS, "evidence sources[%d]: unknown key '%.40s'",
			 idx, j->string);
}

static int json_source(const cJSON *o, int idx, BcEvidence *ev, HfError *err)
{
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source"), *j;
	int s = 0;
	if (!cJSON_IsObject(o))
		return error_set(err, HF_ERR_INVALID_PARAMS, "evidence sources[%d]: not an object",
				 idx);
	while (cJSON_IsString(src) && s < BC_SRC_COUNT && strcmp(source_names[s], src->valuestring))
		s++;
	if (!cJSON_IsString(src) || s == BC_SRC_COUNT)
		return bad(err, idx, "source",
			   "one of file-version, registry, wmi, systeminfo, ver, agent-osinfo, "
			   "hyperv-kvp, update-list, licence-query");
	BcItem *it = &ev->items[s];
	if (it->present)
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "evidence sources[%d]: source '%s' given twice", idx,
				 source_names[s]);
	it->present = true;
	cJSON_ArrayForEach(j, o)
	{
		if (strcmp(j->string, "source") == 0)
			continue;
		if (strcmp(j->string, "collected-at") == 0) {
			if (!cJSON_IsString(j) ||
			    (it->collected_at = timefmt_parse(j->valuestring)) < 0)
				return bad(err, idx, "collected-at",
					   "a time like 2024-05-01T10:00:00Z");
		} else if (strcmp(j->string, "unavailable") == 0) {
			if (json_str(j, idx, "unavailable", &it->unavailable, err) < 0)
				return -1;
		} else if (json_field(j, idx, it, err) < 0) {
			return -1;
		}
	}
	return 0;
}

int buildcheck_evidence_from_json(const cJSON *json, BcEvidence *ev, HfError *err)
{
	const cJSON *sources = cJSON_GetObjectItemCaseSensitive(json, "sources"), *o;
	int idx = 0;
	buildcheck_evidence_init(ev);
	if (!cJSON_IsObject(json) || !cJSON_IsArray(sources))
		return error_set(err, HF_ERR_INVALID_PARAMS,
				 "evidence: expected an object with a \"sources\" array");
	cJSON_ArrayForEach(o, sources)
	{
		if (json_source(o, idx++, ev, err) < 0) {
			buildcheck_evidence_clear(ev);
			return -1;
		}
	}
	return 0;
}

/* Guest bytes are OEM code page: anything that is not UTF-8 becomes U+FFFD in JSON. */
static void add_str(cJSON *o, const char *key, const char *s)
{
	g_autofree char *u = g_utf8_make_valid(s, -1);
	cJSON_AddStringToObject(o, key, u);
}

static cJSON *item_to_json(const BcItem *it, BcSource s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "source", source_names[s]);
	if (it->collected_at > 0) {
		g_autofree char *t = timefmt_iso(it->collected_at);
		cJSON_AddStringToObject(o, "collected-at", t);
	}
	if (it->unavailable)
		add_str(o, "unavailable", it->unavailable);
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		const char *str = NULL;
		if (fields[i].type == F_INT && *FIELD(it, i, const int) >= 0)
			cJSON_AddNumberToObject(o, fields[i].key, *FIELD(it, i, const int));
		else if (fields[i].type == F_STR)
			str = *FIELD(it, i, char *const);
		else if (fields[i].type == F_ROLE)
			str = bcutil_role_name(*FIELD(it, i, const BcRole));
		else if (fields[i].type == F_ARCH)
			str = bcutil_arch_name(*FIELD(it, i, const BcArch));
		if (str)
			add_str(o, fields[i].key, str);
	}
	if (it->updates) {
		cJSON *a = cJSON_AddArrayToObject(o, "updates");
		for (guint i = 0; i < it->updates->len; i++) {
			g_autofree char *u = g_utf8_make_valid(it->updates->pdata[i], -1);
			cJSON_AddItemToArray(a, cJSON_CreateString(u));
		}
	}
	if (it->licences) {
		cJSON *a = cJSON_AddArrayToObject(o, "licences");
		for (guint i = 0; i < it->licences->len; i++) {
			const BcLicence *l = &g_array_index(it->licences, BcLicence, i);
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "id", l->id);
			cJSON_AddNumberToObject(e, "status", l->status);
			cJSON_AddItemToArray(a, e);
		}
	}
	return o;
}

cJSON *buildcheck_evidence_to_json(const BcEvidence *ev)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(root, "sources");
	for (int s = 0; s < BC_SRC_COUNT; s++)
		if (ev->items[s].present)
			cJSON_AddItemToArray(a, item_to_json(&ev->items[s], (BcSource)s));
	return root;
}
