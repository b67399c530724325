/* inst.c - building CIM instances: typed properties, arrays, NULLs, references. */
#include "inst.h"

static void prop_free(gpointer p)
{
	InstProp *pr = p;
	g_free(pr->name);
	g_ptr_array_unref(pr->values);
	g_free(pr->ref_class);
	if (pr->ref_sel)
		g_ptr_array_unref(pr->ref_sel);
	g_free(pr);
}

SimInst *inst_new(const char *cls)
{
	SimInst *in = g_new0(SimInst, 1);
	in->cls = g_strdup(cls);
	in->props = g_ptr_array_new_with_free_func(prop_free);
	return in;
}

void inst_free(gpointer p)
{
	SimInst *in = p;
	if (!in)
		return;
	g_free(in->cls);
	g_ptr_array_unref(in->props);
	g_free(in);
}

InstProp *inst_prop(const SimInst *in, const char *name)
{
	for (guint i = 0; i < in->props->len; i++) {
		InstProp *p = g_ptr_array_index(in->props, i);
		if (g_ascii_strcasecmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

/* The property NAME, emptied (NULL) and of KIND; created when missing. */
static InstProp *prop_reset(SimInst *in, const char *name, InstKind kind)
{
	InstProp *p = inst_prop(in, name);
	if (!p) {
		p = g_new0(InstProp, 1);
		p->name = g_strdup(name);
		p->values = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(in->props, p);
	}
	g_ptr_array_set_size(p->values, 0);
	g_clear_pointer(&p->ref_class, g_free);
	g_clear_pointer(&p->ref_sel, g_ptr_array_unref);
	p->kind = kind;
	return p;
}

void inst_set(SimInst *in, const char *name, const char *value)
{
	InstProp *p = prop_reset(in, name, INST_STR);
	if (value)
		g_ptr_array_add(p->values, g_strdup(value));
}

void inst_set_int(SimInst *in, const char *name, gint64 value)
{
	g_autofree char *s = g_strdup_printf("%" G_GINT64_FORMAT, value);
	inst_set(in, name, s);
}

void inst_set_time(SimInst *in, const char *name, gint64 usec)
{
	InstProp *p = prop_reset(in, name, INST_DATETIME);
	if (usec >= 0)
		g_ptr_array_add(p->values, sim_datetime(usec));
}

void inst_add(SimInst *in, const char *name, const char *value)
{
	InstProp *p = inst_prop(in, name);
	if (!p)
		p = prop_reset(in, name, INST_STR);
	if (value)
		g_ptr_array_add(p->values, g_strdup(value));
}

void inst_set_ref(SimInst *in, const char *name, const char *cls, GPtrArray *sel)
{
	InstProp *p = prop_reset(in, name, INST_REF);
	p->ref_class = g_strdup(cls);
	p->ref_sel = sel;
}

const char *inst_get(const SimInst *in, const char *name)
{
	InstProp *p = inst_prop(in, name);
	return p && p->values->len ? g_ptr_array_index(p->values, 0) : NULL;
}

static gint prop_cmp(gconstpointer a, gconstpointer b)
{
	const InstProp *pa = *(InstProp *const *)a;
	const InstProp *pb = *(InstProp *const *)b;
	return g_ascii_strcasecmp(pa->name, pb->name);
}

void inst_sort(SimInst *in)
{
	g_ptr_array_sort(in->props, prop_cmp);
}
