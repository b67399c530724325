/* sim.c - shared state of the simulated host: lifetime, lookups, time and id helpers. */
#include "sim.h"
#include "enumeration.h"

#include <string.h>

SimPair *sim_pair_new(const char *name, const char *value)
{
	SimPair *p = g_new0(SimPair, 1);
	p->name = g_strdup(name);
	p->value = g_strdup(value);
	return p;
}

void sim_pair_free(gpointer p)
{
	SimPair *pair = p;
	if (!pair)
		return;
	g_free(pair->name);
	g_free(pair->value);
	g_free(pair);
}

const char *sim_pairs_get(GPtrArray *pairs, const char *name)
{
	for (guint i = 0; pairs && i < pairs->len; i++) {
		SimPair *p = g_ptr_array_index(pairs, i);
		if (g_ascii_strcasecmp(p->name, name) == 0)
			return p->value;
	}
	return NULL;
}

G_DEFINE_QUARK(hf - wsman - sim - error, sim_error)

char *sim_xml_escape(const char *s, bool attr)
{
	GString *out = g_string_sized_new(strlen(s) + 16);
	for (; *s; s++) {
		switch (*s) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, attr ? "&quot;" : "\"");
			break;
		default:
			g_string_append_c(out, *s);
		}
	}
	return g_string_free(out, FALSE);
}

gint64 sim_now(void)
{
	return g_get_real_time();
}

char *sim_datetime(gint64 usec)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);
	if (!dt)
		return g_strdup("1970-01-01T00:00:00.000000Z");
	g_autofree char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
	return g_strdup_printf("%s.%06dZ", base, (int)(usec % G_USEC_PER_SEC));
}

gint64 sim_parse_datetime(const char *s)
{
	g_autoptr(GDateTime) dt = s ? g_date_time_new_from_iso8601(s, NULL) : NULL;
	return dt ? g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt) : -1;
}

char *sim_new_guid(void)
{
	g_autofree char *u = g_uuid_string_random();
	return g_ascii_strup(u, -1);
}

char *sim_vssd_path(const SimState *st, const char *guid)
{
	return g_strdup_printf("\\\\%s\\root\\virtualization\\v2:Msvm_VirtualSystemSettingData."
			       "InstanceID=\"Microsoft:%s\"",
			       st->host_name, guid);
}

char *sim_vssd_path_guid(const char *path)
{
	if (!path)
		return NULL;
	const char *m = strstr(path, "Microsoft:");
	if (!m)
		return NULL;
	m += strlen("Microsoft:");
	size_t n = strcspn(m, "\"'\\ ");
	return n ? g_strndup(m, n) : NULL;
}

void sim_vm_free(gpointer p)
{
	SimVm *vm = p;
	g_free(vm->id);
	g_free(vm->name);
	g_free(vm->current_snap);
	g_ptr_array_unref(vm->kvp);
	g_free(vm);
}

void sim_snap_free(gpointer p)
{
	SimSnap *s = p;
	g_free(s->id);
	g_free(s->vm_id);
	g_free(s->name);
	g_free(s->parent_id);
	g_free(s);
}

void sim_job_free(gpointer p)
{
	SimJob *j = p;
	g_free(j->id);
	g_free(j->method);
	g_free(j->error_desc);
	g_free(j->vm_id);
	g_free(j->snap_id);
	g_free(j->export_dir);
	if (j->export_settings)
		g_ptr_array_unref(j->export_settings);
	g_free(j);
}

void sim_state_init(SimState *st)
{
	memset(st, 0, sizeof(*st));
	g_mutex_init(&st->lock);
	st->host_name = g_strdup("HV-HOST01");
	st->lang = g_strdup("en-US");
	st->vhdx_kib = 256;
	st->vms = g_ptr_array_new_with_free_func(sim_vm_free);
	st->snaps = g_ptr_array_new_with_free_func(sim_snap_free);
	st->jobs = g_ptr_array_new_with_free_func(sim_job_free);
	st->enums = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, enum_free);
	st->op_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	st->knobs.job_ms = 1500;
	st->knobs.enum_expiry_ms = 60000;
}

void sim_state_clear(SimState *st)
{
	g_free(st->host_name);
	g_free(st->lang);
	g_free(st->host_caption);
	g_free(st->host_description);
	g_free(st->vm_caption);
	g_free(st->export_root);
	g_free(st->export_host_path);
	g_ptr_array_unref(st->vms);
	g_ptr_array_unref(st->snaps);
	g_ptr_array_unref(st->jobs);
	g_hash_table_unref(st->enums);
	g_hash_table_unref(st->op_counts);
	g_free(st->knobs.drop.op);
	g_free(st->knobs.malformed.op);
	g_free(st->knobs.quota.op);
	g_free(st->knobs.timeout.op);
	g_free(st->knobs.fail_jobs.op);
	g_mutex_clear(&st->lock);
}

void sim_count_op(SimState *st, const char *op)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(st->op_counts, op));
	g_hash_table_replace(st->op_counts, g_strdup(op), GUINT_TO_POINTER(n + 1));
	st->requests++;
}

SimVm *sim_vm_find(SimState *st, const char *guid)
{
	for (guint i = 0; guid && i < st->vms->len; i++) {
		SimVm *vm = g_ptr_array_index(st->vms, i);
		if (g_ascii_strcasecmp(vm->id, guid) == 0)
			return vm;
	}
	return NULL;
}

SimVm *sim_vm_find_name(SimState *st, const char *name)
{
	for (guint i = 0; name && i < st->vms->len; i++) {
		SimVm *vm = g_ptr_array_index(st->vms, i);
		if (g_ascii_strcasecmp(vm->name, name) == 0)
			return vm;
	}
	return NULL;
}

SimSnap *sim_snap_find(SimState *st, const char *guid)
{
	for (guint i = 0; guid && i < st->snaps->len; i++) {
		SimSnap *s = g_ptr_array_index(st->snaps, i);
		if (g_ascii_strcasecmp(s->id, guid) == 0)
			return s;
	}
	return NULL;
}

SimJob *sim_job_find(SimState *st, const char *id)
{
	for (guint i = 0; id && i < st->jobs->len; i++) {
		SimJob *j = g_ptr_array_index(st->jobs, i);
		if (g_ascii_strcasecmp(j->id, id) == 0)
			return j;
	}
	return NULL;
}
