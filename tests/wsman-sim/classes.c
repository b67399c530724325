/* classes.c - Msvm_* instances from the simulator's state, their keys, and associations. */
#include "classes.h"
#include "jobs.h"

#include <string.h>

#define VSSD "Msvm_VirtualSystemSettingData"
#define TYPE_REALIZED "Microsoft:Hyper-V:System:Realized"
#define TYPE_SNAPSHOT "Microsoft:Hyper-V:Snapshot:Realized"
#define TYPE_RECOVERY "Microsoft:Hyper-V:Snapshot:Recovery"

struct ClsDef {
	const char *name;
	const char *keys[4];
	void (*collect)(SimState *st, GPtrArray *out);
};

static void computer_systems(SimState *st, GPtrArray *out)
{
	SimInst *h = inst_new("Msvm_ComputerSystem");
	inst_set(h, "Caption", st->host_caption);
	inst_set(h, "CreationClassName", "Msvm_ComputerSystem");
	inst_set(h, "Description", st->host_description);
	inst_set(h, "ElementName", st->host_name);
	inst_set_int(h, "EnabledState", 2);
	inst_set_int(h, "HealthState", 5);
	inst_set_time(h, "InstallDate", sim_parse_datetime("2016-10-12T08:00:00Z"));
	inst_set(h, "Name", st->host_name);
	inst_set(h, "NameFormat", NULL);
	inst_add(h, "OperationalStatus", "2");
	inst_set(h, "PrimaryOwnerName", "Administrator");
	inst_set(h, "ProcessID", NULL);
	inst_set_int(h, "RequestedState", 12);
	g_ptr_array_add(out, h);

	gint64 now = sim_now();
	for (guint i = 0; i < st->vms->len; i++) {
		SimVm *vm = g_ptr_array_index(st->vms, i);
		SimInst *in = inst_new("Msvm_ComputerSystem");
		bool on = vm->state == 2 || vm->state == 9 || vm->state == 4;
		inst_set(in, "Caption", st->vm_caption);
		inst_set(in, "CreationClassName", "Msvm_ComputerSystem");
		inst_set(in, "Description", "Microsoft Virtual Machine");
		inst_set(in, "ElementName", vm->name);
		inst_set_int(in, "EnabledDefault", 2);
		inst_set_int(in, "EnabledState", vm->state);
		inst_set_int(in, "HealthState", 5);
		inst_set_time(in, "InstallDate", vm->created);
		inst_set(in, "Name", vm->id);
		inst_set(in, "NameFormat", NULL);
		inst_set_int(in, "NumberOfNumaNodes", 1);
		inst_set_int(in, "OnTimeInMilliseconds", on ? (now - vm->last_change) / 1000 : 0);
		inst_add(in, "OperationalStatus", "2");
		inst_set(in, "PrimaryOwnerName", NULL);
		if (on)
			inst_set_int(in, "ProcessID", 4000 + (gint64)i);
		else
			inst_set(in, "ProcessID", NULL);
		inst_set_int(in, "RequestedState", 12);
		inst_set_time(in, "TimeOfLastStateChange", vm->last_change);
		g_ptr_array_add(out, in);
	}
}

static SimInst *vssd_common(SimState *st, SimVm *vm, const char *id, const char *parent_id)
{
	SimInst *in = inst_new(VSSD);
	g_autofree char *iid = g_strdup_printf("Microsoft:%s", id);
	g_autofree char *parent = parent_id ? sim_vssd_path(st, parent_id) : NULL;
	inst_set(in, "Caption",
		 g_str_has_prefix(st->lang, "de") ? "Einstellungen des virtuellen Computers"
						  : "Virtual Machine Settings");
	inst_set(in, "ConfigurationDataRoot", "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V");
	inst_set(in, "ConfigurationID", id);
	inst_set(in, "InstanceID", iid);
	inst_add(in, "Notes", NULL);
	inst_set(in, "Parent", parent);
	inst_set_int(in, "UserSnapshotType", vm->user_snapshot_type);
	inst_set(in, "Version", "5.0");
	inst_set(in, "VirtualSystemIdentifier", vm->id);
	inst_set(in, "VirtualSystemSubType", "Microsoft:Hyper-V:SubType:1");
	return in;
}

static void settings(SimState *st, GPtrArray *out)
{
	for (guint i = 0; i < st->vms->len; i++) {
		SimVm *vm = g_ptr_array_index(st->vms, i);
		SimInst *in = vssd_common(st, vm, vm->id, vm->current_snap);
		inst_set_time(in, "CreationTime", vm->created);
		inst_set(in, "Description", "Active settings for the virtual machine.");
		inst_set(in, "ElementName", vm->name);
		inst_set(in, "IsSaved", vm->state == 6 ? "True" : "False");
		inst_set(in, "VirtualSystemType", TYPE_REALIZED);
		g_ptr_array_add(out, in);
	}
	for (guint i = 0; i < st->snaps->len; i++) {
		SimSnap *s = g_ptr_array_index(st->snaps, i);
		SimVm *vm = sim_vm_find(st, s->vm_id);
		SimInst *in = vssd_common(st, vm, s->id, s->parent_id);
		inst_set_time(in, "CreationTime", s->created);
		inst_set(in, "Description", "Checkpoint settings for the virtual machine.");
		inst_set(in, "ElementName", s->name);
		inst_set(in, "IsSaved", s->vm_state == 3 ? "False" : "True");
		inst_set(in, "VirtualSystemType",
			 s->type == SIM_SNAP_RECOVERY ? TYPE_RECOVERY : TYPE_SNAPSHOT);
		g_ptr_array_add(out, in);
	}
}

/* The VM's own resource settings: InstanceID "Microsoft:<VM GUID>\<resource GUID>[\<n>]"
 * (a checkpoint's carry the checkpoint's GUID instead; capability templates
 * "Microsoft:Definition\..."; holdfast matches the VM's prefix). */
static SimInst *rasd(const char *cls, const SimVm *vm, const char *suffix, int type,
		     const char *name, int quantity, const char *unit)
{
	SimInst *in = inst_new(cls);
	g_autofree char *iid = g_strdup_printf("Microsoft:%s\\%s", vm->id, suffix);
	inst_set(in, "AllocationUnits", unit);
	inst_set(in, "Caption", name);
	inst_set(in, "ElementName", name);
	inst_set(in, "InstanceID", iid);
	inst_set_int(in, "ResourceType", type);
	inst_set_int(in, "VirtualQuantity", quantity);
	return in;
}

static void processor_settings(SimState *st, GPtrArray *out)
{
	g_ptr_array_add(out, rasd("Msvm_ProcessorSettingData", &(SimVm){.id = "Definition"},
				  "B637F346-6A6E-4DEC-AF52-BD70CB80A21D\\Default", 3, "Processor",
				  1, "count"));
	for (guint i = 0; i < st->vms->len; i++) {
		SimVm *vm = g_ptr_array_index(st->vms, i);
		g_ptr_array_add(out, rasd("Msvm_ProcessorSettingData", vm,
					  "B637F346-6A6E-4DEC-AF52-BD70CB80A21D\\0", 3, "Processor",
					  vm->vcpus, "count"));
	}
}

static void memory_settings(SimState *st, GPtrArray *out)
{
	g_ptr_array_add(out, rasd("Msvm_MemorySettingData", &(SimVm){.id = "Definition"},
				  "4764334D-E001-4176-82EE-5594EC9B530E\\Default", 4, "Memory", 512,
				  "byte * 2^20"));
	for (guint i = 0; i < st->vms->len; i++) {
		SimVm *vm = g_ptr_array_index(st->vms, i);
		g_ptr_array_add(out, rasd("Msvm_MemorySettingData", vm,
					  "4764334D-E001-4176-82EE-5594EC9B530E", 4, "Memory",
					  vm->memory_mb, "byte * 2^20"));
	}
}

char *cls_kvp_item(const char *name, const char *data)
{
	g_autofree char *n = sim_xml_escape(name, false);
	g_autofree char *d = sim_xml_escape(data, false);
	return g_strdup_printf(
	    "<INSTANCE CLASSNAME=\"Msvm_KvpExchangeDataItem\">"
	    "<PROPERTY NAME=\"Caption\" PROPAGATED=\"true\" TYPE=\"string\"></PROPERTY>"
	    "<PROPERTY NAME=\"Data\" TYPE=\"string\"><VALUE>%s</VALUE></PROPERTY>"
	    "<PROPERTY NAME=\"Description\" PROPAGATED=\"true\" TYPE=\"string\"></PROPERTY>"
	    "<PROPERTY NAME=\"ElementName\" PROPAGATED=\"true\" TYPE=\"string\"></PROPERTY>"
	    "<PROPERTY NAME=\"InstanceID\" PROPAGATED=\"true\" TYPE=\"string\"></PROPERTY>"
	    "<PROPERTY NAME=\"Name\" TYPE=\"string\"><VALUE>%s</VALUE></PROPERTY>"
	    "<PROPERTY NAME=\"Source\" TYPE=\"uint16\"><VALUE>2</VALUE></PROPERTY>"
	    "</INSTANCE>",
	    d, n);
}

static void kvp_components(SimState *st, GPtrArray *out)
{
	for (guint i = 0; i < st->vms->len; i++) {
		SimVm *vm = g_ptr_array_index(st->vms, i);
		SimInst *in = inst_new("Msvm_KvpExchangeComponent");
		/* The guest only reports intrinsic items while it runs integration services. */
		bool live = (vm->state == 2 || vm->state == 9) && vm->kvp->len > 0;
		g_autofree char *dev =
		    g_strdup_printf("Microsoft:%s\\2A34B1C2-FD73-4043-8A5B-DD2159BC743F", vm->id);
		inst_set(in, "Caption", "Key-Value Pair Exchange");
		inst_set(in, "CreationClassName", "Msvm_KvpExchangeComponent");
		inst_set(in, "Description", "Microsoft Key-Value Pair Exchange");
		inst_set(in, "DeviceID", dev);
		inst_set(in, "ElementName", "Key-Value Pair Exchange");
		inst_set_int(in, "EnabledState", live ? 2 : 3);
		inst_add(in, "GuestExchangeItems", NULL);
		inst_add(in, "GuestIntrinsicExchangeItems", NULL);
		for (guint k = 0; live && k < vm->kvp->len; k++) {
			SimPair *p = g_ptr_array_index(vm->kvp, k);
			g_autofree char *item = cls_kvp_item(p->name, p->value);
			inst_add(in, "GuestIntrinsicExchangeItems", item);
		}
		inst_set_int(in, "HealthState", 5);
		inst_add(in, "OperationalStatus", live ? "2" : "12");
		inst_set(in, "SystemCreationClassName", "Msvm_ComputerSystem");
		inst_set(in, "SystemName", vm->id);
		g_ptr_array_add(out, in);
	}
}

static void concrete_jobs(SimState *st, GPtrArray *out)
{
	for (guint i = 0; i < st->jobs->len; i++)
		g_ptr_array_add(out, job_instance(st, g_ptr_array_index(st->jobs, i)));
}

static GPtrArray *sel1(const char *name, const char *value)
{
	GPtrArray *sel = g_ptr_array_new_with_free_func(sim_pair_free);
	g_ptr_array_add(sel, sim_pair_new(name, value));
	return sel;
}

static void affected_elements(SimState *st, GPtrArray *out)
{
	for (guint i = 0; i < st->jobs->len; i++) {
		SimJob *j = g_ptr_array_index(st->jobs, i);
		SimSnap *s = sim_snap_find(st, j->snap_id);
		for (int k = 0; k < 2; k++) {
			SimInst *in;
			if (k == 0) {
				GPtrArray *sel = sel1("CreationClassName", "Msvm_ComputerSystem");
				g_ptr_array_add(sel, sim_pair_new("Name", j->vm_id));
				in = inst_new("Msvm_AffectedJobElement");
				inst_set_ref(in, "AffectedElement", "Msvm_ComputerSystem", sel);
			} else if (s) {
				g_autofree char *iid = g_strdup_printf("Microsoft:%s", s->id);
				in = inst_new("Msvm_AffectedJobElement");
				inst_set_ref(in, "AffectedElement", VSSD, sel1("InstanceID", iid));
			} else {
				continue;
			}
			inst_set_ref(in, "AffectingElement", "Msvm_ConcreteJob",
				     sel1("InstanceID", j->id));
			inst_add(in, "ElementEffects", k ? "5" : "1");
			g_ptr_array_add(out, in);
		}
	}
}

static SimInst *service(SimState *st, const char *cls, const char *name, const char *element)
{
	SimInst *in = inst_new(cls);
	inst_set(in, "Caption", element);
	inst_set(in, "CreationClassName", cls);
	inst_set(in, "Description", element);
	inst_set(in, "ElementName", element);
	inst_set_int(in, "EnabledState", 2);
	inst_set_int(in, "HealthState", 5);
	inst_set(in, "Name", name);
	inst_add(in, "OperationalStatus", "2");
	inst_set(in, "Started", "True");
	inst_set(in, "SystemCreationClassName", "Msvm_ComputerSystem");
	inst_set(in, "SystemName", st->host_name);
	return in;
}

static void snapshot_service(SimState *st, GPtrArray *out)
{
	g_ptr_array_add(out, service(st, "Msvm_VirtualSystemSnapshotService", "vssnapsvc",
				     "Microsoft Hyper-V Virtual System Snapshot Service"));
}

static void management_service(SimState *st, GPtrArray *out)
{
	g_ptr_array_add(out, service(st, "Msvm_VirtualSystemManagementService", "vmms",
				     "Microsoft Hyper-V Virtual System Management Service"));
}

#define SERVICE_KEYS                                                                               \
	{                                                                                          \
		"CreationClassName", "Name", "SystemCreationClassName", "SystemName"               \
	}
static const ClsDef classes[] = {
    {"Msvm_ComputerSystem", {"CreationClassName", "Name"}, computer_systems},
    {VSSD, {"InstanceID"}, settings},
    {"Msvm_KvpExchangeComponent", SERVICE_KEYS, kvp_components},
    {"Msvm_ConcreteJob", {"InstanceID"}, concrete_jobs},
    {"Msvm_ProcessorSettingData", {"InstanceID"}, processor_settings},
    {"Msvm_MemorySettingData", {"InstanceID"}, memory_settings},
    {"Msvm_AffectedJobElement", {NULL}, affected_elements},
    {"Msvm_VirtualSystemSnapshotService", SERVICE_KEYS, snapshot_service},
    {"Msvm_VirtualSystemManagementService", SERVICE_KEYS, management_service},
};

const ClsDef *cls_find(const char *name)
{
	for (size_t i = 0; name && i < G_N_ELEMENTS(classes); i++)
		if (g_ascii_strcasecmp(classes[i].name, name) == 0)
			return &classes[i];
	return NULL;
}

const char *cls_name(const ClsDef *c)
{
	return c->name;
}

GPtrArray *cls_instances(SimState *st, const ClsDef *c)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(inst_free);
	job_tick(st);
	c->collect(st, out);
	return out;
}

GPtrArray *cls_selectors(const SimInst *in)
{
	GPtrArray *sel = g_ptr_array_new_with_free_func(sim_pair_free);
	const ClsDef *c = cls_find(in->cls);
	for (int k = 0; c && k < 4 && c->keys[k]; k++)
		g_ptr_array_add(sel, sim_pair_new(c->keys[k], inst_get(in, c->keys[k])));
	return sel;
}

/* Does IN have every property in WANT (SimPair) with that value (case-insensitive)? */
static bool has_values(const SimInst *in, GPtrArray *want)
{
	for (guint i = 0; i < want->len; i++) {
		SimPair *p = g_ptr_array_index(want, i);
		const char *v = inst_get(in, p->name);
		if (!v || g_ascii_strcasecmp(v, p->value) != 0)
			return false;
	}
	return true;
}

static bool linked_system(const SimInst *cs, const SimInst *other, const char *prop,
			  const char *type_prefix)
{
	const char *v = inst_get(other, prop);
	const char *t = type_prefix ? inst_get(other, "VirtualSystemType") : NULL;
	return v && g_ascii_strcasecmp(v, inst_get(cs, "Name")) == 0 &&
	       (!type_prefix || (t && g_str_has_prefix(t, type_prefix)));
}

typedef struct {
	const char *assoc, *a, *b;
	const char *prop;	 /* property of b naming a's Name */
	const char *type_prefix; /* b's VirtualSystemType must start with it */
} Assoc;

static const Assoc assocs[] = {
    {"Msvm_SystemDevice", "Msvm_ComputerSystem", "Msvm_KvpExchangeComponent", "SystemName", NULL},
    {"Msvm_SettingsDefineState", "Msvm_ComputerSystem", VSSD, "VirtualSystemIdentifier",
     TYPE_REALIZED},
    {"Msvm_SnapshotOfVirtualSystem", "Msvm_ComputerSystem", VSSD, "VirtualSystemIdentifier",
     "Microsoft:Hyper-V:Snapshot:"},
    {"Msvm_AffectedJobElement", "Msvm_ConcreteJob", "Msvm_ComputerSystem", NULL, NULL},
    {"Msvm_AffectedJobElement", "Msvm_ConcreteJob", VSSD, NULL, NULL},
};

/* Msvm_AffectedJobElement links a job to what its AffectedElement reference names. */
static bool linked_job(SimState *st, const SimInst *job, const SimInst *other)
{
	g_autoptr(GPtrArray) links = cls_instances(st, cls_find("Msvm_AffectedJobElement"));
	for (guint i = 0; i < links->len; i++) {
		SimInst *l = g_ptr_array_index(links, i);
		InstProp *by = inst_prop(l, "AffectingElement");
		InstProp *to = inst_prop(l, "AffectedElement");
		if (g_ascii_strcasecmp(sim_pairs_get(by->ref_sel, "InstanceID"),
				       inst_get(job, "InstanceID")) == 0 &&
		    g_ascii_strcasecmp(to->ref_class, other->cls) == 0 &&
		    has_values(other, to->ref_sel))
			return true;
	}
	return false;
}

bool cls_known(const char *name)
{
	for (size_t i = 0; name && i < G_N_ELEMENTS(assocs); i++)
		if (g_ascii_strcasecmp(assocs[i].assoc, name) == 0)
			return true;
	return cls_find(name) != NULL;
}

GPtrArray *cls_associators(SimState *st, const WqlQuery *q)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(inst_free);
	const ClsDef *src_cls = cls_find(q->cls);
	if (!src_cls)
		return out;
	g_autoptr(GPtrArray) srcs = cls_instances(st, src_cls);
	SimInst *src = NULL;
	for (guint i = 0; !src && i < srcs->len; i++)
		if (has_values(g_ptr_array_index(srcs, i), q->keys))
			src = g_ptr_array_index(srcs, i);
	for (size_t r = 0; src && r < G_N_ELEMENTS(assocs); r++) {
		const Assoc *a = &assocs[r];
		bool fwd = g_ascii_strcasecmp(a->a, src->cls) == 0;
		const char *other = fwd ? a->b : a->a;
		if (!fwd && g_ascii_strcasecmp(a->b, src->cls) != 0)
			continue;
		if ((q->assoc_class && g_ascii_strcasecmp(q->assoc_class, a->assoc) != 0) ||
		    (q->result_class && g_ascii_strcasecmp(q->result_class, other) != 0))
			continue;
		g_autoptr(GPtrArray) cands = cls_instances(st, cls_find(other));
		for (guint i = 0; i < cands->len; i++) {
			SimInst *c = g_ptr_array_index(cands, i);
			const SimInst *ia = fwd ? src : c, *ib = fwd ? c : src;
			bool ok = a->prop ? linked_system(ia, ib, a->prop, a->type_prefix)
					  : linked_job(st, ia, ib);
			if (ok)
				g_ptr_array_add(out, g_ptr_array_steal_index(cands, i--));
		}
	}
	return out;
}

SimInst *cls_lookup(SimState *st, const char *cls, GPtrArray *sel, char **err)
{
	const ClsDef *c = cls_find(cls);
	g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(sim_pair_free);
	for (guint i = 0; sel && i < sel->len; i++) {
		SimPair *p = g_ptr_array_index(sel, i);
		bool known = false;
		if (g_ascii_strcasecmp(p->name, "__cimnamespace") == 0)
			continue;
		for (int k = 0; k < 4 && c->keys[k]; k++)
			known = known || g_ascii_strcasecmp(c->keys[k], p->name) == 0;
		if (!known) {
			*err = g_strdup_printf("The selector %s is not a key of %s.", p->name, cls);
			return NULL;
		}
		g_ptr_array_add(want, sim_pair_new(p->name, p->value));
	}
	g_autoptr(GPtrArray) all = cls_instances(st, c);
	guint found = 0, matches = 0;
	for (guint i = 0; i < all->len; i++) {
		if (has_values(g_ptr_array_index(all, i), want)) {
			matches++;
			found = i;
		}
	}
	if (matches != 1) {
		*err = g_strdup_printf("%s selectors for %s match %s instance.",
				       want->len ? "The" : "No", cls,
				       matches ? "more than one" : "no");
		return NULL;
	}
	return g_ptr_array_steal_index(all, found);
}
