/* reply.c - SOAP 1.2 responses in the shape a Hyper-V host's WinRM writes them. */
#include "reply.h"

#define NS_S "http://www.w3.org/2003/05/soap-envelope"
#define NS_A "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define NS_N "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define NS_W "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define NS_CIM "http://schemas.dmtf.org/wbem/wscim/1/common"
#define NS_F "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
#define ACTION_FAULT "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

static void text(GString *out, const char *s)
{
	g_autofree char *e = sim_xml_escape(s, false);
	g_string_append(out, e);
}

static void attr(GString *out, const char *s)
{
	g_autofree char *e = sim_xml_escape(s, true);
	g_string_append(out, e);
}

GString *reply_begin(const SimState *st, const char *action, const char *relates_to)
{
	GString *out = g_string_sized_new(2048);
	g_autofree char *uuid = g_uuid_string_random();
	g_string_append_printf(out,
			       "<s:Envelope xml:lang=\"%s\" xmlns:s=\"" NS_S "\" xmlns:a=\"" NS_A
			       "\" xmlns:n=\"" NS_N "\" xmlns:w=\"" NS_W "\">"
			       "<s:Header><a:Action>",
			       st->lang);
	text(out, action);
	g_string_append_printf(out, "</a:Action><a:MessageID>uuid:%s</a:MessageID>", uuid);
	g_string_append(out, "<a:To>" REPLY_ANONYMOUS "</a:To>");
	if (relates_to) {
		g_string_append(out, "<a:RelatesTo>");
		text(out, relates_to);
		g_string_append(out, "</a:RelatesTo>");
	}
	g_string_append(out, "</s:Header><s:Body>");
	return out;
}

void reply_finish(GString *out)
{
	g_string_append(out, "</s:Body></s:Envelope>");
}

static void epr_body(GString *out, const char *cls, GPtrArray *sel)
{
	g_string_append(out, "<a:Address>" REPLY_ANONYMOUS "</a:Address><a:ReferenceParameters>"
			     "<w:ResourceURI>" SIM_V2);
	text(out, cls);
	g_string_append(out, "</w:ResourceURI><w:SelectorSet>");
	for (guint i = 0; sel && i < sel->len; i++) {
		SimPair *p = g_ptr_array_index(sel, i);
		g_string_append(out, "<w:Selector Name=\"");
		attr(out, p->name);
		g_string_append(out, "\">");
		text(out, p->value);
		g_string_append(out, "</w:Selector>");
	}
	g_string_append(out, "<w:Selector Name=\"__cimnamespace\">" SIM_NAMESPACE "</w:Selector>"
			     "</w:SelectorSet></a:ReferenceParameters>");
}

void reply_ref(GString *out, const char *elem, const char *cls, GPtrArray *sel, bool wrap)
{
	if (elem)
		g_string_append_printf(out, "<%s>", elem);
	if (wrap || !elem)
		g_string_append(out, "<a:EndpointReference>");
	epr_body(out, cls, sel);
	if (wrap || !elem)
		g_string_append(out, "</a:EndpointReference>");
	if (elem)
		g_string_append_printf(out, "</%s>", elem);
}

void reply_props(GString *out, SimInst *in, bool wrap)
{
	inst_sort(in);
	for (guint i = 0; i < in->props->len; i++) {
		InstProp *p = g_ptr_array_index(in->props, i);
		if (p->kind == INST_REF) {
			g_autofree char *elem = g_strdup_printf("p:%s", p->name);
			reply_ref(out, elem, p->ref_class, p->ref_sel, wrap);
			continue;
		}
		if (p->values->len == 0) {
			g_string_append_printf(out, "<p:%s xsi:nil=\"true\"/>", p->name);
			continue;
		}
		for (guint v = 0; v < p->values->len; v++) {
			g_string_append_printf(out, "<p:%s>", p->name);
			if (p->kind == INST_DATETIME)
				g_string_append(out, "<cim:Datetime>");
			text(out, g_ptr_array_index(p->values, v));
			if (p->kind == INST_DATETIME)
				g_string_append(out, "</cim:Datetime>");
			g_string_append_printf(out, "</p:%s>", p->name);
		}
	}
}

void reply_instance(GString *out, SimInst *in, bool wrap)
{
	g_string_append_printf(out,
			       "<p:%s xmlns:p=\"" SIM_V2 "%s\" xmlns:cim=\"" NS_CIM
			       "\" xmlns:xsi=\"" NS_XSI "\" xsi:type=\"p:%s_Type\">",
			       in->cls, in->cls, in->cls);
	reply_props(out, in, wrap);
	g_string_append_printf(out, "</p:%s>", in->cls);
}

static const struct {
	const char *code;
	const char *subcode;
	guint32 wsman_code;
	const char *reason;
} faults[] = {
    [FAULT_CANNOT_PROCESS_FILTER] = {"s:Sender", "n:CannotProcessFilter", 2150858778u,
				     "The data source could not process the filter. The filter "
				     "might be missing or it might be invalid. Change the filter "
				     "and try the request again. "},
    [FAULT_INVALID_CONTEXT] = {"s:Receiver", "n:InvalidEnumerationContext", 2150858779u,
			       "The WS-Management service cannot process the request because "
			       "the enumeration context is not valid. "},
    [FAULT_INVALID_SELECTORS] = {"s:Sender", "w:InvalidSelectors", 2150858843u,
				 "The WS-Management service cannot process the request because "
				 "the request contained invalid selectors for the resource. "},
    [FAULT_TIMED_OUT] = {"s:Receiver", "w:TimedOut", 2150858793u,
			 "The WS-Management service cannot complete the operation within the "
			 "time specified in OperationTimeout. "},
    [FAULT_QUOTA] = {"s:Sender", "w:QuotaLimit", 2150859173u,
		     "The WS-Management service cannot process the request. This user is "
		     "allowed a maximum number of 1500 concurrent operations, which has been "
		     "exceeded. Close existing operations for this user, or raise the quota for "
		     "this user. "},
    [FAULT_DEST_UNREACHABLE] = {"s:Sender", "a:DestinationUnreachable", 2150858770u,
				"The WS-Management service cannot process the request. The "
				"resource URI is not valid or the resource does not exist. "},
    [FAULT_ACTION_NOT_SUPPORTED] = {"s:Sender", "a:ActionNotSupported", 2150858771u,
				    "The WS-Management service does not support the action "
				    "specified in the request. "},
    [FAULT_SCHEMA] = {"s:Sender", "w:SchemaValidationError", 2150858817u,
		      "The SOAP XML in the message does not match the corresponding XML "
		      "schema definition. Change the XML and retry. "},
};

GString *reply_fault(const SimState *st, const char *relates_to, ReplyFault kind,
		     const char *detail)
{
	GString *out = reply_begin(st, ACTION_FAULT, relates_to);
	g_string_append_printf(out,
			       "<s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s"
			       "</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"%s\">",
			       faults[kind].code, faults[kind].subcode, st->lang);
	text(out, faults[kind].reason);
	g_string_append_printf(out,
			       "</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f=\"" NS_F
			       "\" Code=\"%u\" Machine=\"",
			       faults[kind].wsman_code);
	attr(out, st->host_name);
	g_string_append(out, "\"><f:Message>");
	text(out, detail ? detail : faults[kind].reason);
	g_string_append(out, "</f:Message></f:WSManFault></s:Detail></s:Fault>");
	reply_finish(out);
	return out;
}
