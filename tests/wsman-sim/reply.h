/* reply.h - writing SOAP response envelopes: headers, instances, references, faults. */
#pragma once

#include "inst.h"

#define REPLY_ANONYMOUS "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

typedef enum {
	FAULT_CANNOT_PROCESS_FILTER, /* n:CannotProcessFilter 2150858778 (also: class not found) */
	FAULT_INVALID_CONTEXT,	     /* n:InvalidEnumerationContext 2150858779 */
	FAULT_INVALID_SELECTORS,     /* w:InvalidSelectors 2150858843 */
	FAULT_TIMED_OUT,	     /* w:TimedOut 2150858793 */
	FAULT_QUOTA,		     /* w:QuotaLimit 2150859173 */
	FAULT_DEST_UNREACHABLE,	     /* a:DestinationUnreachable 2150858770 */
	FAULT_ACTION_NOT_SUPPORTED,  /* a:ActionNotSupported 2150858771 */
	FAULT_SCHEMA,		     /* w:SchemaValidationError 2150858817 */
} ReplyFault;

/* Envelope and header up to and including <s:Body>; RELATES_TO may be NULL. */
GString *reply_begin(const SimState *st, const char *action, const char *relates_to);
/* Close s:Body and s:Envelope. */
void reply_finish(GString *out);
/* A whole instance: <p:CLS xmlns:p=V2CLS ... xsi:type="p:CLS_Type">props</p:CLS>. */
void reply_instance(GString *out, SimInst *in, bool wrap);
/* Only the properties (sorted), as <p:Name> children; used for method output too. */
void reply_props(GString *out, SimInst *in, bool wrap);
/* <ELEM>[<a:EndpointReference>]<a:Address/><a:ReferenceParameters/>...</ELEM>; ELEM NULL
 * writes a bare a:EndpointReference (EnumerateEPR items). */
void reply_ref(GString *out, const char *elem, const char *cls, GPtrArray *sel, bool wrap);
/* A complete fault envelope; the HTTP status for it is 500. */
GString *reply_fault(const SimState *st, const char *relates_to, ReplyFault kind,
		     const char *detail);
