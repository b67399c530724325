/* soapreq.h - reading a WS-Management request envelope (libxml2). */
#pragma once

#include "sim.h"

#include <libxml/tree.h>

typedef struct {
	xmlDoc *doc;
	char *action;
	char *message_id;
	char *resource_uri;
	GPtrArray *selectors; /* SimPair from w:SelectorSet */
	long max_envelope;    /* w:MaxEnvelopeSize in bytes, 0 when absent */
	xmlNode *body;	      /* first element inside s:Body, NULL when empty */
	/* n:Enumerate */
	char *filter;
	char *dialect;
	bool optimize;
	int max_elements; /* w:MaxElements (Enumerate) or n:MaxElements (Pull); 0 when absent */
	bool epr_mode;
	/* n:Pull / n:Release */
	char *context;
} SoapReq;

/* Parse BUF; -1 with *ERR set when it is not a SOAP envelope. */
int soapreq_parse(SoapReq *rq, const char *buf, size_t len, char **err);
void soapreq_clear(SoapReq *rq);
/* The last path segment of the action ("Pull", "CreateSnapshot"), or "-" without one. */
const char *soapreq_op(const SoapReq *rq);

/* An Invoke parameter's text (NULL when absent; xsi:nil gives NULL with *PRESENT true). */
char *soapreq_param(const SoapReq *rq, const char *name, bool *present);
/* A reference parameter, with or without an a:EndpointReference wrapper: the target's class
 * (from its V2 resource URI) and selectors. -1 when absent or not a reference. */
int soapreq_param_ref(const SoapReq *rq, const char *name, char **cls, GPtrArray **sel);
/* Decode an embedded CIM-XML <INSTANCE CLASSNAME=..>: its class and PROPERTY values
 * (SimPair, value NULL for a property without VALUE). NULL with *ERR when malformed. */
GPtrArray *soapreq_embedded(const char *text, char **classname, char **err);
