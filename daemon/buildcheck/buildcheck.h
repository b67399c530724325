/* buildcheck.h - Windows build and ESU verdicts for legacy Server 2008 guests (pure C, no I/O).
 *
 * Evidence (what each source inside or around a guest said) goes in; a verdict comes out:
 * product, edition, arch, Server Core, ESU eligibility, build.revision, patch month, months
 * behind, "ESU-era updates installed" and "ESU licence active (year N)" as two separate facts,
 * ESU prerequisites, contradictions and an overall ok / attention / critical with reasons.
 * Every fact lists the evidence (source, field, value) it came from; what could not be learned
 * stays unknown with the reason. The facts themselves live in facts.c (one row per fact of
 * /work/shared/reference/windows-builds.md, each with its source and confidence). No clock reads: the caller
 * passes "now".
 *
 * What the collector runs in the guest (qemu-ga guest-exec: no shell, full paths, and never a
 * literal double quote in an argument: GLib's helper would turn it into \" which these tools do
 * not understand; an argument with a space is quoted by the helper itself). Arguments below are
 * literal text, not C escapes: the WQL name= value really has doubled backslashes. Pass the raw
 * out-data bytes (OEM code page, not NUL-terminated) and their length to the parser named:
 *
 *   source registry
 *     ["C:\Windows\System32\reg.exe", "query", "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"]
 *       -> bcparse_reg_query()   (exit code 1 = key or value missing; the text is localised)
 *     ["C:\Windows\System32\reg.exe", "query",
 *      "HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions", "/v", "ProductType"]
 *       -> bcparse_reg_query()   (same item: adds the role)
 *   source file-version
 *     ["C:\Windows\System32\wbem\WMIC.exe", "datafile",
 *      "where", "name='C:\\Windows\\System32\\ntoskrnl.exe'", "get", "Version", "/value"]
 *       -> bcwmic_datafile()     (the dependable revision source on 6.0 / 6.1)
 *   source wmi
 *     ["C:\Windows\System32\wbem\WMIC.exe", "os", "get",
 *      "BuildNumber,CSDVersion,OSArchitecture,ProductType,ServicePackMajorVersion,Version",
 *      "/value"]                  -> bcwmic_os()
 *   source update-list
 *     ["C:\Windows\System32\wbem\WMIC.exe", "qfe", "get", "HotFixID"] -> bcwmic_qfe()
 *   source licence-query, once per ESU year (buildcheck_esu_activation_id(1..3)):
 *     ["C:\Windows\System32\wbem\WMIC.exe", "path", "SoftwareLicensingProduct",
 *      "where", "ID='<activation id>'", "get", "ID,LicenseStatus", "/value"]
 *       -> bcwmic_licence()
 *     or ["C:\Windows\System32\cscript.exe", "//nologo", "C:\Windows\System32\slmgr.vbs",
 *         "/dli", "<activation id>"] -> bcparse_slmgr_dli()
 *   source ver
 *     ["C:\Windows\System32\cmd.exe", "/c", "ver"] -> bcparse_ver()
 *   source systeminfo (slow; a fallback when wmic is missing)
 *     ["C:\Windows\System32\systeminfo.exe"] -> bcparse_systeminfo()
 *   source agent-osinfo: libvirt guest info (VIR_DOMAIN_GUEST_INFO_OS), each "os.*" typed
 *     parameter -> bcparse_osinfo(key, value)
 *   source hyperv-kvp: each Msvm_KvpExchangeComponent GuestIntrinsicExchangeItems Name/Data
 *     pair -> bcparse_kvp(name, value)
 * C:\Windows stands for %SystemRoot% (the registry's SystemRoot value). When a command cannot
 * run (old agent without guest-exec, timeout, exit code), call buildcheck_evidence_unavailable()
 * for its source with the reason: the verdict then says what was not learned and why. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "error.h"

/* Limits: anything longer is rejected with HF_ERR_INVALID_PARAMS, never truncated silently. */
#define BC_OUTPUT_MAX (16u * 1024 * 1024) /* qemu-ga's own cap on out-data */
#define BC_STR_MAX 256			  /* one value (ProductName, BuildLabEx, ...) */
#define BC_UPDATES_MAX 8192		  /* installed updates per source */
#define BC_LICENCES_MAX 16		  /* licence states per source */

typedef enum {
	BC_SRC_FILE_VERSION, /* listed in trust order: first = preferred when sources disagree */
	BC_SRC_REGISTRY,
	BC_SRC_WMI,
	BC_SRC_SYSTEMINFO,
	BC_SRC_VER,
	BC_SRC_AGENT_OSINFO,
	BC_SRC_HYPERV_KVP,
	BC_SRC_UPDATE_LIST,
	BC_SRC_LICENCE_QUERY,
	BC_SRC_COUNT
} BcSource;

typedef enum { BC_ARCH_UNKNOWN, BC_ARCH_X86, BC_ARCH_AMD64, BC_ARCH_IA64 } BcArch;
typedef enum { BC_ROLE_UNKNOWN, BC_ROLE_WORKSTATION, BC_ROLE_DC, BC_ROLE_SERVER } BcRole;
typedef enum { BC_TRI_UNKNOWN = -1, BC_TRI_NO = 0, BC_TRI_YES = 1 } BcTri;

/* SoftwareLicensingProduct.LicenseStatus: 0 unlicensed, 1 licensed, 2-6 grace / notification;
 * BC_LIC_NOT_INSTALLED when the activation id is not on the machine at all. */
#define BC_LIC_NOT_INSTALLED (-1)
#define BC_LIC_LICENSED 1
typedef struct {
	char id[40]; /* activation id, lower case */
	int status;
} BcLicence;

/* What one source said. Numbers are -1 and strings NULL when the source did not say. */
typedef struct {
	bool present;	      /* the source was asked */
	char *unavailable;    /* why it could not be read; NULL when it was */
	int64_t collected_at; /* unix seconds; 0 when not said */
	int major, minor, build, revision, service_pack;
	BcRole role;
	BcArch arch;
	char *product_name, *edition_id, *installation_type, *csd_version;
	char *buildlab, *buildlabex; /* raw registry strings; the classifier parses them */
	char *os_version_id;	     /* guest-get-osinfo version-id: "2008", "2008r2", "vista" */
	GPtrArray *updates;	     /* char *: "KB4474419", or a GUID / bare number as listed */
	GArray *licences;	     /* BcLicence */
} BcItem;

typedef struct {
	BcItem items[BC_SRC_COUNT];
} BcEvidence;

void buildcheck_evidence_init(BcEvidence *ev);
void buildcheck_evidence_clear(BcEvidence *ev);
/* Mark src present and return its item for a parser to fill. */
BcItem *buildcheck_evidence_item(BcEvidence *ev, BcSource src, int64_t collected_at);
void buildcheck_evidence_unavailable(BcEvidence *ev, BcSource src, int64_t collected_at,
				     const char *reason);
const char *buildcheck_source_name(BcSource src); /* "registry", "file-version", ... */

/* Evidence JSON (the schema of `holdfast check --json` and `holdfast classify` stdin):
 * {"sources":[{"source":"registry","collected-at":"2024-05-01T10:00:00Z",
 *   "unavailable":"reason" | values: "major","minor","build","revision","service-pack" (integers),
 *   "role" ("workstation","domain-controller","server"), "arch" ("x86","amd64","ia64"),
 *   "product-name","edition-id","installation-type","csd-version","buildlab","buildlabex",
 *   "os-version-id" (strings), "updates" (array of strings),
 *   "licences" ([{"id":"553673ed-...","status":1}], status -1 = not installed)}]}
 * Strict: unknown keys, wrong types, out-of-range numbers, a source given twice, strings over
 * BC_STR_MAX or with control characters are HF_ERR_INVALID_PARAMS naming the path. */
int buildcheck_evidence_from_json(const cJSON *json, BcEvidence *ev, HfError *err);
cJSON *buildcheck_evidence_to_json(const BcEvidence *ev);

typedef enum {
	BC_PRODUCT_UNKNOWN,
	BC_PRODUCT_VISTA,
	BC_PRODUCT_2008_RTM_6001,
	BC_PRODUCT_2008_SP2_6002,
	BC_PRODUCT_2008_SP2_6003,
	BC_PRODUCT_2008R2_7600,
	BC_PRODUCT_2008R2_7601,
	BC_PRODUCT_OTHER,
} BcProduct;

typedef enum { BC_STATUS_OK, BC_STATUS_ATTENTION, BC_STATUS_CRITICAL } BcStatus;

typedef enum {
	BC_FACT_PRODUCT,
	BC_FACT_VERSION,
	BC_FACT_ROLE,
	BC_FACT_EDITION,
	BC_FACT_ARCH,
	BC_FACT_SERVER_CORE,
	BC_FACT_ESU_ELIGIBLE,
	BC_FACT_BUILD,
	BC_FACT_REVISION,
	BC_FACT_PATCH_MONTH,
	BC_FACT_MONTHS_BEHIND,
	BC_FACT_ESU_ERA,
	BC_FACT_ESU_LICENCE,
	BC_FACT_PREREQ_SHA2,
	BC_FACT_PREREQ_SSU,
	BC_FACT_PREREQ_LICPREP,
	BC_FACT_PREREQ_ROLLUP,
	BC_FACT_COLLECTED,
	BC_FACT_COUNT
} BcFactId;

typedef struct {
	BcSource source;
	char field[24]; /* evidence field: "build", "buildlabex", "updates", ... */
	char value[BC_STR_MAX];
} BcCite;

typedef struct {
	char *value;	  /* NULL = unknown */
	char *note;	  /* why unknown, or how the value was reached */
	bool approximate; /* from an L row, or between anchors */
	bool conflict;	  /* sources disagreed; all of them are in cites */
	GArray *cites;	  /* BcCite */
} BcFact;

/* The outcome. Typed copies of the main facts for policy checks; -1 / "" when unknown. */
typedef struct {
	BcProduct product;
	BcArch arch;
	BcTri server_core, esu_eligible, esu_era, licence_active;
	int licence_year; /* highest ESU year with LicenseStatus 1; 0 = none / unknown */
	int build, revision;
	char patch_month[8]; /* YYYY-MM */
	int months_behind;   /* -1 unknown; a lower bound when the fact's note says "at least" */
	BcStatus status;
	GPtrArray *reasons;	   /* char *: why the status is what it is */
	GPtrArray *contradictions; /* char *: evidence that cannot all be true */
	BcFact facts[BC_FACT_COUNT];
} BcVerdict;

/* Status rules: critical when at least BC_BEHIND_CRITICAL months behind or on an RTM build
 * that gets no updates; attention for BC_BEHIND_ATTENTION months or more, any contradiction,
 * an unknown product or patch level, an ESU-eligible guest without an active licence (or with
 * missing prerequisites); ok otherwise. */
#define BC_BEHIND_ATTENTION 2
#define BC_BEHIND_CRITICAL 12

void buildcheck_verdict_init(BcVerdict *v);
void buildcheck_verdict_clear(BcVerdict *v);
/* Fails only on invalid evidence (HF_ERR_INVALID_PARAMS); missing evidence is a verdict. */
int buildcheck_classify(const BcEvidence *ev, time_t now, BcVerdict *v, HfError *err);
cJSON *buildcheck_verdict_to_json(const BcVerdict *v);
const char *buildcheck_product_name(BcProduct p);   /* "server2008-sp2-6003", ... */
const char *buildcheck_status_name(BcStatus s);	    /* "ok", "attention", "critical" */
const char *buildcheck_fact_name(BcFactId f);	    /* "patch-month", ... */
const char *buildcheck_esu_activation_id(int year); /* years 1-3; NULL otherwise */

/* Policy: {"require-build":6003,"min-esu-licence-year":1,"max-patch-age-months":3,
 * "fail-on":"critical"}; every key optional; 0 / absent = no requirement. */
typedef struct {
	int require_build;
	int min_licence_year;
	int max_patch_age; /* months; -1 = no limit */
	int fail_on;	   /* a BcStatus that fails; -1 = none */
} BcPolicy;
void buildcheck_policy_init(BcPolicy *p);
int buildcheck_policy_from_json(const cJSON *json, BcPolicy *p, HfError *err);
/* true when v passes; otherwise one reason per failed rule is appended to reasons (char *,
 * g_free). An unknown value fails the rule that needs it. */
bool buildcheck_policy_check(const BcPolicy *p, const BcVerdict *v, GPtrArray *reasons);

/* Parsers (bcparse.c, bcwmic.c): raw guest output bytes, treated as bytes in the OEM code
 * page; each fills the item of its source and returns 0, or -1 with HF_ERR_INVALID_PARAMS
 * (malformed / hostile), HF_ERR_NOT_FOUND (the tool said the thing is not there) or
 * HF_ERR_UNSUPPORTED (a format this parser does not read), HF_ERR_FAILED (the tool printed an
 * error). The exact formats are documented at each function in the .c file. On failure the
 * item may be partly filled: mark the source unavailable (the classifier ignores the values of
 * an unavailable source). */
typedef struct {
	int build, revision; /* revision -1 for BuildLab */
	BcArch arch;
	char branch[64]; /* e.g. vistasp2_ldr_escrow */
	char stamp[12];	 /* yymmdd-hhmm */
} BcBuildLab;
int bcparse_buildlabex(const char *s, size_t len, BcBuildLab *out, HfError *err);
int bcparse_buildlab(const char *s, size_t len, BcBuildLab *out, HfError *err);
int bcparse_reg_query(const char *buf, size_t len, BcItem *it, HfError *err);
int bcparse_ver(const char *buf, size_t len, BcItem *it, HfError *err);
int bcparse_systeminfo(const char *buf, size_t len, BcItem *it, HfError *err);
int bcparse_slmgr_dli(const char *buf, size_t len, const char *activation_id, BcItem *it,
		      HfError *err);
int bcparse_osinfo(const char *key, const char *value, BcItem *it, HfError *err);
int bcparse_kvp(const char *name, const char *value, BcItem *it, HfError *err);
int bcwmic_os(const char *buf, size_t len, BcItem *it, HfError *err);
int bcwmic_qfe(const char *buf, size_t len, BcItem *it, HfError *err);
int bcwmic_datafile(const char *buf, size_t len, BcItem *it, HfError *err);
/* activation_id: the id of the WHERE clause, used when the output has no ID column (and for
 * "No Instance(s) Available." = not installed); NULL to take ids from the output. */
int bcwmic_licence(const char *buf, size_t len, const char *activation_id, BcItem *it,
		   HfError *err);
