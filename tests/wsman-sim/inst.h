/* inst.h - a CIM instance as the simulator builds it before writing it out. */
#pragma once

#include "sim.h"

typedef enum {
	INST_STR,      /* text (numbers and booleans too) */
	INST_DATETIME, /* written as <cim:Datetime> */
	INST_REF,      /* an endpoint reference to another instance */
} InstKind;

typedef struct {
	char *name;
	InstKind kind;
	GPtrArray *values; /* char *; none = NULL (xsi:nil), several = an array */
	char *ref_class;   /* INST_REF: class and selectors (SimPair) of the target */
	GPtrArray *ref_sel;
} InstProp;

typedef struct {
	char *cls;
	GPtrArray *props; /* InstProp */
} SimInst;

SimInst *inst_new(const char *cls);
void inst_free(gpointer p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimInst, inst_free)

/* Set a scalar; VALUE NULL makes it NULL. */
void inst_set(SimInst *in, const char *name, const char *value);
void inst_set_int(SimInst *in, const char *name, gint64 value);
/* A datetime; USEC < 0 makes it NULL. */
void inst_set_time(SimInst *in, const char *name, gint64 usec);
/* Append one element to an array property (created empty, i.e. NULL, on first use). */
void inst_add(SimInst *in, const char *name, const char *value);
/* A reference; takes SEL (SimPair) over. */
void inst_set_ref(SimInst *in, const char *name, const char *cls, GPtrArray *sel);

InstProp *inst_prop(const SimInst *in, const char *name);
/* First value of NAME or NULL (absent or NULL). */
const char *inst_get(const SimInst *in, const char *name);
/* Props sorted alphabetically (case-insensitive), as WMI writes them; owned by IN. */
void inst_sort(SimInst *in);
