/* proto.h - the wire protocol: one JSON object per line over a Unix socket.
 *
 *   request  {"v":1,"id":N,"method":"noun.verb","params":{...}}
 *   reply    {"id":N,"result":...}  or  {"id":N,"error":{"code":"...","message":"..."}}
 *   event    {"id":N,"event":{...}}   (further lines for a request that follows a job)
 *
 * Frames are bounded: a line longer than the limit is a protocol error and the peer drops the
 * connection. A frame must be valid UTF-8 and one JSON object. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stddef.h>

#include "error.h"

typedef struct {
	GByteArray *buf;
	size_t limit; /* maximum bytes in one frame, newline excluded */
	size_t scan;  /* bytes of buf already known to hold no newline */
} ProtoFramer;

void proto_framer_init(ProtoFramer *f, size_t limit);
void proto_framer_clear(ProtoFramer *f);
/* Append bytes just read. Fails (protocol error) when an unterminated frame passes the limit. */
int proto_framer_feed(ProtoFramer *f, const void *data, size_t len, HfError *err);
/* Take the next complete frame (without its newline; a trailing '\r' is dropped). Returns
 * 1 and sets *line (free with g_free), 0 when no complete frame is buffered, or -1 with err
 * when the frame is over the limit or not valid UTF-8. */
int proto_framer_next(ProtoFramer *f, char **line, HfError *err);

typedef struct {
	double id;
	const char *method; /* points into root */
	cJSON *params;      /* points into root; may be NULL */
	cJSON *root;        /* owned */
} ProtoRequest;

/* Parse a request frame. Protocol errors (not JSON, not an object, no id) set id = -1 and return
 * -1 with HF_ERR_PROTOCOL: the connection must be dropped. Well-framed requests with bad fields
 * (version, method type) return -1 with HF_ERR_INVALID_PARAMS and a usable id for the reply. */
int proto_request_parse(const char *line, ProtoRequest *req, HfError *err);
void proto_request_clear(ProtoRequest *req);

/* Serialize a frame (with trailing newline). These take ownership of `result` / `event`. */
char *proto_request_build(double id, const char *method, cJSON *params);
char *proto_reply_result(double id, cJSON *result);
char *proto_reply_error(double id, const HfError *err);
char *proto_event(double id, cJSON *event);
