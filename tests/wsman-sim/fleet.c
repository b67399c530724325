/* fleet.c - the fleet file (GKeyFile INI) and the --generate fleet; see README.md. */
#include "fleet.h"

#include <string.h>

typedef struct {
	const char *name;
	const char *major, *minor, *build;
	const char *csd, *sp_major;
	const char *product_type;
	const char *os_name; /* printf format, %s = edition */
	bool r2; /* R2+ only items (OSEditionId, IntegrationServicesVersion, addresses) */
} OsPreset;

static const OsPreset presets[] = {
    {"2008-sp2", "6", "0", "6003", "Service Pack 2", "2", "3", "Windows Server (R) 2008 %s", false},
    {"2008-sp2-6002", "6", "0", "6002", "Service Pack 2", "2", "3", "Windows Server (R) 2008 %s",
     false},
    {"2008-rtm", "6", "0", "6001", "", "0", "3", "Windows Server (R) 2008 %s", false},
    {"2008r2-sp1", "6", "1", "7601", "Service Pack 1", "1", "3", "Windows Server 2008 R2 %s", true},
    {"vista-6003", "6", "0", "6003", "Service Pack 2", "2", "1", "Windows Vista (TM) %s", false},
};

static const struct {
	const char *edition;
	const char *suite_mask;
} editions[] = {
    {"Standard", "272"}, {"Enterprise", "274"}, {"Datacenter", "400"},
    {"Web", "1296"},	 {"Business", "256"},
};

static const OsPreset *preset_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(presets); i++)
		if (g_ascii_strcasecmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

static void kvp_add(GPtrArray *kvp, const char *name, const char *value)
{
	g_ptr_array_add(kvp, sim_pair_new(name, value));
}

static void kvp_fill(GPtrArray *kvp, const OsPreset *os, const char *edition, bool x64,
		     const char *fqdn)
{
	const char *suite = "272";
	for (size_t i = 0; i < G_N_ELEMENTS(editions); i++)
		if (g_ascii_strcasecmp(editions[i].edition, edition) == 0)
			suite = editions[i].suite_mask;
	g_autofree char *os_name = g_strdup_printf(os->os_name, edition);
	g_autofree char *version = g_strdup_printf("%s.%s.%s", os->major, os->minor, os->build);

	kvp_add(kvp, "FullyQualifiedDomainName", fqdn);
	kvp_add(kvp, "OSName", os_name);
	kvp_add(kvp, "OSVersion", version);
	kvp_add(kvp, "CSDVersion", os->csd);
	kvp_add(kvp, "OSMajorVersion", os->major);
	kvp_add(kvp, "OSMinorVersion", os->minor);
	kvp_add(kvp, "OSBuildNumber", os->build);
	kvp_add(kvp, "OSPlatformId", "2");
	kvp_add(kvp, "ServicePackMajor", os->sp_major);
	kvp_add(kvp, "ServicePackMinor", "0");
	kvp_add(kvp, "SuiteMask", suite);
	kvp_add(kvp, "ProductType", os->product_type);
	kvp_add(kvp, "ProcessorArchitecture", x64 ? "9" : "0");
	if (os->r2) {
		kvp_add(kvp, "OSEditionId", "7");
		kvp_add(kvp, "IntegrationServicesVersion", "6.3.9600.18080");
		kvp_add(kvp, "NetworkAddressIPv4", "192.0.2.10");
		kvp_add(kvp, "NetworkAddressIPv6", "fe80::10");
	}
}

/* A stable GUID from a seed, so fleets without ids give the same ids every run. */
static char *guid_from(const char *kind, const char *seed)
{
	g_autofree char *in = g_strdup_printf("%s:%s", kind, seed);
	g_autofree char *h = g_compute_checksum_for_string(G_CHECKSUM_SHA1, in, -1);
	g_autofree char *g =
	    g_strdup_printf("%.8s-%.4s-4%.3s-8%.3s-%.12s", h, h + 8, h + 12, h + 15, h + 18);
	return g_ascii_strup(g, -1);
}

static int state_from(const char *s)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {{"running", 2}, {"off", 3}, {"saved", 6}, {"paused", 9}};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(names[i].name, s) == 0)
			return names[i].value;
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (*s && end && !*end && (v == 2 || v == 3 || v == 6 || v == 9))
		return (int)v;
	return -1;
}

static SimVm *vm_new(const char *name, const char *id, int state)
{
	SimVm *vm = g_new0(SimVm, 1);
	vm->name = g_strdup(name);
	vm->id = id ? g_ascii_strup(id, -1) : guid_from("vm", name);
	vm->state = state;
	vm->user_snapshot_type = 3;
	vm->vcpus = 2;
	vm->memory_mb = 4096;
	vm->created = sim_parse_datetime("2019-04-09T10:00:00Z");
	vm->last_change = vm->created;
	vm->kvp = g_ptr_array_new_with_free_func(sim_pair_free);
	return vm;
}

static SimSnap *snap_add(SimState *st, SimVm *vm, const char *name, const char *id,
			 const char *parent_id, gint64 created)
{
	SimSnap *s = g_new0(SimSnap, 1);
	s->vm_id = g_strdup(vm->id);
	s->name = g_strdup(name);
	g_autofree char *seed = g_strdup_printf("%s/%s", vm->name, name);
	s->id = id ? g_ascii_strup(id, -1) : guid_from("snap", seed);
	s->parent_id = g_strdup(parent_id);
	s->created = created;
	s->type = SIM_SNAP_STANDARD;
	s->vm_state = vm->state;
	g_ptr_array_add(st->snaps, s);
	g_free(vm->current_snap);
	vm->current_snap = g_strdup(s->id);
	return s;
}

#define FLEET_FAIL(err, ...)                                                                       \
	do {                                                                                       \
		g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, __VA_ARGS__);   \
		return -1;                                                                         \
	} while (0)

static void host_load(SimState *st, GKeyFile *kf)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	    {"name", G_STRUCT_OFFSET(SimState, host_name)},
	    {"language", G_STRUCT_OFFSET(SimState, lang)},
	    {"caption", G_STRUCT_OFFSET(SimState, host_caption)},
	    {"description", G_STRUCT_OFFSET(SimState, host_description)},
	    {"vm-caption", G_STRUCT_OFFSET(SimState, vm_caption)},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		char *v = g_key_file_get_string(kf, "host", keys[i].key, NULL);
		if (!v)
			continue;
		char **slot = G_STRUCT_MEMBER_P(st, keys[i].off);
		g_free(*slot);
		*slot = v;
	}
}

static int vm_load(SimState *st, GKeyFile *kf, const char *group, const char *path, GError **err)
{
	const char *name = group + strlen("vm ");
	g_autofree char *id = g_key_file_get_string(kf, group, "id", NULL);
	g_autofree char *state_s = g_key_file_get_string(kf, group, "state", NULL);
	int state = state_s ? state_from(state_s) : 3;
	if (!*name || sim_vm_find_name(st, name))
		FLEET_FAIL(err, "%s: [%s]: missing or duplicate VM name", path, group);
	if (state < 0)
		FLEET_FAIL(err, "%s: [%s] state=%s: use running, off, saved or paused", path, group,
			   state_s);
	SimVm *vm = vm_new(name, id, state);
	g_ptr_array_add(st->vms, vm);

	g_autofree char *os_s = g_key_file_get_string(kf, group, "os", NULL);
	g_autofree char *edition = g_key_file_get_string(kf, group, "edition", NULL);
	g_autofree char *arch = g_key_file_get_string(kf, group, "arch", NULL);
	g_autofree char *fqdn = g_key_file_get_string(kf, group, "fqdn", NULL);
	g_autofree char *created = g_key_file_get_string(kf, group, "created", NULL);
	if (!os_s || g_ascii_strcasecmp(os_s, "none") != 0) {
		const OsPreset *os = preset_find(os_s ? os_s : "2008-sp2");
		if (!os)
			FLEET_FAIL(err, "%s: [%s] os=%s: unknown preset", path, group, os_s);
		g_autofree char *def_fqdn = g_strdup_printf("%s.corp.example", name);
		kvp_fill(vm->kvp, os, edition ? edition : "Standard",
			 !arch || g_ascii_strcasecmp(arch, "x86") != 0, fqdn ? fqdn : def_fqdn);
	}
	if (created && (vm->created = sim_parse_datetime(created)) < 0)
		FLEET_FAIL(err, "%s: [%s] created=%s: not an ISO 8601 time", path, group, created);
	vm->last_change = vm->created;
	if (g_key_file_has_key(kf, group, "user-snapshot-type", NULL))
		vm->user_snapshot_type =
		    g_key_file_get_integer(kf, group, "user-snapshot-type", NULL);
	vm->vss = g_key_file_get_boolean(kf, group, "vss", NULL);
	if (g_key_file_has_key(kf, group, "vcpus", NULL))
		vm->vcpus = g_key_file_get_integer(kf, group, "vcpus", NULL);
	if (g_key_file_has_key(kf, group, "memory-mb", NULL))
		vm->memory_mb = g_key_file_get_integer(kf, group, "memory-mb", NULL);

	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (guint i = 0; keys && keys[i]; i++) {
		if (!g_str_has_prefix(keys[i], "kvp."))
			continue;
		g_autofree char *v = g_key_file_get_string(kf, group, keys[i], NULL);
		const char *k = keys[i] + 4;
		bool replaced = false;
		for (guint j = 0; j < vm->kvp->len; j++) {
			SimPair *p = g_ptr_array_index(vm->kvp, j);
			if (strcmp(p->name, k) == 0) {
				g_free(p->value);
				p->value = g_strdup(v);
				replaced = true;
			}
		}
		if (!replaced)
			kvp_add(vm->kvp, k, v);
	}
	return 0;
}

static int snap_load(SimState *st, GKeyFile *kf, const char *group, const char *path, GError **err)
{
	const char *ref = group + strlen("checkpoint ");
	const char *slash = strchr(ref, '/');
	g_autofree char *vm_name = slash ? g_strndup(ref, (gsize)(slash - ref)) : NULL;
	SimVm *vm = vm_name ? sim_vm_find_name(st, vm_name) : NULL;
	if (!vm || !slash[1])
		FLEET_FAIL(err, "%s: [%s]: use [checkpoint VM/NAME] after [vm VM]", path, group);
	const char *name = slash + 1;

	g_autofree char *id = g_key_file_get_string(kf, group, "id", NULL);
	g_autofree char *parent = g_key_file_get_string(kf, group, "parent", NULL);
	g_autofree char *created = g_key_file_get_string(kf, group, "created", NULL);
	g_autofree char *type = g_key_file_get_string(kf, group, "type", NULL);
	g_autofree char *state_s = g_key_file_get_string(kf, group, "vm-state", NULL);
	g_autofree char *parent_id = g_strdup(vm->current_snap);
	if (parent) {
		g_clear_pointer(&parent_id, g_free);
		for (guint i = 0; *parent && i < st->snaps->len; i++) {
			SimSnap *s = g_ptr_array_index(st->snaps, i);
			if (g_ascii_strcasecmp(s->vm_id, vm->id) == 0 &&
			    strcmp(s->name, parent) == 0)
				parent_id = g_strdup(s->id);
		}
		if (*parent && !parent_id)
			FLEET_FAIL(err, "%s: [%s] parent=%s: no such earlier checkpoint", path,
				   group, parent);
	}
	gint64 when = created ? sim_parse_datetime(created) : vm->created + G_USEC_PER_SEC;
	if (when < 0)
		FLEET_FAIL(err, "%s: [%s] created=%s: not an ISO 8601 time", path, group, created);
	g_autofree char *prev_current = g_strdup(vm->current_snap);
	SimSnap *s = snap_add(st, vm, name, id, parent_id, when);
	if (state_s && (s->vm_state = state_from(state_s)) < 0)
		FLEET_FAIL(err, "%s: [%s] vm-state=%s: use running, off, saved or paused", path,
			   group, state_s);
	if (type && g_ascii_strcasecmp(type, "recovery") == 0)
		s->type = SIM_SNAP_RECOVERY;
	else if (type && g_ascii_strcasecmp(type, "standard") != 0)
		FLEET_FAIL(err, "%s: [%s] type=%s: use standard or recovery", path, group, type);
	bool current = s->type == SIM_SNAP_STANDARD;
	if (g_key_file_has_key(kf, group, "current", NULL))
		current = g_key_file_get_boolean(kf, group, "current", NULL);
	if (!current) {
		g_free(vm->current_snap);
		vm->current_snap = g_steal_pointer(&prev_current);
	}
	return 0;
}

int fleet_load(SimState *st, const char *path, GError **err)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, err)) {
		g_prefix_error(err, "%s: ", path);
		return -1;
	}
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i]; i++) {
		const char *g = groups[i];
		int rc = 0;
		if (strcmp(g, "host") == 0)
			host_load(st, kf);
		else if (g_str_has_prefix(g, "vm "))
			rc = vm_load(st, kf, g, path, err);
		else if (g_str_has_prefix(g, "checkpoint "))
			rc = snap_load(st, kf, g, path, err);
		else
			FLEET_FAIL(err,
				   "%s: [%s]: unknown section (host, vm NAME, checkpoint VM/NAME)",
				   path, g);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void fleet_generate(SimState *st, guint n)
{
	static const char *const os_cycle[] = {"2008-sp2",   "2008-sp2", "2008-sp2-6002",
					       "2008r2-sp1", "2008-rtm", NULL};
	static const int state_cycle[] = {2, 2, 2, 3, 6, 9};
	for (guint i = 1; i <= n; i++) {
		g_autofree char *name = g_strdup_printf("gen-vm-%04u", i);
		SimVm *vm = vm_new(name, NULL, state_cycle[i % G_N_ELEMENTS(state_cycle)]);
		g_ptr_array_add(st->vms, vm);
		const char *os_name = os_cycle[i % G_N_ELEMENTS(os_cycle)];
		if (os_name) {
			g_autofree char *fqdn = g_strdup_printf("%s.corp.example", name);
			kvp_fill(vm->kvp, preset_find(os_name), i % 4 ? "Standard" : "Enterprise",
				 i % 7 != 0, fqdn);
		}
		for (guint c = 0; c < i % 3; c++) {
			g_autofree char *cname = g_strdup_printf("nightly-%u", c + 1);
			snap_add(st, vm, cname, NULL, vm->current_snap,
				 vm->created + (gint64)(c + 1) * 86400 * G_USEC_PER_SEC);
		}
	}
}

void fleet_finish(SimState *st)
{
	/* Running VMs were started an hour before the simulator. */
	for (guint i = 0; i < st->vms->len; i++) {
		SimVm *vm = g_ptr_array_index(st->vms, i);
		vm->last_change = MAX(vm->created, sim_now() - (gint64)3600 * G_USEC_PER_SEC);
	}
	bool de = g_str_has_prefix(st->lang, "de");
	if (!st->host_caption)
		st->host_caption = g_strdup(de ? "Hostcomputersystem" : "Hosting Computer System");
	if (!st->host_description)
		st->host_description = g_strdup(de ? "Microsoft-Hostcomputersystem"
						   : "Microsoft Hosting Computer System");
	if (!st->vm_caption)
		st->vm_caption = g_strdup(de ? "Virtueller Computer" : "Virtual Machine");
}
