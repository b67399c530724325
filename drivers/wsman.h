/* wsman.h - a small WS-Management client for Hyper-V's WMI namespace root/virtualization/v2
 * (libcurl for HTTP(S), libxml2 for SOAP). See ../shared/reference/hyperv-wsman.md.
 *
 * Three operations do everything: Enumerate + Pull with a WQL filter on the v2 "*" resource URI
 * (batched: MaxElements + OptimizeEnumeration), Invoke with selectors, reference (EPR) and
 * embedded-instance parameters, and Msvm_ConcreteJob polling. Faults (HTTP 500) and WMI return
 * codes become HfError with holdfast's stable codes. Credentials never appear in messages.
 *
 * wsman.c: transport, requests, jobs. wsman_xml.c: envelope building and response parsing (pure
 * functions, unit-tested and fuzzed). A WsmanClient is safe for concurrent calls. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "error.h"

#define WSMAN_V2 "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/"
#define WSMAN_ANONYMOUS "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
/* Largest response we accept (a Pull of 100 VMs is ~300 KiB). */
#define WSMAN_RESPONSE_MAX (32 * 1024 * 1024)

typedef struct {
	char *name;
	char *value;
} WsmanSelector;

/* A reference (EPR): address, resource URI and selectors. */
typedef struct {
	char *address;
	char *resource_uri;
	GPtrArray *selectors; /* WsmanSelector* */
} WsmanRef;

/* One property: values (NULL entries for xsi:nil), or a reference. */
typedef struct {
	char *name;
	GPtrArray *values; /* char* */
	WsmanRef *ref;
} WsmanProp;

/* One instance (or a method's _OUTPUT): properties by case-insensitive name. */
typedef struct {
	char *cls;
	GHashTable *props; /* lower-case name -> WsmanProp* */
} WsmanInst;

typedef struct {
	char *code;	  /* s:Code/s:Value, e.g. "s:Sender" */
	char *subcode;	  /* s:Subcode/s:Value without prefix, e.g. "InvalidSelectors" */
	char *reason;	  /* s:Reason/s:Text */
	char *wsman_code; /* f:WSManFault Code, e.g. "2150858843" */
	char *message;	  /* f:WSManFault/f:Message */
} WsmanFault;

typedef struct {
	char *action;
	char *relates_to;
	char *context; /* n:EnumerationContext; NULL when the enumeration ended */
	bool end;      /* n:EndOfSequence or w:EndOfSequence */
	GPtrArray
	    *items; /* WsmanInst* of Enumerate/Pull (also EPR items: cls "EndpointReference") */
	GPtrArray *eprs;   /* WsmanRef* of EnumerateEPR items */
	WsmanInst *output; /* the X_OUTPUT of an Invoke */
	WsmanFault *fault;
} WsmanResponse;

void wsman_ref_free(WsmanRef *r);
WsmanRef *wsman_ref_new(const char *resource_uri, ...) G_GNUC_NULL_TERMINATED; /* name, value */
const char *wsman_ref_selector(const WsmanRef *r, const char *name); /* case-insensitive */
void wsman_inst_free(WsmanInst *in);
void wsman_fault_free(WsmanFault *f);
void wsman_response_free(WsmanResponse *r);
/* The first value of a property, NULL when absent or nil. */
const char *wsman_inst_get(const WsmanInst *in, const char *name);
/* All values of an array property (NULL when absent); the array is borrowed. */
GPtrArray *wsman_inst_values(const WsmanInst *in, const char *name);
const WsmanRef *wsman_inst_ref(const WsmanInst *in, const char *name);
bool wsman_inst_int(const WsmanInst *in, const char *name, long long *out);
bool wsman_inst_bool(const WsmanInst *in, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WsmanRef, wsman_ref_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WsmanInst, wsman_inst_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WsmanResponse, wsman_response_free)

/* ---- wsman_xml.c: building (results are new strings) ---- */

/* Text/attribute escaping for XML 1.0 (& < > " '); control characters that XML cannot carry
 * are dropped. */
char *wsman_xml_escape(const char *s);
/* A WQL string literal: 'value' with \ and ' escaped by a backslash. */
char *wsman_wql_quote(const char *s);
/* The SOAP envelope: To, ResourceURI, ReplyTo, Action, MaxEnvelopeSize, MessageID, Locale,
 * OperationTimeout, optional SelectorSet (selectors may be NULL); body_xml is inserted as is. */
char *wsman_envelope(const char *to, const char *resource_uri, const char *action,
		     const char *message_id, const GPtrArray *selectors, int timeout_s,
		     const char *body_xml);
/* <n:Enumerate> with a WQL filter; max > 0 adds OptimizeEnumeration + MaxElements; epr asks for
 * EnumerateEPR mode. */
char *wsman_body_enumerate(const char *wql, unsigned max, bool epr);
char *wsman_body_pull(const char *context, unsigned max);
char *wsman_body_release(const char *context);

typedef enum { WSMAN_P_TEXT, WSMAN_P_REF, WSMAN_P_NIL } WsmanParamKind;
typedef struct {
	const char *name;
	WsmanParamKind kind;
	const char *text;    /* WSMAN_P_TEXT: escaped here (embedded instances too) */
	const WsmanRef *ref; /* WSMAN_P_REF */
} WsmanParam;
/* <p:METHOD_INPUT xmlns:p="RESOURCE_URI"> with the parameters in the given order. */
char *wsman_body_invoke(const char *resource_uri, const char *method, const WsmanParam *params,
			size_t n);
/* A CIM-XML embedded instance: <INSTANCE CLASSNAME="cls"><PROPERTY NAME= TYPE=><VALUE>..
 * props: triples name, CIM type ("string", "uint8", "boolean", ...), value; NULL-terminated.
 * The result is plain XML; wsman_body_invoke escapes it once more as parameter text. */
char *wsman_embedded_instance(const char *cls, const char *const *props);
/* A WMI object path: \\HOST\root\virtualization\v2:CLASS.KEY="VALUE". */
char *wsman_object_path(const char *host, const char *cls, const char *key, const char *value);

/* ---- wsman_xml.c: parsing ---- */

/* Parse a response body. A SOAP fault is returned in (*out)->fault (the caller maps it). Not
 * well-formed or not a SOAP envelope: HF_ERR_PROTOCOL naming what. */
int wsman_parse_response(const char *buf, size_t len, WsmanResponse **out, HfError *err);
/* Parse an embedded CIM-XML INSTANCE (a KVP item): properties name -> value (new table, names
 * case-insensitive, lower-cased keys; NULL values for PROPERTY without VALUE). */
GHashTable *wsman_embedded_parse(const char *xml, char **cls, HfError *err);
/* The GUID of a WMI object path or InstanceID ("...InstanceID=\"Microsoft:GUID\"" -> GUID). */
char *wsman_path_guid(const char *path);

/* ---- wsman_fault.c: error mapping ---- */

/* Fill err from a fault: the code from the WSManFault code / subcode (not-found for invalid
 * selectors, timeout, unsupported for a class or filter the host does not know, ...); the
 * message "WHAT on HOST: REASON (WS-Man fault SUBCODE CODE)". Returns -1. */
int wsman_fault_error(const WsmanFault *f, const char *host, const char *what, HfError *err);
/* The meaning of a WMI method return value ("invalid parameter" for 32773). */
const char *wsman_return_meaning(long long rv);
/* Fill err for a WMI return value other than 0/4096. Returns -1. */
int wsman_return_error(long long rv, const char *host, const char *method, const char *what,
		       HfError *err);
/* Fill err for a job that ended in JobState 8/9/10/11. Returns -1. */
int wsman_job_error(const WsmanInst *job, const char *host, const char *what, HfError *err);

/* ---- wsman.c: the client ---- */

typedef struct {
	const char *host; /* for messages */
	const char *url;  /* https://HOST:5986/wsman */
	const char *user; /* may be NULL (no auth) */
	const char *password;
	long auth;		/* CURLAUTH_BASIC / NTLM / NEGOTIATE */
	const char *cred_file;	/* for messages */
	const char *ca_file;	/* may be NULL */
	const char *pinned_key; /* sha256//BASE64, may be NULL */
	unsigned batch;		/* MaxElements; 0 = no batching (one item per Pull) */
	int timeout_s;		/* per HTTP request */
} WsmanConfig;

typedef struct WsmanClient WsmanClient;
WsmanClient *wsman_client_new(const WsmanConfig *cfg);
void wsman_client_free(WsmanClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WsmanClient, wsman_client_free)
/* Requests made so far (for diagnostics). */
unsigned wsman_client_requests(WsmanClient *c);

/* Enumerate + Pull a WQL query on v2 "*" to the end: *out WsmanInst*. what names the query in
 * error messages ("listing virtual machines"). */
int wsman_enumerate(WsmanClient *c, const char *wql, const char *what, GPtrArray **out,
		    HfError *err);
/* The same in EnumerateEPR mode: *out WsmanRef*. */
int wsman_enumerate_epr(WsmanClient *c, const char *wql, const char *what, GPtrArray **out,
			HfError *err);

typedef void (*WsmanProgressFn)(void *opaque, int pct, const char *msg);
typedef struct {
	const char *cls;	    /* Msvm_VirtualSystemSnapshotService */
	const char *method;	    /* CreateSnapshot */
	const GPtrArray *selectors; /* of the target; NULL: CreationClassName=cls (singletons) */
	const WsmanParam *params;
	size_t n_params;
	const char *what; /* "creating a checkpoint of guest 'x'" */
	int job_timeout_s;
	WsmanProgressFn progress; /* may be NULL */
	void *opaque;
	/* polled while waiting for the job (may be NULL): when it returns true the job is asked
	 * to terminate (Msvm_ConcreteJob.RequestStateChange 4) and the call fails "cancelled" */
	bool (*cancelled)(void *opaque);
	int pct_from, pct_to; /* progress range the job's PercentComplete maps to */
} WsmanCall;
/* Invoke; ReturnValue 0 is done, 4096 waits for the job (polled with backoff up to
 * job_timeout_s), anything else is an error naming the method and the WMI meaning. *job_id
 * (may be NULL) gets the job's InstanceID when there was one. */
int wsman_call(WsmanClient *c, const WsmanCall *call, char **job_id, HfError *err);
