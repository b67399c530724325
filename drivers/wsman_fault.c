/* wsman_fault.c - SOAP faults, WMI method return values and failed jobs -> HfError. */
#include "wsman.h"

#include <string.h>

static const struct {
	const char *wsman_code; /* f:WSManFault Code */
	const char *subcode;	/* s:Subcode value without prefix */
	const char *hf_code;
	const char *hint;
} faults[] = {
    {"2150858843", "InvalidSelectors", HF_ERR_NOT_FOUND,
     "the object no longer exists on the host (deleted or renamed in Hyper-V Manager?)"},
    {"2150858778", "CannotProcessFilter", HF_ERR_UNSUPPORTED,
     "the host does not know this class or query: holdfast needs Hyper-V's WMI namespace "
     "root/virtualization/v2 (Windows Server 2012 R2 or newer)"},
    {"2150858793", "TimedOut", HF_ERR_TIMEOUT,
     "the host did not finish the operation in time; it may be busy: retry later"},
    {"2150859173", "QuotaLimit", HF_ERR_FAILED,
     "the host's WinRM quota is exhausted (too many concurrent operations or shells for this "
     "user): retry later or raise MaxConcurrentOperationsPerUser on the host"},
    {"2150858779", "InvalidEnumerationContext", HF_ERR_FAILED,
     "the host dropped the enumeration (it expired): retry"},
    {"5", "AccessDenied", HF_ERR_PERMISSION,
     "the account lacks rights on root/virtualization/v2: add it to the host's Hyper-V "
     "Administrators group"},
    {NULL, "DestinationUnreachable", HF_ERR_UNSUPPORTED,
     "the host does not serve this resource URI"},
    {NULL, "ActionNotSupported", HF_ERR_UNSUPPORTED, "the host does not support this method"},
    {NULL, "SchemaValidationError", HF_ERR_PROTOCOL,
     "the host rejected the request's shape (a holdfast bug: please report it)"},
};

int wsman_fault_error(const WsmanFault *f, const char *host, const char *what, HfError *err)
{
	const char *code = HF_ERR_FAILED, *hint = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(faults); i++) {
		if ((faults[i].wsman_code && f->wsman_code &&
		     !strcmp(faults[i].wsman_code, f->wsman_code)) ||
		    (f->subcode && !g_ascii_strcasecmp(faults[i].subcode, f->subcode))) {
			code = faults[i].hf_code;
			hint = faults[i].hint;
			break;
		}
	}
	const char *why = f->message && *f->message ? f->message
			  : f->reason && *f->reason ? f->reason
						    : "no reason given";
	return error_set(err, code, "%s on Hyper-V host %s: %s (WS-Man fault %s%s%s)%s%s", what,
			 host, why,
			 f->subcode ? f->subcode
			 : f->code  ? f->code
				    : "?",
			 f->wsman_code ? " " : "", f->wsman_code ? f->wsman_code : "",
			 hint ? "; " : "", hint ? hint : "");
}

static const struct {
	long long rv;
	const char *meaning;
	const char *hf_code;
} returns[] = {
    {0, "completed", HF_ERR_FAILED},
    {4096, "job started", HF_ERR_FAILED},
    {32768, "failed", HF_ERR_FAILED},
    {32769, "access denied", HF_ERR_PERMISSION},
    {32770, "not supported", HF_ERR_UNSUPPORTED},
    {32771, "status is unknown", HF_ERR_FAILED},
    {32772, "timeout", HF_ERR_TIMEOUT},
    {32773, "invalid parameter", HF_ERR_INVALID_PARAMS},
    {32774, "system is in use", HF_ERR_CONFLICT},
    {32775, "invalid state for this operation", HF_ERR_CONFLICT},
    {32776, "incorrect data type", HF_ERR_INVALID_PARAMS},
    {32777, "system is not available", HF_ERR_FAILED},
    {32778, "out of memory", HF_ERR_NO_SPACE},
    {32779, "file not found", HF_ERR_NOT_FOUND},
};

const char *wsman_return_meaning(long long rv)
{
	for (size_t i = 0; i < G_N_ELEMENTS(returns); i++)
		if (returns[i].rv == rv)
			return returns[i].meaning;
	return "unknown WMI error";
}

int wsman_return_error(long long rv, const char *host, const char *method, const char *what,
		       HfError *err)
{
	const char *code = HF_ERR_FAILED;
	for (size_t i = 0; i < G_N_ELEMENTS(returns); i++)
		if (returns[i].rv == rv)
			code = returns[i].hf_code;
	return error_set(err, code, "%s on Hyper-V host %s: %s returned %lld (%s)", what, host,
			 method, rv, wsman_return_meaning(rv));
}

int wsman_job_error(const WsmanInst *job, const char *host, const char *what, HfError *err)
{
	long long state = 0, ecode = 0;
	wsman_inst_int(job, "JobState", &state);
	bool has_code = wsman_inst_int(job, "ErrorCode", &ecode);
	const char *desc = wsman_inst_get(job, "ErrorDescription");
	if (!desc || !*desc)
		desc = wsman_inst_get(job, "ErrorSummaryDescription");
	const char *how = state == 8	? "was terminated"
			  : state == 9	? "was killed"
			  : state == 11 ? "needs service"
					: "failed";
	const char *code = state == 8 || state == 9 ? HF_ERR_CANCELLED : HF_ERR_FAILED;
	if (has_code && ecode == 32778)
		code = HF_ERR_NO_SPACE;
	return error_set(err, code,
			 "%s on Hyper-V host %s: the job %s (JobState %lld): %s%s%.0lld%s", what,
			 host, how, state, desc && *desc ? desc : "no description",
			 has_code && ecode ? " (ErrorCode " : "", has_code ? ecode : 0,
			 has_code && ecode ? ")" : "");
}
