/* wql.h - the WQL subset a Hyper-V client sends: SELECT * with ANDed comparisons, and
 * ASSOCIATORS OF {path} WHERE AssocClass=... ResultClass=... */
#pragma once

#include "inst.h"

typedef enum {
	WQL_SELECT,
	WQL_ASSOCIATORS,
} WqlKind;

typedef enum {
	WQL_EQ,
	WQL_NE,
	WQL_IS_NULL,
	WQL_NOT_NULL,
	WQL_LIKE, /* LIKE 'text%': a prefix (the only pattern the driver sends) */
} WqlOp;

typedef struct {
	char *prop;
	WqlOp op;
	char *value;
} WqlCond;

typedef struct {
	WqlKind kind;
	char *cls;	   /* SELECT: the class; ASSOCIATORS: the source object's class */
	GPtrArray *conds;  /* WqlCond, ANDed (SELECT) */
	GPtrArray *keys;   /* SimPair: the source object's keys (ASSOCIATORS) */
	char *assoc_class; /* optional */
	char *result_class;
} WqlQuery;

/* Parse TEXT; on a syntax error returns NULL and sets *ERRMSG. */
WqlQuery *wql_parse(const char *text, char **errmsg);
void wql_free(WqlQuery *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WqlQuery, wql_free)

/* 1 when IN satisfies every condition, 0 when not, -1 when a condition names a property
 * the class does not have (*BAD_PROP set, not owned). */
int wql_match(const WqlQuery *q, const SimInst *in, const char **bad_prop);
