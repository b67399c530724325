/* bcclassify.h - private to the classifier: its working state and the verdict builders. */
#pragma once

#include <time.h>

#include "buildcheck.h"
#include "facts.h"

typedef struct {
	const BcEvidence *ev;
	BcVerdict *v;
	time_t now;
	int released;		/* month index of the newest Patch Tuesday at now */
	int major, minor;	/* as chosen; -1 unknown */
	const FactsBuild *brow; /* the build row of the chosen version + build; NULL if none */
	bool esu_product;	/* a server on an ESU-capable build (2008 SP2, R2 SP1) */
} BcCtx;

/* Verdict builders (buildcheck_verdict.c). */
void buildcheck_verdict_cite(BcVerdict *v, BcFactId f, BcSource s, const char *field,
			     const char *fmt, ...) G_GNUC_PRINTF(5, 6);
/* Add the evidence of fact from to fact to (without duplicates). */
void buildcheck_verdict_copy_cites(BcVerdict *v, BcFactId to, BcFactId from);
void buildcheck_verdict_set(BcVerdict *v, BcFactId f, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Append to the fact's note ("; " between parts). */
void buildcheck_verdict_note(BcVerdict *v, BcFactId f, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Raise the status to at least level and record why. */
void buildcheck_verdict_reason(BcVerdict *v, BcStatus level, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Evidence that cannot all be true: recorded, and an attention reason. */
void buildcheck_verdict_contradiction(BcVerdict *v, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* "YYYY-MM" of a month index. */
void buildcheck_verdict_month(int index, char out[8]);

/* Why nothing of srcs gave a value: "file-version unavailable: <reason>; registry not asked". */
char *bcesu_why_unknown(const BcCtx *c, const BcSource *srcs, size_t n);
/* Patch month, months behind, ESU era, licence, prerequisites (bcesu.c). */
void bcesu_classify(BcCtx *c);
/* Whether an update id from any source matches kb ("KB4474419" or bare "4474419"). */
bool bcesu_has_update(const BcCtx *c, const char *kb, BcFactId cite_to);
