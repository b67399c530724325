/* classes.h - the root/virtualization/v2 classes the simulator serves, built from its state. */
#pragma once

#include "inst.h"
#include "wql.h"

typedef struct ClsDef ClsDef;

/* The class NAME (case-insensitive) or NULL when the namespace has no such class. */
const ClsDef *cls_find(const char *name);
const char *cls_name(const ClsDef *c);
/* Every instance of C, freshly built from ST (GPtrArray of SimInst, owning). */
GPtrArray *cls_instances(SimState *st, const ClsDef *c);
/* The key selectors (SimPair) that address IN. */
GPtrArray *cls_selectors(const SimInst *in);
/* Is NAME a class: one with instances, or an association the simulator knows? */
bool cls_known(const char *name);
/* Run an ASSOCIATORS OF query: the instances related to the source object. */
GPtrArray *cls_associators(SimState *st, const WqlQuery *q);
/* The one instance of CLS that SEL addresses (names must be keys; a singleton service may be
 * addressed by a subset); NULL with *ERR set when none or several match. */
SimInst *cls_lookup(SimState *st, const char *cls, GPtrArray *sel, char **err);
/* The embedded CIM-XML INSTANCE string of one KVP item. */
char *cls_kvp_item(const char *name, const char *data);
