/* facts.c - the fact table: every fact of windows-builds.md with its source and confidence.
 * Hand-kept; change a row only together with the reference and the test that checks it. */
#include "facts.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

/* Sources, as the reference names them. */
#define SRC_BUILDS "windows-builds.md 'Build numbers' (Microsoft support articles, BetaWiki)"
#define SRC_BUMP "windows-builds.md 'Build numbers': LDR range 0x5000-0x5FFF, last 6002 kernel"
#define SRC_R2019 "windows-builds.md anchors 2019 (MS KB articles, Tenable plugin 93962)"
#define SRC_R2020 "windows-builds.md anchors 2020 (MS KB articles, Tenable plugin 93962)"
#define SRC_R2021 "windows-builds.md anchors 2021 (MS KB articles, Tenable plugin 93962)"
#define SRC_RLATE "windows-builds.md anchors 'later' (MSRC FixedBuild values)"
#define SRC_R6002 "windows-builds.md anchors: 6002 March 2019 rollup KB4489880"
#define SRC_RR2 "windows-builds.md anchors: Server 2008 R2 6.1.7601.x"
#define SRC_TIME "windows-builds.md 'Support timeline' (Microsoft lifecycle)"
#define SRC_PKG "windows-builds.md 'ESU packages and licence' (Microsoft ESU articles)"
#define SRC_IDS "windows-builds.md 'ESU packages and licence': activation ids"
#define SRC_ED "windows-builds.md 'Support timeline': eligible EditionIDs / not eligible"
#define SRC_SSU "windows-builds.md 'Widely repeated claims': April 2019 SSU KB4493730"

/* clang-format off */
#define REV(mi, b, r, m, k, c, s) {mi, b, r, m, k, false, c, NULL, s}
#define R03(r, m, k) REV(0, 6003, r, m, k, FACTS_H, SRC_R2019)
#define R20(r, m, k) REV(0, 6003, r, m, k, FACTS_H, SRC_R2020)
#define R21(r, m, k) REV(0, 6003, r, m, k, FACTS_H, SRC_R2021)

const FactsRevision facts_revisions[] = {
	/* 6.0.6003: the March 19 preview and the April rollup overlap (20491 > 20489) */
	{0, 6003, 20491, "2019-03", "KB4489887", true, FACTS_H, "March 19 preview", SRC_R2019},
	R03(20489, "2019-04", "KB4493471"),
	R03(20512, "2019-05", "KB4499149"),
	R03(20540, "2019-06", NULL),
	R03(20562, "2019-07", NULL),
	R03(20597, "2019-08", NULL),
	R03(20625, "2019-09", "KB4516026"),
	R03(20654, "2019-10", NULL),
	R03(20667, "2019-11", NULL),
	R03(20686, "2019-12", NULL),
	R20(20705, "2020-01", "KB4534303"),
	R20(20731, "2020-02", "KB4537810"),
	R20(20749, "2020-03", NULL),
	R20(20812, "2020-04", NULL),
	R20(20825, "2020-05", NULL),
	R20(20851, "2020-06", NULL),
	R20(20881, "2020-07", NULL),
	R20(20898, "2020-08", NULL),
	R20(20933, "2020-09", NULL),
	R20(20953, "2020-10", NULL),
	R20(20981, "2020-11", NULL),
	R20(20996, "2020-12", "KB4592498"),
	R21(21026, "2021-01", NULL),
	R21(21045, "2021-02", NULL),
	R21(21066, "2021-03", NULL),
	R21(21095, "2021-04", NULL),
	R21(21115, "2021-05", NULL),
	R21(21137, "2021-06", NULL),
	R21(21163, "2021-07", "KB5004305"),
	REV(0, 6003, 21481, "2022-05", "KB5014010", FACTS_M, SRC_RLATE),
	{0, 6003, 22015, "2023-03", NULL, false, FACTS_L, "March or April 2023", SRC_RLATE},
	REV(0, 6003, 22216, "2023-08", NULL, FACTS_L, SRC_RLATE),
	REV(0, 6003, 23117, "2025-02", NULL, FACTS_LM, SRC_RLATE),
	REV(0, 6003, 23717, "2026-01", NULL, FACTS_M, SRC_RLATE),
	/* 6.0.6002: only the last rollup before the bump (24564/24565; last kernel 24566) */
	REV(0, 6002, 24564, "2019-03", "KB4489880", FACTS_H, SRC_R6002),
	/* 6.1.7601 */
	REV(1, 7601, 24408, "2019-04", NULL, FACTS_H, SRC_RR2),
	REV(1, 7601, 24542, "2020-01", NULL, FACTS_H, SRC_RR2),
	REV(1, 7601, 24548, "2020-02", NULL, FACTS_H, SRC_RR2),
	REV(1, 7601, 25631, "2021-06", NULL, FACTS_H, SRC_RR2),
	REV(1, 7601, 25661, "2021-07", NULL, FACTS_H, SRC_RR2),
	REV(1, 7601, 25954, "2022-05", NULL, FACTS_M, SRC_RR2),
	REV(1, 7601, 26664, "2023-08", NULL, FACTS_L, SRC_RR2),
	REV(1, 7601, 27566, "2025-02", NULL, FACTS_LM, SRC_RR2),
	REV(1, 7601, 28117, "2026-01", NULL, FACTS_M, SRC_RR2),
};
const size_t facts_revisions_len = G_N_ELEMENTS(facts_revisions);

const FactsBuild facts_builds[] = {
	{6, 0, 6001, BC_PRODUCT_2008_RTM_6001, BC_PRODUCT_VISTA, -1, -1, false, NULL,
	 "Server 2008 RTM (Vista SP1 code base)", FACTS_H, SRC_BUILDS},
	{6, 0, 6002, BC_PRODUCT_2008_SP2_6002, BC_PRODUCT_VISTA, -1, 0x5FFF, true, "2026-01",
	 "Server 2008 SP2, not patched past March 2019", FACTS_H, SRC_BUMP},
	{6, 0, 6003, BC_PRODUCT_2008_SP2_6003, BC_PRODUCT_VISTA, 0x5000, 0x5FFF, true, "2026-01",
	 "Server 2008 SP2 with updates from March 19 / April 9, 2019 or later", FACTS_H, SRC_BUMP},
	{6, 1, 7600, BC_PRODUCT_2008R2_7600, BC_PRODUCT_OTHER, -1, -1, false, NULL,
	 "Server 2008 R2 RTM", FACTS_H, SRC_BUILDS},
	{6, 1, 7601, BC_PRODUCT_2008R2_7601, BC_PRODUCT_OTHER, -1, -1, true, "2026-01",
	 "Server 2008 R2 SP1 (no build bump; revisions ran past 0x5FFF)", FACTS_H, SRC_BUILDS},
};
const size_t facts_builds_len = G_N_ELEMENTS(facts_builds);

const FactsKb facts_kbs[] = {
	{"KB4474419", FACTS_KB_SHA2, -1, NULL, true, FACTS_M, SRC_PKG},
	{"KB4493730", FACTS_KB_SSU, 0, "2019-04", false, FACTS_M, SRC_SSU},
	{"KB4550737", FACTS_KB_SSU, 0, "2020-04", true, FACTS_M, SRC_PKG},
	{"KB4538484", FACTS_KB_LICPREP, 0, "2020-02", true, FACTS_M, SRC_PKG},
	{"KB4575904", FACTS_KB_LICPREP, 0, "2020-07", true, FACTS_M, SRC_PKG},
	{"KB4538483", FACTS_KB_LICPREP, 1, "2020-02", true, FACTS_M, SRC_PKG},
	{"KB4575903", FACTS_KB_LICPREP, 1, "2020-07", true, FACTS_M, SRC_PKG},
	{"KB4493458", FACTS_KB_ROLLUP, 0, "2019-04", false, FACTS_H, SRC_R2019},
};
const size_t facts_kbs_len = G_N_ELEMENTS(facts_kbs);

const FactsActivation facts_activations[] = {
	{1, "553673ed-6ddf-419c-a153-b760283472fd", FACTS_MH, SRC_IDS},
	{2, "04fa0286-fa74-401e-bbe9-fbfbb158010d", FACTS_MH, SRC_IDS},
	{3, "16c08c85-0c8b-4009-9b2b-f1f7319e45f9", FACTS_MH, SRC_IDS},
};
const size_t facts_activations_len = G_N_ELEMENTS(facts_activations);

/* Indexed by FactsDateId. */
const FactsDate facts_dates[] = {
	{FACTS_D_MAINSTREAM_END, "2015-01-13", false, FACTS_H, SRC_TIME},
	{FACTS_D_EXTENDED_END, "2020-01-14", false, FACTS_H, SRC_TIME},
	{FACTS_D_ESU_FIRST, "2020-02", false, FACTS_H, SRC_R2020},
	{FACTS_D_ESU_Y1_END, "2021-01", true, FACTS_H, SRC_TIME},
	{FACTS_D_ESU_Y2_END, "2022-01", true, FACTS_H, SRC_TIME},
	{FACTS_D_ESU_Y3_END, "2023-01-10", false, FACTS_H, SRC_TIME},
	{FACTS_D_AZURE_Y4_START, "2023-02-14", false, FACTS_H, SRC_TIME},
	{FACTS_D_AZURE_Y4_END, "2024-01-09", false, FACTS_H, SRC_TIME},
	{FACTS_D_PREMIUM_END, "2026-01-13", false, FACTS_M, SRC_TIME},
};

#define ED(id, core, fam) {id, false, true, core, fam, FACTS_M, SRC_ED}
const FactsEdition facts_editions[] = {
	ED("ServerStandard", false, "standard"),
	ED("ServerStandardCore", true, "standard"),
	ED("ServerStandardV", false, "standard"),
	ED("ServerStandardVCore", true, "standard"),
	ED("ServerEnterprise", false, "enterprise"),
	ED("ServerEnterpriseCore", true, "enterprise"),
	ED("ServerEnterpriseV", false, "enterprise"),
	ED("ServerEnterpriseVCore", true, "enterprise"),
	ED("ServerDatacenter", false, "datacenter"),
	ED("ServerDatacenterCore", true, "datacenter"),
	ED("ServerDatacenterV", false, "datacenter"),
	ED("ServerDatacenterVCore", true, "datacenter"),
	/* by word, first match wins: the not-eligible families come before the generic words */
	{"Hyper-V Server", true, false, false, "hyper-v-server", FACTS_H, SRC_ED},
	{"HPC", true, false, false, "hpc", FACTS_H, SRC_ED},
	{"Storage", true, false, false, "storage", FACTS_H, SRC_ED},
	{"Itanium", true, false, false, "itanium", FACTS_M, SRC_ED},
	{"IA64", true, false, false, "itanium", FACTS_M, SRC_ED},
	{"Web", true, false, false, "web", FACTS_M, SRC_ED},
	{"Foundation", true, false, false, "foundation", FACTS_M, SRC_ED},
	{"Datacenter", true, true, false, "datacenter", FACTS_M, SRC_ED},
	{"Enterprise", true, true, false, "enterprise", FACTS_M, SRC_ED},
	{"Standard", true, true, false, "standard", FACTS_M, SRC_ED},
};
const size_t facts_editions_len = G_N_ELEMENTS(facts_editions);
/* clang-format on */

const char *facts_conf_name(FactsConf c)
{
	static const char *const names[] = {"H", "M-H", "M", "L-M", "L"};
	return names[c];
}

bool facts_conf_weak(FactsConf c)
{
	return c == FACTS_LM || c == FACTS_L;
}

const FactsRevision *facts_revision_lookup(int minor, int build, int revision,
					   const FactsRevision **next)
{
	const FactsRevision *best = NULL;
	*next = NULL;
	for (size_t i = 0; i < facts_revisions_len; i++) {
		const FactsRevision *r = &facts_revisions[i];
		if (r->minor != minor || r->build != build)
			continue;
		if (r->exact_only) {
			if (r->revision == revision) {
				best = r;
				break;
			}
			continue;
		}
		if (r->revision <= revision && (!best || r->revision > best->revision))
			best = r;
		if (r->revision > revision && (!*next || r->revision < (*next)->revision))
			*next = r;
	}
	if (best && best->exact_only) {
		/* the range row the preview sits in decides what comes next */
		const FactsRevision *unused;
		facts_revision_lookup(minor, build, revision + 1, &unused);
		*next = unused;
	}
	return best;
}

const FactsRevision *facts_revision_first(int minor, int build, const char *from_month)
{
	for (size_t i = 0; i < facts_revisions_len; i++) {
		const FactsRevision *r = &facts_revisions[i];
		if (r->minor == minor && r->build == build && !r->exact_only &&
		    strcmp(r->month, from_month) >= 0)
			return r;
	}
	return NULL;
}

const FactsBuild *facts_build_lookup(int major, int minor, int build)
{
	for (size_t i = 0; i < facts_builds_len; i++) {
		const FactsBuild *b = &facts_builds[i];
		if (b->major == major && b->minor == minor && b->build == build)
			return b;
	}
	return NULL;
}

const FactsKb *facts_kb_lookup(const char *kb)
{
	for (size_t i = 0; i < facts_kbs_len; i++)
		if (g_ascii_strcasecmp(facts_kbs[i].kb, kb) == 0)
			return &facts_kbs[i];
	return NULL;
}

int facts_activation_year(const char *id)
{
	for (size_t i = 0; i < facts_activations_len; i++)
		if (g_ascii_strcasecmp(facts_activations[i].id, id) == 0)
			return facts_activations[i].year;
	return 0;
}

const FactsDate *facts_date(FactsDateId id)
{
	return &facts_dates[id];
}

static bool has_word(const char *hay, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = hay; p && *p; p++)
		if (g_ascii_strncasecmp(p, word, n) == 0)
			return true;
	return false;
}

const FactsEdition *facts_edition_lookup(const char *edition_id, const char *product_name)
{
	for (size_t i = 0; edition_id && i < facts_editions_len; i++)
		if (!facts_editions[i].by_name &&
		    g_ascii_strcasecmp(facts_editions[i].match, edition_id) == 0)
			return &facts_editions[i];
	const char *hay[] = {edition_id, product_name};
	for (size_t h = 0; h < G_N_ELEMENTS(hay); h++)
		for (size_t i = 0; hay[h] && i < facts_editions_len; i++)
			if (facts_editions[i].by_name && has_word(hay[h], facts_editions[i].match))
				return &facts_editions[i];
	return NULL;
}

int facts_month_index(const char *month)
{
	int y, m;
	if (!month || strlen(month) < 7 || month[4] != '-' ||
	    sscanf(month, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12)
		return -1;
	return y * 12 + m - 1;
}
