/* facts.h - the Windows build / servicing / ESU facts the classifier encodes (facts.c).
 *
 * Every row carries its source and its confidence as given in the reference
 * (docs: /work/shared/reference/windows-builds.md): H = Microsoft or several independent
 * sources agree, M = one good source, L = weak. Rows at L or L-M make a result "approximate".
 * Where the reference says "no source", there is no row: the classifier reports "unknown". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "buildcheck.h"

typedef enum { FACTS_H, FACTS_MH, FACTS_M, FACTS_LM, FACTS_L } FactsConf;

/* One monthly anchor: kernel (ntoskrnl / BuildLabEx) revision of build minor.build in month.
 * A row covers the revisions from its own up to the next row's minus one ("by range"), except
 * an exact_only row (a preview), which matches only its own revision. */
typedef struct {
	int minor; /* 0 = NT 6.0, 1 = NT 6.1 */
	int build;
	int revision;
	const char *month; /* YYYY-MM */
	const char *kb;	   /* the monthly rollup; NULL when the reference names none */
	bool exact_only;
	FactsConf conf;
	const char *note;
	const char *src;
} FactsRevision;

/* A build number: the product it means for a server and for a workstation, the revision range
 * its kernels use, the month of the last update for it (NULL = no source). */
typedef struct {
	int major, minor, build;
	BcProduct server, workstation;
	int rev_min, rev_max; /* -1 = no bound known */
	bool esu_capable;     /* SP2 / R2 SP1: ESU packages and rollups install on it */
	const char *last_update;
	const char *meaning;
	FactsConf conf;
	const char *src;
} FactsBuild;

typedef enum { FACTS_KB_SHA2, FACTS_KB_SSU, FACTS_KB_LICPREP, FACTS_KB_ROLLUP } FactsKbKind;
typedef struct {
	const char *kb;
	FactsKbKind kind;
	int minor;	   /* 0 = Server 2008, 1 = 2008 R2, -1 = both */
	const char *month; /* release month */
	bool esu_prereq;   /* satisfies the ESU prerequisite of its kind */
	FactsConf conf;
	const char *src;
} FactsKb;

typedef struct {
	int year;
	const char *id;
	FactsConf conf;
	const char *src;
} FactsActivation;

typedef enum {
	FACTS_D_MAINSTREAM_END,
	FACTS_D_EXTENDED_END,
	FACTS_D_ESU_FIRST, /* first ESU month */
	FACTS_D_ESU_Y1_END,
	FACTS_D_ESU_Y2_END,
	FACTS_D_ESU_Y3_END,
	FACTS_D_AZURE_Y4_START,
	FACTS_D_AZURE_Y4_END,
	FACTS_D_PREMIUM_END,
	FACTS_D_COUNT
} FactsDateId;
typedef struct {
	FactsDateId id;
	const char *date; /* YYYY-MM-DD or YYYY-MM */
	bool approximate;
	FactsConf conf;
	const char *src;
} FactsDate;

/* Editions: match = exact EditionID (by_name false) or a word in EditionID / product name. */
typedef struct {
	const char *match;
	bool by_name;
	bool eligible;
	bool core;
	const char *family;
	FactsConf conf;
	const char *src;
} FactsEdition;

extern const FactsRevision facts_revisions[];
extern const size_t facts_revisions_len;
extern const FactsBuild facts_builds[];
extern const size_t facts_builds_len;
extern const FactsKb facts_kbs[];
extern const size_t facts_kbs_len;
extern const FactsActivation facts_activations[];
extern const size_t facts_activations_len;
extern const FactsDate facts_dates[];
extern const FactsEdition facts_editions[];
extern const size_t facts_editions_len;

const char *facts_conf_name(FactsConf c); /* "H", "M-H", "M", "L-M", "L" */
bool facts_conf_weak(FactsConf c);	  /* L or L-M: report as approximate */
/* The row covering revision of minor.build, or NULL when below the first anchor. *next gets
 * the following non-preview row of the same build (NULL after the last). */
const FactsRevision *facts_revision_lookup(int minor, int build, int revision,
					   const FactsRevision **next);
const FactsRevision *facts_revision_first(int minor, int build, const char *from_month);
const FactsBuild *facts_build_lookup(int major, int minor, int build);
const FactsKb *facts_kb_lookup(const char *kb);
int facts_activation_year(const char *id); /* 0 when not an ESU id */
const FactsDate *facts_date(FactsDateId id);
const FactsEdition *facts_edition_lookup(const char *edition_id, const char *product_name);
/* "YYYY-MM" (or a longer date) -> months since year 0; -1 when malformed. */
int facts_month_index(const char *month);
